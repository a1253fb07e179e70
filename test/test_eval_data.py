"""`python -m grounding_node.eval --data DIR`: the figures on a dataset in the canonical format.

A scripted backend answers known boxes, so every figure has a value computed here by hand (the comments show
the arithmetic). The tabletop run renders a tiny dataset with the sim and is checked against `score_scene` on
the same scenes: the two evaluations must agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np
import pytest

from grounding_node.data import Grounding, load_dataset, write_sample
from grounding_node.models.base import BackendConfig, Detection, GroundingBackend
from grounding_node.models.registry import create_backend, resolve_backend_class
from grounding_node.training.dataset_eval import evaluate_dataset, write_report

SCRIPTED = "test_eval_data:ScriptedBackend"
GREEN, RED = (0, 200, 0), (230, 0, 0)   # the report's GT and prediction colours (RGB)


class ScriptedBackend(GroundingBackend):
    """Answers from a script, keyed by the image's red value at pixel (0, 0) (its index in the test set):
    {"images": {"0": {phrase: [[box, score], ...]}, "2": "raise"}, "default_threshold": 0.45}. The script
    comes from `config.extra["script"]` or the JSON file named by `config.model` (the CLI's --model)."""

    name = "test_scripted"

    def load(self) -> None:
        self.script = self.config.extra.get("script") or json.loads(Path(self.config.model).read_text())
        self.calls = 0

    @property
    def default_score_threshold(self) -> float:
        return float(self.script.get("default_threshold", 0.3))

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        self.calls += 1
        time.sleep(0.002)
        entry = self.script["images"][str(int(rgb[0, 0, 0]))]
        if entry == "raise":
            raise RuntimeError(f"scripted failure on image {int(rgb[0, 0, 0])}")
        return [[Detection(tuple(b), float(s)) for b, s in entry.get(p, [])] for p in phrases]


def _image(index: int, w: int = 128, h: int = 96) -> np.ndarray:
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[..., 0] = index      # the scripted backend's key; near black, so drawn boxes stand out
    return rgb


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Plain-Python IoU, independent of geometry.boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


# Ground truth (boxes on the 0-1024 grid) and the scripted answers at threshold 0.3.
DATASET = [
    [Grounding("red cup", [[100, 100, 300, 300]], "attribute"),
     Grounding("cups", [[0, 0, 100, 100], [200, 200, 400, 400]], "plural"),
     Grounding("blue ball", [], "negation")],
    [Grounding("the mug left of the plate", [[500, 500, 700, 700]], "relation"),
     Grounding("green block", [[10, 10, 50, 50]]),
     Grounding("the yellow duck", [], "negation"),
     Grounding("small cube", [[800, 800, 900, 900]], "attribute")],
    [Grounding("red cup", [[100, 100, 300, 300]], "attribute"),
     Grounding("purple thing", [])],
    [],   # not annotated yet: skipped
]
SCRIPT = {"images": {
    "0": {"red cup": [[[100, 100, 300, 300], 0.9]],                                # exact: IoU 1, tp 1
          "cups": [[[0, 0, 100, 100], 0.8], [[200, 200, 400, 380], 0.7],          # top IoU 1; 2 tp
                   [[0, 0, 100, 100], 0.5]],                                      # + a duplicate: fp
          "blue ball": [[[10, 10, 20, 20], 0.2]]},                                # under 0.3: rejected
    "1": {"the mug left of the plate": [[[500, 500, 700, 700], 0.35],             # right box, lower score,
                                        [[600, 500, 800, 700], 0.6]],             # listed first: top IoU 1/3
          "green block": [[[10, 10, 50, 50], 0.1]],                               # under 0.3: no box, IoU 0
          "the yellow duck": [[[0, 0, 50, 50], 0.4]],                             # a false positive
          "small cube": [[[800, 800, 900, 885], 0.5]]},                           # IoU 0.85
    "2": "raise",
    "3": {}}}


@pytest.fixture
def dataset(tmp_path) -> Path:
    root = tmp_path / "ds"
    for k, groundings in enumerate(DATASET):
        write_sample(root, _image(k), groundings=groundings, name=f"{k:04d}")
    return root


def _evaluate(root: Path, threshold: float = 0.3) -> Dict:
    backend = create_backend(SCRIPTED, BackendConfig(extra={"script": SCRIPT}))
    result = evaluate_dataset(backend, root, load_dataset(root), threshold)
    assert backend.calls == 3          # one call per annotated image, all its phrases at once
    return result


def test_per_phrase_outcomes(dataset):
    r = _evaluate(dataset)
    by = {(p["image"], p["phrase"]): p for p in r["phrases"]}
    assert len(by) == 9
    rel = by[("images/0001.png", "the mug left of the plate")]
    assert rel["pred"] == [600, 500, 800, 700] and rel["score"] == pytest.approx(0.6)   # top = highest score
    assert rel["iou"] == pytest.approx(iou([600, 500, 800, 700], [500, 500, 700, 700])) == pytest.approx(1 / 3)
    assert not rel["ok"] and rel["n_pred"] == 2 and rel["tp"] == 1
    cube = by[("images/0001.png", "small cube")]
    assert cube["iou"] == pytest.approx(iou([800, 800, 900, 885], [800, 800, 900, 900])) and cube["ok"]
    block = by[("images/0001.png", "green block")]
    assert block["pred"] is None and block["iou"] == 0.0 and not block["ok"]
    assert by[("images/0000.png", "blue ball")]["ok"] and not by[("images/0001.png", "the yellow duck")]["ok"]
    assert by[("images/0000.png", "cups")]["tp"] == 2 and by[("images/0000.png", "cups")]["n_pred"] == 3
    failed = [p for p in r["phrases"] if p["error"]]
    assert {p["phrase"] for p in failed} == {"red cup", "purple thing"} and not any(p["ok"] for p in failed)
    assert "scripted failure on image 2" in failed[0]["error"]


def test_headline_figures(dataset):
    r = _evaluate(dataset)
    # phrases with a referent, top-box IoU: red cup 1, cups 1, relation 1/3, green block 0 (no box),
    # small cube 0.85, red cup on image 2 0 (backend error) -> hits 3 of 6
    ious = [1.0, 1.0, 1 / 3, 0.0, 0.85, 0.0]
    assert r["acc50"] == pytest.approx(3 / 6)
    # boxes above 0.3: 1 + 3 + 0 | 2 + 0 + 1 + 1 | 0 = 8; GT boxes: 1 + 2 | 1 + 1 + 1 | 1 = 7;
    # one-to-one matches: 1 + 2 | 1 + 0 + 0 + 1 = 5
    assert (r["n_pred_boxes"], r["n_gt_boxes"], r["n_tp"]) == (8, 7, 5)
    assert r["precision_50"] == pytest.approx(5 / 8)
    assert r["recall_50"] == pytest.approx(5 / 7)
    assert r["f1_50"] == pytest.approx(2 * (5 / 8) * (5 / 7) / (5 / 8 + 5 / 7))
    assert r["mean_iou"] == pytest.approx(sum(ious) / 6)
    assert r["iou_median"] == pytest.approx((1 / 3 + 0.85) / 2)
    assert r["iou_p10"] == pytest.approx(0.0)
    assert r["iou_hist"] == [2, 0, 0, 1, 0, 0, 0, 0, 1, 2]
    # negatives: blue ball rejected, the yellow duck answered, purple thing lost to the error
    assert r["no_ref_rejection"] == pytest.approx(1 / 3)
    assert (r["n_images"], r["n_unannotated"], r["n_phrases"], r["n_positives"], r["n_negatives"]) == (3, 1, 9, 6, 3)
    assert (r["n_errors"], r["n_error_phrases"], r["n_no_box"]) == (1, 2, 1)
    assert r["errors"] == [{"image": "images/0002.png", "error": "RuntimeError: scripted failure on image 2"}]
    assert r["latency_ms_median"] >= 2.0 and r["threshold"] == 0.3
    json.dumps(r, allow_nan=False)     # strict JSON: undefined figures are None, never NaN


def test_by_type(dataset):
    r = _evaluate(dataset)
    assert r["by_type"] == {
        "attribute": {"acc50": pytest.approx(2 / 3), "n": 3, "no_ref_rejection": None, "n_negatives": 0},
        "plural": {"acc50": 1.0, "n": 1, "no_ref_rejection": None, "n_negatives": 0},
        "relation": {"acc50": 0.0, "n": 1, "no_ref_rejection": None, "n_negatives": 0},
        "negation": {"acc50": None, "n": 0, "no_ref_rejection": 0.5, "n_negatives": 2},
    }   # the untyped "green block" and "purple thing" count in the overall figures only


def test_threshold_is_applied(dataset):
    r = _evaluate(dataset, threshold=0.55)
    # at 0.55: cups keeps 0.8 and 0.7, relation keeps 0.6, small cube (0.5) and the duck (0.4) drop
    assert r["no_ref_rejection"] == pytest.approx(2 / 3)
    assert r["acc50"] == pytest.approx(2 / 6)   # red cup, cups
    assert (r["n_pred_boxes"], r["n_tp"]) == (1 + 2 + 1, 1 + 2 + 0)


def test_no_negatives_gives_none(tmp_path):
    root = tmp_path / "pos"
    write_sample(root, _image(0), groundings=[Grounding("red cup", [[100, 100, 300, 300]])], name="a")
    backend = create_backend(SCRIPTED, BackendConfig(extra={"script": SCRIPT}))
    r = evaluate_dataset(backend, root, load_dataset(root), 0.3)
    assert r["no_ref_rejection"] is None and r["by_type"] == {} and r["acc50"] == 1.0


def _colour_pixels(path: Path, rgb: tuple) -> int:
    img = cv2.imread(str(path))[:, :, ::-1]
    return int(np.all(img == np.array(rgb, np.uint8), axis=2).sum())


def test_report_markdown_and_drawings(dataset, tmp_path):
    r = _evaluate(dataset)
    path = write_report(r, tmp_path / "out" / "report.md", dataset, worst=3)
    text = path.read_text()
    assert "| Acc@0.5 (top box) | 6 phrases | 50.0% |" in text
    assert "| no-referent rejection | 3 negatives | 33.3% |" in text
    assert "| attribute | 3 | 66.7% | 0 | n/a |" in text
    assert "| 0.9-1.0 | 2 |" in text and "| 0.3-0.4 | 1 |" in text
    assert "images/0002.png" in text and "scripted failure on image 2" in text
    # worst first: green block (IoU 0, no box), the relation (IoU 1/3), the yellow duck (a 0.4 false positive)
    order = [text.index(f'"{p}"') for p in ("green block", "the mug left of the plate", "the yellow duck")]
    assert order == sorted(order)
    pngs = sorted((tmp_path / "out").glob("report_worst_*.png"))
    assert [p.name for p in pngs] == ["report_worst_01.png", "report_worst_02.png", "report_worst_03.png"]
    assert all(f"![{p.name}]({p.name})" in text for p in pngs)
    assert _colour_pixels(pngs[0], GREEN) > 0 and _colour_pixels(pngs[0], RED) == 0    # GT only, no box
    assert _colour_pixels(pngs[1], GREEN) > 0 and _colour_pixels(pngs[1], RED) > 0
    assert _colour_pixels(pngs[2], GREEN) == 0 and _colour_pixels(pngs[2], RED) > 0    # negative: prediction only
    write_report(r, tmp_path / "out" / "report.md", dataset, worst=1)      # a rerun leaves no stale drawings
    assert len(list((tmp_path / "out").glob("report_worst_*.png"))) == 1


def test_report_html(dataset, tmp_path):
    path = write_report(_evaluate(dataset), tmp_path / "r.html", dataset, worst=2)
    text = path.read_text()
    assert text.startswith("<!doctype html>") and "<td>Acc@0.5 (top box)</td>" in text
    assert '<img src="r_worst_01.png"' in text and (tmp_path / "r_worst_02.png").is_file()


# ---------------------------------------------------------------- the command line
def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grounding_node.eval", "--no-progress", *args],
                          capture_output=True, text=True, timeout=timeout)


