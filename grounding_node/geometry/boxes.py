"""Boxes on the canonical 0-1024 grid, in pixels, and as normalised xywh.

The grid is the public box format: `[x_min, y_min, x_max, y_max]` normalised to 0-1024 on both axes
whatever the image size, so `pixel_x = x / 1024 * width`. Every function takes (4,) or (N, 4) and
returns the same rank, in float64, so the exact conversions survive until the message's float32.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

GRID = 1024.0


def _as_boxes(boxes) -> Tuple[np.ndarray, bool]:
    arr = np.asarray(boxes, dtype=np.float64)
    single = arr.ndim == 1
    arr = arr.reshape(-1, 4)
    return arr, single


def _out(arr: np.ndarray, single: bool) -> np.ndarray:
    return arr[0] if single else arr


def clamp_box1024(boxes) -> np.ndarray:
    """Order each box's corners (swap reversed coordinates) and clip to [0, 1024]."""
    arr, single = _as_boxes(boxes)
    x0, x1 = np.minimum(arr[:, 0], arr[:, 2]), np.maximum(arr[:, 0], arr[:, 2])
    y0, y1 = np.minimum(arr[:, 1], arr[:, 3]), np.maximum(arr[:, 1], arr[:, 3])
    out = np.clip(np.stack([x0, y0, x1, y1], axis=1), 0.0, GRID)
    return _out(out, single)


def box1024_to_pixels(boxes, width: int, height: int) -> np.ndarray:
    """0-1024 grid -> pixels: `box * [W, H, W, H] / 1024` (exact: [256,512,768,900] on 1920x1080 ->
    [480, 540, 1440, 949.21875])."""
    arr, single = _as_boxes(boxes)
    scale = np.array([width, height, width, height], dtype=np.float64) / GRID
    return _out(arr * scale, single)


def pixels_to_box1024(boxes_px, width: int, height: int) -> np.ndarray:
    """Pixels -> 0-1024 grid, clamped (used by backends whose models answer in pixels)."""
    arr, single = _as_boxes(boxes_px)
    scale = GRID / np.array([width, height, width, height], dtype=np.float64)
    return _out(clamp_box1024(arr * scale), single)


def box1024_to_xywh_norm(boxes) -> np.ndarray:
    """0-1024 xyxy -> x, y, w, h normalised to 0..1 with a top-left origin (VLM Run-style `xywh`)."""
    arr, single = _as_boxes(boxes)
    out = np.stack([arr[:, 0], arr[:, 1], arr[:, 2] - arr[:, 0], arr[:, 3] - arr[:, 1]], axis=1) / GRID
    return _out(out, single)


def scale_box_pixels(boxes_px, from_wh: Tuple[int, int], to_wh: Tuple[int, int]) -> np.ndarray:
    """Scale a pixel box between resolutions (a colour-image box into a depth image of another size).
    Box edges are continuous coordinates, so a plain ratio is exact."""
    arr, single = _as_boxes(boxes_px)
    sx, sy = to_wh[0] / from_wh[0], to_wh[1] / from_wh[1]
    return _out(arr * np.array([sx, sy, sx, sy]), single)


def box_iou(a, b) -> np.ndarray:
    """IoU of (N, 4) against (M, 4) xyxy boxes -> (N, M); zero-area pairs give 0."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0, 0, None) * np.clip(iy1 - iy0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return iou
