"""The grounding lifecycle node: wiring only.

configure: the start-up parameters are validated by the same function as run-time changes (invalid:
           FAILURE with the reasons logged; with autostart the process exits with code 2), the backend is
           loaded (a failure keeps the node up and answers every command with the load error), publishers,
           diagnostics, the `~/ground` service and the worker start.
activate:  sensor and command subscriptions are created.
deactivate: they are destroyed; queued commands and the one waiting for a frame get an error result, the
           one in inference is answered before the publishers go down (with an error when it is still in the
           backend after 10 s; its late result is dropped, nothing is published while inactive); `~/ground`
           stays and answers "not active"; the frame slot is emptied and the active command is forgotten
           (continuous mode re-grounds the next command after activate, not one from before).
shutdown:  (from any state, also on SIGINT/SIGTERM) as deactivate, then the worker and the service stop,
           and `backend.close()` runs; the process then exits 0.

Geometry, models and drawing live in the ROS-free core; conversions, pairing, the worker and the
messages live in sibling modules. Callbacks only validate, convert (zero-copy) and hand over.
"""

from __future__ import annotations

import json
import math
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import rclpy
from rcl_interfaces.msg import SetParametersResult
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import (
    HistoryPolicy,
    QoSDurabilityPolicy,
    QoSProfile,
    ReliabilityPolicy,
    qos_policy_name_from_kind,
    qos_profile_sensor_data,
)
from rclpy.signals import SignalHandlerOptions
from rclpy.task import Future
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header, String

from grounding_node.geometry.camera import Intrinsics
from grounding_node.grounding.command import parse_command
from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame
from grounding_node.models.base import BackendConfig, GroundingBackend
from grounding_node.models.family import parse_threshold
from grounding_node.models.registry import create_backend
from grounding_node.ros import params as P
from grounding_node.ros.cdr import string_from_cdr
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
from grounding_node.ros.worker import ALREADY_ANSWERED, GroundingWorker, Job
from phrase_grounding.srv import Capture, Ground

# Commands: reliable KEEP_ALL. With KEEP_LAST(100) a burst of 1000 back-to-back commands lost ~850
# inside DDS (the reader's history overwrote what the executor had not taken yet, and the node never saw
# them). KEEP_ALL makes the reader keep and acknowledge every sample, so a reliable writer never drops
# one; the node takes each in microseconds and answers overflow of its own bounded queue
# (`command_queue_size`) with an explicit "busy". Volatile, like `ros2 topic pub`.
COMMAND_QOS = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE,
                         durability=QoSDurabilityPolicy.VOLATILE)
# ~/ground requests: KEEP_ALL as well (the default depth 10 silently lost calls beyond it in a burst of
# concurrent clients); each call is answered by an async callback, so none waits behind another.
SERVICE_QOS = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)
# camera_info, a second subscription: a static calibration publisher (or a driver) may send it once, latched
# (TRANSIENT_LOCAL), before the node starts; the volatile sensor-QoS subscription matches it but gets no history,
# so the node stayed 2D-only forever. This one gets that history; live messages come through the sensor one.
# It is incompatible with volatile publishers (most cameras), which is expected: that event is not logged.
LATCHED_INFO_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                              durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
WARN_PERIOD_S = 5.0
MAX_TIMEOUT_S = P.SPECS["timeout"].range[1]
# A job in the handler this long (seconds) shows as a stuck worker (ERROR) in diagnostics.
STUCK_AFTER_S = 60.0
# How long a service call may wait beyond its frame timeout for inference before it is answered anyway.
SERVICE_GRACE_S = 120.0


