"""Every benchmark in one run: writes docs/benchmarks.md (one section per script, a summary of every goal,
met or missed, and "Reading the figures", whose every number comes from the results the benches saved in
bench/out/results/) and the plots in docs/bench/.

    bash scripts/bench.sh [--device cuda] [--backend NAME --model ID_OR_DIR] [--soak-minutes 10] [--quick]
    bash scripts/bench.sh --only bench_node      # one script; the summary and the prose are rewritten

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

from common import DOC, load_results, machine, table, write_section  # noqa: E402

GOAL_ROW = re.compile(r"^\| (.+?) \| (.+?) \| (.+?) \| (met|missed) \|$")


def summarise() -> str:
    """Every goal row of every section, in document order, with the section it came from."""
    text = DOC.read_text()
    rows = []
    for section in re.finditer(r"<!-- (\w+):begin -->(.*?)<!-- \1:end -->", text, re.S):
        if section.group(1) in ("bench_summary", "bench_reading"):
            continue
        for line in section.group(2).splitlines():
            m = GOAL_ROW.match(line.strip())
            if m:
                rows.append((m.group(1), m.group(2), m.group(3), f"**{m.group(4)}**", f"`{section.group(1)}.py`"))
    met = sum(r[3] == "**met**" for r in rows)
    return "\n".join([
        "## Summary: every goal", "",
        f"{met} of {len(rows)} goals met. Machine (detected): {machine()}. Written by `bench/run_all.py` "
        "from the sections below (each figure is from the run that wrote its section; see each section for "
        "whether it is a median with min-max or a median with p95).", "",
        table(["figure", "goal", "measured", "verdict", "from"], rows), ""])


def _f(x, digits=1) -> str:
    return "?" if x is None else f"{x:.{digits}f}"


def reading() -> str:
    """'Reading the figures': the prose, every number in it taken from the results the benches saved
    (bench/out/results/*.json, written together with their sections), none typed by hand."""
    out = ["## Reading the figures", "",
           "Written by `bench/run_all.py` from the figures the benches saved with their sections; a bench that "
           "has not run since the results were saved shows as not measured.", ""]
    node = load_results("bench_node")
    if node and node.get("overhead"):
        o = node["overhead"]
        clock = node["clock"]
        names = node.get("stage_names", {})
        parts = []
        for res, st in o.items():
            if "overhead_ms" in st:
                parts.append(f"{res} {_f(st['overhead_ms']['median'], 2)} ms (p95 {_f(st['overhead_ms']['p95'], 2)})")
        hd = o.get("1280x720", {}).get("overhead_ms")
        verdict = ("meets" if hd and clock.get("system_clock") and hd["median"] <= 3.0 else "misses")
        text = (f"- **Node overhead, measured in the running node, {verdict} the 3 ms goal at 1280x720**: median "
                + ", ".join(parts) + ". It runs from rmw's receipt of the colour image to after the last publish, "
                "minus the model's ground() call (a null backend here).")
        if hd:
            stages = {k: v["median"] for k, v in o["1280x720"].items() if k not in ("overhead_ms", "inference_ms")}
            if stages:
                top = sorted(stages.items(), key=lambda kv: -kv[1])
                text += " At 1280x720 the largest parts are " + "; ".join(
                    f"{names.get(k, k).split(' (')[0]}: {_f(v, 2)} ms" for k, v in top[:3]) + "."
        load = node.get("load", {}).get("1280x720")
        if load:
            text += (f" The 1-minute load average was {_f(load[0], 2)} before and {_f(load[-1], 2)} after the "
                     f"1280x720 run on {node.get('cores', '?')} cores: other work on the machine competes for them.")
        c = clock["callback_minus_received_ms"]
        text += (f" rmw's received_timestamp was checked against time.time_ns(): a callback ran {_f(c['median'], 2)} "
                 f"ms (median) after it, so it is " + ("system-clock nanoseconds." if clock.get("system_clock") else
                                                       "NOT on the system clock: the overhead is invalid."))
        out.append(text)
    else:
        out.append("- Node overhead: not measured (run `bench/bench_node.py`).")
    idle = (node or {}).get("idle") or {}
    if idle.get("default"):
        d, u = idle["default"], idle.get("idle_unsubscribe", {})
        res = list(d)
        verdict = "misses" if any(v["median"] > 3.0 for v in d.values()) else "meets"
        out.append(f"- **Idle CPU with the default settings {verdict} the 3 % goal**: "
                   + ", ".join(f"{_f(d[r]['median'])} % of a core at {r}" for r in res) + ". With no command the "
                   "node only receives image, depth and camera_info and pairs them; the cost is rclpy turning each "
                   "large message into a Python object.")
        if u:
            wake = node.get("wake") or {}
            p, a = wake.get("paused"), wake.get("awake")
            verdict = "meets" if all(v["median"] <= 3.0 for v in u.values()) else "misses"
            text = (f"- **With `idle_unsubscribe_after` > 0 it {verdict} it** ("
                    + ", ".join(f"{_f(u[r]['median'])} % at {r}" for r in u) + "): an idle node drops its sensor "
                    "subscriptions and the next command resubscribes.")
            if p and a:
                text += (f" The first command after idle took {_f(p['median'])} ms median (max {_f(p['max'])}) "
                         f"against {_f(a['median'])} ms (max {_f(a['max'])}) for an awake node: DDS re-matches "
                         "the reader, then the next frame is needed.")
            text += (" The price is that a camera that dies while the node is paused is only noticed at the next "
                     "command (which then gets the \"no camera frame\" error); that is why it is off by default.")
            out.append(text)
    else:
        out.append("- Idle CPU: not measured (run `bench/bench_node.py` without `--only-overhead`).")
    o3d = load_results("bench_open3d")
    if o3d:
        parts = []
        for res, r in o3d.items():
            faster = (f"Open3D {_f(1 / r['ratio'])}x faster" if r["ratio"] < 1 else f"ours {_f(r['ratio'])}x faster")
            parts.append(f"{res}: {faster} (ours {_f(r['ours_ms'], 3)} ms, Open3D {_f(r['open3d_ms'], 3)} ms per box)")
        verdict = "meets" if all(r["ratio"] >= 3 for r in o3d.values()) else "misses"
        err = max(r["max_err_mm"] for r in o3d.values())
        text = (f"- **Ours vs Open3D {verdict} the 3x goal**: " + "; ".join(parts) + f". The points agree within "
                f"{err:.6f} mm. Ours is vectorised numpy (slice, convert, mask, `nonzero`, back-project), against "
                "one fused C++ loop.")
        tab = load_results("bench_tabletop")
        medians = (tab or {}).get("median_ms", {})
        one = medians.get("1280x720/1", medians.get("1"))
        if one:
            worst = max(r["ours_ms"] for r in o3d.values())
            text += (f" Per box, ours is {100 * worst / one:.1f} % of one tabletop inference ({_f(one)} ms), and "
                     "the node needs only the median point, not the cloud.")
        out.append(text)
    lat = load_results("bench_latency")
    if lat:
        parts = [f"{res}: wait {_f(r.get('wait_ms'), 2)} ms, image transport {_f(r.get('image_transport_ms'), 2)} ms"
                 for res, r in lat.items()]
        out.append("- In the latency breakdown, \"wait for frame\" (median " + "; ".join(parts) + ") is short "
                   "because a command uses the newest frame received within `max_frame_age` instead of waiting "
                   "for the next one; \"image transport\" happens before the command and is shown for reference "
                   "(it is how old that newest frame can be, on top of up to one frame period).")
    soak = load_results("bench_soak")
    if soak:
        out.append(f"- The soak sent {soak['commands']} commands in {_f(soak['minutes'])} min and matched answers "
                   f"by request_id: {soak['missed']} without an answer, {soak['doubled'] + soak['unknown']} "
                   f"duplicated or unknown; {soak['regrounds']} continuous re-groundings at "
                   f"{_f(soak['rate'], 2)} results/s (cap {soak['max_rate']:g} Hz); RSS growth "
                   f"{soak['rss_growth_mb']:+.1f} MB.")
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--backend", default="", help="a real backend for latency/phrases/soak (GPU robots)")
    ap.add_argument("--model", default="")
    ap.add_argument("--soak-minutes", type=float, default=10.0)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and a 1-minute soak (a smoke run)")
    ap.add_argument("--only", action="append", default=None, metavar="SCRIPT",
                    help="run only these scripts (e.g. bench_node; repeatable); the summary and the prose are "
                         "rewritten from every section and saved result")
    ap.add_argument("--write-only", action="store_true", help="run nothing: rewrite the summary and the prose")
    args = ap.parse_args(argv)
    py = [sys.executable, "-u"]
    model_args = (["--backend", args.backend, "--model", args.model] if args.backend else [])
    q = args.quick
    steps = [
        ("node overhead + idle CPU", ["bench/bench_node.py", "--results", "100" if q else "300"]),
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
    if args.only:
        steps = [s for s in steps if Path(s[1][0]).stem in {Path(o).stem for o in args.only}]
    if args.write_only:
        steps = []
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
    write_section("bench_reading", reading())
    print(f"all benchmarks in {(time.monotonic() - t_all) / 60:.1f} min; docs/benchmarks.md written"
          + (f"; FAILED: {', '.join(failures)}" if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
