"""Run a backend on one frame and turn its boxes into objects with pixel boxes and 3D positions.

This is the whole data path after the messages: backend.ground -> drop non-finite boxes -> score
filter (`auto` = the backend's family default) / top-k -> geometry.
It has no ROS in it, so the node, the Python API, the CLI and the evaluation share one implementation.
"""

from __future__ import annotations

import dataclasses
import time
from typing import List, Optional, Sequence

import numpy as np

from grounding_node.geometry.boxes import box1024_to_pixels, box1024_to_xywh_norm, clamp_box1024
from grounding_node.geometry.depth import DEPTH_ENCODINGS, estimate_objects_3d
from grounding_node.grounding.types import Frame, GroundedObject, GroundingResult, GroundingSettings
from grounding_node.models.base import DepthInput, GroundingBackend
from grounding_node.models.family import resolve_threshold


def confidence_label(score: float, hi: float, med: float) -> str:
    """'hi' / 'med' / 'low' from the two thresholds (VLM Run-style metadata)."""
    if score >= hi:
        return "hi"
    if score >= med:
        return "med"
    return "low"


def select_detections(detections, threshold: float, top_k: int):
    """Drop detections under the threshold, sort by score, keep the best `top_k` (stable for ties)."""
    kept = [d for d in detections if np.isfinite(d.score) and d.score >= threshold]
    kept.sort(key=lambda d: -float(d.score))
    return kept[: max(0, int(top_k))]


def finite_detections(detections, phrase: str, warnings: List[str]):
    """The detections whose four coordinates and score are finite numbers; a warning per dropped one
    (a NaN box would crash the drawing and poison the 3D estimate)."""
    kept = []
    for det in detections:
        try:
            values = np.asarray(list(det.box_1024) + [det.score], dtype=np.float64)
            ok = values.shape == (5,) and bool(np.all(np.isfinite(values)))
        except (TypeError, ValueError):
            ok = False
        if ok:
            kept.append(det)
        else:
            warnings.append(f"dropped a box with a non-finite coordinate or score for '{phrase}': "
                            f"box={getattr(det, 'box_1024', None)} score={getattr(det, 'score', None)}")
    return kept


def ground_frame(
    backend: GroundingBackend,
    frame: Frame,
    phrases: Sequence[str],
    settings: GroundingSettings,
) -> GroundingResult:
    """Ground `phrases` on `frame`: one backend call for all phrases (they share the image encoding).

    Raises whatever the backend raises; the caller decides how to report it (the node turns it into
    the result's `error`). Geometry never raises on bad depth: it yields has_position=False instead.
    """
    phrases = list(phrases)
    result = GroundingResult(phrases=phrases, objects=[])
    if not phrases:
        return result
    width, height = frame.size
    if width < 1 or height < 1:   # backends divide by the size, or crash inside OpenCV (a segfault, seen)
        raise ValueError(f"cannot ground on an empty {width}x{height} image")

    t0 = time.perf_counter()
    depth = model_depth(backend, frame, settings, result.warnings)
    per_phrase = backend.ground(frame.rgb, phrases) if depth is None else backend.ground(frame.rgb, phrases,
                                                                                          depth=depth)
    result.inference_ms = (time.perf_counter() - t0) * 1000.0
    phrase_warnings = getattr(backend, "phrase_warnings", None)   # a duck-typed plug-in may lack it
    if phrase_warnings is not None:
        try:   # advice about the phrases must never cost the answer itself
            # once each: a command repeating a phrase 4,000 times gave 4,000 identical warnings
            result.phrase_warnings = list(dict.fromkeys(str(w) for w in phrase_warnings(phrases)))
        except Exception as exc:  # noqa: BLE001 - a plug-in's bug, reported like any other warning
            result.phrase_warnings = [f"{backend.describe()}: phrase warnings failed: {type(exc).__name__}: {exc}"]
        result.warnings.extend(result.phrase_warnings)
    if len(per_phrase) != len(phrases):
        raise RuntimeError(
            f"backend {backend.describe()} returned {len(per_phrase)} result lists for {len(phrases)} phrases"
        )

    t1 = time.perf_counter()
    threshold = resolve_threshold(settings.score_threshold, backend)
    objects: List[GroundedObject] = []
    for index, (phrase, detections) in enumerate(zip(phrases, per_phrase)):
        detections = finite_detections(detections, phrase, result.warnings)
        for det in select_detections(detections, threshold, settings.max_objects_per_phrase):
            box = clamp_box1024(np.asarray(det.box_1024, dtype=np.float64))
            score = float(np.clip(det.score, 0.0, 1.0))
            objects.append(
                GroundedObject(
                    phrase=phrase,
                    phrase_index=index,
                    score=score,
                    confidence=confidence_label(score, settings.confidence_hi, settings.confidence_med),
                    box_1024=box,
                    box_pixels=box1024_to_pixels(box, width, height),
                    box_xywh=box1024_to_xywh_norm(box),
                )
            )
    result.objects = objects
    _locate(frame, objects, settings, result)
    result.warnings = list(dict.fromkeys(result.warnings))
    result.geometry_ms = (time.perf_counter() - t1) * 1000.0
    return result


