"""Adversarial review of the node against real drivers and deployments (QoS, time, parameters).

Each test states the input a real robot produces and what the node did wrong before the fix. The expected
positions come from the synthetic scene's analytic geometry (synthetic_camera.expected_position), not from the
node's code. Node-level tests run the node as a process over real DDS (loopback profile), or in-process with the
sensor callbacks called directly where only the node's logic is under test.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

import synthetic_camera as cam
from ros_harness import ProbeNode, start_stack, unique_namespace, wait_ready

from grounding_node.geometry.camera import Intrinsics
from grounding_node.launcher import wait_until
from grounding_node.ros import params as P
from grounding_node.ros.conversions import camera_info_from_intrinsics, numpy_to_image
from grounding_node.ros.sync import FrameSync

S = 1_000_000_000
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


def _messages():
    rgb, depth_m = cam.render()
    img = numpy_to_image(rgb, "rgb8")
    depth = numpy_to_image(np.round(depth_m * 1000.0).astype(np.uint16), "16UC1")
    info = camera_info_from_intrinsics(Intrinsics(cam.FX, cam.FY, cam.CX, cam.CY, cam.WIDTH, cam.HEIGHT))
    return img, depth, info


def _stamp(header: Header, ns: int, frame_id: str = cam.FRAME_ID) -> Header:
    header.stamp.sec, header.stamp.nanosec = divmod(int(ns), S)
    header.frame_id = frame_id
    return header


# ------------------------------------------------------------------------------------------------------
# 1. A bag played in a loop (`ros2 bag play --loop`): the stamps jump back to the bag's start. Depth arrives
#    after its image, so every pair completed in add_depth, which refused any image older than the newest
#    completed frame ("never back in time"): for the whole second loop no frame completed and every command
#    got "no camera frame within 2.00 s".
def _play(sync: FrameSync, clock: list, start_s: float, n: int) -> list:
    done = []
    for i in range(n):
        st = int((start_s + 0.1 * i) * S)
        a = sync.add_image(st, f"img{st}")
        clock[0] += 0.01
        b = sync.add_depth(st, f"dep{st}")
        clock[0] += 0.09
        done.append(a is not None or b is not None)
    return done


def test_frame_sync_pairs_again_after_the_stamps_jump_back():
    clock = [0.0]
    sync = FrameSync(0.05, depth_timeout_s=0.5, clock=lambda: clock[0])
    assert all(_play(sync, clock, 100.0, 20))
    assert sync.latest().stamp_ns == int(101.9 * S)
    second = _play(sync, clock, 100.0, 20)          # the loop restarts at the bag's first stamp
    assert all(second), second
    latest = sync.latest()
    assert latest.stamp_ns == int(101.9 * S) and latest.depth is not None and latest.depth[:3] == "dep"
    assert latest.seq == 40


def test_frame_sync_after_a_jump_back_uses_no_depth_or_info_of_the_old_loop():
    """A short bag (fewer frames than the windows hold) repeats its stamps exactly: after the jump, a pending
    depth or a camera_info of the previous loop must not pair with this loop's images."""
    clock = [0.0]
    sync = FrameSync(0.05, depth_timeout_s=0.5, clock=lambda: clock[0])
    sync.add_info("info-old", int(100.0 * S))
    sync.add_image(int(100.0 * S), "img-a")
    sync.add_depth(int(100.0 * S), "dep-a")
    sync.add_depth(int(100.1 * S), "dep-old")       # its image was lost: it waits in the window
    clock[0] += 0.1
    sync.add_info("info-new", int(100.1 * S))
    frame = sync.add_image(int(100.1 * S) - int(0.3 * S), "img-loop2")   # jumped back 0.3 s: 99.8
    assert frame is None or frame.depth != "dep-old"
    frame = sync.add_image(int(100.1 * S), "img-b")  # same stamp as the old depth, but of the new loop
    assert frame is None or frame.depth != "dep-old", frame


