"""Label Studio: export a dataset as tasks with pre-annotations, and import Label Studio's JSON export.

The labelling interface is a `Rectangle` per referent, a per-region `TextArea` ("phrase") holding the phrase
of each box, and an image-level `TextArea` ("negatives") holding phrases with no referent, one per line.
Label Studio keeps a region's text as a `textarea` result with the same `id` as the rectangle, which is how
the importer pairs them. A negative has no region to hang on, hence the image-level text area: a person
sees it, can edit it, and it comes back in the export.

Boxes: Label Studio writes `x, y, width, height` as percentages (0-100) of the image, top-left corner
first; the 0-1024 grid is the same fraction scaled, so `grid = percent * 10.24` whatever the image size.

What the interface cannot show rides along in the task's `data.pg` (Label Studio keeps task data
unchanged through export): the dataset-relative image path, size, depth and camera_info paths, other record
keys, each phrase's `type`, and the phrase order. So exporting a dataset and importing the file back gives
the same records (boxes within float rounding). Grounding-level extra keys (e.g. a prediction `score`) are
shown as the prediction's score but not carried back: after a person has reviewed a grounding, the model's
score no longer describes it.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, quote, unquote, urlparse

from grounding_node.data._common import (
    GroundingCollector,
    ImportResult,
    default_image_rel,
    image_size,
    read_json_file,
    safe_relpath,
    show,
)
from grounding_node.data.format import GRID, Sample, normalize_phrase
from grounding_node.data.validate import _jtype, load_dataset

BOX_NAME, PHRASE_NAME, NEGATIVES_NAME, IMAGE_NAME = "box", "phrase", "negatives", "image"
DEFAULT_URL_PREFIX = "/data/local-files/?d="
PCT = GRID / 100.0  # grid units per percent
RECT_TYPES = ("rectangle", "rectanglelabels")
PCT_SLACK = 0.5
"""How far (percent of the image) a rectangle may stick out and still be clipped: a drag past the edge, not
a box drawn for another image."""

LABEL_CONFIG = f"""<View>
  <Header value="Draw one box per object the phrase refers to and write the phrase in the box's text field.
Phrases that name nothing in this image go under Negatives, one per line."/>
  <Image name="{IMAGE_NAME}" value="${IMAGE_NAME}" zoom="true"/>
  <Rectangle name="{BOX_NAME}" toName="{IMAGE_NAME}" strokeWidth="2" canRotate="false"/>
  <TextArea name="{PHRASE_NAME}" toName="{IMAGE_NAME}" perRegion="true" editable="true" required="true"
            placeholder="phrase for the selected box"/>
  <Header value="Negatives (phrases with no referent, one per line)"/>
  <TextArea name="{NEGATIVES_NAME}" toName="{IMAGE_NAME}" editable="true" rows="3"
            placeholder="e.g. the blue ball"/>