def model_depth(backend: GroundingBackend, frame: Frame, settings: GroundingSettings,
                warnings: Optional[List[str]] = None) -> Optional[DepthInput]:
    """The frame's depth for a backend that reads it, or None (the backend then grounds colour alone):
    only with depth, intrinsics that pass `is_valid` (a zero K would make every size infinite) and
    `settings.depth_for_grounding`. Depth that cannot be registered to the colour frame (another aspect
    ratio, not a 2D image, an unknown encoding) is not passed, with a warning in `warnings`."""
    if not (getattr(backend, "reads_depth", False) and settings.depth_for_grounding and frame.depth is not None):
        return None
    intr = frame.intrinsics
    if intr is None or not intr.is_valid() or intr.height <= 0:
        return None   # _locate says why there is no 3D; the model grounds colour alone
    problem = depth_registration_problem(frame)
    if problem is None and frame.depth_encoding not in DEPTH_ENCODINGS:
        problem = f"depth encoding '{frame.depth_encoding}' is not one of {', '.join(DEPTH_ENCODINGS)}"
    if problem is not None:
        if warnings is not None:
            warnings.append(f"{problem}: the model grounded from colour only")
        return None
    fy = float(intr.fy) * frame.size[1] / float(intr.height)   # K of another resolution: scale to the frame
    return DepthInput(frame.depth, frame.depth_encoding, fy, settings.depth_scale, settings.min_depth,
                      settings.max_depth)


def depth_registration_problem(frame: Frame) -> Optional[str]:
    """Why `frame.depth` cannot be registered to the colour image, or None. Depth of another resolution is
    scaled to the colour frame; another aspect ratio (beyond 1 %: a transposed array, another camera mode)
    cannot be, so pixel (u, v) of the box is not the object's pixel in the depth."""
    shape = getattr(frame.depth, "shape", ())
    width, height = frame.size
    if len(shape) != 2 or min(shape) < 1:
        return f"depth of shape {shape} is not a 2D image"
    if width < 1 or height < 1:
        return f"the colour frame is empty ({width}x{height})"
    if abs(shape[1] / shape[0] - width / height) > 0.01 * width / height:
        return (f"depth {shape[1]}x{shape[0]} has another aspect ratio than the colour frame "
                f"{width}x{height}, so it is not registered to it")
    return None


def _locate(frame: Frame, objects: List[GroundedObject], settings: GroundingSettings, result: GroundingResult) -> None:
    """Fill 3D position/size from depth + intrinsics, or say why there is none (no depth, no or invalid
    camera_info, depth not registered to the colour frame, too few valid depth pixels)."""
    if not objects:
        return
    if frame.depth is None:
        result.warnings.append("no depth image: 2D results only")
        return
    if frame.intrinsics is None:
        result.warnings.append("no camera_info: 2D results only")
        return
    why = frame.intrinsics.invalid_reason()
    if why:
        result.warnings.append(f"camera_info unusable ({why}): 2D results only")
        return
    unregistered = depth_registration_problem(frame)
    if unregistered:   # positions from unregistered depth are another pixel's: wrong, and silently so
        result.warnings.append(f"{unregistered}: 2D results only")
        return
    for problem in frame.intrinsics.problems:   # positions are given, but the user must know they may be off
        result.warnings.append(f"3D positions may be off: camera_info {problem}")
    boxes = np.stack([o.box_pixels for o in objects])
    estimates = estimate_objects_3d(
        frame.depth,
        boxes,
        frame.intrinsics,
        frame.size,
        roi_fraction=settings.roi_fraction,
        min_depth=settings.min_depth,
        max_depth=settings.max_depth,
        min_valid_pixels=settings.min_valid_pixels,
        encoding=frame.depth_encoding,
        depth_scale=settings.depth_scale,
    )
    for obj, est in zip(objects, estimates):
        obj.has_position = bool(est.has_position)
        obj.position = np.asarray(est.position, dtype=np.float64)
        obj.size = np.asarray(est.size, dtype=np.float64)
        obj.depth_valid_fraction = float(est.valid_fraction)
    if not any(o.has_position for o in objects):
        result.depth_invalid = True
        if frame.intrinsics.has_distortion and any(e.has_position for e in estimate_objects_3d(
                frame.depth, boxes, dataclasses.replace(frame.intrinsics, d=(), distortion_model=""), frame.size,
                roi_fraction=settings.roi_fraction, min_depth=settings.min_depth, max_depth=settings.max_depth,
                min_valid_pixels=settings.min_valid_pixels, encoding=frame.depth_encoding,
                depth_scale=settings.depth_scale)):
            # the depth is fine: the lens model gives the pixels no ray (a failure path only, so the second
            # estimate costs nothing when positions are found)
            result.warnings.append("camera_info distortion (D) gives no ray for the boxes' pixels: check the "
                                   "calibration; 2D results only")
        else:
            result.warnings.append("depth had too few valid pixels in every box: 2D results only")
