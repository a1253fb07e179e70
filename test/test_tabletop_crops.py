"""Candidate crops from the camera's frame (`TabletopConfig.crop_size`, `processing.box_crops`).

The crop is checked against hand-computed pixels (where the box lands in the crop, what lies outside the
frame), and the model parts against the model they extend: an upgraded model grounds exactly as before
until it trains, the folded inference copy computes the same tokens, and a model trained with crops loads
as the backend and grounds a 1280x720 frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
from grounding_node.models.tabletop.processing import PAD_VALUE, box_crops, build_vocab, crops_tensor
from grounding_node.sim.expressions import VOCABULARY


def _frame(w=640, h=480):
    """Black frame with a 40x20 (w x h) red rectangle whose top-left pixel is (100, 200)."""
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[200:220, 100:140] = (255, 0, 0)
    return rgb


def _norm(x0, y0, x1, y1, w=640, h=480):
    return np.array([[(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]])


def test_a_crop_is_the_square_around_the_box_with_its_proportions_kept():
    # box 40x20 px -> square side 40 * 1.25 = 50 px centred on (120, 210): x 95..145, y 185..235
    crop = box_crops(_frame(), _norm(100, 200, 140, 220), 50)[0]
    assert crop.shape == (50, 50, 3)
    red = (crop[..., 0] > 128) & (crop[..., 1] < 64)
    ys, xs = np.nonzero(red)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (5, 44, 15, 34)   # 40 wide, 20 tall: not squashed
    assert crop[0, 0].tolist() == [0, 0, 0]                            # the rim is the frame's own black


def test_a_crop_is_resized_to_the_asked_size_by_area_averaging():
    crop = box_crops(_frame(), _norm(100, 200, 140, 220), 10)[0]       # 50 px -> 10 px: 5x5 blocks
    assert crop.shape == (10, 10, 3)
    assert crop[5, 5].tolist() == [255, 0, 0] and crop[0, 0].tolist() == [0, 0, 0]
    assert crop[3, 5, 0] == 255 and crop[2, 5, 0] == 0                 # y 185..235: red rows 200..219 = 3..6


def test_outside_the_frame_reads_as_the_letterbox_grey():
    rgb = np.full((480, 640, 3), 10, np.uint8)
    crop = box_crops(rgb, _norm(0, 0, 40, 40), 50)[0]                  # square -5..45: 5 px outside each side
    assert crop[0, 0].tolist() == [PAD_VALUE] * 3 and crop[4, 10].tolist() == [PAD_VALUE] * 3
    assert crop[5, 5].tolist() == [10, 10, 10] and crop[49, 49].tolist() == [10, 10, 10]
    gone = box_crops(rgb, np.array([[1.5, 1.5, 0.1, 0.1]]), 16)[0]     # entirely off the frame
    assert (gone == PAD_VALUE).all()


@pytest.mark.parametrize("bad", [[np.nan, 0.5, 0.1, 0.1], [0.5, 0.5, np.inf, 0.1], [0.5, 0.5, 1e12, 1e12],
                                 [0.5, 0.5, 0.0, 0.0], [-1e9, 0.5, 0.1, 0.1]])
def test_wild_boxes_give_a_crop_and_never_an_error_or_a_huge_allocation(bad):
    crops = box_crops(_frame(), np.array([bad, [0.1875, 0.4375, 0.0625, 0.0417]]), 16)
    assert crops.shape == (2, 16, 16, 3)
    assert crops[1, 8, 8, 0] == 255          # the good box beside it is still cut
    if not np.isfinite(bad).all():
        assert (crops[0] == PAD_VALUE).all()


def test_crops_are_normalised_as_the_frames_are():
    t = crops_tensor(np.array([[[[0, 255, 128]]]], np.uint8))
    assert t.shape == (1, 3, 1, 1)
    torch.testing.assert_close(t.flatten(), torch.tensor([-0.5, 0.5, 128 / 255 - 0.5]))


def _model(**cfg) -> TabletopGrounder:
    torch.manual_seed(0)
    return TabletopGrounder(TabletopConfig(vocab=build_vocab(VOCABULARY), roi_pool=3, depth_tokens=True, **cfg)).eval()


def _inputs(model, k=3, s=32):
    x = torch.rand(1, 3, 240, 320) - 0.5
    cells = torch.tensor([[[3, 4], [20, 10], [39, 29]]])[:, :k]
    boxes = torch.tensor([[[0.1, 0.15, 0.05, 0.08], [0.5, 0.33, 0.3, 0.3], [0.97, 0.97, 0.05, 0.05]]])[:, :k]
    crops = torch.rand(1, k, 3, s, s) - 0.5
    return x, cells, boxes, crops


def test_an_upgraded_model_grounds_exactly_as_before_until_it_trains():
    from grounding_node.training.train import upgrade

    old = _model()
    new, cfg = upgrade(old, old.config, crop_size=32)
    new.eval()
    assert cfg.crop_size == 32 and not old.config.crop_size
    x, cells, boxes, crops = _inputs(old)
    words = torch.tensor([[5, 9, 12, 0]])
    with torch.inference_mode():
        f_old, _ = old.encode_image(x)
        f_new, _ = new.encode_image(x)
        t_old = old.candidate_tokens(f_old, cells, boxes)
        t_new = new.candidate_tokens(f_new, cells, boxes, None, crops)
        torch.testing.assert_close(t_new, t_old, rtol=0, atol=0)
        mask = torch.ones(1, 3, dtype=torch.bool)
        torch.testing.assert_close(new.score(t_new, mask, words, boxes), old.score(t_old, mask, words, boxes))


def test_a_crop_model_refuses_to_ground_without_crops():
    model = _model(crop_size=16)
    x, cells, boxes, _ = _inputs(model)
    with torch.inference_mode(), pytest.raises(ValueError, match="crops"):
        model.candidate_tokens(model.encode_image(x)[0], cells, boxes)
    with pytest.raises(ValueError, match="multiple of 8"):
        _model(crop_size=20)


def test_the_folded_inference_copy_reads_crops_as_the_model_does():
    model = _model(crop_size=32)
    for m in model.modules():   # random statistics: fresh BatchNorm layers are the identity
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.3, 3.0)
    nn.init.normal_(model.crop_proj.weight, std=0.05)   # zero at the upgrade: make the crops count
    fast = model.for_inference()
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.crop_net.modules())
    x, cells, boxes, crops = _inputs(model)
    with torch.inference_mode():
        ref = model.candidate_tokens(model.encode_image(x)[0], cells, boxes, None, crops)
        out = fast.candidate_tokens(fast.encode_image(x)[0], cells, boxes, None, crops)
        assert not torch.allclose(ref, model.candidate_tokens(model.encode_image(x)[0], cells, boxes, None,
                                                              torch.zeros_like(crops)))
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)


def test_a_crop_chunk_of_other_seeds_is_refused(tmp_path):
    import pickle

    from grounding_node.training.data import Sample, crop_cache
    from grounding_node.training.train import training_crops

    data = [Sample(s, np.zeros((240, 320, 3), np.uint8), np.zeros((0, 4)), np.zeros((0, 3)), []) for s in range(3)]
    with open(crop_cache(tmp_path, "train", 0, 3), "wb") as f:
        pickle.dump({"seeds": np.array([0, 1, 5]), "jpeg": np.array([b"", b"", b""], object)}, f)
    with pytest.raises(RuntimeError, match="seeds"):
        training_crops(tmp_path, data, "train", progress=False)


def test_training_with_crops_cuts_them_from_camera_frames_and_loads_as_the_backend(tmp_path):
    """Scenes come from network-sized chunks, crops from 640x480 frames of the same seeds; the result
    grounds a 1280x720 frame through the backend, whose crops come from that frame."""
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.tabletop.backend import TabletopBackend
    from grounding_node.sim.scene import TabletopSim
    from grounding_node.training.data import crop_cache, load_or_render_crops
    from grounding_node.training.train import decode_jpeg, train

    train(tmp_path / "m.pt", steps=2, n_scenes=4, seed=0, batch_size=2, exprs_per_image=2, lr=1e-3,
          cache=tmp_path, progress=False, threads=1, crop_size=16, save_every=10_000)
    assert crop_cache(tmp_path, "train", 0, 4).is_file()
    frames = load_or_render_crops(tmp_path, 0, 4)
    assert [int(s) for s in frames["seeds"]] == [0, 1, 2, 3]
    assert decode_jpeg(frames["jpeg"][0]).shape == (480, 640, 3)
    backend = TabletopBackend(BackendConfig(model=str(tmp_path / "m.pt"), device="cpu"))
    backend.load()
    assert backend.cfg.crop_size == 16
    with TabletopSim(1280, 720, camera="train") as sim:
        rgb = sim.new_scene(1_300_000).rgb
    out = backend.ground(rgb, ["the red mug", "the ball"])
    assert len(out) == 2 and all(np.isfinite(d.score) for d in out[0])


def test_the_recipe_renders_crop_frames_from_the_first_crop_stage_on(tmp_path, monkeypatch):
    from grounding_node.training import recipe
    from grounding_node.training.recipe import Stage, crop_chunks_needed

    stages = (Stage("a", "first", 16000, ("--steps", "1")),
              Stage("b", "a", 8000, ("--crop-tokens", "32", "--steps", "1")),
              Stage("c", "b", 24000, ("--steps", "1")))
    assert crop_chunks_needed(stages) == [(0, 8000, (640, 480)), (8000, 16000, (640, 480)),
                                          (16000, 24000, (640, 480))]
    assert crop_chunks_needed(stages[:1]) == []
    ran = []
    monkeypatch.setattr(recipe.subprocess, "run", lambda cmd, check: ran.append(cmd[3:]))
    (tmp_path / "crops_train_0-8000_640x480.pkl").write_bytes(b"")   # present: not rendered again
    recipe.render_chunks(tmp_path, [], 1, crop_spans=crop_chunks_needed(stages))
    assert sorted(ran) == sorted([["8000", "16000", str(tmp_path), "--crops", "--size", "640x480"],
                                  ["16000", "24000", str(tmp_path), "--crops", "--size", "640x480"]])


def test_a_seed_that_settles_on_another_layout_at_640x480_gets_its_crops_from_its_own_frame(tmp_path):
    """Seed 8003 is one of the ~3 % whose layout depends on the render size (the sim's visibility test is
    in pixels): its 640x480 frame shows other objects, so crops cut there with the 320x240 boxes would be
    wrong. Seed 8004 renders the same scene at both sizes."""
    from grounding_node.training.data import render_crop_frames, render_samples
    from grounding_node.training.train import crop_frame, decode_jpeg, same_layout

    small = render_samples([8003, 8004], 320, 240, per_scene=0, progress=False)
    big = render_crop_frames([8003, 8004], progress=False)
    assert not same_layout(small[0].rgb, decode_jpeg(big["jpeg"][0]))
    assert same_layout(small[1].rgb, decode_jpeg(big["jpeg"][1]))
    assert crop_frame(small[0], None) is small[0].rgb
    assert crop_frame(small[1], big["jpeg"][1]).shape == (480, 640, 3)


def test_new_lr_mult_sets_the_learning_rate_of_the_parameters_the_init_checkpoint_lacks(tmp_path):
    """`--new-lr-mult`: at 0 the upgrade's new crop projection (zeros) never moves while the rest trains;
    at 1 it moves like every other parameter."""
    from grounding_node.training.train import save, train

    base = _model()
    save(base, base.config, tmp_path / "base.pt", {})
    for mult in (0.0, 1.0):
        out = tmp_path / f"m{mult}.pt"
        train(out, steps=2, n_scenes=4, seed=0, batch_size=2, exprs_per_image=2, lr=1e-3, cache=tmp_path,
              progress=False, threads=1, init=tmp_path / "base.pt", crop_size=16, new_lr_mult=mult,
              save_every=10_000)
        sd = torch.load(out, weights_only=True)["state_dict"]
        moved = float(sd["crop_proj.weight"].abs().sum())
        assert (moved == 0.0) == (mult == 0.0), (mult, moved)
        assert not torch.equal(sd["cand_proj.weight"], base.state_dict()["cand_proj.weight"])


def test_the_chunk_command_reads_size_for_crop_frames_in_both_spellings(tmp_path):
    """`--size 320x240` and `--size=320x240` both set the crop frames' size; without it they are 640x480."""
    import subprocess
    import sys

    for args, name in ((["--size=320x240"], "crops_train_0-1_320x240.pkl"),
                       (["--size", "320x240"], "crops_train_1-2_320x240.pkl"),
                       ([], "crops_train_2-3_640x480.pkl")):
        start = int(name.split("_")[2].split("-")[0])
        r = subprocess.run([sys.executable, "-m", "grounding_node.training.data", str(start), str(start + 1),
                            str(tmp_path), "--crops", *args], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        assert (tmp_path / name).is_file(), sorted(p.name for p in tmp_path.iterdir())