def test_frame_sync_recovers_from_one_frame_stamped_far_in_the_future():
    """A driver glitch stamps one frame in 2100: every later pair was older than it, so none completed again."""
    clock = [0.0]
    sync = FrameSync(0.05, depth_timeout_s=0.5, clock=lambda: clock[0])
    _play(sync, clock, 100.0, 5)
    _play(sync, clock, 4.1e9, 1)                     # one frame in 2100
    assert all(_play(sync, clock, 100.5, 10))
    assert sync.latest().stamp_ns == int(101.4 * S)


@pytest.fixture
def inproc_node(ros):
    """The real GroundingNode in this process, configured and active, fed by calling its callbacks."""
    from grounding_node.ros.node import GroundingNode

    nodes = []

    def make(**params):
        overrides = [Parameter("backend", value="pg_test_backends:ColorBackend"),
                     Parameter("autostart", value=False)]
        overrides += [Parameter(k, value=v) for k, v in params.items()]
        node = GroundingNode(node_name="adv_node", namespace=unique_namespace(), parameter_overrides=overrides)
        nodes.append(node)
        node.trigger_configure()
        node.trigger_activate()
        return node

    yield make
    for node in nodes:
        node.trigger_shutdown()
        node.destroy_node()


def _feed(node, img, depth, info, stamp_ns: int, frames=(cam.FRAME_ID,) * 3) -> None:
    for msg, frame_id in zip((img, depth, info), frames):
        _stamp(msg.header, stamp_ns, frame_id)
    node._on_info(info)
    node._on_image(img, {})
    node._on_depth(depth, {})


def _ground(node, text: str = "red box", timeout_s: float = 1.0):
    job = node._submit(text, timeout_s)
    assert job.done.wait(timeout_s + 10.0), "no answer"
    return job.response


def test_node_grounds_the_new_loop_of_a_looping_bag(inproc_node):
    node = inproc_node(max_frame_age=0.3)
    img, depth, info = _messages()
    for i in range(30):                               # loop 1: 100.0 .. 102.9 s
        _feed(node, img, depth, info, int((100.0 + 0.1 * i) * S))
    first = _ground(node)
    assert not first.error and first.objects[0].has_position
    time.sleep(0.4)                                   # the last frame of loop 1 is now older than max_frame_age
    stop = threading.Event()

    def loop2():
        for i in range(40):
            if stop.is_set():
                return
            _feed(node, img, depth, info, int((100.0 + 0.1 * i) * S))
            time.sleep(0.05)

    feeder = threading.Thread(target=loop2)
    feeder.start()
    try:
        time.sleep(0.2)
        second = _ground(node)
    finally:
        stop.set()
        feeder.join()
    assert not second.error, second.error
    assert node.stats.recent_warnings.get("time_jump") == 1   # said once per jump, not per frame
    stamp = second.header.stamp.sec + second.header.stamp.nanosec / 1e9
    assert 100.0 <= stamp < 101.5, stamp              # a frame of the new loop (102.9 is reached after 1.45 s)
    obj = second.objects[0]
    assert obj.has_position
    np.testing.assert_allclose([obj.position.x, obj.position.y, obj.position.z],
                               cam.expected_position("red"), atol=0.01)


# ------------------------------------------------------------------------------------------------------
# 2. `ros2 param set /grounding_node max_rate false` (or `timeout: true` in a params file) was accepted: float
#    parameters are declared with dynamic typing and `validate` skipped every check for a bool. max_rate=False
#    then divided by zero in the worker's continuous wait (an error loop), sync_slop=True paired 1 s apart.
FLOAT_PARAMS = [s.name for s in P.PARAMS if isinstance(s.default, float)]


@pytest.mark.parametrize("name", FLOAT_PARAMS)
def test_validate_refuses_a_bool_for_a_float_parameter(name):
    defaults = {s.name: s.default for s in P.PARAMS}
    for value in (True, False):
        reasons = P.validate({**defaults, name: value})
        assert any(name in r for r in reasons), (name, value, reasons)


