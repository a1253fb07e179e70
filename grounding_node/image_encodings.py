"""sensor_msgs/Image pixel encodings -> numpy, in one place and without ROS.

Both readers of raw images use this: the node (`ros/conversions.py`, live messages) and the dataset tool
`from-bag` (`data/bag.py`, messages decoded from an MCAP bag by mcap_ros2, no ROS install). Keeping the table
and the conversions here means a camera the node reads live can also be recorded and imported, and that both
see the same colours (issue: from-bag refused YUYV/UYVY/Bayer and read 8UC3 as RGB where the node reads BGR).

Works on any *message-like* object with `height`, `width`, `step`, `encoding`, `is_bigendian` and `data` (a
bytes-like buffer: bytes, array.array('B'), memoryview), so it imports no ROS package.

Why not cv_bridge: it is absent from the PyPI wheels, and on robots it copies and is no faster than
`np.frombuffer` (about 1 us, read-only view). The node's path is hot (a 1280x720 frame per callback), so
`image_to_array` returns a zero-copy view whenever the layout allows it.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

# encoding (as sensor_msgs/image_encodings.h spells it) -> (dtype, channels)
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
# (Y0 U Y1 V); 'uyvy' and 'yuyv' are the names image_encodings gained for the same two layouts.
YUV422_TO_CV = {"yuv422_yuy2": "COLOR_YUV2RGB_YUY2", "yuyv": "COLOR_YUV2RGB_YUY2",
                "yuv422": "COLOR_YUV2RGB_UYVY", "uyvy": "COLOR_YUV2RGB_UYVY"}
# Untyped OpenCV images are read as cv_bridge reads them: OpenCV's own channel order.
UNTYPED_AS = {"8UC1": "mono8", "8UC3": "bgr8", "8UC4": "bgra8"}
# ROS names a Bayer pattern from its top-left 2x2 block; OpenCV from the second row's second and third pixels
# (cv_bridge's table), so the names differ.
BAYER_TO_CV = {"bayer_rggb8": "COLOR_BayerBG2RGB", "bayer_bggr8": "COLOR_BayerRG2RGB",
               "bayer_gbrg8": "COLOR_BayerGR2RGB", "bayer_grbg8": "COLOR_BayerGB2RGB"}
COLOR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8", "mono16", *YUV422_TO_CV, *BAYER_TO_CV, *UNTYPED_AS)
DEPTH_ENCODINGS = ("16UC1", "32FC1", "mono16")
_BY_LOWER = {name.lower(): name for name in IMAGE_ENCODINGS}


class ImageConversionError(ValueError):
    """A message that cannot be turned into an array: the text says why (shown in logs and diagnostics)."""


def canonical_encoding(name: str) -> Optional[str]:
    """The table's spelling of `name` compared without case ('16uc1' -> '16UC1'), or None if unsupported.
    For readers that are lenient about case (recordings from hand-written publishers); the node is not."""
    return _BY_LOWER.get(str(name).lower())


def image_to_array(msg: Any, allowed: Optional[Sequence[str]] = None, *, encoding: Optional[str] = None,
                   short_last_row_ok: bool = False) -> np.ndarray:
    """View a message-like image's `data` as (H, W) or (H, W, C) without copying, honouring `step` (row padding).

    Validates the encoding (`encoding` overrides `msg.encoding`, e.g. a canonicalised name), the dimensions,
    `step` and the data length, so that a malformed message is rejected here with a clear reason instead of
    crashing a later stage. The length must be height * step exactly, unless `short_last_row_ok`: then a last
    row without its padding (some drivers) and trailing bytes are accepted (this copies when padding is
    missing). Big-endian multi-byte data is byte-swapped (copies too). The result is read-only: it may be a
    view of the message."""
    enc = msg.encoding if encoding is None else encoding
    if enc not in IMAGE_ENCODINGS or (allowed is not None and enc not in allowed):
        ok = ", ".join(allowed if allowed is not None else IMAGE_ENCODINGS)
        raise ImageConversionError(f"unsupported encoding '{enc}' (supported: {ok}); have the driver publish "
                                   "one of these, or convert it (image_proc)")
    dtype, channels = IMAGE_ENCODINGS[enc]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if h <= 0 or w <= 0:
        raise ImageConversionError(f"image is empty ({w}x{h} {enc})")
    if enc in YUV422_TO_CV and w % 2:
        raise ImageConversionError(f"{enc} needs an even width (two pixels share U and V), got {w}x{h}")
    row_bytes = w * channels * dtype.itemsize
    if step < row_bytes:
        raise ImageConversionError(f"step {step} < width*bytes_per_pixel {row_bytes}")
    try:
        buf = np.frombuffer(msg.data, dtype=np.uint8)
    except TypeError:  # a decoder that hands over a list of ints
        buf = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    n, need = buf.size, h * step
    if n != need:
        least = need - (step - row_bytes)
        if not short_last_row_ok or n < least:
            want = f"height*step {need}" + (f" (or {least} without the last row's padding)"
                                              if short_last_row_ok and least != need else "")
            raise ImageConversionError(f"data length {n} != {want} ({w}x{h} {enc}, step {step})")
        if n > need:
            buf = buf[:need]
        else:  # the last row's padding is missing: restore it so that every row has `step` bytes
            buf = np.concatenate([buf, np.zeros(need - n, np.uint8)])
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
    encodings (YUYV, UYVY, Bayer) are converted with OpenCV: demosaicking by hand is slow and easy to get wrong.
    Copies only what the conversion needs (rgb8 without row padding is returned as is)."""
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
    if encoding in UNTYPED_AS:
        return to_rgb8(arr, UNTYPED_AS[encoding])
    if encoding in BAYER_TO_CV or encoding in YUV422_TO_CV:
        import cv2  # only for raw driver encodings: the common ones stay numpy-only

        code = YUV422_TO_CV.get(encoding) or BAYER_TO_CV[encoding]
        return cv2.cvtColor(np.ascontiguousarray(arr), getattr(cv2, code))
    if encoding == "mono16":
        # Display only: scale the used range to 8 bits.
        a = arr.astype(np.float32)
        lo, hi = float(a.min()), float(a.max())
        scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return np.repeat(scaled.astype(np.uint8)[..., None], 3, axis=2)
    raise ImageConversionError(f"'{encoding}' is not a colour encoding")


__all__ = ["BAYER_TO_CV", "COLOR_ENCODINGS", "DEPTH_ENCODINGS", "IMAGE_ENCODINGS", "ImageConversionError",
           "UNTYPED_AS", "YUV422_TO_CV", "canonical_encoding", "image_to_array", "to_rgb8"]
