"""Adversarial review of the sim camera node (what a new user starts first), over real DDS.

Found: a bad parameter (0 or > 1920 px, rate 0, seed -1, fovy 0, an unknown camera) ended the node with a
MuJoCo/OpenGL/ZeroDivision traceback; a burst of more than 10 `~/new_scene` calls lost every call past the
tenth (the caller waited forever); `ros2 param set` of any parameter was accepted and did nothing.
Also checked here, independently of the K formula: the published K projects the ground-truth 3D objects
onto their rendered boxes, and the depth at that pixel is the object's distance.
"""

from __future__ import annotations

import json
import math
import threading
import time

import numpy as np
import pytest
from rcl_interfaces.srv import SetParameters
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String
from std_srvs.srv import Trigger

from ros_harness import unique_namespace

from grounding_node.launcher import ros_args, wait_until
from grounding_node.ros.conversions import image_to_numpy

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class Probe:
    """Subscribes to one sim camera's outputs and keeps everything, with its own executor thread."""

    def __init__(self, ns: str) -> None:
        self.node = Node("adv_sim_probe", namespace=ns)
        self.lock = threading.Lock()
        self.got = {"image": [], "depth": [], "info": [], "gt": []}
        self.arrival: list = []
        self.node.create_subscription(Image, "image", self._keep("image"), qos_profile_sensor_data)
        self.node.create_subscription(Image, "depth_image", self._keep("depth"), qos_profile_sensor_data)
        self.node.create_subscription(CameraInfo, "camera_info", self._keep("info"), qos_profile_sensor_data)
        self.node.create_subscription(String, f"{ns}/sim_camera/ground_truth", self._keep("gt"), LATCHED)
        self.new_scene = self.node.create_client(Trigger, f"{ns}/sim_camera/new_scene")
        self.set_params = self.node.create_client(SetParameters, f"{ns}/sim_camera/set_parameters")
        self.ex = MultiThreadedExecutor(num_threads=2)
        self.ex.add_node(self.node)
        threading.Thread(target=self.ex.spin, daemon=True).start()

    def _keep(self, key: str):
        def cb(msg) -> None:
            with self.lock:
                self.got[key].append(msg)
                if key == "image":
                    self.arrival.append(time.monotonic())
        return cb

    def latest(self, key: str):
        with self.lock:
            return self.got[key][-1] if self.got[key] else None

    def gt_seed(self):
        gt = self.latest("gt")
        return json.loads(gt.data)["seed"] if gt is not None else None

    def set(self, name: str, value):
        fut = self.set_params.call_async(SetParameters.Request(parameters=[Parameter(name, value=value)
                                                                              .to_parameter_msg()]))
        assert wait_until(fut.done, 10), f"no answer to setting {name}"
        return fut.result().results[0]

    def close(self) -> None:
        self.ex.shutdown(timeout_sec=1.0)
        self.node.destroy_node()


@pytest.mark.parametrize("params,expect", [
    ({"width": 4000, "height": 3000}, "width must be an integer in 1..1920"),
    ({"width": 0}, "width must be an integer in 1..1920"),
    ({"rate": 0.0}, "rate must be"),
    ({"rate": -5.0}, "rate must be"),
    ({"seed": -1}, "seed must be an integer in 0.."),
    ({"fovy": 0.0}, "fovy must be"),
    ({"camera": "bogus"}, "camera must be one of"),
    ({"depth_encoding": "mono16"}, "depth_encoding must be one of"),
])
def test_bad_parameter_is_one_line_and_exit_code_2(ros, launcher, params, expect):
    proc = launcher.start("sim_camera", "grounding_node.sim.camera_node",
                          ros_args(namespace=unique_namespace(), params=params))
    rc = proc.popen.wait(60)
    log = launcher.log(proc)
    assert rc == 2, log[-2000:]
    assert f"sim_camera: bad parameter: {expect}" in log, log[-2000:]
    assert "Traceback" not in log, log[-3000:]


def test_integer_rate_is_accepted(ros, launcher):
    """`-p rate:=30` is how people type it; it used to die with rclpy's INTEGER-vs-DOUBLE type error."""
    ns = unique_namespace()
    proc = launcher.start("sim_camera", "grounding_node.sim.camera_node", ros_args(
        namespace=ns, params={"width": 64, "height": 48, "rate": 30, "fovy": 60}))
    probe = Probe(ns)
    try:
        assert wait_until(lambda: len(probe.got["image"]) >= 3, 30), launcher.log(proc)[-2000:]
        assert proc.popen.poll() is None
    finally:
        probe.close()


