"""Definitional English (requirements, variables, logic in words) -> the generator's wording.

Specifications, test procedures and people who think in sets say which object they mean by defining it: "the
target shall be the cup such that no other cup lies to its left", "let X be the box; pick the mug left of X",
"the element ranked last when the cups are sorted by size, largest first", "the mug for which exactly one
mug is to its left", "the ball whose distance to the camera is less than that of the box". Every word of
that is ordinary, so the normaliser's rules kept the words and lost the logic: "no other cup lies to its left"
reached the model as "the cup that cup to left", "such that the box is to its right" as the cup RIGHT of the
box (the opposite), "ranked last ... largest first" as the largest, and "let X be the box; ... left of X"
dropped the anchor. A blind set of such lines (set AB) reached the model as another question in 64 of 152
lines when it arrived.

`definitional_phrase` rewrites each construction into the wording the generator uses ("the leftmost cup",
"the mug left of the box", "the second cup from the left", "the ball in front of the box", "the mug that
is not red"), before the notation reader and the normaliser's rules run (the notation reader turns "left to
right" into a counting clause, which would hide a sort order). It returns the text unchanged when no
construction is found, so every other phrase, the generator's own included, reaches the normaliser as it was
said. A construction whose meaning is not fixed by its words (a sort order without a direction, a fourth
place the model has no word for, a "next" with no side) is left as it was rather than guessed.
"""

from __future__ import annotations

import re
from typing import Callable, List, Optional, Tuple

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES

_ATTR = "|".join(COLORS + SIZES)

# Words that end a noun phrase in these constructions: relative words, quantifiers, verbs, prepositions.
_STOP = (r"(?:such|for|with|where|that|which|whose|who|having|when|once|if|after|is|are|was|lies|lie|lying|sits|"
         r"sit|stands|stand|located|situated|positioned|placed|of|to|than|in|on|at|by|from|and|or|but|every|each|"
         r"all|no|none|not|other|exactly|the|a|an|it|its|be|shall|should|must|will|has|have|then|select|pick|"
         r"take|choose|grab|ranked|sorted|ordered|arranged|further|farther|more|left|right|behind|front|"
         r"closer|nearer|larger|bigger|smaller)")
_W = rf"(?!{_STOP}\b)[a-z][a-z'-]*"
# a noun phrase without its article: "mug", "large blue box", "green things" (bounded: no backtracking blow-up)
_NP = rf"(?:{_W} ){{0,3}}{_W}"
# words that stand in for the noun: the noun comes from elsewhere in the sentence
_PLACEHOLDERS = {"one", "ones", "element", "elements", "entry", "member", "candidate", "target", "item", "object",
                 "thing"}
_SINGULAR = dict(zip(PLURALS, NOUNS))
_ORDINAL = {1: "first", 2: "second", 3: "third"}
_NUMBER = {"one": 1, "1": 1, "first": 1, "1st": 1, "a single": 1, "two": 2, "2": 2, "second": 2, "2nd": 2,
           "three": 3, "3": 3, "third": 3, "3rd": 3}
_OPPOSITE = {"left": "right", "right": "left"}
# separators between the steps of a procedure: "Step 2:", "2.", "then", ";"
_SEP = r"\s*(?:[.;,]\s*)?(?:(?:step|stage) \d+\s*[:.)]?\s*|\d[.)]\s+)?(?:then,? |and (?:then )?|next,? |finally,? )?"
_PICK = r"(?:select|pick(?: out| up)?|take|choose|grab|get|identify|designate|return|retrieve|grasp|keep)"
_END = r"(?=\s*(?:[.;,:!?)]|$))"   # a clause ends here: "... to its left" is not "... to its left of the box"


def _singular(np: str) -> str:
    """"green things" -> "green thing": the head of a sorted or counted group is one of them."""
    words = np.split()
    head = words[-1]
    if head in _SINGULAR:
        head = _SINGULAR[head]
    elif head.endswith(("ches", "shes", "xes", "sses")):
        head = head[:-2]
    elif head.endswith("s") and not head.endswith("ss"):
        head = head[:-1]
    return " ".join(words[:-1] + [head])


