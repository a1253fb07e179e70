"""What the importers share: the result type, image lookup and copying, and pixel-box checks."""

from __future__ import annotations

import json
import math
import posixpath
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from grounding_node.data.format import (
    ANNOTATIONS,
    IMAGES_DIR,
    Box,
    Grounding,
    Sample,
    box_from_pixels,
    normalize_phrase,
)
from grounding_node.data.writer import write_annotations


@dataclass
class ImportResult:
    """Samples converted from a foreign format, the source image of each, and every record that could not be.

    `sources[i]` is the path of `samples[i]`'s image in the source tree and `companions[i]` its other files
    (depth, camera_info) as (source path, dataset-relative path); `write_import` copies both.
    `notes` are facts worth telling the user that are not errors (e.g. predictions taken as annotations)."""

    samples: List[Sample] = field(default_factory=list)
    sources: List[Path] = field(default_factory=list)
    companions: List[List[Tuple[Path, str]]] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def add(self, sample: Sample, source: Path, companions: Sequence[Tuple[Path, str]] = (), where: str = "") -> bool:
        """Keep `sample` if it is a valid record, else report every problem under `where` (the source record).
        Checking here, before anything is written, is what lets an import promise to write nothing when there
        are problems: the same rules `check` applies afterwards, plus the size against the source image."""
        problems = record_problems(sample, source)
        if not problems:
            problems = companion_problems(sample, source, companions)
        if problems:
            self.errors.extend(f"{where}: {p}" for p in problems)
            return False
        self.samples.append(sample)
        self.sources.append(source)
        self.companions.append(list(companions))
        return True

    def drop_samples(self) -> None:
        """Forget every sample: for a problem of the whole file, which no record can be trusted past."""
        self.samples.clear()
        self.sources.clear()
        self.companions.clear()


def record_problems(sample: Sample, source: Path) -> List[str]:
    """What `check` would say about `sample` once written, with its image at `source`."""
    from grounding_node.data.validate import validate_record  # validate imports this module

    problems = validate_record(sample.to_dict())
    w, h = sample.width, sample.height
    if not problems and isinstance(w, int) and isinstance(h, int):
        size = image_size(source)
        if size is None:
            problems.append(f"image {str(source)!r} cannot be read as an image")
        elif size != (w, h):
            problems.append(f"size {w}x{h} disagrees with image {str(source)!r}, which is {size[0]}x{size[1]}")
    return problems


def companion_problems(sample: Sample, source: Path, companions: Sequence[Tuple[Path, str]]) -> List[str]:
    """What `check` would say about the depth and camera_info files `sample` carries along (source path,
    dataset-relative path), judged against its image at `source`: `write_import` copies them as they are,
    so a depth of another view or an unusable calibration must be refused here, before anything is written.
    The messages name the source file, which is the one the user can fix."""
    from grounding_node.data.validate import companion_file_problem

    size = (sample.width, sample.height)   # `record_problems` has compared it with the image at `source`
    problems = []
    for src, rel in companions:
        kind = "depth" if rel == sample.depth else "camera_info" if rel == sample.camera_info else None
        if kind is not None and (p := companion_file_problem(kind, src, size)) is not None:
            problems.append(p)
    return problems


def show(v: Any, limit: int = 60) -> str:
    """A value as it appears in JSON (NaN stays NaN), shortened for one-line messages."""
    try:
        text = json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_finite_number(v: Any) -> bool:
    """A JSON number that is finite. Python ints are always finite, and math.isfinite overflows on one with
    hundreds of digits, so ints never reach it."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return isinstance(v, int) or math.isfinite(v)


def is_id(v: Any) -> bool:
    """A usable COCO id: a number or a string (a list or object cannot key anything)."""
    return isinstance(v, (int, float, str)) and not isinstance(v, bool)


def read_json_file(path: Path) -> Tuple[Any, Optional[str]]:
    """(document, None) or (None, `FILE: message`) for a JSON source file. A UTF-8 BOM (some Windows tools
    write one) is accepted, as the canonical reader accepts it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, f"{path}: not found"
    except OSError as e:
        return None, f"{path}: cannot be read ({e.strerror or e})"
    try:
        text = data.decode("utf-8").lstrip("\ufeff")
    except UnicodeDecodeError as e:
        return None, f"{path}: not valid UTF-8 (byte {e.start + 1})"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as e:
        return None, f"{path}: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}"
    except ValueError:  # an integer longer than Python's int-string conversion limit
        return None, f"{path}: not valid JSON: a number has more than {_max_digits()} digits"


def _max_digits() -> int:
    import sys

    return sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 4300


def safe_relpath(name: str) -> Optional[str]:
    """A file name from a foreign format as a relative posix path, or None when it escapes its folder."""
    norm = posixpath.normpath(str(name).replace("\\", "/"))
    if not norm or norm.startswith("/") or norm == ".." or norm.startswith("../") or norm == ".":
        return None
    return norm


# OpenCV applies a photo's EXIF orientation unless told IMREAD_UNCHANGED (or IGNORE_ORIENTATION): with these
# flags the size is the displayed one, whatever the depth and channels. Before, sizes were read as stored
# and pixels as displayed, so an EXIF-rotated JPEG's boxes disagreed with its pixels.
DISPLAYED = 2 | 4   # cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR (numbers: cv2 is imported lazily)


