"""Command -> result latency through the real node process, split by stage, at 30 Hz camera input.

    source scripts/env.sh && python bench/bench_latency.py [--backend tabletop --model ... --device cuda]

A camera process publishes image + depth + camera_info at 30 Hz (640x480, then 1280x720); the node
process runs the backend with `timing_log` on; this process sends commands and times each result.
Stages (median, min-max over the commands):
- image transport: camera publish (header stamp) -> a subscriber's callback, same machine clock;
- msg -> numpy: the node's zero-copy view of the image message (in its image callback);
- wait for frame: command received -> the worker starts on a frame (latest-frame policy: <= a frame period);
- to frame: colour conversion to RGB and the frame's depth/intrinsics;
- inference: backend.ground(); projection: boxes -> pixels -> depth ROI -> 3D;
- publish: detections, target, markers (and the debug image only when someone subscribes);
- command + result transport: end-to-end minus the node's own total.
Results are matched to commands by `request_id` (a fresh node, topic commands from this one publisher only:
the k-th command sent gets id k); a command counts as answered when exactly one `continuous: false` result
with its id arrives.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "test"), str(REPO / "bench")]

from common import DOC, figure, fmt, machine, save_figure, save_results, table, write_section  # noqa: E402

RESOLUTIONS = [(640, 480), (1280, 720)]
STAGES = [("image transport", "image_transport_ms"), ("msg -> numpy", "msg_to_numpy_ms"),
          ("wait for frame", "wait_ms"), ("to frame (RGB + depth + K)", "to_frame_ms"),
          ("inference", "inference_ms"), ("projection (2D -> 3D)", "projection_ms"), ("publish", "publish_ms"),
          ("command + result transport", "transport_ms"), ("end to end", "e2e_ms")]


def run_resolution(width, height, args, log_dir: Path):
    from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from ros_harness import TEST_DIR, ProbeNode, unique_namespace, wait_ready

    from grounding_node.launcher import Launcher, ros_args, wait_until
    from phrase_grounding.msg import GroundedObjectArray

    ns = unique_namespace()
    timing_path = log_dir / f"timing_{width}x{height}.jsonl"
    params = {"backend": args.backend, "model": args.model, "device": args.device, "timing_log": str(timing_path),
              "timeout": 5.0}
    transport = []
    lock = threading.Lock()
    with Launcher(log_dir=log_dir / f"{width}x{height}") as launcher:
        probe = ProbeNode(ns)

        def on_image(msg):
            now = time.time_ns()
            with lock:
                transport.append((now - (msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec)) / 1e6)

        probe.node.create_subscription(Image, f"{ns}/image", on_image, qos_profile_sensor_data)
        arrived, answers = {}, {}

        def on_result(msg):   # the arrival time, taken in the callback (the probe's list is polled)
            if not msg.continuous:
                with lock:
                    arrived.setdefault(int(msg.request_id), time.time())
                    answers[int(msg.request_id)] = answers.get(int(msg.request_id), 0) + 1

        probe.node.create_subscription(GroundedObjectArray, f"{ns}/detections", on_result,
                                       QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        node = launcher.start("grounding_node", "grounding_node.ros.node", ros_args(namespace=ns, params=params))
        launcher.start("camera", str(TEST_DIR / "synthetic_camera.py"),
                       ["--rate", "30", "--width", str(width), "--height", str(height)] + ros_args(namespace=ns))
        try:
            wait_ready(probe, launcher, node, timeout=120)
            time.sleep(2.0)
            request_id = 0                             # the k-th command sent gets request_id k
            for _ in range(3):                         # warm-up (first inference allocates)
                request_id += 1
                probe.send(args.prompt)
                wait_until(lambda rid=request_id: rid in arrived, 60)
            rng = random.Random(0)
            e2e = {}
            for k in range(args.commands):
                time.sleep(rng.uniform(0.0, 1.0 / 30.0))   # random phase against the camera
                request_id += 1
                t0 = time.time()
                probe.send(f"{args.prompt} #{k}")
                if wait_until(lambda rid=request_id: rid in arrived, 60):
                    e2e[request_id] = (arrived[request_id] - t0) * 1000.0
            time.sleep(0.5)
            with lock:
                e2e = {rid: v for rid, v in e2e.items() if answers.get(rid) == 1}   # exactly one answer
                unexpected = sum(1 for rid, n in answers.items() if n != 1 or rid > request_id)
        finally:
            probe.close()
    records = [json.loads(line) for line in timing_path.read_text().splitlines() if line.strip()]
    rows = {key: [] for _, key in STAGES}
    errors = 0
    for rec in records:
        if rec.get("continuous") or rec.get("request_id") not in e2e:
            continue
        errors += bool(rec["error"])
        rec["e2e_ms"] = e2e[rec["request_id"]]
        rec["transport_ms"] = rec["e2e_ms"] - rec["total_ms"]
        for _, key in STAGES:
            if key in rec:
                rows[key].append(rec[key])
    with lock:
        rows["image_transport_ms"] = list(transport[30:])   # after start-up
    return rows, errors, len(e2e), unexpected


def histogram(results, path: Path) -> None:
    fig, ax = figure(7, 3.6)
    for (w, h), rows in results.items():
        ax.hist(rows["e2e_ms"], bins=30, alpha=0.6, label=f"{w}x{h} (median {np.median(rows['e2e_ms']):.1f} ms)")
    ax.set_xlabel("command -> result latency (ms)")
    ax.set_ylabel("commands")
    ax.set_title("End-to-end latency through the node, 30 Hz input")
    ax.legend()
    save_figure(fig, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="tabletop")
    ap.add_argument("--model", default="")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--prompt", default="the red box")
    ap.add_argument("--commands", type=int, default=60)
    args = ap.parse_args(argv)
    import rclpy

    rclpy.init()
    results, notes = {}, []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for w, h in RESOLUTIONS:
                rows, errors, answered, unexpected = run_resolution(w, h, args, Path(tmp))
                results[(w, h)] = rows
                notes.append(f"{w}x{h}: {answered}/{args.commands} commands answered exactly once (by request_id), "
                             f"{errors} with an error, {unexpected} duplicate or unexpected answers")
    finally:
        rclpy.shutdown()
    plot = DOC.parent / "bench" / "latency_hist.png"
    histogram(results, plot)
    header = ["stage"] + [f"{w}x{h} ms" for w, h in RESOLUTIONS]
    body = [[name] + [fmt(results[r][key], 2) if results[r][key] else "-" for r in RESOLUTIONS] for name, key in STAGES]
    text = "\n".join([
        "## Latency breakdown, command -> result (`bench/bench_latency.py`)", "",
        f"Machine: {machine()}; backend `{args.backend}` {args.model or '(default)'} on device {args.device}; "
        f"camera at 30 Hz; {args.commands} commands per resolution, median (min-max).", "",
        table(header, body), "",
        "; ".join(notes) + ".", "",
        f"![latency histogram](bench/{plot.name})", ""])
    print(text)
    write_section("bench_latency", text)
    save_results("bench_latency", {f"{w}x{h}": {key: (float(np.median(v)) if v else None)
                                                for key, v in results[(w, h)].items()} for w, h in RESOLUTIONS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
