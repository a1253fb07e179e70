"""Oriented 3D boxes given by their 8 corners (the simulator's ground truth)."""

from __future__ import annotations

from itertools import combinations

import numpy as np


def box_axes(corners) -> tuple:
    """(centre (3,), unit axes (3, 3) as rows, half-extents (3,)) of the box spanned by 8 corners in any
    order. The edges are read from the corners themselves: of the 7 vectors from one corner to the others,
    the box's three edges are the only mutually orthogonal triple that adds up to the opposite corner.
    Why not principal directions (an SVD of the corners): a cube's corners, and a can's (two equal sides),
    have none, so the axes came out arbitrary and the box tested was up to sqrt(3) times too large."""
    corners = np.asarray(corners, dtype=np.float64).reshape(8, 3)
    centre = corners.mean(axis=0)
    v = corners[1:] - corners[0]
    norms = np.linalg.norm(v, axis=1)
    scale = max(float(norms.max()), 1e-12)
    for i, j, k in combinations(range(7), 3):
        e = v[[i, j, k]]
        n = norms[[i, j, k]]
        if n.min() <= 1e-9 * scale:
            continue
        cos = np.abs([e[0] @ e[1] / (n[0] * n[1]), e[0] @ e[2] / (n[0] * n[2]), e[1] @ e[2] / (n[1] * n[2])])
        if cos.max() > 1e-6:
            continue
        if np.min(np.linalg.norm(v - e.sum(axis=0), axis=1)) <= 1e-6 * scale:
            return centre, e / n[:, None], n / 2.0
    # not a box (degenerate or noisy corners): principal directions, the half-extents covering every corner
    _, _, axes = np.linalg.svd(corners - centre)
    return centre, axes, np.abs((corners - centre) @ axes.T).max(axis=0)


def inside_box(point, corners, margin: float = 0.0) -> bool:
    """Is `point` inside the oriented box spanned by `corners` (8x3, any order), grown by `margin` metres on
    every side? Boxes rotated in the camera frame work (`box_axes`)."""
    centre, axes, half = box_axes(corners)
    local = (np.asarray(point, dtype=np.float64) - centre) @ axes.T
    return bool(np.all(np.abs(local) <= half + margin))
