"""Node overhead without the model, measured inside the running node; idle CPU at 30 Hz input.

    source scripts/env.sh && python bench/bench_node.py          # writes its section of docs/benchmarks.md

1. Node overhead: the real node process (`grounding_node.ros.node`) with `timing_log` on, the synthetic
   camera process (image + depth + camera_info at 30 Hz) at 640x480, 1280x720 and 1920x1080, and the
   bench's NullBackend (bench/bench_backends.py: three fixed boxes, no model forward). This process plays the
   planner: it sends one command at a time on `command` and keeps a `~/debug_image` subscriber alive so the
   node draws; the node runs with `max_frame_age: 0.0`, so each command waits for the next frame and the
   measured path starts at that frame's receipt. Per result, from the node's timing log:
       overhead = (published_ns - frame_received_ns) / 1e6 - inference_ms
   where frame_received_ns is rmw's MessageInfo received_timestamp of the frame's completing message (the
   later of colour and its paired depth: the node can start no earlier), taken before deserialisation, and
   published_ns is time.time_ns() right after `detections` (what a planner waits for) was published. It
   covers deserialisation, pairing, the hand-off to the worker, colour conversion, geometry, message
   building and the detections publish. A second figure runs to after every output (target, markers,
   vision_msgs and the drawn debug image: all_published_ns). Results are matched to commands by request_id.
   Before that, a probe checks that received_timestamp is system-clock nanoseconds (same clock as
   time.time_ns(), so the subtraction is valid).
2. Idle CPU: the real node process (no command) receiving image + depth + camera_info at 30 Hz from a
   camera process, CPU time read from /proc over a window, as % of one core.
3. What pausing costs: command -> result for a node whose sensors are paused, and for an awake one.
Goals (from the node issue): overhead <= 3 ms at 1280x720 (median); idle CPU <= 3 % of a core.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "test"), str(REPO / "bench")]

from common import cpu_seconds, fmt, machine, percentile, save_results, summary, table, write_section  # noqa: E402

RESOLUTIONS = [(640, 480), (1280, 720), (1920, 1080)]
NULL_BACKEND = "bench_backends:NullBackend"


def bench_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "bench"), str(REPO / "test"), str(REPO),
                                         env.get("PYTHONPATH", "")])
    return env


def clock_check(count: int = 60) -> dict:
    """Is MessageInfo's received_timestamp system-clock ns? A camera process publishes; a subscriber here
    compares each message's received_timestamp with time.time_ns() and time.monotonic_ns() in its callback.
    System clock: callback time - received_timestamp is small and positive (the deserialisation and the
    executor's dispatch); against the monotonic clock the difference is the time since the epoch-vs-boot."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from ros_harness import TEST_DIR, unique_namespace

    from grounding_node.launcher import Launcher, ros_args, wait_until

    ns = unique_namespace()
    got = []
    node = Node("clock_probe", namespace=ns)
    node.create_subscription(Image, "image", lambda msg, info: got.append(
        (int(info["received_timestamp"]), time.time_ns(), time.monotonic_ns())), qos_profile_sensor_data)
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    spin = threading.Thread(target=ex.spin, daemon=True)
    spin.start()
    try:
        with tempfile.TemporaryDirectory() as tmp, Launcher(log_dir=Path(tmp), env=bench_env()) as launch:
            launch.start("camera", str(TEST_DIR / "synthetic_camera.py"),
                         ["--rate", "30", "--width", "640", "--height", "480"] + ros_args(namespace=ns))
            wait_until(lambda: len(got) >= count + 5, 30)
    finally:
        ex.shutdown(timeout_sec=2.0)
        spin.join(timeout=5.0)
        node.destroy_node()
    got = got[5:]
    if not got:
        raise RuntimeError("clock check: no image arrived from the camera process")
    to_system = [(t - r) / 1e6 for r, t, _ in got]
    to_mono = [(r - m) / 1e9 for r, _, m in got]
    system = all(0.0 <= d < 1000.0 for d in to_system)
    return {"n": len(got), "callback_minus_received_ms": summary(to_system),
            "received_minus_monotonic_s": float(np.median(to_mono)), "system_clock": system,
            "example_received_ns": got[0][0]}


class OverheadProbe:
    """The planner side: publishes commands, records every result by request_id, and keeps a debug_image
    subscriber (which only counts, so full-HD images do not pile up) and a markers subscriber alive."""

    def __init__(self, ns: str) -> None:
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node
        from rclpy.qos import QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import Image
        from std_msgs.msg import String
        from visualization_msgs.msg import MarkerArray

        from phrase_grounding.msg import GroundedObjectArray

        self.String = String
        self.node = Node("overhead_probe", namespace=ns)
        reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.lock = threading.Lock()
        self.results = {}          # request_id -> list of non-continuous results
        self.continuous = 0
        self.debug_images = 0
        self.node.create_subscription(GroundedObjectArray, "detections", self._on_result, reliable)
        self.debug_sub = self.node.create_subscription(Image, f"{ns}/grounding_node/debug_image",
                                                       self._on_debug, reliable)
        self.node.create_subscription(MarkerArray, f"{ns}/grounding_node/markers", lambda m: None, reliable)
        self.pub = self.node.create_publisher(String, "command", reliable)
        self.ex = SingleThreadedExecutor()
        self.ex.add_node(self.node)
        self.thread = threading.Thread(target=self.ex.spin, daemon=True)
        self.thread.start()

    def _on_result(self, msg) -> None:
        with self.lock:
            if msg.continuous:
                self.continuous += 1
            else:
                self.results.setdefault(int(msg.request_id), []).append(msg)

    def _on_debug(self, msg) -> None:
        with self.lock:
            self.debug_images += 1

    def answered(self, request_id: int) -> bool:
        with self.lock:
            return bool(self.results.get(request_id))

    def send(self, text: str) -> None:
        self.pub.publish(self.String(data=text))

    def close(self) -> None:
        self.ex.shutdown(timeout_sec=2.0)
        self.thread.join(timeout=5.0)
        self.node.destroy_node()


def node_overhead(width: int, height: int, count: int, warmup: int = 5) -> dict:
    """`count` results of the real node at width x height (after `warmup`), overhead and stages per result."""
    from ros_harness import TEST_DIR, node_args, unique_namespace

    from grounding_node.launcher import Launcher, ros_args, wait_until

    ns = unique_namespace()
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "timing.jsonl"
        with Launcher(log_dir=Path(tmp), env=bench_env()) as launch:
            probe = OverheadProbe(ns)
            try:
                node = launch.start("grounding_node", "grounding_node.ros.node", node_args(
                    ns, backend=NULL_BACKEND, timing_log=str(log), max_frame_age=0.0, timeout=5.0,
                    publish_debug_image=True))
                launch.start("camera", str(TEST_DIR / "synthetic_camera.py"),
                             ["--rate", "30", "--width", str(width), "--height", str(height)] + ros_args(namespace=ns))
                if not wait_until(lambda: probe.pub.get_subscription_count() > 0
                                  and probe.debug_sub.get_publisher_count() > 0, 60):
                    raise RuntimeError("the node did not come up:\n" + launch.log(node)[-3000:])
                time.sleep(1.0)   # the camera's first frames
                # A fresh node, only topic commands from this one publisher: the k-th command gets request_id k.
                lost = []
                for k in range(1, warmup + count + 1):
                    probe.send("the red box")
                    if not wait_until(lambda k=k: probe.answered(k), 10.0, period=0.001):
                        lost.append(k)
                time.sleep(0.5)
                load.append(os.getloadavg()[0])
                with probe.lock:
                    extra = {i: len(v) for i, v in probe.results.items() if len(v) != 1}
                    debug_images, continuous = probe.debug_images, probe.continuous
                if node.popen.poll() is not None:
                    raise RuntimeError("the node died:\n" + launch.log(node)[-3000:])
            finally:
                probe.close()
        records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    rows = []
    for rec in records:
        rid = int(rec.get("request_id", 0))
        if rec.get("continuous") or rid <= warmup or rec.get("error") or not rec.get("frame_received_ns"):
            continue
        latency = (rec["published_ns"] - rec["frame_received_ns"]) / 1e6
        rec["overhead_ms"] = latency - rec["inference_ms"]
        rec["overhead_all_ms"] = (rec["all_published_ns"] - rec["frame_received_ns"]) / 1e6 - rec["inference_ms"]
        rec["receipt_to_worker_ms"] = rec["overhead_ms"] - sum(rec.get(k, 0.0) for k in (
            "to_frame_ms", "projection_ms"))
        rows.append(rec)
    errors = sum(1 for r in records if r.get("error"))
    return {"width": width, "height": height, "sent": count, "lost": lost, "duplicates": extra, "errors": errors,
            "debug_images": debug_images, "continuous": continuous, "records": rows, "load": load}


OVERHEAD_STAGES = [
    ("receipt -> worker (deserialise, pair, hand-off) + message building + detections publish: the residual",
     "receipt_to_worker_ms"),
    ("colour conversion + frame (RGB, depth, K)", "to_frame_ms"),
    ("geometry: boxes -> depth ROI -> 3D (3 objects)", "projection_ms"),
    ("model forward (NullBackend, excluded)", "inference_ms"),
    ("overhead to `detections` published (total minus model)", "overhead_ms"),
    ("all outputs: + target, markers, vision_msgs, debug image drawn and published", "publish_ms"),
    ("overhead to every output published", "overhead_all_ms"),
]


def idle_cpu(width: int, height: int, window: float, repeats: int, **params):
    from ros_harness import node_args, unique_namespace

    from grounding_node.launcher import Launcher, ros_args

    values = []
    with tempfile.TemporaryDirectory() as tmp, Launcher(log_dir=Path(tmp), env=bench_env()) as launch:
        ns = unique_namespace()
        node = launch.start("node", "grounding_node.ros.node", node_args(ns, **params))
        launch.start("camera", str(REPO / "test" / "synthetic_camera.py"),
                     ["--rate", "30", "--width", str(width), "--height", str(height)] + ros_args(namespace=ns))
        time.sleep(6.0)   # start-up, discovery, warm-up (and, with idle_unsubscribe_after, the pause)
        for _ in range(repeats):
            c0, t0 = cpu_seconds(node.popen.pid), time.monotonic()
            time.sleep(window)
            values.append(100.0 * (cpu_seconds(node.popen.pid) - c0) / (time.monotonic() - t0))
    return values


def wake_latency(width: int, height: int, repeats: int):
    """Command -> result (ms) for a node whose sensors are paused (idle_unsubscribe_after=1) and for an
    awake one: what pausing costs the first command after idle. Results are matched by request_id (a fresh
    node, topic commands from one publisher only: the k-th command gets id k)."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from ros_harness import ProbeNode, node_args, unique_namespace, wait_ready

    from grounding_node.launcher import Launcher, ros_args, wait_until
    from phrase_grounding.msg import GroundedObjectArray

    paused, awake = [], []
    arrived, counts = {}, {}
    with tempfile.TemporaryDirectory() as tmp, Launcher(log_dir=Path(tmp), env=bench_env()) as launch:
        ns = unique_namespace()
        probe = ProbeNode(ns)

        def on_result(msg) -> None:
            if not msg.continuous:
                arrived.setdefault(int(msg.request_id), time.monotonic())
                counts[int(msg.request_id)] = counts.get(int(msg.request_id), 0) + 1

        probe.node.create_subscription(GroundedObjectArray, f"{ns}/detections", on_result,
                                       QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        node = launch.start("node", "grounding_node.ros.node", node_args(ns, idle_unsubscribe_after=1.0))
        launch.start("camera", str(REPO / "test" / "synthetic_camera.py"),
                     ["--rate", "30", "--width", str(width), "--height", str(height)] + ros_args(namespace=ns))
        request_id = 0
        try:
            wait_ready(probe, launch, node, timeout=60)
            for k in range(repeats):
                for store, tag in ((paused, "paused"), (awake, "awake")):
                    if tag == "paused":
                        wait_until(lambda: probe.last_diag_values().get("sensors") == "paused (idle)", 10)
                    request_id += 1
                    rid = request_id
                    t0 = time.monotonic()
                    probe.send(f"red box {tag} {k}")
                    if wait_until(lambda rid=rid: rid in arrived, 10):
                        store.append((arrived[rid] - t0) * 1000.0)
            time.sleep(0.5)
        finally:
            probe.close()
    bad = sum(1 for rid in range(1, request_id + 1) if counts.get(rid, 0) != 1)
    return paused, awake, bad


def overhead_rows(runs):
    rows, stats = [], {}
    for run in runs:
        res = f"{run['width']}x{run['height']}"
        recs = run["records"]
        stats[res] = {}
        for name, key in OVERHEAD_STAGES:
            values = [r[key] for r in recs if key in r]
            if not values:
                continue
            med, p95 = float(np.median(values)), percentile(values, 95)
            stats[res][key] = {"median": med, "p95": p95, "min": min(values), "max": max(values)}
            rows.append((res, name, f"{med:.3f}", f"{p95:.3f}", f"{min(values):.3f}-{max(values):.3f}"))
    return rows, stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=int, default=300, help="results per resolution for the node overhead")
    ap.add_argument("--repeats", type=int, help=argparse.SUPPRESS)   # the old name of --results
    ap.add_argument("--idle-window", type=float, default=5.0)
    ap.add_argument("--idle-repeats", type=int, default=3)
    ap.add_argument("--only-overhead", action="store_true", help="skip idle CPU and the wake latency")
    args = ap.parse_args(argv)
    count = max(100, args.repeats or args.results)
    import rclpy

    rclpy.init()
    checks, runs = [], []
    try:
        clock = clock_check()
        for w, h in RESOLUTIONS:
            runs.append(node_overhead(w, h, count))
            print(f"overhead {w}x{h}: {len(runs[-1]['records'])} results", flush=True)
        wake = None if args.only_overhead else wake_latency(1280, 720, args.idle_repeats + 2)
    finally:
        rclpy.shutdown()
    rows, stats = overhead_rows(runs)
    c = clock["callback_minus_received_ms"]
    clock_text = (f"Clock check: for {clock['n']} images from a camera process, a subscriber's callback read "
                  f"time.time_ns() {c['median']:.3f} ms (min {c['min']:.3f}, max {c['max']:.3f}) after the "
                  f"message's received_timestamp, while received_timestamp minus time.monotonic_ns() was "
                  f"{clock['received_minus_monotonic_s']:.0f} s: received_timestamp "
                  + ("**is system-clock (CLOCK_REALTIME) nanoseconds**, the clock of time.time_ns(), so "
                     "published_ns - frame_received_ns is valid." if clock["system_clock"] else
                     "**is not on the clock of time.time_ns()**: the overhead figures below are not valid."))
    counting = []
    for run in runs:
        ok = run["sent"] - len(run["lost"])
        counting.append(f"{run['width']}x{run['height']}: {ok}/{run['sent']} commands answered by request_id "
                        f"(after 5 warm-up), {len(run['duplicates'])} with more than one answer, {run['errors']} "
                        f"errors, {len(run['records'])} results measured, {run['debug_images']} debug images "
                        "received")
    summary_rows = []
    for run in runs:
        res = f"{run['width']}x{run['height']}"
        o = stats[res].get("overhead_ms")
        if o:
            summary_rows.append((res, str(len(run["records"])), f"{o['median']:.2f}", f"{o['p95']:.2f}",
                                 f"{o['max']:.2f}", " / ".join(f"{x:.2f}" for x in run["load"])))
        if (run["width"], run["height"]) == (1280, 720):
            med = o["median"] if o else float("nan")
            checks.append(("node overhead at 1280x720, median (ms)", "<= 3.0", f"{med:.2f}",
                           "met" if o and clock["system_clock"] and med <= 3.0 else "missed"))
    lines = ["## Node overhead and idle CPU (`bench/bench_node.py`)", "",
             f"Machine: {machine()}.", "",
             "### Node overhead per result, measured inside the running node (ms)", "",
             "The real node process with `timing_log`, the synthetic camera process at 30 Hz, and a null backend "
             "(three fixed boxes, no model forward); a `~/debug_image` subscriber is alive, so the node draws. "
             "Each command waits for the next frame (`max_frame_age: 0.0`). Overhead per result = "
             "(published_ns - frame_received_ns) / 1e6 - inference_ms: from rmw's receipt of the frame's completing "
             "message (the later of colour and its depth, before deserialisation) to right after `detections` is "
             "published, minus the backend's ground() call. The stage table also gives the time to every output "
             "(markers, target, the drawn debug image).", "",
             clock_text, "",
             table(["resolution", "results", "overhead median", "p95", "max",
                    "load average (1 min) before / after"], summary_rows), "",
             f"The machine is shared: a load average near or above its {os.cpu_count()} cores means other "
             "processes competed with the node, the camera and this probe for the CPU during the run.", "",
             "Stage breakdown (from the same timing log; the first row is the overhead minus the timed stages):", "",
             table(["resolution", "stage", "median", "p95", "min-max"], rows), "",
             "; ".join(counting) + ".", ""]
    idle_rows, idle = [], {}
    paused_ms = awake_ms = []
    wake_bad = 0
    if not args.only_overhead:
        paused_ms, awake_ms, wake_bad = wake
        for label, params in (("default (sensors always subscribed)", {}),
                              ("idle_unsubscribe_after: 2.0", {"idle_unsubscribe_after": 2.0})):
            for w, h in RESOLUTIONS[:2]:
                values = idle_cpu(w, h, args.idle_window, args.idle_repeats, **params)
                idle_rows.append((f"{w}x{h}", label, fmt(values, 2)))
                med = summary(values)["median"]
                idle.setdefault("default" if not params else "idle_unsubscribe", {})[f"{w}x{h}"] = summary(values)
                checks.append((f"idle CPU at 30 Hz {w}x{h}, {label} (% of a core)", "<= 3.0", f"{med:.2f}",
                               "met" if med <= 3.0 else "missed"))
        lines += ["### Idle CPU of the node process at 30 Hz input, no command (% of one core)", "",
                  table(["input", "node setting", "median (min-max)"], idle_rows), "",
                  "### What pausing costs: command -> result at 1280x720 (test colour backend, ms)", "",
                  table(["node state when the command arrives", "median (min-max)"],
                        [("sensors paused (idle_unsubscribe_after: 1.0)", fmt(paused_ms, 1) if paused_ms else "-"),
                         ("awake", fmt(awake_ms, 1) if awake_ms else "-")]), "",
                  f"Commands without exactly one answer (by request_id): {wake_bad}.", ""]
    lines += ["### Goals", "", table(["figure", "goal", "measured", "verdict"], checks), ""]
    text = "\n".join(lines)
    print(text)
    write_section("bench_node", text)
    save_results("bench_node", {
        "clock": clock, "overhead": stats, "idle": idle,
        "wake": {"paused": summary(paused_ms) if paused_ms else None,
                 "awake": summary(awake_ms) if awake_ms else None, "bad": wake_bad},
        "lost": {f"{r['width']}x{r['height']}": len(r["lost"]) for r in runs},
        "load": {f"{r['width']}x{r['height']}": r["load"] for r in runs},
        "stage_names": {key: name for name, key in OVERHEAD_STAGES}, "cores": os.cpu_count()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
