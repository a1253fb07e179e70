"""Where to put an object is not which object: a manipulation command's destination is dropped before reading.

Robot-learning datasets and pick-and-place users say what to do with the object as well as which it is:
"push the red block to the left", "slide the mug nearest the camera to the right edge", "move the cup
closer to the robot", "put the non-red mug in the tray". Read as one phrase, the destination's side and
depth words are selection words: "push the mug to the left" became the leftmost mug, "move the mug closer to
the camera" the nearest one, and "slide the second rightmost mug to the left" the second mug from the left
(a blind set written in that register, test/phrasings/blind_ag.tsv, met these on arrival).

`strip_destination` drops a destination at the end of a clause whose verb moves the object, and only there:
- placing verbs (put, place, set, drop, stack, ...) take any location: "in the tray", "on the shelf",
  "at the left edge", "next to the bin";
- moving verbs (push, slide, move, drag, shift, nudge, roll, bring, carry, ...) take directions only:
  "to the left", "towards the camera", "closer to the robot", "away from the edge", "left", "back";
  "push the mug on the left side" keeps its location, which is the object's own.
A destination that names a shape, colour or size with a relation word ("move the cup to the left of the box")
is kept: it may be a relation that picks the object, and this module cannot tell; the phrase then reads as
it did before. Without one ("roll the ball over to the red cup") it is only where the object goes. A
superlative's complement ("the mug closest to the left edge", "nearest to the camera") is never a
destination. Runs on the normaliser's cleaned text (lower case, sentence ends as commas).
"""

from __future__ import annotations

import re

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES

# words that make a destination a possible anchor object (then it is kept)
_CONTENT = frozenset(COLORS + SIZES + NOUNS + PLURALS + (
    "block", "blocks", "brick", "bricks", "cylinder", "cylinders", "sphere", "spheres", "cup", "cups", "tin",
    "tins", "dice", "die", "violet", "navy", "crimson", "scarlet", "grey", "gray", "pink", "brown"))

# words that make a destination with an object in it a possible relation ("to the left of the box", "next to the
# cup"); "roll the ball over to the red cup" has none, so the cup is only where the ball goes
_RELATIONAL = frozenset("left right front behind back near nearer closer farther further next beside between by of "
                        "side".split())
# what a moved object is called between the verb and its destination
_OBJECT = frozenset(NOUNS + PLURALS + (
    "block", "blocks", "brick", "bricks", "cylinder", "cylinders", "sphere", "spheres", "cup", "cups", "tin", "tins",
    "dice", "die", "object", "objects", "item", "items", "thing", "things", "one", "ones", "piece", "pieces"))
_PLACE_VERBS = r"put|place|set|drop|stack|lay|deposit|stow|insert|plonk|plop|dump|throw|toss|chuck|return"
_MOVE_VERBS = (r"push|slide|move|shove|nudge|drag|shift|pull|roll|bring|carry|transfer|relocate|reposition|"
               r"sweep|scoot|scooch|bump|knock|kick|flick|tip|rotate|turn|spin|ferry|transport|swing|steer")
# a verb, not a noun ("in first place", "a set of", "its turn"): no article, possessive or preposition before it
_NOT_A_NOUN = r"(?<!\bthe )(?<!\ba )(?<!\ban )(?<!\bin )(?<!\bof )(?<!\bits )(?<!\bfirst )(?<!\bsecond )(?<!\bthird )"
_VERB_RE = re.compile(rf"{_NOT_A_NOUN}\b(?:(?P<place>{_PLACE_VERBS})|(?P<move>{_MOVE_VERBS}))(?:s|es|ed|ing)?\b")

_UNIT = r"(?:cm|mm|centimet(?:er|re)s?|millimet(?:er|re)s?|inch(?:es)?)"
_AMOUNT = rf"(?:a (?:bit|little|touch|tad)|slightly|(?:by )?(?:\d+|a few|some|several) ?{_UNIT})"
# a direction said with a preposition that moves ("to the left edge of the table", "towards the camera")
_MOTION_PREP = (rf"(?:{_AMOUNT} )?(?:all the way |right |over |back |further |farther |gently )?"
                r"(?:over to|up to|down to|across to|out to|to|towards?|into|onto|away from|out of|off|across|"
                r"(?:a (?:bit|little|touch|tad) )?(?:closer|nearer|further|farther)(?: away)?(?: from| to)?|"
                r"(?:further|farther) away from|along|toward)")
