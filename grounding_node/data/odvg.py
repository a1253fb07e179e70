"""ODVG JSONL (Open-GroundingDino's fine-tuning format) -> canonical dataset.

One object per line: `{"filename", "height", "width", "detection": {"instances": [{"bbox": [x1, y1, x2, y2],
"label": int, "category": str}]}, "grounding": {"caption", "regions": [{"bbox": [x1, y1, x2, y2], "phrase"}]}}`,
boxes in pixels. Detection instances become groundings named by their category (or by the label map when an
instance has only its `label` id); grounding regions become groundings named by their phrase. Some
converters write a region's `bbox` as a list of boxes; both forms are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

from grounding_node.data._common import (
    GroundingCollector,
    ImportResult,
    default_image_rel,
    pixel_box_to_grid,
    read_json_file,
    resolve_image,
    show,
)
from grounding_node.data.format import Sample
from grounding_node.data.validate import DatasetError, _jtype, parse_line


def load_label_map(path: Optional[Path | str]) -> Dict[int, str]:
    """Open-GroundingDino's label map: `{"0": "person", "1": "bicycle", ...}`. Raises `DatasetError` naming the
    file when it cannot be used: a key that is no integer would silently name no instance."""
    if path is None:
        return {}
    path = Path(path)
    doc, err = read_json_file(path)
    if err:
        raise DatasetError([err])
    if not isinstance(doc, dict):
        raise DatasetError([f"{path}: a label map must be a JSON object {{\"0\": \"name\", ...}}, "
                            f"got {show(doc)} ({_jtype(doc)})"])
    out: Dict[int, str] = {}
    errors: List[str] = []
    for k, v in doc.items():
        try:
            out[int(k)] = str(v)
        except ValueError:
            errors.append(f"{path}: label map key {show(k)} is not an integer label id")
    if errors:
        raise DatasetError(errors)
    return out


def _region_boxes(bbox: Any) -> List[Any]:
    if isinstance(bbox, list) and bbox and all(isinstance(b, list) for b in bbox):
        return bbox
    return [bbox]


def _list_or_problem(parent: Any, key: str, name: str, problems: List[str]) -> List[Any]:
    """`parent[key]` as a list ([] when absent); anything else is a problem, not something to iterate."""
    items = parent.get(key) if isinstance(parent, dict) else None
    if items is None:
        return []
    if not isinstance(items, list):
        problems.append(f"{name} must be a list, got {show(items)} ({_jtype(items)})")
        return []
    return items


def _lines(src: Path, res: ImportResult) -> List[Any]:
    """(line number, text) of each non-blank line; a line that is not UTF-8 is reported, not a crash, and a
    BOM on the first line is accepted as the canonical reader accepts it."""
    try:
        data = src.read_bytes()
    except FileNotFoundError:
        res.errors.append(f"{src}: not found")
        return []
    out = []
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            res.errors.append(f"{src}:{lineno}: not valid UTF-8 (byte {e.start + 1})")
            continue
        if lineno == 1:
            text = text.lstrip("\ufeff")
        if text.strip():
            out.append((lineno, text))
    return out


def import_odvg(src: Path | str, images_dir: Path | str, label_map: Optional[Dict[int, str]] = None,
                negatives: bool = False) -> ImportResult:
    """Read an ODVG JSONL file whose `filename`s are relative to `images_dir`. `negatives` adds every
    label-map category absent from a detection record as a negative (detection sets are exhaustive per
    category; grounding captions are not, so grounding records never get any)."""
    src, images_dir = Path(src), Path(images_dir)
    label_map = label_map or {}
    res = ImportResult()
    for lineno, text in _lines(src, res):
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
        det = rec.get("detection")
        instances = _list_or_problem(det, "instances", "detection.instances", problems)
        for i, inst in enumerate(instances):
            name = inst.get("category") if isinstance(inst, dict) else None
            if not (isinstance(name, str) and name.strip()) and isinstance(inst, dict):
                label = inst.get("label")
                name = label_map.get(label) if isinstance(label, int) and not isinstance(label, bool) else None
            if not name:
                problems.append(f"detection.instances[{i}] has no category and its label is not in the label map")
                continue
            box, problem = pixel_box_to_grid(inst.get("bbox"), False, w, h)
            if problem:
                problems.append(f"detection.instances[{i}]: {problem}")
                continue
            collector.add(name, box)
        regions = _list_or_problem(rec.get("grounding"), "regions", "grounding.regions", problems)
        for i, reg in enumerate(regions):
            phrase = reg.get("phrase") if isinstance(reg, dict) else None
            if not (isinstance(phrase, str) and phrase.strip()):
                problems.append(f"grounding.regions[{i}] has no phrase")
                continue
            for b in _region_boxes(reg.get("bbox")):
                box, problem = pixel_box_to_grid(b, False, w, h)
                if problem:
                    problems.append(f"grounding.regions[{i}]: {problem}")
                    continue
                collector.add(phrase, box)
        if problems:
            res.errors.extend(f"{where}: {p}" for p in problems)
            continue
        if negatives and isinstance(det, dict) and isinstance(det.get("instances"), list):
            for name in label_map.values():
                if name not in collector:
                    collector.add(name, None)
        res.add(Sample(image=default_image_rel(rel), width=w, height=h, groundings=collector.groundings()), path,
                where=where)
    return res


__all__ = ["import_odvg", "load_label_map"]
