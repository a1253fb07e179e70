"""A few training steps on a handful of rendered scenes: the loss must fall (no full training in CI)."""

from __future__ import annotations

import pytest
import torch

from grounding_node.models.base import BackendConfig
from grounding_node.models.tabletop.backend import TabletopBackend
from grounding_node.training.train import train


def test_loss_falls_and_checkpoint_loads(tmp_path):
    out = tmp_path / "smoke.pt"
    torch.manual_seed(0)
    hist = train(out, steps=40, n_scenes=12, seed=3, batch_size=4, exprs_per_image=4, lr=3e-3,
                 cache=tmp_path / "data.pkl", progress=False, log_every=1000)
    assert hist["final_loss"] < 0.7 * hist["first_loss"], hist
    backend = TabletopBackend(BackendConfig(model=str(out), device="cpu"))
    backend.load()
    import numpy as np

    out_lists = backend.ground(np.zeros((480, 640, 3), np.uint8), ["the red cube", "all blue objects"])
    assert len(out_lists) == 2


def test_roi_grid_samples_the_bin_centres_of_each_box():
    """Analytic: on a feature map whose value is the normalised x (or y) coordinate, the sampled grid is the
    bin centres of the box (cx - w/2 + (i + 0.5) w / r)."""
    from grounding_node.models.tabletop.modeling import roi_grid

    h, w = 60, 80
    xs = ((torch.arange(w) + 0.5) / w).expand(h, w)
    ys = ((torch.arange(h) + 0.5) / h)[:, None].expand(h, w)
    fine = torch.stack([xs, ys])[None].contiguous()                         # (1, 2, h, w)
    boxes = torch.tensor([[[0.5, 0.5, 0.4, 0.2], [0.25, 0.7, 0.1, 0.3]]])
    got = roi_grid(fine, boxes, 4).reshape(1, 2, 2, 4, 4)                    # (B, K, C, r, r)
    for k, (cx, cy, bw, bh) in enumerate(boxes[0].tolist()):
        centres = torch.tensor([(i + 0.5) / 4 - 0.5 for i in range(4)])
        torch.testing.assert_close(got[0, k, 0], (cx + centres * bw).expand(4, 4), atol=1e-5, rtol=0)
        torch.testing.assert_close(got[0, k, 1], (cy + centres * bh)[:, None].expand(4, 4), atol=1e-5, rtol=0)


def test_adding_roi_pooling_to_a_trained_model_changes_nothing_until_it_trains(tmp_path):
    """`--roi-pool` on an --init checkpoint written before the field existed: the checkpoint loads (no
    `roi_pool` key = 0), the upgraded model gives the same tokens and the same grounding before training, and
    the saved upgrade loads as a backend with the field."""
    import numpy as np

    from grounding_node.models.tabletop.backend import load_model
    from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
    from grounding_node.models.tabletop.processing import build_vocab
    from grounding_node.sim.expressions import VOCABULARY
    from grounding_node.training.train import add_roi_pool, save

    torch.manual_seed(0)
    cfg = TabletopConfig(vocab=build_vocab(VOCABULARY))
    model = TabletopGrounder(cfg).eval()
    legacy = cfg.to_dict()
    del legacy["roi_pool"]                                  # as written before the field existed
    torch.save({"config": legacy, "state_dict": model.state_dict(), "meta": {}}, str(tmp_path / "old.pt"))
    old, old_cfg = load_model(tmp_path / "old.pt")
    assert old_cfg.roi_pool == 0
    new, new_cfg = add_roi_pool(old, old_cfg, 3)
    new.eval()
    x = torch.randn(2, 3, 240, 320)
    (f_old, det_old), (f_new, det_new) = old.encode_image(x), new.encode_image(x)
    torch.testing.assert_close(det_old, det_new, rtol=0, atol=0)
    cells = torch.tensor([[[5, 5], [20, 12]]] * 2)
    boxes = torch.tensor([[[0.15, 0.2, 0.1, 0.1], [0.6, 0.4, 0.2, 0.1]]] * 2)
    torch.testing.assert_close(old.candidate_tokens(f_old, cells, boxes), new.candidate_tokens(f_new, cells, boxes),
                               rtol=0, atol=0)
    save(new, new_cfg, tmp_path / "roi.pt", {})
    backends = []
    for name in ("old.pt", "roi.pt"):
        # every cell a candidate: an untrained detector scores ~0.1, under the shipped 0.25
        b = TabletopBackend(BackendConfig(model=str(tmp_path / name), device="cpu", extra={"candidate_threshold": 0.0}))
        b.load()
        backends.append(b)
    rgb = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    a, b = (be.ground(rgb, ["the red cube"]) for be in backends)
    assert len(a[0]) == 16
    assert [(d.box_1024, d.score) for d in a[0]] == [(d.box_1024, d.score) for d in b[0]]
    assert backends[1].cfg.roi_pool == 3


