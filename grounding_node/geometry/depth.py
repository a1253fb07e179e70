"""Depth: units and validity (REP 118), the region of interest of a box, and the robust 3D estimate.

This is where a box becomes a 3D point. Conversion to metres is done on the box's region only (not the
whole frame), because that is all the estimate reads and full-frame conversion dominated the per-frame cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Sequence, Tuple

import numpy as np

from grounding_node.geometry.boxes import scale_box_pixels
from grounding_node.geometry.camera import Intrinsics, backproject, undistort_normalized

DEPTH_ENCODINGS = ("16UC1", "32FC1", "mono16")


def depth_to_metres(depth: np.ndarray, encoding: str, depth_scale: float = 0.0) -> np.ndarray:
    """Raw depth -> float32 metres with NaN where invalid.

    16UC1 and mono16 are millimetres with 0 = no reading; 32FC1 is metres with NaN/Inf = no reading (and
    <= 0 is treated as invalid). `depth_scale > 0` overrides the unit (metres per raw unit).
    """
    if encoding not in DEPTH_ENCODINGS:
        raise ValueError(f"unsupported depth encoding '{encoding}' (supported: {', '.join(DEPTH_ENCODINGS)})")
    raw = np.asarray(depth)
    if encoding in ("16UC1", "mono16"):
        scale = depth_scale if depth_scale > 0 else 0.001
        out = raw.astype(np.float32) * np.float32(scale)
        out[raw == 0] = np.nan
        return out
    out = raw.astype(np.float32, copy=True)
    if depth_scale > 0:
        out *= np.float32(depth_scale)
    with np.errstate(invalid="ignore"):
        out[~np.isfinite(out) | (out <= 0)] = np.nan
    return out


def valid_depth_mask(depth_m: np.ndarray, min_depth: float, max_depth: float) -> np.ndarray:
    """Finite, > 0 and within [min_depth, max_depth] (NaN compares False, so it is invalid)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(depth_m) & (depth_m > 0) & (depth_m >= min_depth) & (depth_m <= max_depth)


def roi_slices(box_px, roi_fraction: float, image_wh: Tuple[int, int], depth_wh: Tuple[int, int]
               ) -> Tuple[int, int, int, int]:
    """(y0, y1, x0, x1) index bounds of the central `roi_fraction` of a box in the depth image.

    Box coordinates are continuous edges (0..W); pixel u is inside when its centre u + 0.5 is. The box is
    scaled into the depth image when its resolution differs. Never empty when the box overlaps the image
    (at least the centre pixel); (0, 0, 0, 0) when it does not.
    """
    x0, y0, x1, y1 = scale_box_pixels(np.asarray(box_px, dtype=np.float64), image_wh, depth_wh)
    w, h = depth_wh
    if x1 <= 0 or y1 <= 0 or x0 >= w or y0 >= h or x1 <= x0 or y1 <= y0:
        return 0, 0, 0, 0
    f = float(np.clip(roi_fraction, 1e-6, 1.0))
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    hw, hh = (x1 - x0) * f / 2.0, (y1 - y0) * f / 2.0
    u0, u1 = int(np.ceil(cx - hw - 0.5)), int(np.ceil(cx + hw - 0.5))
    v0, v1 = int(np.ceil(cy - hh - 0.5)), int(np.ceil(cy + hh - 0.5))
    u0, u1 = max(0, u0), min(w, u1)
    v0, v1 = max(0, v0), min(h, v1)
    if u1 <= u0:   # thinner than a pixel: take the pixel under the centre (clipped into the image)
        u0 = int(np.clip(np.floor(np.clip(cx, x0, x1)), 0, w - 1))
        u1 = u0 + 1
    if v1 <= v0:
        v0 = int(np.clip(np.floor(np.clip(cy, y0, y1)), 0, h - 1))
        v1 = v0 + 1
    return v0, v1, u0, u1


@dataclass
class Object3D:
    """The 3D estimate of one box. position/size are zeros when has_position is False (never NaN)."""

    has_position: bool
    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size: np.ndarray = field(default_factory=lambda: np.zeros(3))
    valid_fraction: float = 0.0
    n_valid: int = 0


# Above this many ROI pixels the 3D estimate reads one pixel from each cell of a k x k grid over the ROI,
# drawn at random inside its cell (a jittered grid, fixed seed, so the result is a pure function of its inputs):
# its median and percentiles are those of >= this many samples spread as evenly as a grid's, while the cost,
# linear in pixels, stops growing with the box (a 400x400 box at 1280x720 took 2.9 ms here, now ~0.4 ms). Why
# not a plain sub-grid (every k-th row and column, until an adversarial script): depth registered up to a
# higher colour resolution is valid on a regular grid too, and the two aliased (a 130x130 box read only holes
# and had no position, a 400x400 box only valid pixels and reported all of them valid, flipping with a
# one-pixel shift of the box).
MAX_ESTIMATE_PIXELS = 4096


