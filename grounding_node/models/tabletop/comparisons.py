"""Comparison, quantifier and degree phrasing, as a precise person or a logician says it, said plainly.

"The cup with no cup further to its left", "the cup that every other cup is to the right of", "the ball
beating all the others for closeness to the camera", "the box that all the other boxes are smaller than", "the
mug that has just one other mug further left than it", "the cup with the box farther from the camera than
it", "the mug, excluding the red one": each says one of the model's meanings (the leftmost cup, the nearest
ball, the largest box, the second mug from the left, the cup in front of the box, the mug that is not red)
by comparing the object with the others or with the anchor. Read word by word they lost the logic: "every
other cup is to the right of" reached the model as "every cup is right of", "with the box farther from the
camera than it" as "the box farther away than" (a relation with no anchor after it, and the wrong way
round: the box is the one farther), "beating all the others for size" as nothing at all. A blind set in this
register (set AS) reached the model as another question in 32 of 152 lines when it arrived.

`plain_comparison` rewrites those forms into the generator's wordings ("the leftmost cup", "the second mug
from the left", "the cup in front of the box") or into forms the later rules already read ("closer than",
"except the red one"). It runs first in `normalize_phrase`, on the raw text: the definitional reader after it
reads "of all the mugs, the one of greatest size" as "the largest one" and drops the group, and the cleaning
after that would not change these forms anyway. Its rules match case-insensitively and rewrite only what they
match. Every rule needs its whole form, including that the others counted or compared are of the object's
own kind ("the mug with one cube to its left" is no place among the mugs, and is left as it was); a phrase
without one is returned exactly as it was given, the generator's own wordings included.

The forms "no other cup is to the left of" / "with exactly one cup to its left" are also read by
`language.py` and `definitional.py` in some wordings; the rules here read the general form (any of "no",
"every", "all the other"; any relation, distance or size; "just", "precisely", "a single ... and no more")
once, with the object's noun, instead of adding one more wording to each of those lists.
"""

from __future__ import annotations

import re
from typing import Callable, List, Optional, Tuple, Union

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES

_ATTR = "|".join(COLORS + SIZES)
_NOUN = "|".join(sorted(NOUNS + PLURALS, key=len, reverse=True))
_SINGULAR = dict(zip(PLURALS, NOUNS))

# Words that end a noun phrase in these forms: relative words, quantifiers, verbs, prepositions, comparatives.
_STOP = (r"(?:that|which|who|whose|with|having|has|have|is|are|lies|lie|lying|sits|sit|sitting|stands|stand|"
         r"standing|located|situated|positioned|placed|of|to|than|in|on|at|by|for|from|and|or|but|every|each|all|"
         r"any|no|none|not|other|others|rest|just|exactly|precisely|only|single|the|a|an|it|its|further|farther|"
         r"more|less|least|most|left|right|behind|front|closer|nearer|larger|bigger|smaller|tinier|exceeds?|"
         r"beating|beats|outdoing|outdoes|outdone|beaten|surpass(?:es|ing|ed)?|excluding|except|save|one|two)")
_W = rf"(?!{_STOP}\b)[a-z][a-z'-]*"
# a noun phrase without its article: "mug", "large blue box", "green things" (bounded: no backtracking blow-up)
_NP = rf"(?:{_W} ){{0,3}}{_W}"
_END = r"(?=\s*(?:[.;,:!?)]|$))"   # a clause ends here
_VIEWER = r"(?:the )?(?:camera|viewer|observer|robot|lens|me|us)"
_OPPOSITE_SIDE = {"left": "right", "right": "left"}
# the extreme an object is when no other one is in the relation to it, or when every other one is
_IF_NONE = {"left": "leftmost", "right": "rightmost", "front": "nearest", "behind": "farthest", "big": "largest",
            "small": "smallest"}
_IF_ALL = {"left": "rightmost", "right": "leftmost", "front": "farthest", "behind": "nearest", "big": "smallest",
           "small": "largest"}
_PLACE = {1: "second", 2: "third"}   # k others beyond it: place k + 1
_COUNT = {"one": 1, "1": 1, "a single": 1, "two": 2, "2": 2}

