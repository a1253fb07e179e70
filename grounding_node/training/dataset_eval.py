"""Evaluate any backend on a dataset in the canonical format (docs/dataset.md): figures, JSON and a report.

    python -m grounding_node.eval --backend florence2 --model microsoft/Florence-2-base --data my_dataset \
        --report out/report.md --json out/figures.json

The sim evaluation (`eval.py`) grades against generated scenes; this grades against a user's own annotated
images, so a fine-tuned model and its base can be compared on the same held-out set. It follows `score_scene`
so the two sets of figures mean the same thing:
- all phrases of an image go to the backend in one call (how the node batches), through the node's
  `ground_frame` (non-finite boxes dropped, score threshold, boxes clamped to the grid, sorted by score);
- the *top box* of a phrase is its highest-scoring box at or above the threshold;
- Acc@0.5: the top box has IoU >= 0.5 with any ground-truth box of the phrase (phrases with a referent;
  no box above the threshold is a miss);
- precision/recall/F1@0.5: every box above the threshold against every ground-truth box of the phrase,
  greedy one-to-one matching at IoU 0.5 (`eval._match`), micro-averaged over phrases. A box returned for
  a negative phrase is a false positive;
- no-referent rejection: the fraction of negative phrases (empty `boxes_1024`) with nothing above the
  threshold.
A backend exception on one image does not end the run: the image's phrases are recorded with the error and
count as failures (positives as misses with IoU 0, negatives as not rejected), and the count is reported.
Undefined figures (no negatives, no predictions) are None, so the JSON stays strict JSON.
"""

from __future__ import annotations

import html
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.data.format import Grounding, Sample
from grounding_node.geometry.boxes import box1024_to_pixels, box_iou
from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundedObject, GroundingSettings
from grounding_node.training.eval import _match

IOU_HIT = 0.5
IOU_BINS = np.linspace(0.0, 1.0, 11)
MAX_OBJECTS = 10   # boxes kept per phrase: the same cap as the sim evaluation (`evaluate_split`)
GT_COLOUR = (0, 200, 0)      # RGB
PRED_COLOUR = (230, 0, 0)
REPORT_MAX_SIDE = 800        # drawn examples are downscaled to this, so a report of 4K frames stays small


@dataclass
class PhraseOutcome:
    """One phrase of one image after grounding: what the report lists and the figures are computed from."""

    image: str
    phrase: str
    type: Optional[str]
    gt: List[List[float]]            # ground-truth boxes (0-1024 grid); [] = a negative
    pred: Optional[List[float]]      # top box above the threshold (grid), None when there is none
    score: Optional[float]           # its score
    iou: Optional[float]             # best IoU of the top box with a GT box (0 without one); None for negatives
    ok: bool                         # positives: iou >= 0.5; negatives: nothing above the threshold
    n_pred: int                      # boxes above the threshold
    tp: int                          # of those, matched one-to-one to a GT box at IoU 0.5
    error: Optional[str] = None      # the backend's exception on this image, when it raised

    @property
    def negative(self) -> bool:
        return not self.gt


# ---------------------------------------------------------------- grounding
def read_rgb(path: Path) -> np.ndarray:
    """HxWx3 uint8 RGB whatever the file holds (grey, alpha and 16-bit are converted by OpenCV), since
    every backend takes 8-bit RGB; a photo's EXIF orientation is applied (as displayed, as annotated). The
    one image reader of evaluation and fine-tuning."""
    import cv2

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read image '{path}'")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def sample_frame(root: Path, sample: Sample) -> Frame:
    """The sample as the node would see it: colour, and its aligned depth and the colour camera's
    intrinsics when the sample has them (docs/dataset.md), so a backend that reads depth is graded with it
    (the node passes depth by default, `depth_for_grounding`). A depth or camera_info file that cannot be
    read leaves the image graded from colour, as the node grounds a frame whose depth is unusable, with a
    line on stderr: the model is not marked wrong for a data problem (`python -m grounding_node.dataset check`
    reports the file)."""
    from grounding_node.api import load_camera_info, load_depth

    frame = Frame(rgb=read_rgb(sample.image_path(root)))
    depth_path, info_path = sample.depth_path(root), sample.camera_info_path(root)
    try:
        if depth_path is not None:
            frame.depth, frame.depth_encoding = load_depth(depth_path)
        if info_path is not None:
            frame.intrinsics = load_camera_info(info_path)
    except Exception as exc:   # noqa: BLE001 - OpenCV, numpy and YAML raise many kinds; all mean "unreadable"
        frame.depth, frame.intrinsics = None, None
        print(f"{sample.image}: depth not used ({type(exc).__name__}: {exc}); graded from colour", file=sys.stderr)
    return frame


