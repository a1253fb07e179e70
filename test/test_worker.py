"""The inference worker without ROS: order, exactly-once, busy, frame choice, timeouts, continuous."""

from __future__ import annotations

import threading
import time

from grounding_node.grounding.command import parse_command
from grounding_node.ros.sync import FrameSync
from grounding_node.ros.worker import GroundingWorker, Job


class Recorder:
    def __init__(self, sleep_s: float = 0.0):
        self.calls = []
        self.sleep_s = sleep_s
        self.lock = threading.Lock()

    def __call__(self, job, frame, error):
        if frame is not None and self.sleep_s:
            time.sleep(self.sleep_s)
        with self.lock:
            self.calls.append((job.parsed.text, frame.image if frame else None, error, job.continuous))
        return len(self.calls)


def job(text, timeout=1.0):
    return Job(parsed=parse_command(text), received_at=time.monotonic(), timeout_s=timeout)


def colour_only() -> FrameSync:
    """Frames complete on the image alone (no depth stream, no grace period to wait for one)."""
    return FrameSync(depth_timeout_s=0.0)


def add_frame(sync, i):
    sync.add_image(i * 1_000_000, f"img{i}")


def wait_calls(rec, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(rec.calls) < n:
        time.sleep(0.005)
    return rec.calls


def test_every_job_answered_once_in_order_on_the_newest_frame():
    sync, rec = colour_only(), Recorder()
    worker = GroundingWorker(sync, rec, queue_size=50)
    add_frame(sync, 1)
    add_frame(sync, 2)
    worker.start()
    try:
        jobs = [job(f"c{i}") for i in range(20)]
        assert all(worker.submit(j) for j in jobs)
        calls = wait_calls(rec, 20)
        assert [c[0] for c in calls] == [f"c{i}" for i in range(20)]
        assert all(c[1] == "img2" and c[2] == "" for c in calls)
        assert all(j.done.is_set() for j in jobs)
    finally:
        worker.stop()


def test_full_queue_rejects_instead_of_growing():
    sync, rec = colour_only(), Recorder()
    worker = GroundingWorker(sync, rec, queue_size=3)   # not started: nothing drains
    assert [worker.submit(job(f"c{i}")) for i in range(5)] == [True, True, True, False, False]
    assert worker.pending == 3
    assert worker.drain("deactivated") == 3
    assert [c[2] for c in rec.calls] == ["deactivated"] * 3


def test_no_frames_yet_error_after_timeout_and_next_frame_is_used_when_it_comes():
    sync, rec = colour_only(), Recorder()
    worker = GroundingWorker(sync, rec)
    worker.start()
    try:
        worker.submit(job("a", timeout=0.2))
        calls = wait_calls(rec, 1)
        assert calls[0][1] is None and calls[0][2].startswith("no camera frames yet")
        worker.submit(job("b", timeout=2.0))
        time.sleep(0.1)
        add_frame(sync, 7)
        worker.frame_arrived()
        calls = wait_calls(rec, 2)
        assert calls[1][:3] == ("b", "img7", "")
    finally:
        worker.stop()


def test_stale_frame_is_not_used_the_next_one_is():
    clock = [0.0]
    sync = FrameSync(depth_timeout_s=0.0, clock=lambda: clock[0])
    rec = Recorder()
    worker = GroundingWorker(sync, rec, clock=lambda: clock[0])
    worker.max_frame_age = 0.5
    clock[0] = 0.001
    add_frame(sync, 1)
    assert sync.latest().image == "img1"
    clock[0] = 10.0                                           # frame 1 is now 10 s old
    worker.start()
    try:
        worker.submit(Job(parse_command("x"), received_at=10.0, timeout_s=100.0))
        time.sleep(0.1)
        assert rec.calls == []                                # waits instead of using the stale frame
        add_frame(sync, 2)
        worker.frame_arrived()
        assert wait_calls(rec, 1)[0][1] == "img2"
    finally:
        worker.stop()


def test_empty_command_clears_active_and_is_answered():
    sync, rec = colour_only(), Recorder()
    worker = GroundingWorker(sync, rec)
    add_frame(sync, 1)
    worker.start()
    try:
        worker.submit(job("red mug"))
        wait_calls(rec, 1)
        assert worker.active_command.phrases == ["red mug"]
        worker.submit(job("   "))
        calls = wait_calls(rec, 2)
        assert calls[1][2].startswith("empty command") and worker.active_command is None
    finally:
        worker.stop()


def test_continuous_regrounds_new_frames_at_bounded_rate():
    sync, rec = colour_only(), Recorder()
    worker = GroundingWorker(sync, rec)
    worker.continuous, worker.max_rate = True, 10.0
    add_frame(sync, 0)
    worker.start()
    try:
        worker.submit(job("red mug"))
        wait_calls(rec, 1)
        t0 = time.monotonic()
        i = 1
        while time.monotonic() - t0 < 1.0:                   # 100 Hz of frames for 1 s
            add_frame(sync, i)
            worker.frame_arrived()
            i += 1
            time.sleep(0.01)
        continuous = [c for c in rec.calls if c[3]]
        assert 5 <= len(continuous) <= 12                     # about max_rate, never every frame
        assert all(c[0] == "red mug" for c in continuous)
    finally:
        worker.stop()


def test_slow_model_each_result_uses_newest_frame_at_its_start():
    sync, rec = colour_only(), Recorder(sleep_s=0.1)
    worker = GroundingWorker(sync, rec)
    worker.max_frame_age = 10.0
    add_frame(sync, 0)
    worker.start()
    stop = threading.Event()

    def camera():
        i = 1
        while not stop.is_set():
            add_frame(sync, i)
            worker.frame_arrived()
            i += 1
            time.sleep(0.01)

    cam = threading.Thread(target=camera)
    cam.start()
    try:
        for k in range(4):
            worker.submit(job(f"c{k}"))
        calls = wait_calls(rec, 4)
        frames = [int(c[1][3:]) for c in calls]
        assert frames == sorted(frames) and len(set(frames)) == 4   # a newer frame for each result
    finally:
        stop.set()
        cam.join()
        worker.stop()


def test_huge_and_infinite_timeouts_never_kill_the_thread():
    """Condition.wait(1e10) raises OverflowError: the worker used to die on a command waiting that long."""
    sync, rec = colour_only(), Recorder()
    worker = GroundingWorker(sync, rec, queue_size=5)
    worker.start()
    try:
        jobs = [job("a", timeout=1e10), job("b", timeout=float("inf"))]
        for j in jobs:
            assert worker.submit(j)
        time.sleep(0.3)
        assert worker.alive
        assert worker.interrupt("node deactivated") == 1      # "b" was still queued
        assert all(j.done.wait(3.0) for j in jobs)
        assert [c[2] for c in rec.calls] == ["node deactivated", "node deactivated"]
        assert worker.alive
    finally:
        worker.stop()


def test_a_handler_raising_base_exception_is_reported_and_the_job_still_done():
    """A backend calling sys.exit() (SystemExit) used to end the worker thread without a log line."""
    sync = colour_only()
    errors = []

    def handle(job_, frame, error):
        if job_.parsed.text == "exit":
            raise SystemExit(3)
        return "ok"

    def on_error(job_, exc):
        errors.append((job_.parsed.text, type(exc).__name__))
        return "error result"

    worker = GroundingWorker(sync, handle, queue_size=5, on_error=on_error)
    add_frame(sync, 1)
    worker.start()
    try:
        a, b = job("exit"), job("next")
        worker.submit(a)
        worker.submit(b)
        assert a.done.wait(3.0) and b.done.wait(3.0)
        assert (a.response, b.response) == ("error result", "ok")
        assert errors == [("exit", "SystemExit")] and worker.alive
    finally:
        worker.stop()


def test_an_interrupt_answers_in_command_order():
    """An adversarial script sent SIGINT while one command was in inference and five were queued: the queued
    ones' errors were published first (ids 2-6), then the in-flight result (id 1), while the README promises
    results in command order. The in-flight job is answered first now, and the queued ones are never run."""
    sync, rec = colour_only(), Recorder(sleep_s=0.3)
    worker = GroundingWorker(sync, rec, queue_size=50)
    add_frame(sync, 1)
    worker.start()
    try:
        assert worker.submit(job("c0"))
        deadline = time.monotonic() + 5
        while not worker.running and time.monotonic() < deadline:
            time.sleep(0.005)
        assert worker.running
        jobs = [job(f"c{i}") for i in range(1, 6)]
        assert all(worker.submit(j) for j in jobs)
        assert worker.interrupt("node shutting down") == 5
        calls = wait_calls(rec, 6)
        assert [c[0] for c in calls] == [f"c{i}" for i in range(6)]
        assert calls[0][2] == "" and all(c[2] == "node shutting down" and c[1] is None for c in calls[1:])
        assert all(j.done.is_set() for j in jobs)
    finally:
        worker.stop()
