"""The node under an adversary (issue #9): no command lost, no thread dead, every request answered once.

Real node and camera processes over real DDS (loopback profile; as root inside a private network
namespace). Each case below was reproduced on the node before the fix; each test states what broke.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState
from rcl_interfaces.srv import SetParameters
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from ros_harness import ProbeNode, node_args, process_report, start_stack, unique_namespace, wait_ready

from grounding_node.launcher import ros_args, wait_until
from phrase_grounding.msg import GroundedObjectArray
from phrase_grounding.srv import Ground

ADV = "pg_adversarial_backends:AdversarialBackend"
KEEP_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=ReliabilityPolicy.RELIABLE)


@contextlib.contextmanager
def _stack(launcher, **node_params):
    """A node (adversarial backend unless told otherwise) and, unless camera=False, the synthetic camera in a
    fresh namespace; yields (namespace, probe, node process, KEEP_ALL results)."""
    ns = unique_namespace()
    probe = ProbeNode(ns)   # subscribes to ~/debug_image too, so the node draws
    try:
        node_params.setdefault("backend", ADV)
        proc, _ = start_stack(launcher, ns, **node_params)
        wait_ready(probe, launcher, proc)
        yield ns, probe, proc, _Results(probe)
    finally:
        probe.close()


def _call_many(probe: ProbeNode, commands, timeout_s: float = 5.0, wait: float = 60.0):
    """Fire all calls at once (call_async), then collect: None marks a call that was never answered.

    The client is KEEP_ALL: with the default depth 10, a burst of ~20 immediate 'busy' responses can overrun
    the *client's* response history before its executor takes them (seen on Jazzy), which is the client's
    loss, not the node's. A planner firing many concurrent calls needs the same."""
    client = getattr(probe, "keep_all_ground_client", None)
    if client is None:
        client = probe.keep_all_ground_client = probe.node.create_client(
            Ground, f"{probe.ns}/grounding_node/ground", qos_profile=KEEP_ALL)
    assert client.wait_for_service(timeout_sec=20.0)
    futures = [client.call_async(Ground.Request(command=c, timeout_s=timeout_s)) for c in commands]
    wait_until(lambda: all(f.done() for f in futures), wait)
    return [f.result() if f.done() else None for f in futures]


def _change_state(probe: ProbeNode, ns: str, transition: int) -> bool:
    client = probe.node.create_client(ChangeState, f"{ns}/grounding_node/change_state")
    assert client.wait_for_service(timeout_sec=10.0)
    future = client.call_async(ChangeState.Request(transition=Transition(id=transition)))
    assert wait_until(future.done, 30.0), "change_state did not answer"
    return future.result().success


class _Results:
    """A KEEP_ALL subscriber to `detections` (the harness's depth-100 one would itself lose a burst)."""

    def __init__(self, probe: ProbeNode) -> None:
        self.msgs = []
        self.lock = threading.Lock()
        self.sub = probe.node.create_subscription(GroundedObjectArray, "detections", self._keep, KEEP_ALL)

    def _keep(self, msg) -> None:
        with self.lock:
            self.msgs.append(msg)

    def ids(self):
        with self.lock:
            return [m.request_id for m in self.msgs]


# ------------------------------------------------------------------------------------------------------
# 1. Infinite and huge timeouts: the service thread (OverflowError in threading) and the worker died.
def test_infinite_and_huge_timeouts_are_answered_and_kill_no_thread(ros, launcher):
    with _stack(launcher, camera=False) as (ns, probe, proc, results):
        for bad in (math.inf, 1e10, math.nan):
            (resp,) = _call_many(probe, ["red box"], timeout_s=bad, wait=15.0)
            assert resp is not None, f"timeout_s={bad} got no answer; {process_report(launcher)}"
            assert not resp.success and "invalid timeout_s" in resp.message, resp.message
        # The worker still serves: with no camera, a normal call gets the no-frame error, in time.
        (resp,) = _call_many(probe, ["red box"], timeout_s=0.3, wait=15.0)
        assert resp is not None and "no camera frames yet" in resp.message
        assert wait_until(lambda: probe.last_diag_values().get("_level") is not None, 10)
        assert "health" not in probe.last_diag_values()


