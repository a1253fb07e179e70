"""The backend protocol every grounding model implements.

The node and the API depend only on this: an RGB uint8 image plus a list of phrases in, and for each
phrase a list of `Detection(box_1024, score)` out. Boxes are on the canonical 0-1024 grid
(x_min, y_min, x_max, y_max) whatever the image size, so the geometry never needs to know which
model family produced them. Backends that can share one image encoding across phrases must do so
inside `ground` (the caller passes all phrases of a command at once for that reason).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

Box1024 = Tuple[float, float, float, float]


@dataclass(frozen=True)
class Detection:
    """One scored box for one phrase; `box_1024` is xyxy on the 0-1024 grid, `score` in 0..1."""

    box_1024: Box1024
    score: float


@dataclass(frozen=True)
class DepthInput:
    """Depth registered to the colour frame, for backends that read it (`GroundingBackend.reads_depth`).

    `raw` is REP 118 depth as it arrived (16UC1/mono16 millimetres, 32FC1 metres; 0/NaN = no reading) at
    the colour frame's aspect, any resolution; `fy` is the colour camera's vertical focal length in
    colour-frame pixels; readings outside [min_depth, max_depth] metres count as none, as in the 3D estimate.
    """

    raw: np.ndarray
    encoding: str
    fy: float
    depth_scale: float = 0.0
    min_depth: float = 0.1
    max_depth: float = 10.0


@dataclass
class BackendConfig:
    """Everything a backend may need to load. Unknown keys go to `extra` so plug-ins can take options.

    `model` is a hub id or a local directory (real families) or a checkpoint path (tabletop);
    empty means the backend's default. `device`/`dtype` "auto" mean: CUDA when available,
    bf16 on CUDA where supported, fp32 on CPU.
    """

    model: str = ""
    device: str = "auto"
    dtype: str = "auto"
    local_files_only: bool = True
    score_threshold: Optional[float] = None     # informational: None = the family default (pipeline filters)
    extra: Dict[str, Any] = field(default_factory=dict)


class GroundingBackend(abc.ABC):
    """Base class for backends. Subclasses set `name` and implement `load` and `ground`."""

    name: str = "base"
    #: The family records (`models.family.Family`) this backend serves; the first is its default.
    families: tuple = ()
    #: True when `ground` takes `depth=DepthInput` (the pipeline passes it only then, and only when the
    #: frame has depth and valid intrinsics); every backend must also ground without it.
    reads_depth: bool = False

    def __init__(self, config: BackendConfig | None = None) -> None:
        self.config = config or BackendConfig()

    @property
    def family(self):
        """This backend's family record (a backend serving several picks one on load), or None."""
        return getattr(self, "_family", None) or (self.families[0] if self.families else None)

    @property
    def default_score_threshold(self) -> float:
        """The score threshold `auto` means for this backend: its family's recommended value
        (docs/backends.md, "Default score thresholds"); 0.3 for backends without a family record."""
        family = self.family
        return float(family.default_score_threshold) if family is not None else 0.3

    @abc.abstractmethod
    def load(self) -> None:
        """Load weights once (the node calls this on configure, off the hot path)."""

    @abc.abstractmethod
    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        """Ground every phrase in one HxWx3 uint8 RGB image.

        Returns one list per phrase (same order), each sorted by descending score. Must not raise on
        a phrase the model cannot parse an answer for: return an empty list for it instead.
        """

    def phrase_warnings(self, phrases: Sequence[str]) -> List[str]:
        """What the user should know about how this model reads `phrases`: a phrase it will not ground (it
        answers it with no detections) or words it grounded without. The pipeline adds them to the result's
        warnings, which the node logs and counts in its diagnostics. Default: none (a VLM reads any words)."""
        return []

    def describe(self) -> str:
        """A short `backend:model` label for results and diagnostics."""
        return f"{self.name}:{self.config.model}" if self.config.model else self.name

    def close(self) -> None:
        """Release resources (GPU memory, sessions). Default: nothing to release."""
        return None   # an optional hook, not abstract: backends without resources keep this no-op


def check_rgb(rgb: np.ndarray) -> None:
    """Raise ValueError unless `rgb` is an HxWx3 uint8 image; backends call it to fail early and clearly."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", None)
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got shape={shape} dtype={dtype}")
