"""Geometry: exact grid conversions, intrinsics, depth units/validity, ROI and the 3D estimate against an
analytic scene (plane at 1.0 m with a fronto-parallel face at 0.6 m)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from grounding_node.geometry import (
    Intrinsics,
    backproject,
    box1024_to_pixels,
    box1024_to_xywh_norm,
    box_iou,
    clamp_box1024,
    depth_to_metres,
    estimate_object_3d,
    estimate_objects_3d,
    intrinsics_from_fovy,
    pixels_to_box1024,
    project,
    roi_slices,
    scale_box_pixels,
    valid_depth_mask,
)

W, H = 640, 480
INTR = Intrinsics(525.0, 525.0, (W - 1) / 2, (H - 1) / 2, W, H)


def test_worked_example_is_exact():
    px = box1024_to_pixels([256, 512, 768, 900], 1920, 1080)
    assert px.tolist() == [480.0, 540.0, 1440.0, 949.21875]
    np.testing.assert_array_equal(box1024_to_xywh_norm([256, 512, 768, 900]), [0.25, 0.5, 0.5, 388 / 1024])


def test_rank_is_preserved_and_round_trip_is_exact():
    boxes = np.array([[0, 0, 1024, 1024], [10.5, 20.25, 30, 40]])
    px = box1024_to_pixels(boxes, 1280, 720)
    assert px.shape == (2, 4) and box1024_to_pixels(boxes[1], 1280, 720).shape == (4,)
    np.testing.assert_allclose(pixels_to_box1024(px, 1280, 720), boxes, rtol=0, atol=1e-12)


def test_clamp_orders_and_clips():
    np.testing.assert_array_equal(clamp_box1024([900, -5, 100, 2000]), [100, 0, 900, 1024])
    np.testing.assert_array_equal(pixels_to_box1024([-10, 5, 700, 490], W, H), [0, 5 * 1024 / H, 1024, 1024])


def test_scale_box_and_iou():
    np.testing.assert_array_equal(scale_box_pixels([100, 50, 300, 250], (640, 480), (320, 240)), [50, 25, 150, 125])
    iou = box_iou([[0, 0, 10, 10], [0, 0, 0, 0]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(iou, [[1, 1 / 3, 0], [0, 0, 0]])


def test_intrinsics_validity_and_from_k():
    assert INTR.is_valid()
    assert not Intrinsics.from_K([0] * 9, W, H).is_valid()
    assert not Intrinsics(np.nan, 1, 1, 1, W, H).is_valid()
    k = Intrinsics.from_K([[500, 0, 320], [0, 510, 240], [0, 0, 1]], W, H)
    assert (k.fx, k.fy, k.cx, k.cy) == (500, 510, 320, 240)
    np.testing.assert_array_equal(k.K, [[500, 0, 320], [0, 510, 240], [0, 0, 1]])


def test_scaled_intrinsics_project_a_point_to_the_same_relative_place():
    point = np.array([[0.12, -0.05, 0.9]])
    full = project(point, INTR)[0]
    half = INTR.scaled(W // 2, H // 2)
    p_half = project(point, half)[0]
    # pixel-centre convention: u_half = (u + 0.5) / 2 - 0.5
    np.testing.assert_allclose(p_half, (full + 0.5) / 2 - 0.5, atol=1e-12)


def test_fovy_intrinsics():
    intr = intrinsics_from_fovy(90.0, 640, 480)
    assert intr.fy == pytest.approx(240.0) and intr.fx == intr.fy
    assert (intr.cx, intr.cy) == (319.5, 239.5)


def test_backproject_inverts_project():
    pts = np.array([[0.1, 0.2, 1.0], [-0.3, 0.05, 2.5]])
    uv = project(pts, INTR)
    np.testing.assert_allclose(backproject(uv[:, 0], uv[:, 1], pts[:, 2], INTR), pts, atol=1e-12)


def test_depth_units_and_invalid_values():
    mm = np.array([[0, 1000, 65535]], np.uint16)
    m = depth_to_metres(mm, "16UC1")
    assert np.isnan(m[0, 0]) and m[0, 1] == pytest.approx(1.0) and m[0, 2] == pytest.approx(65.535)
    f = np.array([[np.nan, np.inf, -1.0, 0.0, 0.75]], np.float32)
    out = depth_to_metres(f, "32FC1")
    assert np.isnan(out[0, :4]).all() and out[0, 4] == pytest.approx(0.75)
    assert depth_to_metres(np.array([[2]], np.uint16), "16UC1", depth_scale=0.25)[0, 0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unsupported depth encoding"):
        depth_to_metres(mm, "rgb8")
    mask = valid_depth_mask(np.array([0.05, 0.5, 20.0, np.nan]), 0.1, 10.0)
    assert mask.tolist() == [False, True, False, False]


def _scene(encoding="32FC1", scale=1):
    depth = np.full((H, W), 1.0, np.float32)
    depth[120:240, 100:220] = 0.6            # the face: columns 100..219, rows 120..239
    if scale > 1:
        depth = depth[::scale, ::scale].copy()
    if encoding == "16UC1":
        depth = np.round(depth * 1000).astype(np.uint16)
    return depth


FACE_BOX = [100.0, 120.0, 220.0, 240.0]
FACE_CENTRE = np.array([((100 + 219) / 2 - INTR.cx) * 0.6 / 525.0, ((120 + 239) / 2 - INTR.cy) * 0.6 / 525.0, 0.6])


@pytest.mark.parametrize("encoding", ["32FC1", "16UC1"])
def test_position_of_a_face_is_its_analytic_centre(encoding):
    obj = estimate_object_3d(_scene(encoding), FACE_BOX, INTR, (W, H), encoding=encoding)
    assert obj.has_position and obj.valid_fraction == 1.0
    np.testing.assert_allclose(obj.position, FACE_CENTRE, atol=1e-3)
    np.testing.assert_allclose(obj.size[:2], [120 * 0.6 / 525, 120 * 0.6 / 525], rtol=1e-6)
    assert obj.size[2] == pytest.approx(0.0, abs=1e-6)


def test_median_ignores_background_caught_by_a_loose_box():
    loose = [90.0, 110.0, 230.0, 250.0]       # the box overhangs the face; ROI fraction 0.9 catches the plane
    obj = estimate_object_3d(_scene(), loose, INTR, (W, H), roi_fraction=0.9)
    assert obj.has_position and obj.valid_fraction == 1.0
    assert obj.position[2] == pytest.approx(0.6)


def test_depth_at_half_resolution_is_scaled_into():
    obj = estimate_object_3d(_scene(scale=2), FACE_BOX, INTR, (W, H))
    assert obj.has_position
    np.testing.assert_allclose(obj.position, FACE_CENTRE, atol=2.5e-3)


def test_roi_bounds():
    assert roi_slices(FACE_BOX, 0.5, (W, H), (W, H)) == (150, 210, 130, 190)
    assert roi_slices(FACE_BOX, 0.5, (W, H), (W // 2, H // 2)) == (75, 105, 65, 95)
    assert roi_slices([700, 10, 800, 20], 0.5, (W, H), (W, H)) == (0, 0, 0, 0)     # outside
    v0, v1, u0, u1 = roi_slices([10.2, 10.2, 10.3, 10.3], 0.5, (W, H), (W, H))    # sub-pixel box
    assert (v1 - v0, u1 - u0) == (1, 1)
    assert roi_slices([600, 400, 700, 500], 1.0, (W, H), (W, H)) == (400, 480, 600, 640)  # clipped


@pytest.mark.parametrize("fill", [0.0, np.nan])
def test_all_invalid_depth_gives_no_position_without_warnings(fill):
    depth = np.full((H, W), fill, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        obj = estimate_object_3d(depth, FACE_BOX, INTR, (W, H))
        zeros16 = estimate_object_3d(np.zeros((H, W), np.uint16), FACE_BOX, INTR, (W, H), encoding="16UC1")
    for o in (obj, zeros16):
        assert not o.has_position and o.valid_fraction == 0.0
        assert np.all(o.position == 0) and np.all(np.isfinite(o.size))


def test_too_few_valid_pixels_and_boxes_outside():
    depth = np.full((H, W), np.nan, np.float32)
    depth[180, 160] = 0.6
    assert not estimate_object_3d(depth, FACE_BOX, INTR, (W, H), min_valid_pixels=10).has_position
    assert estimate_object_3d(depth, FACE_BOX, INTR, (W, H), min_valid_pixels=1).has_position
    objs = estimate_objects_3d(_scene(), [FACE_BOX, [700, 500, 800, 600]], INTR, (W, H))
    assert [o.has_position for o in objs] == [True, False]


def test_inside_oriented_box():
    from grounding_node.geometry.box3d import inside_box

    c, s_ = np.cos(0.5), np.sin(0.5)
    R = np.array([[c, -s_, 0], [s_, c, 0], [0, 0, 1]])
    corners = np.array([[x, y, z] for x in (-0.1, 0.1) for y in (-0.02, 0.02) for z in (0, 0.05)]) @ R.T + [0, 0, 1]
    assert inside_box([0, 0, 1.02], corners)
    assert inside_box(R @ [0.09, 0.0, 0.01] + [0, 0, 1], corners)
    assert not inside_box(R @ [0.0, 0.03, 0.01] + [0, 0, 1], corners)   # outside along the thin rotated axis
    assert not inside_box([0, 0, 1.06], corners)


@pytest.mark.parametrize("half", [(0.03, 0.03, 0.03), (0.03, 0.03, 0.05), (0.02, 0.04, 0.02)])
def test_inside_box_is_exact_for_cubes_and_cylinder_boxes(half):
    """A cube's corners (and a can's: two equal sides) have no principal directions: axes taken from an SVD
    were arbitrary, and the box tested was up to sqrt(3) times too large. 1 cm outside a face is outside."""
    from itertools import product

    from grounding_node.geometry.box3d import inside_box

    a, b = 0.5236, 0.3
    R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]) @ \
        np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    centre = np.array([0.05, -0.02, 0.8])
    corners = np.array([[sx * half[0], sy * half[1], sz * half[2]] for sx, sy, sz in product((-1, 1), repeat=3)])
    corners = corners @ R.T + centre
    rng = np.random.default_rng(0)
    for order in (np.arange(8), rng.permutation(8)):        # any corner order
        c = corners[order]
        for axis in range(3):
            for sign in (-1, 1):
                e = np.zeros(3)
                e[axis] = sign
                assert inside_box(centre + R @ (e * (half[axis] - 0.001)), c)
                assert not inside_box(centre + R @ (e * (half[axis] + 0.01)), c)
                assert inside_box(centre + R @ (e * (half[axis] + 0.01)), c, margin=0.011)
        assert not inside_box(centre + R @ (np.array(half) * 1.2), c)   # beyond a corner


def test_large_roi_read_on_a_sample_matches_the_full_roi_on_a_tilted_plane():
    """Boxes whose ROI exceeds MAX_ESTIMATE_PIXELS are read on a jittered grid (cost bounded); on a tilted
    plane the median position must match the full-ROI median (computed here with roi_points, stride 1)."""
    from grounding_node.geometry.depth import MAX_ESTIMATE_PIXELS, roi_points

    w, h = 1280, 720
    intr = Intrinsics(900.0, 900.0, (w - 1) / 2, (h - 1) / 2, w, h)
    v, u = np.mgrid[0:h, 0:w]
    depth = (1.0 + 0.0004 * u + 0.0002 * v).astype(np.float32)    # a plane tilted in both axes
    box = [200.0, 100.0, 1000.0, 650.0]                            # ROI 400x275 px > the cap
    est = estimate_object_3d(depth, box, intr, (w, h), roi_fraction=0.5, encoding="32FC1")
    full, n = roi_points(depth, box, intr, (w, h), roi_fraction=0.5, encoding="32FC1")
    assert n == len(full) > MAX_ESTIMATE_PIXELS
    assert np.abs(est.position - np.median(full, axis=0)).max() < 1e-3
    assert est.n_valid == n and est.valid_fraction == 1.0


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("side", [60, 130, 200, 400, 800])
def test_depth_valid_on_a_regular_grid_is_read_for_every_box_size(side, offset):
    """Depth registered up to twice its resolution is valid on every second row and column (25 %). The old
    sub-grid read of large ROIs (every k-th row and column) aliased with that pattern: a 130x130 box read only
    holes (no position, "too few valid pixels") and a 400x400 box only valid pixels (valid_fraction 1.0),
    flipping with a one-pixel shift of the box (found by an adversarial script)."""
    w, h = 1280, 960
    intr = Intrinsics(1000.0, 1000.0, 639.5, 479.5, w, h)
    depth = np.zeros((h, w), np.uint16)
    depth[1::2, 1::2] = 1000
    x0 = y0 = 200 + offset
    box = [x0, y0, x0 + side, y0 + side]
    est = estimate_object_3d(depth, box, intr, (w, h), encoding="16UC1")
    assert est.has_position
    assert est.valid_fraction == pytest.approx(0.25, abs=0.02)
    # analytic: the ROI's centre pixel back-projected at 1 m (the median of a symmetric grid is its centre
    # to within one grid step, 2 px = 2 mm at f = 1000)
    cx = (x0 + side / 2 - 0.5 - intr.cx) / intr.fx
    cy = (y0 + side / 2 - 0.5 - intr.cy) / intr.fy
    np.testing.assert_allclose(est.position, [cx, cy, 1.0], atol=2.5e-3)
    from grounding_node.geometry.depth import roi_slices

    v0, v1, u0, u1 = roi_slices(box, 0.5, (w, h), (w, h))
    assert abs(est.n_valid - (v1 - v0) * (u1 - u0) / 4) <= 0.02 * (v1 - v0) * (u1 - u0)
