"""A request told as what the speaker does not want: "I don't want the red mug, give me the other one".

People say which object they mean by rejecting the other: "I don't want the red mug", "don't give me the
small cube, the other one please", "the red mug is not the one I want", "I don't want the red mug, I want the
blue one". Before, the "not" stood before a verb, not an attribute, and was dropped with it, so each of these
reached the model as "the red mug": the robot picked up the one object the speaker had just refused. A
blind set of ordinary requests (test/phrasings/blind_av.tsv) found it.

`plain_rejection` reads the whole phrase (cleaned text: lower case, sentence ends as commas) and returns
- the request that follows the rejection, when there is one with its own attributes ("..., I want the blue
  one": the blue mug, the noun taken from the rejected object);
- otherwise the rejected object's one attribute negated ("the mug that is not red"), which is what "the other
  one" means to the model;
and any other phrase unchanged. A rejected object named by more than one attribute ("the small red mug") or
by none ("the mug") has no such reading (the model has no wording for "any mug but that one"):
`rejection_unread` says so, and the backend refuses the phrase with that reason instead of grounding the
object the speaker refused.
"""

from __future__ import annotations

import re

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES

_ATTR = "|".join(COLORS + SIZES)
_NOUN = "|".join(sorted(NOUNS + PLURALS + ("block", "brick", "cylinder", "sphere", "cup", "item", "object"),
                        key=len, reverse=True))
_OBJECT = rf"(?:the|that|this) ((?:(?:{_ATTR}) )*)({_NOUN}|one|thing)s?"
_NOT = r"(?:do not|don't|dont|do n't|don t|did not|didn't|didnt)"
# "i don't want the red mug", "don't give me the red mug", "the red mug is not the one i want"
_REJECTED = re.compile(
    rf"^(?:(?:no|nope|sorry|please|oh|hmm),? )*(?:(?:i|we) {_NOT} (?:want|need|mean|like|wanna|fancy|care for)|"
    rf"{_NOT} (?:give|get|grab|take|bring|hand|pass|pick(?: up)?|fetch)(?: me| us)?) {_OBJECT}"
    rf"|^(?:(?:no|nope|sorry),? )*{_OBJECT} (?:is not|isn't|isnt|is n't|'s not) (?:the )?(?:one|thing|mug|cup|cube|"
    rf"box|ball|can) (?:i|we) (?:want|need|mean|meant|asked for|wanted)")
# an object set aside before the request: "leave the red cup and take the blue one", "skip the red cup, ...",
# "forget the red cup, I want the blue one", "I can't reach the red cup, get the blue one". Only with a request
# after it (`plain_rejection`): alone, "leave the red cup on the tray" is a request for the red cup. Before, the
# request after it was dropped as a restatement and the model was asked for the red cup.
_SET_ASIDE = re.compile(
    rf"^(?:(?:no|nope|sorry|please|oh|hmm|ok|okay),? )*(?:leave|skip|ignore|forget(?: about)?|never mind|"
    rf"(?:i|we) (?:can not|cannot|can't|cant|could not|couldn't) (?:see|find|reach|get to|lift|grab|take|pick up)) "
    rf"{_OBJECT}")
# what follows: "..., give me the other one", "..., i want the other mug instead", "..., the other one please"
_OTHER = re.compile(
    rf"^,? ?(?:(?:so|but|just|instead|rather|and|then),? )*(?:(?:please )?(?:give|get|grab|take|hand|bring|pass|fetch|"
    rf"pick(?: up)?)"
    rf"(?: me| us)?|(?:i|we) (?:want|need|would like|'d like|d like|will take|'ll take)|i mean|"
    rf"(?:can|could|would) (?:i|we) (?:have|get)|)? ?(?:the )?other(?: (one|thing|{_NOUN}))?s?"
    rf"(?: (?:instead|please|thanks|thank you))*,?$")
# "..., i want the blue one": a request of its own
_WANTED = re.compile(
    rf"^,? ?(?:(?:so|but|just|instead|rather|and|then),? )*(?:(?:please )?(?:give|get|grab|take|hand|bring|pass|fetch|"
    rf"pick(?: up)?)"
    rf"(?: me| us)?|(?:i|we) (?:want|need|would like|'d like|d like|will take|'ll take)|i mean|"
    rf"(?:can|could|would) (?:i|we) (?:have|get)) (?:the|a) ((?:(?:{_ATTR}) )+)({_NOUN}|one|thing)"
    rf"(?: (?:instead|please|thanks|thank you))*,?$")


def plain_rejection(text: str) -> str:
    """Cleaned text -> the request its rejection says (see the module docstring), or the text unchanged."""
    m = _REJECTED.match(text)
    set_aside = None if m else _SET_ASIDE.match(text)
    if set_aside:
        m = set_aside
        if not (_WANTED.match(text[m.end():]) or _OTHER.match(text[m.end():])):
            return text   # "leave the red cup on the tray": a request for it
    if not m:
        return text
    attrs, noun = (m[1], m[2]) if m[2] else (m[3], m[4])
    attrs, rest = attrs.split(), text[m.end():]
    noun = "thing" if noun == "one" else noun
    wanted = _WANTED.match(rest)
    if wanted:
        said = wanted[2]
        return f"the {wanted[1].strip()} {noun if said in ('one', 'thing') else said}"
    other = _OTHER.match(rest)
    if len(attrs) != 1 or not (rest.strip(" ,") == "" or other):
        return text
    if other and other[1] not in (None, "one", "thing"):   # "..., give me the other mug"
        noun = other[1]
    return f"the {noun} that is not {attrs[0]}"


def rejection_unread(text: str) -> bool:
    """The cleaned text rejects an object and says no object it wants that the model can ground ("I don't want
    the mug", "I don't want the small red mug"): the model would otherwise be asked for the rejected one."""
    return bool(_REJECTED.match(text)) and plain_rejection(text) == text