def ground_sample(backend, root: Path, sample: Sample, settings: GroundingSettings
                  ) -> Tuple[List[List[GroundedObject]], float]:
    """All phrases of one image in one backend call -> (objects per phrase, inference ms), through the
    node's `ground_frame` with the sample's depth and intrinsics when it has them (`sample_frame`). The
    figures here are about boxes; depth matters only to a backend that reads it."""
    result = ground_frame(backend, sample_frame(root, sample), [g.phrase for g in sample.groundings], settings)
    return result.by_phrase(), float(result.inference_ms)


def score_phrase(image: str, g: Grounding, objs: Sequence[GroundedObject], threshold: float) -> PhraseOutcome:
    """Grade one phrase. `objs` come sorted by score from `ground_frame`; the threshold is re-applied as in
    `score_scene` (the pipeline clips scores to 0..1, so both see the same boxes)."""
    above = [o for o in objs if o.score >= threshold]
    gt = np.asarray(g.boxes_1024, dtype=np.float64).reshape(-1, 4)
    pred = np.stack([o.box_1024 for o in above]) if above else np.zeros((0, 4))
    top = above[0] if above else None
    if g.is_negative:
        iou, ok = None, top is None
    else:
        iou = float(box_iou(top.box_1024, gt).max()) if top is not None else 0.0
        ok = iou >= IOU_HIT
    return PhraseOutcome(image=image, phrase=g.phrase, type=g.type, gt=gt.tolist(),
                         pred=[float(v) for v in top.box_1024] if top is not None else None,
                         score=float(top.score) if top is not None else None, iou=iou, ok=bool(ok),
                         n_pred=len(pred), tp=_match(pred, gt))


def failed_phrase(image: str, g: Grounding, error: str) -> PhraseOutcome:
    """A phrase whose image the backend failed on: a miss (IoU 0) or a negative not rejected."""
    return PhraseOutcome(image=image, phrase=g.phrase, type=g.type, gt=[list(map(float, b)) for b in g.boxes_1024],
                         pred=None, score=None, iou=None if g.is_negative else 0.0, ok=False, n_pred=0, tp=0,
                         error=error)


# ---------------------------------------------------------------- figures
def _rate(flags: Sequence[bool]) -> Optional[float]:
    """Mean of booleans, None for an empty set (a figure with no cases is undefined, not 0 or 1)."""
    return float(np.mean(flags)) if len(flags) else None


def _ratio(num: float, den: float) -> Optional[float]:
    return float(num / den) if den else None


def iou_distribution(ious: Sequence[float]) -> Dict[str, Any]:
    """Histogram of the top boxes' best IoU in ten 0.1 bins (the last includes 1.0), mean, median, p10."""
    arr = np.asarray(ious, dtype=np.float64)
    counts = np.histogram(arr, bins=IOU_BINS)[0]
    mean, median, p10 = (float(np.mean(arr)), float(np.median(arr)), float(np.percentile(arr, 10))) \
        if arr.size else (None, None, None)
    return {"iou_hist": [int(c) for c in counts], "iou_bins": [round(float(b), 1) for b in IOU_BINS],
            "mean_iou": mean, "iou_median": median, "iou_p10": p10}