def _head(np: str, other: Optional[str]) -> str:
    """The noun the answer is about: "the one for which exactly one mug ..." is about a mug."""
    if np in _PLACEHOLDERS and other:
        return _singular(other)
    return _singular(np)


def _rank(start: str, place: int, head: str) -> Optional[str]:
    """Place `place` counted from `start` (left/right/near/far/large/small) -> the generator's words."""
    if place < 0:
        start, place = {"left": "right", "right": "left", "near": "far", "far": "near", "large": "small",
                        "small": "large"}[start], -place
    if start in ("left", "right"):
        if place == 1:
            return f"the {start}most {head}"
        if place in (2, 3):
            return f"the {_ORDINAL[place]} {head} from the {start}"
        return None
    if place != 1:   # "the second nearest": the model has no ordinal in depth or size
        return None
    return f"the {dict(near='nearest', far='farthest', large='largest', small='smallest')[start]} {head}"


# ---- the order of a sort: which end comes first -------------------------------------------------------------
def _key(name: str) -> str:
    """What a sort is by: the horizontal position, the distance from the camera or the size."""
    return (rf"(?:their |the |its )?(?P<{name}>(?:horizontal |lateral |x[- ]?)?(?:position|location|coordinate|"
            r"placement)(?: in the (?:camera )?(?:image|picture|frame))?|x|(?:distance|depth|range)(?: (?:from|to) the "
            r"camera)?|size|volume|dimensions?|area)")


_KEY = _key("key")
# "sorted in ascending order of size": the direction said before the key
_ORDER_OF = rf"in (?P<dir0>ascending|descending|increasing|decreasing) order of {_key('key0')}"
_DIRECTION = (r"(?P<dir>(?:in )?(?:ascending|descending|increasing|decreasing)(?: order)?|(?:from )?(?:the )?"
              r"(?:left|right|near(?:est)?|close(?:st)?|far(?:thest)?|furthest|large(?:st)?|big(?:gest)?|"
              r"small(?:est)?|tin(?:y|iest))(?: (?:to|first|towards?)(?: (?:the )?[a-z]+)?)?)")


def _start(key: Optional[str], direction: str) -> Optional[str]:
    """Which end a sort starts at, or None when its words do not say ("sorted by size" alone)."""
    found = re.search(r"\b(left|right|near|close|far|furthest|large|big|small|tin)", direction)
    word = found[1] if found else ""
    start = {"close": "near", "furthest": "far", "big": "large", "tin": "small"}.get(word, word or None)
    kind = ("horizontal" if key is None or re.search(r"position|location|coordinate|placement|^x$", key) else
            "distance" if re.search(r"distance|depth|range", key) else "size")
    if key is None:
        kind = {"left": "horizontal", "right": "horizontal", "near": "distance", "far": "distance"}.get(
            start or "", "size")
    if start is None:
        up = re.search(r"ascending|increasing", direction)
        down = re.search(r"descending|decreasing", direction)
        if key is None or not (up or down):
            return None
        start = {"horizontal": ("left", "right"), "distance": ("near", "far"), "size": ("small", "large")}[kind][
            0 if up else 1]
    allowed = {"horizontal": ("left", "right"), "distance": ("near", "far"), "size": ("large", "small")}[kind]
    return start if start in allowed else None


_PLACE = (r"(?P<place>(?:second|third|2nd|3rd)(?: to| from)? last|second-to-last|third-to-last|next to last|"
          r"penultimate|antepenultimate|last|first|second|third|1st|2nd|3rd|number (?:one|two|three|1|2|3))")


def _place(word: str) -> Optional[int]:
    word = word.replace("-", " ")
    if word in ("last",):
        return -1
    if word in ("next to last", "penultimate") or word.startswith(("second", "2nd")) and "last" in word:
        return -2
    if word == "antepenultimate" or word.startswith(("third", "3rd")) and "last" in word:
        return -3
    return _NUMBER.get(word.replace("number ", ""))


def _ranked(m: "re.Match[str]") -> str:
    place = _place(m["place"])
    start = _start(m["key0"], m["dir0"]) if m["dir0"] else _start(m["key"], m["dir"] or "")
    said = _rank(start, place, _singular(m["np"])) if place and start else None
    return said or m[0]


