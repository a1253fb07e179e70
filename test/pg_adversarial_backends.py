"""A test-only backend that misbehaves on request, for the node's adversarial tests (never shipped).

AdversarialBackend is ColorBackend plus, from `config.extra`:
- a phrase containing "nanbox" also gets a box with a NaN coordinate (a broken parser or model);
- a phrase containing "exitnow" makes ground() raise SystemExit (a BaseException: a library calling sys.exit);
- `close_marker`: a file path that close() appends "closed" to, so a test can see the teardown ran;
- `started_marker`: a file path that ground() appends "started" to before it sleeps (mid-inference signals).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Sequence

import numpy as np

from pg_test_backends import ColorBackend

from grounding_node.models.base import Detection


class AdversarialBackend(ColorBackend):
    name = "test_adversarial"

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        marker = self.config.extra.get("started_marker")
        if marker:
            with open(marker, "a", encoding="utf-8") as fh:
                fh.write("started\n")
        if any("exitnow" in p for p in phrases):
            raise SystemExit(3)
        out = super().ground(rgb, phrases)
        for phrase, dets in zip(phrases, out):
            if "nanbox" in phrase:
                dets.insert(0, Detection((float("nan"), 10.0, 200.0, 200.0), 0.99))
        return out

    def close(self) -> None:
        marker = self.config.extra.get("close_marker")
        if marker:
            with Path(marker).open("a", encoding="utf-8") as fh:
                fh.write("closed\n")
        super().close()
