"""What the importers share: the result type, image lookup and copying, and pixel-box checks."""

from __future__ import annotations

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

    def add(self, sample: Sample, source: Path, companions: Sequence[Tuple[Path, str]] = ()) -> None:
        self.samples.append(sample)
        self.sources.append(source)
        self.companions.append(list(companions))


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


def pixel_box_problem(box: Any, xywh: bool) -> Optional[str]:
    """Why a foreign pixel box cannot be used, or None. A box is never silently repaired beyond clipping."""
    form = "[x, y, w, h]" if xywh else "[x1, y1, x2, y2]"
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        return f"bbox must be {form} in pixels, got {box!r}"
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box):
        return f"bbox must hold 4 finite numbers, got {box!r}"
    w, h = (box[2], box[3]) if xywh else (box[2] - box[0], box[3] - box[1])
    if w <= 0 or h <= 0:
        return f"bbox {form} = {list(box)} has no area"
    return None


def grid_box_or_problem(box_xyxy: Sequence[float], width: int, height: int) -> Tuple[Optional[Box], Optional[str]]:
    """Pixel xyxy -> 0-1024 (clipped); a box wholly outside the image is a problem, not a sliver."""
    b = box_from_pixels(box_xyxy, width, height)
    if not (b[0] < b[2] and b[1] < b[3]):
        return None, f"bbox {list(box_xyxy)} lies outside the {width}x{height} image"
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


__all__ = ["GroundingCollector", "ImportResult", "default_image_rel", "grid_box_or_problem", "image_size",
           "pixel_box_problem", "safe_relpath", "write_import"]


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