</View>
"""


def config_path_for(out_file: Path | str) -> Path:
    """The label config written next to an export: `tasks.json` -> `tasks.label_config.xml`."""
    p = Path(out_file)
    return p.with_name(p.stem + ".label_config.xml")


# ---------------------------------------------------------------- export
def _pct(v: float) -> float:
    return float(v) / PCT


def sample_to_task(sample: Sample, url_prefix: str = DEFAULT_URL_PREFIX, as_annotations: bool = False,
                   model_version: str = "phrase_grounding", task_index: int = 0) -> Dict[str, Any]:
    """One canonical sample -> one Label Studio task with its groundings as predictions (or annotations)."""
    result: List[Dict[str, Any]] = []
    scores: List[float] = []
    negatives: List[str] = []
    k = 0
    for g in sample.groundings:
        if not g.boxes_1024:
            negatives.append(g.phrase)
            continue
        if isinstance(g.extra.get("score"), (int, float)):
            scores.append(float(g.extra["score"]))
        for b in g.boxes_1024:
            rid = f"t{task_index}r{k}"
            k += 1
            geom = {"x": _pct(b[0]), "y": _pct(b[1]), "width": _pct(b[2] - b[0]), "height": _pct(b[3] - b[1]),
                    "rotation": 0}
            common = {"id": rid, "to_name": IMAGE_NAME, "original_width": sample.width,
                      "original_height": sample.height, "image_rotation": 0}
            result.append({**common, "from_name": BOX_NAME, "type": "rectangle", "value": dict(geom)})
            result.append({**common, "from_name": PHRASE_NAME, "type": "textarea",
                           "value": {**geom, "text": [g.phrase]}})
    if negatives:
        result.append({"id": f"t{task_index}neg", "from_name": NEGATIVES_NAME, "to_name": IMAGE_NAME,
                       "type": "textarea", "value": {"text": negatives}})
    pg = {
        "image": sample.image, "width": sample.width, "height": sample.height,
        "depth": sample.depth, "camera_info": sample.camera_info, "extra": sample.extra,
        "types": {normalize_phrase(g.phrase): g.type for g in sample.groundings if g.type},
        "order": [normalize_phrase(g.phrase) for g in sample.groundings],
    }
    task: Dict[str, Any] = {"data": {IMAGE_NAME: url_prefix + quote(sample.image, safe="/"), "pg": pg}}
    if result:
        if as_annotations:
            task["annotations"] = [{"result": result}]
        else:
            pred: Dict[str, Any] = {"model_version": model_version, "result": result}
            if scores:
                pred["score"] = sum(scores) / len(scores)
            task["predictions"] = [pred]
    return task


def export_labelstudio(root: Path | str, out_file: Path | str, url_prefix: str = DEFAULT_URL_PREFIX,
                       as_annotations: bool = False, model_version: str = "phrase_grounding") -> Tuple[Path, Path]:
    """Write a Label Studio import file (a JSON list of tasks) and its label config next to it.
    The dataset must be valid: exporting bad records would hand a person boxes nobody can trust."""
    samples = load_dataset(root)
    tasks = [sample_to_task(s, url_prefix, as_annotations, model_version, i) for i, s in enumerate(samples)]
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tasks, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    cfg = config_path_for(out)
    cfg.write_text(LABEL_CONFIG, encoding="utf-8")
    return out, cfg


# ---------------------------------------------------------------- import
_UPLOAD_HASH = re.compile(r"^[0-9a-f]{8}-")


def _url_candidates(url: str) -> List[str]:
    """Relative paths an image URL may correspond to under the images folder, best first."""
    out: List[str] = []
    parsed = urlparse(url)
    q = parse_qs(parsed.query)
    if "d" in q:  # /data/local-files/?d=relative/path
        out.append(q["d"][0])
    path = unquote(parsed.path or url)
    if path and not path.endswith("/"):
        out.append(path.lstrip("/"))
        base = path.rsplit("/", 1)[-1]
        out.append(base)
        if _UPLOAD_HASH.match(base):  # Label Studio's upload prefix: /data/upload/1/1a2b3c4d-name.png
            out.append(_UPLOAD_HASH.sub("", base))
    return out


def _find_image(images_dir: Path, data: Dict[str, Any], pg: Dict[str, Any]) -> Tuple[Optional[Path], Optional[str]]:
    """(source path, dataset-relative path for the new dataset)."""
    if isinstance(pg.get("image"), str):
        rel = safe_relpath(pg["image"])
        if rel and (images_dir / rel).is_file():
            return images_dir / rel, rel
    url = data.get(IMAGE_NAME)
    if not isinstance(url, str):
        url = next((v for v in data.values() if isinstance(v, str)), "")
    for cand in _url_candidates(url):
        rel = safe_relpath(cand)
        if rel and (images_dir / rel).is_file():
            if isinstance(pg.get("image"), str) and safe_relpath(pg["image"]):
                return images_dir / rel, safe_relpath(pg["image"])
            return images_dir / rel, default_image_rel(rel.rsplit("/", 1)[-1])
    return None, None


def _choose_result(task: Dict[str, Any], use_predictions: bool) -> Tuple[Optional[List[Any]], str]:
    """The result list a task's groundings come from: the latest non-cancelled annotation (a person's
    work), else the last prediction when allowed, else none. A task whose annotations were all cancelled
    was skipped by the annotator on purpose: its prediction is what they declined to confirm, so it is
    not imported in their place ("cancelled")."""
    all_anns = [a for a in task.get("annotations") or task.get("completions") or [] if isinstance(a, dict)]
    anns = [a for a in all_anns if not a.get("was_cancelled")]
    if all_anns and not anns:
        return None, "cancelled"
    if anns:
        best = max(enumerate(anns), key=lambda ia: (str(ia[1].get("updated_at") or ia[1].get("created_at") or ""),
                                                     ia[0]))[1]
        return best.get("result") or [], "annotation"
    preds = [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    if preds and use_predictions:
        return preds[-1].get("result") or [], "prediction"
    return None, "none"


def _rect_to_grid(value: Dict[str, Any], ow: float, oh: float) -> List[float] | str:
    """Label Studio percentages (with optional rotation about the top-left corner) of an `ow` x `oh` image
    -> 0-1024 xyxy, or why not. Out of the image by up to PCT_SLACK is clipped; further out is a problem."""
    try:
        x, y, w, h = (float(value[k]) for k in ("x", "y", "width", "height"))
        rot = float(value.get("rotation") or 0.0)
    except (KeyError, TypeError, ValueError, OverflowError):
        return "has no valid x, y, width, height"
    if not all(math.isfinite(v) for v in (x, y, w, h, rot)):
        return "has no valid x, y, width, height"
    if rot % 360.0:
        # Rotation is in pixel space (so the image's aspect matters); take the axis-aligned envelope.
        sx, sy = ow / 100.0, oh / 100.0
        c, s = math.cos(math.radians(rot)), math.sin(math.radians(rot))
        px, py, pw, ph = x * sx, y * sy, w * sx, h * sy
        xs = [px + dx * c - dy * s for dx, dy in ((0, 0), (pw, 0), (pw, ph), (0, ph))]
        ys = [py + dx * s + dy * c for dx, dy in ((0, 0), (pw, 0), (pw, ph), (0, ph))]
        x, y, w, h = min(xs) / sx, min(ys) / sy, (max(xs) - min(xs)) / sx, (max(ys) - min(ys)) / sy
    if x < -PCT_SLACK or y < -PCT_SLACK or x + w > 100.0 + PCT_SLACK or y + h > 100.0 + PCT_SLACK:
        return (f"goes outside the image by more than {PCT_SLACK:g}% (x {x:.4g}..{x + w:.4g}, "
                f"y {y:.4g}..{y + h:.4g}, in percent of the image)")
    box = [x * PCT, y * PCT, (x + w) * PCT, (y + h) * PCT]
    return [round(min(max(v, 0.0), GRID), 4) for v in box]


def _texts(value: Dict[str, Any]) -> List[str]:
    text = value.get("text")
    items = [text] if isinstance(text, str) else text if isinstance(text, list) else []
    return [line.strip() for t in items if isinstance(t, str) for line in t.split("\n") if line.strip()]


def _pixel_size(r: Dict[str, Any], width: int, height: int) -> Tuple[float, float]:
    """The image size a result's percentages refer to: its own `original_width`/`height` when it has them,
    else the task's image size (never a square guess, which would skew a rotated box)."""
    ow, oh = r.get("original_width"), r.get("original_height")
    ok = all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in (ow, oh))
    return (float(ow), float(oh)) if ok else (float(width), float(height))


