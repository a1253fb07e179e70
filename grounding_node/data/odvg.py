"""ODVG JSONL (Open-GroundingDino's fine-tuning format) -> canonical dataset.

One object per line: `{"filename", "height", "width", "detection": {"instances": [{"bbox": [x1, y1, x2, y2],
"label": int, "category": str}]}, "grounding": {"caption", "regions": [{"bbox": [x1, y1, x2, y2], "phrase"}]}}`,
boxes in pixels. Detection instances become groundings named by their category (or by the label map when an
instance has only its `label` id); grounding regions become groundings named by their phrase. Some
converters write a region's `bbox` as a list of boxes; both forms are read.
"""

from __future__ import annotations

import json
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
from grounding_node.data.validate import parse_line


def load_label_map(path: Optional[Path | str]) -> Dict[int, str]:
    """Open-GroundingDino's label map: `{"0": "person", "1": "bicycle", ...}`."""
    if path is None:
        return {}
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return {int(k): str(v) for k, v in doc.items()}


def _region_boxes(bbox: Any) -> List[Any]:
    if isinstance(bbox, list) and bbox and all(isinstance(b, list) for b in bbox):
        return bbox
    return [bbox]


def import_odvg(src: Path | str, images_dir: Path | str, label_map: Optional[Dict[int, str]] = None,
                negatives: bool = False) -> ImportResult:
    """Read an ODVG JSONL file whose `filename`s are relative to `images_dir`. `negatives` adds every
    label-map category absent from a detection record as a negative (detection sets are exhaustive per
    category; grounding captions are not, so grounding records never get any)."""
    src, images_dir = Path(src), Path(images_dir)
    label_map = label_map or {}
    res = ImportResult()
    for lineno, text in enumerate(src.read_text(encoding="utf-8").split("\n"), start=1):
        if not text.strip():
            continue
        where = f"{src}:{lineno}"
        rec, err = parse_line(text)
        if err or not isinstance(rec, dict):
            res.errors.append(f"{where}: {err or 'record must be a JSON object'}")
            continue
        found = resolve_image(images_dir, rec.get("filename", ""), "filename", rec.get("width"), rec.get("height"),
                              where)
        if isinstance(found, str):
            res.errors.append(found)
            continue
        rel, path, (w, h) = found
        collector = GroundingCollector()
        problems: List[str] = []
        det = rec.get("detection") or {}
        instances = det.get("instances") if isinstance(det, dict) else None
        for i, inst in enumerate(instances or []):
            name = inst.get("category") if isinstance(inst, dict) else None
            if not (isinstance(name, str) and name.strip()) and isinstance(inst, dict):
                name = label_map.get(inst.get("label")) if isinstance(inst.get("label"), int) else None
            if not name:
                problems.append(f"detection.instances[{i}] has no category and its label is not in the label map")
                continue
            problem = pixel_box_problem(inst.get("bbox"), xywh=False)
            box = None
            if problem is None:
                box, problem = grid_box_or_problem(inst["bbox"], w, h)
            if problem:
                problems.append(f"detection.instances[{i}]: {problem}")
                continue
            collector.add(name, box)
        grounding = rec.get("grounding") or {}
        regions = grounding.get("regions") if isinstance(grounding, dict) else None
        for i, reg in enumerate(regions or []):
            phrase = reg.get("phrase") if isinstance(reg, dict) else None
            if not (isinstance(phrase, str) and phrase.strip()):
                problems.append(f"grounding.regions[{i}] has no phrase")
                continue
            for b in _region_boxes(reg.get("bbox")):
                problem = pixel_box_problem(b, xywh=False)
                box = None
                if problem is None:
                    box, problem = grid_box_or_problem(b, w, h)
                if problem:
                    problems.append(f"grounding.regions[{i}]: {problem}")
                    continue
                collector.add(phrase, box)
        if problems:
            res.errors.extend(f"{where}: {p}" for p in problems)
            continue
        if negatives and instances is not None:
            for name in label_map.values():
                if name not in collector:
                    collector.add(name, None)
        res.add(Sample(image=default_image_rel(rel), width=w, height=h, groundings=collector.groundings()), path)
    return res


__all__ = ["import_odvg", "load_label_map"]
