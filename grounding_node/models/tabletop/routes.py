"""Route-like and deictic descriptions, as people give directions for the eyes, said plainly.

"Start at the box and look left: the cup there", "from the box, one step away from the camera, the mug",
"moving from the right, skip the first cube, take the next one", "from the left, pass two mugs and stop at
the next mug", "look as far left as the balls go; that one", "start at the camera and move out; the first
can you reach", "that mug right there": a referent told as a walk (start somewhere, move the gaze one way,
count what you pass) or by pointing. A blind set in that register (blind set AR) reached the model with the
wrong meaning in about one line in three: the direction of the walk was lost or read as a side of its own
("the box left the mug"), "right there" read as the right side, and the first/second thing met when sweeping
from a side was left uncounted.

Counting is as the speaker walks: skipping n and taking the next is the (n+1)th from the starting side; the
first thing met from the left is the leftmost, from the camera the nearest, from the back edge the farthest.
Walking from an anchor one way puts the target on that side of it (toward the camera: in front of it).

`route_phrase` rewrites those forms into the generator's wordings, which the rest of the normaliser reads. It
runs on the cleaned text (lower case, sentence ends as commas, contractions still as typed) before
`plain_description`. Every rule needs its whole form (a start, a move and a target; a sweep and what is
met), so a phrase without one is returned as it is; the generator's own wordings never contain one
(test_tabletop_language.py checks the normalised text of every generated wording is unchanged).
"""

from __future__ import annotations

import re
from typing import Callable, List, Tuple, Union

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES, singular

_ATTR = "|".join(COLORS + SIZES)
_NOUN = "|".join(sorted(NOUNS + PLURALS + ("items", "item", "objects", "object"), key=len, reverse=True))
_PLURAL = "|".join(sorted(PLURALS + ("items",), key=len, reverse=True))
_SINGULAR = "|".join(sorted(NOUNS + ("item",), key=len, reverse=True))
_GROUP = rf"(?:(?:{_ATTR}) )*(?:{_NOUN})"
_GROUP_PL = rf"(?:(?:{_ATTR}) )*(?:{_PLURAL})"
_GROUP_SG = rf"(?:(?:{_ATTR}) )*(?:{_SINGULAR})"
# where a sweep starts: a side or an edge of the table, or the camera
_EDGE = r"(?:[- ]hand)?(?: edge| side| end)?(?: of the (?:table|picture|image|frame|row|line))?"
_START_SIDE = rf"(?:the )?(?P<side>left|right|front|near|back|far|rear|camera|bottom|top){_EDGE}"
# what the walker does on the way: "you meet", "that you hit", "we get to"
_MEET = (r"(?: (?:that )?(?:you|we|i)(?: will| would|'ll)? (?:hit|meet|reach|get to|come to|come across|pass|see|find|"
         r"encounter|run into|bump into))")
_TAKE = r"(?:take|grab|pick(?: up| out)?|get|choose|select|keep|go for|fetch|stop at|stop on|land on|i want)"
# a walk's verb ("look", "head", "move your eyes", "come") and the direction it names
_WALK = (r"(?:(?:then |now |and )*(?:look|go|head|move|glance|come|walk|travel|step|turn|shift|slide|sweep|scan)"
         r"(?: your (?:eyes|gaze|look|view))?(?: over| on| out)?(?: (?:one|a|another) step| a bit| a little)? |"
         r"(?:one|a) step )")
_DIRECTION = (r"(?:(?:over )?(?:to(?:wards?)? the |toward the )?(?:left|right)(?:wards?)?(?:[- ]hand)?(?: side)?|"
              r"(?:forwards? )?(?:to(?:wards?)?|toward) (?:the camera|me|us|the front(?: edge)?)|"
              r"(?:nearer|closer) (?:to )?(?:the camera|me|us)|forwards?|"
              r"(?:(?:farther|further) )?away from (?:the camera|me|us)|(?:farther|further)(?: away)?(?: from "
              r"(?:the camera|me|us))?|deeper(?: in| into the (?:table|scene))?|backwards?|back|"
              r"(?:past|beyond) it(?:,? (?:further |farther )?away from (?:the camera|me|us))?)")
