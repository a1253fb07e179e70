"""Box-pooled deep features (`TabletopConfig.deep_roi`, `python -m grounding_node.train --deep-roi R`).

Checked against what they extend: the token gets exactly the stride-8 feature of the cell a 1x1 grid's
bin centre falls on (computed here by indexing, not by the model's sampler), an upgraded model grounds
exactly as before until it trains, its average with the model it came from counts that model's
projection as zeros (for every input in `UPGRADE_INPUTS`), and a model trained with the option loads as the backend
and grounds a 16:9 frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
from grounding_node.models.tabletop.processing import build_vocab
from grounding_node.sim.expressions import VOCABULARY


def _model(**cfg) -> TabletopGrounder:
    torch.manual_seed(0)
    return TabletopGrounder(TabletopConfig(**{"vocab": build_vocab(VOCABULARY), "roi_pool": 3, "depth_tokens": True,
                                              **cfg})).eval()


def _inputs():
    x = torch.rand(1, 3, 240, 320) - 0.5
    cells = torch.tensor([[[3, 4], [20, 10], [39, 29]]])
    boxes = torch.tensor([[[0.1, 0.15, 0.05, 0.08], [0.5, 0.33, 0.3, 0.3], [0.97, 0.97, 0.05, 0.05]]])
    return x, cells, boxes


def test_a_one_bin_grid_adds_the_deep_feature_of_the_cell_under_the_box_centre():
    """Boxes centred on cell centres ((i + 0.5) / 40, (j + 0.5) / 30): the 1x1 grid reads that cell exactly.
    With an identity-like projection the token grows by the cell's features, found here by indexing."""
    model = _model(deep_roi=1)
    d = model.config.d_model
    assert model.config.channels[-1] >= d
    with torch.no_grad():   # token += the first d channels of the sampled feature
        model.deep_roi_proj.weight.zero_()
        model.deep_roi_proj.weight[:, :d].copy_(torch.eye(d))
    x, _, _ = _inputs()
    picks = [(3, 4), (20, 10), (39, 29)]
    boxes = torch.tensor([[[(i + 0.5) / 40, (j + 0.5) / 30, 0.07, 0.11] for i, j in picks]])
    cells = torch.tensor([picks])
    with torch.inference_mode():
        (feats, fine), _ = model.encode_image(x)
        with_roi = model.candidate_tokens((feats, fine), cells, boxes)
        model.deep_roi_proj.weight.zero_()
        without = model.candidate_tokens((feats, fine), cells, boxes)
    expected = torch.stack([feats[0, :d, j, i] for i, j in picks])[None]
    torch.testing.assert_close(with_roi - without, expected, rtol=1e-5, atol=1e-5)


def test_an_upgraded_model_grounds_exactly_as_before_until_it_trains():
    from grounding_node.training.train import upgrade

    old = _model()
    new, cfg = upgrade(old, old.config, deep_roi=3)
    new.eval()
    assert cfg.deep_roi == 3 and not old.config.deep_roi
    x, cells, boxes = _inputs()
    words = torch.tensor([[5, 9, 12, 0]])
    with torch.inference_mode():
        t_old = old.candidate_tokens(old.encode_image(x)[0], cells, boxes)
        t_new = new.candidate_tokens(new.encode_image(x)[0], cells, boxes)
        torch.testing.assert_close(t_new, t_old, rtol=0, atol=0)
        mask = torch.ones(1, 3, dtype=torch.bool)
        torch.testing.assert_close(new.score(t_new, mask, words, boxes), old.score(t_old, mask, words, boxes))


@pytest.mark.parametrize("base,change,proj,kept", [
    ({}, {"deep_roi": 2}, "deep_roi_proj.weight", None),
    ({}, {"crop_size": 16}, "crop_proj.weight", "crop_net.net.0.0.weight"),   # the encoder its projection silences
    ({"roi_pool": 0}, {"roi_pool": 3}, "roi_proj.weight", None),
    ({"depth_tokens": False}, {"depth_tokens": True}, "depth_proj.weight", None),
])
def test_an_upgraded_model_averages_with_the_model_it_came_from(tmp_path, base, change, proj, kept):
    """The soup counts the origin's missing projection as the upgrade's zeros (`average_checkpoints`)."""
    from grounding_node.training.train import average_checkpoints, save, upgrade

    old = _model(**base)
    new, cfg = upgrade(old, old.config, **change)
    with torch.no_grad():
        for p in new.parameters():
            p.add_(0.1)
    save(old, old.config, tmp_path / "old.pt", {})
    save(new, cfg, tmp_path / "new.pt", {})
    average_checkpoints(tmp_path / "new.pt", tmp_path / "old.pt", tmp_path / "soup.pt")
    soup = torch.load(tmp_path / "soup.pt", weights_only=True)
    assert all(soup["config"][k] == v for k, v in change.items())
    sd, sn, so = soup["state_dict"], new.state_dict(), old.state_dict()
    torch.testing.assert_close(sd[proj], sn[proj] / 2)
    if kept:
        torch.testing.assert_close(sd[kept], sn[kept])
    torch.testing.assert_close(sd["cand_proj.weight"], (sn["cand_proj.weight"] + so["cand_proj.weight"]) / 2)


