"""Writing datasets: whole annotation files, single samples, and the image/depth/camera_info files.

`write_sample` is the one call a producer needs (the node's `~/capture` service, `from-bag`, a script): it
takes numpy arrays and plain dicts, writes the colour PNG, the 16-bit depth PNG in millimetres and the
camera_info YAML in the ROS camera_calibration format, and appends one line to `annotations.jsonl`. The
append is serialised by a process-wide lock and done as one write, so two captures in flight cannot
interleave their lines.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from grounding_node.data.format import ANNOTATIONS, CAMERA_INFO_DIR, DEPTH_DIR, IMAGES_DIR, Grounding, Sample

_APPEND_LOCK = threading.Lock()

GroundingLike = Union[Grounding, Mapping[str, Any]]


def _jsonable(o: Any) -> Any:
    """numpy scalars and arrays (a score straight from a model) as plain JSON values."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def record_line(sample: Union[Sample, Mapping[str, Any]]) -> str:
    """One JSONL line (no newline). NaN is refused here rather than written as a literal the checker rejects."""
    d = sample.to_dict() if isinstance(sample, Sample) else dict(sample)
    return json.dumps(d, ensure_ascii=False, allow_nan=False, default=_jsonable)


def write_annotations(out_dir: Union[str, Path], samples: Iterable[Union[Sample, Mapping[str, Any]]]) -> Path:
    """Write (replace) `out_dir/annotations.jsonl` atomically: a reader never sees half a file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ANNOTATIONS
    tmp = path.with_name(f".{ANNOTATIONS}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for s in samples:
            fh.write(record_line(s) + "\n")
    os.replace(tmp, path)
    return path


def append_sample(out_dir: Union[str, Path], sample: Union[Sample, Mapping[str, Any]]) -> Path:
    """Append one record to `out_dir/annotations.jsonl` (created if missing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / ANNOTATIONS
    line = record_line(sample) + "\n"
    with _APPEND_LOCK:
        with open(path, "a+b") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() > 0:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":  # a hand-edited file without a final newline
                    line = "\n" + line
            fh.write(line.encode("utf-8"))
    return path


# ---------------------------------------------------------------- image files
def write_rgb_png(path: Union[str, Path], rgb: np.ndarray) -> None:
    """HxWx3 RGB (or HxW grey) uint8 -> PNG. cv2 writes BGR, hence the flip."""
    import cv2

    img = np.asarray(rgb)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"colour image must be HxW or HxWx3 uint8, got {img.dtype} {img.shape}")
    if img.ndim == 3:
        img = img[:, :, :3][:, :, ::-1]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(img)):
        raise OSError(f"cannot write '{path}'")


def depth_to_mm(depth: np.ndarray) -> np.ndarray:
    """uint16 is taken as millimetres already; float as metres -> mm (NaN, inf and <= 0 -> 0 = no reading,
    beyond 65.535 m -> 0 too, since a clipped value would be a wrong reading rather than a missing one)."""
    d = np.asarray(depth)
    if d.ndim == 3 and d.shape[2] == 1:
        d = d[:, :, 0]
    if d.ndim != 2:
        raise ValueError(f"depth must be HxW, got shape {d.shape}")
    if d.dtype == np.uint16:
        return d
    if np.issubdtype(d.dtype, np.floating):
        mm = np.rint(d.astype(np.float64) * 1000.0)
        bad = ~np.isfinite(mm) | (mm <= 0) | (mm > 65535)
        return np.where(bad, 0, mm).astype(np.uint16)
    raise ValueError(f"depth must be uint16 (mm) or float (m), got {d.dtype}")


def write_depth_png(path: Union[str, Path], depth: np.ndarray) -> None:
    """Depth -> 16-bit single-channel PNG in millimetres (0 = no reading), the common RGB-D dataset format."""
    import cv2

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(depth_to_mm(depth))):
        raise OSError(f"cannot write '{path}'")


