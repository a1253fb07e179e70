"""Positions told in a camera's coordinate frames, as ROS engineers say them, in plain words.

"The mug with minimum x in the camera optical frame (+x = image right)", "the cup with the lowest column
index", "argmin of z over the cubes", "the box with smaller z than the ball", "sort the cans by x ascending and
take index 1 (0-based)": REP 103's optical frame (x right in the image, y down, z forward, away from the
camera) and the pixel frame (u to the right, v down) are how a ROS user thinks of "left" and "near". A blind
set in that register (test/phrasings/blind_au.tsv) reached the model with its meaning in six lines in seven,
and worse, with the wrong one: "the smallest u" as the smallest mug, "the lowest column index" as the NEAREST,
"the greatest depth" as the largest.

`plain_axes` drops the conventions the speaker states (in parentheses, or "in the camera optical frame") and
says each axis as the measure the rest of the normaliser reads: x, u and the pixel column as the horizontal
position, z and depth as the distance from the camera, a bounding-box volume as the size, and an axis's
extremes and comparisons as the generator's words ("the leftmost mug", "the mug behind the ball"). Only the
optical and pixel frames are read: in a robot's base frame x points forward, so "the cup with the largest x"
without a frame stays as it was said. Every rule needs an axis word beside a measure word ("min x", "smaller
z than", "by x ascending"), so a phrase without one is returned unchanged.
"""

from __future__ import annotations

import re

_NOUN = r"[a-z]+(?: [a-z]+){0,2}?"
# the conventions a speaker states: "(+x = image right)", "(z forward, away from the camera)", "(u increases to
# the right)", "in the camera optical frame", "in camera_optical", "in pixel coordinates"
_CONVENTION = re.compile(
    r"\s*[(\[][^()\[\]]*\b(?:[xyzuv]|[+-][xyzuv]|z[- ]axis|x[- ]axis)\b[^()\[\]]*\b(?:right|left|forward|away|"
    r"down|up|camera|image|viewing|depth|column|row)\b[^()\[\]]*[)\]]"
    r"|,?\s*\b(?:in|of|along|across|within|w\.?r\.?t\.?|relative to|measured in) (?:the )?"
    r"(?:(?:camera[ _]?)?optical(?:[ _]frame)?|camera[ _](?:optical[ _])?(?:frame|link|coordinates)|"
    r"[a-z_]*_optical(?:_frame)?|(?:image|pixel)(?: coordinates| frame| space| plane)|image|picture)\b"
    r"(?: frame)?(?= |,|$|\.)", re.IGNORECASE)
# an axis and what it measures; "x" and "u" only beside a measure word (below), never alone
# x and z name the optical frame's axes only where the speaker says which frame (a robot's base frame has x
# forward and z up): `_FRAMED` adds them when a convention or frame is stated
_HORIZONTAL = r"(?:u(?: value| coordinate| position| pixel)?|(?:pixel )?column(?: index)?|col(?:umn)? idx)"
_DEPTH = r"(?:depth(?: value)?|range|distance (?:from|to) the camera)"
_FRAMED_HORIZONTAL = r"(?:x(?: value| coordinate| position)?)"
_FRAMED_DEPTH = r"(?:z(?: value| coordinate)?)"
_VOLUME = r"(?:(?:bounding[- ]?box|bbox|3d) (?:volume|size)|volume)"
_LOW = r"(?:min|minimum|smallest|lowest|least|shallowest|min\.)"
_HIGH = r"(?:max|maximum|largest|highest|greatest|biggest|deepest|max\.)"
_LESS = r"(?:smaller|lower|less|shallower|lesser)"
_MORE = r"(?:larger|higher|greater|bigger|deeper)"
_ORD = r"(?P<ord>2nd|3rd|second|third)[- ]"
_PLACE = {"2nd": "second", "second": "second", "3rd": "third", "third": "third"}
_INDEX_PLACE = {"0": "first", "1": "second", "2": "third"}


def _axis_kind(axis: str) -> str:
    axis = axis.lower()
    if re.fullmatch(_VOLUME, axis):
        return "size"
    return "depth" if re.fullmatch(f"{_DEPTH}|{_FRAMED_DEPTH}", axis) else "horizontal"


_EXTREME = {("horizontal", "low"): "leftmost", ("horizontal", "high"): "rightmost", ("depth", "low"): "nearest",
            ("depth", "high"): "farthest", ("size", "low"): "smallest", ("size", "high"): "largest"}
_RELATION = {("horizontal", "less"): "left of", ("horizontal", "more"): "right of", ("depth", "less"): "in front of",
             ("depth", "more"): "behind", ("size", "less"): None, ("size", "more"): None}


def _extreme(m: "re.Match") -> str:
    kind = _axis_kind(m["axis"])
    end = "low" if re.fullmatch(_LOW, m["deg"], re.IGNORECASE) else "high"
    if m.groupdict().get("ord"):
        if kind != "horizontal":   # "the second nearest": no such count in the model; said as it was
            return m[0]
        side = "left" if end == "low" else "right"
        return f"the {_PLACE[m['ord'].lower()]} {m['noun']} from the {side}"
    return f"the {_EXTREME[kind, end]} {m['noun']}"


