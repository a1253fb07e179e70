"""Comparison, quantifier and degree phrasing (blind set AS) reaches the model as the generator's wording.

The wordings here are this file's own, with other fillings than the blind set's (other colours, shapes and
sizes). Each must read as the plain wording it means; the generator's wordings and near misses (a count of
another kind of object, an exclusion that names no attribute) must pass through `plain_comparison` untouched.
"""

from __future__ import annotations

import time

import pytest
from test_tabletop_language import _assert_reads_as

from grounding_node.models.tabletop.comparisons import plain_comparison


def test_relations_said_as_a_comparison_with_the_anchor():
    """"less distant from the camera than the box", and the anchor as the subject: "the cube with the ball
    farther from the camera than it" = the cube in front of the ball."""
    _assert_reads_as({
        "the red ball less distant from the camera than the small box": "the red ball in front of the small box",
        "the can that is less distant from me than the yellow mug": "the can in front of the yellow mug",
        "the cube with the green ball farther from the camera than it": "the cube in front of the green ball",
        "the small can with the red cube closer to the camera than it is": "the small can behind the red cube",
        "the ball with the box further away from the camera than it": "the ball in front of the box",
        "the mug with the large cube nearer to the camera than it": "the mug behind the large cube",
        "the box with the mug more distant from the camera than it": "the box in front of the mug",
        "the cylinder with the ball less distant from the camera than it": "the cylinder behind the ball",
        "the cup that the blue box is farther from the camera than": "the cup in front of the blue box",
        "the cup that the blue box is closer to the camera than": "the cup behind the blue box",
    })


def test_extremes_said_with_no_or_every_other():
    """"with no cup further to its left" = the leftmost; "that every other ball is to the left of" = the
    rightmost; "that all the other boxes are larger than" = the smallest; "that no other block exceeds in
    size" = the largest."""
    _assert_reads_as({
        "the blue block with no blue block further to its right": "the rightmost blue block",
        "the cup with no other cup farther to its left": "the leftmost cup",
        "the ball that every other ball is to the left of": "the rightmost ball",
        "the sphere that each other sphere is to the right of": "the leftmost sphere",
        "the yellow cube that every other yellow cube is in front of": "the farthest yellow cube",
        "the can that all the other cans are behind": "the nearest can",
        "the red box that all the other red boxes are larger than": "the smallest red box",
        "the big can that all of the other big cans are smaller than": "the largest big can",
        "the sphere that every other sphere is closer to the camera than": "the farthest sphere",
        "the cube that no other cube is farther from the camera than": "the farthest cube",
        "the cube that no other cube is closer to the camera than": "the nearest cube",
        "the block that no other block exceeds in size": "the largest block",
        "the ball that every other ball exceeds in size": "the smallest ball",
        "the green mug that all the other green mugs exceed in size": "the smallest green mug",
        # a generic "one" takes its noun from the others, or from the group said before it
        "of all the cups, the one with no cup further to its left": "the leftmost cup",
        "the one that every other red ball is behind": "the nearest red ball",
    })


def test_extremes_said_as_degree():
    """"least distant from the camera", "of greatest size", "beating all the others for size", "outdone in size
    by all the others"."""
    _assert_reads_as({
        "the blue cube least distant from the camera": "the nearest blue cube",
        "the box least close to the camera": "the farthest box",
        "of all the cans, the one of greatest size": "the largest can",
        "of all the red balls, the one of least size": "the smallest red ball",
        "the big ball beating all the others for closeness to the camera": "the nearest big ball",
        "the cup beating all the others for distance from the camera": "the farthest cup",
        "the green can beating all the others for size": "the largest green can",
        "the ball that beats every other ball for how close it is to the camera": "the nearest ball",
        "the cube outdoing all the others for how far right it is": "the rightmost cube",
        "the cup that is outdone in size by all the others": "the smallest cup",
        "the yellow thing that is beaten in size by every other yellow thing": "the smallest yellow thing",
        "the can that is outdone in closeness to the camera by all the others": "the farthest can",
    })


def test_places_said_as_a_count_of_the_others():
    """"with precisely one can lying further left" = the second can from the left; "two and only two"."""
    _assert_reads_as({
        "the cube that has just one other cube further right than it": "the second cube from the right",
        "the red ball that has a single red ball to its right and no more": "the second red ball from the right",
        "pick up the can with precisely one can lying further left": "the second can from the left",
        "the box that has two boxes further right than it": "the third box from the right",
        "the blue mug that has precisely two other blue mugs to its right": "the third blue mug from the right",
        "grab the ball with two and only two balls further left": "the third ball from the left",
        "among the blue cubes, the one that has just one blue cube to its right": "the second blue cube from the right",
    })


def test_negation_said_as_an_exclusion():
    """"the ball, excluding the blue one" = the ball that is not blue."""
    _assert_reads_as({
        "the ball, excluding the blue one": "the ball that is not blue",
        "the cube, excluding the large one": "the cube that is not large",
        "the can, with the exception of the green one": "the can that is not green",
        "the box, save for the small one": "the box that is not small",
        "the cup excluding the red mug": "the cup that is not red",
        "all the balls, excluding the yellow ones": "all the balls except the yellow ones",
    })


@pytest.mark.parametrize("text", [
    "the leftmost mug", "the second cube from the left", "the red cube left of the ball", "the mug that is not red",
    "all the balls", "the cup with the box on its right", "the mug closer to the camera than the box",
    "the largest green can", "the can that is farther away than the box",
    "the mug with one cube to its left",             # a count of other objects: no place among the mugs
    "the cube with no ball further to its left",     # the same: not the leftmost cube
    "the ball that every other cube is to the left of",
    "the ball, excluding the box",                   # excludes an object, not an attribute
    "the box that has two handles", "the cup beating the box for size",
    "the mug that has three mugs to its left",       # no fourth place in the model
])
def test_near_misses_pass_untouched(text):
    assert plain_comparison(text) == text


def test_a_long_input_stays_fast():
    """No rule backtracks catastrophically on a long run of the forms' own words."""
    words = ("the mug with no other mug further to its left that every other all the others beating for size "
             "less distant from the camera than it excluding the red one has just one two and only ")
    text = (words * 40)[:5000]
    start = time.perf_counter()
    plain_comparison(text)
    assert time.perf_counter() - start < 0.5
