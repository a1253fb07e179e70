"""The sim camera node over real DDS: encodings, sizes, K, one stamp per frame triple, ground truth, new scenes."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import String
from std_srvs.srv import Trigger

from ros_harness import unique_namespace

from grounding_node.launcher import ros_args, wait_until
from grounding_node.ros.conversions import image_to_numpy


@pytest.mark.parametrize("encoding,camera,size", [("16UC1", "classic", (320, 240)), ("32FC1", "classic", (320, 240)),
                                                  ("16UC1", "random", (448, 252))])
def test_sim_camera_publishes_aligned_rgbd_with_ground_truth(ros, launcher, encoding, camera, size):
    ns = unique_namespace()
    W, H = size
    proc = launcher.start("sim_camera", "grounding_node.sim.camera_node", ros_args(
        namespace=ns, params={"width": W, "height": H, "rate": 20.0, "depth_encoding": encoding, "seed": 11,
                              "camera": camera}))
    node = Node("sim_probe", namespace=ns)
    got = {"image": [], "depth": [], "info": [], "gt": []}
    lock = threading.Lock()

    def keep(key):
        def cb(msg):
            with lock:
                got[key].append(msg)
        return cb

    node.create_subscription(Image, "image", keep("image"), qos_profile_sensor_data)
    node.create_subscription(Image, "depth_image", keep("depth"), qos_profile_sensor_data)
    node.create_subscription(CameraInfo, "camera_info", keep("info"), qos_profile_sensor_data)
    node.create_subscription(String, f"{ns}/sim_camera/ground_truth", keep("gt"), QoSProfile(
        depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    client = node.create_client(Trigger, f"{ns}/sim_camera/new_scene")
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    t = threading.Thread(target=ex.spin, daemon=True)
    t.start()
    try:
        assert wait_until(lambda: len(got["depth"]) >= 5 and got["gt"], 30), launcher.log(proc)[-2000:]
        with lock:
            img, depth, info = got["image"][-1], got["depth"][-1], got["info"][-1]
            img_stamps = {(m.header.stamp.sec, m.header.stamp.nanosec) for m in got["image"]}
            depth_stamps = {(m.header.stamp.sec, m.header.stamp.nanosec) for m in got["depth"]}
        assert (img.width, img.height, img.encoding) == (W, H, "rgb8")
        assert (depth.width, depth.height, depth.encoding) == (W, H, encoding)
        assert img.header.frame_id == depth.header.frame_id == info.header.frame_id == "camera_color_optical_frame"
        assert len(img_stamps & depth_stamps) >= 3             # colour and depth share stamps
        gt = json.loads(got["gt"][-1].data)
        fovy = 58.0 if camera == "classic" else gt["camera"]["fovy"]    # a randomised camera: K follows its fovy
        fy = (H / 2) / np.tan(np.radians(fovy) / 2)
        np.testing.assert_allclose(info.k, [fy, 0, (W - 1) / 2, 0, fy, (H - 1) / 2, 0, 0, 1], rtol=1e-4)
        d = image_to_numpy(depth).astype(np.float64)
        d = d / 1000.0 if encoding == "16UC1" else d
        assert 0.2 < np.median(d[d > 0]) < 3.0                  # metres either way
        lo, hi = (3, 7) if camera == "classic" else (1, 10)
        assert gt["seed"] == 11 and lo <= len(gt["objects"]) <= hi
        keys = {"shape", "color", "size", "box_1024", "visible_pixels", "center_cam", "extent_cam"}
        assert keys <= set(gt["objects"][0])
        assert client.wait_for_service(timeout_sec=10)
        fut = client.call_async(Trigger.Request())
        assert wait_until(fut.done, 10) and json.loads(fut.result().message)["seed"] == 12
        assert wait_until(lambda: json.loads(got["gt"][-1].data)["seed"] == 12, 10)
    finally:
        ex.shutdown(timeout_sec=1.0)
        node.destroy_node()
