"""Several sentences, one request: the objects the first sentences name stand for the last one's pronouns.

People often set the scene before they ask: "See the box? Grab the cup to its left.", "Look at the mugs. Take
the one closest to the camera.", "Okay, cubes. Which is biggest? That one.", "There are some balls here.
Going left to right, I want the second." Read as one phrase, the scene-setting words became a second request
("all the mugs ... the thing closest to the camera") and the pronouns lost what they stand for. A blind set
of such lines (test/phrasings/blind_y.tsv) reached the model with its meaning in 40 of 152 lines.

`single_request` returns the last request with its pronouns said as the objects named before it ("the mug
closest to the camera", "the cup left of the box"), or None when the text is not a scene followed by a
request (then the normaliser reads it as before). Numbered plans are `records.plan_phrase`'s. Through the
node, ";" has already split a command into phrases (`grounding.command`), so only sentences reach here.
"""

from __future__ import annotations

import re
from typing import Optional

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES

_ATTR = "|".join(COLORS + SIZES)
_NOUN = "|".join(sorted(NOUNS + PLURALS + ("dice", "tins", "tin", "items", "item"), key=len, reverse=True))
# "the small red mugs", "cubes": the last one said before the request is what its pronouns stand for
_NP_RE = re.compile(rf"\b((?:(?:{_ATTR}) )*)({_NOUN})\b", re.IGNORECASE)
_SINGULAR = {p: n for n, p in zip(NOUNS, PLURALS)} | {"dice": "die", "tins": "tin", "items": "item"}
_PLURAL = {n: p for p, n in _SINGULAR.items()}
_SENTENCE_RE = re.compile(r"(?<=[.?!;])\s+")
# a sentence that only points back ("That one, please.", "Pick that one up.", "Take that one lah."): no word that
# picks an object, a pointer word
_POINTER_RE = re.compile(r"\b(?:that|this|it|them|those)\b", re.IGNORECASE)
_PICKING_RE = re.compile(rf"\b(?:{_ATTR}|{_NOUN}|left|right|front|behind|back|near\w*|far\w*|clos\w+|\w+est|\w+most|"
                         r"first|second|third|not|isn't|aren't|all|every|each|biggest|number|bigger|larger|smaller|"
                         r"tinier|nearer|closer|farther|further)\b", re.IGNORECASE)
# the first sentences already ask ("Get the cup in front of the box. The one closer to the camera."): the rest
# restates, and the normaliser reads the whole as before
_REQUEST_RE = re.compile(r"\b(?:pick|grab|take|get|fetch|bring|hand|give|select|choose|lift|collect|want|need|"
                         r"would like|could you|can you|please)\b", re.IGNORECASE)
# a correction or an explanation is not a new request ("... I mean in front of it", "In other words, ...")
_REPAIR_RE = re.compile(r"^(?:i mean|in other words|sorry|no\b|actually|rather|or rather|that is|meaning|correction)",
                        re.IGNORECASE)
_ABBREVIATIONS = [(re.compile(r"\b(i)\.(e)\.|\b(e)\.(g)\.", re.IGNORECASE),
                   lambda m: "".join(g for g in m.groups() if g)),
                  (re.compile(r"\b(no|pos|nr|approx|etc)\.", re.IGNORECASE), r"\1")]
_SIDE_RE = re.compile(r"\b(?:from|going|counting|starting (?:at|from)|order(?:ed)? (?:\w+ )*?from) (?:the )?"
                      r"(left|right)(?: edge| side| end)?(?: to (?:the )?(?:left|right))?\b|"
                      r"\b(left|right)(?:ward)? to (?:left|right)\b", re.IGNORECASE)
# a relation to "it" ("the cup to its left", "behind it"): {a} is the object named before; numbered plans
# (`records.plan_phrase`) resolve their pronouns with the same list
PRONOUN_ANCHOR = [(r"\b(?:to |on )?its (left|right)(?: side| hand side)?\b", r"\1 of {a}"),
                   (r"\bin front of (?:it|that(?! one))\b", "in front of {a}"),
                   (r"\bbehind (?:it|that(?! one))\b", "behind {a}"),
                   (r"\b(left|right) of (?:it|that(?! one))\b", r"\1 of {a}"),
                   (r"\bon the (left|right)(?: hand)? side of (?:it|that)\b", r"\1 of {a}"),
                   (r"\b(?:further|farther|more) (left|right) than (?:it|that)\b", r"\1 of {a}"),
                   (r"\bbeyond (?:it|that)(?:,? away from the camera)?\b", "behind {a}"),
                   (r"\b((?:nearer|closer|farther|further)(?: away| back| forward)?(?: (?:to|from) the camera)?) than "
                    r"(?:it|that)\b", r"\1 than {a}")]


