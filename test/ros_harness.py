"""Helpers for tests that run the node through real rclpy in separate processes.

`ProbeNode` plays the user: it publishes commands, calls `~/ground`, and records everything the node
publishes. `start_stack` starts the grounding node and a camera as processes via the ROS-free launcher.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseStamped
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import String
from visualization_msgs.msg import MarkerArray

from grounding_node.launcher import Launcher, ros_args, wait_until
from phrase_grounding.msg import GroundedObjectArray
from phrase_grounding.srv import Ground

TEST_DIR = Path(__file__).resolve().parent
REPO = TEST_DIR.parent
COLOR_BACKEND = "pg_test_backends:ColorBackend"
_counter = itertools.count()


def unique_namespace() -> str:
    return f"/t{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:4]}"


class ProbeNode:
    """A node in the test process with its own executor thread."""

    def __init__(self, namespace: str, node_name: str = "grounding_node") -> None:
        self.ns = namespace
        self.node = Node(f"probe_{uuid.uuid4().hex[:6]}", namespace=namespace)
        reliable = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self.lock = threading.Lock()
        self.detections: List[GroundedObjectArray] = []
        self.targets: List[PoseStamped] = []
        self.markers: List[MarkerArray] = []
        self.debug_images: List[Image] = []
        self.diagnostics: List[DiagnosticArray] = []
        self.images: List[Image] = []
        priv = f"{namespace}/{node_name}"
        self._subs = [
            self.node.create_subscription(GroundedObjectArray, "detections", self._keep(self.detections), reliable),
            self.node.create_subscription(PoseStamped, f"{priv}/target", self._keep(self.targets), reliable),
            self.node.create_subscription(MarkerArray, f"{priv}/markers", self._keep(self.markers), reliable),
            self.node.create_subscription(Image, f"{priv}/debug_image", self._keep(self.debug_images), reliable),
            self.node.create_subscription(DiagnosticArray, "/diagnostics", self._keep_diag, reliable),
        ]
        self.command_pub = self.node.create_publisher(String, "command", QoSProfile(
            depth=100, reliability=ReliabilityPolicy.RELIABLE))
        self.ground_client = self.node.create_client(Ground, f"{priv}/ground")
        self._fqn = priv
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def _keep(self, store: list):
        def cb(msg) -> None:
            with self.lock:
                store.append(msg)
        return cb

    def _keep_diag(self, msg: DiagnosticArray) -> None:
        # /diagnostics is global: keep only our node's status (its hardware_id is the node's full name).
        if msg.status and msg.status[0].hardware_id == self._fqn:
            with self.lock:
                self.diagnostics.append(msg)

    def subscribe_raw_image(self, topic: str) -> None:
        from rclpy.qos import qos_profile_sensor_data

        self._subs.append(self.node.create_subscription(Image, topic, self._keep(self.images),
                                                        qos_profile_sensor_data))

    def send(self, text: str) -> None:
        self.command_pub.publish(String(data=text))

    def wait_for_subscriber(self, timeout: float = 20.0) -> bool:
        """The node's command subscription is up (so a published command is not lost to discovery)."""
        return wait_until(lambda: self.command_pub.get_subscription_count() > 0, timeout)

    def wait_for_detections(self, n: int, timeout: float) -> List[GroundedObjectArray]:
        wait_until(lambda: len(self.detections) >= n, timeout)
        with self.lock:
            return list(self.detections)

    def call_ground(self, command: str, timeout_s: float = 2.0, wait: float = 30.0) -> Optional[Ground.Response]:
        if not self.ground_client.wait_for_service(timeout_sec=wait):
            return None
        future = self.ground_client.call_async(Ground.Request(command=command, timeout_s=timeout_s))
        wait_until(future.done, wait)
        return future.result() if future.done() else None

    def last_diag_values(self) -> Dict[str, str]:
        with self.lock:
            if not self.diagnostics:
                return {}
            status = self.diagnostics[-1].status[0]
        values = {kv.key: kv.value for kv in status.values}
        values["_level"] = int.from_bytes(status.level, "little") if isinstance(status.level, bytes) \
            else int(status.level)
        values["_message"] = status.message
        return values

    def close(self) -> None:
        """Stop the spin thread before destroying the node: a spin loop left running over a destroyed node
        holds the GIL and starved the test's main thread (seen once as a hung teardown)."""
        self.executor.shutdown(timeout_sec=2.0)
        self._thread.join(timeout=5.0)
        self.executor.remove_node(self.node)
        self.node.destroy_node()


def node_args(namespace: str, backend: str = COLOR_BACKEND, backend_options: Optional[dict] = None,
              **params) -> List[str]:
    p = {"backend": backend, "diagnostics_period": 0.5}
    if backend_options is not None:
        p["backend_options"] = json.dumps(backend_options)
    p.update(params)
    return ros_args(namespace=namespace, params=p)


def start_stack(launcher: Launcher, namespace: str, camera_args: Optional[List[str]] = None,
                camera: bool = True, **node_params):
    """Start the grounding node (and by default the synthetic camera) in `namespace`."""
    node = launcher.start("grounding_node", "grounding_node.ros.node", node_args(namespace, **node_params))
    cam = None
    if camera:
        cam = launcher.start("camera", str(TEST_DIR / "synthetic_camera.py"),
                             list(camera_args or []) + ros_args(namespace=namespace))
    return node, cam


def wait_ready(probe: ProbeNode, launcher: Launcher, proc, timeout: float = 30.0) -> None:
    """Wait until the node subscribes to `command`; fail with its log if it does not."""
    if not probe.wait_for_subscriber(timeout):
        raise AssertionError("grounding node did not come up; its log:\n" + launcher.log(proc)[-3000:])
    time.sleep(0.2)


def process_report(launcher: Launcher) -> str:
    """Which started processes have exited, with their codes and log tails (for assertion messages)."""
    lines = []
    for proc in launcher.processes:
        code = proc.popen.poll() if proc.popen is not None else None
        if code is not None:
            lines.append(f"{proc.name} exited with {code}:\n{launcher.log(proc)[-1500:]}")
    return "\n".join(lines) or "all processes running"