def task_to_sample(task: Dict[str, Any], images_dir: Path, use_predictions: bool = True
                   ) -> Tuple[Optional[Sample], Optional[Path], List[str], str]:
    """One exported task -> (sample, source image, problems, where the groundings came from)."""
    data = task.get("data")
    if not isinstance(data, dict):
        return None, None, ["no \"data\" object (export with Label Studio's \"JSON\" format, not JSON_MIN or CSV)"], ""
    pg = data.get("pg") if isinstance(data.get("pg"), dict) else {}
    src, rel = _find_image(images_dir, data, pg)
    if src is None or rel is None:
        return None, None, [f"image {data.get(IMAGE_NAME)!r} not found under {str(images_dir)!r}"], ""
    result, origin = _choose_result(task, use_predictions)
    result = [r for r in (result or []) if isinstance(r, dict)]
    ow = next((r.get("original_width") for r in result if r.get("original_width")), None)
    oh = next((r.get("original_height") for r in result if r.get("original_height")), None)
    width, height = pg.get("width") or ow, pg.get("height") or oh
    if not (isinstance(width, int) and isinstance(height, int)):
        size = image_size(src)
        if size is None:
            return None, None, [f"image {str(src)!r} cannot be read as an image"], origin
        width, height = size
    problems: List[str] = []
    boxes: Dict[str, List[float] | str] = {}
    labels: Dict[str, List[str]] = {}
    texts: Dict[str, List[str]] = {}
    negatives: List[str] = []
    order: List[str] = []
    rect_ids = {str(r.get("id", "")) for r in result if str(r.get("type", "")).lower() in RECT_TYPES}
    for r in result:
        rtype, rid, value = str(r.get("type", "")).lower(), str(r.get("id", "")), r.get("value")
        value = {} if value is None else value
        if not isinstance(value, dict):
            problems.append(f'result {rid!r}: "value" must be an object, got {show(value)} ({_jtype(value)})')
            continue
        if rtype in RECT_TYPES:
            if rid not in boxes:
                order.append(rid)
            boxes[rid] = _rect_to_grid(value, *_pixel_size(r, width, height))
            labels.setdefault(rid, []).extend(str(v) for v in value.get("rectanglelabels") or [])
        elif rtype == "textarea":
            if rid in rect_ids:  # a per-region text: Label Studio gives it its rectangle's id
                texts.setdefault(rid, []).extend(_texts(value))
            elif "x" in value and "width" in value:  # per-region text whose rectangle result is missing
                texts.setdefault(rid, []).extend(_texts(value))
                if rid not in boxes:
                    order.append(rid)
                    boxes[rid] = _rect_to_grid(value, *_pixel_size(r, width, height))
            elif r.get("from_name") == NEGATIVES_NAME:
                negatives.extend(_texts(value))
            else:
                problems.append(f"image-level text area {r.get('from_name')!r} is not {NEGATIVES_NAME!r}; "
                                "its text has no box to belong to")
        else:
            problems.append(f"result type {rtype!r} (id {rid!r}) is not a rectangle or text area")
    collector = GroundingCollector()
    types = pg.get("types") if isinstance(pg.get("types"), dict) else {}
    for rid in order:
        box = boxes[rid]
        phrases = texts.get(rid) or labels.get(rid) or []
        if isinstance(box, str):
            problems.append(f"region {rid!r} {box}")
            continue
        if not (box[0] < box[2] and box[1] < box[3]):
            problems.append(f"region {rid!r} has no area inside the image")
            continue
        if not phrases:
            problems.append(f"region {rid!r} has a box but no phrase")
            continue
        for p in phrases:
            collector.add(p, box, types.get(normalize_phrase(p)))
    for p in negatives:
        if p in collector:
            problems.append(f"phrase {p!r} is listed as a negative but also has a box")
            continue
        collector.add(p, None, types.get(normalize_phrase(p)))
    if problems:
        return None, None, problems, origin
    groundings = collector.groundings()
    rank = {k: i for i, k in enumerate(pg.get("order") or []) if isinstance(k, str)}
    groundings.sort(key=lambda g: rank.get(normalize_phrase(g.phrase), len(rank)))
    extra = pg.get("extra") if isinstance(pg.get("extra"), dict) else {}
    sample = Sample(image=rel, width=int(width), height=int(height), groundings=groundings, extra=dict(extra))
    return sample, src, [], origin


