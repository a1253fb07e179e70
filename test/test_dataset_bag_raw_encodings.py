"""`from-bag` reads the raw colour encodings the node reads live: YUV 4:2:2 (usb_cam's YUYV/UYVY), the four
Bayer patterns of machine-vision cameras and OpenCV's untyped 8UC3/8UC4. A bag recorded from such a camera
used to be refused ("unsupported image encoding") although the node grounded on the same topic.

Expected colours are built here independently of the code under test: YUV bytes from the BT.601 limited-range
formula, a Bayer mosaic by the pattern's definition (ROS names the 2x2 block from the top-left pixel, row by
row), and untyped 8-bit images by OpenCV's channel order (BGR), as cv_bridge and the node read them.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from test_adv_data_bag import _Bag, _cli  # noqa: E402  (test dir is on sys.path)

from grounding_node.data import load_dataset
from grounding_node.data.bag import BagError, colour_to_rgb, image_to_numpy

IMG = "sensor_msgs/msg/Image"
T0 = 50 * 10**9


def _msg(encoding: str, h: int, w: int, data: bytes, step: int, bigendian: int = 0) -> SimpleNamespace:
    """A decoded sensor_msgs/Image as mcap_ros2 hands it over (attributes only, no ROS)."""
    return SimpleNamespace(encoding=encoding, height=h, width=w, step=step, data=data, is_bigendian=bigendian,
                           header=SimpleNamespace(frame_id="cam"))


def bt601(y: float, u: float, v: float) -> np.ndarray:
    """BT.601 limited range YCbCr -> RGB (the conversion OpenCV's YUV2RGB_* and camera ISPs implement)."""
    c, d, e = 1.164 * (y - 16), u - 128, v - 128
    return np.clip([c + 1.596 * e, c - 0.392 * d - 0.813 * e, c + 2.017 * d], 0, 255)


def pack_yuv422(y: np.ndarray, u: int, v: int, order: str, pad: int = 0) -> tuple:
    """(bytes, step) of rows of Y sharing one (u, v): `order` 'yuyv' (Y0 U Y1 V) or 'uyvy' (U Y0 V Y1)."""
    h, w = y.shape
    out = np.zeros((h, 2 * w + pad), np.uint8)
    yo, uo, vo = (0, 1, 3) if order == "yuyv" else (1, 0, 2)
    out[:, yo:2 * w:4], out[:, yo + 2:2 * w:4] = y[:, 0::2], y[:, 1::2]
    out[:, uo:2 * w:4], out[:, vo:2 * w:4] = u, v
    return out.tobytes(), 2 * w + pad


YUV_NAMES = [("yuv422_yuy2", "yuyv"), ("yuyv", "yuyv"), ("yuv422", "uyvy"), ("uyvy", "uyvy")]


@pytest.mark.parametrize("enc,order", YUV_NAMES)
def test_yuv422_colour_frames_become_bt601_rgb(enc, order):
    """sensor_msgs 'yuv422' is UYVY, 'yuv422_yuy2' is YUYV; 'uyvy'/'yuyv' are the newer names for the same."""
    y = np.array([[60, 120, 180, 240]] * 3, np.uint8)
    u, v = 160, 100                                   # a blue-green
    data, step = pack_yuv422(y, u, v, order, pad=4)   # with row padding, as some drivers align rows
    rgb = colour_to_rgb(_msg(enc, 3, 4, data, step), IMG)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
    want = np.array([bt601(float(yy), u, v) for yy in y.reshape(-1)]).reshape(3, 4, 3)
    np.testing.assert_allclose(rgb.astype(float), want, atol=2.5)   # OpenCV's fixed-point rounding


def test_yuv422_with_an_odd_width_is_a_bag_error():
    with pytest.raises(BagError, match="even width"):
        colour_to_rgb(_msg("yuyv", 2, 3, bytes(12), 6), IMG)


def bayer_mosaic(pattern: str, rgb: np.ndarray, h: int, w: int, pad: int = 0) -> tuple:
    """(bytes, step) of a uniform colour `rgb` seen through the 2x2 filter `pattern` ('rggb': R at (0, 0))."""
    idx = {"r": 0, "g": 1, "b": 2}
    mosaic = np.zeros((h, w + pad), np.uint8)
    for dy in range(2):
        for dx in range(2):
            mosaic[dy::2, dx:w:2] = rgb[idx[pattern[2 * dy + dx]]]
    return mosaic.tobytes(), w + pad


@pytest.mark.parametrize("pattern", ["rggb", "bggr", "gbrg", "grbg"])
def test_bayer_colour_frames_are_demosaicked_with_the_right_pattern(pattern):
    colour = np.array([200, 100, 30], np.uint8)       # R, G, B all different: a swapped pattern shows
    data, step = bayer_mosaic(pattern, colour, 8, 10, pad=2)
    rgb = colour_to_rgb(_msg(f"bayer_{pattern}8", 8, 10, data, step), IMG)
    assert rgb.shape == (8, 10, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[2:-2, 2:-2], np.broadcast_to(colour, (4, 6, 3)))   # interior: exact


def test_untyped_8uc4_and_8uc3_are_read_in_opencvs_channel_order():
    """cv_bridge relabels 8UC3/8UC4 as bgr8/bgra8 (an untyped cv::Mat is BGR), and so does the node: the
    dataset must hold the colours the node sees live, not red and blue swapped."""
    bgra = np.random.default_rng(3).integers(0, 256, (3, 5, 4), dtype=np.uint8)
    want = bgra[:, :, 2::-1]
    got4 = colour_to_rgb(_msg("8UC4", 3, 5, bgra.tobytes(), 20), IMG)
    np.testing.assert_array_equal(got4, want)
    got3 = colour_to_rgb(_msg("8UC3", 3, 5, np.ascontiguousarray(bgra[:, :, :3]).tobytes(), 15), IMG)
    np.testing.assert_array_equal(got3, want)


def test_grey_stays_single_channel_and_mono16_is_not_colour():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for enc in ("mono8", "8UC1"):
        out = colour_to_rgb(_msg(enc, 3, 4, grey.tobytes(), 4), IMG)
        np.testing.assert_array_equal(out, grey)      # lossless: not expanded to three channels
    with pytest.raises(BagError, match="colour topic has encoding 'mono16'"):
        colour_to_rgb(_msg("mono16", 3, 4, bytes(24), 8), IMG)


def test_a_last_row_without_its_padding_is_still_read():
    """Some drivers leave the last row's padding out: len(data) == height*step - (step - width*bpp)."""
    colour = np.array([10, 220, 90], np.uint8)
    data, step = bayer_mosaic("rggb", colour, 6, 6, pad=2)
    rgb = colour_to_rgb(_msg("bayer_rggb8", 6, 6, data[:-2], step), IMG)
    np.testing.assert_array_equal(rgb[2:-2, 2:-2], np.broadcast_to(colour, (2, 2, 3)))
    depth = np.array([[1, 2], [3, 4]], np.uint16)
    padded = np.zeros((2, 3), np.uint16)
    padded[:, :2] = depth
    arr, enc = image_to_numpy(_msg("16uc1", 2, 2, padded.tobytes()[:-2], 6))
    assert enc == "16uc1" and arr.dtype == np.uint16 and np.array_equal(arr, depth)
    with pytest.raises(BagError):                      # a row short is not padding: refused
        image_to_numpy(_msg("16UC1", 2, 2, padded.tobytes()[:-4], 6))


def test_a_usb_cam_yuyv_bag_becomes_rgb_samples(tmp_path: Path, capsys):
    """End to end: a bag recorded from a YUYV webcam (usb_cam's 'yuv422_yuy2') gives RGB PNG samples."""
    bag = tmp_path / "webcam.mcap"
    b = _Bag(bag)
    y = np.array([[40, 90, 150, 210, 235, 16]] * 4, np.uint8)
    uv = [(90, 200), (200, 90)]                        # a red-orange frame, then a blue one
    for k, (u, v) in enumerate(uv):
        data, step = pack_yuv422(y, u, v, "yuyv")
        t = T0 + k * 10**8
        b.write("/usb_cam/image_raw", "img", {"header": {"stamp": {"sec": t // 10**9, "nanosec": t % 10**9},
                                                         "frame_id": "cam"}, "height": 4, "width": 6,
                                               "encoding": "yuv422_yuy2", "is_bigendian": 0, "step": step,
                                               "data": data}, t)
    b.close()
    rc, out, err = _cli(capsys, bag, "--image-topic", "/usb_cam/image_raw", "--out", tmp_path / "o")
    assert rc == 0, err
    samples = sorted(load_dataset(tmp_path / "o"), key=lambda s: s.extra["stamp_ns"])
    assert len(samples) == 2
    for s, (u, v) in zip(samples, uv):
        rgb = cv2.imread(str(tmp_path / "o" / s.image))[:, :, ::-1].astype(float)
        want = np.array([bt601(float(yy), u, v) for yy in y.reshape(-1)]).reshape(4, 6, 3)
        np.testing.assert_allclose(rgb, want, atol=2.5)


@pytest.mark.parametrize("enc", ["nv21", "yuv420", "bayer_rggb16", "rgb16"])
def test_still_unsupported_encodings_name_what_is_supported(enc):
    with pytest.raises(BagError, match=rf"unsupported image encoding '{enc}'.*yuv422.*bayer_rggb8"):
        image_to_numpy(_msg(enc, 2, 2, bytes(16), 8))


def test_the_shared_encodings_module_imports_no_ros():
    """from-bag runs where ROS is not installed: the module both readers share must not pull ROS in."""
    import subprocess
    import sys

    code = ("import sys, grounding_node.image_encodings, grounding_node.data.bag; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'rclpy', 'sensor_msgs', 'std_msgs', "
            "'builtin_interfaces', 'rosidl_runtime_py', 'cv_bridge'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
