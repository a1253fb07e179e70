"""Sim render cost: one new scene (layout, RGB, depth, segmentation, ground truth) at 320x240 and 640x480.

    source scripts/env.sh && python bench/bench_sim.py
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from common import fmt, machine, table, time_ms, write_section  # noqa: E402


def main() -> int:
    from grounding_node.sim.scene import TabletopSim

    rows = []
    for w, h in ((320, 240), (640, 480)):
        with TabletopSim(w, h) as sim:
            seeds = iter(range(10_000_000, 10_001_000))
            values = time_ms(lambda sim=sim, seeds=seeds: sim.new_scene(next(seeds)), repeats=40, warmup=3)
            rows.append((f"{w}x{h}", fmt(values, 1)))
    text = "\n".join(["## Sim render cost (`bench/bench_sim.py`)", "",
                      f"Machine: {machine()}; OSMesa software rendering; one compiled model and one Renderer "
                      "reused; a scene = sampling + RGB + depth + segmentation + ground truth (layouts are "
                      "re-sampled when an object is hidden, which the median absorbs).", "",
                      table(["resolution", "ms per scene, median (min-max)"], rows), ""])
    print(text)
    write_section("bench_sim", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