# a last sentence that only says a relation to "it" again ("In front of it.", "Behind it!")
_RESTATED_RE = re.compile(r"^(?:yes,? |yeah,? |right,? |just |exactly,? )?(in front of|behind|"
                          r"(?:to the )?(?:left|right) of) (?:it|that)[.!]*$", re.IGNORECASE)


def _singular(attrs: str, noun: str) -> str:
    return f"{attrs.lower()}{_SINGULAR.get(noun.lower(), noun.lower())}".strip()


def single_request(text: str) -> Optional[str]:
    """The request of a scene-then-request text, its pronouns resolved; None when `text` is not one."""
    plain = text.strip()
    for pattern, replacement in _ABBREVIATIONS:   # "i.e." does not end a sentence
        plain = pattern.sub(replacement, plain)
    sentences = [s.strip() for s in _SENTENCE_RE.split(plain) if s.strip()]
    while len(sentences) > 1 and _POINTER_RE.search(sentences[-1]) and not _PICKING_RE.search(sentences[-1]):
        sentences.pop()
    if len(sentences) < 2:
        return None
    request, context = sentences[-1], " ".join(sentences[:-1])
    said_again = _RESTATED_RE.match(request)
    side = said_again and next(w for w in said_again[1].lower().split() if w in ("front", "behind", "left", "right"))
    if side and re.search(rf"\b{side}\b", context, re.IGNORECASE):
        return context   # "The cup in front of the box. In front of it.": the relation said again, for emphasis
    if _REQUEST_RE.search(context) or _REPAIR_RE.match(request):
        return None
    named = list(_NP_RE.finditer(context))
    if not named:
        return None
    last = named[-1]
    antecedent, plural = _singular(last[1], last[2]), last[2].lower() in PLURALS or last[2].lower() == "dice"
    out = request
    looked = re.search(r"\b(?:look|go|move)(?: over)? (?:to |on )?its (left|right)\b", context, re.IGNORECASE)
    if looked and re.search(r"\bthere\b", request, re.IGNORECASE):   # "Look to its left; take the cup there."
        out = re.sub(r"\bthere\b", f"{looked[1].lower()} of the {antecedent}", request, flags=re.IGNORECASE)
    for pattern, replacement in PRONOUN_ANCHOR:   # "See the box? Grab the cup to its left."
        out = re.sub(pattern, replacement.replace("{a}", f"the {antecedent}"), out, flags=re.IGNORECASE)
    if out == request and _NP_RE.search(request) and not re.search(r"\b(?:one|ones|them|they)\b", request, re.I):
        return None   # the request names its own object: the normaliser's rules read the whole text
    if out == request:
        if not plural and not re.search(r"\b(?:one|ones|it|that)\b", request, re.IGNORECASE):
            return None
        # "the one closest to ...", "the nearest one", "that one", "all of them", "the second"
        words = antecedent.split()
        plural_np = " ".join(words[:-1] + [_PLURAL.get(words[-1], words[-1])])
        out = re.sub(r"\b(?:all of them|all of those|every one of them|each of them|them all)\b",
                     f"all the {plural_np}", out, flags=re.IGNORECASE)
        out = re.sub(r"\b(?:the|that|this) ones?\b", f"the {antecedent}", out, flags=re.IGNORECASE)
        out = re.sub(r"\b(\w+(?:est|most)) ones?\b", rf"\1 {antecedent}", out, flags=re.IGNORECASE)
        out = re.sub(r"\b(?:which|what)(?: one)? (is|isn't|is not)\b", rf"which {antecedent} \1", out,
                     flags=re.IGNORECASE)
        out = re.sub(r"\b(first|second|third|number (?:one|two|three|1|2|3))(?: one)?\b(?! \w+ (?:of|from)\b)",
                     rf"\1 {antecedent}", out, count=1, flags=re.IGNORECASE)
        out = re.sub(r"\b(?:the )?(biggest|largest|smallest|tiniest|nearest|farthest|furthest|closest|leftmost|"
                     r"rightmost|frontmost|rearmost)(?= of them\b|$|[.!?,])", rf"the \1 {antecedent}", out,
                     flags=re.IGNORECASE)
        out = re.sub(rf"\b({re.escape(antecedent)}) of them\b", r"\1", out, flags=re.IGNORECASE)
        if out == request:
            return None
    side = _SIDE_RE.search(context)
    if side and re.search(r"\b(?:first|second|third|number)\b", out, re.I) and not _SIDE_RE.search(out):
        out = f"{out.rstrip('.!?')} from the {(side[1] or side[2]).lower()}"
    return out
