"""`composite`: phrases naming quoted printed text go to `ocr`, all others to an object backend.

"the box labelled \"SUGAR\"; the red mug" -> OCR grounds the first, the configured object backend
(default `tabletop`) the second, in one command. Options (backend_options): `object_backend`,
`object_model`, `object_options` (a dict passed as that backend's options), `ocr_options`.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from grounding_node.models.base import DepthInput, Detection, GroundingBackend
from grounding_node.models.ocr import quoted_text


class CompositeBackend(GroundingBackend):
    name = "composite"

    def load(self) -> None:
        from dataclasses import replace

        from grounding_node.models.registry import create_backend

        extra = dict(self.config.extra)
        object_name = str(extra.get("object_backend", "tabletop"))
        if object_name == "composite":
            raise ValueError("composite cannot use itself as its object backend")
        self.object_backend = create_backend(object_name, replace(
            self.config, model=str(extra.get("object_model", self.config.model)),
            extra=dict(extra.get("object_options", {}))))
        self.ocr_backend = create_backend(
            "ocr", replace(self.config, model="", extra=dict(extra.get("ocr_options", {}))))
        self.reads_depth = bool(getattr(self.object_backend, "reads_depth", False))

    @property
    def default_score_threshold(self) -> float:
        """The object backend's (OCR scores are match ratios >= its `min_match`, 0.6, above any default)."""
        return self.object_backend.default_score_threshold

    def describe(self) -> str:
        return f"composite({self.object_backend.describe()} + ocr)"

    @staticmethod
    def route(phrases: Sequence[str]) -> List[bool]:
        """True for the phrases that go to OCR: those with quoted text."""
        return [quoted_text(p) is not None for p in phrases]

    def ground(self, rgb: np.ndarray, phrases: Sequence[str], depth: Optional[DepthInput] = None
               ) -> List[List[Detection]]:
        """OCR phrases to OCR, the rest to the object backend (with the frame's depth when it reads depth)."""
        to_ocr = self.route(phrases)
        result: List[List[Detection]] = [[] for _ in phrases]
        for backend, wanted in ((self.ocr_backend, True), (self.object_backend, False)):
            idx = [i for i, flag in enumerate(to_ocr) if flag == wanted]
            if idx:
                sub = [phrases[i] for i in idx]
                use_depth = depth is not None and getattr(backend, "reads_depth", False)
                out = backend.ground(rgb, sub, depth=depth) if use_depth else backend.ground(rgb, sub)
                for i, dets in zip(idx, out):
                    result[i] = dets
        return result

    def phrase_warnings(self, phrases: Sequence[str]) -> List[str]:
        """The object backend's, for the phrases it grounds (OCR reads any quoted text)."""
        return self.object_backend.phrase_warnings([p for p, ocr in zip(phrases, self.route(phrases)) if not ocr])

    def close(self) -> None:
        self.object_backend.close()
        self.ocr_backend.close()