# "the element ranked last when the cups are sorted by size, largest first"
_RANKED_RE = re.compile(
    r"(?:the )?(?:(?:element|item|object|entry|member|one|candidate|thing) )?(?:that is |which is |that comes |"
    r"which comes )?(?:ranked |placed |positioned |listed |coming |appearing )?(?:in )?(?:the )?" + _PLACE +
    rf"(?: (?:place|position|in (?:the )?(?:list|order|ranking|sequence)|one|{_NP}))?,? (?:when|if|once|after) "
    rf"(?:all )?(?:the )?(?P<np>{_NP}) (?:are|have been|get|is) (?:sorted|ordered|arranged|ranked|listed|lined up)"
    rf"(?: {_ORDER_OF}|(?: (?:by|according to|in order of|on) {_KEY})?(?:,? {_DIRECTION})?){_END}")

# "Step 1: order all mugs from left to right. Step 2: select the one in position two." / "... skip the first
# two ... select the next one"
_SORT_PICK_RE = re.compile(
    r"(?:(?:step|stage) 1\s*[:.)]?\s*|1[.)]\s+|first,? )?(?:order|sort|arrange|rank|line up|list) (?:all |each of |"
    rf"every )?(?:the )?(?P<np>{_NP})(?: (?:by|according to) {_KEY})?,? {_DIRECTION}"
    rf"(?:{_SEP}skip (?:over |past )?the first (?P<skip>one|two|1|2)(?: ones?| elements?| (?:{_NP}))?)?"
    rf"{_SEP}{_PICK} the (?:(?:one|element|item|entry|object|{_NP}) (?:(?:in|at) (?:the )?)?(?:position|place|slot|"
    r"rank)(?: number)? (?P<pos>one|two|three|1|2|3)|"
    r"(?P<posw>first|second|third|1st|2nd|3rd|last|next)(?: one| element| item|"
    rf" entry| (?:{_NP}))?(?: (?:in|at) (?:the )?(?:position|place|slot|line|order))?){_END}")


def _sort_pick(m: "re.Match[str]") -> str:
    start = _start(m["key"], m["dir"])
    if m["posw"] == "next":
        place = _NUMBER[m["skip"]] + 1 if m["skip"] else None
    elif m["skip"]:
        return m[0]   # "skip the first two, then take the second": a count from where?
    else:
        place = _place(m["posw"]) if m["posw"] else _NUMBER[m["pos"]]
    said = _rank(start, place, _singular(m["np"])) if place and start else None
    return said or m[0]


# "Counting cups from the left edge of the image, the target shall be number two."
_COUNTING_RE = re.compile(
    rf"(?:counting|numbering|enumerating) (?:all )?(?:the )?(?P<np>{_NP}) (?:starting )?from (?:the )?"
    r"(?P<side>left|right)(?:(?:-| )hand)?(?: (?:edge|side|end))?(?: of the (?:camera )?(?:image|picture|frame|view|"
    r"scene|table))?,? (?:the )?(?:target|object of interest|item of interest|required (?:object|item)|referent)"
    r"(?: (?:shall|should|must|will) be| is) (?:number |no\.? |#)?(?P<k>one|two|three|1|2|3|first|second|third)"
    + _END)


def _counting(m: "re.Match[str]") -> str:
    return _rank(m["side"], _NUMBER[m["k"]], _singular(m["np"])) or m[0]


# "the next mug to the right of the leftmost mug" = the second mug from the left
_NEXT_RE = re.compile(
    rf"the (?:next|following|immediately adjacent) (?:(?P<np>{_NP}) )?(?:(?:to|on) the |(?:going |moving |counting )"
    r"(?:to the )?)?(?P<dir>left|right)(?:ward)?(?: side)? (?:of|from|after) the (?:(?P<ext>left|right) ?most "
    rf"(?P<np2>{_NP})|(?P<ord>first|second) (?P<np3>{_NP}) from the (?P<side>left|right)){_END}")


