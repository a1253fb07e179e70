"""The fine-tuning learning curve: how many phrase-box pairs a new set-up needs.

    python bench/finetune_curve.py                 # ~30 min on 2 cores; writes docs/finetune.md + a plot
    python bench/finetune_curve.py --sizes 50 100  # a part of it

The set-up is the simulator's "wrist" camera (top-down at 0.3-0.5 m, 848x480, 2-6 objects, eggs and
bottles: object kinds and names the shipped model never saw). For each size N it captures N pairs in the
canonical format (`grounding_node.sim.capture`; the sets nest: the 100-pair set holds the 50), runs
`python -m grounding_node.finetune --backend tabletop` on it exactly as a user would (the same defaults, its
own 15 % validation split), and grades the result with `python -m grounding_node.eval --data`'s code on
held-out frames of the set-up (other seeds), at the shipped threshold. It also grades every model on the
original scenes (the model card's in-distribution split) to show what fine-tuning costs there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TRAIN_SEED0, TEST_SEED0 = 3_000_000, 3_500_000
SIZE = (848, 480)
DOC = REPO / "docs" / "finetune.md"
PLOT = REPO / "docs" / "bench" / "finetune_curve.png"
GOALS = {"acc500": 0.90, "minutes500": 20.0, "original_drop": 0.03}


def original_accuracy(model: str, scenes: int) -> float:
    """Acc@0.5 on the model card's in-distribution split (first `scenes` seeds), at the shipped threshold."""
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.family import resolve_threshold
    from grounding_node.models.registry import create_backend
    from grounding_node.training.eval import EVAL_SEED0, IN_SIZES, evaluate_split

    backend = create_backend("tabletop", BackendConfig(model=model, device="cpu"))
    r = evaluate_split(backend, range(EVAL_SEED0, EVAL_SEED0 + scenes), "train", IN_SIZES, "train",
                       resolve_threshold("auto", backend), progress=False)
    return float(r["all"]["acc_overall"])