def test_node_refuses_bool_float_parameters_at_run_time_and_at_start(inproc_node):
    node = inproc_node()
    for name, value in (("max_rate", False), ("timeout", True), ("sync_slop", True), ("diagnostics_period", False)):
        before = node.values[name]
        (result,) = node.set_parameters([Parameter(name, value=value)])
        assert not result.successful and name in result.reason, (name, result.reason)
        assert node.values[name] == before and type(node.values[name]) is float
    (result,) = node.set_parameters([Parameter("max_rate", value=2)])   # an integer is still fine
    assert result.successful and node.values["max_rate"] == 2.0
    from grounding_node.ros.node import GroundingNode

    bad = GroundingNode(node_name="adv_bad", namespace=unique_namespace(),
                        parameter_overrides=[Parameter("autostart", value=False), Parameter("timeout", value=True)])
    try:
        assert any("timeout" in e for e in bad.config_errors), bad.config_errors
    finally:
        bad.destroy_node()


# ------------------------------------------------------------------------------------------------------
# 3. CameraInfo latched: a static calibration publisher (or a driver) sends it once with TRANSIENT_LOCAL
#    before the node starts. The node's volatile sensor-QoS subscription matched it but got no history: 2D
#    only forever ("no valid camera_info received yet"), although the calibration was on the topic.
class _Feeder:
    """Publishes image + depth (sensor QoS, the realsense/usb_cam default) at 15 Hz, stamped now."""

    def __init__(self, probe: ProbeNode, qos=qos_profile_sensor_data) -> None:
        self.img, self.depth, _ = _messages()
        self.pub_img = probe.node.create_publisher(Image, "image", qos)
        self.pub_depth = probe.node.create_publisher(Image, "depth_image", qos)
        self.clock = probe.node.get_clock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            now = self.clock.now().nanoseconds
            _stamp(self.img.header, now)
            _stamp(self.depth.header, now)
            self.pub_img.publish(self.img)
            self.pub_depth.publish(self.depth)
            time.sleep(1.0 / 15)

    def __enter__(self) -> "_Feeder":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5.0)


def test_camera_info_latched_before_the_node_starts_is_used(ros, launcher):
    ns = unique_namespace()
    probe = ProbeNode(ns)
    try:
        _, _, info = _messages()
        _stamp(info.header, probe.node.get_clock().now().nanoseconds)
        pub_info = probe.node.create_publisher(CameraInfo, "camera_info", LATCHED)
        pub_info.publish(info)                        # once, before the node exists
        proc, _ = start_stack(launcher, ns, camera=False)
        wait_ready(probe, launcher, proc)
        with _Feeder(probe):
            assert wait_until(lambda: int(probe.last_diag_values().get("frames_received", 0)) > 0, 20)
            n = len(probe.detections)
            probe.send("red box")
            results = probe.wait_for_detections(n + 1, 15)
        assert len(results) == n + 1, launcher.log(proc)[-2000:]
        r = results[n]
        assert not r.error and r.objects, r.error
        obj = r.objects[0]
        assert obj.has_position, (list(r.warnings), launcher.log(proc)[-1500:])
        np.testing.assert_allclose([obj.position.x, obj.position.y, obj.position.z],
                                   cam.expected_position("red"), atol=0.01)
        # nothing in the log about incompatible QoS: the latched subscription is the node's own business
        assert "incompatible" not in launcher.log(proc).lower(), launcher.log(proc)[-1500:]
    finally:
        probe.close()


# ------------------------------------------------------------------------------------------------------
# 4. frame_ids. A RealSense at 640x480 colour and 640x480 depth: remapping depth_image to the unaligned
#    /camera/depth/image_rect_raw (frame camera_depth_optical_frame: another lens, 87 instead of 69 degrees,
#    15 mm away) passed every check (same size), and the node published has_position=true from another
#    camera's pixels, with only a log line. The same for camera_info remapped to the depth camera's. Aligned
#    depth carries the colour frame_id (realsense, depth_image_proc/register, Orbbec, OAK-D, Gazebo): a
#    different one means another view, so no 3D, and the result says why.
def _ground_with_frames(node, frames):
    img, depth, info = _messages()
    now = time.time_ns()
    for i in range(3):
        _feed(node, img, depth, info, now + i * 50_000_000, frames)
    return _ground(node)


