"""CameraInfo as misconfigured or unusual drivers send it (ROS-free: message classes only, no rclpy).

Expected 3D positions come from OpenCV's forward models (cv2.projectPoints / cv2.fisheye.projectPoints) of a
known point, never from the code under test: the point is projected, the principal point is shifted by the
projection's fractional part so that it lands exactly on an integer pixel (u = fx * x_d + cx, so a shift of
cx moves it by exactly that), and a depth image whose only valid pixel is that one must give the point back.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CameraInfo

from grounding_node.geometry import Intrinsics, estimate_object_3d, intrinsics_from_fovy
from grounding_node.ros.conversions import intrinsics_from_camera_info

TOL_M = 1e-3


def camera_info(k, width=1280, height=800, d=(), model="plumb_bob") -> CameraInfo:
    msg = CameraInfo(width=width, height=height, distortion_model=model)
    msg.k = [float(x) for x in k]
    msg.d = [float(x) for x in d]
    fx, cx, fy, cy = msg.k[0], msg.k[2], msg.k[4], msg.k[5]
    msg.p = [fx, 0.0, cx, 0.0, 0.0, fy, cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def exact_pixel(point, k, d, fisheye: bool):
    """OpenCV's pixel of `point`, and K with cx, cy shifted so that pixel is the integer one nearest it."""
    K = np.array(k, dtype=np.float64).reshape(3, 3)
    D = np.array(d, dtype=np.float64)
    p = np.array(point, dtype=np.float64)
    if fisheye:
        uv = cv2.fisheye.projectPoints(p.reshape(1, 1, 3), np.zeros((1, 1, 3)), np.zeros((1, 1, 3)), K,
                                       D.reshape(4, 1))[0].reshape(2)
    else:
        uv = cv2.projectPoints(p.reshape(1, 3), np.zeros(3), np.zeros(3), K, D)[0].reshape(2)
    u, v = int(round(uv[0])), int(round(uv[1]))
    k2 = list(k)
    k2[2] += u - uv[0]
    k2[5] += v - uv[1]
    return u, v, k2


def position_at(intr: Intrinsics, u: int, v: int, z: float):
    depth = np.full((intr.height, intr.width), np.nan, np.float32)
    depth[v, u] = z
    obj = estimate_object_3d(depth, [u - 2, v - 2, u + 3, v + 3], intr, (intr.width, intr.height),
                             roi_fraction=1.0, min_valid_pixels=1, min_depth=0.01, max_depth=100.0)
    assert obj.has_position
    return obj.position


FISHEYE_K = [420.0, 0.0, 641.2, 0.0, 420.5, 399.7, 0.0, 0.0, 1.0]     # ~180 degrees over 1280 px
FISHEYE_D = [0.08, -0.03, 0.01, -0.002]
POINT_CORNER = [1.1, 0.7, 1.0]                                        # 52 degrees off axis


@pytest.mark.parametrize("model", ["fisheye", "kannala_brandt", "kannala_brandt4", "Equidistant"])
def test_fisheye_model_names_other_drivers_use_are_honoured(model):
    """'fisheye' (OpenCV's name), 'kannala_brandt[4]' (Kalibr, some SDKs): the same four coefficients as ROS's
    'equidistant'. They were ignored as unknown, the point 52 degrees off axis came out tens of cm off."""
    u, v, k = exact_pixel(POINT_CORNER, FISHEYE_K, FISHEYE_D, fisheye=True)
    intr = intrinsics_from_camera_info(camera_info(k, d=FISHEYE_D, model=model))
    assert intr.is_valid() and not intr.problems, intr.problems
    np.testing.assert_allclose(position_at(intr, u, v, POINT_CORNER[2]), POINT_CORNER, atol=TOL_M)


@pytest.mark.parametrize("model", ["radtan", "brown_conrady", ""])
@pytest.mark.parametrize("d", [(-0.28, 0.09, 0.0011, -0.0007), (-0.28, 0.09, 0.0011, -0.0007, -0.012),
                               (0.4, -0.1, 0.001, -0.001, 0.02, 0.7, -0.05, 0.03)], ids=["d4", "d5", "d8"])
def test_opencv_distortion_under_another_or_no_model_name_is_read_as_opencv(model, d):
    """Kalibr's 'radtan', librealsense's 'brown_conrady', and drivers that fill D but leave distortion_model
    empty: OpenCV's coefficient order (image_geometry passes such a D to OpenCV too). Ignoring it put a point
    near the corner cm off. An empty name still says what was assumed."""
    k = [910.0, 0.0, 643.7, 0.0, 911.0, 365.2, 0.0, 0.0, 1.0]
    point = [0.55, 0.3, 1.2]
    u, v, k2 = exact_pixel(point, k, d, fisheye=False)
    intr = intrinsics_from_camera_info(camera_info(k2, 1280, 720, d=d, model=model))
    assert intr.is_valid() and intr.has_distortion
    np.testing.assert_allclose(position_at(intr, u, v, point[2]), point, atol=TOL_M)
    if model:
        assert not intr.problems
    else:
        assert len(intr.problems) == 1 and "distortion_model is empty" in intr.problems[0]


