"""Issue #9: 3D positions honour the whole sensor_msgs/CameraInfo (distortion models, rectified P, ROI,
binning, depth at another resolution), checked against analytic truth.

The truth never comes from the code under test: a known 3D point is projected with the distortion formulas
of the OpenCV documentation, written out here in numpy (Brown-Conrady with the rational denominator,
Kannala-Brandt equidistant), then mapped to the published image by REP 104's crop-then-bin with the
pixel-centre convention (a published pixel u covers full-resolution pixels x_offset + b*u .. + b-1, centre
x_offset + b*u + (b-1)/2). To make that pixel an integer (a depth image has values at integers only), the
calibration's principal point is shifted by the fractional remainder: u = fx * x'' + cx, so this moves the
projection exactly and needs no inverse model. A depth image with that one valid pixel then has to give the
point back through `estimate_object_3d` within 2 mm, where the old K-only pinhole reading is > 1 cm off.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np
import pytest
import yaml

from grounding_node.geometry import Intrinsics, backproject, estimate_object_3d, project

TOL_M = 0.002


# ------------------------------------------------------------------------------------------------------
# independent forward models (OpenCV documentation formulas)
def brown_conrady(x: np.ndarray, y: np.ndarray, d) -> Tuple[np.ndarray, np.ndarray]:
    """x'' = x (1 + k1 r2 + k2 r4 + k3 r6) / (1 + k4 r2 + k5 r4 + k6 r6) + 2 p1 x y + p2 (r2 + 2 x^2), and
    y'' likewise (calib3d docs)."""
    k1, k2, p1, p2, k3, k4, k5, k6 = list(d) + [0.0] * (8 - len(d))
    r2 = x ** 2 + y ** 2
    radial = (1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3) / (1 + k4 * r2 + k5 * r2 ** 2 + k6 * r2 ** 3)
    return (x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x ** 2),
            y * radial + p1 * (r2 + 2 * y ** 2) + 2 * p2 * x * y)


def kannala_brandt(x: np.ndarray, y: np.ndarray, d) -> Tuple[np.ndarray, np.ndarray]:
    """theta = atan(r), theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8),
    x' = (theta_d / r) a (fisheye module docs)."""
    k1, k2, k3, k4 = d
    r = np.sqrt(x ** 2 + y ** 2)
    th = np.arctan(r)
    th_d = th * (1 + k1 * th ** 2 + k2 * th ** 4 + k3 * th ** 6 + k4 * th ** 8)
    s = th_d / r
    return x * s, y * s