def camera_info_yaml(camera_info: Mapping[str, Any], camera_name: str = "camera") -> Dict[str, Any]:
    """A camera_info as the ROS camera_calibration YAML dict (what `camera_calibration` and
    `camera_info_manager` read and write). Accepts that dict itself, or a CameraInfo-like mapping with
    `width, height, k` and optional `d, r, p, distortion_model` (the field names of sensor_msgs/CameraInfo)."""
    if "camera_matrix" in camera_info:
        return dict(camera_info)
    lower = {str(k).lower(): v for k, v in camera_info.items()}
    k = np.asarray(lower["k"], dtype=np.float64).reshape(9)
    d = np.asarray(lower.get("d") if lower.get("d") is not None else [], dtype=np.float64).reshape(-1)
    r = np.asarray(lower["r"] if lower.get("r") is not None else np.eye(3), dtype=np.float64).reshape(9)
    if lower.get("p") is not None and np.any(np.asarray(lower["p"], dtype=np.float64)):
        p = np.asarray(lower["p"], dtype=np.float64).reshape(12)
    else:
        p = np.concatenate([k.reshape(3, 3), np.zeros((3, 1))], axis=1).reshape(12)
    model = lower.get("distortion_model") or "plumb_bob"
    if not d.size and model == "plumb_bob":
        d = np.zeros(5)
    return {
        "image_width": int(lower["width"]),
        "image_height": int(lower["height"]),
        "camera_name": str(lower.get("camera_name") or camera_name),
        "camera_matrix": {"rows": 3, "cols": 3, "data": [float(v) for v in k]},
        "distortion_model": str(model),
        "distortion_coefficients": {"rows": 1, "cols": int(d.size), "data": [float(v) for v in d]},
        "rectification_matrix": {"rows": 3, "cols": 3, "data": [float(v) for v in r]},
        "projection_matrix": {"rows": 3, "cols": 4, "data": [float(v) for v in p]},
    }


def write_camera_info(path: Union[str, Path], camera_info: Mapping[str, Any]) -> None:
    import yaml

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(camera_info_yaml(camera_info), fh, sort_keys=False, default_flow_style=None)


# ---------------------------------------------------------------- one sample
def _as_grounding(g: GroundingLike) -> Grounding:
    if isinstance(g, Grounding):
        return g
    d = dict(g)
    boxes = d.get("boxes_1024")
    if boxes is None and "box_1024" in d:  # a single result box, as the pipeline returns it
        boxes = [d.pop("box_1024")]
    d["boxes_1024"] = [[float(v) for v in np.asarray(b, dtype=np.float64).reshape(4)] for b in (boxes or [])]
    return Grounding.from_dict(d)


def _unique_name(out: Path, name: str) -> str:
    candidate, n = name, 1
    while (out / IMAGES_DIR / f"{candidate}.png").exists():
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def _checked_companions(img: np.ndarray, depth: Optional[np.ndarray], camera_info: Optional[Mapping[str, Any]],
                        base: str) -> Tuple[Optional[np.ndarray], Optional[Dict[str, Any]]]:
    """(depth in mm, camera_calibration dict) as they will be written, after the checks `check` applies to the
    files (`validate.depth_array_problem`, `validate.camera_info_problem`): a producer's mistake (an unaligned
    depth topic, another camera's camera_info, an all-zero K) is a ValueError naming the file here, before
    anything is written, instead of a dataset that `check` refuses afterwards."""
    from grounding_node.data.validate import camera_info_problem, depth_array_problem

    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"{IMAGES_DIR}/{base}.png: colour image must be HxW or HxWx3 uint8, got {img.dtype} "
                         f"{img.shape}")
    if img.size == 0:
        raise ValueError(f"{IMAGES_DIR}/{base}.png: colour image is empty ({img.shape})")
    size = (int(img.shape[1]), int(img.shape[0]))
    mm = info_doc = None
    if depth is not None:
        target = f"{DEPTH_DIR}/{base}.png"
        try:
            mm = depth_to_mm(depth)
        except ValueError as e:
            raise ValueError(f"depth {target!r}: {e}; nothing written") from None
        if (problem := depth_array_problem(mm, size)) is not None:
            raise ValueError(f"depth {target!r} {problem}; nothing written")
    if camera_info is not None:
        target = f"{CAMERA_INFO_DIR}/{base}.yaml"
        try:
            info_doc = camera_info_yaml(camera_info)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"camera_info {target!r} cannot be made from {sorted(map(str, camera_info))}: "
                             f"{type(e).__name__} {e}; nothing written") from None
        if (problem := camera_info_problem(info_doc, size)) is not None:
            raise ValueError(f"camera_info {target!r} {problem}; nothing written")
    return mm, info_doc


