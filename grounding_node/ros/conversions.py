"""sensor_msgs <-> numpy, zero-copy where possible.

Why not cv_bridge: it is absent from the PyPI wheels, and on robots it copies and is no faster than
`np.frombuffer` (about 1 us, read-only view). The reverse direction uses `arr.tobytes()`: assigning a numpy
array or memoryview to `msg.data` is checked element by element by rclpy (54-93 ms for 640x480).
This module imports message *types* only, never rclpy itself, so it is usable from the sim and tests. The
pixel decoding itself (encoding table, validation, colour conversion) is ROS-free, in `image_encodings`.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from grounding_node.geometry.camera import Intrinsics
from grounding_node.image_encodings import (
    COLOR_ENCODINGS,
    DEPTH_ENCODINGS,
    IMAGE_ENCODINGS,
    ImageConversionError,
    image_to_array,
    to_rgb8,
)

# The encoding table and the pixel conversions live in the ROS-free `grounding_node.image_encodings`, shared
# with the dataset tool `from-bag`; re-exported here under the names the node, the sim and the tests import.
# image_to_numpy(msg, allowed=None): msg.data as a read-only (H, W[, C]) view, no copy (ImageConversionError).
image_to_numpy = image_to_array


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


__all__ = ["COLOR_ENCODINGS", "DEPTH_ENCODINGS", "IMAGE_ENCODINGS", "ImageConversionError",
           "camera_info_from_intrinsics", "image_to_numpy", "intrinsics_from_camera_info", "numpy_to_image",
           "stamp_to_ns", "to_rgb8"]