# ------------------------------------------------------------------------------------------------------
# 2. A NaN box with a debug-image subscriber and no depth killed the worker (int(round(nan)) in drawing);
#    a backend raising SystemExit killed it silently.
def test_nan_box_and_system_exit_are_reported_and_the_node_goes_on(ros, launcher):
    with _stack(launcher, camera_args=["--no-depth"]) as (ns, probe, proc, results):
        assert wait_until(lambda: probe.node.count_publishers(f"{ns}/grounding_node/debug_image") > 0, 10)
        time.sleep(0.5)
        for text in ("red nanbox", "red exitnow", "red"):
            probe.send(text)
        assert wait_until(lambda: len(results.msgs) >= 3, 30), ([m.command for m in results.msgs],
                                                                launcher.log(proc)[-1500:])
        nan_msg, exit_msg, ok_msg = sorted(results.msgs, key=lambda m: m.request_id)[:3]
        assert not nan_msg.error and nan_msg.objects, nan_msg.error
        assert all(math.isfinite(v) for o in nan_msg.objects for v in o.box_1024)
        assert "SystemExit" in exit_msg.error
        assert not ok_msg.error and ok_msg.objects
        assert wait_until(lambda: len(probe.debug_images) >= 2, 10)
        assert wait_until(lambda: int(probe.last_diag_values().get("errors", 0)) >= 1, 5)
        assert "health" not in probe.last_diag_values()
        assert "nan" in launcher.log(proc).lower() or "finite" in launcher.log(proc).lower()


# ------------------------------------------------------------------------------------------------------
# 3. Concurrent ~/ground calls: of 12, 11 were answered; of 20, 11; the rest never, and never logged.
@pytest.mark.parametrize("queue_size", [10, 40])
def test_thirty_concurrent_service_calls_are_all_answered_once(ros, launcher, queue_size):
    with _stack(launcher, backend_options={"sleep_ms": 30}, command_queue_size=queue_size) \
            as (ns, probe, proc, results):
        responses = _call_many(probe, [f"red box {i}" for i in range(30)], timeout_s=5.0, wait=90.0)
        missing = [i for i, r in enumerate(responses) if r is None]
        assert not missing, f"calls never answered: {missing}; {process_report(launcher)}"
        ok = [r for r in responses if r.success]
        busy = [r for r in responses if not r.success]
        assert all(r.message.startswith("busy") for r in busy), [r.message for r in busy]
        assert len(ok) >= min(30, queue_size), (len(ok), queue_size)
        if queue_size >= 30:
            assert not busy
        ids = [r.request_id for r in responses]
        assert len(set(ids)) == 30 and all(i > 0 for i in ids)
        assert all(r.result.request_id == r.request_id for r in ok)
        # ... and each answer is also published once on `detections`, with the same id.
        assert wait_until(lambda: len(results.msgs) >= 30, 20)
        time.sleep(0.3)
        assert sorted(results.ids()) == sorted(ids)


# ------------------------------------------------------------------------------------------------------
# 4. A burst of 1000 commands published back to back gave ~150 results (lost inside DDS: the node's own
#    `commands` counter read 150); with a depth-100 publisher, 300 commands gave 101.
@pytest.mark.parametrize("n,pub_qos", [(1000, KEEP_ALL),
                                       (300, QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE))],
                         ids=["1000-keep-all", "300-depth-100"])
def test_command_burst_every_command_answered_exactly_once(ros, launcher, n, pub_qos):
    with _stack(launcher) as (ns, probe, proc, results):
        pub = probe.node.create_publisher(String, "command", pub_qos)
        assert wait_until(lambda: pub.get_subscription_count() > 0, 20)
        time.sleep(0.3)
        for i in range(n):
            pub.publish(String(data=f"red box {i}"))
        assert wait_until(lambda: len(results.msgs) >= n, 120), \
            f"{len(results.msgs)} of {n} answered; {process_report(launcher)}"
        time.sleep(0.5)
        ids = results.ids()
        assert len(ids) == n and len(set(ids)) == n, (len(ids), len(set(ids)))
        commands = {m.command for m in results.msgs}
        assert commands == {f"red box {i}" for i in range(n)}
        errors = [m.error for m in results.msgs if m.error]
        assert all(e.startswith("busy") for e in errors), set(errors)
        assert wait_until(lambda: int(probe.last_diag_values().get("commands", 0)) >= n, 10)
        assert int(probe.last_diag_values()["commands"]) == n


