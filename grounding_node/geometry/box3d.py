"""Oriented 3D boxes given by their 8 corners (the simulator's ground truth)."""

from __future__ import annotations

import numpy as np


def inside_box(point, corners, margin: float = 0.0) -> bool:
    """Is `point` inside the oriented box spanned by `corners` (8x3, any order)? The box axes come from
    the corners' principal directions, so boxes rotated in the camera frame work."""
    corners = np.asarray(corners, dtype=np.float64)
    centre = corners.mean(axis=0)
    _, _, axes = np.linalg.svd(corners - centre)
    half = np.abs((corners - centre) @ axes.T).max(axis=0) + margin
    local = (np.asarray(point, dtype=np.float64) - centre) @ axes.T
    return bool(np.all(np.abs(local) <= half))