# where an object is put ("in the tray", "on top of the shelf", "next to the bin")
_PLACE_PREP = (_MOTION_PREP[:-1] + r"|in|inside|within|on(?: top of)?|at|by|near|beside|next to|against|"
               r"under(?:neath)?|below|above|over|behind|in front of|between|among|amongst)")
# a bare direction: "slide it left", "push the mug back", "move it a bit closer"
_BARE = (rf"(?:(?:{_AMOUNT}|gently|carefully|all the way|further|farther|right|over) )*"
         r"(?:left|right|leftwards?|rightwards?|forwards?|backwards?|back|away|aside|sideways|over|closer|nearer|"
         r"further(?: away)?|farther(?: away)?|(?:up|down)(?:wards?)?|along|out of the way|out of reach)"
         rf"(?: {_AMOUNT})?")
_NP = r"(?:(?:the|a|an|your|my|our|its|their|this|that) )?(?:[a-z']+ ){0,5}?[a-z']+"

_WITH_MOTION_PREP = re.compile(rf"{_MOTION_PREP} {_NP}")
_WITH_PLACE_PREP = re.compile(rf"{_PLACE_PREP} {_NP}")
_BARE_RE = re.compile(_BARE)

# a superlative or comparative whose complement the words after it are ("closest to the left edge")
_HEAD_BEFORE = re.compile(r"\b(?:\w+est|\w+most|most|nearer|closer|further|farther|next|near|adjacent|away|"
                          r"distant|positioned|located|situated|sitting|standing|resting|lying|placed|that is|"
                          r"which is|who is|is|are)\s*$")
# a direction that ends a noun phrase ("the second mug from the left", "from the right to the left") starts
# no destination
_NP_BEFORE = re.compile(r"\b(?:the|a|an|from|of|to|on|at|in|by|its|their|your|my|very|far|extreme|most|upper|"
                        r"lower)\s*$")


def _destination(clause: str, after: int, placing: bool) -> "int | None":
    """Where the clause's destination starts (the longest valid one at its end), or None."""
    with_prep = _WITH_PLACE_PREP if placing else _WITH_MOTION_PREP
    bare = _BARE_RE
    for m in re.finditer(r"\s", clause[after:]):   # longest first: the earliest start
        i = after + m.end()
        dest, before = clause[i:], clause[:i].rstrip()
        if _NP_BEFORE.search(before) or not (with_prep.fullmatch(dest) or bare.fullmatch(dest)):
            continue   # "from the right to the left": "right ..." ends a noun phrase, it starts no destination
        if _CONTENT & set(dest.split()) and _RELATIONAL & set(dest.split()):
            continue   # "to the left of the box": maybe a relation that picks the object ("to the red cup" is not)
        if _HEAD_BEFORE.search(before) and not re.match(r"(?:a (?:bit|little|touch|tad) )?(?:closer|nearer|further|"
                                                         r"farther)\b", dest):
            continue   # "the mug closest to the camera": the superlative's complement
        if not _OBJECT & set(before[after:].split()):
            continue   # no object between the verb and it ("push it left" keeps its "it"; "move down the screen
            #            toward the camera" moves the eye)
        return i
    return None


def _strip_clause(clause: str) -> str:
    verb = _VERB_RE.search(clause)
    if verb is None:
        return clause
    i = _destination(clause, verb.end(), placing=verb.group("place") is not None)
    return clause if i is None else clause[:i].rstrip()


def strip_destination(text: str) -> str:
    """Cleaned text (lower case, commas between clauses) -> the same without each clause's trailing
    destination (see the module's docstring). Text with no moving or placing verb is returned as it is."""
    if not _VERB_RE.search(text):
        return text
    return ", ".join(_strip_clause(c.strip()) for c in text.split(","))
