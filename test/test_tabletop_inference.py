"""The tabletop backend grounds with `TabletopGrounder.for_inference()` (BatchNorm folded into the
convolutions, channels-last memory). It is only a faster way to run the same network, so these tests
hold it to the eval-mode model's own outputs, on random BatchNorm statistics (where folding matters) and
on the shipped checkpoint through the whole backend."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from grounding_node.models.base import BackendConfig
from grounding_node.models.tabletop.modeling import TabletopConfig, TabletopGrounder
from grounding_node.models.tabletop.processing import build_vocab
from grounding_node.sim.expressions import VOCABULARY


def _random_model(**cfg) -> TabletopGrounder:
    """Random weights and random BatchNorm statistics and affine parameters (fresh BatchNorm layers are the
    identity, which would let a wrong fold pass)."""
    torch.manual_seed(0)
    model = TabletopGrounder(TabletopConfig(vocab=build_vocab(VOCABULARY), **cfg))
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.3, 3.0)
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.uniform_(m.bias, -0.3, 0.3)
    return model.eval()


@pytest.mark.parametrize("hw", [(240, 320), (240, 424), (320, 240), (264, 472)])
def test_the_folded_channels_last_model_computes_the_same_maps_and_tokens(hw):
    model = _random_model(roi_pool=3, depth_tokens=True)
    fast = model.for_inference()
    x = torch.rand(1, 3, *hw) - 0.5
    with torch.inference_mode():
        (f_ref, fine_ref), det_ref = model.encode_image(x)
        (f_fast, fine_fast), det_fast = fast.encode_image(x)
        torch.testing.assert_close(det_fast, det_ref, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(f_fast, f_ref, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(fine_fast, fine_ref, rtol=1e-4, atol=1e-4)
        h, w = det_ref.shape[-2:]
        cells = torch.tensor([[[0, 0], [w - 1, h - 1], [w // 2, h // 3]]])
        boxes = torch.tensor([[[0.1, 0.1, 0.05, 0.08], [0.9, 0.95, 0.2, 0.1], [0.5, 0.33, 0.3, 0.3]]])
        depth = torch.tensor([[[1.0, 0.2, -2.0, -2.5], [0.0, 0.0, 0.0, 0.0], [1.0, -0.5, -1.0, -1.2]]])
        torch.testing.assert_close(fast.candidate_tokens((f_fast, fine_fast), cells, boxes, depth),
                                   model.candidate_tokens((f_ref, fine_ref), cells, boxes, depth),
                                   rtol=1e-4, atol=1e-4)


def test_the_inference_copy_leaves_the_trainable_model_alone():
    model = _random_model()
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    first = model.backbone.net[0][0].weight.detach().clone()
    fast = model.for_inference()
    assert n_bn == 9   # eight backbone blocks and the detection head's
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fast.modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == n_bn
    assert torch.equal(model.backbone.net[0][0].weight, first)
    assert fast.backbone.net[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    assert not model.backbone.net[0][0].weight.is_contiguous(memory_format=torch.channels_last)


def test_the_backend_grounds_the_shipped_checkpoint_exactly_as_the_unfolded_model():
    from grounding_node.models.tabletop.backend import TabletopBackend, load_model
    from grounding_node.sim.scene import TabletopSim

    backend = TabletopBackend(BackendConfig(device="cpu"))
    backend.load()
    reference = TabletopBackend(BackendConfig(device="cpu"))
    reference.load()
    reference.model, _ = load_model(backend.path)   # the plain eval-mode network
    assert any(isinstance(m, nn.BatchNorm2d) for m in reference.model.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in backend.model.modules())
    phrases = ["the red mug", "the second cube from the left", "the ball that is not blue", "all the cans"]
    sim = TabletopSim(640, 480, camera="train")
    try:
        for seed in (3, 11):
            rgb = sim.new_scene(seed).rgb
            fast, ref = backend.ground(rgb, phrases), reference.ground(rgb, phrases)
            assert [len(d) for d in fast] == [len(d) for d in ref] and len(ref[0]) > 0
            for got, want in zip(fast, ref):
                np.testing.assert_allclose([d.score for d in got], [d.score for d in want], atol=1e-4)
                np.testing.assert_allclose([d.box_1024 for d in got], [d.box_1024 for d in want], atol=0.05)
    finally:
        sim.close()
