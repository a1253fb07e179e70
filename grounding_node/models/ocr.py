"""`ocr`: ground phrases that name printed text ("the box labelled \"SUGAR\"") with RapidOCR.

Real weights that work offline: `rapidocr-onnxruntime` ships PP-OCRv4 detection + recognition as
ONNX inside its wheel. The whole frame is read once per call (shared by every phrase); each phrase's
target text is matched against every text line, and the **fuzzy match ratio (0..1) is the score**,
so a misread letter lowers the score instead of losing the object. The box is the text line's
axis-aligned bounds: the label itself, which sits on the object a planner wants.
"""

from __future__ import annotations

import difflib
import re
from typing import List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.parsers import pixels_to_1024

_QUOTED = re.compile(r"[\"\u201c\u201d\u00ab\u00bb]([^\"\u201c\u201d\u00ab\u00bb]+)[\"\u201c\u201d\u00ab\u00bb]"
                     r"|(?:^|\s)['\u2018]([^'\u2018\u2019]+)['\u2019](?=$|[\s.,;:!?])")
_KEYWORD = re.compile(r"\b(?:labell?ed|marked|saying|reading|that says|with the (?:text|word|label))\s+(.+)$",
                      re.IGNORECASE)


def quoted_text(phrase: str) -> Optional[str]:
    """The text in quotes in a phrase (`the box labelled "SUGAR"` -> `SUGAR`), or None."""
    m = _QUOTED.search(phrase)
    if not m:
        return None
    return (m.group(1) or m.group(2)).strip() or None


def target_text(phrase: str) -> str:
    """What printed text a phrase asks for: quoted text, else the words after labelled/marked/saying,
    else the whole phrase."""
    quoted = quoted_text(phrase)
    if quoted:
        return quoted
    m = _KEYWORD.search(phrase)
    return (m.group(1) if m else phrase).strip()


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^0-9A-Z]+", " ", text.upper()).split())


def text_match(target: str, line: str) -> float:
    """Fuzzy match of `target` inside an OCR `line`, 0..1: the best difflib ratio over the whole line
    and over every run of as many words as the target has (a label may share its line with other words)."""
    t, words = _norm(target), _norm(line).split()
    if not t or not words:
        return 0.0
    n = max(1, len(t.split()))
    candidates = [" ".join(words)] + [" ".join(words[i:i + n]) for i in range(max(1, len(words) - n + 1))]
    return max(difflib.SequenceMatcher(None, t, c).ratio() for c in candidates)


def engine_kwargs(device: str, providers: Sequence[str]) -> dict:
    """RapidOCR options for the `device` parameter: its three ONNX models on CUDA when asked for ("cuda",
    "cuda:N") or when "auto" finds onnxruntime's CUDA provider (the onnxruntime-gpu wheel); else CPU.
    Asking for CUDA without that provider is an error, not a silent CPU fallback."""
    has_cuda = "CUDAExecutionProvider" in providers
    if device.startswith("cuda") and not has_cuda:
        raise RuntimeError(f"device '{device}' requested but onnxruntime has no CUDAExecutionProvider "
                           "(install onnxruntime-gpu)")
    use_cuda = device.startswith("cuda") or (device in ("", "auto") and has_cuda)
    return {f"{part}_use_cuda": True for part in ("det", "cls", "rec")} if use_cuda else {}


class OcrBackend(GroundingBackend):
    name = "ocr"

    def load(self) -> None:
        import onnxruntime
        from rapidocr_onnxruntime import RapidOCR

        self.engine = RapidOCR(**engine_kwargs(self.config.device, onnxruntime.get_available_providers()))
        self.min_match = float(self.config.extra.get("min_match", 0.6))

    def describe(self) -> str:
        return "ocr:rapidocr-onnxruntime(PP-OCRv4)"

    def read(self, rgb: np.ndarray) -> List[Tuple[np.ndarray, str, float]]:
        """All text lines: (4x2 corner points in pixels, text, recognition confidence)."""
        check_rgb(rgb)
        lines, _ = self.engine(np.ascontiguousarray(rgb[:, :, ::-1]))  # RapidOCR takes OpenCV's BGR order
        return [(np.asarray(pts, dtype=np.float64), str(text), float(conf)) for pts, text, conf in (lines or [])]

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        if not phrases:
            return []
        lines = self.read(rgb)
        h, w = rgb.shape[:2]
        result: List[List[Detection]] = []
        for phrase in phrases:
            target = target_text(phrase)
            dets = []
            for pts, text, _conf in lines:
                score = text_match(target, text)
                if score >= self.min_match:
                    box = (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
                    dets.append(Detection(pixels_to_1024(box, w, h), float(score)))
            dets.sort(key=lambda d: -d.score)
            result.append(dets)
        return result
