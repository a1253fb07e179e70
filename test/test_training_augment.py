"""Photometric training augmentation (`training/augment.py`): checked against the robustness bench's own
perturbations (written separately, as the conditions a camera produces) and the backend's inference path."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from robustness_tabletop import brightness, colour_cast, gamma  # noqa: E402

from grounding_node.models.tabletop.processing import PAD_VALUE, Letterbox, normalize_exposure  # noqa: E402
from grounding_node.training import augment as aug  # noqa: E402


def _frame(rng, bars: int = 30, w: int = 320, h: int = 240) -> np.ndarray:
    """A 16:9 training frame letterboxed into 320x240 (bars rows of pad grey above and below); the picture
    is bright enough (max channel's 99th percentile well above the lift threshold) to be left unlifted."""
    img = np.full((h, w, 3), PAD_VALUE, np.uint8)
    img[bars:h - bars] = rng.integers(20, 250, (h - 2 * bars, w, 3))
    img[bars, :5] = PAD_VALUE   # a picture row may hold pad-grey pixels; only whole rows are bars
    return img


@pytest.mark.parametrize("k", [0.6, 1.8])
def test_exposure_matches_the_bench_brightness(k):
    img = _frame(np.random.default_rng(1))
    out = aug.apply_response(img, aug.CameraResponse(exposure=k))
    ref = brightness(img, k)
    assert np.array_equal(out[30:210], ref[30:210])
    assert np.all(out[:30] == PAD_VALUE) and np.all(out[210:] == PAD_VALUE)


@pytest.mark.parametrize("g", [0.6, 1.6])
def test_gamma_matches_the_bench_gamma(g):
    img = _frame(np.random.default_rng(2))
    out = aug.apply_response(img, aug.CameraResponse(gamma=g))
    inner = out[30:210]
    ref = gamma(img, g)[30:210]
    # gamma 1.6 darkens: the backend then lifts the frame exactly when `normalize_exposure` would
    lifted, gain = normalize_exposure(gamma(img, g), Letterbox((320, 180), (320, 240), 320, 180, 0, 30))
    assert np.array_equal(inner, lifted[30:210])
    if gain == 1.0:
        assert np.array_equal(inner, ref)


def test_white_balance_matches_the_bench_colour_cast():
    img = _frame(np.random.default_rng(3))
    out = aug.apply_response(img, aug.CameraResponse(white_balance=(1.25, 1.0, 0.8)))
    assert np.array_equal(out[30:210], colour_cast(img)[30:210])
    assert np.all(out[:30] == PAD_VALUE)


def test_combined_response_is_gain_clip_then_gamma():
    """Sensor order: linear gains on the signal, clipped at full scale, then the tone curve."""
    img = _frame(np.random.default_rng(4))
    r = aug.CameraResponse(exposure=1.5, white_balance=(0.8, 1.0, 1.3), gamma=0.7)
    out = aug.apply_response(img, r).astype(int)
    v = img[30:210].astype(np.float64)
    expect = np.round(255 * np.clip(v * 1.5 * np.array([0.8, 1.0, 1.3]) / 255, 0, 1) ** 0.7)
    assert np.array_equal(out[30:210], expect.astype(int))


def test_a_darkened_frame_is_lifted_as_at_inference():
    img = _frame(np.random.default_rng(5))
    out = aug.apply_response(img, aug.CameraResponse(exposure=0.3))
    dark = img.copy()
    dark[30:210] = brightness(img, 0.3)[30:210]   # the camera darkens the picture, not the backend's bars
    expect, gain = normalize_exposure(dark, Letterbox((320, 180), (320, 240), 320, 180, 0, 30))
    assert gain > 1.0
    assert np.array_equal(out, expect)


def test_picture_area_of_framed_and_full_frames():
    rng = np.random.default_rng(6)
    lb = aug.picture_area(_frame(rng))
    assert (lb.x0, lb.y0, lb.w, lb.h) == (0, 30, 320, 180)
    full = rng.integers(0, 255, (240, 320, 3)).astype(np.uint8)
    lb = aug.picture_area(full)
    assert (lb.x0, lb.y0, lb.w, lb.h) == (0, 0, 320, 240)
    pillar = np.full((240, 424, 3), PAD_VALUE, np.uint8)
    pillar[:, 52:372] = rng.integers(0, 255, (240, 320, 3))
    lb = aug.picture_area(pillar)
    assert (lb.x0, lb.y0, lb.w, lb.h) == (52, 0, 320, 240)


def test_probability_zero_draws_nothing_and_returns_the_frame():
    img = _frame(np.random.default_rng(7))
    rng = np.random.default_rng(8)
    state = rng.bit_generator.state
    assert aug.augment(img, rng, 0.0) is img
    assert rng.bit_generator.state == state


def test_random_responses_stay_in_their_ranges_and_cover_them():
    rng = np.random.default_rng(9)
    rs = [aug.random_response(rng) for _ in range(2000)]
    e = np.array([r.exposure for r in rs])
    g = np.array([r.gamma for r in rs])
    wb = np.array([r.white_balance for r in rs])
    assert aug.EXPOSURE_RANGE[0] <= e.min() and e.max() <= aug.EXPOSURE_RANGE[1]
    assert aug.GAMMA_RANGE[0] <= g.min() and g.max() <= aug.GAMMA_RANGE[1]
    assert np.all(wb[:, 1] == 1.0)
    assert aug.WHITE_BALANCE_RANGE[0] <= wb[:, [0, 2]].min() and wb[:, [0, 2]].max() <= aug.WHITE_BALANCE_RANGE[1]
    # log-uniform: the median is the geometric mean of the range's ends (within sampling error)
    assert np.median(e) == pytest.approx(np.sqrt(np.prod(aug.EXPOSURE_RANGE)), rel=0.05)
    assert (e < 0.5).any() and (e > 1.8).any()


def test_train_cli_refuses_a_probability_outside_0_1(capsys):
    from grounding_node.training.train import main
    with pytest.raises(SystemExit):
        main(["--photometric", "1.5", "--steps", "1", "--scenes", "1"])
    assert "--photometric is a probability" in capsys.readouterr().err
