"""Plain data types of the core. numpy only, so they cross into ROS, the API and the eval unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Union

import numpy as np

from grounding_node.geometry.camera import Intrinsics


@dataclass
class Frame:
    """One camera frame: colour, aligned depth (raw, with its encoding), intrinsics of the colour image.

    Depth stays raw until grounding: converting to metres is only needed for the boxes' regions, and
    the units depend on the encoding (REP 118) and the `depth_scale` parameter, which may change at run time.
    """

    rgb: np.ndarray                         # (H, W, 3) uint8 RGB
    depth: Optional[np.ndarray] = None      # (h, w) raw depth, aligned to rgb (resolution may differ)
    depth_encoding: str = "32FC1"           # 16UC1 | mono16 (mm) | 32FC1 (m)
    intrinsics: Optional[Intrinsics] = None  # of the colour image; None or invalid -> 2D only
    stamp_ns: int = 0
    frame_id: str = ""

    @property
    def size(self) -> tuple:
        """(width, height) of the colour image."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


@dataclass
class GroundingSettings:
    """Everything the pipeline needs besides the backend; the node fills it from its parameters.

    `score_threshold`: None or "auto" = the backend's family default (`backend.default_score_threshold`,
    table in docs/backends.md); a number overrides it.
    """

    score_threshold: Union[None, float, str] = None
    max_objects_per_phrase: int = 5
    confidence_hi: float = 0.7
    confidence_med: float = 0.4
    roi_fraction: float = 0.5
    min_depth: float = 0.1
    max_depth: float = 10.0
    depth_scale: float = 0.0
    min_valid_pixels: int = 10
    depth_for_grounding: bool = True   # pass aligned depth to backends that read it (`reads_depth`)


@dataclass
class GroundedObject:
    """One object for one phrase: the message GroundedObject without ROS."""

    phrase: str
    phrase_index: int
    score: float
    confidence: str
    box_1024: np.ndarray      # (4,) xyxy on the 0-1024 grid
    box_pixels: np.ndarray    # (4,) xyxy in colour-image pixels
    box_xywh: np.ndarray      # (4,) normalised 0..1, top-left origin
    has_position: bool = False
    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size: np.ndarray = field(default_factory=lambda: np.zeros(3))
    depth_valid_fraction: float = 0.0

    def to_dict(self) -> dict:
        """JSON-ready form (used by the CLI, the demo and logs)."""
        return {
            "phrase": self.phrase,
            "score": round(float(self.score), 4),
            "confidence": self.confidence,
            "box_1024": [round(float(v), 2) for v in self.box_1024],
            "box_pixels": [round(float(v), 2) for v in self.box_pixels],
            "box_xywh": [round(float(v), 5) for v in self.box_xywh],
            "has_position": bool(self.has_position),
            "position": [round(float(v), 4) for v in self.position] if self.has_position else None,
            "size": [round(float(v), 4) for v in self.size] if self.has_position else None,
            "depth_valid_fraction": round(float(self.depth_valid_fraction), 3),
        }


@dataclass
class GroundingResult:
    """The outcome of one grounding of a list of phrases on one frame."""

    phrases: List[str]
    objects: List[GroundedObject]
    inference_ms: float = 0.0
    geometry_ms: float = 0.0
    warnings: List[str] = field(default_factory=list)
    # the part of `warnings` about the phrases themselves (refused, read without some words): a node logs
    # them under their own throttle, so a phrase problem never hides a camera or depth problem
    phrase_warnings: List[str] = field(default_factory=list)
    depth_invalid: bool = False   # depth present but no object got a position from it

    def by_phrase(self) -> List[List[GroundedObject]]:
        """Objects grouped per phrase, in phrase order (each group sorted by score)."""
        groups: List[List[GroundedObject]] = [[] for _ in self.phrases]
        for obj in self.objects:
            groups[obj.phrase_index].append(obj)
        return groups
