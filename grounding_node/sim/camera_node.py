"""`sim_camera`: the MuJoCo tabletop as an RGB-D camera driver.

Publishes `image` (rgb8), `depth_image` (32FC1 m or 16UC1 mm, parameter `depth_encoding`), `camera_info`
(K from the field of view, frame `camera_color_optical_frame`, REP 103) with one shared header, at `rate`
Hz, and `~/ground_truth` (std_msgs/String, JSON; transient local so late joiners get the current scene).
`~/new_scene` (std_srvs/Trigger) or `scene_period` > 0 moves to the next seed. `camera` picks the sim's
camera domain: "classic" (one fixed-ish camera at `fovy`), "random" (domain randomisation: distance
0.35-1.3 m, pitch 20-90 deg down, yaw +-45, roll +-10, fovy 40-90, lights, table colours/textures, object
sizes, 2-10 objects), "train" or "ood" (the model's training and held-out camera bands), "wrist" (a
gripper camera looking down); K and the ground truth follow each scene's camera. `width`/`height` set the
resolution (e.g. 1280x720, 16:9), at most 1920x1200 (the sim's offscreen buffer).
A scene is static, so it is rendered once and its messages are re-stamped on every tick: that is what
keeps 30 Hz cheap.

Parameters are checked before anything is built: a bad one ends the process with one line saying which
and why (exit code 2), not a MuJoCo/OpenGL traceback. At run time `seed` (renders that scene), `rate`,
`scene_period` and `depth_encoding` apply at once; `width`, `height`, `fovy` and `camera` are read-only
(the renderer is built for them), so `ros2 param set` says so instead of accepting a value that does nothing.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Dict, List, Optional

import rclpy
import rclpy.exceptions
from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String
from std_srvs.srv import Trigger

from grounding_node.geometry.camera import Intrinsics
from grounding_node.ros.conversions import camera_info_from_intrinsics, numpy_to_image
from grounding_node.sim.scene import CAMERA_DOMAINS, RenderedScene, TabletopSim

FRAME_ID = "camera_color_optical_frame"
# The model's offscreen framebuffer (<global offwidth="1920" offheight="1200"> in sim/scene.py): MuJoCo
# refuses a larger renderer with an error about the XML, which a camera user cannot act on.
MAX_WIDTH, MAX_HEIGHT = 1920, 1200
MAX_RATE = 1000.0     # above this the timer only burns a core; no consumer reads a sim camera that fast
DEPTH_ENCODINGS = ("32FC1", "16UC1")
SEED_MAX = 2**63 - 1  # a ROS integer parameter is int64; numpy seeds must be >= 0
READ_ONLY = ("width", "height", "fovy", "camera")
# ~/new_scene: each request renders (tens of ms), so a burst queues up while one renders. The default
# service depth (10) silently dropped the rest of a 20-call burst: those callers waited forever.
SERVICE_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)


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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parameter_problem(name: str, value: Any) -> Optional[str]:
    """Why `value` cannot be the sim camera's `name`, or None when it can. One function for start-up and
    `ros2 param set`, so both refuse the same values with the same words. Why each limit: MuJoCo cannot make
    a 0-pixel or larger-than-its-buffer context, tan(fovy/2) is 0 or infinite at 0 and 180 degrees (K would
    divide by zero or be degenerate), a 0 Hz timer divides by zero, numpy refuses negative seeds."""
    if name == "width" or name == "height":
        hi = MAX_WIDTH if name == "width" else MAX_HEIGHT
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= hi:
            return (f"{name} must be an integer in 1..{hi} (the sim's offscreen buffer is "
                    f"{MAX_WIDTH}x{MAX_HEIGHT}), not {value!r}")
    elif name == "rate":
        if not _is_number(value) or not 0.0 < value <= MAX_RATE:
            return f"rate must be a number of Hz in (0, {MAX_RATE:g}], not {value!r}"
    elif name == "fovy":
        if not _is_number(value) or not 1.0 <= value <= 179.0:
            return f"fovy must be a vertical field of view in 1..179 degrees, not {value!r}"
    elif name == "scene_period":
        if not _is_number(value) or value < 0.0:
            return f"scene_period must be >= 0 seconds (0 = keep the scene), not {value!r}"
    elif name == "seed":
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= SEED_MAX:
            return f"seed must be an integer in 0..{SEED_MAX}, not {value!r}"
    elif name == "camera":
        if value not in CAMERA_DOMAINS:
            return f"camera must be one of {', '.join(CAMERA_DOMAINS)}, not {value!r}"
    elif name == "depth_encoding":
        if value not in DEPTH_ENCODINGS:
            return f"depth_encoding must be one of {', '.join(DEPTH_ENCODINGS)}, not {value!r}"
    return None


class ParameterProblem(ValueError):
    """A start-up parameter the sim camera cannot honour; main() reports it in one line, exit code 2."""


class SimCamera(Node):
    def __init__(self) -> None:
        super().__init__("sim_camera")
        defaults: Dict[str, Any] = {"width": 640, "height": 480, "rate": 15.0, "depth_encoding": "32FC1",
                                    "seed": 0, "scene_period": 0.0, "fovy": 58.0, "camera": "classic"}
        values: Dict[str, Any] = {}
        for name, default in defaults.items():
            # Floats take integers too (`-p rate:=30` is how people type it); read-only: see the docstring.
            descriptor = ParameterDescriptor(read_only=name in READ_ONLY,
                                             dynamic_typing=isinstance(default, float))
            value = self.declare_parameter(name, default, descriptor).value
            problem = parameter_problem(name, value)
            if problem is not None:
                raise ParameterProblem(problem)
            values[name] = float(value) if isinstance(default, float) else value
        self.width, self.height = values["width"], values["height"]
        self.rate, self.depth_encoding, self.seed = values["rate"], values["depth_encoding"], values["seed"]
        reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.pub_image = self.create_publisher(Image, "image", reliable)
        self.pub_depth = self.create_publisher(Image, "depth_image", reliable)
        self.pub_info = self.create_publisher(CameraInfo, "camera_info", reliable)
        self.pub_gt = self.create_publisher(String, "~/ground_truth", latched)
        self.sim = TabletopSim(self.width, self.height, values["fovy"], camera=values["camera"])
        try:
            self._render(self.seed)
        except BaseException:
            self.sim.close()   # the renderer's GL context, before the garbage collector trips over it
            raise
        self.create_service(Trigger, "~/new_scene", self._on_new_scene, qos_profile=SERVICE_QOS)
        self._tick_timer = self.create_timer(1.0 / self.rate, self._tick)
        self._scene_timer = None
        self._set_scene_period(values["scene_period"])
        self.add_on_set_parameters_callback(self._on_set_parameters)

    def _set_scene_period(self, period: float) -> None:
        if self._scene_timer is not None:
            self.destroy_timer(self._scene_timer)
            self._scene_timer = None
        if period > 0:
            self._scene_timer = self.create_timer(period, lambda: self._render(self.seed + 1))

    def _on_set_parameters(self, params) -> SetParametersResult:
        """Apply `seed`, `rate`, `scene_period`, `depth_encoding` at once; refuse bad values with the reason
        (read-only ones are refused by rclpy itself). All are checked before any is applied."""
        for p in params:
            problem = parameter_problem(p.name, p.value)
            if problem is not None:
                self.get_logger().warning(f"parameter refused: {problem}")
                return SetParametersResult(successful=False, reason=problem)
        for p in params:
            if p.name == "rate":
                self.rate = float(p.value)
                self.destroy_timer(self._tick_timer)
                self._tick_timer = self.create_timer(1.0 / self.rate, self._tick)
            elif p.name == "scene_period":
                self._set_scene_period(float(p.value))
            elif p.name == "depth_encoding":
                self.depth_encoding = p.value
                self._encode_depth()
            elif p.name == "seed":
                try:
                    self._render(int(p.value))
                except Exception as exc:  # noqa: BLE001 - the caller gets the reason; the old scene stays
                    reason = f"seed {p.value} not rendered: {type(exc).__name__}: {exc}"
                    self.get_logger().error(reason)
                    return SetParametersResult(successful=False, reason=reason)
        return SetParametersResult(successful=True)

    def _render(self, seed: int) -> None:
        self.scene = self.sim.new_scene(seed)
        self.seed = seed
        self.msg_image = numpy_to_image(self.scene.rgb, "rgb8")
        self._encode_depth()
        self.msg_info = camera_info_from_intrinsics(Intrinsics.from_K(self.scene.K, self.width, self.height))
        self.pub_gt.publish(String(data=ground_truth_json(self.scene, self._header())))
        cam = self.scene.camera
        self.get_logger().info(f"scene {seed}: {len(self.scene.objects)} objects, camera "
                               + ", ".join(f"{k} {v:.2f}" for k, v in cam.items() if isinstance(v, float)))

    def _encode_depth(self) -> None:
        depth = self.scene.depth_16uc1() if self.depth_encoding == "16UC1" else self.scene.depth
        self.msg_depth = numpy_to_image(depth, self.depth_encoding)

    def _header(self) -> Header:
        return Header(stamp=self.get_clock().now().to_msg(), frame_id=FRAME_ID)

    def _tick(self) -> None:
        header = self._header()
        self.msg_image.header = self.msg_depth.header = self.msg_info.header = header
        self.pub_info.publish(self.msg_info)
        self.pub_image.publish(self.msg_image)
        self.pub_depth.publish(self.msg_depth)

    def _on_new_scene(self, request, response):
        try:
            self._render(self.seed + 1)
            response.success, response.message = True, json.dumps({"seed": self.seed})
        except Exception as exc:  # noqa: BLE001 - the caller gets the reason; the camera keeps the old scene
            response.success = False
            response.message = json.dumps({"seed": self.seed, "error": f"{type(exc).__name__}: {exc}"})
            self.get_logger().error(f"new scene failed, keeping scene {self.seed}: {type(exc).__name__}: {exc}")
        return response

    def close(self) -> None:
        self.sim.close()


def main(args: Optional[List[str]] = None) -> int:
    rclpy.init(args=args)
    node: Optional[SimCamera] = None
    code = 0
    try:
        node = SimCamera()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ParameterProblem, rclpy.exceptions.InvalidParameterTypeException,
            rclpy.exceptions.InvalidParameterValueException) as exc:
        # rclpy's own type errors ("width:=640.0") too: one line, not a traceback through its internals
        print(f"sim_camera: bad parameter: {exc}", file=sys.stderr, flush=True)
        code = 2
    finally:
        if node is not None:
            node.close()
            node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return code


if __name__ == "__main__":
    sys.exit(main())
