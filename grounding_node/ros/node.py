"""The grounding lifecycle node: wiring only.

configure: declare-time parameters are read, the backend is loaded (a failure keeps the node up and
           answers every command with the load error), publishers, diagnostics and the worker start.
activate:  sensor/command subscriptions and the `~/ground` service are created.
deactivate: they are destroyed, queued commands get an error result, the frame slot is emptied.

Geometry, models and drawing live in the ROS-free core; conversions, pairing, the worker and the
messages live in sibling modules. Callbacks only validate, convert (zero-copy) and hand over.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any, Dict, List, Optional

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rcl_interfaces.msg import SetParametersResult
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String

from grounding_node.geometry.camera import Intrinsics
from grounding_node.grounding.command import parse_command
from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame
from grounding_node.models.base import BackendConfig, GroundingBackend
from grounding_node.models.registry import create_backend
from grounding_node.ros import params as P
from grounding_node.ros.conversions import (
    COLOR_ENCODINGS,
    DEPTH_ENCODINGS,
    ImageConversionError,
    image_to_numpy,
    intrinsics_from_camera_info,
    stamp_to_ns,
    to_rgb8,
)
from grounding_node.ros.diagnostics import NodeStats, diagnostic_array
from grounding_node.ros.messages import result_to_msg
from grounding_node.ros.publishers import RELIABLE_10, ResultPublishers
from grounding_node.ros.sync import FrameSync, SyncedFrame
from grounding_node.ros.worker import GroundingWorker, Job
from phrase_grounding.srv import Ground

# Reliable with room for a burst: a planner flooding commands must never lose one inside DDS. The
# bounded queue users see is the worker's (`command_queue_size`), which answers overflow with "busy".
COMMAND_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                         durability=QoSDurabilityPolicy.VOLATILE)
WARN_PERIOD_S = 5.0


class GroundingNode(LifecycleNode):
    """Phrase in, GroundedObjectArray (+ target, markers, debug image, diagnostics) out."""

    def __init__(self, node_name: str = "grounding_node", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self.values: Dict[str, Any] = P.declare_all(self)
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.stats = NodeStats()
        self.backend: Optional[GroundingBackend] = None
        self._warned_at: Dict[str, float] = {}
        self._command_sub = None
        self._idle_timer = None
        self._wake_guard = None
        self._sensors_paused = False
        self._last_activity = time.monotonic()
        self._idle_lock = threading.Lock()   # _wake (any thread) vs _check_idle (executor): no lost wake-up
        self._sync = FrameSync(self.values["sync_slop"], depth_timeout_s=self.values["depth_timeout"])
        self._worker = GroundingWorker(self._sync, self._handle_job, self.values["command_queue_size"])
        self._apply_runtime_values()
        self._pubs: Optional[ResultPublishers] = None
        self._diag_pub = None
        self._diag_timer = None
        self._subs: List[Any] = []
        self._service = None
        self._active = False
        self._service_node = None
        self._service_executor = None
        self._service_thread: Optional[threading.Thread] = None
        self._image_view_ms = 0.0
        self._timing_file = open(self.values["timing_log"], "a", encoding="utf-8") if self.values["timing_log"] else None

    # ------------------------------------------------------------------------------------------------
    # lifecycle
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._load_backend()
        self._pubs = ResultPublishers(self)
        from diagnostic_msgs.msg import DiagnosticArray

        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", RELIABLE_10)
        self._diag_timer = self.create_timer(self.values["diagnostics_period"], self._publish_diagnostics)
        self._start_service_node()
        self._worker.start()
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        ret = super().on_activate(state)   # enables the lifecycle publishers
        self._subscribe_sensors()
        self._command_sub = self.create_subscription(String, "command", self._on_command, COMMAND_QOS, raw=True)
        self._service = self._service_node.create_service(
            Ground, f"{self.get_fully_qualified_name()}/ground", self._on_ground)
        self._wake_guard = self.create_guard_condition(self._subscribe_sensors)
        self._idle_timer = self.create_timer(0.5, self._check_idle)
        self._last_activity = time.monotonic()
        self._active = True
        self.get_logger().info(f"active: backend {self.stats.model}; waiting for image, depth_image, camera_info")
        return ret

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        self._unsubscribe_sensors()
        for entity, destroy in ((self._command_sub, self.destroy_subscription), (self._idle_timer, self.destroy_timer),
                                (self._wake_guard, self.destroy_guard_condition)):
            if entity is not None:
                destroy(entity)
        self._command_sub = self._idle_timer = self._wake_guard = None
        self._sensors_paused = False
        if self._service is not None:
            self._service_node.destroy_service(self._service)
            self._service = None
        self._worker.drain("node deactivated before this command ran")
        self._worker.clear_active()
        self._sync.reset()
        return super().on_deactivate(state)

    # -- sensor subscriptions, paused when idle (idle_unsubscribe_after) ------------------------------
    def _subscribe_sensors(self) -> None:
        """Create the image/depth/camera_info subscriptions (executor thread). Also the wake-up path."""
        if self._subs:
            return
        sensor = qos_profile_sensor_data
        self._subs = [
            self.create_subscription(Image, "image", self._on_image, sensor),
            self.create_subscription(Image, "depth_image", self._on_depth, sensor),
            self.create_subscription(CameraInfo, "camera_info", self._on_info, sensor),
        ]
        if self._sensors_paused:
            self._sync.resume()
            self.get_logger().info("command: sensor subscriptions resumed")
        self._sensors_paused = False

    def _unsubscribe_sensors(self) -> None:
        for sub in self._subs:
            self.destroy_subscription(sub)
        self._subs = []

    def _check_idle(self) -> None:
        """Why: taking 30 Hz image messages into Python costs ~10 % of a core even when nothing is asked.
        With `idle_unsubscribe_after` > 0, an idle node drops its sensor subscriptions until the next command
        (which then waits for the next frame: DDS matching plus one frame period)."""
        after = self.values["idle_unsubscribe_after"]
        if after <= 0 or not self._subs or not self._active:
            return
        continuous = self._worker.continuous and self._worker.active_command is not None
        if continuous or self._worker.pending or self._worker.running:
            self._last_activity = time.monotonic()
            return
        with self._idle_lock:
            if time.monotonic() - self._last_activity < after:
                return
            self._sensors_paused = True
        self._unsubscribe_sensors()
        self.get_logger().info(f"idle for {after:g} s: sensor subscriptions paused until the next command")

    def _wake(self) -> None:
        """Any thread: note activity and, if paused, resubscribe from the executor thread."""
        with self._idle_lock:
            self._last_activity = time.monotonic()
            paused = self._sensors_paused
        if paused and self._wake_guard is not None:
            self._wake_guard.trigger()

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._teardown()
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        self._teardown()
        return super().on_shutdown(state)

    def _start_service_node(self) -> None:
        """`~/ground` answers synchronously, so its callback blocks until the worker is done. It lives on a
        companion node with its own executor thread: blocking there never stalls the sensor callbacks that
        the worker may be waiting on. Its name is the main node's `~/ground`, fully resolved."""
        self._service_node = rclpy.create_node(
            f"{self.get_name()}_ground_service", namespace=self.get_namespace(), context=self.context,
            use_global_arguments=False, start_parameter_services=False, enable_rosout=False)
        self._service_executor = SingleThreadedExecutor(context=self.context)
        self._service_executor.add_node(self._service_node)
        self._service_thread = threading.Thread(target=self._spin_service, name="ground_service", daemon=True)
        self._service_thread.start()

    def _spin_service(self) -> None:
        try:
            self._service_executor.spin()
        except (ExternalShutdownException, RuntimeError):
            pass

    def _teardown(self) -> None:
        self._worker.stop()
        if self._service_executor is not None:
            self._service_executor.shutdown(timeout_sec=1.0)
            self._service_node.destroy_node()
            self._service_executor = self._service_node = None
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
            self._diag_timer = None
        if self._pubs is not None:
            for pub in self._pubs.all():
                self.destroy_lifecycle_publisher(pub)
            self._pubs = None
        if self._diag_pub is not None:
            self.destroy_publisher(self._diag_pub)
            self._diag_pub = None
        if self.backend is not None:
            self.backend.close()
            self.backend = None

    def _load_backend(self) -> None:
        v = self.values
        config = BackendConfig(model=v["model"], device=v["device"], dtype=v["dtype"],
                               local_files_only=v["local_files_only"], score_threshold=v["score_threshold"],
                               extra=json.loads(v["backend_options"]))
        t0 = time.perf_counter()
        try:
            self.backend = create_backend(v["backend"], config)
        except Exception as exc:  # noqa: BLE001 - any load failure must leave the node up and reporting
            self.backend = None
            self.stats.model = v["backend"]
            self.stats.backend_error = f"{type(exc).__name__}: {exc}"
            self.get_logger().error(f"backend '{v['backend']}' failed to load: {self.stats.backend_error}; "
                                    "every command will get this error until the node is reconfigured")
            return
        self.stats.model = self.backend.describe()
        self.stats.backend_error = ""
        self.get_logger().info(f"loaded {self.stats.model} in {time.perf_counter() - t0:.2f} s")

    # ------------------------------------------------------------------------------------------------
    # parameters
    def _on_set_parameters(self, params: List[Parameter]) -> SetParametersResult:
        merged = dict(self.values)
        for p in params:
            if p.name in P.SPECS:
                merged[p.name] = p.value
        reasons = P.validate(merged)
        if reasons:
            return SetParametersResult(successful=False, reason="; ".join(reasons))
        self.values = merged
        self._apply_runtime_values()
        return SetParametersResult(successful=True)

    def _apply_runtime_values(self) -> None:
        """Push the values the worker and pairing read; the pipeline reads self.values per frame."""
        v = self.values
        self._settings = P.settings_from(v)
        self._sync.set_slop(v["sync_slop"])
        self._sync.depth_timeout_s = v["depth_timeout"]
        w = self._worker
        w.queue_size, w.max_frame_age = v["command_queue_size"], v["max_frame_age"]
        w.continuous, w.max_rate = v["continuous"], v["max_rate"]
        w.frame_arrived()   # wake it: continuous mode may have been switched on
        if v["continuous"] or v["idle_unsubscribe_after"] <= 0:
            self._wake()    # and the sensors, if they were paused

    # ------------------------------------------------------------------------------------------------
    # sensor callbacks: validate, keep a zero-copy view, hand over to the pairing
    def _warn(self, key: str, text: str) -> None:
        """Throttled per kind of problem (rclpy's own throttle is per call site, which would merge kinds)."""
        self.stats.warn(key, text)
        now = time.monotonic()
        if now - self._warned_at.get(key, -1e9) >= WARN_PERIOD_S:
            self._warned_at[key] = now
            self.get_logger().warning(text)

    def _stamp_ns(self, header: Header, what: str) -> int:
        ns = stamp_to_ns(header.stamp)
        if ns == 0:
            self._warn("zero_stamp", f"{what} has a zero timestamp; pairing by stamp cannot separate such frames "
                                     "(fix the driver's clock)")
        return ns

    def _view(self, msg: Image, allowed, what: str):
        """Zero-copy view of a sensor image, or None (counted, warned) when it is malformed."""
        try:
            return image_to_numpy(msg, allowed=allowed)
        except ImageConversionError as exc:
            self.stats.frames_dropped += 1
            self._warn(f"bad_{what}", f"{what} dropped: {exc}")
            return None

    def _on_image(self, msg: Image) -> None:
        t0 = time.perf_counter()
        arr = self._view(msg, COLOR_ENCODINGS, "image") if self._active else None
        if arr is not None:
            stamp = self._stamp_ns(msg.header, "image")
            self._image_view_ms = (time.perf_counter() - t0) * 1000.0   # msg -> numpy (zero-copy view)
            self._frame_done(self._sync.add_image(stamp, (msg.header, arr, msg.encoding)))

    def _on_depth(self, msg: Image) -> None:
        arr = self._view(msg, DEPTH_ENCODINGS, "depth_image") if self._active else None
        if arr is not None:
            stamp = self._stamp_ns(msg.header, "depth_image")
            self._frame_done(self._sync.add_depth(stamp, (arr, msg.encoding)))

    def _on_info(self, msg: CameraInfo) -> None:
        if not self._active:
            return
        intr = intrinsics_from_camera_info(msg)
        if not intr.is_valid():
            self._warn("bad_camera_info", "camera_info has an invalid K (all zeros or non-positive focal "
                                          f"length, {msg.width}x{msg.height}): 3D positions are unavailable")
            intr = None
        self._sync.add_info(intr)

    def _frame_done(self, frame: Optional[SyncedFrame]) -> None:
        s = self._sync.stats
        self.stats.sync_failures = s.sync_failures
        self.stats.frames_received = s.complete
        self.stats.frames_superseded = s.superseded
        self.stats.frames_without_depth = s.complete_without_depth
        if frame is not None:
            self._worker.frame_arrived()

    # ------------------------------------------------------------------------------------------------
    # commands
    def _decode_command(self, raw: bytes) -> Any:
        """std_msgs/String from its CDR bytes. Decoding ourselves means non-UTF-8 text is replaced and
        reported instead of raising inside the executor (rclpy's own deserialisation would)."""
        from rclpy.serialization import deserialize_message

        try:
            return deserialize_message(raw, String).data
        except Exception:  # noqa: BLE001 - fall back to a lenient CDR read
            length = int.from_bytes(raw[4:8], "little" if raw[1] == 1 else "big") if len(raw) >= 8 else 0
            return bytes(raw[8:8 + max(0, length - 1)])

    def _on_command(self, raw: bytes) -> None:
        self._submit(self._decode_command(raw), self.values["timeout"])

    def _submit(self, text: Any, timeout_s: float) -> Job:
        self.stats.commands += 1
        self._wake()
        parsed = parse_command(text, self.values["max_command_length"])
        for warning in parsed.warnings:
            self._warn("command_sanitised", f"command: {warning}")
        if parsed.is_empty:
            self._warn("empty_command", "empty or whitespace-only command: active command cleared")
        job = Job(parsed=parsed, received_at=time.monotonic(), timeout_s=timeout_s)
        if not self._worker.submit(job):
            self.stats.busy_rejections += 1
            self._warn("busy", f"command queue full ({self._worker.queue_size}): answering 'busy'")
            self._finish(job, None, f"busy: {self._worker.queue_size} commands already queued; command rejected")
            job.done.set()
        return job

    def _on_ground(self, request: Ground.Request, response: Ground.Response) -> Ground.Response:
        timeout = request.timeout_s if request.timeout_s > 0 else self.values["timeout"]
        job = self._submit(request.command, timeout)
        if not job.done.wait(timeout + 120.0):   # inference time on top of the frame wait
            response.success, response.message = False, "timed out waiting for the grounding worker"
            return response
        msg = job.response
        response.result = msg
        response.success = not msg.error
        response.message = msg.error or f"{len(msg.objects)} object(s)"
        return response

    # ------------------------------------------------------------------------------------------------
    # the worker's handler: ground one frame and publish (runs in the worker thread)
    def _handle_job(self, job: Job, synced: Optional[SyncedFrame], error: str):
        result, rgb, header = None, None, Header()
        job.timing = {"wait_ms": (time.monotonic() - job.received_at) * 1000.0, "msg_to_numpy_ms": self._image_view_ms}
        if synced is not None:
            header, arr, encoding = synced.image
            self.stats.last_frame_age_s = time.monotonic() - synced.received_at
            if not error and self.backend is None:
                error = f"backend not loaded: {self.stats.backend_error}"
            if not error:
                try:
                    t0 = time.perf_counter()
                    rgb = to_rgb8(arr, encoding)
                    frame = self._to_frame(synced, rgb)
                    job.timing["to_frame_ms"] = (time.perf_counter() - t0) * 1000.0
                    result = ground_frame(self.backend, frame, job.parsed.phrases, self._settings)
                except Exception as exc:  # noqa: BLE001 - a failing model must not lose the command
                    result = None
                    error = f"backend error: {type(exc).__name__}: {exc}"
                    self._warn("backend_error", error)
        else:
            header.stamp = self.get_clock().now().to_msg()
        if result is not None:
            self.stats.last_inference_ms = result.inference_ms
            for warning in result.warnings:
                self._warn("grounding", warning)
            located = sum(o.has_position for o in result.objects)
            self.stats.located += located
            self.stats.unlocated += len(result.objects) - located
        return self._finish(job, result, error, header, rgb)

    def _finish(self, job: Job, result, error: str, header: Optional[Header] = None, rgb=None):
        total_ms = (time.monotonic() - job.received_at) * 1000.0
        msg = result_to_msg(header or Header(), job.parsed.text, self.stats.model, result, total_ms, error)
        if error:
            self.stats.errors += 1
        self.stats.results += 1
        t0 = time.perf_counter()
        if self._pubs is not None:
            self._pubs.publish(msg, result, rgb, self.values["publish_debug_image"], self.values["marker_scale_min"])
        if self._timing_file is not None:
            self._log_timing(job, result, msg, (time.perf_counter() - t0) * 1000.0)
        return msg

    def _log_timing(self, job: Job, result, msg, publish_ms: float) -> None:
        """One JSON line per result: where the time went (bench/bench_latency.py reads these)."""
        record = dict(job.timing)
        record.update(command=msg.command, error=msg.error, total_ms=msg.total_ms, publish_ms=publish_ms,
                      stamp_ns=msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec,
                      wall_time=time.time())
        if result is not None:
            record.update(inference_ms=result.inference_ms, projection_ms=result.geometry_ms)
        self._timing_file.write(json.dumps(record) + "\n")
        self._timing_file.flush()

    def _to_frame(self, synced: SyncedFrame, rgb) -> Frame:
        header = synced.image[0]
        depth, depth_encoding = synced.depth if synced.depth is not None else (None, "32FC1")
        if synced.depth is None:
            self._warn("no_depth", "no depth paired with this frame (depth stream stopped or out of sync): 2D only")
        intr: Optional[Intrinsics] = synced.info
        h, w = rgb.shape[:2]
        if intr is None:
            self._warn("no_camera_info", "no valid camera_info received yet: 2D results only")
        elif (intr.width, intr.height) != (w, h):
            self._warn("info_size", f"camera_info is {intr.width}x{intr.height} but the image is {w}x{h}: "
                                    "intrinsics scaled to the image")
            intr = intr.scaled(w, h)
        if depth is not None and depth.shape[:2] != (h, w):
            self._warn("depth_size", f"depth is {depth.shape[1]}x{depth.shape[0]}, image {w}x{h}: boxes are "
                                     "scaled into the depth image")
        return Frame(rgb=rgb, depth=depth, depth_encoding=depth_encoding, intrinsics=intr,
                     stamp_ns=synced.stamp_ns, frame_id=header.frame_id)

    # ------------------------------------------------------------------------------------------------
    def _publish_diagnostics(self) -> None:
        latest = self._sync.latest()
        self.stats.sensors = "paused (idle)" if self._sensors_paused else "subscribed"
        if self._sensors_paused:
            pass            # no frames expected: not stale
        elif latest is not None:
            self.stats.last_frame_age_s = time.monotonic() - latest.received_at
            if self._active and self.stats.last_frame_age_s > 2.0:
                self._warn("stale_input", f"no complete camera frame for {self.stats.last_frame_age_s:.1f} s")
        elif self._active:
            self._warn("no_frames", "no complete camera frame received yet")
        if self._diag_pub is not None:
            self._diag_pub.publish(diagnostic_array(self.stats, f"{self.get_name()}: grounding",
                                                    self.get_fully_qualified_name(),
                                                    self.get_clock().now().to_msg(), self._active))


def main(args: Optional[List[str]] = None) -> int:
    """`ros2 run phrase_grounding grounding_node`.

    A SingleThreadedExecutor: every callback is short (inference runs in the worker thread), and it was
    measured here at a third of MultiThreadedExecutor's idle CPU, which also delayed commands by seconds
    under load (GIL contention between its threads)."""
    rclpy.init(args=args)
    node = GroundingNode()
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    try:
        if node.values["autostart"]:
            node.trigger_configure()
            node.trigger_activate()
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node._pubs is not None:
            node.trigger_shutdown()
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
