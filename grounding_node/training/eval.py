"""Evaluate a grounding backend on held-out simulated scenes and write the table into the model card.

    python -m grounding_node.eval [--scenes 200] [--backend tabletop] [--model PATH] [--no-card]

Held-out scenes use seeds from 1_000_000 on (training uses 0..n-1). Scenes are rendered at 640x480, the
camera's resolution, and every figure goes through the same pipeline as the node (backend -> score
threshold -> geometry with the rendered 16UC1 depth and K):
- Acc@0.5: the top box's IoU with a target's box >= 0.5, per expression type (no_referent excluded);
- plural recall/precision: boxes scoring >= threshold matched one-to-one to targets at IoU 0.5;
- no-referent rejection: nothing scores >= threshold;
- 3D hit: for each correct top box, its 3D position lies inside the target's true 3D box.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

from grounding_node.geometry.box3d import inside_box
from grounding_node.geometry.boxes import box_iou
from grounding_node.geometry.camera import Intrinsics
from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundingSettings
from grounding_node.sim.expressions import TYPES, generate

CARD = Path(__file__).resolve().parents[2] / "docs" / "models" / "tabletop.md"
EVAL_SEED0 = 1_000_000
TARGETS = {"acc_overall": 0.95, "acc_type": 0.90, "plural_recall": 0.95, "no_ref_rejection": 0.90, "hit3d": 0.95}


def _match(pred: np.ndarray, gt: np.ndarray) -> int:
    """Greedy one-to-one matches at IoU >= 0.5."""
    if len(pred) == 0 or len(gt) == 0:
        return 0
    iou = box_iou(pred, gt)
    n = 0
    while True:
        i, j = np.unravel_index(np.argmax(iou), iou.shape)
        if iou[i, j] < 0.5:
            return n
        n += 1
        iou[i, :] = -1
        iou[:, j] = -1


def evaluate(backend, n_scenes: int = 200, threshold: float = 0.3, width: int = 640, height: int = 480,
             per_type: int = 1, progress: bool = True) -> Dict:
    from tqdm import tqdm

    from grounding_node.sim.scene import TabletopSim

    settings = GroundingSettings(score_threshold=0.0, max_objects_per_phrase=10)
    hits: Dict[str, List[bool]] = defaultdict(list)
    plural_tp = plural_pred = plural_gt = 0
    rejections: List[bool] = []
    hit3d: List[bool] = []
    latency: List[float] = []
    with TabletopSim(width, height) as sim:
        for k in tqdm(range(n_scenes), desc="eval", disable=not progress):
            seed = EVAL_SEED0 + k
            scene = sim.new_scene(seed)
            rng = np.random.default_rng(seed)
            exprs = [e for t in TYPES for _ in range(per_type) for e in [generate(scene, rng, t)] if e is not None]
            frame = Frame(rgb=scene.rgb, depth=scene.depth_16uc1(), depth_encoding="16UC1",
                          intrinsics=Intrinsics.from_K(scene.K, width, height), stamp_ns=seed)
            result = ground_frame(backend, frame, [e.text for e in exprs], settings)
            latency.append(result.inference_ms)
            groups = result.by_phrase()
            for expr, objs in zip(exprs, groups):
                above = [o for o in objs if o.score >= threshold]
                if expr.type == "no_referent":
                    rejections.append(not above)
                    continue
                gt = np.stack([scene.objects[i].box_1024 for i in expr.targets])
                if expr.type == "plural":
                    pred = np.stack([o.box_1024 for o in above]) if above else np.zeros((0, 4))
                    m = _match(pred, gt)
                    plural_tp += m
                    plural_pred += len(pred)
                    plural_gt += len(gt)
                if not objs:
                    hits[expr.type].append(False)
                    continue
                top = objs[0]
                iou = box_iou(top.box_1024[None], gt)[0]
                ok = bool(iou.max() >= 0.5)
                hits[expr.type].append(ok)
                if ok:
                    target = scene.objects[expr.targets[int(np.argmax(iou))]]
                    hit3d.append(bool(top.has_position and inside_box(top.position, target.corners_cam)))
    per_type = {t: float(np.mean(v)) for t, v in hits.items()}
    overall = float(np.mean([x for v in hits.values() for x in v]))
    return {
        "n_scenes": n_scenes, "threshold": threshold,
        "acc": per_type, "n": {t: len(v) for t, v in hits.items()}, "acc_overall": overall,
        "plural_recall": plural_tp / max(1, plural_gt), "plural_precision": plural_tp / max(1, plural_pred),
        "no_ref_rejection": float(np.mean(rejections)) if rejections else float("nan"), "n_no_ref": len(rejections),
        "hit3d": float(np.mean(hit3d)) if hit3d else float("nan"), "n_hit3d": len(hit3d),
        "latency_ms_median": float(np.median(latency)),
    }


def format_table(r: Dict) -> str:
    def verdict(value, target):
        return "met" if value >= target else "**missed**"

    lines = [f"Held-out scenes: {r['n_scenes']} (seeds {EVAL_SEED0}..{EVAL_SEED0 + r['n_scenes'] - 1}), 640x480, "
             f"score threshold {r['threshold']}.", "",
             "| figure | n | measured | target | verdict |", "|---|---|---|---|---|"]
    for t in TYPES:
        if t in r["acc"]:
            lines.append(f"| Acc@0.5 {t} | {r['n'][t]} | {100 * r['acc'][t]:.1f}% | >= 90% | "
                         f"{verdict(r['acc'][t], TARGETS['acc_type'])} |")
    n_all = sum(r["n"].values())
    lines += [
        f"| Acc@0.5 overall | {n_all} | {100 * r['acc_overall']:.1f}% | >= 95% | "
        f"{verdict(r['acc_overall'], TARGETS['acc_overall'])} |",
        f"| plural recall | {r['n'].get('plural', 0)} | {100 * r['plural_recall']:.1f}% | >= 95% | "
        f"{verdict(r['plural_recall'], TARGETS['plural_recall'])} |",
        f"| plural precision | {r['n'].get('plural', 0)} | {100 * r['plural_precision']:.1f}% | (reported) | - |",
        f"| no-referent rejection | {r['n_no_ref']} | {100 * r['no_ref_rejection']:.1f}% | >= 90% | "
        f"{verdict(r['no_ref_rejection'], TARGETS['no_ref_rejection'])} |",
        f"| 3D hit (correct top boxes) | {r['n_hit3d']} | {100 * r['hit3d']:.1f}% | >= 95% | "
        f"{verdict(r['hit3d'], TARGETS['hit3d'])} |",
        f"| inference per frame (all 7 phrases, median) | {r['n_scenes']} | {r['latency_ms_median']:.1f} ms | "
        f"(see bench) | - |",
    ]
    return "\n".join(lines)


def write_card(table: str, path: Path = CARD) -> None:
    text = path.read_text() if path.exists() else "# tabletop model card\n\n<!-- eval:begin -->\n<!-- eval:end -->\n"
    block = f"<!-- eval:begin -->\n{table}\n<!-- eval:end -->"
    text = re.sub(r"<!-- eval:begin -->.*?<!-- eval:end -->", lambda _: block, text, flags=re.S)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", type=int, default=200)
    ap.add_argument("--backend", default="tabletop")
    ap.add_argument("--model", default="")
    ap.add_argument("--threshold", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-card", action="store_true")
    args = ap.parse_args(argv)
    import torch

    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    torch.set_num_threads(args.threads)
    backend = create_backend(args.backend, BackendConfig(model=args.model, device="cpu"))
    t0 = time.time()
    result = evaluate(backend, args.scenes, args.threshold)
    table = format_table(result)
    print(table)
    print(f"({time.time() - t0:.0f} s)")
    if not args.no_card:
        write_card(table)
        print(f"written to {CARD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