def _next(m: "re.Match[str]") -> str:
    side = m["ext"] or m["side"]
    place = 1 if m["ext"] else _NUMBER[m["ord"]]
    place += 1 if m["dir"] != side else -1   # away from the side it is counted from: one further
    head = _head(m["np"], m["np2"] or m["np3"]) if m["np"] else _singular(m["np2"] or m["np3"])
    return (_rank(side, place, head) if place >= 1 else None) or m[0]


# ---- comparisons with the others: extremes and places ------------------------------------------------------
_REL_VERB = (r"(?:(?:is|are|lies|lie|sits|sit|stands|stand|appears|appear|can be found)(?: (?:located|situated|"
             r"positioned|placed|found))? |(?:located|situated|positioned|placed) )?")
# a relation to "it": which way the others are, seen from the object
_THAN_IT = r"(?: than it(?: is| does)?)?"
_REL_IT = (r"(?P<rel>(?:to|on) (?:its|the) (?P<s1>left|right)(?:(?:-| )hand)?(?: side)?(?: of it)?|"
           rf"(?:further|farther|more) (?:to the )?(?P<s2>left|right){_THAN_IT}|(?P<s3>left|right) of it|"
           rf"(?P<front>in front of it|(?:closer|nearer)(?: to the camera| to me)?{_THAN_IT})|"
           rf"(?P<behind>behind it|(?:farther|further)(?: away)?(?: from the camera| from me)?{_THAN_IT})|"
           r"(?P<big>(?:larger|bigger|greater in size)(?: than it(?: is)?)?)|"
           r"(?P<small>(?:smaller|tinier|littler)(?: than it(?: is)?)?)|"
           # below/above in the picture (blind set AE): nearer/farther on a table seen from above; without "in
           # the picture" they would be stacking, which the model has no word for
           r"(?P<below>below it(?= in the (?:picture|image|frame)| on (?:the )?screen))|"
           r"(?P<above>above it(?= in the (?:picture|image|frame)| on (?:the )?screen)))")
# where the comparison is seen: "... to its left in the picture"
_IN_PICTURE = r"(?: in the (?:picture|image|frame|camera view)| on (?:the )?screen)?"
_NO = r"(?P<no>(?:there (?:is|are) )?(?:no other|none of the other|no|not (?:a single|one|any) other))"
_EVERY = (r"(?P<every>every other|each other|all other|all the other|all of the other|any other|every one of the "
          r"other|each of the other|all remaining|every remaining)")
_SUCH = r"(?:such that|for which|where|so that|with the property that)"


def _direction(m: "re.Match[str]") -> str:
    """The relation of the others to the object: left/right/front/behind/big/small."""
    side = m["s1"] or m["s2"] or m["s3"]
    if side:
        return side
    if m["below"] or m["above"]:
        return "front" if m["below"] else "behind"
    return next(k for k in ("front", "behind", "big", "small") if m[k])


_EXTREME_IF_NONE = {"left": "leftmost", "right": "rightmost", "front": "nearest", "behind": "farthest",
                    "big": "largest", "small": "smallest"}
_EXTREME_IF_ALL = {"left": "rightmost", "right": "leftmost", "front": "farthest", "behind": "nearest",
                   "big": "smallest", "small": "largest"}

# "the cup such that no other cup lies to its left", "for which every other cup lies to its right"
_NONE_OR_ALL_RE = re.compile(
    rf"the (?:unique |only |single )?(?P<np>{_NP}) (?:{_SUCH}|with|having|(?:that|which) (?:has|have)) "
    rf"(?:{_NO}|{_EVERY}) (?P<np2>{_NP}) {_REL_VERB}{_REL_IT}{_IN_PICTURE}"
    + _END)


def _none_or_all(m: "re.Match[str]") -> str:
    table = _EXTREME_IF_NONE if m["no"] else _EXTREME_IF_ALL
    return f"the {table[_direction(m)]} {_head(m['np'], m['np2'])}"


# "the cup for which exactly one cup is to its left", "the one with exactly two other cups further left"
_EXACTLY_RE = re.compile(
    rf"the (?:unique |only |single |one )?(?P<np>{_NP}) (?:{_SUCH}|with|having|that has) (?:there (?:is|are) )?exactly "
    rf"(?P<k>one|two|1|2|a single) (?:other )?(?P<np2>{_NP}) {_REL_VERB}{_REL_IT}" + _END)


