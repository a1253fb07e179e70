"""Aligned depth as a model input (`TabletopConfig.depth_tokens`): what is measured per box, how a frame's
depth reaches the network, and that bad depth never breaks grounding (it grounds as without depth).

Expected values are computed here from the pinhole model, not read back from the code under test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grounding_node.geometry.camera import Intrinsics
from grounding_node.grounding.pipeline import ground_frame, model_depth
from grounding_node.grounding.types import Frame, GroundingSettings
from grounding_node.models.base import BackendConfig, DepthInput, Detection, GroundingBackend
from grounding_node.models.tabletop.processing import (
    depth_features,
    letterbox_depth,
    letterbox_uint8,
)

# -- what is measured per box ----------------------------------------------------------------------

def test_depth_features_are_the_pinhole_depth_and_metric_size_of_the_box():
    """A plane at 0.8 m, focal 200 px on a 320x240 input: a box 80 x 24 px is 0.32 x 0.096 m there."""
    depth = np.full((240, 320), 0.8, np.float32)
    boxes = np.array([[0.5, 0.5, 80 / 320, 24 / 240]])
    got = depth_features(depth, boxes, focal=200.0)
    want = [1.0, math.log(0.8), math.log(10 * 80 * 0.8 / 200), math.log(10 * 24 * 0.8 / 200)]
    np.testing.assert_allclose(got[0], want, rtol=0, atol=1e-5)


def test_depth_is_the_median_of_the_central_half_not_the_background_around_the_object():
    """The table (2 m) fills the box's border; the object (0.5 m) its central half: the object's depth wins,
    as in the node's 3D estimate (roi_fraction 0.5)."""
    depth = np.full((240, 320), 2.0, np.float32)
    depth[100:140, 140:180] = 0.5           # the central half of a 80x80 box at (160, 120)
    got = depth_features(depth, np.array([[0.5, 0.5, 80 / 320, 80 / 240]]), focal=300.0)
    assert got[0, 1] == pytest.approx(math.log(0.5), abs=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0, 0.0, 1e9, 25.0])
def test_a_box_without_a_valid_reading_gets_the_colour_only_zeros(bad):
    depth = np.full((240, 320), 0.9, np.float32)
    depth[60:180, 80:240] = bad
    got = depth_features(depth, np.array([[0.5, 0.5, 0.4, 0.6], [0.1, 0.1, 0.1, 0.1]]), focal=250.0)
    np.testing.assert_array_equal(got[0], np.zeros(4, np.float32))
    assert got[1, 0] == 1.0 and got[1, 1] == pytest.approx(math.log(0.9), abs=1e-6)


def test_invalid_readings_are_skipped_not_averaged_in():
    """Half the central region has no reading (NaN), the other half 1.2 m: the depth is 1.2 m."""
    depth = np.full((240, 320), 1.2, np.float32)
    depth[:, :160] = np.nan
    got = depth_features(depth, np.array([[0.5, 0.5, 0.2, 0.2]]), focal=250.0)
    assert got[0, 1] == pytest.approx(math.log(1.2), abs=1e-6)


@pytest.mark.parametrize("focal", [0.0, -5.0, np.nan, np.inf])
def test_a_bad_focal_length_gives_zeros(focal):
    depth = np.full((240, 320), 0.9, np.float32)
    assert not depth_features(depth, np.array([[0.5, 0.5, 0.2, 0.2]]), focal=focal).any()


@pytest.mark.parametrize("focal", [1e30, 1e-9])
def test_a_wild_but_finite_focal_length_gives_bounded_sizes(focal):
    """A CameraInfo with fy = 1e30 passes `is_valid`; the sizes it implies are clipped to 1 mm..10 m."""
    depth = np.full((240, 320), 0.9, np.float32)
    got = depth_features(depth, np.array([[0.5, 0.5, 0.2, 0.2]]), focal=focal)
    assert np.isfinite(got).all()
    assert math.log(10 * 1e-3) - 1e-6 <= got[0, 2] <= math.log(10 * 10.0) + 1e-6


def test_boxes_off_the_image_and_no_boxes_do_not_raise():
    depth = np.full((240, 320), 0.7, np.float32)
    got = depth_features(depth, np.array([[1.2, -0.3, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]]), focal=200.0)
    assert got.shape == (2, 4) and np.isfinite(got).all()
    assert depth_features(depth, np.zeros((0, 4)), focal=200.0).shape == (0, 4)


# -- how a frame's depth reaches the network -----------------------------------------------------------