def test_normalised_k_is_refused_with_a_reason():
    """K divided by the image size (fx 0.78, cx 0.5: some SDKs and sim plugins) passed as valid, and every
    position was hundreds of times too far from the axis: (u - 0.5) * z / 0.78 is 400 m at u = 320, z = 1."""
    intr = intrinsics_from_camera_info(camera_info([0.78, 0, 0.5, 0, 1.04, 0.5, 0, 0, 1], 640, 480))
    assert not intr.is_valid()
    assert "normalised" in intr.invalid_reason() and "pixels" in intr.invalid_reason()


@pytest.mark.parametrize("k", [[3.6, 0, 320, 0, 3.6, 240, 0, 0, 1],        # focal length in mm
                               [0.5, 0, 320, 0, 0.5, 240, 0, 0, 1]])       # a 179.9 degree pinhole
def test_a_focal_length_no_lens_has_is_reported(k):
    intr = intrinsics_from_camera_info(camera_info(k, 640, 480))
    assert any("field of view" in p for p in intr.problems), intr.problems


@pytest.mark.parametrize("intr", [
    intrinsics_from_fovy(170.0, 640, 480),                                        # a very wide pinhole render
    intrinsics_from_camera_info(camera_info(FISHEYE_K, d=FISHEYE_D, model="equidistant")),
    intrinsics_from_camera_info(camera_info([280.0, 0, 639.5, 0, 280.0, 399.5, 0, 0, 1], d=[0.1, 0, 0, 0],
                                            model="equidistant")),               # a 250 degree circular fisheye
], ids=["pinhole_170deg", "fisheye_180deg", "fisheye_250deg"])
def test_real_wide_cameras_stay_valid_and_quiet(intr):
    assert intr.is_valid() and not intr.problems, (intr.invalid_reason(), intr.problems)


def test_k_for_another_resolution_is_reported():
    """A 1920x1080 calibration sent with the 640x480 stream's size: the principal point (960, 540) lies
    outside the image, a sure sign; positions were silently shifted by metres."""
    intr = intrinsics_from_camera_info(camera_info([1380, 0, 960, 0, 1380, 540, 0, 0, 1], 640, 480))
    assert any("principal point" in p and "640x480" in p for p in intr.problems), intr.problems
    ok = intrinsics_from_camera_info(camera_info([500, 0, 319.5, 0, 500, 239.5, 0, 0, 1], 640, 480))
    assert not ok.problems


def test_a_roi_away_from_the_principal_point_is_not_reported():
    """A crop at the sensor's corner has its principal point outside the crop: legitimate (REP 104)."""
    msg = camera_info([900, 0, 640, 0, 900, 400, 0, 0, 1], 1280, 800)
    msg.roi.x_offset, msg.roi.y_offset, msg.roi.width, msg.roi.height = 900, 500, 300, 200
    intr = intrinsics_from_camera_info(msg)
    assert intr.is_valid() and not intr.problems and intr.cx < 0


def test_skew_and_a_malformed_last_row_of_k_are_reported_not_silently_dropped():
    skew = intrinsics_from_camera_info(camera_info([500, 4.0, 320, 0, 500, 240, 0, 0, 1], 640, 480))
    assert any("skew" in p for p in skew.problems), skew.problems
    row = intrinsics_from_camera_info(camera_info([500, 0, 320, 0, 500, 240, 0, 0, 0], 640, 480))
    assert any("last row" in p for p in row.problems), row.problems


def test_camera_info_without_a_size_says_so():
    intr = intrinsics_from_camera_info(camera_info([500, 0, 320, 0, 500, 240, 0, 0, 1], 0, 0))
    assert not intr.is_valid()
    assert "width" in intr.invalid_reason() and "0x0" in intr.invalid_reason()


def test_intrinsics_scaled_to_another_aspect_ratio_say_positions_may_be_off():
    """From the driver review: a 1280x720 calibration sent with 640x480 images (another camera mode, or a crop)
    was scaled unevenly with only a log line; the result said nothing. Scaling to another aspect ratio now
    notes a problem, which the pipeline puts in the result's warnings ("3D positions may be off")."""
    intr = Intrinsics(fx=900.0, fy=900.0, cx=639.5, cy=359.5, width=1280, height=720)
    same_aspect = intr.scaled(640, 360)
    assert same_aspect.problems == intr.problems == ()
    other = intr.scaled(640, 480)
    assert len(other.problems) == 1 and "aspect" in other.problems[0] and "1280x720" in other.problems[0]
    assert other.is_valid()   # still used: it may be right (a mode that only rescales); the user is told
