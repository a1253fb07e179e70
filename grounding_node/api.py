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

ImageSource = Union[str, Path, np.ndarray, Any]   # Any: a PIL.Image.Image (PIL is optional)


def _is_pil(source: Any) -> bool:
    """A PIL image, without importing PIL (it is not a dependency of the API)."""
    return any(cls.__module__.startswith("PIL.") and cls.__name__ == "Image" for cls in type(source).__mro__)


def load_image(source: ImageSource) -> np.ndarray:
    """Path, PIL image or array -> HxWx3 uint8 RGB (grey, HxWx1 and RGBA are converted). Arrays are RGB.

    What cannot be converted without guessing is refused with a message that says how to convert it: a float
    image may be 0-1 or 0-255, a 16-bit one 10, 12 or 16 bits deep, so a silent cast would give a black or
    a white frame and a wrong (empty) answer. An empty image is refused here because backends divided by its
    size (a ZeroDivisionError, or a crash inside OpenCV)."""
    if _is_pil(source):
        img = np.asarray(source.convert("RGB"))
    elif isinstance(source, np.ndarray):
        img = source
    elif isinstance(source, (str, Path)):
        import cv2

        path = Path(source)
        if path.is_dir():
            raise IsADirectoryError(f"image '{source}' is a folder, not an image file")
        if not path.exists():
            raise FileNotFoundError(f"image '{source}': no such file")
        img = cv2.imread(str(source), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f"cannot read image '{source}': not an image format OpenCV can decode")
        img = img[:, :, ::-1]
    else:
        raise TypeError(f"an image must be a file path, a numpy array or a PIL image, not {type(source).__name__}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 image (or HxW, HxWx1, HxWx4), got shape {img.shape}")
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"the image is empty ({img.shape[1]}x{img.shape[0]} pixels)")
    img = img[:, :, :3]
    if img.dtype != np.uint8:
        hint = {"f": "for 0-1 floats: (img * 255).round().astype(np.uint8); for 0-255: img.round().astype(np.uint8)",
                "b": "img.astype(np.uint8) * 255",
                "u": "for 16-bit: (img >> 8).astype(np.uint8) (shift by bit depth - 8 for 10/12-bit)"}.get(
            img.dtype.kind, "convert it to 0-255 uint8")
        raise ValueError(f"expected a uint8 image, got {img.dtype}: convert it first ({hint})")
    return np.ascontiguousarray(img)