def _script_file(tmp_path: Path, script: Dict) -> Path:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    return path


def test_cli_threshold_is_auto_unless_given(tmp_path):
    root = tmp_path / "ds"
    write_sample(root, _image(0), groundings=[Grounding("red cup", [[100, 100, 300, 300]])], name="a")
    model = _script_file(tmp_path, {"default_threshold": 0.45,
                                    "images": {"0": {"red cup": [[[100, 100, 300, 300], 0.4]]}}})
    base = ["--backend", SCRIPTED, "--model", str(model), "--data", str(root)]
    auto = _cli(*base, "--json", str(tmp_path / "auto.json"))
    assert auto.returncode == 0, auto.stderr[-3000:]
    r = json.loads((tmp_path / "auto.json").read_text())
    assert r["threshold"] == 0.45 and r["threshold_setting"] == "auto" and r["acc50"] == 0.0   # 0.4 < 0.45
    assert "score threshold 0.45 (auto" in auto.stdout
    given = _cli(*base, "--threshold", "0.3", "--json", str(tmp_path / "given.json"))
    assert given.returncode == 0, given.stderr[-3000:]
    r = json.loads((tmp_path / "given.json").read_text())
    assert r["threshold"] == 0.3 and r["acc50"] == 1.0
    assert "score threshold 0.3 (--threshold)" in given.stdout