def by_type(outcomes: Sequence[PhraseOutcome]) -> Dict[str, Dict[str, Any]]:
    """Per tagged `type`: Acc@0.5 over its phrases with a referent (`n` of them) and the rejection over its
    negatives. Untagged groundings are in the overall figures only."""
    out: Dict[str, Dict[str, Any]] = {}
    for t in sorted({o.type for o in outcomes if o.type is not None}):
        pos = [o.ok for o in outcomes if o.type == t and not o.negative]
        neg = [o.ok for o in outcomes if o.type == t and o.negative]
        out[t] = {"acc50": _rate(pos), "n": len(pos), "no_ref_rejection": _rate(neg), "n_negatives": len(neg)}
    return out


def detection_figures(outcomes: Sequence[PhraseOutcome]) -> Dict[str, Any]:
    """Micro-averaged precision/recall/F1 at IoU 0.5 over every box of every phrase."""
    tp = sum(o.tp for o in outcomes)
    n_pred = sum(o.n_pred for o in outcomes)
    n_gt = sum(len(o.gt) for o in outcomes)
    return {"precision_50": _ratio(tp, n_pred), "recall_50": _ratio(tp, n_gt),
            "f1_50": _ratio(2 * tp, n_pred + n_gt), "n_tp": tp, "n_pred_boxes": n_pred, "n_gt_boxes": n_gt}


def summarise(outcomes: Sequence[PhraseOutcome], latencies: Sequence[float], errors: Sequence[Dict[str, str]],
              n_images: int) -> Dict[str, Any]:
    """The result dict (see the module docstring) from the per-phrase outcomes."""
    pos = [o for o in outcomes if not o.negative]
    neg = [o for o in outcomes if o.negative]
    return {
        "acc50": _rate([o.ok for o in pos]),
        **detection_figures(outcomes),
        **iou_distribution([o.iou for o in pos]),
        "no_ref_rejection": _rate([o.ok for o in neg]),
        "by_type": by_type(outcomes),
        "n_images": n_images, "n_phrases": len(outcomes), "n_positives": len(pos), "n_negatives": len(neg),
        "n_no_box": sum(o.pred is None and o.error is None for o in pos),
        "n_errors": len(errors), "n_error_phrases": sum(o.error is not None for o in outcomes),
        "errors": list(errors),
        "latency_ms_median": float(np.median(latencies)) if latencies else None,
        "phrases": [asdict(o) for o in outcomes],
    }


def evaluate_dataset(backend, root: Path, samples: Sequence[Sample], threshold: float,
                     progress: bool = False, max_objects: int = MAX_OBJECTS) -> Dict[str, Any]:
    """Ground every annotated image of `samples` (images under `root`) and grade it at `threshold` (already
    resolved: `models.family.resolve_threshold`). Unannotated images (`groundings: []`) are skipped and
    counted. Returns the figures dict; `write_report` turns it into a report."""
    from tqdm import tqdm

    root = Path(root)
    settings = GroundingSettings(score_threshold=float(threshold), max_objects_per_phrase=max_objects)
    annotated = [s for s in samples if s.annotated]
    outcomes: List[PhraseOutcome] = []
    latencies: List[float] = []
    errors: List[Dict[str, str]] = []
    for sample in tqdm(annotated, desc="eval", disable=not progress):
        try:
            per_phrase, ms = ground_sample(backend, root, sample, settings)
        except Exception as exc:   # noqa: BLE001 - one bad image must not end a long run; it is counted
            msg = f"{type(exc).__name__}: {exc}"
            errors.append({"image": sample.image, "error": msg})
            outcomes += [failed_phrase(sample.image, g, msg) for g in sample.groundings]
            continue
        latencies.append(ms)
        outcomes += [score_phrase(sample.image, g, objs, threshold) for g, objs in zip(sample.groundings, per_phrase)]
    result = summarise(outcomes, latencies, errors, len(annotated))
    describe = getattr(backend, "describe", None)
    result.update(threshold=float(threshold), dataset=str(root), n_unannotated=len(samples) - len(annotated),
                  backend=describe() if callable(describe) else type(backend).__name__)
    return result