def _exactly(m: "re.Match[str]") -> str:
    side = m["s1"] or m["s2"] or m["s3"]
    if not side:   # "exactly one cup is closer": the model has no ordinal in depth or size
        return m[0]
    return _rank(side, _NUMBER[m["k"]] + 1, _head(m["np"], m["np2"])) or m[0]


_OTHERS = (rf"(?:(?:every|each|any) other {_NP}|all (?:of )?(?:the )?other {_NP}|all (?:the )?others|the others|"
           r"all the rest)")
# "the cup left of every other cup", "the cup whose size exceeds that of every other cup"
_THAN_OTHERS_RE = re.compile(
    rf"the (?P<np>{_NP}) (?:(?:that|which) (?:is|lies|sits|stands) |(?:lying|located|situated|positioned|placed|"
    r"sitting|standing) |whose (?:horizontal |x[- ]?)?(?:position|location)(?: in the (?:image|picture|frame))? is "
    r"(?:located )?)?(?P<rel>(?:(?:to|on) the |further |farther |more )?(?P<side>left|right)(?: side)? (?:of|than)"
    r"(?: that of| those of)?|(?P<front>in front of|(?:closer|nearer) (?:to the camera )?than)|"
    r"(?P<behind>behind|(?:farther|further) (?:away )?(?:from the camera )?than)|(?P<big>(?:bigger|larger) than)|"
    r"(?P<small>(?:smaller|tinier) than)) " + _OTHERS + _END)

# which way a larger measure points: a larger x is further right, a larger distance behind
_MEASURE = {"size": "big", "volume": "big", "dimensions": "big", "distance": "behind", "depth": "behind",
            "horizontal position": "right", "x coordinate": "right", "x": "right"}
_MORE = (r"(?P<cmp>exceeds?|(?:is|are) (?:greater|larger|bigger|more|higher|longer) than|"
         r"(?:is|are) (?:less|smaller|lower|shorter) than|(?:is|are) below|(?:is|are) above)(?: that of| those of)?")
_DIM = (r"(?P<dim>size|volume|dimensions|(?:distance|depth)(?: (?:to|from) the camera)?|horizontal position|"
        r"x[- ]?coordinate|x)")
# "the cup whose size exceeds that of every other cup"
_MEASURE_OTHERS_RE = re.compile(rf"the (?P<np>{_NP}) whose {_DIM} {_MORE} {_OTHERS}" + _END)


def _grows(m: "re.Match[str]") -> Tuple[str, bool]:
    """(measure, whether the object's measure is the larger one)."""
    dim = re.sub(r" (?:to|from) the camera$", "", m["dim"]).replace("-", " ")
    return _MEASURE[dim], bool(re.match(r"exceed|(?:is|are) (?:greater|larger|bigger|more|higher|longer)|"
                                        r"(?:is|are) above", m["cmp"]))


def _measure_others(m: "re.Match[str]") -> str:
    measure, more = _grows(m)
    table = {("big", True): "largest", ("big", False): "smallest", ("behind", True): "farthest",
             ("behind", False): "nearest", ("right", True): "rightmost", ("right", False): "leftmost"}
    return f"the {table[measure, more]} {_singular(m['np'])}"


def _than_others(m: "re.Match[str]") -> str:
    relation = m["side"] or next(k for k in ("front", "behind", "big", "small") if m[k])
    return f"the {_EXTREME_IF_NONE[relation]} {_singular(m['np'])}"


# ---- relations said the other way round or as a measure ---------------------------------------------------
# "the cup such that the box is to its right" = the cup left of the box
_INVERTED_RE = re.compile(
    rf"\b{_SUCH} (?P<a>(?:the|a|an) {_NP}) {_REL_VERB}(?P<rel>(?:to|on) its (?P<s1>left|right)(?:(?:-| )hand)?"
    r"(?: side)?|(?P<s2>left|right) of it|(?P<behind>behind it)|(?P<front>in front of it)|"
    r"(?P<closer>(?:closer|nearer) to the camera than it(?: is| does)?)|"
    r"(?P<farther>(?:farther|further)(?: away)? from the camera than it(?: is| does)?))" + _END)


