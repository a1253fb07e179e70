"""Backends for the benchmarks only (never shipped): loaded by the node as `bench_backends:NullBackend`
with bench/ on PYTHONPATH.

NullBackend returns fixed boxes without looking at the image, so "the node's overhead without the model
forward" is literal: its ground() costs microseconds, and the boxes (the synthetic camera's red and blue
faces and a patch of the background plane, in the 0-1024 box space, so they fit any resolution) still
exercise the geometry (depth ROI, back-projection), the markers and the debug-image drawing.
"""

from __future__ import annotations

from typing import List, Sequence

from grounding_node.models.base import Detection, GroundingBackend

BOXES = ((160.0, 256.0, 352.0, 512.0, 0.9),    # red face (test/synthetic_camera.py SCENE, 640x480 grid)
         (608.0, 427.0, 832.0, 704.0, 0.8),    # blue face
         (400.0, 100.0, 500.0, 300.0, 0.7))    # background plane


class NullBackend(GroundingBackend):
    name = "bench_null"

    def load(self) -> None:
        self.boxes = BOXES[: int(self.config.extra.get("boxes", len(BOXES)))]

    def ground(self, rgb, phrases: Sequence[str]) -> List[List[Detection]]:
        return [[Detection(b[:4], b[4]) for b in self.boxes] for _ in phrases]