# ---------------------------------------------------------------- text
def _pct(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _num(v: Optional[float], fmt: str = ".3f") -> str:
    return "n/a" if v is None else format(v, fmt)


def headline_rows(r: Dict[str, Any]) -> List[List[str]]:
    """(figure, n, value) rows of the headline table; n says what each figure is counted over."""
    lat = r.get("latency_ms_median")
    return [
        ["Acc@0.5 (top box)", f"{r['n_positives']} phrases", _pct(r["acc50"])],
        ["precision@0.5", f"{r['n_pred_boxes']} boxes", _pct(r["precision_50"])],
        ["recall@0.5", f"{r['n_gt_boxes']} boxes", _pct(r["recall_50"])],
        ["F1@0.5", "-", _pct(r["f1_50"])],
        ["mean IoU (top box)", f"{r['n_positives']} phrases", _num(r["mean_iou"])],
        ["median / p10 IoU", "-", f"{_num(r['iou_median'])} / {_num(r['iou_p10'])}"],
        ["no box above the threshold", f"{r['n_positives']} phrases", str(r["n_no_box"])],
        ["no-referent rejection", f"{r['n_negatives']} negatives", _pct(r["no_ref_rejection"])],
        ["inference per image (median)", f"{r['n_images']} images", "n/a" if lat is None else f"{lat:.1f} ms"],
        ["backend errors", f"{r['n_errors']} images", f"{r['n_error_phrases']} phrases counted as failures"],
    ]


def type_rows(r: Dict[str, Any]) -> List[List[str]]:
    return [[t, str(v["n"]), _pct(v["acc50"]), str(v["n_negatives"]), _pct(v["no_ref_rejection"])]
            for t, v in r["by_type"].items()]


def hist_rows(r: Dict[str, Any], width: int = 30) -> List[List[str]]:
    """One row per IoU bin with a text bar, readable in a terminal and in Markdown alike."""
    counts, edges = r["iou_hist"], r["iou_bins"]
    peak = max(counts) if counts and max(counts) else 1
    return [[f"{edges[i]:.1f}-{edges[i + 1]:.1f}", str(c), "#" * int(round(width * c / peak))]
            for i, c in enumerate(counts)]


def _threshold_origin(r: Dict[str, Any]) -> str:
    """' (auto: ...)' when the threshold is the backend's shipped default, '' for a number given by hand."""
    from grounding_node.models.family import parse_threshold

    setting = r.get("threshold_setting")
    if setting is None:   # evaluate_dataset called from code: the caller knows where its number came from
        return ""
    return " (auto: the backend's shipped default)" if parse_threshold(setting) is None else " (--threshold)"


def format_summary(r: Dict[str, Any]) -> str:
    """The CLI's printed summary: the headline and by-type figures as aligned text."""
    lines = [f"{r['dataset']}: {r['n_images']} images ({r['n_unannotated']} unannotated skipped), "
             f"{r['n_phrases']} phrases ({r['n_negatives']} negatives); backend {r['backend']}, "
             f"score threshold {r['threshold']:g}{_threshold_origin(r)}"]
    lines += [f"  {a:<30} {b:>16}  {c}" for a, b, c in headline_rows(r)]
    for t, n, acc, nn, rej in type_rows(r):
        lines.append(f"  type {t:<25} Acc@0.5 {acc} (n {n}), rejection {rej} (n {nn})")
    lines += [f"  error on {e['image']}: {e['error']}" for e in r["errors"]]
    return "\n".join(lines)


def write_json(result: Dict[str, Any], path: Path) -> Path:
    """Strict JSON (no NaN literals: undefined figures are null)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- report
def _badness(p: Dict[str, Any]) -> float:
    """How wrong a phrase went, 0..1, comparable across kinds: 1 - IoU for a phrase with a referent, the top
    box's score for a negative (a confident false positive is worse than a timid one)."""
    if p["gt"]:
        return 1.0 - float(p["iou"] or 0.0)
    return float(p["score"] or 0.0)


def worst_phrases(result: Dict[str, Any], n: int) -> List[Dict[str, Any]]:
    """The `n` worst graded phrases: failures first, then by badness. Phrases lost to a backend error are
    left out (they have no prediction to show; the errors have their own section)."""
    graded = [p for p in result["phrases"] if p["error"] is None]
    graded.sort(key=lambda p: (p["ok"], -_badness(p)))
    return graded[: max(0, n)]


def _grade(p: Dict[str, Any]) -> str:
    score = "no box above the threshold" if p["score"] is None else f"score {p['score']:.2f}"
    iou = "negative" if not p["gt"] else f"IoU {p['iou']:.2f}"
    return f"{iou} | {score}"


def _label(p: Dict[str, Any]) -> str:
    return f"{p['phrase']} | {_grade(p)}"


def draw_example(rgb: np.ndarray, gt_1024: Sequence[Sequence[float]], pred_1024: Optional[Sequence[float]],
                 label: str) -> np.ndarray:
    """The image (downscaled to REPORT_MAX_SIDE) with GT boxes in green, the top prediction in red and the
    label on a banner above it, so the text never hides what it describes."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, REPORT_MAX_SIDE / max(h, w))
    img = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA) \
        if s < 1.0 else rgb.copy()
    ih, iw = img.shape[:2]
    thick = max(2, round(min(ih, iw) / 200))
    boxes = [(b, GT_COLOUR) for b in gt_1024] + ([(pred_1024, PRED_COLOUR)] if pred_1024 is not None else [])
    for box, colour in boxes:
        x0, y0, x1, y1 = (int(round(v)) for v in box1024_to_pixels(box, iw, ih))
        cv2.rectangle(img, (x0, y0), (x1, y1), colour, thick)
    text = label.encode("ascii", "replace").decode("ascii")   # Hershey fonts draw ASCII only
    banner = np.zeros((26, iw, 3), np.uint8)
    cv2.putText(banner, text[:160], (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([banner, img], axis=0)


def _draw_worst(worst: Sequence[Dict[str, Any]], path: Path, root: Path) -> List[Tuple[Dict[str, Any], str]]:
    """Each worst phrase drawn as `<report stem>_worst_NN.png` next to the report; -> (phrase, file name or
    '' when the image could not be read). Earlier runs' PNGs of this report are removed first."""
    from grounding_node.data.writer import write_rgb_png

    for old in path.parent.glob(f"{path.stem}_worst_*.png"):
        old.unlink()
    out = []
    for k, p in enumerate(worst, start=1):
        name = f"{path.stem}_worst_{k:02d}.png"
        try:
            rgb = read_rgb(Path(root) / p["image"])
        except OSError:
            out.append((p, ""))
            continue
        write_rgb_png(path.parent / name, draw_example(rgb, p["gt"], p["pred"], _label(p)))
        out.append((p, name))
    return out


Block = Tuple[str, Any]


def report_blocks(result: Dict[str, Any], drawn: Sequence[Tuple[Dict[str, Any], str]]) -> List[Block]:
    """The report as neutral blocks (heading, paragraph, table, image) rendered to Markdown or HTML."""
    r = result
    blocks: List[Block] = [
        ("h1", f"Evaluation of {r['backend']} on {r['dataset']}"),
        ("p", f"{r['n_images']} annotated images ({r['n_unannotated']} unannotated skipped), {r['n_phrases']} "
              f"phrases ({r['n_negatives']} negatives), score threshold {r['threshold']:g}. Acc@0.5: the top box "
              "(highest score above the threshold) has IoU >= 0.5 with a ground-truth box; precision/recall/F1: "
              "every box above the threshold, one-to-one matches at IoU 0.5."),
        ("table", (["figure", "n", "value"], headline_rows(r))),
    ]
    if r["by_type"]:
        blocks += [("h2", "By type"), ("table", (["type", "n", "Acc@0.5", "negatives", "rejection"], type_rows(r)))]
    blocks += [("h2", "IoU of the top box (phrases with a referent; no box = 0)"),
               ("table", (["IoU", "phrases", ""], hist_rows(r)))]
    if r["errors"]:
        blocks += [("h2", f"Backend errors ({r['n_errors']} images)"),
                   ("table", (["image", "error"], [[e["image"], e["error"]] for e in r["errors"]]))]
    if drawn:
        blocks.append(("h2", "Worst examples (ground truth green, top prediction red)"))
        for p, name in drawn:
            blocks.append(("p", f"`{p['image']}`: \"{p['phrase']}\" ({p['type'] or 'untyped'}): {_grade(p)}"))
            if name:
                blocks.append(("img", name))
    return blocks


def _md_cell(v: str) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(blocks: Sequence[Block]) -> str:
    out: List[str] = []
    for kind, v in blocks:
        if kind in ("h1", "h2"):
            out.append(("# " if kind == "h1" else "## ") + v)
        elif kind == "p":
            out.append(v)
        elif kind == "img":
            out.append(f"![{v}]({v})")
        else:
            head, rows = v
            out.append("\n".join(["| " + " | ".join(_md_cell(c) for c in row) + " |"
                                  for row in [head, ["---"] * len(head), *rows]]))
    return "\n\n".join(out) + "\n"


def to_html(blocks: Sequence[Block]) -> str:
    e = html.escape
    out = ["<!doctype html><meta charset=\"utf-8\"><title>evaluation</title>",
           "<style>table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px}</style>"]
    for kind, v in blocks:
        if kind in ("h1", "h2"):
            out.append(f"<{kind}>{e(v)}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{e(v)}</p>")
        elif kind == "img":
            out.append(f"<p><img src=\"{e(v)}\" alt=\"{e(v)}\"></p>")
        else:
            head, rows = v
            cells = "".join(f"<th>{e(str(c))}</th>" for c in head)
            body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
            out.append(f"<table><tr>{cells}</tr>{body}</table>")
    return "\n".join(out) + "\n"


def write_report(result: Dict[str, Any], path: Path, root: Path, worst: int = 12) -> Path:
    """Write the report at `path` (HTML for a .html/.htm suffix, else Markdown) with the `worst` phrases drawn
    as PNGs next to it (images read from the dataset folder `root`). Returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    drawn = _draw_worst(worst_phrases(result, worst), path, Path(root))
    blocks = report_blocks(result, drawn)
    is_html = path.suffix.lower() in (".html", ".htm")
    path.write_text(to_html(blocks) if is_html else to_markdown(blocks), encoding="utf-8")
    return path


# ---------------------------------------------------------------- command line (called by eval.main)
def load_or_report(root: Path, skip_invalid: bool) -> Optional[List[Sample]]:
    """The dataset's samples, or None after printing every problem to stderr (the caller exits 2). With
    `skip_invalid` bad records are still printed, counted and left out."""
    from grounding_node.data.validate import DatasetError, check_dataset

    try:
        checked = check_dataset(root)
    except DatasetError as exc:
        print("\n".join(exc.errors), file=sys.stderr)
        return None
    for msg in checked.errors:
        print(msg, file=sys.stderr)
    if checked.bad and not skip_invalid:
        print(f"{len(checked.bad)} invalid record(s) in {checked.root} (fix them, or pass --skip-invalid "
              "to evaluate the others)", file=sys.stderr)
        return None
    if checked.bad:
        print(f"skipped {len(checked.bad)} invalid record(s)", file=sys.stderr)
    if not any(s.annotated for s in checked.samples):
        print(f"{checked.root}: no annotated image to evaluate", file=sys.stderr)
        return None
    return checked.samples


def run(backend, root: Path, samples: Sequence[Sample], threshold: float, threshold_setting: str,
        report: Optional[Path] = None, json_path: Optional[Path] = None, worst: int = 12,
        progress: bool = True) -> Dict[str, Any]:
    """Evaluate, print the summary, write the optional report and JSON; returns the figures."""
    result = evaluate_dataset(backend, root, samples, threshold, progress=progress)
    result["threshold_setting"] = str(threshold_setting)
    print(format_summary(result))
    if json_path is not None:
        print(f"figures written to {write_json(result, json_path)}")
    if report is not None:
        print(f"report written to {write_report(result, report, root, worst)}")
    return result


__all__ = ["PhraseOutcome", "evaluate_dataset", "format_summary", "load_or_report", "run", "write_json",
           "write_report"]
