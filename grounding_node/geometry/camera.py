"""Camera intrinsics with lens distortion, projection and back-projection (sensor_msgs/CameraInfo semantics).

Pixel convention (ROS/OpenCV): pixel (u, v) has its centre at integer (u, v); the image spans
[-0.5, W-0.5] x [-0.5, H-0.5]. Optical frame (REP 103): +x right, +y down, +z forward.

An `Intrinsics` always describes the pixel grid of the image it is used with (the *published* image): when
a CameraInfo carries a region of interest (ROI) or binning, or when the image is rectified and P applies,
`Intrinsics.from_calibration` folds all of that into (fx, fy, cx, cy) once, so that the hot path
(`backproject` on thousands of depth pixels) never has to think about it. Distortion (when not rectified)
acts on normalised coordinates, so it is unchanged by ROI, binning and `scaled`: those only touch the
pinhole part, which keeps all three exact with distortion.

Distortion models (ROS names, REP 104 / image_geometry):
- "plumb_bob" and "rational_polynomial": OpenCV's Brown-Conrady model with k1 k2 p1 p2 [k3 [k4 k5 k6
  [s1 s2 s3 s4 [tx ty]]]] (4, 5, 8, 12 or 14 coefficients, read by length as OpenCV and image_geometry do).
- "equidistant": OpenCV's fisheye (Kannala-Brandt) model, k1..k4.
Other drivers' names for the same models are read as them (`MODEL_ALIASES`: OpenCV's "fisheye", Kalibr's
"radtan", librealsense's "brown_conrady", ...), and a non-zero D under an empty name is read by its length as
OpenCV's, as image_geometry does (with a problem noted). Any other model name with non-zero D cannot be
honoured: the distortion is ignored and the reason is kept in `Intrinsics.problems` (for the node to log), so
a wrong 3D position never goes without a trace.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Sequence, Tuple

import numpy as np

PLUMB_BOB = "plumb_bob"
RATIONAL_POLYNOMIAL = "rational_polynomial"
EQUIDISTANT = "equidistant"
DISTORTION_MODELS = (PLUMB_BOB, RATIONAL_POLYNOMIAL, EQUIDISTANT)
# Names drivers and calibration tools use for the same models and coefficient order (lower case): OpenCV's
# fisheye module, Kalibr (radtan, equidistant), librealsense (brown_conrady: k1 k2 p1 p2 k3, OpenCV's order;
# its inverse and modified variants are other models and stay unknown).
MODEL_ALIASES = {
    "fisheye": EQUIDISTANT, "kannala_brandt": EQUIDISTANT, "kannala_brandt4": EQUIDISTANT, "kb4": EQUIDISTANT,
    "radtan": PLUMB_BOB, "radial_tangential": PLUMB_BOB, "brown_conrady": PLUMB_BOB, "brown": PLUMB_BOB,
}
_CV_LENGTHS = (4, 5, 8, 12, 14)     # the coefficient counts cv2.undistortPoints/projectPoints accept
_NEWTON_STEPS = 4                   # at most, after OpenCV's estimate (quadratic convergence: 1-2 usually)
_RESIDUAL_TOL_PX = 1e-3             # a back-projected pixel must re-project within this, else it is NaN
# No lens has a focal length under a thousandth of a pixel (a 640-pixel-wide image would see 179.9 deg); a
# smaller positive one is a driver bug, and fx = 1e-320 made every position -inf (an adversarial script)
MIN_FOCAL_PX = 1e-3
# A focal length under this fraction of the image size is a field of view over 2 atan(10) = 168.6 degrees for a
# pinhole; even a 250-degree circular fisheye (equidistant, r = f theta) has f = 0.23 W. Smaller means K is not in
# pixels: normalised (fx 0.78 for 640 px), or in millimetres (fx 3.6).
MIN_FOCAL_FRACTION = 0.05


@dataclass(frozen=True)
class Intrinsics:
    """The camera model of one image's pixel grid.

    The six positional fields are the pinhole part. Optional fields:
    - `distortion_model`, `d`: lens distortion (see the module docstring); `d == ()` means none (an all-zero
      D is normalised to that, so the pinhole fast path needs no test of the values).
    - `tx`, `ty`: P[0,3], P[1,3] of a rectified stereo camera (pixels x metres): where the camera sits in the
      first camera's frame (u = (fx X + tx) / Z + cx for X in that frame); 0 for a mono camera. Kept for
      the record only: points are in the image's own frame (`backproject`), which needs no translation.
    - `rectified`: the pinhole part came from P (the image is rectified; no distortion).
    - `problems`: why this model may not match the image (unknown distortion model, P all zeros, ...);
      not part of equality. The node should log them.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    distortion_model: str = ""
    d: Tuple[float, ...] = ()
    tx: float = 0.0
    ty: float = 0.0
    rectified: bool = False
    problems: Tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        """Normalise D against its model once, here, so every later use can trust it (frozen dataclass)."""
        model = str(self.distortion_model or "").strip().lower()
        model = MODEL_ALIASES.get(model, model)
        d = tuple(float(x) for x in np.asarray(self.d, dtype=np.float64).reshape(-1))
        problems = list(self.problems)
        if any(d) and not model and len(d) <= _CV_LENGTHS[-1]:
            # D filled, name left empty: OpenCV's order, read by length (what image_geometry hands OpenCV)
            model = PLUMB_BOB if len(d) <= 5 else RATIONAL_POLYNOMIAL
            problems.append(f"distortion_model is empty: D ({len(d)} coefficients) read as OpenCV's {model}; set "
                            "distortion_model in the driver's calibration")
        if not any(d):                   # empty or all zeros (NaN is truthy, so it stays and is invalid)
            d = ()
        elif model in (PLUMB_BOB, RATIONAL_POLYNOMIAL):
            d = _fit_length(d, _CV_LENGTHS, model, problems)
        elif model == EQUIDISTANT:
            d = _fit_length(d, (4,), model, problems)
        else:
            problems.append(f"unknown distortion model '{self.distortion_model}' with non-zero D {list(d)}: "
                            f"distortion ignored (supported: {', '.join(DISTORTION_MODELS)}); 3D positions "
                            "near the image edges will be wrong")
            d = ()
        object.__setattr__(self, "distortion_model", model if d else "")
        object.__setattr__(self, "d", d)
        object.__setattr__(self, "problems", tuple(problems))

    @classmethod
    def from_K(cls, K, width: int, height: int) -> "Intrinsics":
        """From a 3x3 matrix or its 9 row-major values (CameraInfo.k)."""
        k = np.asarray(K, dtype=np.float64).reshape(-1)
        if k.size != 9:
            raise ValueError(f"K must have 9 values, got {k.size}")
        return cls(float(k[0]), float(k[4]), float(k[2]), float(k[5]), int(width), int(height))

    @classmethod
    def from_calibration(cls, k, width: int, height: int, d: Sequence[float] = (), distortion_model: str = "",
                         p=None, rectified: bool = False, binning: Tuple[int, int] = (0, 0),
                         roi: Tuple[int, int, int, int] = (0, 0, 0, 0)) -> "Intrinsics":
        """The model of the *published* image from a full CameraInfo's fields (ROS-free, so the CLI's YAML
        reader and the node share it).

        - `k`, `d`, `p`, `width`, `height` refer to the full-resolution sensor (REP 104).
        - `rectified`: the image was rectified (image_proc), so P's fx', fy', cx', cy', Tx, Ty apply and D
          does not. P all zeros then falls back to K without distortion, with a problem noted.
        - `roi` = (x_offset, y_offset, width, height) of the crop (width/height 0 = to the sensor's edge;
          all zeros = full image), then `binning` = (binning_x, binning_y) (0 or 1 = none), as REP 104 orders
          them. For a rectified image the ROI offsets are taken in the rectified image.

        Pixel mapping, in this module's pixel-centre convention: a published pixel u covers full-resolution
        pixels x_offset + u*b .. x_offset + u*b + b-1, whose centre is
            u_full = x_offset + (u + 0.5) * b - 0.5,
        hence fx' = fx / b, cx' = (cx - x_offset + 0.5) / b - 0.5 (the same as `scaled`). image_geometry
        uses u_full = u * b + x_offset, which puts a binned pixel (b - 1) / 2 full-resolution pixels off
        its centre (0.5 px at 2x2); without binning both agree exactly.
        """
        problems = []
        kk = np.asarray(k, dtype=np.float64).reshape(-1)
        if kk.size != 9:
            raise ValueError(f"K must have 9 values, got {kk.size}")
        fx, fy, cx, cy = kk[0], kk[4], kk[2], kk[5]
        if kk[1] != 0 and np.isfinite(kk[1]):
            problems.append(f"camera_info K has skew K[0,1] = {kk[1]:g}, which is ignored (as OpenCV and "
                            "image_geometry do): x is off by skew * y / fx")
        if not np.array_equal(kk[6:], [0.0, 0.0, 1.0]) and np.all(np.isfinite(kk[6:])):
            problems.append(f"camera_info K's last row is {kk[6:].tolist()}, not [0, 0, 1]: K is malformed; "
                            "fx, fy, cx, cy are used as they are")
        tx = ty = 0.0
        dist, model = tuple(np.asarray(d, dtype=np.float64).reshape(-1)), distortion_model
        if rectified:
            pp = np.zeros(12) if p is None else np.asarray(p, dtype=np.float64).reshape(-1)
            if pp.size != 12:
                raise ValueError(f"P must have 12 values, got {pp.size}")
            if not np.any(pp[[0, 2, 5, 6]]):
                problems.append("the image is rectified but camera_info P is all zeros: K is used without "
                                "distortion instead")
            else:
                fx, fy, cx, cy, tx, ty = pp[0], pp[5], pp[2], pp[6], pp[3], pp[7]
            dist, model = (), ""
        problems += _implausible_pinhole(float(fx), float(fy), float(cx), float(cy), int(width), int(height))
        bx, by = max(1, int(binning[0] or 1)), max(1, int(binning[1] or 1))
        x_off, y_off, rw, rh = (int(v) for v in roi)
        rw = rw if rw > 0 else int(width) - x_off
        rh = rh if rh > 0 else int(height) - y_off
        if x_off < 0 or y_off < 0 or x_off + rw > int(width) or y_off + rh > int(height):
            problems.append(f"camera_info roi (x {x_off}, y {y_off}, {rw}x{rh}) is outside the calibrated "
                            f"{int(width)}x{int(height)} image")
        return cls(float(fx) / bx, float(fy) / by, (float(cx) - x_off + 0.5) / bx - 0.5,
                   (float(cy) - y_off + 0.5) / by - 0.5, rw // bx, rh // by, distortion_model=model, d=dist,
                   tx=float(tx) / bx, ty=float(ty) / by, rectified=bool(rectified), problems=tuple(problems))

    @property
    def K(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @property
    def D(self) -> np.ndarray:
        """The distortion coefficients as OpenCV wants them (empty when there is no distortion)."""
        return np.asarray(self.d, dtype=np.float64)

    @property
    def has_distortion(self) -> bool:
        return bool(self.d)

    def is_valid(self) -> bool:
        """Finite with usable focal lengths (>= MIN_FOCAL_PX) and a size; an all-zero K (uncalibrated driver) is
        invalid, and so is a non-finite D or P translation (they would make every 3D position NaN)."""
        return not self.invalid_reason()

    def invalid_reason(self) -> str:
        """Why `is_valid` is False, in words a user can act on; "" when it is valid."""
        vals = (self.fx, self.fy, self.cx, self.cy, self.tx, self.ty) + self.d
        if not all(math.isfinite(v) for v in vals):
            return "non-finite values in K, D or P"
        if self.fx == 0 and self.fy == 0:
            return "K is all zeros (an uncalibrated driver)"
        if self.fx < MIN_FOCAL_PX or self.fy < MIN_FOCAL_PX:
            return f"focal length fx {self.fx:g}, fy {self.fy:g} is not a camera's (>= {MIN_FOCAL_PX:g} px)"
        if self.width <= 0 or self.height <= 0:
            return (f"image size {self.width}x{self.height}: camera_info width and height must be the resolution "
                    "K was calibrated at")
        if (self.fx < MIN_FOCAL_FRACTION * self.width and self.fy < MIN_FOCAL_FRACTION * self.height
                and -1.0 <= self.cx <= 2.0 and -1.0 <= self.cy <= 2.0):
            return (f"K looks normalised (fx {self.fx:g}, fy {self.fy:g}, cx {self.cx:g}, cy {self.cy:g} for a "
                    f"{self.width}x{self.height} image): camera_info K must be in pixels")
        return ""

    def scaled(self, new_width: int, new_height: int) -> "Intrinsics":
        """The same camera at another resolution. With pixel centres at integers, a coordinate maps as
        u' = (u + 0.5) * s - 0.5, hence cx' = (cx + 0.5) * sx - 0.5 and fx' = fx * sx (tx like fx).
        Distortion acts on normalised coordinates, which this does not change, so D is kept as is: exact."""
        sx, sy = new_width / self.width, new_height / self.height
        problems = self.problems
        if abs(sx - sy) > 0.01 * max(sx, sy):
            # exact only for a camera mode that rescales each axis; a crop or another mode's calibration is not
            problems += (f"calibrated at {self.width}x{self.height}, another aspect ratio than the "
                         f"{int(new_width)}x{int(new_height)} image: K scaled unevenly (right only if the mode "
                         "rescales each axis; a crop or another mode's calibration puts positions off)",)
        return dataclasses.replace(self, fx=self.fx * sx, fy=self.fy * sy, cx=(self.cx + 0.5) * sx - 0.5,
                                   cy=(self.cy + 0.5) * sy - 0.5, width=int(new_width), height=int(new_height),
                                   tx=self.tx * sx, ty=self.ty * sy, problems=problems)


def _implausible_pinhole(fx: float, fy: float, cx: float, cy: float, width: int, height: int) -> list:
    """Problems of a calibration's pinhole part (full resolution, before ROI and binning) that no real camera
    has: a focal length far too short for the image (K not in pixels), a principal point outside the image
    (K from another resolution: a 1920x1080 K sent with a 640x480 size). Reported, not refused: a shifted or
    odd lens is possible, and the node logs each problem."""
    if width <= 0 or height <= 0 or not all(math.isfinite(v) for v in (fx, fy, cx, cy)) or min(fx, fy) <= 0:
        return []
    problems = []
    if fx < MIN_FOCAL_FRACTION * width or fy < MIN_FOCAL_FRACTION * height:
        fov = [math.degrees(2.0 * math.atan(n / (2.0 * f))) for n, f in ((width, fx), (height, fy))]
        problems.append(f"camera_info focal length fx {fx:g}, fy {fy:g} px gives a {fov[0]:.1f} x {fov[1]:.1f} "
                        f"degree field of view on {width}x{height}: K is not in pixels (normalised, or in mm?); "
                        "3D positions will be wrong")
    if not (-0.5 <= cx <= width - 0.5 and -0.5 <= cy <= height - 0.5):
        problems.append(f"camera_info principal point (cx {cx:g}, cy {cy:g}) is outside the calibrated "
                        f"{width}x{height} image: K is probably for another resolution (width and height must "
                        "be the calibration's); 3D positions will be wrong")
    return problems


def _fit_length(d: Tuple[float, ...], lengths: Tuple[int, ...], model: str, problems: list) -> Tuple[float, ...]:
    """Pad D with zeros to the next length OpenCV accepts (a missing coefficient is a zero one: exact);
    extra non-zero coefficients cannot be honoured, so they are dropped with a problem noted."""
    for n in lengths:
        if len(d) <= n:
            return d + (0.0,) * (n - len(d))
    n = lengths[-1]
    if any(d[n:]):
        problems.append(f"{model} takes at most {n} distortion coefficients, got {len(d)}: the extra "
                        f"non-zero ones {list(d[n:])} are ignored")
    return d[:n]


def intrinsics_from_fovy(fovy_deg: float, width: int, height: int) -> Intrinsics:
    """A square-pixel camera from its vertical field of view: fy = (H/2) / tan(fovy/2), fx = fy, and the
    principal point at the image centre in the pixel-centre convention: cx = (W-1)/2, cy = (H-1)/2
    (what OpenGL/MuJoCo renders: the optical axis passes through the middle of the image)."""
    fy = (height / 2.0) / math.tan(math.radians(fovy_deg) / 2.0)
    return Intrinsics(fy, fy, (width - 1) / 2.0, (height - 1) / 2.0, int(width), int(height))


def _brown_conrady(x: np.ndarray, y: np.ndarray, d: np.ndarray):
    """OpenCV's forward distortion of normalised points (k1 k2 p1 p2 k3 k4 k5 k6 s1 s2 s3 s4, no tilt) and
    its 2x2 Jacobian: (xd, yd, dxd/dx, dxd/dy, dyd/dx, dyd/dy). For the Newton polish of undistortion; the
    rational denominator and thin-prism terms are skipped when zero (the common plumb_bob is the hot case)."""
    k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4 = (float(c) for c in np.pad(d[:12], (0, max(0, 12 - d.size))))
    r2 = x * x + y * y
    rad = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
    drad = k1 + r2 * (2.0 * k2 + 3.0 * k3 * r2)          # d rad / d r2
    if k4 or k5 or k6:
        b = 1.0 + r2 * (k4 + r2 * (k5 + r2 * k6))
        db = k4 + r2 * (2.0 * k5 + 3.0 * k6 * r2)
        rad, drad = rad / b, (drad * b - rad * db) / (b * b)
    xy = x * y
    xd = x * rad + (2.0 * p1) * xy + p2 * (r2 + 2.0 * x * x)
    yd = y * rad + p1 * (r2 + 2.0 * y * y) + (2.0 * p2) * xy
    cross = 2.0 * xy * drad + (2.0 * p1) * x + (2.0 * p2) * y
    j11 = rad + 2.0 * x * x * drad + (2.0 * p1) * y + (6.0 * p2) * x
    j22 = rad + 2.0 * y * y * drad + (6.0 * p1) * y + (2.0 * p2) * x
    j12 = cross
    j21 = cross
    if s1 or s2 or s3 or s4:
        gx, gy = s1 + (2.0 * s2) * r2, s3 + (2.0 * s4) * r2   # d (thin prism) / d r2
        xd = xd + r2 * (s1 + s2 * r2)
        yd = yd + r2 * (s3 + s4 * r2)
        j11, j12 = j11 + 2.0 * x * gx, j12 + 2.0 * y * gx
        j21, j22 = j21 + 2.0 * x * gy, j22 + 2.0 * y * gy
    return xd, yd, j11, j12, j21, j22


def _fisheye_forward(x: np.ndarray, y: np.ndarray, d: np.ndarray):
    """OpenCV's fisheye (equidistant, Kannala-Brandt) forward model on normalised points, and d theta_d /
    d theta (where it is <= 0 the lens model has folded over: no unique ray)."""
    k1, k2, k3, k4 = (float(c) for c in d[:4])
    r = np.hypot(x, y)
    theta = np.arctan(r)
    t2 = theta * theta
    theta_d = theta * (1.0 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))
    slope = 1.0 + t2 * (3.0 * k1 + t2 * (5.0 * k2 + t2 * (7.0 * k3 + t2 * 9.0 * k4)))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(r > 1e-12, theta_d / np.where(r > 1e-12, r, 1.0), 1.0)
    return x * scale, y * scale, slope


