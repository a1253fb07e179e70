"""The ROS-free Python API: `Grounder.from_config(...)(source=..., prompt="a; b")`.

Same data path as the node (`grounding.pipeline.ground_frame`: backend -> score filter -> pixel
boxes -> depth ROI -> 3D), so a result here equals the node's for the same frame and settings.
Several images in one call are "pages" (VLM Run-style metadata: `bboxes[{xywh, page}]`).

    from grounding_node.api import Grounder
    grounder = Grounder.from_config(backend="tabletop")
    out = grounder(source="frame.png", prompt="the red mug; the blue box")
    print(out.to_json())
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from grounding_node.geometry.camera import Intrinsics
from grounding_node.grounding.command import parse_command
from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundingResult, GroundingSettings
from grounding_node.models.base import BackendConfig, GroundingBackend
from grounding_node.models.family import parse_threshold
from grounding_node.models.registry import create_backend

ImageSource = Union[str, Path, np.ndarray]


def load_image(source: ImageSource) -> np.ndarray:
    """Path or array -> HxWx3 uint8 RGB (grey is expanded, alpha dropped). Arrays are taken as RGB."""
    if isinstance(source, np.ndarray):
        img = source
    else:
        import cv2

        img = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if img is None:
            raise FileNotFoundError(f"cannot read image '{source}'")
        img = img[:, :, ::-1]
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 image, got shape {img.shape}")
    img = img[:, :, :3]
    if img.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {img.dtype}")
    return np.ascontiguousarray(img)


def load_depth(source: Union[str, Path, np.ndarray]) -> tuple:
    """Depth path or array -> (raw depth, encoding). uint16 is millimetres (16UC1), float is metres (32FC1).

    Files: `.npy`, or 16-bit PNG / float TIFF read unchanged by OpenCV.
    """
    if isinstance(source, np.ndarray):
        depth = source
    elif str(source).endswith(".npy"):
        depth = np.load(str(source))
    else:
        import cv2

        depth = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
        if depth is None:
            raise FileNotFoundError(f"cannot read depth image '{source}'")
    if depth.ndim == 3:
        depth = depth[:, :, 0]
    if depth.dtype == np.uint16:
        return depth, "16UC1"
    if np.issubdtype(depth.dtype, np.floating):
        return depth.astype(np.float32, copy=False), "32FC1"
    raise ValueError(f"depth must be uint16 (mm) or float (m), got {depth.dtype}")


def load_camera_info(path: Union[str, Path], rectified: bool = False) -> Intrinsics:
    """Intrinsics from a YAML file: ROS camera_calibration format (`camera_matrix.data`,
    `image_width/height`, `distortion_model`, `distortion_coefficients.data`, `projection_matrix.data`) or
    a CameraInfo message dump (`k`, `d`, `p`, `distortion_model`, `width`, `height`, `binning_x/y`, `roi`).
    All of it is used (see `Intrinsics.from_calibration`): the distortion for a raw image, P when
    `rectified`. Anything that cannot be honoured is in the result's `problems`."""
    import yaml

    def data(entry):   # camera_calibration wraps matrices as {rows, cols, data}
        return entry.get("data") if isinstance(entry, dict) else entry

    with open(path, "r", encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    if "camera_matrix" in doc:
        K = data(doc["camera_matrix"])
        width, height = doc.get("image_width"), doc.get("image_height")
        D, P = data(doc.get("distortion_coefficients")), data(doc.get("projection_matrix"))
    else:
        K = doc.get("k") or doc.get("K")
        width, height = doc.get("width"), doc.get("height")
        D, P = doc.get("d") or doc.get("D"), doc.get("p") or doc.get("P")
    if K is None or width is None or height is None:
        raise ValueError(f"{path}: need camera_matrix/image_width/image_height or k/width/height")
    roi = doc.get("roi") or {}
    return Intrinsics.from_calibration(
        np.asarray(K, dtype=np.float64), int(width), int(height), d=np.asarray(D or [], dtype=np.float64),
        distortion_model=str(doc.get("distortion_model") or ""), p=None if P is None else np.asarray(P, np.float64),
        rectified=rectified, binning=(int(doc.get("binning_x") or 0), int(doc.get("binning_y") or 0)),
        roi=tuple(int(roi.get(k) or 0) for k in ("x_offset", "y_offset", "width", "height")))


@dataclass
class GroundingOutput:
    """Per-page pipeline results plus the JSON view (per phrase: objects with box_1024, pixel boxes,
    confidence hi/med/low and `bboxes[{xywh (0-1), page}]`)."""

    prompt: str
    phrases: List[str]
    pages: List[GroundingResult]
    sources: List[str]
    sizes: List[tuple]
    backend: str
    warnings: List[str] = field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        per_phrase: List[Dict[str, Any]] = [{"phrase": p, "objects": []} for p in self.phrases]
        for page, result in enumerate(self.pages):
            for obj in result.objects:
                entry = obj.to_dict()
                entry["page"] = page
                entry["bboxes"] = [{"xywh": entry["box_xywh"], "page": page}]
                per_phrase[obj.phrase_index]["objects"].append(entry)
        return {
            "prompt": self.prompt,
            "backend": self.backend,
            "phrases": per_phrase,
            "pages": [
                {"page": i, "source": src, "width": size[0], "height": size[1],
                 "inference_ms": round(r.inference_ms, 2), "warnings": list(r.warnings)}
                for i, (src, size, r) in enumerate(zip(self.sources, self.sizes, self.pages))
            ],
            "warnings": list(self.warnings),
        }

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _per_page(value, n: int, name: str, broadcast: bool) -> list:
    """One value per image. A single value is shared by every image when `broadcast` (one camera's
    intrinsics), else it is only allowed with a single image (a depth map belongs to one frame)."""
    if value is None:
        return [None] * n
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name}: {len(value)} given for {n} image(s)")
        return list(value)
    if n > 1 and not broadcast:
        raise ValueError(f"{name}: one given for {n} images; pass a list with one per image")
    return [value] * n