def image_size(path: Path) -> Optional[Tuple[int, int]]:
    """(width, height) of an image file as displayed (EXIF orientation applied, as every reader of the image
    applies it), or None when it cannot be read."""
    import cv2

    img = cv2.imread(str(path), DISPLAYED)
    if img is None or img.size == 0:
        return None
    return int(img.shape[1]), int(img.shape[0])


PIXEL_SLACK = 1.0
"""How far (pixels) a foreign box may stick out of its image and still be clipped: rounding, not a wrong box."""


def pixel_box_problem(box: Any, xywh: bool) -> Optional[str]:
    """Why a foreign pixel box cannot be used, or None. A box is never silently repaired beyond clipping."""
    form = "[x, y, w, h]" if xywh else "[x1, y1, x2, y2]"
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        return f"bbox must be {form} in pixels, got {show(box)}"
    if not all(is_finite_number(v) for v in box):
        return f"bbox must hold 4 finite numbers, got {show(box)}"
    w, h = (box[2], box[3]) if xywh else (box[2] - box[0], box[3] - box[1])
    if w <= 0 or h <= 0:
        return f"bbox {form} = {show(list(box))} has no area"
    return None


def pixel_box_to_grid(box: Any, xywh: bool, width: int, height: int) -> Tuple[Optional[Box], Optional[str]]:
    """A foreign pixel box -> 0-1024 xyxy, or the problem. A box out of the image by rounding (up to
    PIXEL_SLACK) is clipped; one further out is a wrong box (other units, another image's size), which
    clipping would turn into a plausible but false box."""
    problem = pixel_box_problem(box, xywh)
    if problem:
        return None, problem
    x1, y1, x2, y2 = (box[0], box[1], box[0] + box[2], box[1] + box[3]) if xywh else tuple(box)
    if x1 < -PIXEL_SLACK or y1 < -PIXEL_SLACK or x2 > width + PIXEL_SLACK or y2 > height + PIXEL_SLACK:
        form = "[x, y, w, h]" if xywh else "[x1, y1, x2, y2]"
        return None, (f"bbox {form} = {show(list(box))} goes outside the {width}x{height} image by more than "
                      f"{PIXEL_SLACK:g} pixel")
    b = box_from_pixels([x1, y1, x2, y2], width, height)
    if not (b[0] < b[2] and b[1] < b[3]):
        return None, f"bbox {show(list(box))} lies outside the {width}x{height} image"
    return b, None


class GroundingCollector:
    """Merges boxes of the same phrase (compared case- and space-insensitively) into one grounding, in
    order of first appearance, as the canonical format wants one grounding per phrase per image."""

    def __init__(self) -> None:
        self._by_key: Dict[str, Grounding] = {}

    def add(self, phrase: str, box: Optional[Box], type_: Optional[str] = None) -> None:
        key = normalize_phrase(phrase)
        g = self._by_key.get(key)
        if g is None:
            g = self._by_key[key] = Grounding(phrase=phrase.strip(), type=type_)
        if box is not None:
            g.boxes_1024.append(box)
        if g.type is None and type_:
            g.type = type_

    def __contains__(self, phrase: str) -> bool:
        return normalize_phrase(phrase) in self._by_key

    def groundings(self) -> List[Grounding]:
        return list(self._by_key.values())


def write_import(result: ImportResult, out_dir: Path | str, link: bool = False, overwrite: bool = False) -> Path:
    """Copy (or symlink) each source image to `out_dir/<sample.image>` and write the annotation file.
    An existing annotation file is only replaced with `overwrite`: an import must not eat a dataset."""
    out = Path(out_dir)
    ann = out / ANNOTATIONS
    if ann.exists() and not overwrite:
        raise FileExistsError(f"{ann} exists (pass --overwrite to replace it)")
    for sample, src, companions in zip(result.samples, result.sources, result.companions):
        for s, rel in [(src, sample.image), *companions]:
            _place(s, out / rel, link)
    return write_annotations(out, result.samples)


def _place(src: Path, dst: Path, link: bool) -> None:
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        return  # importing in place: the file is already where it belongs
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    if link:
        dst.symlink_to(src.resolve())
    else:
        shutil.copy2(src, dst)


def default_image_rel(name: str) -> str:
    """Where an imported image goes inside the new dataset."""
    return f"{IMAGES_DIR}/{name}"


__all__ = ["GroundingCollector", "ImportResult", "PIXEL_SLACK", "companion_problems", "default_image_rel", "image_size",
           "is_finite_number", "is_id", "pixel_box_problem", "pixel_box_to_grid", "read_json_file", "record_problems",
           "safe_relpath", "show", "write_import"]


def resolve_image(images_dir: Path, name: Any, key: str, width: Any, height: Any, where: str):
    """An importer's image reference -> (relative path, path, (w, h)), or an error message naming `where`.
    The size given in the source is trusted when it is two positive integers, else read from the file."""
    rel = safe_relpath(name) if isinstance(name, str) else None
    if rel is None:
        return f"{where}: {key} {name!r} is not a relative path"
    path = images_dir / rel
    if not path.is_file():
        return f"{where}: image {str(path)!r} not found"
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        size = image_size(path)
        if size is None:
            return f"{where}: image {str(path)!r} cannot be read as an image"
        width, height = size
    return rel, path, (width, height)
