"""Every benchmark in one run: writes docs/benchmarks.md (one section per script, plus a summary of
every goal, met or missed) and the plots in docs/bench/.

    bash scripts/bench.sh [--device cuda] [--backend NAME --model ID_OR_DIR] [--soak-minutes 10]

Each script runs in its own process (rclpy is initialised once per process). `--backend/--model`
add a real model on a GPU robot: the latency breakdown, the phrase scaling and the soak then use it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench")]

from common import DOC, machine, table, write_section  # noqa: E402

GOAL_ROW = re.compile(r"^\| (.+?) \| (.+?) \| (.+?) \| (met|missed) \|$")


def summarise() -> str:
    """Every goal row of every section, in document order, with the section it came from."""
    text = DOC.read_text()
    rows = []
    for section in re.finditer(r"<!-- (\w+):begin -->(.*?)<!-- \1:end -->", text, re.S):
        if section.group(1) == "bench_summary":
            continue
        for line in section.group(2).splitlines():
            m = GOAL_ROW.match(line.strip())
            if m:
                rows.append((m.group(1), m.group(2), m.group(3), f"**{m.group(4)}**", f"`{section.group(1)}.py`"))
    met = sum(r[3] == "**met**" for r in rows)
    return "\n".join([
        "## Summary: every goal", "",
        f"{met} of {len(rows)} goals met. Machine: {machine()}, CPU only. Written by `bench/run_all.py` "
        "from the sections below (each a median with min and max over repeated runs in the same run).", "",
        table(["figure", "goal", "measured", "verdict", "from"], rows), ""])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--backend", default="", help="a real backend for latency/phrases/soak (GPU robots)")
    ap.add_argument("--model", default="")
    ap.add_argument("--soak-minutes", type=float, default=10.0)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and a 1-minute soak (a smoke run)")
    args = ap.parse_args(argv)
    py = [sys.executable, "-u"]
    model_args = (["--backend", args.backend, "--model", args.model] if args.backend else [])
    q = args.quick
    steps = [
        ("node overhead + idle CPU", ["bench/bench_node.py", "--repeats", "50" if q else "300"]),
        ("tabletop model", ["bench/bench_tabletop.py", "--device", "cpu" if args.device == "auto" else args.device,
                            "--repeats", "10" if q else "50"]),
        ("phrases per command", ["bench/bench_phrases.py", "--device", args.device, "--repeats", "5" if q else "20"]
         + (["--backend", "tabletop", "--model", ""] + model_args if args.backend else [])),
        ("ours vs Open3D", ["bench/bench_open3d.py", "--repeats", "20" if q else "100"]),
        ("latency breakdown", ["bench/bench_latency.py", "--device", args.device, "--commands", "20" if q else "60"]
         + model_args),
        ("sim render", ["bench/bench_sim.py"]),
        ("soak", ["bench/bench_soak.py", "--device", args.device, "--minutes", "1" if q else str(args.soak_minutes)]
         + model_args),
    ]
    failures = []
    t_all = time.monotonic()
    for name, cmd in steps:
        t0 = time.monotonic()
        print(f"== {name}: {' '.join(cmd)}", flush=True)
        code = subprocess.call(py + cmd, cwd=REPO)
        print(f"== {name}: exit {code} after {time.monotonic() - t0:.0f} s", flush=True)
        if code != 0:
            failures.append(f"{name} (exit {code})")
    write_section("bench_summary", summarise(), top=True)
    print(f"all benchmarks in {(time.monotonic() - t_all) / 60:.1f} min; docs/benchmarks.md written"
          + (f"; FAILED: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