def test_average_checkpoints_is_the_elementwise_mean_and_refuses_other_architectures(tmp_path):
    from dataclasses import replace

    import pytest

    from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
    from grounding_node.training.train import average_checkpoints, save

    cfg = TabletopConfig(vocab=["<pad>", "<unk>", "cube"])
    torch.manual_seed(0)
    a, b = TabletopGrounder(cfg), TabletopGrounder(cfg)
    for m, n in ((a, 3), (b, 5)):
        m.backbone.net[0][1].num_batches_tracked.fill_(n)
    save(a, cfg, tmp_path / "a.pt", {"step": 1})
    save(b, cfg, tmp_path / "b.pt", {"step": 2})
    average_checkpoints(tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "avg.pt")
    avg = torch.load(str(tmp_path / "avg.pt"), weights_only=True)
    sa, sb = a.state_dict(), b.state_dict()
    w = "reasoner.layers.0.linear1.weight"
    assert not torch.equal(sa[w], sb[w])
    torch.testing.assert_close(avg["state_dict"][w], 0.5 * sa[w] + 0.5 * sb[w])
    assert int(avg["state_dict"]["backbone.net.0.1.num_batches_tracked"]) == 3      # integers: the trained one's
    assert avg["meta"]["step"] == 1 and avg["meta"]["averaged_with"].endswith("b.pt")
    TabletopBackend(BackendConfig(model=str(tmp_path / "avg.pt"), device="cpu")).load()   # loads as a model
    save(TabletopGrounder(replace(cfg, roi_pool=2)), replace(cfg, roi_pool=2), tmp_path / "c.pt", {})
    with pytest.raises(ValueError, match="different architectures"):
        average_checkpoints(tmp_path / "a.pt", tmp_path / "c.pt", tmp_path / "bad.pt")
    # a depth-reading model averaged with the model it was upgraded from: that one's depth projection is zero
    from grounding_node.training.train import upgrade

    d, dcfg = upgrade(b, cfg, depth_tokens=True)
    torch.nn.init.normal_(d.depth_proj.weight)
    save(d, dcfg, tmp_path / "d.pt", {})
    average_checkpoints(tmp_path / "d.pt", tmp_path / "a.pt", tmp_path / "da.pt")
    da = torch.load(str(tmp_path / "da.pt"), weights_only=True)
    assert da["config"]["depth_tokens"] is True
    torch.testing.assert_close(da["state_dict"]["depth_proj.weight"], 0.5 * d.depth_proj.weight.detach())
    torch.testing.assert_close(da["state_dict"][w], 0.5 * sa[w] + 0.5 * sb[w])
    with pytest.raises(ValueError, match="different architectures"):   # not the other way round
        average_checkpoints(tmp_path / "a.pt", tmp_path / "d.pt", tmp_path / "bad.pt")


