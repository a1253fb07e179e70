"""Photometric augmentation of training frames: what real cameras do to a picture that the renderer does not.

Why: the sim varies only its light (intensity, direction, colour) and the table, so the model never saw a
frame over-exposed by auto-exposure, a white balance that is off, or another tone curve. Measured on
rendered scenes (`bench/robustness_tabletop.py`), those cost the shipped model 8.6 (x1.8 exposure), 3.5
(gamma 0.6) and 2.9 (a warm cast) points of Acc@0.5. A camera's response is modelled the way a sensor
pipeline applies it: a linear gain per channel (exposure times white balance) on the linear signal, clipped
at full scale, then a tone curve (gamma). The letterbox bars are the backend's constant grey whatever the
camera does, so they are left alone, and the frame then goes through `processing.normalize_exposure` as
inference sends it (a dark frame is lifted there, not by the network).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from grounding_node.models.tabletop.processing import PAD_VALUE, Letterbox, normalize_exposure


@dataclass(frozen=True)
class CameraResponse:
    """One draw of a camera's response: `exposure` (x linear gain), `white_balance` (R, G, B gains, G = 1)
    and `gamma` (output = full scale * (clipped input / full scale) ** gamma)."""

    exposure: float = 1.0
    white_balance: Tuple[float, float, float] = (1.0, 1.0, 1.0)
    gamma: float = 1.0

    def luts(self) -> np.ndarray:
        """(3, 256) uint8 lookup tables, one per RGB channel."""
        gains = self.exposure * np.asarray(self.white_balance, np.float64)[:, None]
        y = np.clip(np.arange(256, dtype=np.float64)[None, :] * gains, 0.0, 255.0)
        if self.gamma != 1.0:   # (no round trip through /255 otherwise: 112.5 must stay a tie, not 112.50000000000001)
            y = 255.0 * (y / 255.0) ** self.gamma
        return np.round(y).astype(np.uint8)


# Ranges drawn log-uniformly: they cover the robustness bench's conditions (x0.4 and x1.8 exposure, gamma 0.6
# and 1.6, R/B x1.25/0.8) without being centred on them.
EXPOSURE_RANGE = (0.4, 2.0)
GAMMA_RANGE = (0.55, 1.8)
WHITE_BALANCE_RANGE = (0.75, 1.33)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def random_response(rng: np.random.Generator) -> CameraResponse:
    """A random camera response: exposure, white balance (R and B gains) and gamma, each log-uniform."""
    return CameraResponse(exposure=_log_uniform(rng, *EXPOSURE_RANGE),
                          white_balance=(_log_uniform(rng, *WHITE_BALANCE_RANGE), 1.0,
                                         _log_uniform(rng, *WHITE_BALANCE_RANGE)),
                          gamma=_log_uniform(rng, *GAMMA_RANGE))


def picture_area(img: np.ndarray) -> Letterbox:
    """The letterbox of a network-sized training frame: the picture inside the `PAD_VALUE` bars. Training
    frames carry no letterbox record (16:9 scenes are letterboxed into 320x240 when rendered), so the bars
    are found as whole rows and columns of exactly the pad grey, which no rendered row is."""
    grey = np.all(img == PAD_VALUE, axis=2)
    rows = np.flatnonzero(~grey.all(axis=1))
    cols = np.flatnonzero(~grey.all(axis=0))
    if len(rows) == 0 or len(cols) == 0:
        size = (img.shape[1], img.shape[0])
        return Letterbox(size, size, size[0], size[1], 0, 0)
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return Letterbox((x1 - x0, y1 - y0), (img.shape[1], img.shape[0]), x1 - x0, y1 - y0, x0, y0)


def apply_response(img: np.ndarray, response: CameraResponse) -> np.ndarray:
    """A network-sized uint8 RGB training frame as a camera with `response` would have given it, bars kept
    grey, then exposure-normalised as the backend does at inference. Returns a new array."""
    lb = picture_area(img)
    out = img.copy()
    inner = np.ascontiguousarray(img[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w])
    luts = response.luts()
    chans = [cv2.LUT(np.ascontiguousarray(inner[..., c]), luts[c]) for c in range(3)]
    out[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w] = np.dstack(chans)
    return normalize_exposure(out, lb)[0]


def augment(img: np.ndarray, rng: np.random.Generator, probability: float) -> np.ndarray:
    """With `probability`, `apply_response` with a `random_response`; otherwise the frame as it is."""
    if probability <= 0.0 or rng.random() >= probability:
        return img
    return apply_response(img, random_response(rng))
