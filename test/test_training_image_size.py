"""Training at another network input size (`python -m grounding_node.train --image-size WxH`): the scenes
are rendered at that size into their own cache files, a trained model is carried over to it with its
detector's boxes unchanged, and the result loads as the backend at that size."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from grounding_node.models.base import BackendConfig
from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
from grounding_node.models.tabletop.processing import build_vocab, decode_candidates, input_size
from grounding_node.sim.expressions import VOCABULARY
from grounding_node.training.data import chunk_cache, depth_cache, render_samples, train_aspects
from grounding_node.training.train import resize_input, save, train


def test_cache_names_of_the_first_size_are_unchanged_and_other_sizes_carry_theirs():
    folder = Path("data")
    assert chunk_cache(folder, "train", "train", 0, 8000).name == "train_train_train_8000.pkl"
    assert chunk_cache(folder, "train", "train", 8000, 16000).name == "train_train_train_8000-16000.pkl"
    assert depth_cache(folder, "train", 0, 8000).name == "depth_train_0-8000.npz"
    assert chunk_cache(folder, "train", "train", 8000, 16000, (384, 288)).name == \
        "train_train_train_8000-16000_384x288.pkl"
    assert depth_cache(folder, "train", 0, 8000, (384, 288)).name == "depth_train_0-8000_384x288.npz"


def test_training_frames_keep_the_4_3_and_16_9_mix_at_any_width():
    assert train_aspects(320, 240) == [((320, 240), 0.4), ((320, 180), 0.6)]
    assert train_aspects(384, 288) == [((384, 288), 0.4), ((384, 216), 0.6)]


def test_a_seed_rendered_larger_is_the_same_scene():
    small = render_samples([7, 8], 320, 240, per_scene=6, progress=False)
    large = render_samples([7, 8], 384, 288, per_scene=6, progress=False)
    for s, big in zip(small, large):
        assert s.rgb.shape == (240, 320, 3) and big.rgb.shape == (288, 384, 3)
        np.testing.assert_array_equal(s.attrs, big.attrs)
        assert s.expressions == big.expressions
        np.testing.assert_allclose(s.boxes, big.boxes, atol=2 / 240)   # normalised, up to a pixel's rounding


def _model(**cfg) -> TabletopGrounder:
    torch.manual_seed(0)
    model = TabletopGrounder(TabletopConfig(vocab=build_vocab(VOCABULARY), **cfg)).eval()
    torch.nn.init.normal_(model.det_head[-1].weight, std=0.05)   # box sizes that vary over the image
    return model


def test_resizing_the_input_keeps_every_box_for_the_same_pixels():
    old = _model(roi_pool=2)
    new, cfg = resize_input(old, old.config, (384, 288))
    new.eval()
    assert cfg.image_size == (384, 288) and old.config.image_size == (320, 240)
    bias_old, bias_new = old.det_head[-1].bias, new.det_head[-1].bias
    assert float((bias_new[1] - bias_old[1]).detach()) == pytest.approx(math.log(320 / 384))
    assert float((bias_new[2] - bias_old[2]).detach()) == pytest.approx(math.log(240 / 288))
    x = torch.rand(1, 3, 288, 512) - 0.5   # what either model gets for a 16:9 frame at the larger base
    with torch.inference_mode():
        boxes = []
        for model in (old, new):
            base = model.config.image_size
            _, det = model.encode_image(x)
            boxes.append(decode_candidates(det[0], 16, 0.0, wh_scale=(base[0] / 512, base[1] / 288))[1])
    torch.testing.assert_close(boxes[0], boxes[1], rtol=1e-5, atol=1e-6)


def test_training_at_a_larger_input_renders_at_that_size_and_loads_as_the_backend(tmp_path):
    from grounding_node.models.tabletop.backend import TabletopBackend

    init = tmp_path / "init.pt"
    model = _model()
    save(model, model.config, init, {})
    out = tmp_path / "large.pt"
    train(out, steps=2, n_scenes=4, seed=0, batch_size=2, exprs_per_image=2, lr=1e-4,
          cache=tmp_path / "large.pkl", progress=False, init=init, image_size=(384, 288))
    backend = TabletopBackend(BackendConfig(model=str(out), device="cpu"))
    backend.load()
    assert backend.cfg.image_size == (384, 288)
    assert input_size((1280, 720), backend.cfg.image_size) == (512, 288)
    assert len(backend.ground(np.zeros((720, 1280, 3), np.uint8), ["the red cube"])) == 1
    # scenes cached at one size are refused for a model of another, with the reason
    with pytest.raises(RuntimeError, match="384x288.*320x240"):
        train(None, steps=1, n_scenes=4, seed=0, batch_size=2, exprs_per_image=2, lr=1e-4,
              cache=tmp_path / "large.pkl", progress=False, init=init)


def test_the_recipe_renders_each_stage_at_its_input_size_and_later_stages_inherit_it():
    from grounding_node.training.recipe import Stage, chunks_needed, depth_chunks_needed, stage_sizes

    stages = (Stage("a", "first", 8000, ()),
              Stage("b", "a", 16000, ("--depth-tokens",)),
              Stage("c", "b", 8000, ("--image-size", "384x288")),
              Stage("d", "c", 16000, ()))
    assert stage_sizes(stages) == {"a": (320, 240), "b": (320, 240), "c": (384, 288), "d": (384, 288)}
    small, large = (320, 240), (384, 288)
    assert sorted(chunks_needed(stages)) == [(0, 8000, small), (0, 8000, large), (8000, 16000, small),
                                             (8000, 16000, large)]
    # depth from the first depth stage on, also for the later stages that continue that model
    assert sorted(depth_chunks_needed(stages)) == sorted(chunks_needed(stages))
    assert depth_chunks_needed(stages[:1]) == []


def test_the_finetuners_replay_scenes_come_at_the_models_input_size(tmp_path, monkeypatch):
    from grounding_node.finetune.tabletop import replay_data

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    small, large = replay_data(2, False), replay_data(2, False, (384, 288))
    assert small[0].rgb.shape == (240, 320, 3) and large[0].rgb.shape == (288, 384, 3)
    names = sorted(p.name for p in (tmp_path / "grounding_node").iterdir())
    assert names == ["replay_train_2.pkl", "replay_train_2_384x288.pkl"]


def test_a_resized_model_averages_with_the_model_it_was_resized_from(tmp_path):
    from grounding_node.models.tabletop.backend import load_model
    from grounding_node.training.train import average_checkpoints

    old = _model()
    save(old, old.config, tmp_path / "old.pt", {})
    new, cfg = resize_input(old, old.config, (384, 288))
    torch.nn.init.normal_(new.ref_head[0].weight)   # as if trained
    save(new, cfg, tmp_path / "new.pt", {})
    average_checkpoints(tmp_path / "new.pt", tmp_path / "old.pt", tmp_path / "avg.pt")
    avg, avg_cfg = load_model(tmp_path / "avg.pt")
    assert avg_cfg.image_size == (384, 288)
    resized_old, _ = resize_input(old, old.config, (384, 288))
    for key in ("det_head.1.bias", "ref_head.0.weight", "backbone.net.0.0.weight"):
        want = (new.state_dict()[key] + resized_old.state_dict()[key]) / 2
        torch.testing.assert_close(avg.state_dict()[key], want)
    with pytest.raises(ValueError, match="different architectures"):   # another model, not just resized
        other = TabletopGrounder(TabletopConfig(vocab=build_vocab(VOCABULARY), roi_pool=2))
        save(other, other.config, tmp_path / "other.pt", {})
        average_checkpoints(tmp_path / "new.pt", tmp_path / "other.pt", tmp_path / "bad.pt")


@pytest.mark.parametrize("bad", ["384x", "abc", "0x288", "-384x288", "385x288", "384x290"])
def test_an_unusable_image_size_is_refused_before_any_rendering(bad, tmp_path, capsys):
    from grounding_node.training.train import main

    with pytest.raises(SystemExit) as exc:
        main(["--image-size", bad, "--out", str(tmp_path / "x.pt"), "--cache", str(tmp_path / "c.pkl")])
    assert exc.value.code == 2
    assert "--image-size" in capsys.readouterr().err
    assert not (tmp_path / "c.pkl").exists()