def load_depth(source: Union[str, Path, np.ndarray]) -> tuple:
    """Depth path or array -> (raw depth, encoding). uint16 is millimetres (16UC1), float is metres (32FC1).

    Files: `.npy`, or 16-bit PNG / float TIFF read unchanged by OpenCV. An HxWx1 array is taken as HxW;
    several channels are refused: an XYZ point cloud's first channel is X, not the depth, and taking it
    gave wrong positions without a word.
    """
    if isinstance(source, np.ndarray):
        depth = source
    elif isinstance(source, (str, Path)) and str(source).endswith(".npy"):
        depth = np.load(str(source))
    elif isinstance(source, (str, Path)):
        import cv2

        if Path(source).is_dir():
            raise IsADirectoryError(f"depth image '{source}' is a folder, not a file")
        depth = cv2.imread(str(source), cv2.IMREAD_UNCHANGED)
        if depth is None:
            raise FileNotFoundError(f"cannot read depth image '{source}'")
    else:
        raise TypeError(f"depth must be a file path or a numpy array, not {type(source).__name__}")
    if depth.ndim == 3 and depth.shape[2] == 1:
        depth = depth[:, :, 0]
    if depth.ndim != 2:
        raise ValueError(f"depth must be an HxW image (one value per pixel), got shape {depth.shape}")
    if depth.shape[0] < 1 or depth.shape[1] < 1:
        raise ValueError(f"the depth image is empty ({depth.shape[1]}x{depth.shape[0]} pixels)")
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

    if Path(path).is_dir():
        raise IsADirectoryError(f"camera info '{path}' is a folder, not a YAML file")
    with open(path, "r", encoding="utf-8") as fh:
        try:
            doc = yaml.safe_load(fh) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a YAML text file ({exc})") from None
    if not isinstance(doc, dict):   # a text or binary file parsed as one scalar: 'str' has no attribute 'get'
        raise ValueError(f"{path}: not a camera calibration (a YAML mapping), got a {type(doc).__name__}")
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
        """Ground the prompt's phrases on each image (a page each). Every image is read and checked before the
        first one is grounded, so a bad third image fails the call at once, not after two inferences.

        Raises ValueError/TypeError/OSError naming the problem for an input that cannot be used (no images,
        a prompt without phrases, an empty or non-uint8 image, depth that is not HxW); what can be used but
        may give wrong 3D (intrinsics or depth of another size or aspect) is said in the page's warnings."""
        sources = list(source) if isinstance(source, (list, tuple)) else [source]
        if not sources:
            raise ValueError("no images given")
        if not isinstance(prompt, (str, bytes)):
            raise TypeError(f"prompt must be a string of phrases separated by ';', not {type(prompt).__name__}")
        parsed = parse_command(prompt)
        if not parsed.phrases:
            raise ValueError(f"the prompt {prompt[:80]!r} has no phrases: give e.g. 'the red mug; the blue box'")
        depths = _per_page(depth, len(sources), "depth", broadcast=False)
        intrs = _per_page(intrinsics, len(sources), "intrinsics", broadcast=True)
        frames, names, notes = [], [], []
        for src, dep, intr in zip(sources, depths, intrs):
            rgb = load_image(src)
            raw, encoding = load_depth(dep) if dep is not None else (None, "32FC1")
            if isinstance(intr, (str, Path)):
                intr = load_camera_info(intr)
            elif intr is not None and not isinstance(intr, Intrinsics):
                raise TypeError(f"intrinsics must be an Intrinsics or a YAML path, not {type(intr).__name__}")
            frames.append(Frame(rgb=rgb, depth=raw, depth_encoding=encoding, intrinsics=intr))
            names.append(f"<array {rgb.shape[1]}x{rgb.shape[0]}>" if not isinstance(src, (str, Path))
                         else str(src))
            notes.append(_size_notes(frames[-1]))
        pages = []
        for frame, page_notes in zip(frames, notes):
            result = ground_frame(self.backend, frame, parsed.phrases, self.settings)
            result.warnings = list(dict.fromkeys(page_notes + result.warnings))
            pages.append(result)
        return GroundingOutput(prompt=prompt if isinstance(prompt, str) else prompt.decode("utf-8", "replace"),
                               phrases=list(parsed.phrases), pages=pages, sources=names,
                               sizes=[frame.size for frame in frames], backend=self.backend.describe(),
                               warnings=list(parsed.warnings))


def _size_notes(frame: Frame) -> List[str]:
    """What the node logs for a frame whose camera_info or depth has another size than the image (the
    intrinsics are then scaled, the boxes scaled into the depth), said in the API's page warnings too: a
    K.yaml from another resolution or aspect was used without a word."""
    notes = []
    w, h = frame.size
    intr = frame.intrinsics
    if intr is not None and intr.width > 0 and intr.height > 0 and (intr.width, intr.height) != (w, h):
        other_aspect = abs(intr.width / intr.height - w / h) > 0.01 * w / h
        notes.append(f"camera_info is {intr.width}x{intr.height} but the image is {w}x{h}: intrinsics scaled to "
                     "the image" + ("; another aspect ratio, so it is probably another camera mode's calibration "
                                    "and 3D positions may be off" if other_aspect else ""))
    if frame.depth is not None and frame.depth.shape[:2] != (h, w):
        notes.append(f"depth is {frame.depth.shape[1]}x{frame.depth.shape[0]}, image {w}x{h}: boxes are scaled "
                     "into the depth image")
    return notes