def usable_companions(rgb: np.ndarray, depth: Optional[np.ndarray], camera_info: Optional[Mapping[str, Any]]
                      ) -> Tuple[Optional[np.ndarray], Optional[Mapping[str, Any]], list]:
    """(depth, camera_info, notes): each companion that `write_sample` would accept, None for one it would
    refuse, with the reason in `notes`. For a capture of a live frame (the node's ~/capture): an uncalibrated
    camera's all-zero K must not lose the frame a user wants to label, only its camera_info."""
    notes = []
    if depth is not None:
        try:
            _checked_companions(np.asarray(rgb), depth, None, "frame")
        except ValueError as e:
            depth, notes = None, notes + [str(e).replace("; nothing written", "")]
    if camera_info is not None:
        try:
            _checked_companions(np.asarray(rgb), None, camera_info, "frame")
        except ValueError as e:
            camera_info, notes = None, notes + [str(e).replace("; nothing written", "")]
    return depth, camera_info, notes


def write_sample(
    out_dir: Union[str, Path],
    rgb: np.ndarray,
    depth: Optional[np.ndarray] = None,
    camera_info: Optional[Mapping[str, Any]] = None,
    groundings: Sequence[GroundingLike] = (),
    name: Optional[str] = None,
    extra: Optional[Mapping[str, Any]] = None,
) -> Path:
    """Write one frame as a dataset sample and append its record; returns the colour image's path.

    - `rgb`: HxWx3 RGB uint8 (or HxW grey).
    - `depth`: HxW uint16 millimetres or float metres (written as 16-bit PNG in mm); optional.
    - `camera_info`: a camera_calibration YAML dict or a CameraInfo-like mapping (`width, height, k, d, r, p`).
    - `groundings`: `Grounding`s or dicts `{"phrase", "boxes_1024", "type"?, "score"?, ...}` (pre-annotations:
      extra keys such as a score are kept in the record); empty = an image still to annotate.
    - `name`: file stem; by default `frame_<unix ns>`; a taken name gets a `_1`, `_2`... suffix, never
      overwriting an earlier sample.

    Depth and camera_info get `check`'s own tests against the colour image first (same aspect ratio, a usable
    K with its image size): a ValueError naming the file and the problem, and nothing written, rather than
    a sample that `check` would refuse afterwards. A failure after the image is written removes what this
    call wrote, so there is never an image without its record.
    """
    out = Path(out_dir)
    img = np.asarray(rgb)
    base = name or f"frame_{time.time_ns()}"
    gs = [_as_grounding(g) for g in groundings]
    mm, info_doc = _checked_companions(img, depth, camera_info, base)
    height, width = int(img.shape[0]), int(img.shape[1])
    with _APPEND_LOCK:
        stem = _unique_name(out, base)
        image_rel = f"{IMAGES_DIR}/{stem}.png"
        write_rgb_png(out / image_rel, img)  # claims the name before the lock is released
    written = [out / image_rel]
    try:
        depth_rel = info_rel = None
        if mm is not None:
            depth_rel = f"{DEPTH_DIR}/{stem}.png"
            written.append(out / depth_rel)
            write_depth_png(out / depth_rel, mm)
        if info_doc is not None:
            info_rel = f"{CAMERA_INFO_DIR}/{stem}.yaml"
            written.append(out / info_rel)
            write_camera_info(out / info_rel, info_doc)
        sample = Sample(image=image_rel, width=width, height=height, groundings=gs, depth=depth_rel,
                        camera_info=info_rel, extra=dict(extra or {}))
        append_sample(out, sample)
    except BaseException:
        # A sample is its record: files without one (a full disk, a JSON-unfit extra) would be orphans that
        # claim the name and that no tool lists, so they go.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return out / image_rel


__all__ = ["append_sample", "camera_info_yaml", "depth_to_mm", "record_line", "write_annotations",
           "write_camera_info", "write_depth_png", "write_rgb_png", "write_sample"]