def roi_points(depth: np.ndarray, box_px, intr: Intrinsics, image_wh: Tuple[int, int],
               roi_fraction: float = 0.5, min_depth: float = 0.1, max_depth: float = 10.0,
               encoding: str = "32FC1", depth_scale: float = 0.0, stride: int = 1) -> Tuple[np.ndarray, int]:
    """The 3D points (N, 3, metres, optical frame) of the valid depth pixels in the box's central ROI,
    row-major, and the count of ROI pixels read. This is where a box becomes points: vectorised, the raw depth
    converted to metres on the pixels read only, the colour intrinsics scaled to the depth resolution. Lens
    distortion, a rectified camera's P, ROI and binning are all in `intr` (see `Intrinsics.from_calibration`),
    so the points are exact for any CameraInfo; without distortion no OpenCV call is made. `stride` > 1
    reads one pixel, at a seeded random place, from each stride x stride cell of the ROI (the count returned
    is then the sampled one)."""
    dh, dw = depth.shape[:2]
    v0, v1, u0, u1 = roi_slices(box_px, roi_fraction, image_wh, (dw, dh))
    if (v1 - v0) * (u1 - u0) <= 0:
        return np.zeros((0, 3)), 0
    k = max(1, int(stride))
    if k == 1:
        raw = depth[v0:v1, u0:u1]
    else:
        cv, cu = np.ogrid[v0:v1:k, u0:u1:k]
        rng = np.random.default_rng(0)
        # each cell's pixel, kept inside the ROI where the last row or column of cells is cut short
        vv = np.minimum(cv + rng.integers(0, k, (cv.shape[0], cu.shape[1])), v1 - 1)
        uu = np.minimum(cu + rng.integers(0, k, vv.shape), u1 - 1)
        raw = depth[vv, uu]
    roi = depth_to_metres(raw, encoding, depth_scale)
    mask = valid_depth_mask(roi, min_depth, max_depth)
    d_intr = intr if (dw, dh) == (intr.width, intr.height) else intr.scaled(dw, dh)
    vs, us = np.nonzero(mask)
    if k == 1:
        us, vs = us + u0, vs + v0
    else:
        us, vs = uu[vs, us], vv[vs, us]
    points = backproject(us, vs, roi[mask].astype(np.float64), d_intr)
    if d_intr.has_distortion:   # pixels outside the distortion model's valid area have no ray (NaN rows)
        points = points[np.isfinite(points[:, 0]) & np.isfinite(points[:, 1])]
    return points, roi.size