class Grounder:
    """A loaded backend plus grounding settings; call it on images and a prompt."""

    def __init__(self, backend: GroundingBackend, settings: Optional[GroundingSettings] = None) -> None:
        self.backend = backend
        self.settings = settings or GroundingSettings()

    @classmethod
    def from_config(cls, backend: str = "tabletop", model: str = "", device: str = "auto", dtype: str = "auto",
                    local_files_only: bool = True, options: Optional[Dict[str, Any]] = None,
                    **settings: Any) -> "Grounder":
        """Create and load a backend by name; extra keyword arguments are `GroundingSettings` fields
        (score_threshold, max_objects_per_phrase, roi_fraction, ...). `score_threshold` defaults to
        "auto": the backend's family default (docs/backends.md); a number overrides it."""
        known = {f.name for f in fields(GroundingSettings)}
        unknown = set(settings) - known
        if unknown:
            raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(known)}")
        if "score_threshold" in settings:
            settings["score_threshold"] = parse_threshold(settings["score_threshold"])   # "auto" -> None
        config = BackendConfig(model=model, device=device, dtype=dtype, local_files_only=local_files_only,
                               score_threshold=parse_threshold(settings.get("score_threshold")),
                               extra=dict(options or {}))
        return cls(create_backend(backend, config), GroundingSettings(**settings))

    def __call__(self, source: Union[ImageSource, Sequence[ImageSource]], prompt: str,
                 depth=None, intrinsics: Union[None, Intrinsics, str, Path, Sequence] = None) -> GroundingOutput:
        sources = list(source) if isinstance(source, (list, tuple)) else [source]
        parsed = parse_command(prompt)
        depths = _per_page(depth, len(sources), "depth", broadcast=False)
        intrs = _per_page(intrinsics, len(sources), "intrinsics", broadcast=True)
        pages, names, sizes = [], [], []
        for src, dep, intr in zip(sources, depths, intrs):
            rgb = load_image(src)
            raw, encoding = load_depth(dep) if dep is not None else (None, "32FC1")
            if isinstance(intr, (str, Path)):
                intr = load_camera_info(intr)
            frame = Frame(rgb=rgb, depth=raw, depth_encoding=encoding, intrinsics=intr)
            pages.append(ground_frame(self.backend, frame, parsed.phrases, self.settings))
            names.append(str(src) if not isinstance(src, np.ndarray) else f"<array {rgb.shape[1]}x{rgb.shape[0]}>")
            sizes.append(frame.size)
        return GroundingOutput(prompt=prompt, phrases=list(parsed.phrases), pages=pages, sources=names,
                               sizes=sizes, backend=self.backend.describe(), warnings=list(parsed.warnings))