def test_the_upgrade_table_names_every_parameter_an_upgrade_adds():
    """`UPGRADE_INPUTS` is what `upgrade` accepts and what the soup zeroes: every parameter that the token
    inputs add to a plain model falls under exactly one of its prefixes, and each of its prefixes is used."""
    from grounding_node.training.train import UPGRADE_INPUTS

    plain = set(_model(roi_pool=0, depth_tokens=False).state_dict())
    full = set(_model(roi_pool=3, depth_tokens=True, crop_size=16, deep_roi=2).state_dict())
    assert plain <= full
    prefixes = [p for proj, own in UPGRADE_INPUTS.values() for p in (proj, *own)]
    added = full - plain
    assert all(sum(k.startswith(p) for p in prefixes) == 1 for k in added), added
    assert all(any(k.startswith(p) for k in added) for p in prefixes)
    assert set(UPGRADE_INPUTS) == {"roi_pool", "depth_tokens", "crop_size", "deep_roi"}
    assert all(getattr(TabletopConfig(vocab=["<pad>"]), f) in (0, False) for f in UPGRADE_INPUTS)


def test_an_older_checkpoint_without_the_field_loads_as_deep_roi_0(tmp_path):
    from grounding_node.models.tabletop.backend import load_model
    from grounding_node.training.train import save

    old = _model()
    save(old, old.config, tmp_path / "old.pt", {})
    ckpt = torch.load(tmp_path / "old.pt", weights_only=True)
    del ckpt["config"]["deep_roi"]   # as written before the option existed
    torch.save(ckpt, tmp_path / "older.pt")
    model, cfg = load_model(tmp_path / "older.pt")
    assert cfg.deep_roi == 0 and not hasattr(model, "deep_roi_proj")


def test_training_with_deep_roi_from_a_checkpoint_loads_as_the_backend(tmp_path):
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.tabletop.backend import TabletopBackend
    from grounding_node.sim.scene import TabletopSim
    from grounding_node.training.train import save, train

    old = _model()
    save(old, old.config, tmp_path / "old.pt", {})
    train(tmp_path / "m.pt", steps=2, n_scenes=4, seed=0, batch_size=2, exprs_per_image=2, lr=1e-3,
          cache=tmp_path, progress=False, threads=1, init=tmp_path / "old.pt", deep_roi=2, save_every=10_000,
          new_lr_mult=10.0)
    backend = TabletopBackend(BackendConfig(model=str(tmp_path / "m.pt"), device="cpu"))
    backend.load()
    assert backend.cfg.deep_roi == 2
    assert float(backend.model.deep_roi_proj.weight.abs().sum()) > 0   # it trained
    with TabletopSim(1280, 720, camera="train") as sim:
        rgb = sim.new_scene(1_300_000).rgb
    out = backend.ground(rgb, ["the red mug", "the ball"])
    assert len(out) == 2 and all(np.isfinite(det.score) for det in out[0])


def test_the_shipped_checkpoint_upgraded_averages_with_its_own_file(tmp_path):
    """The shipped file was written before `crop_size` and `deep_roi` existed: its config lacks them, and
    the soup must read them as their defaults (it once refused: "different architectures")."""
    from grounding_node.models.tabletop.backend import DEFAULT_CHECKPOINT, load_model
    from grounding_node.training.train import average_checkpoints, save, upgrade

    model, cfg = load_model(DEFAULT_CHECKPOINT)
    new, new_cfg = upgrade(model, cfg, deep_roi=3)
    save(new, new_cfg, tmp_path / "new.pt", {})
    average_checkpoints(tmp_path / "new.pt", DEFAULT_CHECKPOINT, tmp_path / "soup.pt")
    soup, soup_cfg = load_model(tmp_path / "soup.pt")
    assert soup_cfg.deep_roi == 3
    for k, v in new.state_dict().items():
        torch.testing.assert_close(soup.state_dict()[k], v)   # the upgrade is the model plus zeros