def test_new_scene_burst_answers_every_call_and_runtime_parameters(ros, launcher):
    ns = unique_namespace()
    proc = launcher.start("sim_camera", "grounding_node.sim.camera_node", ros_args(
        namespace=ns, params={"width": 160, "height": 120, "rate": 20.0, "seed": 5}))
    probe = Probe(ns)
    try:
        assert wait_until(lambda: len(probe.got["image"]) >= 3 and probe.gt_seed() == 5, 30), \
            launcher.log(proc)[-2000:]
        assert probe.new_scene.wait_for_service(timeout_sec=10)
        n = 30
        futs = [probe.new_scene.call_async(Trigger.Request()) for _ in range(n)]
        assert wait_until(lambda: all(f.done() for f in futs), 60), \
            f"{sum(not f.done() for f in futs)} of {n} new_scene calls never answered"
        seeds = sorted(json.loads(f.result().message)["seed"] for f in futs)
        assert seeds == list(range(6, 6 + n)) and all(f.result().success for f in futs)
        assert wait_until(lambda: probe.gt_seed() == 5 + n, 10)

        # read-only: refused with a reason, nothing changes
        r = probe.set("width", 80)
        assert not r.successful and r.reason, r
        time.sleep(0.3)
        assert probe.latest("image").width == 160
        # bad values refused, the camera keeps publishing
        for name, value in (("rate", 0.0), ("seed", -3), ("depth_encoding", "bogus"), ("scene_period", -1.0)):
            r = probe.set(name, value)
            assert not r.successful and name in r.reason, (name, r)
        # seed: renders that scene now
        r = probe.set("seed", 1234)
        assert r.successful, r.reason
        assert wait_until(lambda: probe.gt_seed() == 1234, 10)
        # depth encoding: applies to the next frames
        assert probe.set("depth_encoding", "16UC1").successful
        assert wait_until(lambda: probe.latest("depth").encoding == "16UC1", 10)
        # rate: the timer follows (2 Hz: about 2 frames a second, far below the 20 Hz before)
        assert probe.set("rate", 2.0).successful
        time.sleep(0.8)
        with probe.lock:
            start = len(probe.arrival)
        time.sleep(3.0)
        with probe.lock:
            count = len(probe.arrival) - start
        assert 3 <= count <= 9, count
        assert proc.popen.poll() is None, launcher.log(proc)[-2000:]
    finally:
        probe.close()


@pytest.mark.parametrize("camera,fovy,size", [("classic", 40.0, (400, 300)), ("random", 58.0, (448, 252))])
def test_camera_info_and_depth_match_the_rendered_scene(ros, launcher, camera, fovy, size):
    """K projects each ground-truth object centre into its rendered (segmentation) box, and the 32FC1 depth
    there lies within the object's near/far z: K, image and depth describe the same camera. The expected fy is
    (h/2)/tan(fovy/2) computed here; the projection check does not use that formula at all."""
    ns = unique_namespace()
    W, H = size
    proc = launcher.start("sim_camera", "grounding_node.sim.camera_node", ros_args(
        namespace=ns, params={"width": W, "height": H, "rate": 10.0, "fovy": fovy, "seed": 21, "camera": camera,
                              "depth_encoding": "32FC1"}))
    probe = Probe(ns)
    try:
        assert wait_until(lambda: probe.got["depth"] and probe.got["info"] and probe.got["gt"], 30), \
            launcher.log(proc)[-2000:]
        info, depth_msg, gt = probe.latest("info"), probe.latest("depth"), json.loads(probe.latest("gt").data)
        assert (info.width, info.height) == (depth_msg.width, depth_msg.height) == (W, H)
        f = gt["camera"]["fovy"] if camera != "classic" else fovy
        fy = (H / 2) / math.tan(math.radians(f) / 2)
        K = np.array(info.k).reshape(3, 3)
        assert K[1, 1] == pytest.approx(fy, rel=1e-6) and K[0, 0] == pytest.approx(fy, rel=1e-6)
        depth = image_to_numpy(depth_msg).astype(np.float64)
        assert depth.shape == (H, W)
        checked = 0
        for obj in gt["objects"]:
            if obj["visible_pixels"] < 200:
                continue
            c = np.array(obj["center_cam"])
            u, v = K[0, 0] * c[0] / c[2] + K[0, 2], K[1, 1] * c[1] / c[2] + K[1, 2]
            x0, y0, x1, y1 = np.array(obj["box_1024"]) * np.array([W, H, W, H]) / 1024.0
            assert x0 - 1 <= u <= x1 + 1 and y0 - 1 <= v <= y1 + 1, (obj["color"], obj["shape"], u, v, (x0, y0, x1, y1))
            # the visible surface around the projected centre: between the object's nearest and farthest z
            zs = np.array(obj["corners_cam"])[:, 2]
            patch = depth[int(round(v)) - 1:int(round(v)) + 2, int(round(u)) - 1:int(round(u)) + 2]
            near = patch[(patch >= zs.min() - 0.005) & (patch <= zs.max() + 0.005)]
            assert near.size > 0, (obj["color"], obj["shape"], patch, zs.min(), zs.max())
            checked += 1
        assert checked >= 1
    finally:
        probe.close()