def held_out(model: str, test_dir: Path) -> dict:
    from grounding_node.data.validate import load_dataset
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.family import resolve_threshold
    from grounding_node.models.registry import create_backend
    from grounding_node.training.dataset_eval import evaluate_dataset

    backend = create_backend("tabletop", BackendConfig(model=model, device="cpu"))
    return evaluate_dataset(backend, test_dir, load_dataset(test_dir), resolve_threshold("auto", backend))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[50, 100, 200, 500])
    ap.add_argument("--work", type=Path, default=REPO / "bench" / "out" / "finetune_curve")
    ap.add_argument("--test-scenes", type=int, default=100)
    ap.add_argument("--original-scenes", type=int, default=100)
    args = ap.parse_args(argv)

    import torch

    from grounding_node.finetune.cli import build_parser, config_from_args, run
    from grounding_node.sim.capture import render_dataset

    torch.set_num_threads(2)
    args.work.mkdir(parents=True, exist_ok=True)
    test_dir = args.work / "test"
    if not (test_dir / "annotations.jsonl").exists():
        render_dataset(test_dir, "wrist", SIZE, range(TEST_SEED0, TEST_SEED0 + args.test_scenes), progress=False)
    # measured every run, never cached: the figures change with the checkpoint and with the preprocessing
    # (a cached file outlived both once)
    rows = [{"pairs": 0, "images": 0, "minutes": 0.0, "test": held_out("", test_dir),
             "original": original_accuracy("", args.original_scenes)}]
    base = rows[0]["test"]
    print(f"shipped model: held-out Acc@0.5 {base['acc50']:.3f}, original {rows[0]['original']:.3f}", flush=True)
    for n in args.sizes:
        data = args.work / f"train_{n}"
        if not (data / "annotations.jsonl").exists():
            render_dataset(data, "wrist", SIZE, range(TRAIN_SEED0, TRAIN_SEED0 + 10 * n), max_pairs=n,
                           progress=False)
        out = args.work / f"model_{n}"
        if out.exists():
            import shutil

            shutil.rmtree(out)     # a fresh run, not a resume of an older one
        cfg = config_from_args(build_parser().parse_args(
            ["--backend", "tabletop", "--data", str(data), "--out", str(out), "--no-progress"]))
        t0 = time.time()
        res = run(cfg)
        minutes = (time.time() - t0) / 60
        images = sum(1 for _ in open(data / "annotations.jsonl"))
        test = held_out(str(out), test_dir)
        orig = original_accuracy(str(out), args.original_scenes)
        rows.append({"pairs": n, "images": images, "minutes": minutes, "test": test, "original": orig,
                     "best_epoch": res["state"].best_epoch, "epochs": res["state"].epoch})
        print(f"{n} pairs ({images} images): held-out Acc@0.5 {test['acc50']:.3f}, original {orig:.3f}, "
              f"{minutes:.1f} min", flush=True)
    (args.work / "results.json").write_text(json.dumps(rows, indent=1, default=lambda o: None))
    write_doc(rows)
    plot(rows)
    return 0


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def write_doc(rows) -> None:
    base = rows[0]
    types = sorted({t for r in rows for t in (r["test"].get("by_type") or {})})
    lines = [
        "# Fine-tuning: the learning curve of a new set-up",
        "",
        "<!-- Generated by bench/finetune_curve.py: edit the script, not this file. -->",
        "",
        "The set-up: the simulator's `wrist` camera, looking straight down from 0.3-0.5 m at 848x480, 2-6 objects,",
        "among them **eggs and bottles**, object kinds and names the shipped model was never trained on (its",
        "vocabulary has no word for them). For each size, N phrase-box pairs were captured in the canonical format",
        "(`python -m grounding_node.sim.capture --camera wrist --pairs N`), the shipped `tabletop` model was",
        "fine-tuned with `python -m grounding_node.finetune --backend tabletop --data ... --out ...` at its",
        "defaults, and the result graded with `python -m grounding_node.eval --data` on "
        f"{base['test']['n_images']} held-out frames of the set-up ({base['test']['n_phrases']} phrases, other "
        "seeds; each with its depth and camera_info, as the node grounds it), at the shipped threshold. "
        "'Original' is Acc@0.5 on the model card's in-distribution scenes.",
        "",
        "| pairs | images | held-out Acc@0.5 | F1@0.5 | no-referent rejection | original Acc@0.5 | fine-tuning |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        t = r["test"]
        label = "0 (shipped model)" if r["pairs"] == 0 else str(r["pairs"])
        minutes = "-" if r["pairs"] == 0 else f"{r['minutes']:.1f} min"
        lines.append(f"| {label} | {r['images']} | {_pct(t['acc50'])} | {_pct(t['f1_50'])} | "
                     f"{_pct(t['no_ref_rejection'])} | {_pct(r['original'])} | {minutes} |")
    lines += ["", "By expression type (held-out Acc@0.5):", "",
              "| pairs | " + " | ".join(types) + " |", "|---|" + "---|" * len(types)]
    for r in rows:
        bt = r["test"].get("by_type") or {}
        cells = [_pct(bt[t]["acc50"]) if t in bt and t != "no_referent" else
                 _pct(bt[t].get("no_ref_rejection")) if t in bt else "-" for t in types]
        lines.append(f"| {r['pairs']} | " + " | ".join(cells) + " |")
    last = rows[-1]
    verdict = lambda ok: "met" if ok else "missed"  # noqa: E731
    if last["pairs"] == 500:
        drop = base["original"] - last["original"]
        lines += ["", "| goal | target | measured | verdict |", "|---|---|---|---|",
                  f"| held-out Acc@0.5 at 500 pairs | >= 90% | {_pct(last['test']['acc50'])} | "
                  f"{verdict(last['test']['acc50'] >= GOALS['acc500'])} |",
                  f"| fine-tuning time at 500 pairs, 2 cores | <= 20 min | {last['minutes']:.1f} min | "
                  f"{verdict(last['minutes'] <= GOALS['minutes500'])} |",
                  f"| original scenes, change | within 3 points | {-100 * drop:+.1f} points | "
                  f"{verdict(abs(drop) <= GOALS['original_drop'])} |"]
    lines += ["", f"![learning curve](bench/{PLOT.name})", "",
              "no-referent column under the types: rejection of phrases naming nothing in the frame.", ""]
    DOC.write_text("\n".join(lines))


def plot(rows) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [max(r["pairs"], 10) for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, [100 * r["test"]["acc50"] for r in rows], "o-", label="wrist set-up, held out")
    ax.plot(xs, [100 * r["original"] for r in rows], "s--", label="original scenes")
    ax.axhline(90, color="grey", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xticks(xs)
    ax.set_xticklabels(["shipped"] + [str(r["pairs"]) for r in rows[1:]])
    ax.set_xlabel("phrase-box pairs fine-tuned on")
    ax.set_ylabel("Acc@0.5 (%)")
    ax.legend()
    ax.grid(alpha=0.3)
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
