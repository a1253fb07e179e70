"""Plural negations ("all the cups except the red ones") are grounded as a set difference.

Found by probing the shipped model with a wording it never trained on: the generator's plurals are "all the
{p}" and its negations are singular ("the cup that is not red"), so "all the cups that are not red" reached the
network as a plural with a dangling negation, and it answered it like "all the cups". On 60 randomised scenes
(seeds 2,000,000 on) with two or more objects of one shape in two or more colours, the returned set was exactly
the cups that are not red in 16 of 85 cases; the red ones were picked up too. A robot told to clear everything
but the red cups would have cleared the red cups.

The model reads both halves well ("all the cups", "all the red cups"), so `read_phrase` now splits such a
phrase into phrases the model was trained on, and the backend keeps a candidate when one of the first set
scores it high and the excluded set scores it low: min(max(any_of), 1 - max(none_of)). On the same scenes that
gives the exact set in 71 of 85 cases (shape) and 48 of 59 ("everything that is not red", where the objects of
every shape are unioned: "all the objects" alone is not a phrase the model learnt, recall 0.54).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from grounding_node.models.base import BackendConfig
from grounding_node.models.registry import create_backend
from grounding_node.models.tabletop.canonical import PLURALS
from grounding_node.models.tabletop.language import SHAPE_PLURALS, read_phrase
from grounding_node.models.tabletop.processing import build_vocab
from grounding_node.sim.expressions import PLURALS as GEN_PLURALS
from grounding_node.sim.expressions import VOCABULARY
from grounding_node.sim.scene import TabletopSim
from grounding_node.training.eval import _match

VOCAB = build_vocab(VOCABULARY)
ALL_SHAPES = tuple(f"all the {p}" for p in SHAPE_PLURALS)


@pytest.mark.parametrize("text,any_of,none_of", [
    ("all the cups that are not red", ("all the cups",), ("all the red cups",)),
    ("all cups except the red ones", ("all the cups",), ("all the red cups",)),
    ("pick up all the balls except the green one", ("all the balls",), ("all the green balls",)),
    ("grab every mug that isn't small", ("all the mugs",), ("all the small mugs",)),
    ("each cube which is not yellow", ("all the cubes",), ("all the yellow cubes",)),
    ("the cups that are not red", ("all the cups",), ("all the red cups",)),
    ("all the non-red cups", ("all the cups",), ("all the red cups",)),
    ("which cups are not red?", ("all the cups",), ("all the red cups",)),
    # a kept attribute stays in both halves, the excluded word takes its class's place
    ("all the blue cubes that are not large", ("all the blue cubes",), ("all the large blue cubes",)),
    ("all the small cubes that are not red", ("all the small cubes",), ("all the small red cubes",)),
    # no shape: every shape's plural, since "all the objects" alone is not a phrase the model learnt
    ("everything that is not red", ALL_SHAPES, ("all the red objects",)),
    ("everything except the red things", ALL_SHAPES, ("all the red objects",)),
    ("all objects that aren't red", ALL_SHAPES, ("all the red objects",)),
])
def test_a_plural_negation_reads_as_a_set_difference(text, any_of, none_of):
    r = read_phrase(text, VOCAB)
    assert (r.any_of, r.none_of, r.refusal) == (any_of, none_of, "")


@pytest.mark.parametrize("text", ["the cup that is not red", "all the red cups", "all blue objects",
                                  "the cups", "every cup", "the cube that is not small"])
def test_other_phrases_are_not_composed(text):
    assert read_phrase(text, VOCAB).any_of == ()


def test_the_halves_are_wordings_the_model_reads_as_they_are():
    assert set(SHAPE_PLURALS) <= set(PLURALS) and set(SHAPE_PLURALS) <= set(GEN_PLURALS.values())
    for text in ["all the cups that are not red", "all the small cubes that are not red", "everything but red"]:
        r = read_phrase(text, VOCAB)
        for half in (*r.any_of, *r.none_of):
            assert " ".join(read_phrase(half, VOCAB).words) == half


def test_a_fine_tuned_vocabulary_is_not_composed():
    assert read_phrase("all the cups that are not red", VOCAB + ["egg"]).any_of == ()


@pytest.fixture(scope="module")
def cases():
    """(scene, plural, excluded colour, objects that should be returned) for 40 randomised scenes."""
    out = []
    with TabletopSim(640, 480, camera="train") as sim:
        for seed in range(2_000_000, 2_000_040):
            scene = sim.new_scene(seed)
            by_shape = defaultdict(list)
            for o in scene.objects:
                by_shape[o.shape].append(o)
            for shape, objs in by_shape.items():
                if len(objs) >= 2 and len({o.color for o in objs}) >= 2:
                    out.append((scene, GEN_PLURALS[shape], objs[0].color,
                                [o for o in objs if o.color != objs[0].color]))
            colour = scene.objects[0].color
            keep = [o for o in scene.objects if o.color != colour]
            if keep:
                out.append((scene, "things", colour, keep))
    return out


def test_the_backend_returns_the_set_without_the_excluded_ones(cases):
    backend = create_backend("tabletop", BackendConfig(device="cpu"))
    exact = {"shape": [], "things": []}
    excluded_picked = []
    for scene, plural, colour, keep in cases:
        phrase = f"everything except the {colour} things" if plural == "things" else \
            f"all the {plural} except the {colour} ones"
        dets = [d for d in backend.ground(scene.rgb, [phrase])[0] if d.score >= 0.3]
        pred = np.array([d.box_1024 for d in dets]).reshape(-1, 4)
        gt = np.stack([o.box_1024 for o in keep])
        m = _match(pred, gt)
        exact["things" if plural == "things" else "shape"].append(m == len(gt) == len(pred))
        excluded = np.stack([o.box_1024 for o in scene.objects if o.color == colour])
        excluded_picked.append(_match(pred, excluded) > 0)
    # measured at the shipped threshold: 0.84 / 0.81 exact on the probe's 60 scenes; before, 0.19 (shape)
    assert len(exact["shape"]) >= 40 and np.mean(exact["shape"]) >= 0.7
    assert np.mean(exact["things"]) >= 0.7
    assert np.mean(excluded_picked) <= 0.1
