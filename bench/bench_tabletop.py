"""Latency of the tabletop model on CPU (2 threads) at 640x480: 1, 2, 4, 8, 16 phrases per frame.

    source scripts/env.sh && python bench/bench_tabletop.py [--device cuda]

Goals (issue 3): one phrase <= 25 ms; 8 phrases <= 2x one phrase. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from common import fmt, machine, save_results, summary, table, time_ms, write_section  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--model", default="")
    args = ap.parse_args(argv)
    import numpy as np
    import torch

    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend
    from grounding_node.sim.expressions import TYPES, generate
    from grounding_node.sim.scene import TabletopSim

    torch.set_num_threads(args.threads)
    import time

    t0 = time.perf_counter()
    backend = create_backend("tabletop", BackendConfig(model=args.model, device=args.device))
    load_s = time.perf_counter() - t0
    with TabletopSim(640, 480) as sim:
        scene = sim.new_scene(4_000_000)
    rng = np.random.default_rng(0)
    pool = [e.text for _ in range(4) for t in TYPES for e in [generate(scene, rng, t)] if e]
    rows, med = [], {}
    for n in (1, 2, 4, 8, 16):
        phrases = pool[:n]
        values = time_ms(lambda p=phrases: backend.ground(scene.rgb, p), args.repeats)
        med[n] = summary(values)["median"]
        rows.append((str(n), fmt(values, 1), f"{med[n] / med[1]:.2f}x"))
    ckpt = Path(backend.path)
    checks = [
        ("one phrase (ms)", "<= 25", f"{med[1]:.1f}", "met" if med[1] <= 25 else "missed"),
        ("8 phrases / 1 phrase", "<= 2.0x", f"{med[8] / med[1]:.2f}x", "met" if med[8] <= 2 * med[1] else "missed"),
        ("checkpoint size (MB)", "<= 20", f"{ckpt.stat().st_size / 2**20:.2f}",
         "met" if ckpt.stat().st_size <= 20 * 2**20 else "missed"),
        ("checkpoint load time (s, torch already imported)", "< 2", f"{load_s:.2f}", "met" if load_s < 2 else "missed"),
    ]
    text = "\n".join([
        "## Tabletop model latency (`bench/bench_tabletop.py`)", "",
        f"Machine: {machine()}; device {args.device}, {args.threads} torch threads; 640x480 input (resized to "
        f"the network's 320x240 inside the backend); median (min-max) of {args.repeats} runs.", "",
        table(["phrases", "ground() ms", "vs 1 phrase"], rows), "",
        table(["figure", "goal", "measured", "verdict"], checks), ""])
    print(text)
    write_section("bench_tabletop", text)
    save_results("bench_tabletop", {"median_ms": {str(n): v for n, v in med.items()}, "device": args.device,
                                    "threads": args.threads, "load_s": load_s})
    return 0


if __name__ == "__main__":
    sys.exit(main())