def test_depth_is_letterboxed_like_the_colour_frame_nearest_neighbour_with_empty_bars():
    rgb = np.zeros((720, 1280, 3), np.uint8)
    depth = np.full((720, 1280), 500, np.uint16)
    depth[:, 640:] = 1500                   # a sharp edge: nearest-neighbour invents no value between
    out, lb = letterbox_depth(depth, (320, 240))
    _, lb_rgb = letterbox_uint8(rgb, (320, 240))
    assert (lb.x0, lb.y0, lb.w, lb.h) == (lb_rgb.x0, lb_rgb.y0, lb_rgb.w, lb_rgb.h) == (0, 30, 320, 180)
    assert set(np.unique(out[30:210])) == {500, 1500}
    assert not out[:30].any() and not out[210:].any()          # bars: no reading
    half, lb_half = letterbox_depth(depth[::2, ::2], (320, 240))   # registered depth at half resolution
    assert (lb_half.x0, lb_half.y0, lb_half.w, lb_half.h) == (0, 30, 320, 180)
    assert (half != out).mean() < 0.01


class _Recorder(GroundingBackend):
    name = "recorder"
    reads_depth = True

    def load(self) -> None:
        pass

    def ground(self, rgb, phrases, depth=None):
        self.depth = depth
        return [[Detection((0.0, 0.0, 512.0, 512.0), 0.9)] for _ in phrases]


class _ColourOnly(GroundingBackend):
    """A backend written before depth existed: `ground(rgb, phrases)` only."""

    name = "colour"

    def load(self) -> None:
        pass

    def ground(self, rgb, phrases):
        return [[Detection((0.0, 0.0, 512.0, 512.0), 0.9)] for _ in phrases]


def _frame(depth=True, intrinsics=True, k_size=(1280, 720)):
    rgb = np.zeros((360, 640, 3), np.uint8)
    intr = Intrinsics(fx=900.0, fy=910.0, cx=639.5, cy=359.5, width=k_size[0], height=k_size[1]) if intrinsics else None
    return Frame(rgb=rgb, depth=np.full((360, 640), 800, np.uint16) if depth else None, depth_encoding="16UC1",
                 intrinsics=intr)


def test_the_pipeline_passes_depth_with_the_focal_length_of_the_colour_frame():
    """CameraInfo for 1280x720 and a 640x360 colour frame: fy is halved to the frame's pixels."""
    backend = _Recorder()
    settings = GroundingSettings(depth_scale=0.002, min_depth=0.2, max_depth=4.0)
    ground_frame(backend, _frame(), ["a"], settings)
    d = backend.depth
    assert isinstance(d, DepthInput) and d.encoding == "16UC1" and d.raw.shape == (360, 640)
    assert d.fy == pytest.approx(455.0)
    assert (d.depth_scale, d.min_depth, d.max_depth) == (0.002, 0.2, 4.0)


@pytest.mark.parametrize("case", ["no depth", "no intrinsics", "zero K", "setting off"])
def test_no_usable_depth_means_a_colour_only_call(case):
    frame = _frame(depth=case != "no depth", intrinsics=case != "no intrinsics")
    if case == "zero K":
        frame.intrinsics = Intrinsics(fx=0.0, fy=0.0, cx=0.0, cy=0.0, width=640, height=360)
    settings = GroundingSettings(depth_for_grounding=case != "setting off")
    backend = _Recorder()
    ground_frame(backend, frame, ["a"], settings)
    assert backend.depth is None
    assert model_depth(backend, frame, settings) is None


@pytest.mark.parametrize("depth,encoding,why", [
    (np.full((480, 480), 800, np.uint16), "16UC1", "another aspect ratio"),
    (np.full((360, 640, 3), 800, np.uint16), "16UC1", "not a 2D image"),
    (np.full((360, 640), 800, np.uint16), "rgb8", "encoding 'rgb8'"),
])
def test_depth_that_cannot_be_registered_is_not_passed_and_the_result_says_why(depth, encoding, why):
    frame = _frame()
    frame.depth, frame.depth_encoding = depth, encoding
    warnings = []
    assert model_depth(_Recorder(), frame, GroundingSettings(), warnings) is None
    assert len(warnings) == 1 and why in warnings[0] and "colour only" in warnings[0], warnings
    if depth.ndim == 2 and encoding == "16UC1":   # what the 3D geometry also accepts: through the pipeline
        backend = _Recorder()
        result = ground_frame(backend, frame, ["a"], GroundingSettings())
        assert backend.depth is None and warnings[0] in result.warnings


def test_registered_depth_at_half_resolution_is_passed_without_a_warning():
    frame = _frame()
    frame.depth = np.full((180, 320), 800, np.uint16)
    backend = _Recorder()
    result = ground_frame(backend, frame, ["a"], GroundingSettings())
    assert backend.depth is not None and not any("colour only" in w for w in result.warnings)


