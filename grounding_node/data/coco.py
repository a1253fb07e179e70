"""COCO detection JSON -> canonical dataset.

Phrases come from the category names, or from a per-annotation `phrase` (or `caption`) field: COCO's own
captions are image-level and name no box, so grounding sets that extend COCO put the phrase on the
annotation. COCO boxes are `[x, y, w, h]` in pixels. An optional per-annotation `type` is kept.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional

from grounding_node.data._common import (
    GroundingCollector,
    ImportResult,
    default_image_rel,
    grid_box_or_problem,
    pixel_box_problem,
    resolve_image,
)
from grounding_node.data.format import Sample

PHRASE_SOURCES = ("auto", "category", "phrase", "caption")


def _phrase_of(ann: Dict[str, Any], categories: Dict[Any, str], source: str) -> Optional[str]:
    if source in ("auto", "phrase") and isinstance(ann.get("phrase"), str) and ann["phrase"].strip():
        return ann["phrase"]
    if source in ("auto", "caption") and isinstance(ann.get("caption"), str) and ann["caption"].strip():
        return ann["caption"]
    if source in ("auto", "category"):
        return categories.get(ann.get("category_id"))
    return None


def import_coco(src: Path | str, images_dir: Path | str, phrase_source: str = "auto",
                negatives: bool = False) -> ImportResult:
    """Read a COCO JSON file whose `file_name`s are relative to `images_dir`.

    - `phrase_source`: `auto` (annotation `phrase`, else `caption`, else the category name), or one of them only.
    - `negatives`: add every category absent from an image as a negative (right only for exhaustively
      labelled sets, as COCO's own categories are; hence off by default).
    Images without annotations become unannotated samples (`groundings: []`), unless `negatives` gives them
    negatives.
    """
    if phrase_source not in PHRASE_SOURCES:
        raise ValueError(f"phrase_source must be one of {PHRASE_SOURCES}, got {phrase_source!r}")
    src, images_dir = Path(src), Path(images_dir)
    doc = json.loads(src.read_text(encoding="utf-8"))
    res = ImportResult()
    if not isinstance(doc, dict) or not isinstance(doc.get("images"), list):
        res.errors.append(f"{src}: not a COCO file (no \"images\" list)")
        return res
    categories: Dict[Any, str] = {}
    for c in doc.get("categories") or []:
        if isinstance(c, dict) and isinstance(c.get("name"), str):
            categories[c.get("id")] = c["name"]
    by_image: Dict[Any, List[Dict[str, Any]]] = defaultdict(list)
    images = {im.get("id"): im for im in doc["images"] if isinstance(im, dict)}
    for i, ann in enumerate(doc.get("annotations") or []):
        if not isinstance(ann, dict):
            res.errors.append(f"{src}: annotations[{i}] is not an object")
            continue
        if ann.get("image_id") not in images:
            res.errors.append(f"{src}: annotation id {ann.get('id')!r}: image_id {ann.get('image_id')!r} "
                              "is not in images")
            continue
        by_image[ann["image_id"]].append(ann)

    for im_id, im in images.items():
        where = f"{src}: image id {im_id!r}"
        found = resolve_image(images_dir, im.get("file_name", ""), "file_name", im.get("width"), im.get("height"),
                              where)
        if isinstance(found, str):
            res.errors.append(found)
            continue
        rel, path, (w, h) = found
        collector = GroundingCollector()
        bad = False
        for ann in by_image.get(im_id, []):
            awhere = f"{src}: annotation id {ann.get('id')!r}"
            phrase = _phrase_of(ann, categories, phrase_source)
            if phrase is None:
                res.errors.append(f"{awhere}: no phrase (no {phrase_source} field or category name)")
                bad = True
                continue
            problem = pixel_box_problem(ann.get("bbox"), xywh=True)
            if problem is None:
                x, y, bw, bh = ann["bbox"]
                box, problem = grid_box_or_problem([x, y, x + bw, y + bh], w, h)
            if problem:
                res.errors.append(f"{awhere}: {problem}")
                bad = True
                continue
            t = ann.get("type") if isinstance(ann.get("type"), str) else None
            collector.add(phrase, box, t)
        if bad:
            continue
        if negatives:
            for name in categories.values():
                if name not in collector:
                    collector.add(name, None)
        res.add(Sample(image=default_image_rel(rel), width=w, height=h, groundings=collector.groundings()), path)
    return res


__all__ = ["PHRASE_SOURCES", "import_coco"]