def _inverted(m: "re.Match[str]") -> str:
    side = m["s1"] or m["s2"]
    if side:
        return f"{_OPPOSITE[side]} of {m['a']}"
    return ("in front of " if m["behind"] or m["farther"] else "behind ") + m["a"]


_PRONOUN = {"whose": "that is", "its": "it is", "with": "that is", "with a": "that is", "having": "that is",
            "with its": "that is"}
# "whose distance to the camera is less than that of the box", "whose position in the image is further right
# than that of the box"
_MEASURE_ANCHOR_RE = re.compile(
    rf"\b(?P<pro>whose|its|with(?: its| a)?|having) {_DIM}(?: in the (?:camera )?(?:image|picture|frame))? "
    rf"{_MORE} (?P<a>the {_NP})" + _END)
_POSITION_ANCHOR_RE = re.compile(
    r"\b(?P<pro>whose|its) (?:horizontal |x[- ]?)?(?:position|location|coordinate|placement)(?: in the (?:camera )?"
    r"(?:image|picture|frame))? (?:is |lies )?(?:located )?(?:(?:further|farther|more) (?:to the )?(?P<s1>left|right) "
    r"than|(?:to the |on the )?(?P<s2>left|right) of)(?: that of| those of)? (?=the )")
# "located at a smaller distance from the camera than the box"
_AT_DISTANCE_RE = re.compile(
    r"\b(?:(?:located|situated|positioned|placed|lying|that is|which is) )?at a (?P<c>smaller|shorter|lesser|lower|"
    r"greater|larger|bigger|longer|higher) (?:distance|depth|range) (?:from|to) the camera than (?=the )")


def _measure_anchor(m: "re.Match[str]") -> str:
    measure, more = _grows(m)
    if measure == "big":   # "larger than the box" is no relation the model knows
        return m[0]
    word = {("behind", True): "behind", ("behind", False): "in front of", ("right", True): "right of",
            ("right", False): "left of"}[measure, more]
    return f"{_PRONOUN[m['pro']]} {word} {m['a']}"


# "with minimal distance to the camera", "of minimal dimensions"
_MIN = r"minimal|minimum|min|smallest|least|lowest|shortest"
_MAX = r"maximal|maximum|max|greatest|largest|biggest|highest|longest"
_EXTREME_MEASURE_RE = re.compile(
    rf"the (?P<np>{_NP}) (?:with|of|having|at|that has) (?:the |a )?(?:(?P<min>{_MIN})|(?P<max>{_MAX})) "
    r"(?P<dim>(?:distance|depth|range) (?:to|from) the camera|size|dimensions|volume|extent|footprint)" + _END)


def _extreme_measure(m: "re.Match[str]") -> str:
    far = m["dim"].startswith(("distance", "depth", "range"))
    word = ("farthest" if m["max"] else "nearest") if far else ("largest" if m["max"] else "smallest")
    return f"the {word} {m['np']}"


# ---- negation said as a definition ------------------------------------------------------------------------
_NOT_ATTR_RE = re.compile(
    r"\b(?P<pro>whose|its) (?:colou?r|size|shade|hue)(?: (?:class|category|classification|label|value))? "
    r"(?:is |are )?(?:(?:differs?|different|distinct) from|other than|not equal to|unequal to|anything but|"
    r"anything other than|something other than|not|does not equal) (?:the colou?r |"
    rf"the size )?(?P<w>{_ATTR})\b")
_NOT_CLASSIFIED_RE = re.compile(
    r"\b(?:that|which) (?:is not|isn't|are not|aren't|cannot be|can't be) (?:classified|categori[sz]ed|labell?ed|"
    rf"described|identified|tagged|marked|registered|listed|counted|considered|regarded) as (?:being )?(?:a |an )?"
    rf"(?P<w>{_ATTR})\b|\b(?:that|which) (?:fails?|does not manage|do not manage) to be (?P<w2>{_ATTR})\b|"
    rf"\b(?:that|which) (?:does not|doesn't|do not|don't) (?:qualify|count) as (?P<w3>{_ATTR})\b")
