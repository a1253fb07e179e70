"""Adversarial: the metric width/height of a box under lens distortion, against analytic truth.

A fronto-parallel plate of known size at a known pose is projected with OpenCV itself (cv2.projectPoints /
cv2.fisheye.projectPoints on a dense outline: the independent forward model), and the tight pixel box around
its image (what a detector draws) must give the plate's true size within 1 mm. A straight edge of the plate
images as a curve under distortion, so the box touches the plate's image at one point per side, not at the
midpoint of the box's side: reading the size between the back-projected midpoints of opposite box sides was
7 mm (12 %) too tall for a 6 cm plate off-axis with k1 = -0.28.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from grounding_node.geometry import Intrinsics, estimate_object_3d

W, H = 640, 480
K = np.array([[500.0, 0.0, 322.3], [0.0, 505.0, 236.1], [0.0, 0.0, 1.0]])
LENSES = {
    "barrel_plumb_bob": ("plumb_bob", [-0.28, 0.08, 0.0005, -0.001, -0.01]),
    "pincushion_plumb_bob": ("plumb_bob", [0.15, 0.05, 0.0, 0.0, 0.0]),
    "rational_polynomial": ("rational_polynomial", [-0.2, 0.05, 0.001, 0.0005, 0.0, 0.1, 0.02, 0.0]),
    "equidistant": ("equidistant", [0.05, -0.02, 0.003, -0.001]),
}
POSES = [(0.0, 0.0, 0.8), (0.25, 0.18, 0.6), (-0.3, 0.2, 0.7), (0.05, 0.2, 0.6), (0.3, -0.02, 0.65)]
HALF = (0.05, 0.03)   # the plate: 10 cm x 6 cm


def tight_box(model: str, d, centre) -> list:
    """The detector's box: min/max of the projected dense outline, as continuous edges (pixel + 0.5)."""
    x, y, z = centre
    t = np.linspace(-1.0, 1.0, 4001)
    hw, hh = HALF
    outline = np.concatenate([
        np.c_[x + hw * t, np.full_like(t, y - hh)], np.c_[x + hw * t, np.full_like(t, y + hh)],
        np.c_[np.full_like(t, x - hw), y + hh * t], np.c_[np.full_like(t, x + hw), y + hh * t]])
    pts = np.c_[outline, np.full(len(outline), z)]
    if model == "equidistant":
        uv = cv2.fisheye.projectPoints(pts.reshape(-1, 1, 3), np.zeros((1, 1, 3)), np.zeros((1, 1, 3)), K,
                                       np.asarray(d, np.float64).reshape(4, 1))[0]
    else:
        uv = cv2.projectPoints(pts, np.zeros(3), np.zeros(3), K, np.asarray(d, np.float64))[0]
    uv = uv.reshape(-1, 2)
    (u0, v0), (u1, v1) = uv.min(axis=0), uv.max(axis=0)
    assert 0 < u0 and u1 < W - 1 and 0 < v0 and v1 < H - 1
    return [u0 + 0.5, v0 + 0.5, u1 + 0.5, v1 + 0.5]


@pytest.mark.parametrize("lens", sorted(LENSES))
@pytest.mark.parametrize("centre", POSES)
def test_the_tight_box_of_a_plate_gives_its_true_size(lens, centre):
    model, d = LENSES[lens]
    intr = Intrinsics.from_calibration(K.reshape(-1), W, H, d=d, distortion_model=model)
    depth = np.full((H, W), centre[2], np.float32)     # the plate's plane; only x/y size is checked
    obj = estimate_object_3d(depth, tight_box(model, d, centre), intr, (W, H))
    assert obj.has_position
    np.testing.assert_allclose(obj.size[:2], [2 * HALF[0], 2 * HALF[1]], atol=0.001)


def test_without_distortion_the_size_is_the_pinhole_extent():
    """No distortion: width = pixels * z / fx exactly (hand maths), whatever the box's place."""
    intr = Intrinsics(500.0, 505.0, 322.3, 236.1, W, H)
    depth = np.full((H, W), 0.7, np.float32)
    obj = estimate_object_3d(depth, [500.0, 40.0, 600.5, 100.0], intr, (W, H))
    np.testing.assert_allclose(obj.size[:2], [100.5 * 0.7 / 500.0, 60.0 * 0.7 / 505.0], rtol=1e-6)


@pytest.mark.parametrize("box", [[np.nan, 10, 50, 60], [10, 10, np.inf, 60], [10, 10, 50], "10 10 50 60"])
def test_a_box_that_is_not_four_finite_numbers_is_a_clear_error(box):
    """Direct callers of the core got "cannot convert float NaN to integer" (the pipeline filters such boxes)."""
    intr = Intrinsics(500.0, 505.0, 322.3, 236.1, W, H)
    with pytest.raises(ValueError, match="4 finite pixel coordinates"):
        estimate_object_3d(np.ones((H, W), np.float32), box, intr, (W, H))