def undistort_normalized(u, v, intr: Intrinsics) -> Tuple[np.ndarray, np.ndarray]:
    """Pixels -> ideal normalised coordinates (x/z, y/z) of their rays; NaN where a pixel has no ray.

    OpenCV gives the estimate (cv2.undistortPoints / cv2.fisheye.undistortPoints). Why more: OpenCV's
    default 5 fixed-point iterations are far from converged for strong distortion near the corners (24 mm
    at 1 m for a rational_polynomial camera), and asking it for more iterations costs 4-8x; a few Newton
    steps on the forward model in numpy converge quadratically. Every result is then re-projected and
    kept only when it lands within 1e-3 px of the pixel and the forward model is not folded over there
    (Jacobian determinant > 0), so a pixel outside the model's valid area gives NaN, never a wrong ray.
    """
    import cv2

    u = np.asarray(u, dtype=np.float64).reshape(-1)
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    if not intr.d:
        return ((u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy)
    xd_t, yd_t = (u - intr.cx) / intr.fx, (v - intr.cy) / intr.fy   # target distorted normalised coords
    pts = np.stack([u, v], axis=1).reshape(-1, 1, 2)
    K, D = intr.K, intr.D
    tol = _RESIDUAL_TOL_PX / max(intr.fx, intr.fy)
    if intr.distortion_model == EQUIDISTANT:
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-12)
        try:
            und = cv2.fisheye.undistortPoints(pts, K, D.reshape(4, 1), criteria=crit)
        except (TypeError, cv2.error):        # OpenCV without the criteria argument
            und = cv2.fisheye.undistortPoints(pts, K, D.reshape(4, 1))
        und = und.reshape(-1, 2).astype(np.float64)
        x, y = und[:, 0], und[:, 1]
        with np.errstate(invalid="ignore", over="ignore"):
            xd, yd, slope = _fisheye_forward(x, y, D)
            # OpenCV marks failures with huge values; theta beyond 90 degrees has no ray with z > 0
            ok = (np.hypot(xd - xd_t, yd - yd_t) <= tol) & (np.hypot(x, y) < 1e6) & (slope > 0)
        return np.where(ok, x, np.nan), np.where(ok, y, np.nan)
    if D.size == 14 and np.any(D[12:]):   # Scheimpflug tilt: no Jacobian here, OpenCV iterates to the end
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-14)
        try:
            und = cv2.undistortPoints(pts, K, D, criteria=crit)
        except (TypeError, cv2.error):     # OpenCV 4.x spells it undistortPointsIter
            und = cv2.undistortPointsIter(pts, K, D, None, None, crit)
        und = und.reshape(-1, 2).astype(np.float64)
        proj = cv2.projectPoints(np.stack([und[:, 0], und[:, 1], np.ones(len(und))], 1), np.zeros(3),
                                 np.zeros(3), K, D)[0].reshape(-1, 2)
        ok = np.hypot(proj[:, 0] - u, proj[:, 1] - v) <= _RESIDUAL_TOL_PX
        return np.where(ok, und[:, 0], np.nan), np.where(ok, und[:, 1], np.nan)
    und = cv2.undistortPoints(pts, K, D).reshape(-1, 2).astype(np.float64)
    x, y = und[:, 0], und[:, 1]
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for step in range(_NEWTON_STEPS + 1):
            xd, yd, j11, j12, j21, j22 = _brown_conrady(x, y, D)
            ex, ey = xd - xd_t, yd - yd_t
            det = j11 * j22 - j12 * j21
            err = np.hypot(ex, ey)
            if step == _NEWTON_STEPS or not np.any(err > 1e-3 * tol):   # 1e-6 px; NaN compares False
                break
            x = x - (j22 * ex - j12 * ey) / det
            y = y - (j11 * ey - j21 * ex) / det
        ok = (err <= tol) & (det > 0)
    return np.where(ok, x, np.nan), np.where(ok, y, np.nan)


