"""Issue 11: frames keep their aspect ratio (letterbox) and boxes map back exactly onto the 0-1024 grid."""

from __future__ import annotations

import numpy as np
import pytest

from grounding_node.models.tabletop.processing import (
    PAD_VALUE,
    Letterbox,
    boxes_to_1024,
    letterbox_image,
    letterbox_uint8,
)

NET = (320, 240)
SIZES = [(640, 480), (1280, 720), (1920, 1080), (848, 480), (1280, 800)]


def _cxcywh(xyxy, w, h):
    x0, y0, x1, y1 = xyxy
    return np.array([[(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]])


@pytest.mark.parametrize("size", SIZES)
def test_aspect_is_kept(size):
    lb = Letterbox.fit(size, NET)
    assert abs(lb.w / lb.h - size[0] / size[1]) < 0.02
    assert lb.w <= NET[0] and lb.h <= NET[1] and (lb.w == NET[0] or lb.h == NET[1])
    assert lb.x0 == (NET[0] - lb.w) // 2 and lb.y0 == (NET[1] - lb.h) // 2


@pytest.mark.parametrize("size", SIZES)
def test_boxes_map_back_exactly(size):
    w, h = size
    lb = Letterbox.fit(size, NET)
    rng = np.random.default_rng(0)
    for _ in range(20):
        x0, x1 = sorted(rng.uniform(0, w, 2))
        y0, y1 = sorted(rng.uniform(0, h, 2))
        frame = _cxcywh((x0, y0, x1, y1), w, h)
        net = lb.to_network(frame)
        np.testing.assert_allclose(lb.to_frame(net), frame, atol=1e-12)
        expected = np.array([x0 / w, y0 / h, x1 / w, y1 / h]) * 1024
        np.testing.assert_allclose(boxes_to_1024(net, lb)[0], expected, atol=1e-9)


@pytest.mark.parametrize("size", SIZES)
def test_a_drawn_box_lands_where_the_letterbox_says(size):
    """An analytic white rectangle in the frame appears in the network input at to_network(box), unsquashed."""
    w, h = size
    box = (int(0.3 * w), int(0.2 * h), int(0.55 * w), int(0.7 * h))   # x0, y0, x1, y1 (exclusive)
    img = np.zeros((h, w, 3), np.uint8)
    img[box[1]:box[3], box[0]:box[2]] = 255
    net_img, lb = letterbox_uint8(img, NET)
    assert net_img.shape == (NET[1], NET[0], 3)
    cx, cy, bw, bh = lb.to_network(_cxcywh(box, w, h))[0]
    ys, xs = np.nonzero(net_img[..., 0] >= 200)
    measured = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float)
    expected = np.array([(cx - bw / 2) * NET[0], (cy - bh / 2) * NET[1], (cx + bw / 2) * NET[0],
                         (cy + bh / 2) * NET[1]])
    np.testing.assert_allclose(measured, expected, atol=1.01)
    # the bars are grey and outside the frame's area; the frame's aspect survives
    if lb.y0 > 0:
        assert (net_img[: lb.y0] == PAD_VALUE).all() and (net_img[lb.y0 + lb.h:] == PAD_VALUE).all()
    if lb.x0 > 0:
        assert (net_img[:, : lb.x0] == PAD_VALUE).all()
    mw, mh = measured[2] - measured[0], measured[3] - measured[1]
    assert abs((mw / mh) - ((box[2] - box[0]) / (box[3] - box[1]))) < 0.08


def test_letterbox_image_tensor():
    t, lb = letterbox_image(np.full((720, 1280, 3), 255, np.uint8), NET)
    assert tuple(t.shape) == (1, 3, 240, 320)
    assert float(t[0, 0, 120, 160]) == pytest.approx(0.5)
    assert abs(float(t[0, 0, 0, 160])) < 0.01          # bar: mid grey ~ 0 after normalisation