def test_backends_that_do_not_read_depth_are_called_as_before():
    result = ground_frame(_ColourOnly(), _frame(), ["a", "b"], GroundingSettings())
    assert len(result.objects) == 2


# -- the tabletop backend with a depth-reading checkpoint ----------------------------------------------

@pytest.fixture(scope="module")
def depth_backend(tmp_path_factory):
    """A random-weight `depth_tokens` checkpoint whose depth projection is not zero (so depth matters),
    with every detector peak kept as a candidate."""
    from grounding_node.models.tabletop.backend import TabletopBackend
    from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
    from grounding_node.models.tabletop.processing import build_vocab
    from grounding_node.sim.expressions import VOCABULARY
    from grounding_node.training.train import save

    torch.manual_seed(0)
    cfg = TabletopConfig(vocab=build_vocab(VOCABULARY), depth_tokens=True)
    model = TabletopGrounder(cfg).eval()
    torch.nn.init.normal_(model.depth_proj.weight, std=1.0)
    path = tmp_path_factory.mktemp("depth") / "depth.pt"
    save(model, cfg, path, {})
    backend = TabletopBackend(BackendConfig(model=str(path), device="cpu", extra={"candidate_threshold": 0.0}))
    backend.load()
    assert backend.reads_depth
    return backend


def _scene_rgb_depth():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:480, 0:640]
    depth = (600 + 0.8 * xx + 0.5 * yy).astype(np.uint16)      # a tilted table, 0.6-1.35 m
    return rgb, depth


def _scores(backend, rgb, depth=None):
    out = backend.ground(rgb, ["the red cube", "the largest ball"], depth=depth)
    return np.array([[d.score for d in sorted(dets, key=lambda d: d.box_1024)] for dets in out])


def test_depth_changes_what_a_depth_reading_checkpoint_scores(depth_backend):
    rgb, depth = _scene_rgb_depth()
    without = _scores(depth_backend, rgb)
    with_depth = _scores(depth_backend, rgb, DepthInput(depth, "16UC1", fy=500.0))
    assert without.shape == with_depth.shape and without.shape[1] > 0
    assert np.abs(without - with_depth).max() > 1e-3


def test_half_resolution_registered_depth_reads_like_full_resolution(depth_backend):
    rgb, depth = _scene_rgb_depth()
    full = _scores(depth_backend, rgb, DepthInput(depth, "16UC1", fy=500.0))
    half = _scores(depth_backend, rgb, DepthInput(depth[::2, ::2], "16UC1", fy=500.0))
    np.testing.assert_allclose(full, half, atol=0.02)
    metres = _scores(depth_backend, rgb, DepthInput(depth.astype(np.float32) / 1000, "32FC1", fy=500.0))
    np.testing.assert_allclose(full, metres, atol=1e-5)


@pytest.mark.parametrize("case", ["all invalid", "all nan", "other aspect", "3d array", "bad encoding", "nan fy",
                                  "empty", "out of range"])
def test_unusable_depth_grounds_exactly_as_without_depth(depth_backend, case):
    rgb, depth = _scene_rgb_depth()
    bad = {
        "all invalid": DepthInput(np.zeros_like(depth), "16UC1", fy=500.0),
        "all nan": DepthInput(np.full(depth.shape, np.nan, np.float32), "32FC1", fy=500.0),
        "other aspect": DepthInput(np.full((100, 100), 800, np.uint16), "16UC1", fy=500.0),
        "3d array": DepthInput(np.zeros((480, 640, 3), np.uint16), "16UC1", fy=500.0),
        "bad encoding": DepthInput(depth, "rgb8", fy=500.0),
        "nan fy": DepthInput(depth, "16UC1", fy=float("nan")),
        "empty": DepthInput(np.zeros((0, 0), np.uint16), "16UC1", fy=500.0),
        "out of range": DepthInput(depth, "16UC1", fy=500.0, min_depth=5.0, max_depth=10.0),
    }[case]
    np.testing.assert_array_equal(_scores(depth_backend, rgb, bad), _scores(depth_backend, rgb))


