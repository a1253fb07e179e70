"""A few training steps on a handful of rendered scenes: the loss must fall (no full training in CI)."""

from __future__ import annotations

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