def test_unaligned_depth_of_another_frame_gives_no_3d_and_says_why(inproc_node):
    node = inproc_node()
    r = _ground_with_frames(node, (cam.FRAME_ID, "camera_depth_optical_frame", cam.FRAME_ID))
    assert not r.error and r.objects, r.error
    assert not any(o.has_position for o in r.objects)
    assert any("camera_depth_optical_frame" in w and "2D" in w for w in r.warnings), list(r.warnings)


def test_camera_info_of_another_frame_gives_no_3d_and_says_why(inproc_node):
    node = inproc_node()
    r = _ground_with_frames(node, (cam.FRAME_ID, cam.FRAME_ID, "camera_depth_optical_frame"))
    assert not r.error and r.objects, r.error
    assert not any(o.has_position for o in r.objects)
    assert any("camera_info" in w and "camera_depth_optical_frame" in w for w in r.warnings), list(r.warnings)


@pytest.mark.parametrize("frames", [
    (cam.FRAME_ID, "/" + cam.FRAME_ID, cam.FRAME_ID),       # a ROS 1 style leading slash: the same frame
    (cam.FRAME_ID, "", ""),                                  # a driver that leaves depth/info frame_id empty
])
def test_same_or_unnamed_frames_still_give_3d(inproc_node, frames):
    node = inproc_node()
    r = _ground_with_frames(node, frames)
    assert not r.error and r.objects[0].has_position, list(r.warnings)
    obj = r.objects[0]
    np.testing.assert_allclose([obj.position.x, obj.position.y, obj.position.z],
                               cam.expected_position("red"), atol=0.01)


def test_empty_image_frame_id_is_reported(inproc_node):
    """The outputs (target, markers) would carry frame_id '' (RViz: 'frame [] does not exist'); 3D is still
    computed (the numbers are right, in the camera's optical frame), and the user is told what to fix."""
    node = inproc_node()
    r = _ground_with_frames(node, ("", "", ""))
    assert not r.error and r.objects[0].has_position
    assert r.header.frame_id == ""
    assert any("empty frame_id" in w for w in r.warnings), list(r.warnings)


# ------------------------------------------------------------------------------------------------------
# 5. A planner publishing commands BEST_EFFORT (`ros2 topic pub --qos-reliability best_effort`, a sensor-QoS
#    publisher): DDS never delivers them to the node's reliable reader. rclpy logged one generic line, and
#    /diagnostics (what rqt_robot_monitor shows) said nothing: the node looked healthy and idle.
def test_best_effort_command_publisher_is_reported_in_diagnostics(ros, launcher):
    from std_msgs.msg import String

    ns = unique_namespace()
    probe = ProbeNode(ns)
    try:
        proc, _ = start_stack(launcher, ns, camera=True)
        wait_ready(probe, launcher, proc)
        best_effort = probe.node.create_publisher(String, "command", qos_profile_sensor_data)
        assert best_effort is not None
        ok = wait_until(lambda: "RELIABILITY" in probe.last_diag_values().get("last_warning", ""), 15)
        diag = probe.last_diag_values()
        assert ok, diag
        assert "command" in diag["last_warning"], diag
        with probe.lock:
            assert any("command_qos" in d.status[0].message for d in probe.diagnostics)   # level WARN or above
        # and a reliable publisher is still served, the camera's volatile camera_info raised nothing
        n = len(probe.detections)
        probe.send("red box")
        results = probe.wait_for_detections(n + 1, 15)
        assert len(results) == n + 1 and results[n].objects[0].has_position, launcher.log(proc)[-1500:]
        assert not [line for line in launcher.log(proc).splitlines() if "incompatible" in line.lower()
                    and "camera_info" in line], launcher.log(proc)[-1500:]
    finally:
        probe.close()


# ------------------------------------------------------------------------------------------------------
# 6. A driver reconfigured from 640x480 to 1280x720 (rqt_reconfigure, a launch restart of the camera only):
#    images of the new mode arrived while the newest camera_info was still the 640x480 one. The node scaled
#    that K unevenly (fx x2, fy x1.5) and published has_position=true: a RealSense's 1280x720 mode has fx 1.5x
#    the 640x480 one, not 2x, so x came out 25 % short (7.5 cm at 30 cm off-axis). Another aspect ratio is
#    another mode: no 3D until its camera_info arrives; the same aspect (binning) is still scaled.
def _images_of(width: int, height: int):
    rgb, depth_m = cam.render(width, height)
    return numpy_to_image(rgb, "rgb8"), numpy_to_image(np.round(depth_m * 1000.0).astype(np.uint16), "16UC1")


