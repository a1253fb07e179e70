"""Pinhole intrinsics, projection and back-projection.

Pixel convention (ROS/OpenCV): pixel (u, v) has its centre at integer (u, v); the image spans
[-0.5, W-0.5] x [-0.5, H-0.5]. Optical frame (REP 103): +x right, +y down, +z forward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_K(cls, K, width: int, height: int) -> "Intrinsics":
        """From a 3x3 matrix or its 9 row-major values (CameraInfo.k)."""
        k = np.asarray(K, dtype=np.float64).reshape(-1)
        if k.size != 9:
            raise ValueError(f"K must have 9 values, got {k.size}")
        return cls(float(k[0]), float(k[4]), float(k[2]), float(k[5]), int(width), int(height))

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def is_valid(self) -> bool:
        """Finite with positive focal lengths and size; an all-zero K (uncalibrated driver) is invalid."""
        vals = (self.fx, self.fy, self.cx, self.cy)
        return (all(math.isfinite(v) for v in vals) and self.fx > 0 and self.fy > 0
                and self.width > 0 and self.height > 0)

    def scaled(self, new_width: int, new_height: int) -> "Intrinsics":
        """The same camera at another resolution. With pixel centres at integers, a coordinate maps as
        u' = (u + 0.5) * s - 0.5, hence cx' = (cx + 0.5) * sx - 0.5 and fx' = fx * sx."""
        sx, sy = new_width / self.width, new_height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5,
                          int(new_width), int(new_height))


def intrinsics_from_fovy(fovy_deg: float, width: int, height: int) -> Intrinsics:
    """A square-pixel camera from its vertical field of view: fy = (H/2) / tan(fovy/2), fx = fy, and the
    principal point at the image centre in the pixel-centre convention: cx = (W-1)/2, cy = (H-1)/2
    (what OpenGL/MuJoCo renders: the optical axis passes through the middle of the image)."""
    fy = (height / 2.0) / math.tan(math.radians(fovy_deg) / 2.0)
    return Intrinsics(fy, fy, (width - 1) / 2.0, (height - 1) / 2.0, int(width), int(height))


def backproject(u, v, z, intr: Intrinsics) -> np.ndarray:
    """Pixel coordinates and depth (metres) -> (N, 3) points in the optical frame."""
    u = np.asarray(u, dtype=np.float64).reshape(-1)
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    return np.stack([(u - intr.cx) * z / intr.fx, (v - intr.cy) * z / intr.fy, z], axis=1)


def project(points, intr: Intrinsics) -> np.ndarray:
    """(N, 3) optical-frame points -> (N, 2) pixel coordinates."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    return np.stack([p[:, 0] * intr.fx / p[:, 2] + intr.cx, p[:, 1] * intr.fy / p[:, 2] + intr.cy], axis=1)