def estimate_object_3d(depth: np.ndarray, box_px, intr: Intrinsics, image_wh: Tuple[int, int],
                       roi_fraction: float = 0.5, min_depth: float = 0.1, max_depth: float = 10.0,
                       min_valid_pixels: int = 10, encoding: str = "32FC1", depth_scale: float = 0.0) -> Object3D:
    """3D position and size of the object in `box_px` (colour-image pixels) from aligned depth.

    - `depth` is raw (units from `encoding`, REP 118) at any resolution; only the ROI is converted.
    - `intr` is the colour camera's; it is scaled with the box when the depth resolution differs.
    - position: per-axis **median** of the back-projected valid ROI pixels. The median ignores the
      background or table pixels that a box (even its central part) catches at object edges, where a
      mean would be pulled behind the object.
    - size: x and y from the whole box's pixel extent at the median depth (the ROI is deliberately shrunk,
      so it cannot give the extent): the pinhole extent * z / fx, fy, or, with lens distortion, the metric
      distance between the innermost back-projected rays of the box's opposite sides (`_box_extent`: the
      effective focal length near a corner differs from fx by tens of per cent); z from the 10th-90th
      percentile spread of the ROI's valid depths (only the visible surface is seen, so z is a lower bound).
    - fewer than `min_valid_pixels` valid pixels -> has_position False, with valid_fraction reported.
    - ROIs over MAX_ESTIMATE_PIXELS are read on a jittered grid (one pixel per cell); `n_valid` is then the
      sampled valid fraction times the ROI's pixel count.
    """
    try:
        box = np.asarray(box_px, dtype=np.float64)
    except (TypeError, ValueError):
        box = np.empty(0)
    if box.shape != (4,) or not np.all(np.isfinite(box)):
        # the pipeline drops such boxes first; a direct caller got "cannot convert float NaN to integer"
        raise ValueError(f"box_px must be 4 finite pixel coordinates [x0, y0, x1, y1], got {box_px!r}")
    dh, dw = depth.shape[:2]
    v0, v1, u0, u1 = roi_slices(box_px, roi_fraction, image_wh, (dw, dh))
    stride = max(1, int(np.ceil(np.sqrt((v1 - v0) * (u1 - u0) / MAX_ESTIMATE_PIXELS))))
    points, n_read = roi_points(depth, box_px, intr, image_wh, roi_fraction, min_depth, max_depth, encoding,
                                depth_scale, stride=stride)
    if n_read <= 0:
        return Object3D(False)
    fraction = len(points) / n_read
    if stride > 1 and 0 < fraction < 0.5:
        # sparse depth (holes, or depth registered up to a higher resolution): a finer grid, so the budget
        # counts valid samples, at most 16 times the cells
        finer = max(1, stride // 4, int(stride * np.sqrt(fraction)))
        if finer < stride:
            stride = finer
            points, n_read = roi_points(depth, box_px, intr, image_wh, roi_fraction, min_depth, max_depth,
                                        encoding, depth_scale, stride=stride)
            fraction = len(points) / n_read
    n_valid = int(round(fraction * (v1 - v0) * (u1 - u0)))
    if n_valid < max(1, min_valid_pixels):
        return Object3D(False, valid_fraction=fraction, n_valid=n_valid)
    z = points[:, 2]
    position = np.median(points, axis=0)
    if not np.all(np.isfinite(position)):   # a camera model that overflows: no position rather than inf
        return Object3D(False, valid_fraction=fraction, n_valid=n_valid)
    z_med = position[2]
    x0, y0, x1, y1 = box
    p10, p90 = np.percentile(z, [10.0, 90.0])
    size = np.array([*_box_extent(x0, y0, x1, y1, z_med, intr, image_wh), p90 - p10])
    return Object3D(True, position, size, fraction, n_valid)


# Points read along each side of a box to find where it touches the object's image (see `_box_extent`).
EXTENT_SAMPLES = 33


def _box_extent(x0: float, y0: float, x1: float, y1: float, z: float, intr: Intrinsics,
                image_wh: Tuple[int, int]) -> Tuple[float, float]:
    """Metric width and height at depth z of a box (continuous pixel edges, colour image). Pinhole: the
    pixel extent * z / f. With distortion: each side of the box is back-projected at EXTENT_SAMPLES points
    (edge x sits at pixel coordinate x - 0.5 in the pixel-centre convention) and the extent is between the
    innermost rays of opposite sides. Why: a straight edge of the object images as a curve, so a tight box
    touches the object's image at one point per side, where its ray is the innermost of that side; the
    midpoints of the sides (until an adversarial script) made a 6 cm plate off-axis 6.7 cm (k1 = -0.28).
    Samples outside the model's valid area are skipped; a side without any falls back to the pinhole value."""
    c_intr = intr if (intr.width, intr.height) == tuple(image_wh) else intr.scaled(*image_wh)
    pinhole = ((x1 - x0) * z / c_intr.fx, (y1 - y0) * z / c_intr.fy)
    if not c_intr.has_distortion:
        return pinhole
    s = np.linspace(0.0, 1.0, EXTENT_SAMPLES)
    us, vs = x0 + (x1 - x0) * s - 0.5, y0 + (y1 - y0) * s - 0.5
    n = EXTENT_SAMPLES
    u = np.concatenate([np.full(n, x0 - 0.5), np.full(n, x1 - 0.5), us, us])
    v = np.concatenate([vs, vs, np.full(n, y0 - 0.5), np.full(n, y1 - 0.5)])
    x, y = undistort_normalized(u, v, c_intr)
    left, right, top, bottom = x[:n], x[n:2 * n], y[2 * n:3 * n], y[3 * n:]
    with np.errstate(invalid="ignore"):
        sx = (np.nanmin(right) - np.nanmax(left)) * z if np.isfinite(left).any() and np.isfinite(right).any() \
            else np.nan
        sy = (np.nanmin(bottom) - np.nanmax(top)) * z if np.isfinite(top).any() and np.isfinite(bottom).any() \
            else np.nan
    return (float(sx) if np.isfinite(sx) and sx >= 0 else pinhole[0],
            float(sy) if np.isfinite(sy) and sy >= 0 else pinhole[1])


def estimate_objects_3d(depth: np.ndarray, boxes_px: Sequence, intr: Intrinsics, image_wh: Tuple[int, int],
                        **kwargs) -> List[Object3D]:
    """`estimate_object_3d` for each box (few boxes; each one's work is vectorised)."""
    return [estimate_object_3d(depth, box, intr, image_wh, **kwargs) for box in np.asarray(boxes_px).reshape(-1, 4)]