# what introduces the target once the walk is done: "until you reach", "; it's", "and you'll hit", ":"
_ARRIVE = (rf"(?:(?:,| and| then)* (?:until|till) (?:you|we) (?:reach|get to|hit|come to|find|see|meet)"
           rf"|(?:,| and| then|, then)* (?:(?:it's|it is|there's|there is|you'll|you will)(?: (?:hit|find|reach|see|"
           rf"meet|come to|get to|run into))?|now|{_TAKE}))?")
_RELATION = {"left": "left of", "right": "right of", "front": "in front of", "behind": "behind"}


def _walk_relation(move: str) -> str:
    """The direction of a walk from the anchor -> the generator's relation of the target to it."""
    for side in ("left", "right"):
        if re.search(rf"\b{side}", move):
            return _RELATION[side]
    if re.search(r"\b(?:away|farther|further|deeper|back|backwards?|past|beyond)\b", move):
        return _RELATION["behind"]
    return _RELATION["front"]


def _route_relation(m: "re.Match") -> str:
    return f"the {m['t']} {_walk_relation(m['move'])} the {m['a']}"


_EXTREME = {"left": "leftmost", "right": "rightmost", "front": "nearest", "near": "nearest", "camera": "nearest",
            "bottom": "nearest", "back": "farthest", "far": "farthest", "rear": "farthest", "top": "farthest"}
_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_ORDINAL_WORD = {2: "second", 3: "third"}


def _counted(side: str, n: int, group: str, whole: str) -> str:
    """The n-th thing met sweeping from `side` -> the generator's extreme or ordinal (as said when it has none:
    the model counts only from the left and the right)."""
    group = singular(group)
    if n == 1:
        return f"the {_EXTREME[side]} {group}"
    if side in ("left", "right") and n in _ORDINAL_WORD:
        return f"the {_ORDINAL_WORD[n]} {group} from the {side}"
    return whole


def _sweep(m: "re.Match") -> str:
    return _counted(m["side"], _ORDINAL[m["ord"]], m["g"], m[0])


def _passed(m: "re.Match") -> str:
    # "pass two mugs and stop at the next": the third; "skip the first mug, take the next one": the second
    skipped = {"two": 2, "2": 2}.get(m["n"] or "", 1)
    return _counted(m["side"], skipped + 1, m["g"], m[0])


def _one_then_the_next(m: "re.Match") -> str:
    n = _ORDINAL[m["ord"]] if m["ord"] else 1 + m["nexts"].count("next")
    return _counted(m["side"], n, m["g"], m[0])


def _numbers_counted(m: "re.Match") -> str:
    return _counted(m["side"], len(m["count"].split(",")), m["g"], m[0])


_AS_FAR_AS = {"left": "leftmost", "right": "rightmost"}


def _as_far_as(m: "re.Match") -> str:
    how = m["how"]
    side = re.search(r"\b(left|right)\b", how)
    if side:
        ext = _AS_FAR_AS[side[1]]
    elif re.search(r"\b(?:close|near|forward|front)\b", how):
        ext = "nearest"
    else:   # "as deep as", "as far back as", "as far away from the camera as"
        ext = "farthest"
    return f"the {ext} {singular(m['g'])}"


_LEAD = r"^(?:(?:please|now|ok|okay|so|then|well|alright|right),? )*"
# a sweep's start: "start at the left edge (and move right)", "count in from the right", "scanning from the back"
_SWEEP_START = (rf"(?:(?:start(?:ing)?|begin(?:ning)?|count(?:ing)?|scan(?:ning)?|sweep(?:ing)?|look(?:ing)?|"
                rf"mov(?:e|ing)|go(?:ing)?|walk(?:ing)?|work(?:ing)?|head(?:ing)?)(?: in| out)? )?"
                rf"(?:at|on|from|in from) {_START_SIDE}")
_SWEEP_DIRECTION = (r"(?:out|in|back|forward|across|along|over|inwards?|outwards?|deeper|rightwards?|leftwards?|"
                    r"right|left|(?:to(?:wards?)? |toward )the (?:camera|right|left|back|front)(?: edge)?|"
                    r"away from the camera)")
_SWEEP_MOVE = (rf"(?:,? (?:and )?(?:then )?(?:(?:move|moving|go|going|walk|walking|head|heading|look|looking|scan|"
               rf"scanning|sweep|sweeping|work|working|count|counting|come|coming)(?: {_SWEEP_DIRECTION})?|"
               rf"{_SWEEP_DIRECTION}))?")

Rule = Tuple[str, Union[str, Callable[["re.Match"], str]]]