# "Step 1: consider each mug. Step 2: exclude any that is red. Step 3: select the remaining one."
_EXCLUDE_RE = re.compile(
    r"(?:(?:step|stage) 1\s*[:.)]?\s*|1[.)]\s+)?(?:consider|examine|inspect|check|review|go through|find|locate|"
    rf"identify|list) (?:each|every|all(?: of)?(?: the)?|the) (?P<np>{_NP}){_SEP}(?:exclude|reject|discard|ignore|"
    r"eliminate|remove|disregard|drop|rule out|set aside|leave out|skip) (?:any|all|those|every|each|the|anything)?"
    r"(?: ones?| of them)? ?(?:(?:that|which) (?:is|are) )?(?:(?:coloured|colored|painted|of colou?r|in colou?r|"
    rf"of|in) )?(?P<w>{_ATTR})(?: (?:size|colou?r|ones?|{_NP}))?{_SEP}{_PICK} (?:the )?(?:(?:remaining|leftover|"
    r"surviving|last remaining|only remaining|other) (?:one|element|item|object|[a-z]+)|(?:one|element|item|object) "
    r"(?:left over|left|remaining|that remains))" + _END)


def _exclude(m: "re.Match[str]") -> str:
    return f"the {_singular(m['np'])} that is not {m['w']}"


# ---- requirement wording around the object ----------------------------------------------------------------
_FRAME_RE = re.compile(
    r"(?:^|(?<=[,;:.] ))(?:the )?(?:(?:required|desired|intended|requested|selected|chosen|correct) (?:object|item|"
    r"target|element|referent)|(?:object|item|element) (?:of interest|to be (?:retrieved|selected|picked(?: up)?|"
    r"grasped|chosen|identified))|target(?: object| item)?|referent) (?:(?:shall|should|must|will|is to|has to) )?"
    r"(?:be|is)(?: (?:defined|specified|given|identified) (?:as|to be|by))? (?=(?:the|a|an)\b)")
_OPERATOR_RE = re.compile(
    r"(?:^|(?<=[,;:.] ))(?:the )?(?:operator|user|robot|system|agent|controller)(?: (?:shall|should|must|will|is to|"
    r"has to|then))? (?:select|pick|choose|grasp|retrieve|take|identify|designate|grab)s?(?: up| out)? (?=the\b)")
# "compare the sizes of all mugs" names the group of a numbered plan's "the biggest one"
_COMPARE_RE = re.compile(
    r"\b(?:compare|measure|examine|check|rank|assess|evaluate) the (?:sizes?|dimensions|volumes?|distances?"
    r"(?: (?:from|to) the camera)?|depths?|(?:horizontal )?positions?) of\b")
# "among all cups, the second cup from the left": the group is said again in the answer
_AMONG_RE = re.compile(rf"^(?:among|amongst|of|out of|from) (?:all )?(?:the )?{_NP},? (?=the )")
_SET_RE = re.compile(rf"\b(?:(?:each|every|all(?: the)?) (?:members?|elements?) of )?the set of (?:all )?(?:the )?"
                     rf"(?P<np>{_NP})" + _END)

Rule = Tuple["re.Pattern[str]", Callable[["re.Match[str]"], str]]
_RULES: List[Rule] = [
    (_RANKED_RE, _ranked),
    (_SORT_PICK_RE, _sort_pick),
    (_COUNTING_RE, _counting),
    (_EXCLUDE_RE, _exclude),
    (_COMPARE_RE, lambda m: "consider"),
    (_NEXT_RE, _next),
    (_EXACTLY_RE, _exactly),
    (_NONE_OR_ALL_RE, _none_or_all),
    (_MEASURE_OTHERS_RE, _measure_others),
    (_THAN_OTHERS_RE, _than_others),
    (_INVERTED_RE, _inverted),
    (_MEASURE_ANCHOR_RE, _measure_anchor),
    (_POSITION_ANCHOR_RE, lambda m: f"{_PRONOUN[m['pro']]} {m['s1'] or m['s2']} of "),
    (_AT_DISTANCE_RE, lambda m: "in front of " if m["c"] in ("smaller", "shorter", "lesser", "lower") else "behind "),
    (_EXTREME_MEASURE_RE, _extreme_measure),
    (_NOT_ATTR_RE, lambda m: ("that is not " if m["pro"] == "whose" else "it is not ") + m["w"]),
    (_NOT_CLASSIFIED_RE, lambda m: "that is not " + (m["w"] or m["w2"] or m["w3"])),
    (_SET_RE, lambda m: f"all the {m['np']}"),
]

