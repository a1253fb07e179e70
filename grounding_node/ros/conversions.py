"""sensor_msgs <-> numpy, zero-copy where possible.

Why not cv_bridge: it is absent from the PyPI wheels, and on robots it copies and is no faster than
`np.frombuffer` (about 1 us, read-only view). The reverse direction uses `arr.tobytes()`: assigning a numpy
array or memoryview to `msg.data` is checked element by element by rclpy (54-93 ms for 640x480).
This module imports message *types* only, never rclpy itself, so it is usable from the sim and tests.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from grounding_node.geometry.camera import Intrinsics

# encoding -> (dtype, channels)
IMAGE_ENCODINGS: Dict[str, Tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "rgba8": (np.dtype(np.uint8), 4),
    "bgra8": (np.dtype(np.uint8), 4),
    "mono8": (np.dtype(np.uint8), 1),
    "mono16": (np.dtype(np.uint16), 1),
    "16UC1": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
    # raw colour as drivers publish it (usb_cam, machine-vision cameras, OpenCV-based publishers)
    "yuv422_yuy2": (np.dtype(np.uint8), 2),
    "yuyv": (np.dtype(np.uint8), 2),
    "yuv422": (np.dtype(np.uint8), 2),
    "uyvy": (np.dtype(np.uint8), 2),
    "bayer_rggb8": (np.dtype(np.uint8), 1),
    "bayer_bggr8": (np.dtype(np.uint8), 1),
    "bayer_gbrg8": (np.dtype(np.uint8), 1),
    "bayer_grbg8": (np.dtype(np.uint8), 1),
    "8UC1": (np.dtype(np.uint8), 1),
    "8UC3": (np.dtype(np.uint8), 3),
    "8UC4": (np.dtype(np.uint8), 4),
}
# YUV 4:2:2 with two pixels per U/V pair: sensor_msgs' 'yuv422' is UYVY (U Y0 V Y1), 'yuv422_yuy2' is YUY2
# (Y0 U Y1 V); 'uyvy' and 'yuyv' are the names image_encodings gained for the same two layouts
_YUV422_TO_RGB = {"yuv422_yuy2": "COLOR_YUV2RGB_YUY2", "yuyv": "COLOR_YUV2RGB_YUY2",
                  "yuv422": "COLOR_YUV2RGB_UYVY", "uyvy": "COLOR_YUV2RGB_UYVY"}
# Untyped OpenCV images are read as cv_bridge reads them: OpenCV's own channel order.
_UNTYPED_AS = {"8UC1": "mono8", "8UC3": "bgr8", "8UC4": "bgra8"}
# ROS names a Bayer pattern from its top-left 2x2 block; OpenCV from the second row's second and third pixels
# (cv_bridge's table), so the names differ.
_BAYER_TO_RGB = {"bayer_rggb8": "COLOR_BayerBG2RGB", "bayer_bggr8": "COLOR_BayerRG2RGB",
                 "bayer_gbrg8": "COLOR_BayerGR2RGB", "bayer_grbg8": "COLOR_BayerGB2RGB"}
COLOR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", *_YUV422_TO_RGB, *_BAYER_TO_RGB,
                   *_UNTYPED_AS)
DEPTH_ENCODINGS = ("16UC1", "32FC1", "mono16")


class ImageConversionError(ValueError):
    """A message that cannot be turned into an array: the text says why (shown in logs and diagnostics)."""


def image_to_numpy(msg: Image, allowed: Optional[Tuple[str, ...]] = None) -> np.ndarray:
    """View `msg.data` as (H, W) or (H, W, C) without copying, honouring `step` (row padding).

    Validates the encoding, the dimensions, `step` and that len(data) == height * step, so that a
    malformed message is rejected here with a clear reason instead of crashing a later stage.
    Big-endian multi-byte data is byte-swapped (the only case that copies).
    """
    enc = msg.encoding
    if enc not in IMAGE_ENCODINGS or (allowed is not None and enc not in allowed):
        ok = ", ".join(allowed if allowed is not None else IMAGE_ENCODINGS)
        raise ImageConversionError(f"unsupported encoding '{enc}' (supported: {ok}); have the driver publish "
                                   "one of these, or convert it (image_proc)")
    dtype, channels = IMAGE_ENCODINGS[enc]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0:
        raise ImageConversionError(f"empty image {w}x{h}")
    if enc in _YUV422_TO_RGB and w % 2:
        raise ImageConversionError(f"{enc} needs an even width (two pixels share U and V), got {w}x{h}")
    row_bytes = w * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageConversionError(f"step {step} < width*bytes_per_pixel {row_bytes}")
    n = len(msg.data)
    if n != h * step:
        raise ImageConversionError(f"data length {n} != height*step {h * step} ({w}x{h} {enc}, step {step})")
    buf = np.frombuffer(msg.data, dtype=np.uint8)
    if step % dtype.itemsize == 0:
        # Zero-copy: view the rows (padding included), then slice the padding off.
        arr = buf.view(dtype).reshape(h, step // dtype.itemsize)[:, : w * channels]
    else:
        # A row padding that is not a multiple of the element size: only a copy can realign it.
        arr = buf.reshape(h, step)[:, :row_bytes].copy().view(dtype)
    if msg.is_bigendian and dtype.itemsize > 1:
        arr = arr.view(dtype.newbyteorder(">")).astype(dtype)
    out = arr.reshape(h, w, channels) if channels > 1 else arr.reshape(h, w)
    out.flags.writeable = False   # a view of the message: nobody downstream may modify it
    return out


def to_rgb8(arr: np.ndarray, encoding: str) -> np.ndarray:
    """Any supported colour encoding -> contiguous HxWx3 uint8 RGB (what every backend takes). Raw driver
    encodings (YUYV, UYVY, Bayer) are converted with OpenCV: demosaicking by hand is slow and easy to get wrong."""
    if encoding == "rgb8":
        return np.ascontiguousarray(arr)
    if encoding == "bgr8":
        return np.ascontiguousarray(arr[..., ::-1])
    if encoding == "rgba8":
        return np.ascontiguousarray(arr[..., :3])
    if encoding == "bgra8":
        return np.ascontiguousarray(arr[..., 2::-1])
    if encoding == "mono8":
        return np.repeat(arr[..., None], 3, axis=2)
    if encoding in _UNTYPED_AS:
        return to_rgb8(arr, _UNTYPED_AS[encoding])
    if encoding in _BAYER_TO_RGB or encoding in _YUV422_TO_RGB:
        import cv2  # only for raw driver encodings: the common ones stay numpy-only

        code = _YUV422_TO_RGB.get(encoding) or _BAYER_TO_RGB[encoding]
        return cv2.cvtColor(np.ascontiguousarray(arr), getattr(cv2, code))
    if encoding == "mono16":
        # Display only: scale the used range to 8 bits.
        a = arr.astype(np.float32)
        lo, hi = float(a.min()), float(a.max())
        scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return np.repeat(scaled.astype(np.uint8)[..., None], 3, axis=2)
    raise ImageConversionError(f"'{encoding}' is not a colour encoding")


def numpy_to_image(arr: np.ndarray, encoding: str, header: Optional[Header] = None) -> Image:
    """Build an Image from an array; data goes in as bytes (fast), never as an array."""
    if encoding not in IMAGE_ENCODINGS:
        raise ImageConversionError(f"unsupported encoding '{encoding}'")
    dtype, channels = IMAGE_ENCODINGS[encoding]
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if (channels == 1 and arr.ndim != 2) or (channels > 1 and (arr.ndim != 3 or arr.shape[2] != channels)):
        raise ImageConversionError(f"array of shape {arr.shape} does not fit encoding {encoding}")
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(arr.shape[0]), int(arr.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = int(arr.shape[1] * channels * dtype.itemsize)
    msg.data = arr.tobytes()
    return msg


def intrinsics_from_camera_info(msg: CameraInfo, rectified: bool = False) -> Intrinsics:
    """The camera model of the image that this CameraInfo accompanies, from all of it (REP 104): K, D and
    distortion_model for a raw image, or P (with Tx, Ty) for a rectified one (`rectified`: the caller
    knows which topic it subscribed to; the message cannot say), then roi and binning, so the result's
    width x height is the published image's. Why all of it: K alone gave 2-50 cm errors near the image
    corners (issue #9). Anything that cannot be honoured is listed in the result's `problems` (log them)."""
    roi = msg.roi
    return Intrinsics.from_calibration(
        np.asarray(msg.k, dtype=np.float64), int(msg.width), int(msg.height),
        d=np.asarray(msg.d, dtype=np.float64), distortion_model=str(msg.distortion_model),
        p=np.asarray(msg.p, dtype=np.float64), rectified=rectified,
        binning=(int(msg.binning_x), int(msg.binning_y)),
        roi=(int(roi.x_offset), int(roi.y_offset), int(roi.width), int(roi.height)))


def camera_info_from_intrinsics(intr: Intrinsics, header: Optional[Header] = None) -> CameraInfo:
    """A CameraInfo for an ideal pinhole camera (plumb_bob, zero distortion, P = [K|0], R = I)."""
    msg = CameraInfo()
    if header is not None:
        msg.header = header
    msg.width, msg.height = int(intr.width), int(intr.height)
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = [float(v) for v in intr.K.reshape(-1)]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [intr.fx, 0.0, intr.cx, 0.0, 0.0, intr.fy, intr.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time -> integer nanoseconds (exact, unlike float seconds)."""
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)