def test_the_recipe_runs_every_stage_in_order_with_one_command(tmp_path):
    """`python -m grounding_node.training.recipe` is the one command that reproduces the shipped model:
    its --smoke run goes through every stage (each --init is the stage before; the last one averaged with
    its --average-with stage) and the result loads as the backend."""
    import subprocess
    import sys

    from grounding_node.models.tabletop.backend import DEFAULT_CHECKPOINT
    from grounding_node.training.recipe import STAGES, chunks_needed, command, depth_chunks_needed

    out, cache = tmp_path / "out", tmp_path / "cache"
    r = subprocess.run([sys.executable, "-m", "grounding_node.training.recipe", "--smoke", "--out", str(out),
                        "--cache", str(cache), "--jobs", "1", "--first-model", str(DEFAULT_CHECKPOINT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    ran = [line.split(":")[0] for line in r.stdout.splitlines() if line.startswith("stage")]
    assert ran == [s.name for s in STAGES]
    for s in STAGES:
        assert (out / f"{s.name}.pt").is_file()
    assert "averaged with" in r.stdout
    backend = TabletopBackend(BackendConfig(model=str(out / f"{STAGES[-1].name}.pt")))
    backend.load()
    # a second run resumes: every stage's output exists, nothing is trained again
    again = subprocess.run([sys.executable, "-m", "grounding_node.training.recipe", "--smoke", "--out", str(out),
                            "--cache", str(cache), "--first-model", str(DEFAULT_CHECKPOINT)],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and again.stdout.count("exists, skipped") == len(STAGES)
    # the full-size commands: each stage starts from the one before, and reads the chunks the recipe renders
    full = [command(s, out, cache) for s in STAGES]
    assert full[0][full[0].index("--init") + 1].endswith("first.pt")
    for prev, cmd in zip(STAGES, full[1:]):
        assert cmd[cmd.index("--init") + 1].endswith(f"{prev.name}.pt")
    base = (320, 240)
    assert chunks_needed(STAGES)[0] == (0, 8000, base) and (48000, 56000, base) in chunks_needed(STAGES)
    assert (0, 4000, base) in chunks_needed(STAGES)
    assert depth_chunks_needed(STAGES) == [(a, a + 8000, base) for a in range(0, 32000, 8000)]
    assert (cache / "depth_train_0-8.npz").is_file()          # rendered for the smoke run's depth stage


def test_the_recipe_takes_the_first_model_from_git_history(tmp_path):
    """Without --first-model the starting point is the first model's committed weights."""
    import subprocess

    import pytest

    from grounding_node.training.recipe import REPO, first_model

    if subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", "12357c5"], capture_output=True).returncode:
        pytest.skip("not a git checkout with history (an installed package): --first-model is required there")
    path = first_model(tmp_path / "first.pt")
    ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    assert {"config", "state_dict"} <= set(ckpt) and not ckpt["config"].get("roi_pool")


def test_the_shape_loss_is_the_shape_heads_cross_entropy_alone_and_weighs_as_attr_by_default(tmp_path, monkeypatch):
    """Analytic: with the colour and size heads answering every object's true class with a huge margin and the
    shape head answering all classes alike, `attr` is ~0 and `shape` is log(number of shapes). The command
    line's `--shape-weight` (and the API's `loss_weights`) default to the attr weight, so the recipe's stages
    keep their loss."""
    import math

    import numpy as np

    from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
    from grounding_node.models.tabletop.processing import build_vocab
    from grounding_node.sim.expressions import VOCABULARY
    from grounding_node.training import train as tr
    from grounding_node.training.data import load_or_render

    batch = load_or_render(tmp_path / "d.pkl", range(3), progress=False)
    cfg = TabletopConfig(vocab=build_vocab(VOCABULARY))
    model = TabletopGrounder(cfg)
    attrs = torch.zeros(len(batch), tr.MAX_OBJ, 3, dtype=torch.long)
    for i, s in enumerate(batch):
        attrs[i, : len(s.attrs)] = torch.from_numpy(s.attrs[: tr.MAX_OBJ])
    n_col, n_shape, n_size = (model.attr_color.out_features, model.attr_shape.out_features,
                              model.attr_size.out_features)

    def oracle(tokens):
        col = torch.nn.functional.one_hot(attrs[..., 0], n_col).float() * 100.0
        siz = torch.nn.functional.one_hot(attrs[..., 2], n_size).float() * 100.0
        return col, torch.zeros(*attrs.shape[:2], n_shape), siz

    model.attributes = oracle
    losses = tr.batch_step(model, batch, np.random.default_rng(0), 2, cfg)
    assert losses["attr"].item() < 1e-6
    assert losses["shape"].item() == pytest.approx(math.log(n_shape), rel=1e-6)
    assert tr.WEIGHTS["shape"] == tr.WEIGHTS["attr"]
    assert tr.full_loss_weights() == tr.WEIGHTS
    # a caller who sets only `attr` (every recipe stage, and the Python API as it was) moves shape with it
    assert tr.full_loss_weights({"attr": 1.0}) == dict(tr.WEIGHTS, attr=1.0, shape=1.0)
    assert tr.full_loss_weights({"attr": 1.0, "shape": 3.0}) == dict(tr.WEIGHTS, attr=1.0, shape=3.0)

    seen = {}
    monkeypatch.setattr(tr, "train",
                        lambda *a, **kw: seen.update(kw) or {"first_loss": 1, "final_loss": 1, "minutes": 0})
    tr.main(["--attr-weight", "1.0", "--out", str(tmp_path / "x.pt")])
    assert tr.full_loss_weights(seen["loss_weights"]) == dict(tr.WEIGHTS, attr=1.0, shape=1.0)
    tr.main(["--attr-weight", "1.0", "--shape-weight", "3", "--out", str(tmp_path / "x.pt")])
    assert tr.full_loss_weights(seen["loss_weights"]) == dict(tr.WEIGHTS, attr=1.0, shape=3.0)
