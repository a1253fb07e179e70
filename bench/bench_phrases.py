"""Scaling with phrases per command: 1, 2, 4, 8, 16 phrases on one 640x480 frame, per backend.

    source scripts/env.sh && python bench/bench_phrases.py [--backend florence2 --model /opt/models/... --device cuda]

Default: the default `tabletop` model (goal: 8 phrases <= 2.0x one phrase) and tiny random-weight
transformers checkpoints built offline (Florence-2: one prompt per phrase, batched in one generate;
Grounding DINO: one caption for all phrases). Tiny checkpoints measure the backends' own scaling
(batching, prompt length), not a real model's speed; on a GPU robot pass a real `--model`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "test"), str(REPO / "bench")]

from common import fmt, machine, summary, table, time_ms, write_section  # noqa: E402

COUNTS = (1, 2, 4, 8, 16)


def phrase_pool():
    import numpy as np

    from grounding_node.sim.expressions import TYPES, generate
    from grounding_node.sim.scene import TabletopSim

    with TabletopSim(640, 480) as sim:
        scene = sim.new_scene(4_000_000)
    rng = np.random.default_rng(0)
    pool = [e.text for _ in range(4) for t in TYPES for e in [generate(scene, rng, t)] if e]
    return scene.rgb, pool


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", action="append", default=None, help="backend name (repeatable); default: see above")
    ap.add_argument("--model", action="append", default=None, help="model per --backend (same order)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args(argv)
    import torch

    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    torch.set_num_threads(2)
    rgb, pool = phrase_pool()
    tmp = tempfile.TemporaryDirectory()
    if args.backend:
        runs = [(b, m, f"{b} {m}") for b, m in zip(args.backend, args.model or [""] * len(args.backend))]
    else:
        from tiny_models import florence2, grounding_dino

        florence2.build(f"{tmp.name}/florence2")
        grounding_dino.build(f"{tmp.name}/gdino")
        runs = [("tabletop", "", "tabletop (default model)"),
                ("florence2", f"{tmp.name}/florence2", "florence2 (tiny random checkpoint)"),
                ("grounding_dino", f"{tmp.name}/gdino", "grounding_dino (tiny random checkpoint)")]
    rows, checks = [], []
    for name, model, label in runs:
        extra = {"max_new_tokens": 16} if name in ("florence2", "paligemma", "qwen_vl", "kosmos2") else {}
        backend = create_backend(name, BackendConfig(model=model, device=args.device, extra=extra))
        med = {}
        cells = []
        for n in COUNTS:
            phrases = (pool * 4)[:n]
            values = time_ms(lambda b=backend, p=phrases: b.ground(rgb, p), args.repeats, warmup=2)
            med[n] = summary(values)["median"]
            cells.append(f"{fmt(values, 1)} ({med[n] / med[1]:.2f}x)")
        rows.append([label] + cells)
        if name == "tabletop":
            ratio = med[8] / med[1]
            checks.append(("tabletop: 8 phrases / 1 phrase", "<= 2.0x", f"{ratio:.2f}x",
                           "met" if ratio <= 2.0 else "missed"))
        backend.close()
    tmp.cleanup()
    text = "\n".join([
        "## Scaling with phrases per command (`bench/bench_phrases.py`)", "",
        f"Machine: {machine()}; device {args.device}, 2 torch threads; one 640x480 frame; ground() ms, "
        f"median (min-max) of {args.repeats} runs, and the ratio to one phrase. Tiny checkpoints show how a "
        "backend's work grows with phrases (batching), not a real model's speed.", "",
        table(["backend"] + [f"{n} phrase{'s' if n > 1 else ''}" for n in COUNTS], rows), "",
        table(["figure", "goal", "measured", "verdict"], checks), ""])
    print(text)
    write_section("bench_phrases", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
