"""The model's words -> one of the wordings it was trained on, when stray words are left over.

The normaliser (`language.py`) maps everyday speech to the model's closed vocabulary and drops words it does
not know. What it cannot drop are stray *model* words: the "to" of "it's a long reach now, all the way out
to the mug", the "is" of "the one I'm after is the mug", the second noun phrase of "the mug, the one on
the left". The network was trained only on the generator's wordings ("the red mug", "the mug left of the
box", "the second cup from the right"), and stray words in odd places cost it accuracy: blind wordings in
new registers scored 84-86 % against 96 % for the generator's own.

This module parses the word list into what a tabletop request can say (a noun phrase; a relation to
another; an ordinal, extreme, negation or plural) and, only when the list is not already one of the trained
wordings, writes it again in the generator's wording. A list it cannot parse unambiguously is returned
unchanged. Every wording the generator and the card's evaluation produce is a trained form and passes
through untouched (test_tabletop_language_blind.py checks thousands of them).
"""

from __future__ import annotations

import re
from typing import List, Optional, Sequence, Tuple

COLORS = ("red", "green", "blue", "yellow", "orange", "purple", "white", "black")
SIZES = ("small", "little", "tiny", "large", "big")
NOUNS = ("cube", "block", "box", "brick", "can", "cylinder", "ball", "sphere", "mug", "cup", "object", "thing")
PLURALS = ("cubes", "blocks", "boxes", "bricks", "cans", "cylinders", "balls", "spheres", "mugs", "cups", "objects",
           "things")
SUPERLATIVES = ("leftmost", "rightmost", "nearest", "farthest", "largest", "biggest", "smallest", "tiniest")
ORDINALS = ("second", "third")
GENERIC = ("object", "thing", "objects", "things")
# relations as the generator words them (after normalisation), longest first
RELATIONS = (("farther", "away", "than"), ("in", "front", "of"), ("closer", "than"), ("left", "of"),
             ("right", "of"), ("behind",))
# extremes the generator words after the noun
POSTPOSED = (("furthest", "to", "the", "left"), ("furthest", "to", "the", "right"),
             ("closest", "to", "the", "camera"), ("furthest", "from", "the", "camera"))

# the generator's other words: with the classes above, the base vocabulary. A fine-tuned model's vocabulary
# has more ("egg", a part number), which this module cannot place: it then leaves the words alone.
FILLERS = ("a", "all", "an", "away", "behind", "camera", "closer", "closest", "every", "farther", "find", "from",
           "front", "furthest", "in", "is", "isn't", "left", "non", "not", "of", "on", "pick", "right", "table",
           "than", "that", "the", "to", "up")

_POST_AS_ONE_WORD = dict(zip(POSTPOSED, ("leftmost", "rightmost", "nearest", "farthest")))

_CLASS = {**{w: "C" for w in COLORS}, **{w: "Z" for w in SIZES}, **{w: "N" for w in NOUNS},
          **{w: "P" for w in PLURALS}, **{w: "X" for w in SUPERLATIVES}, **{w: "O" for w in ORDINALS}}
_NP = r"(?:Z )?(?:C )?N"
_NPP = r"(?:Z )?(?:C )?P"
_REL = r"(?:left of|right of|in front of|closer than|behind|farther away than)"
_POST = r"(?:furthest to the (?:left|right)|closest to the camera|furthest from the camera)"
# the wordings the generator produces, after normalisation, over word classes (C colour, Z size, N noun,
# P plural noun, X superlative, O ordinal)
TRAINED = re.compile("|".join(f"(?:{f})" for f in (
    rf"(?:the )?{_NP}",
    rf"(?:the )?{_NP} (?:that is )?{_REL} the {_NP}",
    rf"the X {_NP}", rf"the {_NP} {_POST}",
    rf"the O {_NP} from (?:the )?(?:left|right)",
    r"the N that is not (?:C|Z)", r"the non (?:C|Z) N",
    rf"all (?:of )?(?:the )?{_NPP}", rf"every {_NP}",
)))


