"""The tabletop model on under-exposed frames (bench/robustness_tabletop.py, docs/bench/robustness.md).

The shipped model saw no exposure augmentation: rendered frames at x0.4 brightness lost 13 points of
Acc@0.5 (49 phrases lost, 8 gained, 60 scenes). The frames that lost were darker than ~99% of the training
frames (their 99th percentile of the per-pixel max channel below ~90 on the network input), so the backend
lifts only such frames back into the range training saw (`processing.normalize_exposure`). These tests
grade through the evaluation's own `score_scene` (the node's `ground_frame`, rendered depth and K).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from grounding_node.grounding.types import GroundingSettings
from grounding_node.models.base import BackendConfig
from grounding_node.models.registry import create_backend
from grounding_node.models.tabletop.processing import (
    EXPOSURE_DARK_P99,
    EXPOSURE_MAX_GAIN,
    EXPOSURE_TARGET_P99,
    PAD_VALUE,
    Letterbox,
    letterbox_uint8,
    normalize_exposure,
)
from grounding_node.sim.expressions import TYPES
from grounding_node.sim.scene import TabletopSim
from grounding_node.training.eval import Tally, expressions_for, score_scene

# Bench seeds (3,000,000 on, none of them a model-card scene) whose x0.4 frame lost 4-5 phrases each.
DARK_LOSERS = (3_000_014, 3_000_019, 3_000_043, 3_000_048)


def _darker(rgb: np.ndarray, k: float) -> np.ndarray:
    return np.clip(np.round(rgb.astype(np.float64) * k), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def backend():
    return create_backend("tabletop", BackendConfig(device="cpu"))


@pytest.fixture(scope="module")
def scenes():
    with TabletopSim(640, 480, camera="train") as sim:
        return [sim.new_scene(s) for s in DARK_LOSERS]


def _hits(backend, scene, rgb) -> list:
    settings = GroundingSettings(score_threshold=0.3, max_objects_per_phrase=10)
    tally = Tally()
    exprs = expressions_for(scene, scene.seed, "train")
    score_scene(backend, dataclasses.replace(scene, rgb=rgb), exprs, settings, 0.3, [tally])
    return [h for t in TYPES for h in tally.hits.get(t, [])]


def test_underexposed_frames_ground_like_the_clean_ones(backend, scenes):
    """Before the fix these four x0.4 frames lost 18 of the 23 phrases their clean frames got right."""
    lost, right = 0, 0
    for scene in scenes:
        clean, dark = _hits(backend, scene, scene.rgb), _hits(backend, scene, _darker(scene.rgb, 0.4))
        right += sum(clean)
        lost += sum(1 for c, d in zip(clean, dark) if c and not d)
    assert right >= 18
    assert lost <= 2, f"{lost} of {right} phrases right on the clean frames are lost at x0.4 brightness"


def test_frames_in_the_training_range_are_not_touched(scenes):
    """The clean renders (and the x0.6 ones) are within what training saw: returned as they are."""
    for scene in scenes:
        for rgb in (scene.rgb, _darker(scene.rgb, 0.6)):
            img, lb = letterbox_uint8(rgb, (320, 240))
            inner = img[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w]
            if np.percentile(inner.max(axis=2), 99, method="inverted_cdf") < EXPOSURE_DARK_P99:
                continue   # (x0.6 of a dim scene can be darker than training: not this test's case)
            out, gain = normalize_exposure(img, lb)
            assert gain == 1.0 and out is img


def test_a_dark_frame_is_lifted_to_the_training_white_point():
    """Content whose 99th percentile (max channel) is 45 gets gain target/45; the 0.5 % speculars at
    200 clip at 255; the letterbox bars stay grey."""
    h, w = 180, 320
    content = np.full((h, w, 3), 45, np.uint8)
    content[..., 2] = 30                                 # blue below the max channel
    ys, xs = np.unravel_index(np.arange(0, h * w, 200), (h, w))   # every 200th pixel: 0.5 %
    content[ys, xs] = 200
    lb = Letterbox.fit((w, h), (320, 240))
    img = np.full((240, 320, 3), PAD_VALUE, np.uint8)
    img[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w] = content
    out, gain = normalize_exposure(img, lb)
    assert gain == pytest.approx(EXPOSURE_TARGET_P99 / 45.0)
    inner = out[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w]
    assert inner[1, 1].tolist() == [round(45 * gain), round(45 * gain), round(30 * gain)]
    assert (inner[ys, xs] == 255).all()
    assert (out[:lb.y0] == PAD_VALUE).all() and (out[lb.y0 + lb.h:] == PAD_VALUE).all()


def test_gain_is_capped_and_a_black_frame_is_left_alone():
    lb = Letterbox.fit((320, 240), (320, 240))
    black = np.zeros((240, 320, 3), np.uint8)
    out, gain = normalize_exposure(black, lb)
    assert gain == 1.0 and (out == 0).all()
    dim = np.full((240, 320, 3), 5, np.uint8)
    out, gain = normalize_exposure(dim, lb)
    assert gain == EXPOSURE_MAX_GAIN and (out == round(5 * EXPOSURE_MAX_GAIN)).all()


def test_the_callers_frame_is_not_modified(backend, scenes):
    """A frame at the network's size is letterboxed without a copy: lifting it must not write into it."""
    import cv2

    small = cv2.resize(scenes[0].rgb, (320, 240), interpolation=cv2.INTER_AREA)
    dark = _darker(small, 0.3)
    before = dark.copy()
    backend.ground(dark, ["the leftmost thing"])
    np.testing.assert_array_equal(dark, before)


@pytest.mark.parametrize("kind", ["black", "lens cap"])
def test_black_or_lens_cap_frames_find_nothing(backend, kind):
    """Lifting a dark frame must not turn sensor noise into objects."""
    rng = np.random.default_rng(1)
    rgb = np.zeros((480, 640, 3), np.uint8) if kind == "black" else \
        np.clip(np.round(rng.normal(3, 2, (480, 640, 3))), 0, 255).astype(np.uint8)
    out = backend.ground(rgb, ["the red cube", "the objects", "the leftmost thing"])
    assert all(d.score < 0.3 for dets in out for d in dets), [[round(d.score, 3) for d in x] for x in out]


def test_on_for_the_shipped_checkpoint_off_for_others_and_the_option_overrides(tmp_path):
    """The thresholds describe the shipped checkpoint's training frames: a fine-tuned checkpoint (here a copy
    at another path) may have been trained on dark frames as they are, so it is off there unless asked for;
    a string "false" from YAML or ROS parameters turns it off (it is not a truthy string)."""
    import shutil

    from grounding_node.models.tabletop.backend import DEFAULT_CHECKPOINT

    copy = tmp_path / "tabletop.pt"
    shutil.copy(DEFAULT_CHECKPOINT, copy)
    make = lambda **kw: create_backend("tabletop", BackendConfig(device="cpu", **kw))  # noqa: E731
    assert make().normalize_exposure is True
    assert make(extra={"normalize_exposure": "false"}).normalize_exposure is False
    assert make(extra={"normalize_exposure": False}).normalize_exposure is False
    assert make(model=str(copy)).normalize_exposure is False
    assert make(model=str(tmp_path), extra={"normalize_exposure": "true"}).normalize_exposure is True
