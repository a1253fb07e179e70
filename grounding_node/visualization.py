"""Draw grounding results on an image with OpenCV (the node's debug image, the CLI's and the demo's PNGs)."""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from grounding_node.grounding.types import GroundedObject

# A fixed, colour-blind-friendly palette (RGB), one colour per phrase index.
_PALETTE = np.array(
    [[230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0], [204, 121, 167]],
    dtype=np.uint8,
)


def phrase_color(index: int) -> tuple:
    """RGB colour of a phrase (also used for its RViz markers)."""
    c = _PALETTE[index % len(_PALETTE)]
    return int(c[0]), int(c[1]), int(c[2])


def draw_objects(rgb: np.ndarray, objects: Sequence[GroundedObject], header_text: str = "") -> np.ndarray:
    """Return a copy of `rgb` with each object's box, phrase, score and XYZ (when known) drawn on it."""
    out = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    h, w = out.shape[:2]
    scale = max(0.4, min(w, h) / 900.0)
    thick = max(1, int(round(scale * 2)))
    for obj in objects:
        if not np.all(np.isfinite(obj.box_pixels)):
            continue   # the pipeline drops these with a warning; never int(round(nan)) here
        color = phrase_color(obj.phrase_index)
        x0, y0, x1, y1 = (int(round(v)) for v in obj.box_pixels)
        cv2.rectangle(out, (x0, y0), (x1, y1), color, thick)
        label = f"{obj.phrase} {obj.score:.2f}"
        if obj.has_position:
            px, py, pz = obj.position
            label += f" ({px:+.3f},{py:+.3f},{pz:.3f})m"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = y0 - 4 if y0 - th - 6 >= 0 else min(h - 2, y1 + th + 4)
        tx = max(0, min(x0, w - tw - 3))   # keep the label inside the image
        cv2.rectangle(out, (tx, ty - th - 2), (min(w - 1, tx + tw + 2), ty + base - 2), color, -1)
        cv2.putText(out, label, (tx + 1, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    if header_text:
        cv2.putText(out, header_text[:120], (6, int(18 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out