# distance comparatives, as the generator's "closer"/"farther" read them
_CLOSER = rf"(?:closer(?: to {_VIEWER})?|nearer(?: (?:to )?{_VIEWER})?|less distant(?: from {_VIEWER})?)"
_FARTHER = (rf"(?:(?:farther|further)(?: away)?(?: from {_VIEWER})?|more distant(?: from {_VIEWER})?|"
            rf"at a (?:greater|larger) distance from {_VIEWER})")


def _singular(np: str) -> str:
    """"green things" -> "green thing", "other mugs" -> "mug": one of the group, to compare with the object."""
    words = [w for w in np.lower().split() if w != "other"]
    if words:
        words[-1] = _SINGULAR.get(words[-1], words[-1][:-1] if words[-1].endswith("s") else words[-1])
    return " ".join(words)


def _same_kind(np: str, others: Optional[str]) -> bool:
    """Whether the others compared are the object's own kind ("the mug ... every other mug"); "the others",
    "the other ones" say nothing else."""
    if np.lower() == "one" or not others or others.lower() in ("one", "ones", "others"):
        return True
    return _singular(others) == _singular(np)


# "of all the cups, (the target is) ": a group said before the answer, which the later rules join to a generic
# "one"
_GROUP_BEFORE_RE = re.compile(r"(?:^|[,.;:] )(?:of|among|amongst|out of|from) (?:all )?(?:of )?(?:the )?"
                              rf"{_NP}(?:,|$)", re.IGNORECASE)


def _head(m: "re.Match[str]", others: Optional[str]) -> str:
    """The object's words: "the one with no cup to its left" is about a cup ("of all the cups, the one ..."
    stays "one": the later rules read the group said before it, as they do for "the leftmost one", also with
    words between: "among all mugs, the target is the one ...")."""
    np = m["np"]
    if np.lower() != "one" or not others or others.lower() in ("one", "ones", "others"):
        return np
    return np if _GROUP_BEFORE_RE.search(m.string[:m.start()]) else _singular(others)


def _relation(m: "re.Match[str]") -> str:
    """Which way the others are from the object (left/right/front/behind/big/small), from the named groups."""
    for name, value in m.groupdict().items():
        if value is None:
            continue
        kind = name.rstrip("0123456789")
        if kind == "side":
            return value.lower()
        if kind in ("front", "behind", "big", "small"):
            return kind
    raise ValueError(m[0])


# ---- relations with the anchor as the subject of the comparison -------------------------------------------
# "the cube with the ball farther from the camera than it" = the cube in front of the ball; "the cup that the
# box is farther from the camera than" = the cup in front of the box
_ANCHOR_CMP = (rf"(?P<front>{_FARTHER})|(?P<behind>{_CLOSER})|"
               r"(?:further|farther|more) (?:to the )?(?P<side>left|right)")
_WITH_ANCHOR_RE = re.compile(
    rf"\bwith (?P<a>the {_NP}) (?:{_ANCHOR_CMP}) than it(?: is| does)?{_END}", re.IGNORECASE)
_THAT_ANCHOR_RE = re.compile(
    rf"\b(?:that|which) (?P<a>the {_NP}) (?:is|lies|sits|stands) (?:{_ANCHOR_CMP}) than{_END}", re.IGNORECASE)


def _anchor_relation(m: "re.Match[str]") -> str:
    """The target's relation to the anchor: the opposite of the anchor's to the target."""
    if m["side"]:
        return f"{_OPPOSITE_SIDE[m['side'].lower()]} of {m['a']}"
    return f"{'in front of' if m['front'] else 'behind'} {m['a']}"


# ---- extremes: "no other" / "every other" in a relation with the object ------------------------------------
_NO = r"(?P<no>no(?: other)?|none of the other|not (?:a single|one|any)(?: other)?)"
_EVERY = (r"(?P<every>every other|each other|all (?:of )?(?:the )?other|every one of the other|each of the other|"
          r"all (?:of )?the others|all the rest of the|every remaining|all (?:the )?remaining)")
