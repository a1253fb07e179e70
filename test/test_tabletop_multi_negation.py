"""Two or more excluded attributes ("the cube that is neither red nor blue") are all excluded.

Found on a read of the negation rules: the model was trained on one excluded attribute per phrase ("the cube
that is not red"), and the normaliser kept the first of "neither red nor blue" and silently dropped the rest,
so a blue cube could be handed over for "the cube that is neither red nor blue". "The mug other than the red
and blue ones" was worse: it became the plural request "all the mug that is not red blue things".

One trained phrase per exclusion ("the cube that is not red", "the cube that is not blue", the minimum of
their scores) does not work: the network answers a trained negation by picking one object confidently, not by
scoring every object that is not red, so the two phrases pick different cubes (probed: 31 % of the cases
below). The model does read sets well, so the reading is a set difference, as for plural negations
(`test_tabletop_plural_negation.py`): "all the cubes" minus "all the red cubes" and "all the blue cubes",
in the frame's one batch; a singular phrase's answer is the best candidate. The probe below measures it on
randomised scenes where the first exclusion alone is ambiguous: the shape's other objects have exactly the two
excluded colours. A superlative or a relation with several exclusions is no set: it is grounded with the first
exclusion, and the others are named in the phrase's warning.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from grounding_node.models.base import BackendConfig
from grounding_node.models.registry import create_backend
from grounding_node.models.tabletop.language import read_phrase
from grounding_node.models.tabletop.processing import build_vocab
from grounding_node.sim.expressions import SHAPE_WORDS, VOCABULARY
from grounding_node.sim.scene import TabletopSim
from grounding_node.training.eval import _match

VOCAB = build_vocab(VOCABULARY)
CUBES = ("all the cubes",)
NOT_RED_BLUE = ("all the red cubes", "all the blue cubes")


@pytest.mark.parametrize("text,any_of,none_of", [
    ("the cube that is neither red nor blue", CUBES, NOT_RED_BLUE),
    ("the cube that is not red or blue", CUBES, NOT_RED_BLUE),
    ("the cube that isn't red nor blue", CUBES, NOT_RED_BLUE),
    ("the cube that is not red and not blue", CUBES, NOT_RED_BLUE),
    ("pick the cube which is neither red, nor blue", CUBES, NOT_RED_BLUE),
    ("the cube other than the red and blue ones", CUBES, NOT_RED_BLUE),
    ("the cube, not the red or the blue one", CUBES, NOT_RED_BLUE),
    ("the non-red, non-blue cube", CUBES, NOT_RED_BLUE),
    ("the cube that is not red, blue or green", CUBES, NOT_RED_BLUE + ("all the green cubes",)),
    ("the mug that's neither small nor red", ("all the mugs",), ("all the small mugs", "all the red mugs")),
    ("the large cup that is neither red nor blue", ("all the large cups",),
     ("all the large red cups", "all the large blue cups")),
    # plurals: every excluded set
    ("all the cups that are neither red nor blue", ("all the cups",), ("all the red cups", "all the blue cups")),
    ("every cup that is not red or blue", ("all the cups",), ("all the red cups", "all the blue cups")),
    ("all the cups except the red and blue ones", ("all the cups",), ("all the red cups", "all the blue cups")),
])
def test_several_exclusions_read_as_a_set_difference(text, any_of, none_of):
    r = read_phrase(text, VOCAB)
    assert (r.any_of, r.none_of, r.refusal) == (any_of, none_of, "")


def test_a_singular_reads_as_its_first_exclusion_for_a_caller_of_one_phrase():
    assert " ".join(read_phrase("the cube that is neither red nor blue", VOCAB).words) == "the cube that is not red"


def test_exclusions_that_make_no_set_are_named_in_the_warning():
    r = read_phrase("grab the leftmost cube that is not red or blue", VOCAB)
    assert (" ".join(r.words), r.any_of, r.unknown) == ("the leftmost cube that is not red", (), ("or blue",))


@pytest.mark.parametrize("text", [
    "the cube that is not red",
    "the cube that is not red and small",     # "and" across classes: not read as a second exclusion
    "the cube that is not red or the ball",
    "the red cube or the blue ball",
    "the cube left of the red or blue box",
])
def test_other_phrases_are_not_composed(text):
    r = read_phrase(text, VOCAB)
    assert (r.any_of, r.none_of) == ((), ())


@pytest.fixture(scope="module")
def cases():
    """(scene, noun, excluded colours, target) where the shape's other objects have exactly two colours,
    neither of them the target's: "not <first colour>" alone fits the target and the other colour's objects."""
    out = []
    with TabletopSim(640, 480, camera="train") as sim:
        for seed in range(2_100_000, 2_100_160):
            scene = sim.new_scene(seed, n_objects=8)
            by_shape = defaultdict(list)
            for o in scene.objects:
                by_shape[o.shape].append(o)
            for shape, objs in by_shape.items():
                for target in objs:
                    others = {o.color for o in objs if o is not target}
                    if len(others) == 2 and target.color not in others:
                        out.append((scene, SHAPE_WORDS[shape][0], tuple(sorted(others)), target))
                        break
    return out


def test_the_backend_picks_the_object_no_exclusion_fits(cases):
    backend = create_backend("tabletop", BackendConfig(device="cpu"))
    hits, first_only_hits = [], []
    for scene, noun, (c1, c2), target in cases:
        gt = np.asarray(target.box_1024)[None]
        for phrase, sink in ((f"the {noun} that is neither {c1} nor {c2}", hits),
                             (f"the {noun} that is not {c1}", first_only_hits)):
            dets = [d for d in backend.ground(scene.rgb, [phrase])[0] if d.score >= 0.3]   # shipped threshold
            sink.append(bool(dets) and _match(np.asarray(dets[0].box_1024)[None], gt) == 1)
    assert len(cases) >= 40
    # measured on these 95 cases at the shipped threshold: 0.85 (81 of 95) as a set difference; 0.37 with the
    # first exclusion alone, which is what the phrase read as before
    assert np.mean(first_only_hits) <= 0.5
    assert np.mean(hits) >= 0.8