# ------------------------------------------------------------------------------------------------------
# 5. Deactivate lost the command waiting for a frame, the one in inference and an in-flight ~/ground call.
def test_deactivate_answers_waiting_inflight_and_service_calls(ros, launcher):
    with _stack(launcher, backend_options={"sleep_ms": 1500}) as (ns, probe, proc, results):
        time.sleep(0.5)
        probe.send("red in inference")
        time.sleep(0.4)
        probe.send("blue queued")
        assert probe.ground_client.wait_for_service(timeout_sec=10)
        call = probe.ground_client.call_async(Ground.Request(command="green via service", timeout_s=5.0))
        time.sleep(0.3)
        assert _change_state(probe, ns, Transition.TRANSITION_DEACTIVATE)
        assert wait_until(call.done, 10), "in-flight ~/ground call never answered"
        resp = call.result()
        assert not resp.success and "deactivated" in resp.message, resp.message
        assert wait_until(lambda: len(results.msgs) >= 3, 10), [m.command for m in results.msgs]
        by_cmd = {m.command: m for m in results.msgs}
        assert not by_cmd["red in inference"].error
        assert "deactivated" in by_cmd["blue queued"].error
        # Inactive: ~/ground answers at once that the node is not active.
        (resp,) = _call_many(probe, ["red"], timeout_s=1.0, wait=10)
        assert resp is not None and not resp.success and "not active" in resp.message


def test_deactivate_answers_a_command_waiting_for_a_frame(ros, launcher):
    with _stack(launcher, camera=False, timeout=30.0) as (ns, probe, proc, results):
        time.sleep(0.3)
        probe.send("red waits for a frame")
        time.sleep(0.5)
        t0 = time.monotonic()
        assert _change_state(probe, ns, Transition.TRANSITION_DEACTIVATE)
        assert wait_until(lambda: len(results.msgs) >= 1, 10)
        assert "deactivated" in results.msgs[0].error and time.monotonic() - t0 < 10


def test_lifecycle_shutdown_answers_work_closes_the_backend_and_exits(ros, launcher, tmp_path):
    marker = tmp_path / "closed.txt"
    with _stack(launcher, camera=False, backend_options={"close_marker": str(marker)}, timeout=30.0) \
            as (ns, probe, proc, results):
        time.sleep(0.3)
        probe.send("red waits for a frame")
        time.sleep(0.5)
        assert _change_state(probe, ns, Transition.TRANSITION_ACTIVE_SHUTDOWN)
        assert wait_until(lambda: len(results.msgs) >= 1, 10)
        assert "shutting down" in results.msgs[0].error
        assert wait_until(lambda: proc.popen.poll() is not None, 15), "process stayed up after shutdown"
        assert proc.popen.returncode == 0, launcher.log(proc)[-2000:]
        assert marker.read_text().count("closed") == 1
        # Nothing is left subscribed to `command` that could swallow a command.
        assert wait_until(lambda: probe.command_pub.get_subscription_count() == 0, 10)


# ------------------------------------------------------------------------------------------------------
# 6. Signals skipped the teardown (backend.close() never ran), logged "Unable to start transition 7",
#    aborted ~15-20 % of SIGTERMs (rc -6) and exited 1 on Jazzy's SIGINT.
def test_sigint_and_sigterm_twenty_times_each_exit_zero_after_teardown(ros, launcher, tmp_path):
    ns = unique_namespace()
    probe = ProbeNode(ns)
    try:
        launcher.start("camera", str(Path(__file__).parent / "synthetic_camera.py"), ros_args(namespace=ns))
        runs = [(sig, mid) for sig in (signal.SIGINT, signal.SIGTERM) for mid in (False, True)] * 10
        for k, (sig, mid) in enumerate(runs):
            marker, started = tmp_path / f"closed{k}.txt", tmp_path / f"started{k}.txt"
            opts = {"close_marker": str(marker), "started_marker": str(started), "sleep_ms": 600 if mid else 0}
            proc = launcher.start(f"node{k}", "grounding_node.ros.node",   # timeout: DDS discovery of the camera
                                  node_args(ns, backend=ADV, backend_options=opts, timeout=15.0))
            wait_ready(probe, launcher, proc)
            if mid:
                probe.send("red box")
                assert wait_until(started.exists, 20), launcher.log(proc)[-1500:]
            proc.popen.send_signal(sig)
            assert wait_until(lambda p=proc: p.popen.poll() is not None, 20), f"run {k}: no exit"
            log, rc = launcher.log(proc), proc.popen.returncode
            assert rc == 0, f"run {k} ({sig!r}, mid={mid}): rc {rc}\n{log[-2000:]}"
            assert marker.exists() and marker.read_text().count("closed") == 1, f"run {k}: no teardown\n{log[-1500:]}"
            assert "terminate called" not in log and "Unable to start transition" not in log, log[-1500:]
            assert wait_until(lambda: probe.command_pub.get_subscription_count() == 0, 10)
    finally:
        probe.close()