def test_upgrading_a_trained_model_with_depth_changes_nothing_until_it_trains(tmp_path):
    """`--depth-tokens` on an --init checkpoint: the new projection starts at zero, so scores with depth are
    those of the original model without it."""
    from grounding_node.models.tabletop.backend import TabletopBackend
    from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
    from grounding_node.models.tabletop.processing import build_vocab
    from grounding_node.sim.expressions import VOCABULARY
    from grounding_node.training.train import save, upgrade

    torch.manual_seed(1)
    cfg = TabletopConfig(vocab=build_vocab(VOCABULARY), roi_pool=2)
    model = TabletopGrounder(cfg).eval()
    save(model, cfg, tmp_path / "old.pt", {})
    new, new_cfg = upgrade(model, cfg, depth_tokens=True)
    save(new, new_cfg, tmp_path / "new.pt", {})
    extra = {"candidate_threshold": 0.0}
    old_b = TabletopBackend(BackendConfig(model=str(tmp_path / "old.pt"), extra=extra))
    new_b = TabletopBackend(BackendConfig(model=str(tmp_path / "new.pt"), extra=extra))
    old_b.load()
    new_b.load()
    assert not old_b.reads_depth and new_b.reads_depth
    rgb, depth = _scene_rgb_depth()
    np.testing.assert_allclose(_scores(new_b, rgb, DepthInput(depth, "16UC1", fy=500.0)), _scores(old_b, rgb),
                               atol=1e-6)


# -- training ------------------------------------------------------------------------------------------

def test_training_features_are_the_inference_features_and_dropout_blanks_whole_images():
    from grounding_node.models.tabletop.processing import depth_metres
    from grounding_node.training.train import batch_depth_features

    depth_mm = np.full((240, 320), 750, np.uint16)
    boxes = torch.tensor([[[0.5, 0.5, 0.2, 0.3], [0.2, 0.3, 0.1, 0.1]]] * 2)
    rng = np.random.default_rng(0)
    got = batch_depth_features(boxes, [(depth_mm, 210.0), None], rng, dropout=0.0)
    want = depth_features(depth_metres(depth_mm, "16UC1"), boxes[0].numpy(), 210.0)
    np.testing.assert_allclose(got[0].numpy(), want, atol=1e-6)
    assert not got[1].any()                                   # no depth for that image
    dropped = batch_depth_features(boxes, [(depth_mm, 210.0)] * 2, rng, dropout=1.0)
    assert not dropped.any()
    half = [batch_depth_features(boxes[:1], [(depth_mm, 210.0)], np.random.default_rng(s), 0.5)[0, 0, 0].item()
            for s in range(200)]
    assert 0.35 < np.mean(half) < 0.65


def test_depth_chunks_must_match_the_colour_samples(tmp_path, monkeypatch):
    from grounding_node.training import train as train_mod
    from grounding_node.training.data import Sample

    samples = [Sample(seed, np.zeros((4, 4, 3), np.uint8), np.zeros((0, 4)), np.zeros((0, 3)), [])
               for seed in range(3)]
    fake = {"seeds": np.array([0, 1, 5]), "depth_mm": np.zeros((3, 4, 4), np.uint16), "focal": np.ones(3)}
    monkeypatch.setattr(train_mod, "load_or_render_depth", lambda *a, **k: fake)
    with pytest.raises(RuntimeError, match="does not match"):
        train_mod.training_depth(tmp_path, samples, "train", False)
    fake["seeds"] = np.array([0, 1, 2])
    assert len(train_mod.training_depth(tmp_path, samples, "train", False)) == 3


def test_a_depth_model_trains_from_rendered_depth_and_loads_as_a_depth_reader(tmp_path):
    """End to end on 8 scenes: the depth chunk is rendered beside the colour chunk, the loss falls, and the
    checkpoint grounds with and without depth."""
    from grounding_node.models.tabletop.backend import TabletopBackend
    from grounding_node.training.train import train

    out = tmp_path / "d.pt"
    hist = train(out, steps=30, n_scenes=8, seed=3, batch_size=4, exprs_per_image=4, lr=3e-3, cache=tmp_path,
                 progress=False, log_every=1000, depth_tokens=True)
    assert hist["final_loss"] < 0.8 * hist["first_loss"], hist
    assert (tmp_path / "depth_train_0-8.npz").is_file()
    backend = TabletopBackend(BackendConfig(model=str(out)))
    backend.load()
    assert backend.reads_depth
    rgb, depth = _scene_rgb_depth()
    assert len(backend.ground(rgb, ["a cube"], depth=DepthInput(depth, "16UC1", fy=500.0))) == 1
    assert len(backend.ground(rgb, ["a cube"])) == 1


def test_composite_passes_depth_to_its_object_backend_only():
    from grounding_node.models.composite import CompositeBackend

    comp = CompositeBackend(BackendConfig())
    comp.object_backend, comp.ocr_backend = _Recorder(), _ColourOnly()   # as `load` would, without models
    comp.reads_depth = True
    result = ground_frame(comp, _frame(), ['the box labelled "SUGAR"', "the red mug"], GroundingSettings())
    assert len(result.objects) == 2
    assert isinstance(comp.object_backend.depth, DepthInput)