def singular(noun_phrase: str) -> str:
    """"small red mugs" -> "small red mug": a noun phrase's head said once (the other words as they are). The
    normaliser's modules all turn a group ("of the cups, ...") into the one it picks with this."""
    words = noun_phrase.split()
    if not words:
        return noun_phrase
    return " ".join(words[:-1] + [_SINGULAR_OF.get(words[-1], words[-1])])


_SINGULAR_OF = dict(zip(PLURALS, NOUNS)) | {"items": "item", "elements": "element", "pieces": "piece",
                                            "tins": "tin", "dice": "die"}


def _abstract(words: Sequence[str]) -> str:
    return " ".join(_CLASS.get(w, w) for w in words)


def _noun_phrases(words: Sequence[str]) -> List[Tuple[int, int, List[str]]]:
    """(start, end, words) of each noun phrase: adjectives then a noun, in the generator's order (size
    before colour), the article left out."""
    out = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and _CLASS.get(words[j]) in ("C", "Z"):
            j += 1
        if j < len(words) and _CLASS.get(words[j]) in ("N", "P"):
            adj = words[i:j]
            if len({_CLASS[a] for a in adj}) == len(adj):   # at most one colour and one size
                ordered = sorted(adj, key=lambda a: _CLASS[a] != "Z") + [words[j]]
                out.append((i, j + 1, ordered))
            i = j + 1
        else:
            i = max(j, i + 1)
    return out


def _find(words: Sequence[str], pattern: Tuple[str, ...], start: int = 0) -> int:
    for i in range(start, len(words) - len(pattern) + 1):
        if tuple(words[i:i + len(pattern)]) == pattern:
            return i
    return -1


def _one_np(nps: List[Tuple[int, int, List[str]]]) -> Optional[List[str]]:
    """The phrase's one noun phrase: a restatement ("the mug, the thing on the left") names the same object
    again with a generic noun; two concrete different ones are ambiguous (None)."""
    concrete = [np for _, _, np in nps if np[-1] not in GENERIC]
    if not concrete:   # "the rightmost object, those things": generic nouns all name the one object
        return [w for w in nps[0][2] if w not in ("objects", "things")] or ["thing"]
    distinct = {tuple(np) for np in concrete}
    if len(distinct) != 1:
        return None
    return list(distinct.pop())


def knows_vocabulary(vocab: Sequence[str]) -> bool:
    """True when every word of `vocab` (specials aside) is one this module can place."""
    return all(w.startswith("<") or w in _CLASS or w in FILLERS for w in vocab)


def canonical_words(words: Sequence[str]) -> List[str]:
    """`words` in the generator's wording, or `words` unchanged when they already are one (or cannot be
    parsed into one request)."""
    words = list(words)
    if not words or TRAINED.fullmatch(_abstract(words)):
        return words
    rebuilt = _rebuild(words)
    if rebuilt is None or not _meaning_kept(words, rebuilt):
        return words
    return rebuilt


# words that carry meaning: a rewrite may drop repeats and filler, never one of these
_MEANINGFUL = (frozenset((*COLORS, *SIZES, *NOUNS, *PLURALS, *SUPERLATIVES, *ORDINALS, "left", "right", "front",
                          "behind", "closer", "farther", "furthest", "closest", "not", "non", "all", "every"))
               - frozenset(GENERIC))
# a lost word the rewrite still says, in another word ("in front of the box, closer to the camera"); a
# superlative is never covered by a relation ("the leftmost mug left of the box" is left alone)
_SAID_BY = {"closer": {"front", "nearest"}, "closest": {"nearest", "front"}, "front": {"closer"},
            "farther": {"behind", "farthest"}, "furthest": {"farthest", "behind"}, "behind": {"farther"},
            "left": {"leftmost"}, "right": {"rightmost"}, "all": {"every"}, "every": {"all"}}


