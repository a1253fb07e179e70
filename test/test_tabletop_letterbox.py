"""Issue 11: frames keep their aspect ratio (letterbox) and boxes map back exactly onto the 0-1024 grid."""

from __future__ import annotations

import numpy as np
import pytest

from grounding_node.models.tabletop.processing import (
    PAD_VALUE,
    Letterbox,
    boxes_to_1024,
    decode_candidates,
    input_size,
    letterbox_image,
    letterbox_uint8,
)

NET = (320, 240)
SIZES = [(640, 480), (1280, 720), (1920, 1080), (848, 480), (1280, 800), (480, 640), (720, 1280)]


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


@pytest.mark.parametrize("frame,expected", [
    ((640, 480), (320, 240)),     # 4:3: the base input
    ((1280, 720), (424, 240)),    # 16:9: 240 * 16/9 = 426.7 -> 424 (multiple of 8), 1/3 scale like 4:3 at 640x480
    ((1920, 1080), (424, 240)),
    ((848, 480), (424, 240)),
    ((1280, 800), (384, 240)),    # 16:10
    ((480, 640), (240, 320)),     # portrait: the base turned on its side, objects at the scale of 4:3
    ((720, 1280), (240, 424)),    # 9:16 (a phone, or a camera mounted on its side)
    ((500, 500), (320, 240)),     # square: letterboxed into the base
    ((3840, 1080), (640, 240)),   # 32:9: at most twice the base width
])
def test_input_size_keeps_the_frame_aspect_at_the_base_height(frame, expected):
    assert input_size(frame, NET) == expected


def test_size_head_is_rescaled_to_a_wider_input():
    """The size head predicts fractions of the 320x240 input it was trained on (a convolution sees pixels):
    decoded on a 424-wide input without `wh_scale`, an object 64 px wide came back 64 * 424/320 px."""
    import torch

    for width in (320, 424):
        det = torch.full((5, 30, width // 8), -9.0)
        det[0, 12, 20] = 5.0                                   # one peak
        det[1, 12, 20] = np.log(64 / 320 / 0.05)               # trained as 64 px of 320
        det[2, 12, 20] = np.log(48 / 240 / 0.05)               # 48 px of 240
        _, boxes, _ = decode_candidates(det, wh_scale=(NET[0] / width, 1.0))
        assert len(boxes) == 1
        np.testing.assert_allclose(boxes[0, 2:].numpy() * [width, 240], [64.0, 48.0], rtol=1e-5)


@pytest.mark.parametrize("size", [(640, 480), (1280, 720), (848, 480), (1280, 800)])
def test_shipped_model_boxes_fit_objects_at_every_aspect(size):
    """World truth: on rendered scenes, the model's candidate boxes fit the objects' true boxes at 4:3, 16:9 and
    16:10 alike (before the size-head rescaling, 16:9 boxes were 1.33x too wide: median IoU 0.73)."""
    from grounding_node.geometry.boxes import box_iou
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend
    from grounding_node.sim.scene import TabletopSim

    backend = create_backend("tabletop", BackendConfig(device="cpu"))
    ious, ratios = [], []
    with TabletopSim(*size, camera="random") as sim:
        for k in range(6):
            scene = sim.new_scene(3_100_000 + k)
            pred = np.array([d.box_1024 for d in backend.ground(scene.rgb, ["the red cube"])[0]])
            for obj in scene.objects:
                iou = box_iou(pred, obj.box_1024[None])[:, 0]
                j = int(iou.argmax())
                ious.append(iou[j])
                ratios.append((pred[j, 2:] - pred[j, :2]) / (obj.box_1024[2:] - obj.box_1024[:2]))
    r = np.median(np.array(ratios), axis=0)
    assert np.median(ious) >= 0.85 and np.mean(np.array(ious) >= 0.5) >= 0.95, (np.median(ious), ious)
    assert np.all(np.abs(r - 1) <= 0.08), r


def _box_fit(backend, size, n):
    from grounding_node.geometry.boxes import box_iou
    from grounding_node.sim.scene import TabletopSim

    ious = []
    with TabletopSim(*size, camera="random") as sim:
        for k in range(n):
            scene = sim.new_scene(3_100_000 + k)
            pred = np.array([d.box_1024 for d in backend.ground(scene.rgb, ["the red cube"])[0]])
            ious += [box_iou(pred, obj.box_1024[None])[:, 0].max() for obj in scene.objects]
    return float(np.median(ious)), float(np.mean(np.array(ious) >= 0.5))


def test_portrait_frames_ground_on_the_base_turned_on_its_side(monkeypatch):
    """A 480x640 frame goes in at 240x320 (same pixels, objects at the trained 4:3 scale), not letterboxed
    into 320x240 where it used 180x240: on the same 20 rendered scenes the boxes fit the objects better
    (measured with the shipped model: 94.9 against 90.8 % of objects at IoU >= 0.5, median IoU 0.88 against
    0.85). The model never trained on portrait frames, so they stay below landscape (100 % at 640x480)."""
    from grounding_node.models import tabletop
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    backend = create_backend("tabletop", BackendConfig(device="cpu"))
    median_new, hit_new = _box_fit(backend, (480, 640), 20)
    monkeypatch.setattr(tabletop.processing, "input_size", lambda frame, base, stride=8: tuple(base))
    median_old, hit_old = _box_fit(backend, (480, 640), 20)
    assert median_new >= 0.85 and hit_new >= 0.93, (median_new, hit_new)
    assert hit_new >= hit_old + 0.03 and median_new > median_old, (hit_new, hit_old, median_new, median_old)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("aspect_aware", [False, True])
def test_a_drawn_box_lands_where_the_letterbox_says(size, aspect_aware):
    """An analytic white rectangle in the frame appears in the network input at to_network(box), unsquashed,
    in the fixed base input and in the aspect-aware one the backend uses."""
    w, h = size
    net = input_size(size, NET) if aspect_aware else NET
    box = (int(0.3 * w), int(0.2 * h), int(0.55 * w), int(0.7 * h))   # x0, y0, x1, y1 (exclusive)
    img = np.zeros((h, w, 3), np.uint8)
    img[box[1]:box[3], box[0]:box[2]] = 255
    net_img, lb = letterbox_uint8(img, net)
    assert net_img.shape == (net[1], net[0], 3)
    cx, cy, bw, bh = lb.to_network(_cxcywh(box, w, h))[0]
    ys, xs = np.nonzero(net_img[..., 0] >= 200)
    measured = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], float)
    expected = np.array([(cx - bw / 2) * net[0], (cy - bh / 2) * net[1], (cx + bw / 2) * net[0],
                         (cy + bh / 2) * net[1]])
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