class GroundingNode(LifecycleNode):
    """Phrase in, GroundedObjectArray (+ target, markers, debug image, diagnostics) out."""

    def __init__(self, node_name: str = "grounding_node", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        declare_errors: List[str] = []
        declared = P.declare_all(self, declare_errors)
        self.config_errors: List[str] = declare_errors + P.validate(declared)   # judged on configure
        self.values: Dict[str, Any] = P.normalise(declared) if not self.config_errors else \
            {s.name: s.default for s in P.PARAMS}
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self._guard_change_state()
        self.stats = NodeStats()
        self.finalized = False
        self.backend: Optional[GroundingBackend] = None
        self._warned_at: Dict[str, float] = {}
        self._command_sub = None
        self._idle_timer = None
        self._wake_guard = None
        self._sensors_paused = False
        self._last_activity = time.monotonic()
        self._idle_lock = threading.Lock()   # _wake (any thread) vs _check_idle (executor): no lost wake-up
        self._sync = FrameSync(self.values["sync_slop"], depth_timeout_s=self.values["depth_timeout"])
        self._worker = GroundingWorker(self._sync, self._handle_job, self.values["command_queue_size"],
                                       on_error=self._on_worker_error)
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)   # timers that must run without /clock
        self._diag_timer = None
        self._apply_runtime_values()
        self._pubs: Optional[ResultPublishers] = None
        self._publishing = False      # lifecycle publishers enabled (results can reach anyone)
        self._diag_pub = None
        self._subs: List[Any] = []
        self._service = None
        self._active = False
        self._service_node = None
        self._service_executor = None
        self._service_thread: Optional[threading.Thread] = None
        self._service_wake = None
        self._service_timer = None
        self._calls_lock = threading.Lock()
        self._calls: Dict[Future, float] = {}    # in-flight ~/ground calls -> answer-by deadline
        self._rectified = False
        self._info_since_subscribe = False   # a camera_info arrived since the sensor subscriptions were made
        self._capture_service = None
        self._last_info_msg: Optional[CameraInfo] = None    # the raw message, for ~/capture's YAML
        self._last_result = None                            # (GroundingResult, stamp_ns) of the last success
        self._image_view_ms = 0.0
        self._timing_file = None
        if self.values["timing_log"]:
            try:
                self._timing_file = open(self.values["timing_log"], "a", encoding="utf-8")
            except OSError as exc:   # a start-up parameter error like any other: configure says why
                self.config_errors.append(f"timing_log '{self.values['timing_log']}' cannot be opened: {exc}")

    # ------------------------------------------------------------------------------------------------
    # lifecycle
    def _guard_change_state(self) -> None:
        """A transition that is invalid in the current state (`ros2 lifecycle set ... activate` on an active
        node) must answer FAILURE. rclpy 7 (Jazzy) raises RCLError out of the change_state service callback
        instead: the caller got no response and the exception left the executor's spin, which ended the node.
        Kilted's rclpy logs and answers FAILURE; this gives Jazzy the same."""
        from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy

        service = getattr(self, "_service_change_state", None)
        if service is None:
            return
        original = service.callback

        def on_change_state(request, response):
            try:
                return original(request, response)
            except _rclpy.RCLError as exc:
                label = request.transition.label or str(request.transition.id)
                self.get_logger().error(f"lifecycle transition '{label}' refused in state "
                                        f"'{self._state_machine.current_state[1]}': {exc}")
                response.success = False
                return response

        service.callback = on_change_state

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.config_errors:
            self.get_logger().error("invalid parameters, not configuring: " + "; ".join(self.config_errors)
                                    + ". Fix them (command line, params file or launch file) and restart.")
            return TransitionCallbackReturn.FAILURE
        self._load_backend()
        self._pubs = ResultPublishers(self)
        from diagnostic_msgs.msg import DiagnosticArray

        self._diag_pub = self.create_publisher(DiagnosticArray, "/diagnostics", RELIABLE_10)
        self._restart_diag_timer()
        self._start_service_node()
        self._worker.start()
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        ret = super().on_activate(state)   # enables the lifecycle publishers
        self._publishing = True
        self._worker.resume()
        self._subscribe_sensors()
        self._rectified = self._is_rectified()
        self._command_sub = self.create_subscription(
            String, "command", self._on_command, COMMAND_QOS, raw=True,
            event_callbacks=SubscriptionEventCallbacks(incompatible_qos=self._on_command_qos_incompatible))
        self._wake_guard = self.create_guard_condition(self._subscribe_sensors)
        self._idle_timer = self.create_timer(0.5, self._check_idle, clock=self._steady)
        self._last_activity = time.monotonic()
        self._active = True
        self.get_logger().info(f"active: backend {self.stats.model}; waiting for image, depth_image, camera_info")
        return ret

    def _on_command_qos_incompatible(self, event) -> None:
        """A command publisher DDS will never deliver from (BEST_EFFORT, say): in the log and in /diagnostics,
        where a user looking at an idle, healthy-looking node would look (rclpy's default was one log line)."""
        policy = qos_policy_name_from_kind(event.last_policy_kind)
        topic = self._command_sub.topic_name if self._command_sub is not None else "command"
        self._warn("command_qos", f"a publisher of '{topic}' offers QoS incompatible with the node's ({policy}): "
                                  "none of its commands will arrive; publish commands RELIABLE and VOLATILE or "
                                  "TRANSIENT_LOCAL (e.g. ros2 topic pub --qos-reliability reliable)", error=True)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._deactivate_work("node deactivated before this command could run")
        return super().on_deactivate(state)

    def _deactivate_work(self, error: str) -> None:
        """Stop taking work and answer all of it before the publishers go down (deactivate and shutdown)."""
        self._active = False
        self._unsubscribe_sensors()
        for entity, destroy in ((self._command_sub, self.destroy_subscription), (self._idle_timer, self.destroy_timer),
                                (self._wake_guard, self.destroy_guard_condition)):
            if entity is not None:
                destroy(entity)
        self._command_sub = self._idle_timer = self._wake_guard = None
        self._sensors_paused = False
        # Queued jobs and the one waiting for a frame get `error`; the one in inference is published.
        self._worker.interrupt(error)
        self._answer_overdue_job(error)
        if self._pubs is not None and self._publishing:   # RViz would keep the last cubes: markers have no lifetime
            for problem in self._pubs.clear(Header(stamp=self.get_clock().now().to_msg())):
                self._warn("publish_extras", problem, error=True)
        self._publishing = False
        self._sync.reset()

    def _answer_overdue_job(self, error: str) -> None:
        """The job still in inference after `interrupt`'s bounded wait (a model slower than that): answer it
        now, while the publishers are up, with `error`, and drop its late result. Without this its result came
        after the publishers went down and was never published (a topic command got no answer at all)."""
        job = self._worker.in_handler()
        if job is None:
            return
        with job.lock:
            if job.answered or job.done.is_set():
                return
            reason = f"{error} (it was still in inference; its result is dropped)"
            msg = self._safe_finish(job, None, reason)
            job.abandoned = reason
        self.get_logger().warning(f"'{job.parsed.text}' (request {job.request_id}) answered with an error: still in "
                                  "inference when the node went inactive")
        job.finish(msg)

    def _is_rectified(self) -> bool:
        """The `rectified` parameter; 'auto' = the image topic's resolved name contains 'rect'."""
        choice = self.values["rectified"]
        if choice != "auto":
            return choice == "true"
        topic = self._subs[0].topic_name if self._subs else ""
        return "rect" in topic.rsplit("/", 1)[-1]

    # -- sensor subscriptions, paused when idle (idle_unsubscribe_after) ------------------------------
    def _subscribe_sensors(self) -> None:
        """Create the image/depth/camera_info subscriptions (executor thread). Also the wake-up path."""
        if self._subs:
            return
        sensor = qos_profile_sensor_data
        # camera_info first: within one executor wake-up, callbacks run in creation order, so a tick's info is
        # taken before the image and depth that complete its frame (else that frame could get the previous K).
        self._info_since_subscribe = False
        info_sub = self.create_subscription(CameraInfo, "camera_info", self._on_info, sensor)
        latched_info_sub = self.create_subscription(
            CameraInfo, "camera_info", self._on_latched_info, LATCHED_INFO_QOS,
            event_callbacks=SubscriptionEventCallbacks(incompatible_qos=lambda _event: None))
        self._subs = [
            self.create_subscription(Image, "image", self._on_image, sensor),
            self.create_subscription(Image, "depth_image", self._on_depth, sensor),
            info_sub,
            latched_info_sub,
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
        if continuous or self._worker.busy:   # busy: also a command waiting for its frame
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
        """From any state (rclpy does not deactivate first): answer everything, tear down, and let main() end
        the process, so no command subscription outlives the node's ability to answer."""
        if self._active:
            self._deactivate_work("node shutting down before this command could run")
        self._teardown()
        self.finalized = True
        return super().on_shutdown(state)

    def _start_service_node(self) -> None:
        """`~/ground` answers synchronously, so its callback blocks until the worker is done. It lives on a
        companion node with its own executor thread: blocking there never stalls the sensor callbacks that
        the worker may be waiting on. Its name is the main node's `~/ground`, fully resolved."""
        self._service_node = rclpy.create_node(
            f"{self.get_name()}_ground_service", namespace=self.get_namespace(), context=self.context,
            use_global_arguments=False, start_parameter_services=False, enable_rosout=False)
        # Reentrant: the executor holds a mutually exclusive group for as long as an async callback is
        # suspended, which would keep out both the next call and the guard condition that resumes it.
        group = ReentrantCallbackGroup()
        self._service = self._service_node.create_service(
            Ground, f"{self.get_fully_qualified_name()}/ground", self._on_ground, qos_profile=SERVICE_QOS,
            callback_group=group)
        self._capture_service = self._service_node.create_service(
            Capture, f"{self.get_fully_qualified_name()}/capture", self._on_capture, callback_group=group)
        self._service_wake = self._service_node.create_guard_condition(lambda: None, callback_group=group)
        self._service_timer = self._service_node.create_timer(0.5, self._expire_calls, callback_group=group,
                                                              clock=self._steady)
        self._service_executor = SingleThreadedExecutor(context=self.context)
        self._service_executor.add_node(self._service_node)
        self._service_thread = threading.Thread(target=self._spin_service, name="ground_service", daemon=True)
        self._service_thread.start()

    def _spin_service(self) -> None:
        try:
            self._service_executor.spin()
        except ExternalShutdownException:
            pass
        except BaseException as exc:  # noqa: BLE001 - shows as ERROR in diagnostics (thread dead)
            self.stats.put(health=f"~/ground service thread died: {type(exc).__name__}: {exc}")
            self.get_logger().error(self.stats.health)

    def _teardown(self) -> None:
        self._worker.stop("node shutting down before this command could run")
        self._publishing = False
        if self._service_executor is not None:
            # Let the in-flight ~/ground calls (all answered by now) send their responses first.
            deadline = time.monotonic() + 2.0
            while self._calls and time.monotonic() < deadline:
                self._wake_service()
                time.sleep(0.01)
            self._service_executor.shutdown(timeout_sec=2.0)
            if self._service_thread is not None:
                self._service_thread.join(timeout=2.0)
            self._service_node.destroy_node()
            self._service_executor = self._service_node = self._service = self._service_wake = None
            self._service_thread = None
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
            try:
                self.backend.close()
                self.get_logger().info(f"backend {self.stats.model} closed")
            except Exception as exc:  # noqa: BLE001 - teardown goes on
                self.get_logger().error(f"backend close failed: {type(exc).__name__}: {exc}")
            self.backend = None

    def _load_backend(self) -> None:
        v = self.values
        config = BackendConfig(model=v["model"], device=v["device"], dtype=v["dtype"],
                               local_files_only=v["local_files_only"],
                               score_threshold=parse_threshold(v["score_threshold"]),
                               extra=json.loads(v["backend_options"]))
        t0 = time.perf_counter()
        try:
            self.backend = create_backend(v["backend"], config)
        except BaseException as exc:  # noqa: BLE001 - any load failure must leave the node up and reporting
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.backend = None
            self.stats.put(model=v["backend"], backend_error=f"{type(exc).__name__}: {exc}")
            self.get_logger().error(f"backend '{v['backend']}' failed to load: {self.stats.backend_error}; "
                                    "every command will get this error until the node is reconfigured")
            return
        self.stats.put(model=self.backend.describe(), backend_error="")
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
        self.values = P.normalise(merged)
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
        if self._diag_timer is not None and \
                abs(self._diag_timer.timer_period_ns - v["diagnostics_period"] * 1e9) > 1.0:
            self._restart_diag_timer()

    def _restart_diag_timer(self) -> None:
        """On a steady clock: with use_sim_time and no /clock, a ROS-time timer never fires (no diagnostics)."""
        if self._diag_timer is not None:
            self.destroy_timer(self._diag_timer)
        self._diag_timer = self.create_timer(self.values["diagnostics_period"], self._publish_diagnostics,
                                             clock=self._steady)

    # ------------------------------------------------------------------------------------------------
    # sensor callbacks: validate, keep a zero-copy view, hand over to the pairing
    def _warn(self, key: str, text: str, error: bool = False) -> None:
        """Throttled per kind of problem (rclpy's own throttle is per call site, which would merge kinds)."""
        self.stats.warn(key, text)
        now = time.monotonic()
        if now - self._warned_at.get(key, -1e9) >= WARN_PERIOD_S:
            self._warned_at[key] = now
            # Two call sites on purpose: rclpy refuses one call site that logs at changing severities.
            if error:
                self.get_logger().error(text)
            else:
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
            self.stats.add(frames_dropped=1)
            self._warn(f"bad_{what}", f"{what} dropped: {exc}")
            return None

    def _on_image(self, msg: Image, info: dict) -> None:
        """`info` is rmw's MessageInfo: its received_timestamp (taken before deserialisation) starts the
        in-node overhead that `timing_log` records."""
        t0 = time.perf_counter()
        arr = self._view(msg, COLOR_ENCODINGS, "image") if self._active else None
        if arr is not None:
            stamp = self._stamp_ns(msg.header, "image")
            self._image_view_ms = (time.perf_counter() - t0) * 1000.0   # msg -> numpy (zero-copy view)
            received_ns = int(info.get("received_timestamp", 0)) if info else 0
            jumps = self._sync.stats.time_jumps
            self._frame_done(self._sync.add_image(stamp, (msg.header, arr, msg.encoding, received_ns)))
            if self._sync.stats.time_jumps != jumps:
                self._warn("time_jump", f"image stamps jumped back by {self._sync.stats.last_jump_s:.3f} s (a bag "
                                        "played in a loop, or the camera's clock was reset): colour/depth pairing "
                                        "restarted on the new timeline")

    def _on_depth(self, msg: Image, info: dict) -> None:
        arr = self._view(msg, DEPTH_ENCODINGS, "depth_image") if self._active else None
        if arr is not None:
            stamp = self._stamp_ns(msg.header, "depth_image")
            received_ns = int(info.get("received_timestamp", 0)) if info else 0
            self._frame_done(self._sync.add_depth(stamp, (arr, msg.encoding, msg.header.frame_id, received_ns)))

    def _on_latched_info(self, msg: CameraInfo) -> None:
        """The latched publisher's history (its last message, sent before this subscription existed). Its live
        messages also reach the sensor subscription, so only the history counts: anything after a first info."""
        if not self._info_since_subscribe:
            self._on_info(msg)

    def _on_info(self, msg: CameraInfo) -> None:
        if not self._active:
            return
        self._info_since_subscribe = True
        self._last_info_msg = msg
        try:
            intr = intrinsics_from_camera_info(msg, rectified=self._rectified)
        except (ValueError, TypeError) as exc:
            intr = None
            self._warn("bad_camera_info", f"camera_info unusable ({exc}): 3D positions are unavailable")
        else:
            for problem in getattr(intr, "problems", ()):
                # a throttle key per kind of problem: one never hides another (ROI and distortion, say)
                self._warn("camera_model:" + "".join(c for c in problem[:40] if not c.isdigit()),
                           f"camera_info: {problem}")
            if not intr.is_valid():
                self._warn("bad_camera_info", f"camera_info unusable ({intr.invalid_reason()}; "
                                              f"{msg.width}x{msg.height}): 3D positions are unavailable")
                intr = None
        self._sync.add_info((intr, msg.header.frame_id), stamp_to_ns(msg.header.stamp))

    def _frame_done(self, frame: Optional[SyncedFrame]) -> None:
        s = self._sync.stats
        self.stats.put(sync_failures=s.sync_failures, frames_received=s.complete, frames_superseded=s.superseded,
                       frames_without_depth=s.complete_without_depth)
        if frame is not None:
            self._worker.frame_arrived()

    # ------------------------------------------------------------------------------------------------
    # commands
    def _on_command(self, raw: bytes) -> None:
        """Raw CDR, decoded by `string_from_cdr`: a NUL or non-UTF-8 byte is reported, not lost or raised."""
        self._submit(string_from_cdr(raw), self.values["timeout"])

    def _submit(self, text: Any, timeout_s: float, on_done=None) -> Job:
        """Every command and service call becomes one Job with a new request id, answered exactly once: queued,
        or at once with an error (busy, invalid timeout)."""
        self.stats.add(commands=1)
        self._wake()
        parsed = parse_command(text, self.values["max_command_length"])
        for warning in parsed.warnings:
            self._warn("command_sanitised", f"command: {warning}")
        if parsed.is_empty:
            self._warn("empty_command", "empty or whitespace-only command: active command cleared")
        job = Job(parsed=parsed, received_at=time.monotonic(), timeout_s=timeout_s,
                  request_id=self.stats.new_request_id(), on_done=on_done)
        error = ""
        if not (math.isfinite(timeout_s) and 0.0 < timeout_s <= MAX_TIMEOUT_S):
            error = f"invalid timeout_s {timeout_s!r}: must be finite and in (0, {MAX_TIMEOUT_S:g}] s"
            self._warn("bad_timeout", f"~/ground: {error}")
        elif not self._worker.submit(job):
            self.stats.add(busy_rejections=1)
            self._warn("busy", f"command queue full ({self._worker.queue_size}): answering 'busy'")
            error = f"busy: {self._worker.queue_size} commands already queued; command rejected"
        if error:
            job.finish(self._safe_finish(job, None, error, refused=True))
        return job

    async def _on_ground(self, request: Ground.Request, response: Ground.Response) -> Ground.Response:
        """Async, so calls never queue behind one another in the service executor (a blocking callback there
        left all but ~11 of 20 concurrent calls unanswered): the worker completes a Future, the guard
        condition wakes the executor, and the coroutine resumes to send the response."""
        if not self._active:
            response.success, response.message = False, "node is not active: no command accepted (lifecycle)"
            return response
        given = float(request.timeout_s)
        timeout = given if (given > 0 or math.isnan(given)) else float(self.values["timeout"])   # NaN: rejected
        future: Future = Future()
        deadline = time.monotonic() + (timeout if math.isfinite(timeout) else 0.0) + SERVICE_GRACE_S
        with self._calls_lock:
            self._calls[future] = deadline
        job = self._submit(request.command, timeout, on_done=lambda _job: self._resolve(future))
        try:
            await future
        finally:
            with self._calls_lock:
                self._calls.pop(future, None)
        msg = job.response
        response.request_id = job.request_id
        if msg is None:
            response.success = False
            response.message = ("no answer from the grounding worker within "
                                f"{timeout + SERVICE_GRACE_S:.0f} s (stuck backend?)" if not job.done.is_set()
                                else "the grounding worker failed to build a result (see the node's log)")
            return response
        response.result = msg
        response.success = not msg.error
        # a caller reading only `message` still learns why a phrase got nothing (the same list is in result)
        response.message = msg.error or "; ".join([f"{len(msg.objects)} object(s)"] + list(msg.warnings))
        return response

    def _resolve(self, future: Future) -> None:
        """Any thread: complete a service call's Future and wake the service executor to resume it."""
        if not future.done():
            future.set_result(True)
        self._wake_service()

    def _wake_service(self) -> None:
        wake = self._service_wake
        if wake is not None:
            try:
                wake.trigger()
            except Exception:  # noqa: BLE001 - destroyed during shutdown: nothing to wake
                pass

    def _expire_calls(self) -> None:
        """Service executor timer: answer calls whose job is overdue (a stuck backend), never leave one hanging."""
        now = time.monotonic()
        with self._calls_lock:
            overdue = [f for f, deadline in self._calls.items() if now > deadline]
        for future in overdue:
            self._resolve(future)

    def _on_capture(self, request: Capture.Request, response: Capture.Response) -> Capture.Response:
        """~/capture: the newest complete frame as a dataset sample, with the current command's results as
        pre-annotations (scores kept) for a person to correct in Label Studio (`python -m grounding_node.dataset
        export-labelstudio`). The files are written by `data.writer`; this only gathers what the node holds."""
        from grounding_node.data.writer import usable_companions, write_sample

        frame = self._sync.latest()
        if frame is None:
            response.success, response.message = False, "no camera frame received yet: nothing to capture"
            return response
        _header, arr, encoding, _ = frame.image
        try:
            rgb = to_rgb8(arr, encoding)
            depth = None
            if frame.depth is not None:
                from grounding_node.geometry.depth import depth_to_metres

                depth = depth_to_metres(frame.depth[0], frame.depth[1], self.values["depth_scale"])
            groundings = []
            last = self._last_result
            if last is not None:
                result, stamp_ns = last
                for index, phrase in enumerate(result.phrases):
                    objs = [o for o in result.objects if o.phrase_index == index]
                    groundings.append({"phrase": phrase, "boxes_1024": [[float(v) for v in o.box_1024] for o in objs],
                                       "scores": [round(float(o.score), 4) for o in objs],
                                       "preannotation": True, "result_stamp_ns": int(stamp_ns)})
            info = self._last_info_msg
            camera_info = None if info is None else {
                "width": info.width, "height": info.height, "distortion_model": info.distortion_model,
                "d": list(info.d), "k": list(info.k), "r": list(info.r), "p": list(info.p)}
            depth, camera_info, left_out = usable_companions(rgb, depth, camera_info)
            out = Path(self.values["capture_dir"]).expanduser()
            out.mkdir(parents=True, exist_ok=True)
            path = write_sample(out, rgb, depth, camera_info, groundings,
                                extra={"stamp_ns": int(frame.stamp_ns), "frame_id": _header.frame_id,
                                       "source": "~/capture"})
        except (OSError, ValueError) as exc:
            response.success = False
            response.message = f"capture failed: cannot write to capture_dir '{self.values['capture_dir']}': {exc}"
            self._warn("capture", response.message)
            return response
        response.success, response.path = True, str(path)
        response.message = (f"saved {rgb.shape[1]}x{rgb.shape[0]} frame"
                            f"{' with depth' if depth is not None else ''}, {len(groundings)} pre-annotated phrase(s)"
                            + "".join(f"; left out {note}" for note in left_out))
        return response

    # ------------------------------------------------------------------------------------------------
    # the worker's handler: ground one frame and publish (runs in the worker thread)
    def _handle_job(self, job: Job, synced: Optional[SyncedFrame], error: str):
        result, rgb, header = None, None, Header()
        notes: List[str] = []   # what the frame's inputs cost the result (frame_ids), for the planner
        job.timing = {"wait_ms": (time.monotonic() - job.received_at) * 1000.0, "msg_to_numpy_ms": self._image_view_ms}
        if synced is not None:
            header, arr, encoding, received_ns = synced.image
            depth_received_ns = synced.depth[3] if synced.depth is not None else 0
            # The frame is complete when its later message (usually depth) is received: the node's work
            # starts there. Both are rmw reception times (system clock, before deserialisation).
            job.timing.update(image_received_ns=received_ns, depth_received_ns=depth_received_ns,
                              frame_received_ns=max(received_ns, depth_received_ns))
            self.stats.put(last_frame_age_s=time.monotonic() - synced.received_at)
            if not error and self.backend is None:
                error = f"backend not loaded: {self.stats.backend_error}"
            if not error:
                try:
                    t0 = time.perf_counter()
                    rgb = to_rgb8(arr, encoding)
                    frame = self._to_frame(synced, rgb, notes)
                    job.timing["to_frame_ms"] = (time.perf_counter() - t0) * 1000.0
                    result = ground_frame(self.backend, frame, job.parsed.phrases, self._settings)
                except BaseException as exc:  # noqa: BLE001 - a failing model (even sys.exit) must not lose it
                    result = None
                    error = f"backend error: {type(exc).__name__}: {exc}"
                    self._warn("backend_error", error, error=True)
        else:
            header.stamp = self.get_clock().now().to_msg()
        if result is not None:
            self._last_result = (result, synced.stamp_ns)
            for warning in result.warnings:
                self._warn("phrase" if warning in result.phrase_warnings else "grounding", warning)
            result.warnings = list(dict.fromkeys(notes + result.warnings))   # (notes were logged by _to_frame)
            located = sum(o.has_position for o in result.objects)
            self.stats.put(last_inference_ms=result.inference_ms)
            self.stats.add(located=located, unlocated=len(result.objects) - located)
        return self._finish(job, result, error, header, rgb)

    def _finish(self, job: Job, result, error: str, header: Optional[Header] = None, rgb=None,
                refused: bool = False):
        """Build and publish the job's one answer; ALREADY_ANSWERED when it was answered already (abandoned)."""
        with job.lock:
            if job.abandoned:
                self._warn("late_result", f"result of '{job.parsed.text}' (request {job.request_id}) came after it "
                                          f"was answered ({job.abandoned}): dropped")
                return ALREADY_ANSWERED
            msg = self._publish_answer(job, result, error, header, rgb, refused)
            job.answered = True
            return msg

    def _publish_answer(self, job: Job, result, error: str, header: Optional[Header], rgb, refused: bool):
        total_ms = (time.monotonic() - job.received_at) * 1000.0
        msg = result_to_msg(header or Header(), job.parsed.text, self.stats.model, result, total_ms, error,
                            command_warnings=job.parsed.warnings)
        msg.request_id, msg.continuous = job.request_id, job.continuous
        self.stats.add(results=1, errors=1 if error else 0)
        t0 = time.perf_counter()
        if self._pubs is not None and self._publishing:
            job.timing["published_ns"], problems = self._pubs.publish(
                msg, result, rgb, self.values["publish_debug_image"], self.values["marker_scale_min"], refused)
            for problem in problems:   # the request is answered: this is for the log and diagnostics only
                self._warn("publish_extras", problem, error=True)
        if self._timing_file is not None:
            self._log_timing(job, result, msg, (time.perf_counter() - t0) * 1000.0)
        return msg

    def _safe_finish(self, job: Job, result, error: str, header: Optional[Header] = None, rgb=None,
                     refused: bool = False):
        """`_finish`, and when publishing the full result fails, the error result alone: one answer always."""
        try:
            return self._finish(job, result, error, header, rgb, refused)
        except BaseException as exc:  # noqa: BLE001
            return self._on_worker_error(job, exc)

    def _on_worker_error(self, job: Optional[Job], exc: BaseException):
        """The worker's hook: whatever escaped the handler (a drawing or publishing failure, a bug) is logged
        and the job still gets its one result, an error, so nothing is lost and the thread lives on."""
        text = f"internal error: {type(exc).__name__}: {exc}"
        try:
            self._warn("internal_error", text, error=True)
        except BaseException:  # noqa: BLE001 - logging itself failed: the result below still goes out
            print(f"grounding_node: {text}", file=sys.stderr, flush=True)
        if job is None:
            return None
        try:
            return self._finish(job, None, text)
        except BaseException as exc2:  # noqa: BLE001 - even publishing the error failed: log it
            self._warn("publish_error", f"could not publish the error result: {type(exc2).__name__}: {exc2}",
                       error=True)
            return None

    def _log_timing(self, job: Job, result, msg, publish_ms: float) -> None:
        """One JSON line per result: where the time went (bench/bench_latency.py and bench_node.py read these).
        `frame_received_ns` (rmw's reception time of the frame's completing message, before deserialisation)
        and `published_ns` (right after `detections`, the message planners wait for, went out) are both
        system-clock nanoseconds, so their difference minus `inference_ms` is the node's overhead;
        `all_published_ns` is after the markers, target, vision_msgs and the drawn debug image too."""
        record = dict(job.timing)
        record.update(command=msg.command, request_id=msg.request_id, continuous=msg.continuous, error=msg.error,
                      total_ms=msg.total_ms, publish_ms=publish_ms, all_published_ns=time.time_ns(),
                      stamp_ns=msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec,
                      wall_time=time.time())
        if result is not None:
            record.update(inference_ms=result.inference_ms, projection_ms=result.geometry_ms)
        self._timing_file.write(json.dumps(record) + "\n")
        self._timing_file.flush()

    def _note(self, key: str, text: str, notes: List[str]) -> None:
        self._warn(key, text)
        notes.append(text)

    def _to_frame(self, synced: SyncedFrame, rgb, notes: List[str]) -> Frame:
        """The core's Frame from a synced frame. Depth or camera_info whose frame_id names another frame than
        the image's is another camera's view (an unaligned depth topic, the depth camera's camera_info): at the
        same resolution nothing else shows it, and its 3D positions would be wrong, so it is not used. Aligned
        depth carries the colour frame_id (realsense aligned_depth_to_color, depth_image_proc/register); an
        empty frame_id says nothing and is trusted. Why it was dropped goes into `notes` (the result's warnings)."""
        header = synced.image[0]
        depth, depth_encoding, depth_frame = synced.depth[:3] if synced.depth is not None else (None, "32FC1", "")
        image_frame = _frame_name(header.frame_id)
        if not image_frame:
            self._note("empty_frame_id", "the image has an empty frame_id: target and markers cannot be placed "
                                         "(RViz, tf); set the camera driver's frame_id", notes)
        if synced.depth is None:
            offset = synced.unpaired_offset_s
            if offset is not None:
                self._warn("depth_unpaired", f"depth arrives but its stamps differ from the colour image's by "
                                             f"{offset:.3f} s (> sync_slop {self._sync.slop_ns / 1e9:g} s): 2D only. "
                                             "Fix the driver's clocks, or raise sync_slop if the offset is real.")
            else:
                self._warn("no_depth", "no depth paired with this frame (depth stream stopped or out of sync): "
                                       "2D only")
        elif image_frame and _frame_name(depth_frame) and _frame_name(depth_frame) != image_frame:
            self._note("depth_frame", f"depth frame_id '{depth_frame}' differs from the image's '{header.frame_id}': "
                                      "depth not aligned (registered) to the colour image, 2D results only; use the "
                                      "aligned depth topic (e.g. /camera/aligned_depth_to_color/image_raw)", notes)
            depth = None
        intr: Optional[Intrinsics]
        intr, info_frame = synced.info if synced.info is not None else (None, "")
        if intr is not None and image_frame and _frame_name(info_frame) and _frame_name(info_frame) != image_frame:
            self._note("info_frame", f"camera_info frame_id '{info_frame}' differs from the image's "
                                     f"'{header.frame_id}': another camera's calibration, 2D results only; remap "
                                     "camera_info to the colour image's (e.g. /camera/color/camera_info)", notes)
            intr = None
        h, w = rgb.shape[:2]
        if intr is None:
            if synced.info is None or synced.info[0] is None:
                self._warn("no_camera_info", "no valid camera_info received yet: 2D results only")
        elif (intr.width, intr.height) != (w, h):
            if abs(intr.width / intr.height - w / h) > 0.01 * w / h:
                # another camera mode (a crop: K does not scale), or the driver was reconfigured and the new
                # mode's camera_info has not come yet: as the core refuses depth of another aspect ratio
                self._note("info_aspect", f"camera_info is for {intr.width}x{intr.height}, another aspect ratio "
                                          f"than the {w}x{h} image (another camera mode; its camera_info has not "
                                          "arrived?): 2D results only", notes)
                intr = None
            else:
                self._warn("info_size", f"camera_info is {intr.width}x{intr.height} but the image is {w}x{h}: "
                                        "intrinsics scaled to the image")
                intr = intr.scaled(w, h)
        if depth is not None and depth.shape[:2] != (h, w):
            self._warn("depth_size", f"depth is {depth.shape[1]}x{depth.shape[0]}, image {w}x{h}: boxes are "
                                     "scaled into the depth image")
        return Frame(rgb=rgb, depth=depth, depth_encoding=depth_encoding, intrinsics=intr,
                     stamp_ns=synced.stamp_ns, frame_id=header.frame_id)

    # ------------------------------------------------------------------------------------------------
    def _health(self) -> str:
        """Non-empty (ERROR) when a thread that answers commands is dead or stuck."""
        problems = []
        if not self._worker.alive:
            problems.append("grounding worker thread is not running")
        elif self._worker.busy_for() > STUCK_AFTER_S:
            problems.append(f"grounding worker stuck in one job for {self._worker.busy_for():.0f} s")
        if self._service_thread is not None and not self._service_thread.is_alive():
            problems.append("~/ground service thread is not running")
        return "; ".join(problems)

    def _publish_diagnostics(self) -> None:
        latest = self._sync.latest()
        health = self._health()
        if health:
            self._warn("health", health, error=True)
        self.stats.put(health=health, sensors="paused (idle)" if self._sensors_paused else "subscribed")
        if self._sensors_paused:
            pass            # no frames expected: not stale
        elif latest is not None:
            age = time.monotonic() - latest.received_at
            self.stats.put(last_frame_age_s=age)
            if self._active and age > 2.0:
                self._warn("stale_input", f"no complete camera frame for {age:.1f} s")
        elif self._active:
            self._warn("no_frames", "no complete camera frame received yet")
        if self._diag_pub is not None:
            self._diag_pub.publish(diagnostic_array(self.stats, f"{self.get_name()}: grounding",
                                                    self.get_fully_qualified_name(),
                                                    self.get_clock().now().to_msg(), self._active))


def _frame_name(frame_id: str) -> str:
    """A frame_id as tf2 names it: ROS 1's leading '/' is not part of the name."""
    return frame_id.strip().lstrip("/")


def main(args: Optional[List[str]] = None) -> int:
    """`ros2 run phrase_grounding grounding_node`.

    A SingleThreadedExecutor: every callback is short (inference runs in the worker thread), and it was
    measured here at a third of MultiThreadedExecutor's idle CPU, which also delayed commands by seconds
    under load (GIL contention between its threads).

    Signals: rclpy's own handlers shut the context down first, so the lifecycle shutdown that follows could
    not run ("Unable to start transition 7"; an RCLError on Jazzy; a C++ abort when threads outlived the
    context). Here SIGINT/SIGTERM only set a flag; the spin loop (0.1 s slices) sees it and runs the
    lifecycle shutdown while the context is valid: queued commands are answered, the backend is closed,
    the threads are joined, then the context goes down and the process exits 0.
    Exit codes: 0 on a signal or a lifecycle shutdown, 2 when autostart could not configure (invalid
    parameters: the reasons are logged).
    """
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        if stop.is_set():                       # a second signal: the user insists
            signal.signal(signum, signal.SIG_DFL)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    rc = 0
    node: Optional[GroundingNode] = None
    executor = SingleThreadedExecutor()
    try:
        node = GroundingNode()
        executor.add_node(node)
        if node.values["autostart"] and not stop.is_set():
            if node.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                node.get_logger().fatal("configure failed (see above); exiting with code 2")
                rc = 2
            elif not stop.is_set():
                node.trigger_activate()
        while rc == 0 and not stop.is_set() and not node.finalized and rclpy.ok():
            executor.spin_once(timeout_sec=0.1)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            if not node.finalized and rclpy.ok():
                node.trigger_shutdown()
            executor.remove_node(node)
            node.destroy_node()
        executor.shutdown(timeout_sec=1.0)
        rclpy.try_shutdown()
    return rc


if __name__ == "__main__":
    sys.exit(main())
