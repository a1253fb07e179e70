"""Deterministic backends for the tests. They live in test/ on purpose: never shipped as product backends.

ColorBackend finds the connected regions of a named colour (red, green, blue, yellow) by channel
dominance, so integration tests get real boxes from real images with known geometry. Options in
`config.extra`: sleep_ms (a slow model), fail_every (raise on every Nth call), fail_load (raise in load),
pad_px (grow every box). A phrase with the word "any" ("any box") gets every coloured region.
A phrase naming purple, a colour it cannot see, gets a phrase warning like the tabletop model's refusals.
"""

from __future__ import annotations

import time
from typing import List, Sequence

import cv2
import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb

COLOURS = {
    "red": (0, (1, 2)),
    "green": (1, (0, 2)),
    "blue": (2, (0, 1)),
}


def colour_mask(rgb: np.ndarray, colour: str) -> np.ndarray:
    """Pixels whose `colour` channel exceeds both others by 60 (yellow: red and green over blue)."""
    a = rgb.astype(np.int16)
    if colour == "yellow":
        return (a[..., 0] > a[..., 2] + 60) & (a[..., 1] > a[..., 2] + 60)
    c, (o1, o2) = COLOURS[colour]
    return (a[..., c] > a[..., o1] + 60) & (a[..., c] > a[..., o2] + 60)


class ColorBackend(GroundingBackend):
    name = "test_color"

    def load(self) -> None:
        extra = self.config.extra
        if extra.get("fail_load"):
            raise RuntimeError("test backend told to fail loading")
        self.sleep_s = float(extra.get("sleep_ms", 0)) / 1000.0
        self.fail_every = int(extra.get("fail_every", 0))
        self.pad_px = int(extra.get("pad_px", 0))
        self.calls = 0

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        check_rgb(rgb)
        self.calls += 1
        if self.sleep_s:
            time.sleep(self.sleep_s)
        if self.fail_every and self.calls % self.fail_every == 0:
            raise RuntimeError(f"test backend failure on call {self.calls}")
        h, w = rgb.shape[:2]
        out: List[List[Detection]] = []
        for phrase in phrases:
            words = phrase.lower().split()
            colours = [c for c in ("red", "green", "blue", "yellow") if c in words]
            if not colours and "any" in words:     # "any box": every coloured region
                colours = ["red", "green", "blue", "yellow"]
            dets = []
            for colour in colours[:1] if "any" not in words else colours:
                n, _, stats, _ = cv2.connectedComponentsWithStats(colour_mask(rgb, colour).astype(np.uint8), 8)
                for x, y, bw, bh, area in stats[1:]:
                    if area < 20:
                        continue
                    p = self.pad_px   # a loose box: background enters the depth ROI (roi_fraction tests)
                    x0, y0, x1, y1 = max(0, x - p), max(0, y - p), min(w, x + bw + p), min(h, y + bh + p)
                    box = (x0 * 1024.0 / w, y0 * 1024.0 / h, x1 * 1024.0 / w, y1 * 1024.0 / h)
                    dets.append(Detection(box, float(min(0.99, 0.5 + area / (w * h) * 20))))
            dets.sort(key=lambda d: -d.score)
            out.append(dets)
        return out

    def phrase_warnings(self, phrases: Sequence[str]) -> List[str]:
        """Like the tabletop model's refusals: a phrase asking for purple, which this backend cannot see."""
        return [f"'{p}' not grounded: no colour word this test backend reads" for p in phrases
                if "purple" in p.lower().split()]
