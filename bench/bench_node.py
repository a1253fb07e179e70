"""Node overhead without the model, and idle CPU at 30 Hz input.

    source scripts/env.sh && python bench/bench_node.py          # writes its section of docs/benchmarks.md

1. Per grounded frame, the node's own work with a zero-cost backend (3 objects), stage by stage, in the
   code paths the node runs: msg -> numpy, colour/depth pairing, colour conversion, projection (depth ->
   metres, ROI, back-projection, robust stats), message building, publishing over DDS to a subscriber.
2. Idle CPU: the real node process (no command) receiving image + depth + camera_info at 30 Hz from a
   camera process, CPU time read from /proc over a window, as % of one core.
Goals (from the node issue): overhead <= 3 ms at 1280x720; idle CPU <= 3 % of a core.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "test"), str(REPO / "bench")]

from common import cpu_seconds, fmt, machine, summary, table, time_ms, write_section  # noqa: E402

RESOLUTIONS = [(640, 480), (1280, 720), (1920, 1080)]


def overhead(width: int, height: int, repeats: int):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    import synthetic_camera as cam
    from grounding_node.geometry.camera import Intrinsics
    from grounding_node.grounding.pipeline import ground_frame
    from grounding_node.grounding.types import Frame, GroundingSettings
    from grounding_node.models.base import Detection, GroundingBackend
    from grounding_node.ros import messages
    from grounding_node.ros.conversions import image_to_numpy, numpy_to_image, to_rgb8
    from grounding_node.ros.publishers import RELIABLE_10
    from grounding_node.ros.sync import FrameSync
    from phrase_grounding.msg import GroundedObjectArray
    from visualization_msgs.msg import MarkerArray

    class NullBackend(GroundingBackend):
        name = "null"

        def load(self):
            pass

        def ground(self, rgb, phrases):
            return [[Detection((160.0, 256.0, 352.0, 512.0), 0.9), Detection((608.0, 427.0, 832.0, 704.0), 0.8),
                     Detection((400.0, 100.0, 500.0, 300.0), 0.7)] for _ in phrases]

    rgb, depth_m = cam.render(width, height)
    img_msg = numpy_to_image(rgb, "rgb8")
    depth_msg = numpy_to_image(np.round(depth_m * 1000).astype(np.uint16), "16UC1")
    intr = Intrinsics(cam.FX, cam.FY, cam.CX, cam.CY, cam.WIDTH, cam.HEIGHT).scaled(width, height)
    backend, settings = NullBackend(), GroundingSettings()
    sync = FrameSync()
    node = Node("bench_overhead")
    listener = Node("bench_listener")
    got = []
    listener.create_subscription(GroundedObjectArray, "/bench/detections", lambda m: got.append(1), RELIABLE_10)
    listener.create_subscription(MarkerArray, "/bench/markers", lambda m: None, RELIABLE_10)
    ex = SingleThreadedExecutor()
    ex.add_node(listener)
    spin = threading.Thread(target=ex.spin, daemon=True)
    spin.start()
    pub_det = node.create_publisher(GroundedObjectArray, "/bench/detections", RELIABLE_10)
    pub_mark = node.create_publisher(MarkerArray, "/bench/markers", RELIABLE_10)
    time.sleep(1.0)   # discovery
    state = {}
    stamp = [0]

    def s_convert():
        state["img"] = image_to_numpy(img_msg)
        state["depth"] = image_to_numpy(depth_msg)

    def s_sync():
        stamp[0] += 1
        sync.add_depth(stamp[0], (state["depth"], "16UC1"))
        state["synced"] = sync.add_image(stamp[0], (img_msg.header, state["img"], "rgb8"))

    def s_rgb():
        state["rgb"] = to_rgb8(state["synced"].image[1], "rgb8")

    def s_geometry():
        frame = Frame(rgb=state["rgb"], depth=state["synced"].depth[0], depth_encoding="16UC1", intrinsics=intr)
        state["result"] = ground_frame(backend, frame, ["a"], settings)

    def s_messages():
        r = state["result"]
        state["msg"] = messages.result_to_msg(img_msg.header, "a", "null", r, 1.0)
        state["markers"] = messages.markers(img_msg.header, r)
        state["pose"] = messages.target_pose(img_msg.header, r)

    def s_publish():
        pub_det.publish(state["msg"])
        pub_mark.publish(state["markers"])

    stages = [("msg -> numpy (rgb + depth)", s_convert), ("pairing", s_sync), ("colour conversion", s_rgb),
              ("projection (3 objects)", s_geometry), ("message building", s_messages),
              ("publish detections + markers", s_publish)]
    for _, fn in stages:   # prime state
        fn()
    rows, totals = [], np.zeros(repeats)
    for name, fn in stages:
        values = time_ms(fn, repeats)
        totals += np.asarray(values)
        rows.append((name, values))
    rows.append(("total", list(totals)))
    ex.shutdown()
    node.destroy_node()
    listener.destroy_node()
    return rows


def idle_cpu(width: int, height: int, window: float, repeats: int, **params):
    from grounding_node.launcher import Launcher, ros_args
    from ros_harness import node_args

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "test"), str(REPO), env.get("PYTHONPATH", "")])
    values = []
    with Launcher(env=env) as launch:
        ns = f"/bench_idle_{os.getpid()}"
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
    awake one: what pausing costs the first command after idle."""
    from rclpy.qos import QoSProfile, ReliabilityPolicy

    from grounding_node.launcher import Launcher, ros_args, wait_until
    from phrase_grounding.msg import GroundedObjectArray
    from ros_harness import ProbeNode, node_args, wait_ready

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "test"), str(REPO), env.get("PYTHONPATH", "")])
    paused, awake = [], []
    with Launcher(env=env) as launch:
        ns = f"/bench_wake_{os.getpid()}"
        probe = ProbeNode(ns)
        arrived = {}
        probe.node.create_subscription(GroundedObjectArray, f"{ns}/detections",
                                       lambda m: arrived.setdefault(m.command, time.monotonic()),
                                       QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))
        node = launch.start("node", "grounding_node.ros.node", node_args(ns, idle_unsubscribe_after=1.0))
        launch.start("camera", str(REPO / "test" / "synthetic_camera.py"),
                     ["--rate", "30", "--width", str(width), "--height", str(height)] + ros_args(namespace=ns))
        try:
            wait_ready(probe, launch, node, timeout=60)
            for k in range(repeats):
                for store, tag in ((paused, "paused"), (awake, "awake")):
                    if tag == "paused":
                        wait_until(lambda: probe.last_diag_values().get("sensors") == "paused (idle)", 10)
                    text = f"red box {tag} {k}"
                    t0 = time.monotonic()
                    probe.send(text)
                    if wait_until(lambda: text in arrived, 10):
                        store.append((arrived[text] - t0) * 1000.0)
        finally:
            probe.close()
    return paused, awake


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=300)
    ap.add_argument("--idle-window", type=float, default=5.0)
    ap.add_argument("--idle-repeats", type=int, default=3)
    args = ap.parse_args(argv)
    import rclpy

    rclpy.init()
    lines = ["## Node overhead and idle CPU (`bench/bench_node.py`)", "",
             f"Machine: {machine()}. Figures are median (min-max) over repeated runs in one session.", ""]
    rows = []
    checks = []
    try:
        for w, h in RESOLUTIONS:
            stages = overhead(w, h, args.repeats)
            for name, values in stages:
                rows.append((f"{w}x{h}", name, fmt(values)))
            total = summary(stages[-1][1])["median"]
            if (w, h) == (1280, 720):
                checks.append(("overhead at 1280x720 (ms)", "<= 3.0", f"{total:.3f}", "met" if total <= 3.0 else
                               "missed"))
        paused_ms, awake_ms = wake_latency(1280, 720, args.idle_repeats + 2)
    finally:
        rclpy.shutdown()
    lines += ["### Per grounded frame, excluding the model (ms)", "",
              table(["resolution", "stage", "median (min-max)"], rows), ""]
    idle_rows = []
    for label, params in (("default (sensors always subscribed)", {}),
                          ("idle_unsubscribe_after: 2.0", {"idle_unsubscribe_after": 2.0})):
        for w, h in RESOLUTIONS[:2]:
            values = idle_cpu(w, h, args.idle_window, args.idle_repeats, **params)
            idle_rows.append((f"{w}x{h}", label, fmt(values, 2)))
            med = summary(values)["median"]
            checks.append((f"idle CPU at 30 Hz {w}x{h}, {label} (% of a core)", "<= 3.0", f"{med:.2f}",
                           "met" if med <= 3.0 else "missed"))
    lines += ["### Idle CPU of the node process at 30 Hz input, no command (% of one core)", "",
              table(["input", "node setting", "median (min-max)"], idle_rows), "",
              "### What pausing costs: command -> result at 1280x720 (test colour backend, ms)", "",
              table(["node state when the command arrives", "median (min-max)"],
                    [("sensors paused (idle_unsubscribe_after: 1.0)", fmt(paused_ms, 1) if paused_ms else "-"),
                     ("awake", fmt(awake_ms, 1) if awake_ms else "-")]), "",
              "### Goals", "", table(["figure", "goal", "measured", "verdict"], checks), ""]
    text = "\n".join(lines)
    print(text)
    write_section("bench_node", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
