"""Rendering a training chunk in one pass over several processes, training on later seeds, and training on
another torch device (the GPU stage of docs/models/tabletop.md).

The references are the single-process renderers that wrote every earlier chunk: a parallel chunk must be
the same file content, seed for seed, or a model trained on it would not be the recipe's model.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

pytest.importorskip("mujoco")

from grounding_node.training import data as D  # noqa: E402
from grounding_node.training import train as T  # noqa: E402

SEEDS = (41, 48)   # seven seeds: with PART = 3 the pool gets three tasks, the last one short


def _same_samples(a, b):
    assert [s.seed for s in a] == [s.seed for s in b]
    for x, y in zip(a, b):
        assert np.array_equal(x.rgb, y.rgb)
        assert np.array_equal(x.boxes, y.boxes)
        assert np.array_equal(x.attrs, y.attrs)
        assert x.expressions == y.expressions


def test_a_chunk_rendered_with_depth_over_processes_equals_the_single_process_chunks(tmp_path, monkeypatch):
    a, b = SEEDS
    single = D.render_samples(range(a, b), progress=False)
    depth = D.render_depth(range(a, b), progress=False)
    monkeypatch.setattr(D, "PART", 3)
    D.render_chunk(tmp_path, a, b, depth=True, jobs=2, progress=False)
    with open(D.chunk_cache(tmp_path, "train", "train", a, b), "rb") as f:
        _same_samples(pickle.load(f), single)
    with np.load(D.depth_cache(tmp_path, "train", a, b)) as z:
        assert z["seeds"].tolist() == list(range(a, b))
        assert np.array_equal(z["depth_mm"], depth["depth_mm"])
        assert np.array_equal(z["focal"], depth["focal"])
    # the depth is the scene's, not zeros: every frame has readings on the table, in a tabletop's range
    assert all((d > 0).mean() > 0.5 for d in depth["depth_mm"])
    assert 200 < np.median(depth["depth_mm"][depth["depth_mm"] > 0]) < 3000


def test_the_one_pass_renderer_matches_the_separate_colour_and_depth_passes():
    a, b = SEEDS
    samples, depth = D.render_scenes(range(a, b), progress=False, depth=True)
    _same_samples(samples, D.render_samples(range(a, b), progress=False))
    ref = D.render_depth(range(a, b), progress=False)
    assert np.array_equal(depth["depth_mm"], ref["depth_mm"]) and np.array_equal(depth["focal"], ref["focal"])
    assert D.render_scenes(range(a, a + 1), progress=False)[1] is None


def test_training_from_a_first_scene_reads_the_chunks_from_that_seed(tmp_path):
    """`--first-scene S` trains on seeds S.. (so a stage can see scenes no earlier stage saw): the
    chunk files are named from S, and the depth chunks are matched seed by seed."""
    start, n = 16000, 3
    D.render_chunk(tmp_path, start, start + n, depth=True, jobs=1, progress=False)
    got = D.load_or_render_chunked(tmp_path, n, progress=False, start=start)
    assert [s.seed for s in got] == [16000, 16001, 16002]
    depth = T.training_depth(tmp_path, got, "train", False, (320, 240), first_scene=start)
    with np.load(D.depth_cache(tmp_path, "train", start, start + n)) as z:
        assert all(np.array_equal(d, ref) for (d, _), ref in zip(depth, z["depth_mm"]))
    out = tmp_path / "m.pt"
    assert T.main(["--out", str(out), "--steps", "2", "--scenes", str(n), "--first-scene", str(start),
                   "--cache", str(tmp_path), "--batch", "2", "--exprs", "2", "--no-progress",
                   "--depth-tokens"]) == 0
    meta = torch.load(str(out), map_location="cpu", weights_only=True)["meta"]
    assert meta["step"] == 2
    # nothing was rendered for seeds 0..: the run read only the chunk from 16000
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".pkl", ".npz")) == [
        "depth_train_16000-16003.npz", "train_train_train_16000-16003.pkl"]


def test_a_training_step_runs_on_the_test_device_and_saves_cpu_tensors(tmp_path, test_device):
    """On the CPU suite this is the CPU path (only the finite loss can fail there); `pytest --device cuda`
    (scripts/gpu_train.sh, which brings MuJoCo) runs it on the GPU, where every target and token input must
    follow the model and the checkpoint must still hold CPU tensors."""
    if test_device.startswith("cuda") and not torch.cuda.is_available():
        pytest.skip("--device cuda without a GPU")
    samples, depth = D.render_scenes(range(*SEEDS), progress=False, depth=True)
    for k, s in enumerate(samples[:4]):   # stored as the chunk of seeds 0..3, so they take those seeds
        s.seed = k
    D._write_pickle(D.chunk_cache(tmp_path, "train", "train", 0, 4), samples[:4])
    D._write_npz(D.depth_cache(tmp_path, "train", 0, 4), {"seeds": np.arange(4), "depth_mm": depth["depth_mm"][:4],
                                                          "focal": depth["focal"][:4]})
    out = tmp_path / "dev.pt"
    hist = T.train(out, steps=3, n_scenes=4, seed=0, batch_size=2, exprs_per_image=2, lr=1e-3, cache=tmp_path,
                   progress=False, depth_tokens=True, roi_pool=2, device=test_device)
    assert np.isfinite(hist["final_loss"])
    ckpt = torch.load(str(out), weights_only=True)   # no map_location: the tensors must already be CPU ones
    assert all(v.device.type == "cpu" for v in ckpt["state_dict"].values())


def test_an_empty_or_negative_range_is_refused_before_anything_renders(tmp_path):
    for a, b in ((5, 5), (9, 3), (-2, 4)):
        with pytest.raises(ValueError, match="0 <= start < end"):
            D.render_chunk(tmp_path, a, b, depth=True, jobs=2, progress=False)
    with pytest.raises(SystemExit):
        T.main(["--out", str(tmp_path / "m.pt"), "--steps", "1", "--scenes", "2", "--first-scene", "-8",
                "--cache", str(tmp_path)])
    assert list(tmp_path.iterdir()) == []