def _companions(sample: Sample, pg: Dict[str, Any], images_dir: Path, notes: List[str], where: str
                ) -> List[Tuple[Path, str]]:
    """Re-attach the depth and camera_info files the export carried in `data.pg`, if they are still there."""
    out: List[Tuple[Path, str]] = []
    for key in ("depth", "camera_info"):
        rel = safe_relpath(pg[key]) if isinstance(pg.get(key), str) else None
        if rel is None:
            continue
        if (images_dir / rel).is_file():
            setattr(sample, key, rel)
            out.append((images_dir / rel, rel))
        else:
            notes.append(f"{where}: {key} {rel!r} is not under {str(images_dir)!r}; the sample is imported without it")
    return out


def import_labelstudio(src: Path | str, images_dir: Path | str, use_predictions: bool = True) -> ImportResult:
    """Read Label Studio's JSON export (a list of tasks). Tasks a person has annotated use the latest
    annotation; tasks nobody touched use their prediction when `use_predictions` (so an export re-imported
    unchanged gives back the same dataset) and are otherwise unannotated samples. Both cases are counted
    in `notes`."""
    src, images_dir = Path(src), Path(images_dir)
    res = ImportResult()
    doc, err = read_json_file(src)
    if err:
        res.errors.append(err)
        return res
    tasks = doc if isinstance(doc, list) else [doc]
    origins: Dict[str, int] = {}
    for i, task in enumerate(tasks):
        tid = task.get("id") if isinstance(task, dict) else None
        where = f"{src}: task {i}" + (f" (id {tid})" if tid is not None else "")
        if not isinstance(task, dict):
            res.errors.append(f"{where}: not an object")
            continue
        sample, path, problems, origin = task_to_sample(task, images_dir, use_predictions)
        if problems:
            res.errors.extend(f"{where}: {p}" for p in problems)
            continue
        assert sample is not None and path is not None
        pg = task["data"].get("pg") if isinstance(task["data"].get("pg"), dict) else {}
        if res.add(sample, path, _companions(sample, pg, images_dir, res.notes, where), where=where):
            origins[origin] = origins.get(origin, 0) + 1
    if origins.get("prediction"):
        res.notes.append(f"{origins['prediction']} tasks had no annotation; their predictions were imported")
    if origins.get("none"):
        res.notes.append(f"{origins['none']} tasks had no annotation and were imported as unannotated images")
    if origins.get("cancelled"):
        res.notes.append(f"{origins['cancelled']} tasks were skipped (cancelled) by the annotator and were imported "
                         "as unannotated images")
    return res


__all__ = ["BOX_NAME", "DEFAULT_URL_PREFIX", "LABEL_CONFIG", "NEGATIVES_NAME", "PHRASE_NAME", "config_path_for",
           "export_labelstudio", "import_labelstudio", "sample_to_task", "task_to_sample"]
