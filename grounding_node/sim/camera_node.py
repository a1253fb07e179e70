"""`sim_camera`: the MuJoCo tabletop as an RGB-D camera driver.

Publishes `image` (rgb8), `depth_image` (32FC1 m or 16UC1 mm, parameter `depth_encoding`), `camera_info`
(K from the field of view, frame `camera_color_optical_frame`, REP 103) with one shared header, at `rate`
Hz, and `~/ground_truth` (std_msgs/String, JSON; transient local so late joiners get the current scene).
`~/new_scene` (std_srvs/Trigger) or `scene_period` > 0 moves to the next seed. `camera` picks the sim's
camera domain: "classic" (one fixed-ish camera at `fovy`), "random" (domain randomisation: distance
0.35-1.3 m, pitch 20-90 deg down, yaw +-45, roll +-10, fovy 40-90, lights, table colours/textures, object
sizes, 2-10 objects), "train" or "ood" (the model's training and held-out camera bands); K and the
ground truth follow each scene's camera. `width`/`height` set the resolution (e.g. 1280x720, 16:9).
A scene is static, so it is rendered once and its messages are re-stamped on every tick: that is what
keeps 30 Hz cheap.
"""

from __future__ import annotations

import json
import sys
from typing import List, Optional

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String
from std_srvs.srv import Trigger

from grounding_node.geometry.camera import Intrinsics
from grounding_node.ros.conversions import camera_info_from_intrinsics, numpy_to_image
from grounding_node.sim.scene import RenderedScene, TabletopSim

FRAME_ID = "camera_color_optical_frame"


def ground_truth_json(scene: RenderedScene, header: Optional[Header] = None) -> str:
    objects = [{
        "index": o.index, "shape": o.shape, "color": o.color, "size": o.size,
        "box_1024": [round(float(v), 3) for v in o.box_1024], "visible_pixels": o.visible_pixels,
        "center_cam": [round(float(v), 5) for v in o.center_cam],
        "extent_cam": [round(float(v), 5) for v in o.extent_cam],
        "corners_cam": [[round(float(v), 5) for v in c] for c in o.corners_cam],
    } for o in scene.objects]
    stamp = {"sec": header.stamp.sec, "nanosec": header.stamp.nanosec} if header is not None else None
    camera = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in scene.camera.items()
              if k != "lookat"}
    return json.dumps({"seed": scene.seed, "frame_id": FRAME_ID, "stamp": stamp, "camera": camera,
                       "objects": objects})


class SimCamera(Node):
    def __init__(self) -> None:
        super().__init__("sim_camera")
        p = self.declare_parameter
        self.width = p("width", 640).value
        self.height = p("height", 480).value
        self.rate = p("rate", 15.0).value
        self.depth_encoding = p("depth_encoding", "32FC1").value
        if self.depth_encoding not in ("32FC1", "16UC1"):
            raise ValueError("depth_encoding must be 32FC1 or 16UC1")
        self.seed = p("seed", 0).value
        scene_period = p("scene_period", 0.0).value
        fovy = p("fovy", 58.0).value
        camera = p("camera", "classic").value
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.pub_image = self.create_publisher(Image, "image", reliable)
        self.pub_depth = self.create_publisher(Image, "depth_image", reliable)
        self.pub_info = self.create_publisher(CameraInfo, "camera_info", reliable)
        self.pub_gt = self.create_publisher(String, "~/ground_truth", latched)
        self.create_service(Trigger, "~/new_scene", self._on_new_scene)
        self.sim = TabletopSim(self.width, self.height, fovy, camera=camera)
        self._render(self.seed)
        self.create_timer(1.0 / self.rate, self._tick)
        if scene_period > 0:
            self.create_timer(scene_period, lambda: self._render(self.seed + 1))

    def _render(self, seed: int) -> None:
        self.seed = seed
        self.scene = self.sim.new_scene(seed)
        depth = self.scene.depth_16uc1() if self.depth_encoding == "16UC1" else self.scene.depth
        self.msg_image = numpy_to_image(self.scene.rgb, "rgb8")
        self.msg_depth = numpy_to_image(depth, self.depth_encoding)
        self.msg_info = camera_info_from_intrinsics(Intrinsics.from_K(self.scene.K, self.width, self.height))
        self.pub_gt.publish(String(data=ground_truth_json(self.scene, self._header())))
        cam = self.scene.camera
        self.get_logger().info(f"scene {seed}: {len(self.scene.objects)} objects, camera "
                               + ", ".join(f"{k} {v:.2f}" for k, v in cam.items() if isinstance(v, float)))

    def _header(self) -> Header:
        return Header(stamp=self.get_clock().now().to_msg(), frame_id=FRAME_ID)

    def _tick(self) -> None:
        header = self._header()
        self.msg_image.header = self.msg_depth.header = self.msg_info.header = header
        self.pub_info.publish(self.msg_info)
        self.pub_image.publish(self.msg_image)
        self.pub_depth.publish(self.msg_depth)

    def _on_new_scene(self, request, response):
        self._render(self.seed + 1)
        response.success, response.message = True, json.dumps({"seed": self.seed})
        return response

    def close(self) -> None:
        self.sim.close()


def main(args: Optional[List[str]] = None) -> int:
    rclpy.init(args=args)
    node = SimCamera()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.close()
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
