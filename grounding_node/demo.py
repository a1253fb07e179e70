"""The demo: a simulated camera sees a tabletop, phrases come in, the right objects are boxed and located.

    bash scripts/demo.sh            # or: source scripts/env.sh && python -m grounding_node.demo
    python -m grounding_node.demo --camera random --width 1280 --height 720   # randomised camera, 16:9

It starts the MuJoCo sim camera and the grounding node as separate processes (real rclpy, loopback DDS),
sends one command per referring-expression type through the `command` topic, and checks each answer
against the simulator's ground truth (2D IoU >= 0.5 and 3D position inside the true 3D box). It prints a
table, and writes the annotated debug images and a contact sheet to the output folder.

Exit codes: 0 when the commands were answered (some verdicts may still be FAIL: that is the model), 1 when
no command got an answer without an error (a process died, the backend did not load: the output says which
and where its log is), 2 for bad arguments (checked before anything starts), 130 when interrupted (Ctrl-C:
the processes are stopped, no traceback).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

import numpy as np

from grounding_node.geometry.box3d import inside_box
from grounding_node.launcher import Launcher, ros_args, wait_until


def verdict(expr, result_objects: list, scene, threshold: float) -> tuple:
    """(ok, note): the top object must overlap a target (IoU >= 0.5) and lie inside its true 3D box (within
    the eval's 2 mm);
    plural: every target found; no referent: nothing above the threshold."""
    from grounding_node.geometry.boxes import box_iou
    from grounding_node.training.eval import HIT3D_MARGIN

    if expr.type == "no_referent":
        ok = not result_objects
        return ok, "nothing returned" if ok else f"returned {len(result_objects)} object(s)"
    if not result_objects:
        return False, "no object returned"
    targets = [scene.objects[i] for i in expr.targets]
    gt = np.stack([t.box_1024 for t in targets])
    if expr.type == "plural":
        boxes = np.stack([np.asarray(o.box_1024) for o in result_objects])
        iou = box_iou(gt, boxes)
        found = int((iou.max(axis=1) >= 0.5).sum())
        return found == len(targets), f"{found}/{len(targets)} targets found"
    top = result_objects[0]
    iou = box_iou(np.asarray(top.box_1024)[None], gt)[0]
    best = int(np.argmax(iou))
    if iou[best] < 0.5:
        return False, f"IoU {iou[best]:.2f} with the target"
    if not top.has_position:
        return False, "no 3D position"
    pos = np.array([top.position.x, top.position.y, top.position.z])
    in3d = inside_box(pos, targets[best].corners_cam, margin=HIT3D_MARGIN)   # as the eval counts a 3D hit
    return in3d, f"IoU {iou[best]:.2f}, 3D {'inside' if in3d else 'OUTSIDE'} true box"


def contact_sheet(images: List[np.ndarray], captions: List[str], path: Path, cols: int = 4) -> None:
    import cv2

    h, w = images[0].shape[:2]
    tw, th = 480, int(480 * h / w)
    rows = (len(images) + cols - 1) // cols
    sheet = np.full((rows * (th + 28), cols * tw, 3), 255, np.uint8)
    for k, (img, cap) in enumerate(zip(images, captions)):
        r, c = divmod(k, cols)
        y, x = r * (th + 28), c * tw
        sheet[y:y + th, x:x + tw] = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
        cv2.putText(sheet, cap[:60], (x + 4, y + th + 19), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))


def _current_seed(node, ns: str, timeout: float) -> int:
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String

    seen: list = []
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    sub = node.create_subscription(String, f"{ns}/sim_camera/ground_truth", lambda m: seen.append(m.data), qos)
    if not wait_until(lambda: bool(seen), timeout):
        raise RuntimeError(f"no ground truth on {ns}/sim_camera/ground_truth")
    node.destroy_subscription(sub)
    return int(json.loads(seen[-1])["seed"])


def run(out: Path, seed: int, n_scenes: int, backend: str, width: int, height: int, timeout: float,
        attach: bool = False, camera_domain: str = "random"):
    import cv2
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from rclpy.signals import SignalHandlerOptions
    from sensor_msgs.msg import Image
    from std_msgs.msg import String
    from std_srvs.srv import Trigger

    from grounding_node.ros.conversions import image_to_numpy
    from grounding_node.sim.expressions import TYPES, generate
    from grounding_node.sim.scene import TabletopSim
    from phrase_grounding.msg import GroundedObjectArray

    out.mkdir(parents=True, exist_ok=True)
    ns = "/demo"
    reliable = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    rows, images, captions = [], [], []
    threshold = 0.3
    # --attach: the camera and node already run (launch/demo.launch.py on a robot); only command and check.
    with (contextlib.nullcontext() if attach else Launcher(log_dir=out / "logs")) as launch:
        if not attach:
            camera = launch.start("sim_camera", "grounding_node.sim.camera_node", ros_args(
                namespace=ns, node_name="sim_camera",
                params={"seed": seed, "width": width, "height": height, "rate": 15.0, "scene_period": 0.0,
                        "camera": camera_domain}))
            node = launch.start("grounding_node", "grounding_node.ros.node", ros_args(
                namespace=ns, params={"backend": backend, "score_threshold": threshold,
                                      "max_objects_per_phrase": 5, "timeout": 15.0}))
        # No rclpy signal handler: Ctrl-C must raise KeyboardInterrupt here (main() reports it) instead of
        # shutting the context down under the waits below, which then died with "context is invalid".
        rclpy.init(signal_handler_options=SignalHandlerOptions.NO)
        probe = Node("demo_commander", namespace=ns)
        got: list = []
        debug: dict = {}
        lock = threading.Lock()

        def on_det(msg):
            with lock:
                got.append(msg)

        def on_debug(msg):
            with lock:
                debug[(msg.header.stamp.sec, msg.header.stamp.nanosec, len(debug))] = image_to_numpy(msg).copy()

        probe.create_subscription(GroundedObjectArray, "detections", on_det, reliable)
        probe.create_subscription(Image, f"{ns}/grounding_node/debug_image", on_debug, reliable)
        pub = probe.create_publisher(String, "command", reliable)
        new_scene = probe.create_client(Trigger, f"{ns}/sim_camera/new_scene")
        executor = SingleThreadedExecutor()
        executor.add_node(probe)
        spin = threading.Thread(target=executor.spin, daemon=True)
        spin.start()
        stack = contextlib.ExitStack()
        try:
            # a node process that died stops the wait at once (it used to take the full 60 s)
            if not wait_until(lambda: pub.get_subscription_count() > 0
                              or (not attach and node.popen.poll() is not None), 60) \
                    or (not attach and node.popen.poll() is not None):
                if not attach:
                    print(launch.log(node)[-3000:], launch.log(camera)[-3000:], sep="\n")
                raise RuntimeError(f"the grounding node did not come up in {ns}")
            if attach:   # the running camera's seed, from its latched ground truth
                seed = _current_seed(probe, ns, timeout)
            sim = TabletopSim(width, height, camera=camera_domain)
            stack.callback(sim.close)
            rng = np.random.default_rng(1234)
            for k in range(n_scenes):
                if k > 0:
                    fut = new_scene.call_async(Trigger.Request())
                    if not wait_until(fut.done, 20):
                        raise RuntimeError("sim_camera did not answer ~/new_scene")
                    seed = json.loads(fut.result().message)["seed"]
                    time.sleep(0.3)   # let the new scene's frames reach the node
                # The same seed renders the same scene here as in the camera process: ground truth for verdicts.
                scene = sim.new_scene(seed)
                for etype in TYPES:
                    expr = generate(scene, rng, etype)
                    if expr is None:
                        continue
                    with lock:
                        n = len(got)
                        debug.clear()
                    pub.publish(String(data=expr.text))
                    # This command's answer, not a late one to an earlier command that timed out here
                    # (that one used to be checked against this phrase's ground truth).
                    res, text = None, expr.text.strip()

                    def answered(n=n, text=text) -> bool:
                        nonlocal res
                        with lock:
                            res = next((r for r in got[n:] if r.command == text and not r.continuous), None)
                        return res is not None

                    if not wait_until(answered, timeout):
                        rows.append((seed, etype, expr.text, "-", "-", "-", "FAIL: no result"))
                        continue
                    ok, note = verdict(expr, list(res.objects), scene, threshold)
                    if res.error:
                        ok, note = False, f"error: {res.error}"
                    top = res.objects[0] if res.objects else None
                    pos = (f"({top.position.x:+.3f}, {top.position.y:+.3f}, {top.position.z:.3f})"
                           if top is not None and top.has_position else "-")
                    rows.append((seed, etype, expr.text, f"{top.score:.2f}" if top else "-",
                                 "[" + ", ".join(f"{v:.0f}" for v in top.box_pixels) + "]" if top else "-", pos,
                                 ("PASS: " if ok else "FAIL: ") + note))
                    if res.error:   # no debug image comes for an error: do not wait 3 s for it
                        continue
                    wait_until(lambda: bool(debug), 3)
                    with lock:
                        img = next(iter(debug.values()), None)
                    if img is not None:
                        path = out / f"seed{seed}_{etype}.png"
                        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
                        images.append(img)
                        captions.append(f"{'OK' if ok else 'X'} {etype}: {expr.text}")
        finally:
            stack.close()
            if not attach:
                for proc in (camera, node):
                    if proc.popen.poll() is not None:   # why every command then went unanswered
                        print(f"{proc.name} exited with code {proc.popen.returncode}; the end of "
                              f"{proc.log_path}:\n{launch.log(proc)[-1500:]}", file=sys.stderr)
            executor.shutdown(timeout_sec=1.0)
            probe.destroy_node()
            rclpy.shutdown()
    return rows, images, captions


def _count(text: str) -> int:
    """A count of at least 1 (--scenes 0 used to start both processes, then print an empty table)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    value = float(text)
    if not (value > 0 and np.isfinite(value)):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def _pixels(axis: str):
    """--width/--height within what the sim can render (checked here: the camera process and this one died
    with a MuJoCo/OpenGL traceback otherwise)."""
    def parse(text: str) -> int:
        from grounding_node.sim.camera_node import MAX_HEIGHT, MAX_WIDTH

        hi = MAX_WIDTH if axis == "width" else MAX_HEIGHT
        value = int(text)
        if not 1 <= value <= hi:
            raise argparse.ArgumentTypeError(f"{axis} must be 1..{hi} pixels, not {value}")
        return value
    return parse


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("demo_output"))
    ap.add_argument("--seed", type=int, default=9001, help="first scene seed (held out from training)")
    ap.add_argument("--scenes", type=_count, default=2)
    ap.add_argument("--backend", default="tabletop")
    ap.add_argument("--width", type=_pixels("width"), default=640)
    ap.add_argument("--height", type=_pixels("height"), default=480)
    ap.add_argument("--timeout", type=_seconds, default=30.0, help="seconds to wait for each answer")
    ap.add_argument("--camera", default="random", choices=("random", "classic", "train", "ood"),
                    help="sim camera: random = domain randomisation (distance, pitch, yaw, roll, fovy, lights, "
                         "table, object sizes, 2-10 objects); classic = the first model's camera")
    ap.add_argument("--attach", action="store_true",
                    help="do not start processes: command the sim camera and node already running in /demo")
    args = ap.parse_args(argv)
    if args.seed < 0:
        ap.error(f"--seed must be >= 0 (numpy seeds the scenes), not {args.seed}")
    t0 = time.monotonic()
    try:
        rows, images, captions = run(args.out, args.seed, args.scenes, args.backend, args.width, args.height,
                                     args.timeout, attach=args.attach, camera_domain=args.camera)
    except KeyboardInterrupt:
        print("\ndemo interrupted: the sim camera and the grounding node were stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:   # a process did not come up, a service did not answer: say it in one line
        print(f"demo failed: {exc} (process logs in {args.out / 'logs'})", file=sys.stderr)
        return 1
    header = ("seed", "type", "phrase", "score", "pixel box", "3D position (m)", "verdict")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    print(line + "\n" + "-" * len(line))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    passed = sum(r[-1].startswith("PASS") for r in rows)
    print(f"\n{passed}/{len(rows)} commands correct against ground truth; {time.monotonic() - t0:.0f} s")
    if images:
        contact_sheet(images, captions, args.out / "contact_sheet.png")
        print(f"annotated images and contact_sheet.png in {args.out}")
    (args.out / "results.json").write_text(json.dumps([dict(zip(header, map(str, r))) for r in rows], indent=1))
    answered = [r for r in rows if not r[-1].startswith(("FAIL: no result", "FAIL: error:"))]
    if not answered:
        print(f"no command got an answer without an error: the pipeline is not working (see the verdicts above "
              f"and the process logs in {args.out / 'logs'})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