# ---- variables ---------------------------------------------------------------------------------------------
_NOT_A_VARIABLE = {"it", "me", "us", "them", "this", "that", "there", "the", "an", "go", "one", "him", "her",
                   "you"}
# "A" and "I" are variables only in capitals, and not where a sentence starts ("A cup left of A" has one)
_ARTICLE_LIKE = {"A", "I"}
_NAME = r"[A-Za-z][A-Za-z0-9_]{0,4}"   # "X", "Y1", "obj", "A"
# "let X be the box; ...", "let Y denote the box. ...", "define A as the box, then ...", "X := the box; ..."
_LET_RE = re.compile(
    rf"^\s*(?:let (?P<var>{_NAME}) (?:be|denote|stand for|represent|refer to|be defined as|be given by|equal)|"
    rf"define (?P<var2>{_NAME}) (?:as|to be)|(?P<var3>{_NAME}) (?::=|is defined as|denotes)) "
    r"(?P<np>(?:the|a|an|all|every) [^;.:]+?)\s*(?:[;.:]|,\s*(?:and |then )?)\s*(?P<rest>\S.*)$", re.IGNORECASE)
# "let X range over the objects of type mug; select the one whose colour ..."
_RANGE_RE = re.compile(
    rf"^\s*let (?P<var>{_NAME}) (?:range|vary|run|iterate) over (?:all )?(?:the )?(?:(?:objects|things|items|elements) "
    r"(?:of (?:type|kind|class|shape|category) |that are |which are ))?(?P<np>[a-z]+(?: [a-z]+){0,3}?)\s*"
    r"(?:[;.:]|,\s*(?:and |then )?)\s*(?P<rest>\S.*)$", re.IGNORECASE)


def _variables(text: str) -> str:
    """"Let X be the box; pick the cup left of X." -> "pick the cup left of the box"."""
    m = _RANGE_RE.match(text)
    if m and m["var"].lower() not in _NOT_A_VARIABLE:
        noun = "the " + _singular(m["np"].lower())
        rest = re.sub(rf"\b{re.escape(m['var'])}\b", noun, m["rest"])
        return re.sub(r"\bthe (?:one|element|item|object|thing)\b", noun, rest, count=1, flags=re.IGNORECASE)
    m = _LET_RE.match(text)
    if not m:
        return text
    var = m["var"] or m["var2"] or m["var3"]
    if var.lower() in _NOT_A_VARIABLE or var.lower() in ("a", "i") and var not in _ARTICLE_LIKE:
        return text
    # a one-letter variable is written as it was defined ("X", not "x" in "x-coordinate"); longer ones any case
    flags = 0 if len(var) == 1 else re.IGNORECASE
    not_first = r"(?<!^)(?<![.;:!?] )" if var in _ARTICLE_LIKE else ""
    use = re.compile(rf"{not_first}(?<![\w'-]){re.escape(var)}(?![\w'-])", flags)
    if not use.search(m["rest"]):
        return f"{m['np']}. {m['rest']}"   # "let X be the box; pick the cup to its left": a scene, then the request
    return use.sub(m["np"].replace("\\", ""), m["rest"])


def definitional_phrase(text: str) -> str:
    """`text` with its definitional constructions said in the generator's words; unchanged when it has none."""
    t = _variables(text)
    said = re.sub(r"\s+", " ", t.strip().lower())
    fired = t != text
    for pattern, rewrite in _RULES:
        new = pattern.sub(rewrite, said)
        fired |= new != said
        said = new
    for pattern in (_OPERATOR_RE, _FRAME_RE):   # "the target shall be ...": said only around a definition
        new = pattern.sub("", said)
        fired |= new != said
        said = new
    if not fired:
        return text
    return _AMONG_RE.sub("", said)