def backproject(u, v, z, intr: Intrinsics) -> np.ndarray:
    """Pixel coordinates and depth (metres, along the optical axis) -> (N, 3) points in the optical frame.

    Honours distortion (the pixel's ray is undistorted first; NaN rows for pixels without a valid ray). The
    point is in the image's own optical frame, the frame the node stamps it with: a rectified stereo camera's
    P translation (tx = -fx' * baseline for the right camera) is not applied. With it (image_geometry's
    formula, until an adversarial script) the point came out in the first camera's frame, a baseline (12 cm
    on a common stereo head) from where its frame_id said. Without distortion this is the plain pinhole
    formula with no OpenCV call (the per-box hot path).
    """
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    if intr.d:
        x, y = undistort_normalized(u, v, intr)
        return np.stack([x * z, y * z, z], axis=1)
    u = np.asarray(u, dtype=np.float64).reshape(-1)
    v = np.asarray(v, dtype=np.float64).reshape(-1)
    return np.stack([(u - intr.cx) * z / intr.fx, (v - intr.cy) * z / intr.fy, z], axis=1)


def project(points, intr: Intrinsics) -> np.ndarray:
    """(N, 3) optical-frame points (z > 0) -> (N, 2) pixel coordinates; the exact inverse of `backproject`
    (cv2.projectPoints / cv2.fisheye.projectPoints when there is distortion)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if not intr.d:
        return np.stack([p[:, 0] * intr.fx / p[:, 2] + intr.cx, p[:, 1] * intr.fy / p[:, 2] + intr.cy], axis=1)
    import cv2

    if len(p) == 0:
        return np.zeros((0, 2))
    rvec = tvec = np.zeros(3)
    if intr.distortion_model == EQUIDISTANT:
        uv = cv2.fisheye.projectPoints(p.reshape(-1, 1, 3), rvec.reshape(1, 1, 3), tvec.reshape(1, 1, 3), intr.K,
                                       intr.D.reshape(4, 1))[0]
    else:
        uv = cv2.projectPoints(p, rvec, tvec, intr.K, intr.D)[0]
    return uv.reshape(-1, 2).astype(np.float64)