# ------------------------------------------------------------------------------------------------------
# 7. Start-up parameters skipped the run-time checks: bad JSON left the node unconfigured forever with only
#    "Unable to start transition 3"; min_depth > max_depth etc. were accepted; timeout:=3 crashed.
@pytest.mark.parametrize("params,fragment", [
    ({"backend_options": "{bad json"}, "backend_options is not valid JSON"),
    ({"min_depth": 5.0, "max_depth": 1.0}, "min_depth"),
    ({"confidence_med": 0.9, "confidence_hi": 0.5}, "confidence_med"),
    ({"dtype": "float64"}, "dtype='float64' is not one of"),
    ({"timeout": 1e9}, "timeout out of range"),
    ({"timing_log": "/nonexistent_dir/timing.jsonl"}, "timing_log '/nonexistent_dir/timing.jsonl' cannot be opened"),
])
def test_invalid_startup_parameters_exit_2_with_the_reason(ros, launcher, params, fragment):
    ns = unique_namespace()
    proc = launcher.start("grounding_node", "grounding_node.ros.node",
                          ros_args(namespace=ns, params={"backend": ADV, **params}))
    assert wait_until(lambda: proc.popen.poll() is not None, 30), "node did not exit on invalid parameters"
    log = launcher.log(proc)
    assert proc.popen.returncode == 2, log[-1500:]
    assert "invalid parameters" in log and fragment in log, log[-1500:]


def test_integer_given_for_a_float_parameter_is_accepted(ros, launcher):
    ns = unique_namespace()
    probe = ProbeNode(ns)
    try:
        proc = launcher.start("grounding_node", "grounding_node.ros.node",
                              ros_args(namespace=ns, params={"backend": ADV, "timeout": 3, "max_frame_age": 1}))
        wait_ready(probe, launcher, proc)
        (resp,) = _call_many(probe, ["red"], timeout_s=0.2, wait=10)
        assert resp is not None and "no camera frames yet" in resp.message
    finally:
        probe.close()


# ------------------------------------------------------------------------------------------------------
# 8. Stamps, diagnostics, frame ids, NUL.
def test_colour_and_depth_stamped_one_second_apart_still_give_2d_results_and_say_why(ros, launcher):
    with _stack(launcher, camera_args=["--depth-stamp-offset", "1.0"]) as (ns, probe, proc, results):
        time.sleep(1.0)
        probe.send("red box")
        assert wait_until(lambda: results.msgs, 15)
        msg = results.msgs[0]
        assert not msg.error, msg.error
        assert msg.objects and not msg.objects[0].has_position
        assert wait_until(lambda: "depth_unpaired" in probe.last_diag_values().get("_message", ""), 10)
        found = re.search(r"differ from the colour image's by ([0-9.]+) s", launcher.log(proc))
        assert found and abs(float(found.group(1)) - 1.0) < 0.05, launcher.log(proc)[-800:]


def test_depth_frame_id_mismatch_is_warned(ros, launcher):
    with _stack(launcher, camera_args=["--depth-frame-id", "depth_optical_frame"]) as (ns, probe, proc, results):
        probe.send("red box")
        assert wait_until(lambda: results.msgs, 15)
        assert wait_until(lambda: "depth_frame" in probe.last_diag_values().get("_message", ""), 10)
        assert "depth frame_id 'depth_optical_frame' differs" in launcher.log(proc)