def test_camera_info_of_another_aspect_ratio_is_not_applied(inproc_node):
    node = inproc_node()
    _, _, info640 = _messages()
    img, depth = _images_of(1280, 720)
    now = time.time_ns()
    _stamp(info640.header, now - 10 ** 9)
    node._on_info(info640)                              # the old mode's, a second earlier
    for i in range(3):
        for msg in (img, depth):
            _stamp(msg.header, now + i * 50_000_000)
        node._on_image(img, {})
        node._on_depth(depth, {})
    r = _ground(node)
    assert not r.error and r.objects, r.error
    assert not r.objects[0].has_position, (r.objects[0].position, list(r.warnings))
    assert any("640x480" in w and "1280x720" in w for w in r.warnings), list(r.warnings)
    # the new mode's camera_info arrives: 3D again, with its own K (hand maths, not the node's scaling)
    fx, cx, cy = 922.0, 639.5, 359.5
    info720 = camera_info_from_intrinsics(Intrinsics(fx, fx, cx, cy, 1280, 720))
    stamp = now + 3 * 50_000_000
    _feed(node, img, depth, info720, stamp)
    r = _ground(node)
    obj = r.objects[0]
    assert obj.has_position, list(r.warnings)
    u0, v0, u1, v1 = 200, 180, 440, 360                 # the red face in render(1280, 720)
    uc, vc, z = (u0 + u1 - 1) / 2.0, (v0 + v1 - 1) / 2.0, 0.6
    np.testing.assert_allclose([obj.position.x, obj.position.y, obj.position.z],
                               [(uc - cx) * z / fx, (vc - cy) * z / fx, z], atol=0.005)


def test_camera_info_of_the_same_aspect_is_still_scaled(inproc_node):
    """A binned or upscaled mode of the same aspect (640x480 calibration, 1280x960 image): K scales exactly."""
    node = inproc_node()
    _, _, info640 = _messages()
    img, depth = _images_of(1280, 960)
    now = time.time_ns()
    for i in range(3):
        _feed(node, img, depth, info640, now + i * 50_000_000)
    r = _ground(node)
    obj = r.objects[0]
    assert obj.has_position, list(r.warnings)
    fx, cx, cy = 2 * cam.FX, (cam.CX + 0.5) * 2 - 0.5, (cam.CY + 0.5) * 2 - 0.5
    u0, v0, u1, v1 = 200, 240, 440, 480
    uc, vc, z = (u0 + u1 - 1) / 2.0, (v0 + v1 - 1) / 2.0, 0.6
    np.testing.assert_allclose([obj.position.x, obj.position.y, obj.position.z],
                               [(uc - cx) * z / fx, (vc - cy) * z / fx, z], atol=0.005)


# ------------------------------------------------------------------------------------------------------
# 7. The shipped params file, edited and passed with a namespace (the launch file's `namespace:=arm_cam`, the
#    README's example): its key `grounding_node` is matched as `/grounding_node` only, so a node at
#    /arm_cam/grounding_node silently ignored every value in it (backend, thresholds...) and ran on defaults.
@pytest.mark.parametrize("namespace", ["/", "/arm_cam", "/robot1/arm_cam"])
def test_the_shipped_params_file_applies_in_any_namespace(ros, tmp_path, namespace):
    import yaml

    from grounding_node.ros.node import GroundingNode

    data = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "params.yaml").read_text())
    (key,) = data
    data[key]["ros__parameters"].update(max_rate=7.0, autostart=False,
                                        backend="pg_test_backends:ColorBackend")
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data))
    node = GroundingNode(namespace=namespace, cli_args=["--ros-args", "--params-file", str(path)])
    try:
        assert node.values["max_rate"] == 7.0, (key, node.get_fully_qualified_name())
        assert node.values["backend"] == "pg_test_backends:ColorBackend"
    finally:
        node.destroy_node()
