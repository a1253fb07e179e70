"""The shipped tabletop checkpoint through the registry: real grounding on a held-out sim scene."""

from __future__ import annotations

import time

import numpy as np
import pytest

from grounding_node.geometry.boxes import box_iou
from grounding_node.models.base import BackendConfig
from grounding_node.models.registry import create_backend
from grounding_node.models.tabletop.backend import DEFAULT_CHECKPOINT
from grounding_node.sim.expressions import generate
from grounding_node.sim.scene import TabletopSim


@pytest.fixture(scope="module")
def backend():
    t0 = time.perf_counter()
    b = create_backend("tabletop", BackendConfig(device="cpu"))
    b.load_seconds = time.perf_counter() - t0
    return b


@pytest.fixture(scope="module")
def scenes():
    with TabletopSim(640, 480) as sim:
        return [sim.new_scene(3_000_000 + k) for k in range(6)]


def test_checkpoint_is_small_and_loads(backend):
    assert DEFAULT_CHECKPOINT.stat().st_size <= 20 * 1024 * 1024
    assert backend.describe() == "tabletop:tabletop.pt"


def test_attribute_phrases_hit_their_objects(backend, scenes):
    rng = np.random.default_rng(0)
    hits = []
    for scene in scenes:
        for _ in range(3):
            expr = generate(scene, rng, "attribute")
            (dets,) = backend.ground(scene.rgb, [expr.text])
            gt = scene.objects[expr.targets[0]].box_1024
            hits.append(bool(dets) and box_iou(np.array(dets[0].box_1024)[None], gt[None])[0, 0] >= 0.5)
    assert np.mean(hits) >= 0.8, hits


def test_output_format_and_several_phrases_in_one_call(backend, scenes):
    scene = scenes[0]
    phrases = ["the red cube", "all blue objects", "the ball left of the green box", "the purple giraffe"]
    out = backend.ground(scene.rgb, phrases)
    assert len(out) == len(phrases)
    for dets in out:
        scores = [d.score for d in dets]
        assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
        for d in dets:
            x0, y0, x1, y1 = d.box_1024
            assert 0 <= x0 <= x1 <= 1024 and 0 <= y0 <= y1 <= 1024
    # one phrase alone gives the same answer as inside a batch
    alone = backend.ground(scene.rgb, [phrases[1]])[0]
    np.testing.assert_allclose([d.score for d in alone], [d.score for d in out[1]], atol=1e-5)


def test_empty_phrase_list_and_odd_image_sizes(backend, scenes):
    assert backend.ground(scenes[0].rgb, []) == []
    for shape in ((37, 51, 3), (720, 1280, 3)):
        out = backend.ground(np.zeros(shape, np.uint8), ["the red cube"])
        assert len(out) == 1
    with pytest.raises(ValueError):
        backend.ground(np.zeros((10, 10), np.uint8), ["x"])