def test_diagnostics_period_changes_at_run_time_and_diagnostics_run_on_sim_time_without_clock(ros, launcher):
    ns = unique_namespace()
    probe = ProbeNode(ns)
    try:
        proc, _ = start_stack(launcher, ns, camera=False, backend=ADV, diagnostics_period=2.0,
                              use_sim_time=True)   # nobody publishes /clock
        wait_ready(probe, launcher, proc)
        assert wait_until(lambda: len(probe.diagnostics) >= 1, 6), "no diagnostics with sim time and no /clock"
        client = probe.node.create_client(SetParameters, f"{ns}/grounding_node/set_parameters")
        assert client.wait_for_service(timeout_sec=10)
        fut = client.call_async(SetParameters.Request(
            parameters=[Parameter("diagnostics_period", value=0.1).to_parameter_msg()]))
        assert wait_until(fut.done, 10) and fut.result().results[0].successful
        n0 = len(probe.diagnostics)
        time.sleep(2.0)
        assert len(probe.diagnostics) - n0 >= 8, len(probe.diagnostics) - n0   # 2 s at 10 Hz (was 2 s period)
    finally:
        probe.close()


def _cdr_string(text: bytes) -> bytes:
    """A serialised std_msgs/String by hand (rclpy's serialiser would stop at the NUL)."""
    body = text + b"\x00"
    return b"\x00\x01\x00\x00" + len(body).to_bytes(4, "little") + body


def test_nul_inside_a_command_is_removed_and_the_rest_kept(ros, launcher):
    with _stack(launcher) as (ns, probe, proc, results):
        time.sleep(0.3)
        probe.command_pub.publish(_cdr_string(b"red\x00 box; blue box"))
        assert wait_until(lambda: results.msgs, 15)
        msg = results.msgs[0]
        assert "blue box" in msg.command and {o.phrase for o in msg.objects} >= {"red box", "blue box"}, msg


# ------------------------------------------------------------------------------------------------------
# 9. Identity: continuous re-groundings are marked and carry their command's id.
def test_results_carry_request_id_and_continuous_flag(ros, launcher):
    with _stack(launcher, continuous=True, max_rate=10.0) as (ns, probe, proc, results):
        time.sleep(0.3)
        (resp,) = _call_many(probe, ["red box"], timeout_s=2.0, wait=15)
        assert resp.success and resp.request_id >= 1
        assert wait_until(lambda: len(results.msgs) >= 4, 10)
        first, rest = results.msgs[0], results.msgs[1:4]
        assert first.request_id == resp.request_id and not first.continuous
        assert all(m.continuous and m.request_id == resp.request_id for m in rest)
        probe.send("blue box")
        assert wait_until(lambda: any(m.command == "blue box" and not m.continuous for m in results.msgs), 10)
        blue = next(m for m in results.msgs if m.command == "blue box" and not m.continuous)
        assert blue.request_id == resp.request_id + 1


def test_timing_log_measures_in_node_overhead_from_message_receipt(ros, launcher, tmp_path):
    """The overhead is measured inside the running node from rmw's reception time of the image."""
    log = tmp_path / "timing.jsonl"
    with _stack(launcher, timing_log=str(log), max_frame_age=0.0) as (ns, probe, proc, results):
        for i in range(3):
            probe.send(f"red box {i}")
            assert wait_until(lambda n=i: len(results.msgs) > n, 10)
        records = [json.loads(line) for line in log.read_text().splitlines()]
        assert len(records) == 3 and all(r["request_id"] >= 1 for r in records)
        for r in records:
            overhead_ms = (r["published_ns"] - r["frame_received_ns"]) / 1e6 - r["inference_ms"]
            assert 0.0 < overhead_ms < 1000.0, r


# ------------------------------------------------------------------------------------------------------
# 10. Counters from three threads, and dead/stuck threads in diagnostics (in-process, no DDS peers).
def test_stats_counters_are_exact_under_concurrent_increments():
    from grounding_node.ros.diagnostics import NodeStats

    stats = NodeStats()

    def bump():
        for _ in range(20000):
            stats.add(results=1, errors=1)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (stats.results, stats.errors) == (80000, 80000)
    assert len({stats.new_request_id() for _ in range(1000)}) == 1000