def _meaning_kept(words: Sequence[str], rebuilt: Sequence[str]) -> bool:
    """A rewrite that lost a meaningful word ("the mug furthest the right" -> "the mug") would answer another
    question with confidence; the words are then left as they are."""
    kept = set(rebuilt)
    lost = {w for w in words if w in _MEANINGFUL} - kept
    for p in POSTPOSED:   # "furthest to the left" said beside "leftmost": one extreme
        if _find(words, p) >= 0 and _POST_AS_ONE_WORD[p] in kept:
            lost -= set(p)
    if not any(w in PLURALS for w in words):   # "all the way out to the mug": not a plural
        lost.discard("all")
    return all(_SAID_BY.get(w, set()) & kept for w in lost)


def _rebuild(words: List[str]) -> Optional[List[str]]:
    nps = _noun_phrases(words)
    if not nps:
        extreme = any(w in SUPERLATIVES or w in ORDINALS for w in words) or any(_find(words, q) >= 0
                                                                               for q in POSTPOSED)
        if not extreme:
            return None
        nps = [(len(words), len(words), ["thing"])]   # "which is the smallest": the smallest thing
    # a relation between two noun phrases
    for rel in RELATIONS:
        k = _find(words, rel)
        if k < 0 or (rel[0] in ("left", "right") and k > 0 and words[k - 1] == "the"):
            continue   # "to the left of" was normalised; "the left of" is not a relation here
        before = [np for s, e, np in nps if e <= k]
        after = [np for s, e, np in nps if s >= k + len(rel)]
        if not before and len(after) == 2 and k == 0:   # fronted: "left of the box, the mug"
            return ["the", *after[1], *rel, "the", *after[0]]
        if not (before and after):
            return None
        # the target is the last noun phrase before the relation, unless that only restates it ("the mug,
        # the one left of the box")
        concrete = [np for np in before if np[-1] not in GENERIC]
        target = before[-1] if before[-1][-1] not in GENERIC or not concrete else concrete[-1]
        return ["the", *target, *rel, "the", *after[0]]
    sides = [w for i, w in enumerate(words) if w in ("left", "right") and i > 0 and words[i - 1] in ("from", "the")]
    # an ordinal: "the second cup from the right"
    ords = [i for i, w in enumerate(words) if w in ORDINALS]
    if ords:
        if len(ords) != 1 or len(set(sides)) != 1:
            return None
        after = [np for s, e, np in nps if s > ords[0]]
        np = after[0] if after else _one_np(nps)
        return None if np is None else ["the", words[ords[0]], *np, "from", "the", sides[0]]
    # an extreme, one word or said after the noun
    sup = [w for w in words if w in SUPERLATIVES]
    post = [p for p in POSTPOSED if _find(words, p) >= 0]
    if len({*sup, *(_POST_AS_ONE_WORD[p] for p in post)}) > 1:   # two different extremes
        return None
    if sup and post:
        post = []
    if sup or post:
        np = _one_np(nps)
        if np is None:
            return None
        return ["the", sup[0], *np] if sup else ["the", *np, *post[0]]
    # a negation: "the mug that is not red"
    if "not" in words or "non" in words:
        k = words.index("not") if "not" in words else words.index("non")
        attr = next((w for w in words[k + 1:k + 2] if _CLASS.get(w) in ("C", "Z")), None)
        nouns = [np for s, e, np in nps if np[-1] not in GENERIC and len(np) == 1] or [np for _, _, np in nps]
        if attr is None or len({tuple(n) for n in nouns}) != 1:
            return None
        return ["the", nouns[0][-1], "that", "is", "not", attr]
    # a plural: "all the blue cubes"
    plural = [np for _, _, np in nps if np[-1] in PLURALS]
    if plural:
        if len({tuple(n) for n in plural}) != 1:
            return None
        return ["all", "the", *plural[0]]
    if "every" in words:
        np = _one_np(nps)
        return None if np is None else ["every", *np]
    # one object
    np = _one_np(nps)
    return None if np is None else ["the", *np]