_BE = r"(?:is|are|lies|lie|sits|sit|stands|stand|appears|appear)"
# the relation said with the object last: "every other cup is to the right of"
_REL_OF = (rf"(?:(?:to|on) the )?(?P<side>left|right)(?:[- ]hand side| side)? of|"
           rf"(?:further|farther|more) (?:to the )?(?P<side2>left|right) than|"
           rf"(?P<front>in front of|{_CLOSER} than)|(?P<behind>behind|{_FARTHER} than)|"
           r"(?P<big>(?:bigger|larger|greater in size) than)|(?P<small>(?:smaller|tinier|littler) than)")
_EXCEED = r"(?P<big2>(?:exceeds?|outdoes|outdo|surpass(?:es)?|outstrips?|beats?|tops?) in (?:size|bulk|volume))"
_QUANTIFIED_OF_RE = re.compile(
    rf"\bthe (?P<np>one|{_NP}) (?:that|which) (?:{_NO}|{_EVERY})(?: (?P<np2>{_NP}))? "
    rf"(?:{_BE} (?:{_REL_OF})|{_EXCEED}){_END}", re.IGNORECASE)
# the relation said from the object: "with no cup further to its left", "with no other cup nearer the camera"
_THAN_IT = r"(?: than it(?: is| does)?)?"
_REL_IT = (rf"(?:further|farther|more) (?:to (?:its|the) )?(?P<side>left|right)(?: of it)?{_THAN_IT}|"
           rf"(?:to|on) its (?P<side2>left|right)(?:[- ]hand)?(?: side)?|(?P<side3>left|right) of it|"
           rf"(?P<front>in front of it|{_CLOSER}{_THAN_IT})|(?P<behind>behind it|{_FARTHER}{_THAN_IT})|"
           rf"(?P<big>(?:bigger|larger|greater in size){_THAN_IT})|(?P<small>(?:smaller|tinier|littler){_THAN_IT})")
_HAVING = r"(?:with|having|(?:that|which) (?:has|have))"
_PLACED = r"(?:(?:lying|located|situated|sitting|standing|positioned|placed|that (?:is|are)|which (?:is|are)) )?"
_QUANTIFIED_IT_RE = re.compile(
    rf"\bthe (?P<np>one|{_NP}) {_HAVING} (?:{_NO}|{_EVERY}) (?P<np2>{_NP}) {_PLACED}(?:{_REL_IT}){_END}",
    re.IGNORECASE)


def _quantified(m: "re.Match[str]") -> str:
    if not _same_kind(m["np"], m["np2"]):
        return m[0]
    table = _IF_NONE if m["no"] else _IF_ALL
    return f"the {table[_relation(m)]} {_head(m, m['np2'])}"


# ---- extremes as a contest or a degree: "beating all the others for size", "least distant from" -----------
_OTHERS = (rf"(?:(?:all|each|every one|any) (?:of )?the others|(?:all|each|every one|any) (?:of )?the other "
           rf"(?P<np2>ones|{_NP})|(?:every|each|any) other (?P<np3>one|{_NP}))")
_DIM = (rf"(?P<front>(?:closeness|nearness|proximity) to {_VIEWER}|how (?:close|near) (?:it is )?to {_VIEWER}"
        rf"(?: it is)?)|(?P<behind>(?:distance|remoteness) (?:from|to) {_VIEWER}|how far (?:away )?(?:it is )?from "
        rf"{_VIEWER}(?: it is)?)|(?P<big>size|bigness|largeness|how (?:big|large) it is)|"
        r"(?P<small>smallness|how (?:small|little|tiny) it is)|"
        r"how far (?:to the )?(?P<side>left|right)(?: it is)?")
_BEATING_RE = re.compile(
    rf"\bthe (?P<np>one|{_NP}) (?:(?:that|which) )?(?:beating|beats|outdoing|outdoes|surpassing|surpasses|"
    rf"topping|tops|outranking|outranks|besting|bests|outstripping|outstrips) {_OTHERS} (?:for|in|on|in terms of|"
    rf"when it comes to) (?:{_DIM}){_END}", re.IGNORECASE)
_OUTDONE_RE = re.compile(
    rf"\bthe (?P<np>one|{_NP}) (?:(?:that|which) )?(?:is |gets )?(?:outdone|beaten|bested|surpassed|exceeded|"
    rf"outmatched|topped|outstripped|bettered) (?:in|for|on|in terms of) (?:{_DIM}) by {_OTHERS}{_END}", re.IGNORECASE)