_RULES: List[Rule] = [
    # pointing: "that mug right there", "this cube right here" ("right" is no side here; "on the right there"
    # keeps its side), "right in front"/"right up front" (an intensifier)
    (r"(?<!\bthe )(?<!\bto )\bright (?=(?:there|here|in front|up front|at the (?:very )?(?:back|front))\b)", ""),
    # pointing, then the extreme among its kind: "that mug right there, the largest of the mugs"
    (rf"{_LEAD}(?:that|this|the) (?P<g>{_GROUP}) (?:over )?(?:there|here),? the (?P<sup>biggest|largest|smallest|"
     rf"tiniest|littlest|nearest|closest|farthest|furthest|leftmost|rightmost) (?:one )?(?:of|among) (?:all )?(?:of )?"
     rf"the {_GROUP_PL}$", lambda m: f"the {m['sup']} {singular(m['g'])}"),
    # a position said twice, the second time as a comparison with all the others: "that mug up front, nearer
    # the camera than any other mug" (the comparison is read; the pointing words are not the model's)
    (r"\b(?:way )?(?:up front|in front|at the front|in the back|at the back|back there),? (?=(?:nearer|closer|"
     r"farther|further|more distant)(?: to| from)?(?: away)?(?: (?:the camera|me|us))?(?: away)? than "
     r"(?:any|all|every|each)\b)", ""),
    (r"\b(nearer|closer) (?=(?:the camera|me|us) than (?:any|all|every|each)\b)", r"\1 to "),
    # a relation told as a walk from the anchor: "start at the box and look left: the cup there", "find the box,
    # then go left; it's the cup", "from the box, one step toward the camera, the cup", "from the box, head
    # right until you reach the cup", "look at the box and come forward toward me; you'll hit the cup"
    (rf"{_LEAD}(?:start(?:ing)? (?:at|from|with) |from |find |look at |go to )the (?P<a>{_GROUP})(?:,| and| then)* "
     rf"(?P<move>{_WALK}?{_DIRECTION}(?:,? {_DIRECTION})?){_ARRIVE},? (?:the|that|this) (?P<t>{_GROUP})"
     rf"(?: there| over there| here|{_MEET})?$", _route_relation),
    # the n-th met sweeping from a side: "start at the left edge and move right; take the first mug you hit",
    # "count in from the left, it's the very first mug you get to", "scan from the front edge going back; the
    # first mug you meet", "start at the camera and move out; the first mug you reach"
    (rf"{_LEAD}{_SWEEP_START}{_SWEEP_MOVE},? (?:and )?(?:then )?(?:it's |it is |{_TAKE} )?the (?:very )?"
     rf"(?P<ord>first|second|third|1st|2nd|3rd) (?P<g>{_GROUP}){_MEET}?$", _sweep),
    # "second mug you pass going rightward from the left edge"
    (rf"{_LEAD}(?:the )?(?:very )?(?P<ord>first|second|third|1st|2nd|3rd) (?P<g>{_GROUP}){_MEET},? "
     rf"(?:going|moving|heading|walking|counting|scanning|working) (?:rightwards?|leftwards?|to the (?:right|left)|"
     rf"right|left|inwards?|in) from {_START_SIDE}$", _sweep),
    # "from the left, pass two mugs and stop at the next mug", "moving from the right, skip the first two cubes,
    # take the next one"
    (rf"{_LEAD}{_SWEEP_START},? (?:skip|pass|go past|walk past|move past|count past|pass over|skip over|skip past|"
     rf"ignore|leave) (?:the )?(?:very )?(?:first )?(?P<n>one|two|a|an|1|2)? ?(?P<g>{_GROUP}),?(?: and| then)*,? "
     rf"{_TAKE}(?: at| on)? the (?:next|following)(?: one| {_GROUP})?$", _passed),
    # "start on the left and walk right: one mug, then the next, that second one"
    (rf"{_LEAD}{_SWEEP_START}{_SWEEP_MOVE},? one (?P<g>{_GROUP_SG})(?P<nexts>(?:,? (?:and )?then the next"
     rf"(?: one| {_GROUP_SG})?)+)(?:,? (?:that|this|the) (?:(?P<ord>second|third) )?one)?$", _one_then_the_next),
    # "start at the left and count the mugs: one, two, three, that one"
    (rf"{_LEAD}{_SWEEP_START}{_SWEEP_MOVE},? (?:and )?count(?:ing)? (?:all )?(?:the )?(?P<g>{_GROUP_PL}),? "
     rf"(?P<count>one(?:, two(?:, three)?)?),? (?:that|this|the) one$", _numbers_counted),
    # an extreme as how far the group goes: "look as far left as the mugs go; that one", "come as close to the
    # camera as the mugs go", "go as deep as the mugs go"
    (rf"{_LEAD}(?:look|go|come|reach|move|head|get)(?: out| over)? as (?P<how>far (?:to the |over to the |over )?"
     rf"(?:left|right)|far (?:back|forward|in)|deep|far (?:away )?from (?:the camera|me|us)|far away|"
     rf"(?:close|near) (?:to )?(?:the camera|me|us)|close|near) as (?:the |all the )?(?P<g>{_GROUP_PL}) go(?:es)?"
     rf"(?:,? (?:that|this|the) one| there)?$", _as_far_as),
    # a group named first, then the one picked from it: "look at the mugs and take the one closest to the camera",
    # "go through the mugs one by one and keep the biggest", "scan every mug and pick the one that isn't red"
    (rf"{_LEAD}(?:look (?:at|over|through)|go (?:through|over)|scan|check|compare|see|survey|consider)"
     rf"(?: all| each| every)?(?: of)?(?: the)? (?P<g>{_GROUP})(?: one by one| as you go| in turn| one at a time)?"
     rf"(?:,| and| then)+ (?:{_TAKE} )?the (?P<sup>biggest|largest|smallest|tiniest|littlest|nearest|closest|"
     rf"farthest|furthest|leftmost|rightmost)(?: one)?$",
     lambda m: f"the {m['sup']} {singular(m['g'])}" if _is_group(m) else m[0]),
    (rf"{_LEAD}(?:look (?:at|over|through)|go (?:through|over)|scan|check|compare|see|survey|consider)"
     rf"(?: all| each| every)?(?: of)?(?: the)? (?P<g>{_GROUP})(?: one by one| as you go| in turn| one at a time)?"
     rf"(?:,| and| then)+ (?:{_TAKE} )?the one (?P<rest>(?:that|which|whose|closest|nearest|farthest|furthest|"
     rf"most|on|to|at|in|left|right|behind|not)\b.*)$",
     lambda m: f"the {singular(m['g'])} {m['rest']}" if _is_group(m) else m[0]),
    # a negation told as what to pass over: "look at each mug; skip the red one, take the other"
    (rf"{_LEAD}(?:(?:look at|see|scan|check|consider|go through|go over) )?(?:each|every|both|all|all the|the)"
     rf"(?: of the)? (?P<g>{_GROUP})(?:,| and)* (?:skip|ignore|pass over|leave|pass|forget) (?:the )?(?P<w>{_ATTR})"
     rf" one(?:,| and| then)* (?:{_TAKE} |go to )?the other(?: one)?$",
     lambda m: f"the {singular(m['g'])} that is not {m['w']}"),
    # all of a group met on a sweep: "go from left to right and grab each of the mugs" (read as "counting from
    # the left, ..." by then)
    (rf"{_LEAD}(?:counting|going|moving|working|sweeping|scanning) (?:from (?:the )?(?:left|right)"
     rf"(?: to (?:the )?(?:left|right))?|across(?: the table)?),? (?:and )?(?:then )?(?:grab|take|pick(?: up)?|collect|"
     rf"get|gather|fetch) (?:each|every|all)(?: single)?(?: one)?(?: of)? (?:the )?(?P<g>{_GROUP_PL})\b",
     r"all the \g<g>"),
]
_RULES_C = [(re.compile(p), r) for p, r in _RULES]


def _is_group(m: "re.Match") -> bool:
    """A group named before the one picked from it is plural or counted ("each mug"); "look at the mug and
    take the one left of it" names no group."""
    head = m["g"].split()[-1]
    before = m.string[m.start():m.start("g")]
    return head in PLURALS or head == "items" or bool(re.search(r"\b(?:each|every|all)\b", before))


def route_phrase(text: str) -> str:
    """Cleaned text -> the same with the route and pointing forms above said plainly (see the module's
    docstring)."""
    text = text.strip(" ,")   # a final full stop is a comma here, and the rules anchor at the end
    for pat, rep in _RULES_C:
        text = pat.sub(rep, text)
    return re.sub(r"\s+", " ", text).strip()
