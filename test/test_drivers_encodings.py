"""Colour encodings that real drivers publish raw (ROS-free: message classes only, no rclpy).

usb_cam publishes 'yuv422_yuy2' for a YUYV webcam, machine-vision drivers (Spinnaker, Pylon, Vimba) publish
'bayer_*8' on image_raw, and OpenCV-based publishers (cv_bridge from an untyped cv::Mat) send '8UC3'. These
were all refused, so such a camera gave no result at all. The expected colours are built here independently:
a uniform colour mosaicked by the pattern's definition (ROS names the 2x2 pattern from the top-left pixel,
row by row), and YUYV bytes from the BT.601 limited-range formula.
"""

from __future__ import annotations

import numpy as np
import pytest
from sensor_msgs.msg import Image

from grounding_node.ros.conversions import COLOR_ENCODINGS, ImageConversionError, image_to_numpy, to_rgb8

RGB = np.array([200, 100, 50], dtype=np.uint8)


def bayer_message(pattern: str, h: int = 6, w: int = 8, step_pad: int = 0) -> Image:
    """A uniform RGB colour seen through the 2x2 colour filter `pattern` ('rggb': R at (0,0), G at (0,1)...)."""
    idx = {"r": 0, "g": 1, "b": 2}
    mosaic = np.zeros((h, w + step_pad), np.uint8)
    for dy in range(2):
        for dx in range(2):
            mosaic[dy::2, dx:w:2] = RGB[idx[pattern[2 * dy + dx]]]
    return Image(height=h, width=w, encoding=f"bayer_{pattern}8", step=w + step_pad, data=mosaic.tobytes())


@pytest.mark.parametrize("pattern", ["rggb", "bggr", "gbrg", "grbg"])
def test_bayer_images_are_demosaicked_with_the_right_pattern(pattern):
    msg = bayer_message(pattern, step_pad=3)
    assert msg.encoding in COLOR_ENCODINGS
    rgb = to_rgb8(image_to_numpy(msg), msg.encoding)
    assert rgb.shape == (6, 8, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[2:-2, 2:-2], np.broadcast_to(RGB, (2, 4, 3)))   # interior: exact


def yuyv(y: np.ndarray, u: int, v: int) -> bytes:
    """YUYV (YUY2) bytes of a row pair sharing (u, v): Y0 U Y1 V."""
    out = np.empty(y.shape[:-1] + (y.shape[-1] * 2,), np.uint8)
    out[..., 0::4], out[..., 2::4] = y[..., 0::2], y[..., 1::2]
    out[..., 1::4], out[..., 3::4] = u, v
    return out.tobytes()


def bt601(y: float, u: float, v: float) -> np.ndarray:
    c, d, e = 1.164 * (y - 16), u - 128, v - 128
    return np.clip([c + 1.596 * e, c - 0.392 * d - 0.813 * e, c + 2.017 * d], 0, 255)


def test_yuyv_from_usb_cam_is_converted_to_rgb():
    y = np.full((2, 4), 120, np.uint8)
    u, v = 90, 200                                     # a red-orange
    msg = Image(height=2, width=4, encoding="yuv422_yuy2", step=8, data=yuyv(y, u, v))
    rgb = to_rgb8(image_to_numpy(msg), msg.encoding)
    assert rgb.shape == (2, 4, 3)
    np.testing.assert_allclose(rgb.reshape(-1, 3).astype(float), np.tile(bt601(120, u, v), (8, 1)), atol=3)


def test_yuyv_with_an_odd_width_is_refused_with_a_reason():
    msg = Image(height=2, width=3, encoding="yuv422_yuy2", step=6, data=bytes(12))
    with pytest.raises(ImageConversionError, match="even width"):
        image_to_numpy(msg)


@pytest.mark.parametrize("enc,as_enc", [("8UC3", "bgr8"), ("8UC1", "mono8"), ("8UC4", "bgra8")])
def test_untyped_8bit_images_are_read_as_cv_bridge_does(enc, as_enc):
    """cv_bridge converts 8UC3 to bgr8 unchanged (OpenCV's channel order): the same pixels must come out."""
    arr = np.arange(2 * 3 * (int(enc[-1])), dtype=np.uint8).reshape(2, 3, -1).squeeze()
    ref = Image(height=2, width=3, encoding=as_enc, step=arr[0].size, data=arr.tobytes())
    msg = Image(height=2, width=3, encoding=enc, step=arr[0].size, data=arr.tobytes())
    np.testing.assert_array_equal(to_rgb8(image_to_numpy(msg), enc), to_rgb8(image_to_numpy(ref), as_enc))


def test_an_unsupported_colour_encoding_says_how_to_fix_it():
    msg = Image(height=2, width=2, encoding="nv21", step=2, data=bytes(6))
    with pytest.raises(ImageConversionError, match="unsupported encoding 'nv21'.*rgb8"):
        image_to_numpy(msg)


def uyvy(y: np.ndarray, u: int, v: int) -> bytes:
    """UYVY bytes (sensor_msgs 'yuv422'): U Y0 V Y1."""
    out = np.empty(y.shape[:-1] + (y.shape[-1] * 2,), np.uint8)
    out[..., 1::4], out[..., 3::4] = y[..., 0::2], y[..., 1::2]
    out[..., 0::4], out[..., 2::4] = u, v
    return out.tobytes()


@pytest.mark.parametrize("enc,pack", [("yuv422", uyvy), ("uyvy", uyvy), ("yuyv", yuyv)])
def test_uyvy_and_the_newer_yuv_names_are_converted_to_rgb(enc, pack):
    """sensor_msgs' 'yuv422' is UYVY (U Y0 V Y1; usb_cam's uyvy pixel format, Blackmagic and many capture cards)
    and was refused; 'uyvy' and 'yuyv' are the names image_encodings gained in Jazzy for UYVY and YUY2."""
    y = np.array([[60, 120, 180, 240]] * 2, np.uint8)
    u, v = 160, 100                                    # a blue-green
    msg = Image(height=2, width=4, encoding=enc, step=8, data=pack(y, u, v))
    assert enc in COLOR_ENCODINGS
    rgb = to_rgb8(image_to_numpy(msg), enc).reshape(-1, 3).astype(float)
    want = np.array([bt601(float(yy), u, v) for yy in y.reshape(-1)])
    np.testing.assert_allclose(rgb, want, atol=3)
