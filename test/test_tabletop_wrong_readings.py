"""Ordinary phrases the tabletop normaliser read with another meaning (adversarial review of the language rules).

Each case below reached the model as a different request before its fix: a negation added to the attribute the
speaker asked for ("the cup that is not red but green" -> "the cup that is not green"), a negation of a side,
a relation, a superlative or an ordinal silently dropped ("not the leftmost cup" -> "the leftmost cup"), "right
away" read as a side, a set-aside object grounded instead of the one asked for ("leave the red cup and take the
blue one" -> "the red cup"), and a plural made singular by a comma. The expected wordings are what a person
means, written by hand; a phrase the model has no wording for must be refused, never grounded as its opposite.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_tabletop_language import _assert_reads_as  # noqa: E402
from test_tabletop_language_blind import VOCAB  # noqa: E402

from grounding_node.models.tabletop.language import read_phrase  # noqa: E402


def test_not_x_but_y_asks_for_y():
    """"but" after a "not" is contrastive: "not red but green" asks for green. The except-rule read "but green"
    as "not green", so the model was asked for the cup that is NOT green (and "I'm not sure which, but the red
    cup" for the cup that is not red)."""
    _assert_reads_as({
        "the cup that is not red but green": "the green cup",
        "the cube that's not red but blue": "the blue cube",
        "not the red cup but the blue one": "the blue cup",
        "not the red cup, but the blue one": "the blue cup",
        "not the red one but the blue one": "the blue thing",
        "I'm not sure which, but the red cup": "the red cup",
    }, exact=True)


def test_the_except_but_still_excludes():
    """The except-"but" the fix above must leave alone."""
    _assert_reads_as({
        "any cup but the red one": "the cup that is not red",
        "all the cups but the red one": "all the cups that is not red",
        "grab the balls but not the blue ones": "all the balls that is not blue",
        "the ball, but not the small one": "the ball that is not small",
    }, exact=True)


@pytest.mark.parametrize("text", [
    "not the leftmost cup",
    "don't take the leftmost cup",
    "the cube that isn't the leftmost",
    "the cube not on the left",
    "the mug that is not the biggest",
    "not the second cup from the left",
    "the cube that is not the second from the left",
    "the cup that is not left of the box",
    "the cup that's not behind the box",
    "the cup that's not in front of the box",
    "the ball that's not the one on the left",
    "anything except the leftmost cube",
    "the cups except the leftmost",
])
def test_a_negated_place_or_rank_is_refused_not_grounded_as_its_opposite(text):
    """The model negates only a colour or a size; a "not" before anything else was dropped, and "not the
    leftmost cup" reached the network as "the leftmost cup": the one object the speaker excluded."""
    reading = read_phrase(text, VOCAB)
    assert reading.refusal != "", (text, reading.words)


@pytest.mark.parametrize("text,words", [
    ("not the pink mug", "the mug"),                 # an unknown attribute negated: every mug is not pink
    ("the mug that is not red", "the mug that is not red"),
    ("the leftmost mug that is not red", "the leftmost mug that is not red"),
    ("I'm not sure, maybe the red cup", "the red cup"),
])
def test_a_negated_attribute_still_reads(text, words):
    reading = read_phrase(text, VOCAB)
    assert reading.refusal == "" and " ".join(reading.words) == words, reading


def test_right_away_is_no_side():
    """"right away" / "right over there" are no side: the model read "the leftmost mug right away" with a
    stray "right" (and "away"), and "the cube right over there" as "the cube right"."""
    _assert_reads_as({
        "the leftmost mug right away": "the leftmost mug",
        "pick up the leftmost mug right away": "the leftmost mug",
        "grab the red cup right away please": "the red cup",
        "grab the cup on the right right away": "the cup on the right",
        "right away, the leftmost mug": "the leftmost mug",
        "the cube right over there": "the cube",
        "the cup right of the box right away": "the cup right of the box",
    }, exact=True)


def test_a_set_aside_object_is_not_the_one_grounded():
    """"leave/skip/ignore/forget the red cup, take the blue one": the request after the set-aside object was
    dropped as a restatement, and the model was asked for the red cup."""
    _assert_reads_as({
        "leave the red cup and take the blue one": "the blue cup",
        "leave the red cup, take the blue one": "the blue cup",
        "skip the red cup, take the blue one": "the blue cup",
        "ignore the red cup and take the blue one": "the blue cup",
        "ignore the red cup, get the blue cup": "the blue cup",
        "forget the red cup, I want the blue one": "the blue cup",
        "forget about the red cup, grab the blue one": "the blue cup",
        "don't take the red cup, take the blue one": "the blue cup",
        "leave the red cup, take the other one": "the cup that is not red",
        "I can't reach the red cup, get the blue one": "the blue cup",
    }, exact=True)
    # a "leave" that places the object is still a request for it
    _assert_reads_as({"leave the red cup on the tray": "the red cup"}, exact=True)


def test_a_comma_keeps_a_plural_plural():
    """"the cups, but not the red one" asks for every cup but the red one; it read as one cup."""
    _assert_reads_as({
        "the cups, but not the red one": "all the cups that is not red",
        "the mugs, but not the big ones": "all the mugs that is not big",
    }, exact=True)


def test_right_of_the_leftmost_other_shape_is_no_rank():
    """"the ball right of the leftmost cup" read as "the second ball from the left": with balls at x = 1 and 2
    and the leftmost cup at 5, the ball right of it is the third ball, not the second. Only an anchor of the
    target's own kind ("the cup right of the leftmost cup", "... the leftmost one") counts along that kind."""
    for said in ("the ball right of the leftmost cup", "the ball to the right of the leftmost cup",
                 "the red cube left of the rightmost ball", "the mug just right of the leftmost box",
                 "the red cup right of the leftmost cup", "the cup right of the leftmost thing"):
        reading = read_phrase(said, VOCAB)
        assert "second" not in reading.words, (said, reading.words)
    _assert_reads_as({
        "the cup right of the leftmost cup": "the second cup from the left",
        "the ball left of the rightmost one": "the second ball from the right",
        "the red cube right of the leftmost red cube": "the second red cube from the left",
    }, exact=True)


def test_cannot_is_no_shape():
    """"can't" is a modal verb, not the shape "can": "I can't see the red cup" reached the model as "can the red
    cup" (a can named first), "the robot can't reach the red cup" as "the can the red cup"."""
    _assert_reads_as({
        "I can't see the red cup": "the red cup",
        "can't you see the red cup": "the red cup",
        "you can't see the red cup?": "the red cup",
        "the robot can't reach the red cup": "the red cup",
        "I cannot find the blue ball": "the blue ball",
    }, exact=True)
    # the shape is still a shape
    _assert_reads_as({"the can you can see": "the can", "the red can, not the box": "the red can"}, exact=True)


def test_a_named_object_set_aside_after_a_comma_is_not_a_second_target():
    """"the red cube, not the box": the model only negates attributes, so "not" was dropped and it read "the red
    cube the box", two objects, the set-aside one among them."""
    _assert_reads_as({
        "the red cube, not the box": "the red cube",
        "grab the leftmost mug, not the cup": "the leftmost mug",
    }, exact=True)


def test_wait_a_second_is_no_ordinal():
    """"wait a second, grab the red cup" was refused as an ordinal the model cannot count ("a second the red
    cup"): the request was lost."""
    _assert_reads_as({
        "wait a second, grab the red cup": "the red cup",
        "hang on a second, I want the cup on the right": "the cup on the right",
        "give me a second, then grab the leftmost cup": "the leftmost cup",
        "one second, the cube on the left": "the cube on the left",
    }, exact=True)
    assert read_phrase("wait a second, grab the red cup", VOCAB).refusal == ""


def test_one_of_a_group_is_one_object():
    """"grab one of the balls" asks for one ball; it reached the model as "all the balls" (a plural request:
    every ball returned). The same for "just one of the cups", "either of the two mugs"."""
    _assert_reads_as({
        "grab one of the balls": "the ball",
        "just one of the cups": "the cup",
        "any one of the red cubes": "the red cube",
        "either of the two mugs": "the mug",
        "get me any of the blue balls": "the blue ball",
    }, exact=True)
    _assert_reads_as({
        "the second one of the mugs from the left": "the second mug from the left",
        "grab each of the balls": "all the balls",
    }, exact=True)