def _contest(m: "re.Match[str]", table: dict) -> str:
    if not _same_kind(m["np"], m["np2"] or m["np3"]):
        return m[0]
    return f"the {table[_relation(m)]} {_head(m, m['np2'] or m['np3'])}"


# "the cup least distant from the camera", "of all the mugs, the one of greatest size" (the generic "one" keeps
# the group, which the definitional reader would drop with "the largest one")
_DEGREE: List[Tuple[str, str]] = [
    (rf"\bleast (?:distant|far(?: away)?) from {_VIEWER}\b", "closest to the camera"),
    (rf"\bleast (?:close|near) to {_VIEWER}\b", "furthest from the camera"),
    (rf"\bless distant (?:away )?from {_VIEWER} than\b", "closer than"),
    (r"\bthe one of (?:the )?(?:greatest|largest|biggest|maximum|maximal) (?:size|dimensions)\b", "the largest one"),
    (r"\bthe one of (?:the )?(?:least|smallest|minimum|minimal) (?:size|dimensions)\b", "the smallest one"),
]

# ---- places: "has just one other mug further left than it" = the second mug from the left -----------------
_K = r"(?P<k>one|1|a single|two|2)"
_COUNTED = (rf"(?:(?:just|exactly|precisely|only) )?{_K}(?: and only (?:one|two|1|2))?")
_SIDE_IT = (rf"(?:further|farther|more) (?:to the )?(?P<side>left|right){_THAN_IT}|"
            rf"(?:to|on) its (?P<side2>left|right)(?:[- ]hand)?(?: side)?|(?P<side3>left|right) of it")
_NO_MORE = r"(?:,? (?:and|but) (?:no more|no others?|not more|none more|nothing more))?"
_PLACE_RE = re.compile(
    rf"\bthe (?P<np>one|{_NP}) {_HAVING} {_COUNTED} (?:other )?(?P<np2>{_NP}) {_PLACED}(?:{_SIDE_IT}){_NO_MORE}{_END}",
    re.IGNORECASE)


def _place(m: "re.Match[str]") -> str:
    if not _same_kind(m["np"], m["np2"]):
        return m[0]
    return f"the {_PLACE[_COUNT[m['k'].lower()]]} {_head(m, m['np2'])} from the {_relation(m)}"


# ---- negation said as an exclusion: "the mug, excluding the red one" (the later rules read "the mug except the
# red one"; without its comma, which they read as the start of another request after a plural)
_EXCLUDING_RE = re.compile(
    r"\s*,?\s*\b(?:excluding|exclusive of|with the exception of|save for|barring|not counting|not including|"
    rf"leaving out|leaving aside|setting aside|omitting) (?:the |any |a |an )?(?P<w>{_ATTR}) "
    rf"(?P<n>ones?|things?|{_NOUN}){_END}", re.IGNORECASE)


def _excluding(m: "re.Match[str]") -> str:
    plural = m["n"].lower() in ("ones", "things") or m["n"].lower() in _SINGULAR
    return f" except the {m['w'].lower()} {'ones' if plural else 'one'}"


Rule = Tuple["re.Pattern[str]", Union[str, Callable[["re.Match[str]"], str]]]
_RULES: List[Rule] = [
    (_WITH_ANCHOR_RE, _anchor_relation),
    (_THAT_ANCHOR_RE, lambda m: f"that is {_anchor_relation(m)}"),
    (_QUANTIFIED_OF_RE, _quantified),
    (_QUANTIFIED_IT_RE, _quantified),
    (_BEATING_RE, lambda m: _contest(m, _IF_NONE)),
    (_OUTDONE_RE, lambda m: _contest(m, _IF_ALL)),
    (_PLACE_RE, _place),
    (_EXCLUDING_RE, _excluding),
] + [(re.compile(p, re.IGNORECASE), r) for p, r in _DEGREE]


def plain_comparison(text: str) -> str:
    """`text` with its comparison forms said in the generator's words; exactly `text` when it has none."""
    said = re.sub(r"[ \t]+", " ", text)
    changed = False
    for pattern, rewrite in _RULES:
        new = pattern.sub(rewrite, said)
        changed |= new != said
        said = new
    return said if changed else text