@dataclass(frozen=True)
class Case:
    """A calibration (full-resolution sensor) and how the published image derives from it."""

    name: str
    K: Tuple[float, float, float, float]            # fx fy cx cy
    size: Tuple[int, int]                          # calibrated width, height
    model: str = "plumb_bob"
    D: Tuple[float, ...] = ()
    P: Optional[Tuple[float, float, float, float, float]] = None   # fx' fy' cx' cy' Tx (rectified)
    binning: int = 1
    roi: Tuple[int, int, int, int] = (0, 0, 0, 0)                 # x_offset y_offset width height

    @property
    def rectified(self) -> bool:
        return self.P is not None

    def published_size(self) -> Tuple[int, int]:
        x, y, w, h = self.roi
        w, h = (w or self.size[0] - x), (h or self.size[1] - y)
        return w // self.binning, h // self.binning

    def full_res_pixel(self, pts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Where the sensor sees points (N, 3): the ground truth."""
        X, Y, Z = pts[:, 0], pts[:, 1], pts[:, 2]
        if self.rectified:   # points in the image's own frame: a stereo camera's Tx plays no part
            fx, fy, cx, cy, _ = self.P
            return fx * X / Z + cx, fy * Y / Z + cy
        fx, fy, cx, cy = self.K
        x, y = X / Z, Y / Z
        if self.model == "equidistant":
            xd, yd = kannala_brandt(x, y, self.D)
        elif self.D:
            xd, yd = brown_conrady(x, y, self.D)
        else:
            xd, yd = x, y
        return fx * xd + cx, fy * yd + cy

    def published_pixel(self, pts: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        uf, vf = self.full_res_pixel(pts)
        b, (x0, y0) = self.binning, self.roi[:2]
        return (uf - x0 + 0.5) / b - 0.5, (vf - y0 + 0.5) / b - 0.5

    def shifted(self, du: float, dv: float) -> "Case":
        """The principal point moved by (du, dv) full-resolution pixels (moves every projection by that)."""
        if self.rectified:
            fx, fy, cx, cy, tx = self.P
            return dataclasses.replace(self, P=(fx, fy, cx + du, cy + dv, tx))
        fx, fy, cx, cy = self.K
        return dataclasses.replace(self, K=(fx, fy, cx + du, cy + dv))

    def k_list(self):
        fx, fy, cx, cy = self.K
        return [float(x) for x in (fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0)]

    def p_list(self):
        if not self.rectified:
            fx, fy, cx, cy = self.K
            tx = 0.0
        else:
            fx, fy, cx, cy, tx = self.P
        return [float(x) for x in (fx, 0.0, cx, tx, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0)]

    def intrinsics(self) -> Intrinsics:
        return Intrinsics.from_calibration(self.k_list(), *self.size, d=self.D, distortion_model=self.model,
                                           p=self.p_list(), rectified=self.rectified,
                                           binning=(self.binning, self.binning), roi=self.roi)

    def old_pinhole(self, u: float, v: float, z: float) -> np.ndarray:
        """What the K-only code computed for published pixel (u, v) at depth z (the issue's bug)."""
        fx, fy, cx, cy = self.K
        return np.array([(u - cx) * z / fx, (v - cy) * z / fy, z])


PB = (-0.3, 0.1, 0.001, -0.002, 0.01)                      # plumb_bob k1=-0.3, k2=0.1 plus p1 p2 k3
CASES = [
    Case("plumb_bob", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB),
    Case("rational_polynomial", (900.0, 900.0, 638.2, 361.5), (1280, 720), "rational_polynomial",
         (0.45, -0.12, 0.0012, -0.0009, 0.03, 0.12, 0.05, 0.01)),
    # about 120 degrees horizontally at 1280x800: 640 px = f * 60 degrees
    Case("equidistant", (611.0, 611.0, 639.1, 400.6), (1280, 800), "equidistant", (0.03, -0.01, 0.002, -0.0004)),
    Case("mild_realsense_like", (910.0, 910.0, 643.7, 365.2), (1280, 720), "plumb_bob", (0.1, -0.05, 0.0, 0.0, 0.0)),
    Case("rectified_P_not_K", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB,
         P=(780.0, 780.0, 612.4, 350.9, 0.0)),
    Case("rectified_stereo_right_Tx", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB,
         P=(780.0, 780.0, 612.4, 350.9, -780.0 * 0.05)),
    Case("roi_crop", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB, roi=(640, 360, 600, 330)),
    Case("binning_2x2", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB, binning=2),
    Case("roi_and_binning", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB, binning=2,
         roi=(320, 180, 900, 500)),
    Case("roi_binning_rectified", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB,
         P=(780.0, 780.0, 612.4, 350.9, 0.0), binning=2, roi=(100, 60, 1000, 600)),
]


def _point_seen_at(case: Case, u_t: float, v_t: float, plane=lambda ray: 1.0 / ray[2]) -> np.ndarray:
    """A 3D point on the plane (default z = 1) seen near published pixel (u_t, v_t): a damped fixed-point
    search on the forward model (it need not converge: `_exact_case` makes the pixel exact)."""
    b, (x0, y0) = case.binning, case.roi[:2]
    uf_t, vf_t = x0 + (u_t + 0.5) * b - 0.5, y0 + (v_t + 0.5) * b - 0.5
    fx, fy, cx, cy = case.P[:4] if case.rectified else case.K
    ray = np.array([(uf_t - cx) / fx, (vf_t - cy) / fy, 1.0])
    for _ in range(300):
        uf, vf = case.full_res_pixel((ray * plane(ray))[None])
        ray[0] += 0.5 * (uf_t - uf[0]) / fx
        ray[1] += 0.5 * (vf_t - vf[0]) / fy
    return ray * plane(ray)


def _exact_case(case: Case, frac: Tuple[float, float], plane=lambda ray: 1.0 / ray[2]):
    """(case with its principal point shifted, integer published pixel (u, v), 3D point seen exactly there)."""
    w, h = case.published_size()
    u, v = int(round(frac[0] * (w - 1))), int(round(frac[1] * (h - 1)))
    point = _point_seen_at(case, u, v, plane)
    pu, pv = case.published_pixel(point[None])
    assert abs(pu[0] - u) < 3 and abs(pv[0] - v) < 3           # the search found the neighbourhood
    exact = case.shifted((u - pu[0]) * case.binning, (v - pv[0]) * case.binning)
    pu, pv = exact.published_pixel(point[None])
    np.testing.assert_allclose([pu[0], pv[0]], [u, v], atol=1e-9)
    return exact, u, v, point


def _estimate_at_pixel(intr: Intrinsics, u: int, v: int, z: float, image_wh, depth_wh=None):
    """estimate_object_3d on a depth image whose only valid pixel is (u, v) (in depth pixels), with a box
    around it given in colour-image pixels."""
    dw, dh = depth_wh or image_wh
    depth = np.full((dh, dw), np.nan, np.float32)
    depth[v, u] = z
    sx, sy = image_wh[0] / dw, image_wh[1] / dh
    box = [(u - 2) * sx, (v - 2) * sy, (u + 3) * sx, (v + 3) * sy]
    return estimate_object_3d(depth, box, intr, image_wh, roi_fraction=1.0, min_valid_pixels=1,
                              min_depth=0.01, max_depth=100.0)


# ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("frac", [(0.97, 0.96), (0.03, 0.04), (0.5, 0.5)], ids=["corner", "other_corner", "centre"])
def test_estimate_object_3d_recovers_the_point_on_a_plane_at_1m(case, frac):
    exact, u, v, point = _exact_case(case, frac)
    intr = exact.intrinsics()
    assert intr.is_valid() and not intr.problems
    assert (intr.width, intr.height) == case.published_size()
    obj = _estimate_at_pixel(intr, u, v, float(point[2]), case.published_size())
    assert obj.has_position and obj.n_valid == 1
    np.testing.assert_allclose(obj.position, point, atol=TOL_M)
    if frac != (0.5, 0.5):
        # regression (issue #9's table): the K-only pinhole reading was centimetres off near the corner
        assert np.linalg.norm(exact.old_pinhole(u, v, float(point[2])) - point) > 0.01


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_tilted_plane_back_projection_and_projection_round_trip(case):
    """Many sub-pixel points of a tilted plane near a corner: backproject(pixel, z) = point and
    project(point) = pixel (the exact inverse)."""
    n = np.array([0.35, -0.25, 1.0])
    n /= np.linalg.norm(n)
    plane = lambda ray: 1.2 / float(n @ ray)                    # noqa: E731 - n . X = 1.2
    exact, u, v, centre = _exact_case(case, (0.95, 0.94), plane)
    offs = np.stack(np.meshgrid(np.linspace(-0.03, 0.03, 7), np.linspace(-0.02, 0.02, 5)), -1).reshape(-1, 2)
    rays = np.column_stack([centre[0] / centre[2] + offs[:, 0], centre[1] / centre[2] + offs[:, 1], np.ones(len(offs))])
    pts = rays * (1.2 / (rays @ n))[:, None]
    pu, pv = exact.published_pixel(pts)
    intr = exact.intrinsics()
    np.testing.assert_allclose(backproject(pu, pv, pts[:, 2], intr), pts, atol=1e-6)
    np.testing.assert_allclose(project(pts, intr), np.column_stack([pu, pv]), atol=1e-6)


def test_depth_at_half_resolution_of_a_distorted_colour_camera():
    """The colour camera is calibrated at 1280x720, depth is registered at 640x360: `scaled` must stay exact
    with distortion (distortion acts on normalised coordinates)."""
    colour = Case("plumb_bob", (900.0, 905.0, 641.3, 357.8), (1280, 720), "plumb_bob", PB)
    half = Case("half", (450.0, 452.5, (641.3 + 0.5) / 2 - 0.5, (357.8 + 0.5) / 2 - 0.5), (640, 360),
                "plumb_bob", PB)                       # the same lens, as the depth image's pixels see it
    exact_half, ud, vd, point = _exact_case(half, (0.97, 0.96))
    # the colour calibration that goes with it (principal point shifted alike)
    shift = np.array(exact_half.K[2:]) - np.array(half.K[2:])
    colour = colour.shifted(*(shift * 2))
    intr = colour.intrinsics()
    obj = _estimate_at_pixel(intr, ud, vd, float(point[2]), (1280, 720), depth_wh=(640, 360))
    np.testing.assert_allclose(obj.position, point, atol=TOL_M)
    # the colour image sees the point at the colour pixel that covers the depth pixel's centre
    cu, cv = colour.published_pixel(point[None])
    np.testing.assert_allclose([cu[0], cv[0]], [(ud + 0.5) * 2 - 0.5, (vd + 0.5) * 2 - 0.5], atol=1e-9)
    assert np.linalg.norm(half.old_pinhole(ud, vd, float(point[2])) - point) > 0.01


def test_size_uses_the_effective_focal_length_near_a_distorted_corner():
    """A 10 cm x 6 cm fronto-parallel patch at 1 m near the corner of a strongly distorted camera: the tight
    box around its projection (what a detector draws; its straight edges image as curves) gives its size
    within 1 mm, where z * pixels / fx is far off. (This test used to build the box from the patch's edge
    midpoints, which cuts the curved image and matched the old midpoint-based extent only.)"""
    case = CASES[0]
    fx, fy, cx, cy = case.K
    centre = np.array([0.55, 0.3, 1.0])
    t = np.linspace(-1.0, 1.0, 4001)
    outline = centre + np.concatenate([
        np.c_[0.05 * t, np.full_like(t, -0.03), 0 * t], np.c_[0.05 * t, np.full_like(t, 0.03), 0 * t],
        np.c_[np.full_like(t, -0.05), 0.03 * t, 0 * t], np.c_[np.full_like(t, 0.05), 0.03 * t, 0 * t]])
    u, v = case.published_pixel(outline)
    box = [u.min() + 0.5, v.min() + 0.5, u.max() + 0.5, v.max() + 0.5]   # pixel coordinate -> continuous edge
    w, h = case.published_size()
    depth = np.ones((h, w), np.float32)
    obj = estimate_object_3d(depth, box, case.intrinsics(), (w, h))
    np.testing.assert_allclose(obj.size[:2], [0.10, 0.06], atol=0.001)
    assert abs((box[2] - box[0]) / fx - 0.10) > 0.005              # the pinhole size is > 5 % off


# ------------------------------------------------------------------------------------------------------
def test_no_distortion_is_the_pinhole_fast_path(monkeypatch):
    import cv2

    def boom(*_a, **_k):
        raise AssertionError("OpenCV called for a camera without distortion")

    monkeypatch.setattr(cv2, "undistortPoints", boom)
    monkeypatch.setattr(cv2, "projectPoints", boom)
    for d in ((), (0.0,) * 5, (0.0,) * 8):
        intr = Intrinsics.from_calibration([500, 0, 320, 0, 500, 240, 0, 0, 1], 640, 480, d=d,
                                           distortion_model="plumb_bob")
        assert intr == Intrinsics(500.0, 500.0, 320.0, 240.0, 640, 480) and not intr.has_distortion
        pts = backproject([10.0, 600.0], [5.0, 470.0], [1.0, 2.0], intr)
        np.testing.assert_allclose(project(pts, intr), [[10, 5], [600, 470]], atol=1e-12)


def test_unknown_model_is_flagged_not_silent():
    intr = Intrinsics.from_calibration([500, 0, 320, 0, 500, 240, 0, 0, 1], 640, 480, d=(0.1, 0.01, 0, 0, 0),
                                       distortion_model="fancy_lens")
    assert not intr.has_distortion and intr.is_valid()
    assert len(intr.problems) == 1 and "fancy_lens" in intr.problems[0]
    # empty model with zero D (many drivers) is fine and quiet
    assert not Intrinsics.from_calibration([500, 0, 320, 0, 500, 240, 0, 0, 1], 640, 480, d=[0] * 5).problems


def test_rectified_with_zero_p_falls_back_to_k_and_says_so():
    intr = Intrinsics.from_calibration([500, 0, 320, 0, 500, 240, 0, 0, 1], 640, 480, d=PB,
                                       distortion_model="plumb_bob", p=[0.0] * 12, rectified=True)
    assert (intr.fx, intr.cx, intr.has_distortion) == (500.0, 320.0, False)
    assert intr.problems and "P is all zeros" in intr.problems[0]


def test_validity_rejects_non_finite_distortion_and_p():
    k = [500, 0, 320, 0, 500, 240, 0, 0, 1]
    assert not Intrinsics.from_calibration(k, 640, 480, d=(np.nan, 0, 0, 0, 0), distortion_model="plumb_bob").is_valid()
    fisheye = Intrinsics.from_calibration(k, 640, 480, d=(0.1, np.inf, 0, 0), distortion_model="equidistant")
    assert not fisheye.is_valid()
    p = [500, 0, 320, np.nan, 0, 500, 240, 0, 0, 0, 1, 0]
    assert not Intrinsics.from_calibration(k, 640, 480, p=p, rectified=True).is_valid()
    assert Intrinsics.from_calibration(k, 640, 480, d=PB, distortion_model="plumb_bob").is_valid()


def test_coefficient_counts():
    k = [500, 0, 320, 0, 500, 240, 0, 0, 1]
    assert len(Intrinsics.from_calibration(k, 640, 480, d=(0.1, 0.01, 0.001), distortion_model="plumb_bob").d) == 4
    for n in (4, 5, 8, 12, 14):
        intr = Intrinsics.from_calibration(k, 640, 480, d=(0.01,) * n, distortion_model="rational_polynomial")
        assert len(intr.d) == n
    fe = Intrinsics.from_calibration(k, 640, 480, d=(0.01, 0.0, 0.0, 0.0, 0.5), distortion_model="equidistant")
    assert len(fe.d) == 4 and fe.problems


@pytest.mark.parametrize("d", [PB + (0.0, 0.0, 0.0, 0.002, -0.001, 0.0015, 0.0005),
                               PB + (0.0, 0.0, 0.0, 0.002, -0.001, 0.0015, 0.0005, 0.01, -0.02)],
                         ids=["thin_prism_12", "tilted_14"])
def test_opencv_12_and_14_coefficients_invert_cv2_project_points(d):
    """Coefficient counts beyond rational_polynomial: OpenCV's own projectPoints is the reference."""
    import cv2

    intr = Intrinsics.from_calibration([900, 0, 641.3, 0, 905, 357.8, 0, 0, 1], 1280, 720, d=d,
                                       distortion_model="plumb_bob")
    assert len(intr.d) == len(d) and not intr.problems
    pts = np.column_stack([np.linspace(-0.6, 0.6, 25), np.linspace(0.35, -0.35, 25), np.linspace(0.8, 2.0, 25)])
    uv = cv2.projectPoints(pts, np.zeros(3), np.zeros(3), intr.K, np.array(d))[0].reshape(-1, 2)
    np.testing.assert_allclose(backproject(uv[:, 0], uv[:, 1], pts[:, 2], intr), pts, atol=1e-6)


def test_pixels_outside_the_model_have_no_ray():
    """Beyond 90 degrees a fisheye pixel has no ray with z > 0: NaN, and estimate_object_3d ignores it."""
    intr = Intrinsics.from_calibration([300, 0, 639.5, 0, 300, 399.5, 0, 0, 1], 1280, 800, d=(0.0, 0.0, 0.0, 1e-9),
                                       distortion_model="equidistant")
    pts = backproject([639.5, 0.0], [399.5, 0.0], [1.0, 1.0], intr)      # corner: theta_d = 2.5 rad
    np.testing.assert_allclose(pts[0], [0, 0, 1], atol=1e-12)
    assert np.all(np.isnan(pts[1, :2]))


# ------------------------------------------------------------------------------------------------------
def _camera_info(case: Case):
    # ROS messages: every stage of scripts/test.sh has them; only the GPU check's `--no-ros` run lacks them
    CameraInfo = pytest.importorskip("sensor_msgs.msg").CameraInfo

    msg = CameraInfo()
    msg.width, msg.height = case.size
    msg.distortion_model = case.model
    msg.d = [float(x) for x in case.D]
    msg.k = [float(x) for x in case.k_list()]
    msg.p = [float(x) for x in case.p_list()]
    msg.binning_x = msg.binning_y = case.binning
    msg.roi.x_offset, msg.roi.y_offset, msg.roi.width, msg.roi.height = case.roi
    return msg


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_camera_info_message_round_trip(case):
    from grounding_node.ros.conversions import intrinsics_from_camera_info

    exact, u, v, point = _exact_case(case, (0.97, 0.96))
    intr = intrinsics_from_camera_info(_camera_info(exact), rectified=exact.rectified)
    assert intr == exact.intrinsics() and not intr.problems
    np.testing.assert_allclose(backproject([u], [v], [point[2]], intr)[0], point, atol=TOL_M)
    if exact.rectified:   # the raw reading of the same message (K and D) is another camera
        assert intrinsics_from_camera_info(_camera_info(exact)) != intr


def test_binning_and_roi_from_the_message_give_the_published_size():
    from grounding_node.ros.conversions import intrinsics_from_camera_info

    intr = intrinsics_from_camera_info(_camera_info(CASES[8]))
    assert (intr.width, intr.height) == (450, 250)
    assert intr.fx == pytest.approx(450.0) and intr.cx == pytest.approx((641.3 - 320 + 0.5) / 2 - 0.5)


@pytest.mark.parametrize("case", [CASES[0], CASES[2], CASES[4]], ids=lambda c: c.name)
def test_yaml_loader_reads_distortion_and_projection(tmp_path, case):
    from grounding_node.api import load_camera_info

    exact, u, v, point = _exact_case(case, (0.97, 0.96))
    calib = {
        "image_width": exact.size[0], "image_height": exact.size[1], "camera_name": "cam",
        "camera_matrix": {"rows": 3, "cols": 3, "data": exact.k_list()},
        "distortion_model": exact.model,
        "distortion_coefficients": {"rows": 1, "cols": len(exact.D), "data": list(exact.D)},
        "rectification_matrix": {"rows": 3, "cols": 3, "data": [1, 0, 0, 0, 1, 0, 0, 0, 1]},
        "projection_matrix": {"rows": 3, "cols": 4, "data": exact.p_list()},
    }
    (tmp_path / "calib.yaml").write_text(yaml.safe_dump(calib))
    intr = load_camera_info(tmp_path / "calib.yaml", rectified=exact.rectified)
    assert intr == exact.intrinsics()
    np.testing.assert_allclose(backproject([u], [v], [point[2]], intr)[0], point, atol=TOL_M)
    dump = {"width": exact.size[0], "height": exact.size[1], "distortion_model": exact.model, "d": list(exact.D),
            "k": exact.k_list(), "p": exact.p_list(), "binning_x": 2, "binning_y": 2,
            "roi": {"x_offset": 0, "y_offset": 0, "width": 0, "height": 0, "do_rectify": False}}
    (tmp_path / "info.yaml").write_text(yaml.safe_dump(dump))
    binned = load_camera_info(tmp_path / "info.yaml", rectified=exact.rectified)
    assert binned == exact.intrinsics().scaled(exact.size[0] // 2, exact.size[1] // 2)


def test_the_right_camera_of_a_stereo_pair_gives_points_in_its_own_frame():
    """The node stamps a position with the image's frame_id, so the point must be in that camera's optical
    frame. P's Tx (= -fx' * baseline) places the right camera in the *first* camera's frame (CameraInfo docs);
    back-projecting with it (image_geometry's formula) put a point on the right camera's own axis at
    (0.12, 0, 1) for a 12 cm baseline, labelled with the right camera's frame (found by an adversarial script).
    Analytic: the pixel at the principal point, 1 m deep, is (0, 0, 1) in the right camera's frame."""
    fx, cx, cy, baseline = 700.0, 639.5, 359.5, 0.12
    p = [fx, 0, cx, -fx * baseline, 0, fx, cy, 0, 0, 0, 1, 0]
    intr = Intrinsics.from_calibration([fx, 0, cx, 0, fx, cy, 0, 0, 1], 1280, 720, p=p, rectified=True)
    np.testing.assert_allclose(backproject([cx], [cy], [1.0], intr), [[0.0, 0.0, 1.0]], atol=1e-12)
    np.testing.assert_allclose(backproject([cx + 70.0], [cy - 35.0], [2.0], intr), [[0.2, -0.1, 2.0]], atol=1e-12)
    np.testing.assert_allclose(project([[0.2, -0.1, 2.0]], intr), [[cx + 70.0, cy - 35.0]], atol=1e-9)


def test_a_subnormal_focal_length_is_invalid():
    """fx = fy = 1e-320 passed `is_valid` (finite and > 0) and the node published positions of -inf with
    has_position true (found by an adversarial script). A focal length must be usable: 1 / f finite."""
    for f in (1e-320, 1e-300, 0.0, -5.0):
        assert not Intrinsics.from_calibration([f, 0, 320, 0, f, 240, 0, 0, 1], 640, 480).is_valid(), f
    assert Intrinsics.from_calibration([0.5, 0, 320, 0, 0.5, 240, 0, 0, 1], 640, 480).is_valid()
