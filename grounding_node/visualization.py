"""Draw grounding results on an image with OpenCV (the node's debug image, the CLI's and the demo's PNGs)."""

from __future__ import annotations

import unicodedata
from typing import Sequence

import cv2
import numpy as np

from grounding_node.grounding.types import GroundedObject

# A fixed, colour-blind-friendly palette (RGB), one colour per phrase index.
_PALETTE = np.array(
    [[230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [0, 114, 178], [213, 94, 0], [204, 121, 167]],
    dtype=np.uint8,
)


LABEL_MAX_CHARS = 60


def drawable_text(text: str, max_chars: int = LABEL_MAX_CHARS) -> str:
    """`text` as OpenCV's Hershey fonts can draw it: ASCII only (accents dropped: "café" -> "cafe"; other
    letters -> "?"), newlines and tabs as spaces, at most `max_chars` (then "..."). Why: cv2.putText draws
    each byte of a UTF-8 character as its own glyph and a newline as a glyph too, so "红色杯子" or a
    two-line command came out as a row of junk, and a 5,000-character phrase as a label wider than any image."""
    text = " ".join(str(text).split())
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if ch.isascii():
            out.append(ch if ch.isprintable() else " ")
        elif not unicodedata.combining(ch):
            out.append("?")
    text = "".join(out)
    return text if len(text) <= max_chars else text[: max(0, max_chars - 3)] + "..."


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
        # clipped to the image: a finite but huge box (1e30) overflowed OpenCV's int points, and a box past an
        # edge is drawn along that edge (it reaches it), not off-image where nobody sees it
        x0, x1 = (int(round(min(max(float(v), 0.0), w - 1.0))) for v in (obj.box_pixels[0], obj.box_pixels[2]))
        y0, y1 = (int(round(min(max(float(v), 0.0), h - 1.0))) for v in (obj.box_pixels[1], obj.box_pixels[3]))
        cv2.rectangle(out, (x0, y0), (x1, y1), color, thick)
        label = f"{drawable_text(obj.phrase)} {obj.score:.2f}"
        if obj.has_position:
            px, py, pz = obj.position
            label += f" ({px:+.3f},{py:+.3f},{pz:.3f})m"
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        ty = y0 - 4 if y0 - th - 6 >= 0 else min(h - 2, y1 + th + 4)
        tx = max(0, min(x0, w - tw - 3))   # keep the label inside the image
        cv2.rectangle(out, (tx, ty - th - 2), (min(w - 1, tx + tw + 2), ty + base - 2), color, -1)
        cv2.putText(out, label, (tx + 1, ty - 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    if header_text:
        cv2.putText(out, drawable_text(header_text, 120), (6, int(18 * scale) + 4), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out
