"""The canonical dataset format: a folder with `annotations.jsonl` and the images it names.

One JSON object per line::

    {"image": "images/0001.png", "width": 848, "height": 480,
     "groundings": [{"phrase": "the red mug", "boxes_1024": [[100, 200, 300, 400]], "type": "attribute"},
                    {"phrase": "the green ball", "boxes_1024": []}],
     "depth": "depth/0001.png", "camera_info": "camera_info/0001.yaml"}

Boxes are `[x_min, y_min, x_max, y_max]` on the product's 0-1024 grid whatever the image size (the same grid
as `geometry.boxes`), so a dataset survives resizing its images. An empty `boxes_1024` is a negative example:
the phrase has no referent in the image. A record with `"groundings": []` is an image nobody has annotated
yet (what `from-bag` writes). Keys this module does not know are kept in `extra` and written back, so tools
can add their own fields without losing them on a read-modify-write.

This module holds only the in-memory shape; validation (which decides what a *bad* line is) lives in
`validate.py`, so the dataclasses never half-validate and the checker stays the one place with the rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from grounding_node.geometry.boxes import GRID, box1024_to_pixels, pixels_to_box1024

ANNOTATIONS = "annotations.jsonl"
"""The annotation file's name inside a dataset folder."""

IMAGES_DIR = "images"
DEPTH_DIR = "depth"
CAMERA_INFO_DIR = "camera_info"

SAMPLE_KEYS = ("image", "width", "height", "groundings", "depth", "camera_info")
GROUNDING_KEYS = ("phrase", "boxes_1024", "type")

Box = List[float]


def normalize_phrase(phrase: str) -> str:
    """The key two phrases are compared by: case-folded with whitespace collapsed, so 'Red  cup' and
    'red cup' count as the same phrase (a duplicate) in one record and as one vocabulary entry."""
    return " ".join(phrase.split()).casefold()


_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*", re.UNICODE)


def phrase_words(phrase: str) -> List[str]:
    """Lower-case words of a phrase (for the vocabulary statistics)."""
    return [w.casefold() for w in _WORD.findall(phrase)]


def box_from_pixels(box_px: Sequence[float], width: int, height: int, ndigits: int = 4) -> Box:
    """Pixel xyxy -> 0-1024 grid, clamped to the grid (importers: a COCO box that sticks out of the image by
    rounding is clipped, not rejected) and rounded to `ndigits` (1e-4 of a grid unit is far below a pixel)."""
    out = pixels_to_box1024(np.asarray(box_px, dtype=np.float64), width, height)
    return [round(float(v), ndigits) for v in out]


def box_to_pixels(box_1024: Sequence[float], width: int, height: int) -> Box:
    """0-1024 grid -> pixel xyxy (exact, no clamping)."""
    return [float(v) for v in box1024_to_pixels(np.asarray(box_1024, dtype=np.float64), width, height)]


@dataclass
class Grounding:
    """One phrase in one image and every box it refers to; no box means the phrase has no referent."""

    phrase: str
    boxes_1024: List[Box] = field(default_factory=list)
    type: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def is_negative(self) -> bool:
        """True when the phrase names nothing in the image (a no-referent example)."""
        return len(self.boxes_1024) == 0

    def boxes_px(self, width: int, height: int) -> np.ndarray:
        """(N, 4) pixel boxes for an image of this size."""
        if not self.boxes_1024:
            return np.zeros((0, 4), dtype=np.float64)
        return box1024_to_pixels(np.asarray(self.boxes_1024, dtype=np.float64).reshape(-1, 4), width, height)

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"phrase": self.phrase, "boxes_1024": [[float(v) for v in b] for b in self.boxes_1024]}
        if self.type is not None:
            out["type"] = self.type
        for k, v in self.extra.items():
            if k not in out:
                out[k] = v
        return out

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Grounding":
        """Build from an already validated dict (see `validate.validate_record` for untrusted input)."""
        return cls(
            phrase=d["phrase"],
            boxes_1024=[[float(v) for v in b] for b in d.get("boxes_1024") or []],
            type=d.get("type"),
            extra={k: v for k, v in d.items() if k not in GROUNDING_KEYS},
        )


@dataclass
class Sample:
    """One image of a dataset with its groundings; paths are relative to the dataset folder."""

    image: str
    width: int
    height: int
    groundings: List[Grounding] = field(default_factory=list)
    depth: Optional[str] = None
    camera_info: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def annotated(self) -> bool:
        """False for a frame that still waits for annotation (`groundings: []`)."""
        return len(self.groundings) > 0

    def image_path(self, root: Path | str) -> Path:
        return Path(root) / self.image

    def depth_path(self, root: Path | str) -> Optional[Path]:
        return Path(root) / self.depth if self.depth else None

    def camera_info_path(self, root: Path | str) -> Optional[Path]:
        return Path(root) / self.camera_info if self.camera_info else None

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {
            "image": self.image,
            "width": int(self.width),
            "height": int(self.height),
            "groundings": [g.to_dict() for g in self.groundings],
        }
        if self.depth is not None:
            out["depth"] = self.depth
        if self.camera_info is not None:
            out["camera_info"] = self.camera_info
        for k, v in self.extra.items():
            if k not in out:
                out[k] = v
        return out

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Sample":
        """Build from an already validated dict (see `validate.validate_record` for untrusted input)."""
        return cls(
            image=d["image"],
            width=int(d["width"]),
            height=int(d["height"]),
            groundings=[Grounding.from_dict(g) for g in d.get("groundings") or []],
            depth=d.get("depth"),
            camera_info=d.get("camera_info"),
            extra={k: v for k, v in d.items() if k not in SAMPLE_KEYS},
        )


__all__ = [
    "ANNOTATIONS", "CAMERA_INFO_DIR", "DEPTH_DIR", "GRID", "IMAGES_DIR", "Box", "Grounding", "Sample",
    "box_from_pixels", "box_to_pixels", "normalize_phrase", "phrase_words",
]
