"""Route-like and deictic descriptions (blind set AR's register) reach the model as the generator's wording.

"Start at the box and look left: the cup there", "from the left, pass two mugs and stop at the next mug",
"look as far right as the cubes go; that one", "that ball right there": directions for the eyes, counting as
you go, pointing. The wordings here are this file's own (not the blind set's), with other fillings; each must
read as the plain wording of the same meaning (`_assert_reads_as` compares what the model reads). Phrases
without a route form pass through `route_phrase` untouched.
"""

from __future__ import annotations

import time

from test_tabletop_language import _assert_reads_as

from grounding_node.models.tabletop.language import normalize_phrase
from grounding_node.models.tabletop.routes import route_phrase


def test_pointing_words_are_not_a_side() -> None:
    """"right there" points; it is not the right side ("the mug right" was read)."""
    _assert_reads_as({
        "that red ball right there": "the red ball",
        "this small cube right here, grab it": "the small cube",
        "that can right there, the smallest of the cans": "the smallest can",
        "that blue thing right here, the biggest of the blue things": "the largest blue thing",
        "the box furthest from the camera, right there": "the farthest box",
        "that cup right there, the one that's not blue": "the cup that is not blue",
        "that ball right there, between the camera and the white box": "the ball in front of the white box",
        "the nearest yellow box, the one right in front": "the nearest yellow box",
        "that cup right up front, nearer the camera than any other cup": "the nearest cup",
    })


def test_relations_told_as_directions() -> None:
    """Start at the anchor, move the eyes one way, and the target is there: the relation to the anchor."""
    _assert_reads_as({
        "start at the red ball and look right: the cube there": "the cube right of the red ball",
        "from the green mug, move your eyes rightward; that small box": "the small box right of the green mug",
        "from the yellow cube, move your gaze to the left; that mug": "the mug left of the yellow cube",
        "find the cylinder, then go left; it's the blue cup": "the blue cup left of the cylinder",
        "from the white can, head right until you reach the ball": "the ball right of the white can",
        "from the box, head leftward until you get to the red can": "the red can left of the box",
        "from the small mug, one step toward the camera, the green ball": "the green ball in front of the small mug",
        "from the small mug, one step away from the camera, the green ball": "the green ball behind the small mug",
        "start at the blue cylinder and come toward the camera: the cube there": "the cube in front of the blue "
                                                                                 "cylinder",
        "start at the blue cylinder and go deeper: the cube there": "the cube behind the blue cylinder",
        "find the red box, then move nearer to the camera; it's the can": "the can in front of the red box",
        "find the red box, then move farther from the camera; it's the can": "the can behind the red box",
        "find the ball, then look past it, away from the camera; it's the small cup": "the small cup behind the ball",
        "look at the purple can and come forward toward me; you'll hit the cube": "the cube in front of the purple "
                                                                                   "can",
        "from the large mug, come closer to the camera and take the ball": "the ball in front of the large mug",
    })


def test_extremes_told_as_a_sweep() -> None:
    """The first one met from a side is the extreme on that side; "as far X as they go" is the extreme."""
    _assert_reads_as({
        "start at the right edge and move left; take the first cup you hit": "the rightmost cup",
        "start at the left edge and move right; take the second cup you hit": "the second cup from the left",
        "count in from the right, it's the very first blue ball you get to": "the rightmost blue ball",
        "look as far right as the red cubes go; that one": "the rightmost red cube",
        "look as far left as the objects go; that one": "the leftmost object",
        "come as close to the camera as the balls go; that one": "the nearest ball",
        "go as deep as the small boxes go; that one": "the farthest small box",
        "go as far back as the cans go; that one": "the farthest can",
        "start at the camera and move out; the first cylinder you reach": "the nearest cylinder",
        "scan from the front edge going back; the first red thing you meet": "the nearest red thing",
        "scan from the back edge toward the camera; the first cup you meet": "the farthest cup",
        "look at the blue cans and take the one farthest from the camera": "the farthest blue can",
        "look at the yellow things and take the one closest to the camera": "the nearest yellow thing",
        "go through the yellow objects one by one and keep the biggest": "the largest yellow object",
    })


def test_ordinals_told_as_counting_along_a_route() -> None:
    """Skipping n and taking the next is the (n+1)th; "one, then the next" counts too."""
    _assert_reads_as({
        "moving from the right, skip the first ball, take the next one": "the second ball from the right",
        "moving from the left, skip the first two blue cans, take the next one": "the third blue can from the left",
        "third cup you pass going leftward from the right edge": "the third cup from the right",
        "second red box you pass going rightward from the left edge": "the second red box from the left",
        "start on the right and walk left: one cube, then the next, that second one": "the second cube from the "
                                                                                        "right",
        "start at the right and count the blue mugs: one, two, three, that one": "the third blue mug from the right",
        "start at the left and count the balls: one, two, that one": "the second ball from the left",
        "from the left, pass one ball and stop at the next ball": "the second ball from the left",
        "from the right, pass two red things and stop at the next red thing": "the third red thing from the right",
    })


def test_negations_and_groups_told_as_a_sweep() -> None:
    """A scene named first ("look at each cube; ...") gives the noun to the one picked from it."""
    _assert_reads_as({
        "look at each ball; skip the green one, take the other": "the ball that is not green",
        "look at each cube; skip the large one, take the other": "the cube that is not large",
        "scan every can and pick the one that isn't coloured yellow": "the can that is not yellow",
        "scan every box and pick the one whose size isn't large": "the box that is not large",
        "go from right to left and grab each of the blue balls, all of them": "all the blue balls",
    })


def test_plain_wordings_pass_through() -> None:
    """The generator's wordings and near misses have no route form: `route_phrase` returns them as they are."""
    for text in ("the cube left of the red ball", "the second mug from the left", "the mug that is not red",
                 "the leftmost cup", "the cup on the right", "the ball to the right of the box",
                 "the red cube right of the ball", "all the mugs", "the cup on the right there",
                 "the nearest ball", "the ball in front of the box", "start at the left",
                 "the small box behind the green can", "look at the red cube", "the thing right of the ball",
                 # a single thing named first is no group to pick from; a start without a move is no walk
                 "look at the box and take the one left of it", "start at the box and look at the ball",
                 "from the box, the cup"):
        assert route_phrase(text) == text, text
    _assert_reads_as({
        "the cup on the right there": "the cup on the right",
        "look at the red cube": "the red cube",
        "the mug to the right there": "the mug to the right",
        "from the left, the second cup": "the second cup from the left",
    })


def test_long_input_is_fast() -> None:
    """No catastrophic backtracking: a long phrase normalises in well under a second."""
    text = ("start at the red ball and look " + "left and right " * 200 + "from the mug, " * 100) * 2
    t0 = time.perf_counter()
    normalize_phrase(text[:5000])
    route_phrase(text[:5000])
    assert time.perf_counter() - t0 < 1.0
