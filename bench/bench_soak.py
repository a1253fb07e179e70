"""Soak: the node for 10 minutes at 30 Hz 1280x720 input with continuous grounding by the default model.

    source scripts/env.sh && python bench/bench_soak.py [--minutes 10] [--backend ... --model ... --device cuda]

A camera process publishes image + depth + camera_info at 30 Hz, 1280x720. The node runs with
`continuous:=true` (the active command is re-grounded on new frames, up to `max_rate`), and this process
plays a planner that sends a new command every 2 s: each command must get exactly one answer of its own.
Results are matched to commands by `request_id`, not by text: the node numbers requests in arrival order from
1 (topic commands and ~/ground calls share the counter), and this fresh node gets only topic commands from
this one publisher, so the k-th command sent has id k. A command is answered when exactly one result with
its id and `continuous: false` arrives; continuous re-groundings carry their command's id with
`continuous: true` and are counted separately. Reported: results per second, missed results, errors, and the node's
RSS over time (plot). Goals: 0 missed; RSS growth <= 20 MB (median of the last minute minus the median
of the first minute after a 30 s warm-up).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "test"), str(REPO / "bench")]

from common import DOC, cpu_seconds, figure, machine, rss_mb, save_figure, save_results, table, write_section  # noqa: E402


def plot(times, rss, path: Path, title: str) -> None:
    fig, ax = figure(7, 3.4)
    ax.plot(np.asarray(times) / 60.0, rss, lw=1.2)
    ax.set_xlabel("minutes")
    ax.set_ylabel("node RSS (MB)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    save_figure(fig, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--backend", default="tabletop")
    ap.add_argument("--model", default="")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--max-rate", type=float, default=10.0, help="continuous re-grounding rate cap (Hz)")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    args = ap.parse_args(argv)
    import rclpy
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from ros_harness import TEST_DIR, ProbeNode, unique_namespace, wait_ready

    from grounding_node.launcher import Launcher, ros_args
    from phrase_grounding.msg import GroundedObjectArray

    rclpy.init()
    ns = unique_namespace()
    params = {"backend": args.backend, "model": args.model, "device": args.device, "continuous": True,
              "max_rate": args.max_rate, "timeout": 5.0}
    duration = args.minutes * 60.0
    answers, regrounds, errors, result_times = {}, {}, 0, []   # request_id -> non-continuous / continuous count
    lock = threading.Lock()
    times, rss = [], []
    sent = []
    try:
        with tempfile.TemporaryDirectory() as tmp, Launcher(log_dir=Path(tmp)) as launcher:
            probe = ProbeNode(ns)

            def on_result(msg):
                nonlocal errors
                with lock:
                    store = regrounds if msg.continuous else answers
                    store[int(msg.request_id)] = store.get(int(msg.request_id), 0) + 1
                    errors += bool(msg.error)
                    result_times.append(time.monotonic())

            probe.node.create_subscription(GroundedObjectArray, f"{ns}/detections", on_result,
                                           QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
            node = launcher.start("grounding_node", "grounding_node.ros.node", ros_args(namespace=ns, params=params))
            launcher.start("camera", str(TEST_DIR / "synthetic_camera.py"),
                           ["--rate", "30", "--width", str(args.width), "--height", str(args.height)]
                           + ros_args(namespace=ns))
            wait_ready(probe, launcher, node, timeout=120)
            pid = node.popen.pid
            t0 = time.monotonic()
            cpu0 = cpu_seconds(pid)
            next_cmd, next_sample, k = t0, t0, 0
            while time.monotonic() - t0 < duration:
                now = time.monotonic()
                if now >= next_cmd:
                    k += 1                               # this command's request_id (see the docstring)
                    probe.send(f"the red box #{k}")
                    sent.append(k)
                    next_cmd += 2.0
                if now >= next_sample:
                    with probe.lock:   # the probe keeps every message it gets: drop the debug images (MBs each)
                        probe.debug_images.clear()
                        probe.markers.clear()
                        probe.targets.clear()
                    times.append(now - t0)
                    rss.append(rss_mb(pid))
                    next_sample += 2.0
                if node.popen.poll() is not None:
                    raise RuntimeError("the node died during the soak:\n" + launcher.log(node)[-3000:])
                time.sleep(0.05)
            cpu_used = cpu_seconds(pid) - cpu0
            time.sleep(3.0)                              # the last command's result
            probe.close()
    finally:
        rclpy.shutdown()
    elapsed = times[-1] if times else duration
    with lock:
        missed = [c for c in sent if answers.get(c, 0) == 0]
        doubled = [c for c in sent if answers.get(c, 0) > 1]
        unknown = sorted(set(answers) - set(sent))               # an id we never sent: the counting is off
        n_results = len(result_times)
        n_regrounds = sum(regrounds.values())
    rss_a = np.asarray(rss)
    t_a = np.asarray(times)
    first = rss_a[(t_a >= 30) & (t_a < 90)]
    last = rss_a[t_a >= t_a[-1] - 60]
    growth = float(np.median(last) - np.median(first)) if len(first) and len(last) else float("nan")
    peak_growth = float(rss_a[t_a >= 30].max() - np.median(first)) if len(first) else float("nan")
    png = DOC.parent / "bench" / "soak_rss.png"
    plot(times, rss, png,
         f"node RSS, {args.minutes:g} min at 30 Hz {args.width}x{args.height}, continuous {args.backend}")
    rate = n_results / max(elapsed, 1e-9)
    rows = [
        ("duration", f"{elapsed / 60:.1f} min"),
        ("commands sent (one every 2 s)", str(len(sent))),
        ("results received (commands + continuous re-grounding)", str(n_results)),
        ("answers to commands (continuous: false) / continuous re-groundings", f"{n_results - n_regrounds} / "
                                                                                f"{n_regrounds}"),
        ("results per second", f"{rate:.2f} (cap {args.max_rate:g} Hz)"),
        ("results with an error", str(errors)),
        ("node CPU", f"{100 * cpu_used / max(elapsed, 1e-9):.0f} % of one core"),
        ("RSS first minute (after 30 s) / last minute, median", f"{np.median(first):.1f} / {np.median(last):.1f} MB"),
    ]
    checks = [
        ("commands without an answer (by request_id)", "0", str(len(missed)), "met" if not missed else "missed"),
        ("commands with more than one answer, or answers to ids never sent", "0",
         str(len(doubled) + len(unknown)), "met" if not doubled and not unknown else "missed"),
        ("RSS growth (last minute vs first minute)", "<= 20 MB", f"{growth:+.1f} MB (peak {peak_growth:+.1f})",
         "met" if growth <= 20 else "missed"),
    ]
    text = "\n".join([
        "## Soak (`bench/bench_soak.py`)", "",
        f"Machine: {machine()}; backend `{args.backend}` {args.model or '(default)'} on device {args.device}; "
        f"camera 30 Hz {args.width}x{args.height}; continuous grounding (max_rate {args.max_rate:g} Hz) plus a new "
        "command every 2 s.", "",
        table(["figure", "value"], rows), "",
        table(["figure", "goal", "measured", "verdict"], checks), "",
        f"![RSS over time](bench/{png.name})", ""])
    print(text)
    write_section("bench_soak", text)
    save_results("bench_soak", {"minutes": elapsed / 60, "commands": len(sent), "missed": len(missed),
                                "doubled": len(doubled), "unknown": len(unknown), "results": n_results,
                                "regrounds": n_regrounds, "rate": rate, "max_rate": args.max_rate, "errors": errors,
                                "cpu_percent": 100 * cpu_used / max(elapsed, 1e-9), "rss_growth_mb": growth,
                                "rss_peak_growth_mb": peak_growth, "backend": args.backend})
    return 0 if not missed and not doubled and not unknown else 1


if __name__ == "__main__":
    sys.exit(main())
