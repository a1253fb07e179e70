"""The inference worker: a bounded command queue, the frame choice for each command, continuous mode.

It runs in its own thread so that a slow model never blocks the subscription callbacks (frames keep
arriving and replacing the newest one while it infers). It is ROS-free: the node gives it the frame
source (`FrameSync`) and a `handle(job, frame, error)` callable that grounds and publishes. Every job
reaches `handle` exactly once, in arrival order; a command that finds the queue full is rejected at
once with a 'busy' error (never silence).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Optional

from grounding_node.grounding.command import ParsedCommand
from grounding_node.ros.sync import FrameSync, SyncedFrame


@dataclass
class Job:
    """One command (from the topic or the service) waiting for its single result."""

    parsed: ParsedCommand
    received_at: float                      # monotonic
    timeout_s: float
    continuous: bool = False                # a re-grounding of the active command, not a new command
    done: threading.Event = field(default_factory=threading.Event)
    response: Any = None                    # set by the handler (the service waits on `done`)
    timing: dict = field(default_factory=dict)   # stage timings filled by the handler (timing_log)


Handler = Callable[[Job, Optional[SyncedFrame], str], Any]


class GroundingWorker:
    """Owns the thread, the queue and the 'active command' for continuous mode."""

    def __init__(self, sync: FrameSync, handle: Handler, queue_size: int = 10,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sync = sync
        self._handle = handle
        self._clock = clock
        self._cv = threading.Condition()
        self._jobs: Deque[Job] = deque()
        self.queue_size = queue_size
        self.max_frame_age = 0.5
        self.continuous = False
        self.max_rate = 5.0
        self._active: Optional[ParsedCommand] = None
        self._last_continuous_seq = 0
        self._last_continuous_at = -1e9
        self._stop = False
        self._thread: Optional[threading.Thread] = None
        self.running = False                    # a job is being handled right now

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="grounding_worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # -- inputs (called from ROS callbacks) --------------------------------------------------------
    def submit(self, job: Job) -> bool:
        """Queue a job; False when the queue is full (the caller answers 'busy' at once)."""
        with self._cv:
            if len(self._jobs) >= self.queue_size:
                return False
            self._jobs.append(job)
            self._cv.notify_all()
            return True

    def frame_arrived(self) -> None:
        """Wake the worker: a waiting command or continuous mode may use the new frame."""
        with self._cv:
            self._cv.notify_all()

    def drain(self, error: str) -> int:
        """Answer every queued job with `error` (on deactivate), so none is lost. Returns how many."""
        with self._cv:
            jobs, self._jobs = list(self._jobs), deque()
        for job in jobs:
            self._finish(job, None, error)
        return len(jobs)

    def clear_active(self) -> None:
        with self._cv:
            self._active = None

    @property
    def pending(self) -> int:
        with self._cv:
            return len(self._jobs)

    @property
    def active_command(self) -> Optional[ParsedCommand]:
        return self._active

    # -- the thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stop and not self._jobs and not self._continuous_due():
                    self._cv.wait(timeout=self._continuous_wait())
                if self._stop:
                    return
                job = self._jobs.popleft() if self._jobs else None
            if job is not None:
                self.running = True
                try:
                    self._run_job(job)
                finally:
                    self.running = False
            else:
                self._run_continuous()

    def _run_job(self, job: Job) -> None:
        if job.parsed.is_empty:
            self._active = None
            self._finish(job, None, "empty command: nothing to ground (active command cleared)")
            return
        frame = self._frame_for(job)
        if frame is None:
            ever = self._sync.stats.complete > 0
            error = (f"no camera frame within {job.timeout_s:.2f} s" if ever
                     else f"no camera frames yet (waited {job.timeout_s:.2f} s)")
            self._finish(job, None, error)
            return
        self._active = job.parsed
        self._last_continuous_seq = frame.seq
        self._last_continuous_at = self._clock()
        self._finish(job, frame, "")

    def _frame_for(self, job: Job) -> Optional[SyncedFrame]:
        """The newest frame no older than max_frame_age, else the next frame to arrive before the deadline."""
        frame = self._sync.take_latest()
        now = self._clock()
        if frame is not None and now - frame.received_at <= self.max_frame_age:
            return frame
        seen = frame.seq if frame is not None else 0
        deadline = job.received_at + job.timeout_s
        with self._cv:
            while not self._stop:
                latest = self._sync.latest()
                if latest is not None and latest.seq > seen:
                    return self._sync.take_latest()
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return None
                self._cv.wait(timeout=remaining)
        return None

    def _continuous_due(self) -> bool:
        if not self.continuous or self._active is None:
            return False
        latest = self._sync.latest()
        if latest is None or latest.seq <= self._last_continuous_seq:
            return False
        return self._clock() - self._last_continuous_at >= 1.0 / self.max_rate

    def _continuous_wait(self) -> Optional[float]:
        if not self.continuous or self._active is None:
            return None   # only new jobs (notify) can make work appear
        return max(0.001, 1.0 / self.max_rate - (self._clock() - self._last_continuous_at))

    def _run_continuous(self) -> None:
        active = self._active
        frame = self._sync.take_latest()
        if active is None or frame is None:
            return
        self._last_continuous_seq = frame.seq
        self._last_continuous_at = self._clock()
        job = Job(parsed=active, received_at=frame.received_at, timeout_s=0.0, continuous=True)
        self._finish(job, frame, "")

    def _finish(self, job: Job, frame: Optional[SyncedFrame], error: str) -> None:
        try:
            job.response = self._handle(job, frame, error)
        finally:
            job.done.set()