def _write_bad(root: Path) -> Path:
    write_sample(root, _image(0), groundings=[Grounding("red cup", [[100, 100, 300, 300]])], name="a")
    ann = root / "annotations.jsonl"
    with ann.open("a") as fh:
        fh.write('{"image": "images/a.png", "width": 128, "height": 96, "groundings": []}\n')
        fh.write('{"image": "images/nope.png", "width": 128, "height": 96, '
                 '"groundings": [{"phrase": "x", "boxes_1024": [[0, 0, 1100, 9]]}]}\n')
        fh.write("{not json\n")
    return ann


def test_cli_bad_dataset_exits_2_naming_file_and_line(tmp_path):
    ann = _write_bad(tmp_path / "ds")
    proc = _cli("--backend", SCRIPTED, "--data", str(ann.parent), timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f'{ann}:2: image "images/a.png" is already listed on line 1' in proc.stderr
    assert f'{ann}:3: image "images/nope.png" not found' in proc.stderr
    assert f"{ann}:3: groundings[0].boxes_1024[0] is outside the 0-1024 grid" in proc.stderr
    assert f"{ann}:4: not valid JSON" in proc.stderr
    missing = _cli("--backend", SCRIPTED, "--data", str(tmp_path / "nowhere"), timeout=120)
    assert missing.returncode == 2 and "annotations.jsonl: not found" in missing.stderr


def test_cli_skip_invalid_evaluates_the_rest(tmp_path):
    ann = _write_bad(tmp_path / "ds")
    model = _script_file(tmp_path, SCRIPT)
    proc = _cli("--backend", SCRIPTED, "--model", str(model), "--data", str(ann.parent), "--skip-invalid",
                "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{ann}:4: not valid JSON" in proc.stderr and "skipped 3 invalid record(s)" in proc.stderr
    r = json.loads((tmp_path / "r.json").read_text())
    assert (r["n_images"], r["n_phrases"], r["acc50"]) == (1, 1, 1.0)


# ---------------------------------------------------------------- end to end with the shipped model
SIM_SEEDS = range(1_000_000, 1_000_003)   # the held-out evaluation seeds (eval.EVAL_SEED0)


def _sim_dataset(root: Path):
    """Three sim scenes as a dataset (every expression type, no-referent as negatives) and the scenes with
    their expressions, for the sim evaluation of the same data."""
    from grounding_node.sim.expressions import TYPES, generate
    from grounding_node.sim.scene import TabletopSim

    out = []
    with TabletopSim(640, 480, camera="train") as sim:
        for seed in SIM_SEEDS:
            scene = sim.new_scene(seed)
            rng = np.random.default_rng(seed)
            exprs = [e for t in TYPES for e in [generate(scene, rng, t)] if e is not None]
            gs = [Grounding(e.text, [] if e.type == "no_referent" else
                            [scene.objects[i].box_1024.tolist() for i in e.targets], e.type) for e in exprs]
            write_sample(root, scene.rgb, groundings=gs, name=str(seed))
            out.append((scene, exprs))
    return out


def test_cli_tabletop_end_to_end_matches_the_sim_eval(tmp_path):
    from grounding_node.grounding.types import GroundingSettings
    from grounding_node.training.eval import Tally, score_scene

    root = tmp_path / "sim_ds"
    scenes = _sim_dataset(root)
    report = tmp_path / "out" / "report.md"
    proc = _cli("--backend", "tabletop", "--data", str(root), "--report", str(report),
                "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads((tmp_path / "r.json").read_text())
    shipped = resolve_backend_class("tabletop").families[0].default_score_threshold
    assert r["threshold"] == shipped and f"score threshold {shipped:g} (auto" in proc.stdout
    n_phrases = sum(len(e) for _, e in scenes)
    n_neg = sum(e.type == "no_referent" for _, ex in scenes for e in ex)
    assert (r["n_images"], r["n_phrases"], r["n_negatives"], r["n_errors"]) == (3, n_phrases, n_neg, 0)
    for key in ("acc50", "precision_50", "recall_50", "f1_50", "mean_iou", "no_ref_rejection"):
        assert 0.0 <= r[key] <= 1.0, key
    assert r["acc50"] >= 0.5 and sum(r["iou_hist"]) == r["n_positives"] and r["latency_ms_median"] > 0
    assert report.is_file() and "Acc@0.5 (top box)" in report.read_text()
    assert len(list(report.parent.glob("report_worst_*.png"))) == min(12, n_phrases)
    assert "Acc@0.5 (top box)" in proc.stdout and f"report written to {report}" in proc.stdout
    # the same scenes through the sim evaluation give the same Acc@0.5 and rejection
    backend = create_backend("tabletop", BackendConfig(device="cpu"))
    tally = Tally()
    settings = GroundingSettings(score_threshold=shipped, max_objects_per_phrase=10)
    for scene, exprs in scenes:
        score_scene(backend, scene, exprs, settings, shipped, [tally])
    sim = tally.result()
    assert r["acc50"] == pytest.approx(sim["acc_overall"])
    assert r["no_ref_rejection"] == pytest.approx(sim["no_ref_rejection"])
    for t, acc in sim["acc"].items():
        assert r["by_type"][t]["acc50"] == pytest.approx(acc), t