def _relation(m: "re.Match") -> str:
    kind = _axis_kind(m["axis"])
    more = bool(re.fullmatch(_MORE + r"|exceeds?|is greater than|is larger than|is higher than|is bigger than",
                             m["deg"], re.IGNORECASE))
    word = _RELATION[kind, "more" if more else "less"]
    return f"the {m['noun']} {word} " if word else m[0]


def _sorted(m: "re.Match") -> str:
    kind = _axis_kind(m["axis"])
    if kind != "horizontal":
        return m[0]
    down = bool(re.match(r"desc|decreas|high|large|right", m["dir"], re.IGNORECASE))
    place = _INDEX_PLACE.get(m["idx"]) if m["idx"] else _PLACE.get((m["nth"] or "").lower())
    if m["idx"] and not m["zero"]:   # "index 2" without a base: 1-based, as a person counts
        place = {"1": "first", "2": "second", "3": "third"}.get(m["idx"])
    if place is None:
        return m[0]
    side = "right" if down else "left"
    noun = _singular(m["noun"])
    if place == "first":
        return f"the {side}most {noun}"
    return f"the {place} {noun} from the {side}"


def _rules(axis: str) -> list:
    """The rules, with `axis` as the pattern that names an axis."""
    return [
        # "the mug with the smallest u", "the cup with the second-lowest column index", "the box with max z"
        (re.compile(rf"\bthe (?P<noun>{_NOUN}) (?:with|having|that has|at) (?:the |a |its )?(?:{_ORD})?(?P<deg>{_LOW}|"
                    rf"{_HIGH}) {axis}\b", re.IGNORECASE), _extreme),
        # "argmin of z over the cubes", "argmax of bounding-box volume over all mugs"
        (re.compile(rf"\barg ?(?P<deg>min|max) (?:of |over )?{axis} (?:over|across|among|amongst|of|for) (?:all )?"
                    rf"(?:the )?(?P<noun>{_NOUN})\b", re.IGNORECASE), _argext),
        # "the mug with smaller z than the box", "the cup whose pixel column index is greater than the ball's"
        (re.compile(rf"\bthe (?P<noun>{_NOUN}) (?:with|having|that has|at|(?:that|which) (?:sits|is|lies|stands) at|"
                    rf"(?:sitting|lying|located) at) (?:a |an )?(?P<deg>{_LESS}|{_MORE}) {axis} "
                    r"than (?=the )", re.IGNORECASE), _relation),
        (re.compile(rf"\bthe (?P<noun>{_NOUN}) whose {axis} (?:is )?(?P<deg>{_LESS}|{_MORE}|exceeds?|is greater than|"
                    r"is larger than|is higher than|is bigger than)(?: than)? (?=the )", re.IGNORECASE), _relation),
        # "sort the cans by x ascending and take index 1 (0-based)", "order the cups by u descending, pick the 2nd"
        (re.compile(rf"\b(?:sort|order|rank)(?:ed)? (?:the |all )?(?P<noun>{_NOUN}) by {axis},? "
                    r"(?P<dir>ascending|descending|increasing|decreasing|asc|desc|(?:from )?(?:low|high|small|large)"
                    r"(?:est)? (?:to|first)(?: (?:high|low|large|small)(?:est)?)?)\b,?(?: and| then)?,? "
                    r"(?:pick|take|grab|get|select|choose|grasp|return) (?:the )?(?:(?:element|item|entry|one) )?"
                    r"(?:(?:at )?index (?P<idx>\d)(?P<zero> ?\(?(?:0|zero)[- ]?(?:based|indexed)\)?)?|"
                    r"(?P<nth>2nd|3rd|second|third)(?: one)?)", re.IGNORECASE), _sorted),
    ]


def _singular(noun: str) -> str:
    """"mugs" -> "mug", "boxes" -> "box" (the group a sort or an argmin runs over names the object's kind)."""
    return re.sub(r"(box|ch|sh)e$", r"\1", re.sub(r"(?<=[^s])s$", "", noun))


def _argext(m: "re.Match") -> str:
    noun = _singular(m["noun"])
    kind = _axis_kind(m["axis"])
    return f"the {_EXTREME[kind, 'low' if m['deg'].lower() == 'min' else 'high']} {noun}"


_PLAIN_AXIS = rf"(?P<axis>{_VOLUME}|{_DEPTH}|{_HORIZONTAL})"
_FRAMED_AXIS = rf"(?P<axis>{_VOLUME}|{_DEPTH}|{_FRAMED_DEPTH}|{_HORIZONTAL}|{_FRAMED_HORIZONTAL})"
_RULES = _rules(_PLAIN_AXIS)
_FRAMED = _rules(_FRAMED_AXIS)


def plain_axes(text: str) -> str:
    """A phrase told in the optical or pixel frame -> the same in plain words (see the module docstring)."""
    stripped = _CONVENTION.sub("", text)
    said = stripped
    for pat, rep in _FRAMED if stripped != text else _RULES:
        said = pat.sub(rep, said)
    # the conventions go only with an axis they explain: "the cup in the image" is left to the other rules
    return said if said != stripped else text