def _level(value) -> int:
    """DiagnosticStatus levels are bytes in rclpy."""
    return int.from_bytes(value, "little") if isinstance(value, bytes) else int(value)


def test_dead_or_stuck_worker_shows_as_error_in_diagnostics(ros):
    from diagnostic_msgs.msg import DiagnosticStatus

    from grounding_node.ros.diagnostics import diagnostic_array
    from grounding_node.ros.node import STUCK_AFTER_S, GroundingNode

    node = GroundingNode(parameter_overrides=[Parameter("backend", value=ADV), Parameter("autostart", value=False)])
    try:
        node.trigger_configure()
        assert node._health() == ""
        node._worker.busy_for = lambda: STUCK_AFTER_S + 1.0          # a backend that never returns
        assert "stuck" in node._health()
        node._worker.stop()                                           # the thread is gone
        node._publish_diagnostics()
        arr = diagnostic_array(node.stats, "n", "n", node.get_clock().now().to_msg(), False)
        assert _level(arr.status[0].level) == _level(DiagnosticStatus.ERROR)
        assert "worker thread is not running" in arr.status[0].message
    finally:
        node.trigger_shutdown()
        node.destroy_node()


# ------------------------------------------------------------------------------------------------------
# 11. ~/capture (issue #12 part 1): the newest frame becomes a dataset sample that `dataset check` accepts.
def _capture(probe: ProbeNode, ns: str):
    from phrase_grounding.srv import Capture

    client = probe.node.create_client(Capture, f"{ns}/grounding_node/capture")
    assert client.wait_for_service(timeout_sec=20)
    future = client.call_async(Capture.Request())
    assert wait_until(future.done, 20)
    return future.result()


def test_capture_writes_a_checked_sample_with_the_results_as_preannotations(ros, launcher, tmp_path):
    from grounding_node.data.validate import check_dataset

    out = tmp_path / "captures"
    with _stack(launcher, capture_dir=str(out)) as (ns, probe, proc, results):
        time.sleep(0.3)
        probe.send("red box; blue box")
        assert wait_until(lambda: results.msgs, 15)
        resp = _capture(probe, ns)
        assert resp.success, resp.message
        assert Path(resp.path).is_file() and Path(resp.path).parent.parent == out
        report = check_dataset(out)
        assert not report.errors, report.errors
        (sample,) = report.samples
        assert (sample.width, sample.height) == (640, 480) and sample.depth and sample.camera_info
        got = {g.phrase: g.boxes_1024 for g in sample.groundings}
        sent = {o.phrase: list(o.box_1024) for o in results.msgs[0].objects}
        assert set(got) == {"red box", "blue box"}
        for phrase, boxes in got.items():
            assert boxes and np.allclose(boxes[0], sent[phrase], atol=1e-3)
    # ... and trains (issue #12, acceptance 3): the captured folder is a dataset the fine-tuning takes as is
    from grounding_node.finetune.cli import build_parser, config_from_args, run
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    model = tmp_path / "model"
    res = run(config_from_args(build_parser().parse_args(
        ["--backend", "tabletop", "--data", str(out), "--out", str(model), "--epochs", "1", "--replay", "0",
         "--no-progress"])))
    assert res["state"].epoch == 1 and (model / "README.md").is_file()
    backend = create_backend("tabletop", BackendConfig(model=str(model), device="cpu"))
    assert len(backend.ground(np.zeros((480, 640, 3), np.uint8), ["red box"])) == 1


def test_capture_without_a_frame_or_writable_folder_says_why(ros, launcher, tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    with _stack(launcher, camera=False, capture_dir=str(not_a_dir)) as (ns, probe, proc, results):
        resp = _capture(probe, ns)
        assert not resp.success and "no camera frame" in resp.message
        launcher.start("camera", str(Path(__file__).parent / "synthetic_camera.py"), ros_args(namespace=ns))
        assert wait_until(lambda: int(probe.last_diag_values().get("frames_received", 0)) > 0, 20)
        resp = _capture(probe, ns)
        assert not resp.success and "cannot write to capture_dir" in resp.message, resp.message
