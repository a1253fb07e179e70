"""COCO detection JSON -> canonical dataset.

Phrases come from the category names, or from a per-annotation `phrase` (or `caption`) field: COCO's own
captions are image-level and name no box, so grounding sets that extend COCO put the phrase on the
annotation. COCO boxes are `[x, y, w, h]` in pixels. An optional per-annotation `type` is kept.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

from grounding_node.data._common import (
    GroundingCollector,
    ImportResult,
    default_image_rel,
    is_id,
    pixel_box_to_grid,
    read_json_file,
    resolve_image,
    show,
)
from grounding_node.data.format import Sample

PHRASE_SOURCES = ("auto", "category", "phrase", "caption")
NORMALISED_MIN_SIDE = 8
"""Images at least this many pixels a side whose boxes all lie in 0..1 hold normalised boxes, not pixel ones."""


def _phrase_of(ann: Dict[str, Any], categories: Dict[Any, str], source: str) -> Optional[str]:
    if source in ("auto", "phrase") and isinstance(ann.get("phrase"), str) and ann["phrase"].strip():
        return ann["phrase"]
    if source in ("auto", "caption") and isinstance(ann.get("caption"), str) and ann["caption"].strip():
        return ann["caption"]
    if source in ("auto", "category") and is_id(ann.get("category_id")):
        return categories.get(ann["category_id"])
    return None


def _categories(doc: Dict[str, Any], src: Path, res: ImportResult) -> Dict[Any, str]:
    """Category id -> name. A nameless category names nothing: its annotations are reported as phraseless."""
    out: Dict[Any, str] = {}
    for i, c in enumerate(doc.get("categories") or []):
        if not isinstance(c, dict):
            continue
        if not is_id(c.get("id")):
            res.errors.append(f"{src}: categories[{i}]: \"id\" must be a number or a string, {_got(c.get('id'))}")
        elif isinstance(c.get("name"), str) and c["name"].strip():
            out[c["id"]] = c["name"]
    return out


def _got(v: Any) -> str:
    from grounding_node.data.validate import _jtype

    return f"got {show(v)} ({_jtype(v)})"


def _images(doc: Dict[str, Any], src: Path, res: ImportResult) -> Tuple[Dict[Any, Dict[str, Any]], Set[Any]]:
    """(image id -> image entry, ids listed twice). Two entries with one id are an error, not a silent merge:
    the annotations of that id cannot be told apart, so both images are left out."""
    out: Dict[Any, Dict[str, Any]] = {}
    first: Dict[Any, int] = {}
    dup: Set[Any] = set()
    for i, im in enumerate(doc["images"]):
        if not isinstance(im, dict):
            res.errors.append(f"{src}: images[{i}] is not an object")
            continue
        im_id = im.get("id")
        if not is_id(im_id):
            res.errors.append(f"{src}: images[{i}]: \"id\" must be a number or a string, {_got(im_id)}")
        elif im_id in first:
            res.errors.append(f"{src}: image id {im_id!r} is listed twice (images[{first[im_id]}] and images[{i}]); "
                              "its annotations cannot be told apart")
            dup.add(im_id)
        else:
            first[im_id] = i
            out[im_id] = im
    return {k: v for k, v in out.items() if k not in dup}, dup


def _all_normalised(boxes: List[Tuple[Any, Any]]) -> bool:
    """True when every box lies in 0..1, which on real-sized images means normalised, not pixel, boxes."""
    return bool(boxes) and all(all(abs(v) <= 1.0 for v in b) for _, b in boxes)


def import_coco(src: Path | str, images_dir: Path | str, phrase_source: str = "auto",
                negatives: bool = False) -> ImportResult:
    """Read a COCO JSON file whose `file_name`s are relative to `images_dir`.

    - `phrase_source`: `auto` (annotation `phrase`, else `caption`, else the category name), or one of them only.
    - `negatives`: add every category with no annotation on an image as a negative (right only for exhaustively
      labelled sets, as COCO's own categories are; hence off by default). Categories are matched by
      `category_id`: a "mug" annotated as "the red mug" is there, so "mug" is no negative.
    Images without annotations become unannotated samples (`groundings: []`), unless `negatives` gives them
    negatives.
    """
    if phrase_source not in PHRASE_SOURCES:
        raise ValueError(f"phrase_source must be one of {PHRASE_SOURCES}, got {phrase_source!r}")
    src, images_dir = Path(src), Path(images_dir)
    res = ImportResult()
    doc, err = read_json_file(src)
    if err:
        res.errors.append(err)
        return res
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        res.errors.append(f"{src}: not a COCO file (no \"images\" list)")
        return res
    categories = _categories(doc, src, res)
    images, duplicated = _images(doc, src, res)
    by_image: Dict[Any, List[Dict[str, Any]]] = defaultdict(list)
    for i, ann in enumerate(doc.get("annotations") or []):
        if not isinstance(ann, dict):
            res.errors.append(f"{src}: annotations[{i}] is not an object")
            continue
        if is_id(ann.get("image_id")) and ann["image_id"] in duplicated:
            continue  # already reported with its image id
        if not (is_id(ann.get("image_id")) and ann["image_id"] in images):
            res.errors.append(f"{src}: annotation id {ann.get('id')!r}: image_id {ann.get('image_id')!r} "
                              "is not in images")
            continue
        by_image[ann["image_id"]].append(ann)

    seen_boxes: List[Tuple[Any, Any]] = []   # (annotation id, bbox) on images big enough to tell pixels from fractions
    for im_id, im in images.items():
        where = f"{src}: image id {im_id!r}"
        found = resolve_image(images_dir, im.get("file_name", ""), "file_name", im.get("width"), im.get("height"),
                              where)
        if isinstance(found, str):
            res.errors.append(found)
            continue
        rel, path, (w, h) = found
        collector = GroundingCollector()
        present = set()
        bad = False
        for ann in by_image.get(im_id, []):
            awhere = f"{src}: annotation id {ann.get('id')!r}"
            phrase = _phrase_of(ann, categories, phrase_source)
            if phrase is None:
                res.errors.append(f"{awhere}: no phrase (no {phrase_source} field or category name)")
                bad = True
                continue
            box, problem = pixel_box_to_grid(ann.get("bbox"), True, w, h)
            if problem:
                res.errors.append(f"{awhere}: {problem}")
                bad = True
                continue
            if min(w, h) >= NORMALISED_MIN_SIDE:
                seen_boxes.append((ann.get("id"), ann["bbox"]))
            t = ann.get("type") if isinstance(ann.get("type"), str) else None
            collector.add(phrase, box, t)
            if is_id(ann.get("category_id")):
                present.add(ann["category_id"])
        if bad:
            continue
        if negatives:
            for cid, name in categories.items():
                if cid not in present and name not in collector:
                    collector.add(name, None)
        res.add(Sample(image=default_image_rel(rel), width=w, height=h, groundings=collector.groundings()), path,
                where=where)
    if _all_normalised(seen_boxes):
        aid, box = seen_boxes[0]
        res.errors.append(f"{src}: every bbox lies within 0..1 (e.g. annotation id {aid!r}: {show(box)}); COCO "
                          "boxes are pixels, these look normalised (multiply by the image's width and height)")
        res.drop_samples()
    return res


__all__ = ["PHRASE_SOURCES", "import_coco"]
