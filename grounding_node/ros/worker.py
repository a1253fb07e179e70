"""The inference worker: a bounded command queue, the frame choice for each command, continuous mode.

It runs in its own thread so that a slow model never blocks the subscription callbacks (frames keep
arriving and replacing the newest one while it infers). It is ROS-free: the node gives it the frame
source (`FrameSync`) and a `handle(job, frame, error)` callable that grounds and publishes.

The promise it keeps: every submitted job reaches `handle` exactly once, in arrival order, and its
`done` event is set afterwards, whatever happens.
- A command that finds the queue full is rejected at once by the caller with a 'busy' error.
- `interrupt(error)` (deactivate, shutdown) answers the queued jobs and the one waiting for a frame with
  `error`; the job in inference finishes normally, unless it outlasts the bounded wait: then the caller may
  answer it from outside (`in_handler`, `Job.abandoned`) and the handler's late result is dropped
  (`ALREADY_ANSWERED`), so it still gets exactly one answer.
- The thread never dies: anything a handler raises, BaseException included (a backend calling
  `sys.exit()`), is reported through `on_error` and the job still gets `done`. A dead or stuck thread is
  visible through `alive` and `busy_for()`, which the node's diagnostics turn into an ERROR.
- Waits are sliced (at most `MAX_WAIT_S` each), so any timeout, 1e10 or inf, is safe for
  `threading.Condition.wait` (which overflows on huge values).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Optional

from grounding_node.grounding.command import ParsedCommand
from grounding_node.ros.sync import FrameSync, SyncedFrame

MAX_WAIT_S = 1.0


@dataclass
class Job:
    """One command (from the topic or the service) waiting for its single result."""

    parsed: ParsedCommand
    received_at: float                      # monotonic
    timeout_s: float
    continuous: bool = False                # a re-grounding of the active command, not a new command
    request_id: int = 0                     # unique per command / service call; re-groundings reuse it
    done: threading.Event = field(default_factory=threading.Event)
    response: Any = None                    # set by the handler (the service waits on `done`)
    timing: dict = field(default_factory=dict)   # stage timings filled by the handler (timing_log)
    on_done: Optional[Callable[["Job"], None]] = None   # called once after `done` is set (any thread)
    # Answering a job that is still in the handler (a deactivate that cannot wait for a slow model any longer)
    # and the handler publishing its own result race each other: both hold `lock` while they check `abandoned`
    # / `answered` and publish, so exactly one of the two answers goes out.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    answered: bool = False                  # its answer was published (set by the handler)
    abandoned: str = ""                     # answered already from outside the handler: why

    def finish(self, response: Any) -> None:
        """Record the response, set `done`, then tell whoever waits asynchronously (the service). Once only:
        a second call (a late handler after the job was answered) changes nothing."""
        with self.lock:
            if self.done.is_set():
                return
            self.response = response
            self.done.set()
        if self.on_done is not None:
            self.on_done(self)


# A handler's return value for a job that was already answered from outside it (`Job.abandoned`): the worker
# then leaves `done` and `response` as that answer set them.
ALREADY_ANSWERED = object()


Handler = Callable[[Job, Optional[SyncedFrame], str], Any]
ErrorHook = Callable[[Job, BaseException], Any]


class GroundingWorker:
    """Owns the thread, the queue and the 'active command' for continuous mode."""

    def __init__(self, sync: FrameSync, handle: Handler, queue_size: int = 10,
                 clock: Callable[[], float] = time.monotonic, on_error: Optional[ErrorHook] = None) -> None:
        self._sync = sync
        self._handle = handle
        self._on_error = on_error
        self._clock = clock
        self._cv = threading.Condition()
        self._jobs: Deque[Job] = deque()
        self.queue_size = queue_size
        self.max_frame_age = 0.5
        self.continuous = False
        self.max_rate = 5.0
        self._active: Optional[Job] = None      # the command continuous mode re-grounds
        self._last_continuous_seq = 0
        self._last_continuous_at = -1e9
        self._stop = False
        self._interrupt: Optional[str] = None   # set: queued and frame-waiting jobs get this error
        self._thread: Optional[threading.Thread] = None
        self._running_since: Optional[float] = None   # monotonic start of the job being handled
        self._taken: Optional[Job] = None             # the job out of the queue (waiting for a frame or handled)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        with self._cv:
            self._stop = False
            self._interrupt = None
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="grounding_worker", daemon=True)
            self._thread.start()

    def stop(self, error: str = "node shutting down before this command ran", timeout: float = 10.0) -> None:
        """Answer what waits with `error`, let the job in inference finish (up to `timeout`), end the thread."""
        self.interrupt(error)
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._thread = None
        self.drain(error)   # anything submitted while stopping

    def interrupt(self, error: str, wait_s: float = 10.0) -> int:
        """Deactivate: answer queued jobs and the one waiting for a frame with `error`, after the job in
        inference (bounded wait), so its result is published before the publishers go down and the answers
        keep command order (the queued errors used to go out first). The worker answers the queued jobs
        without running them; what it has not reached by the deadline is answered here. New jobs are
        answered with `error` too until `resume()`. Returns how many queued jobs were answered with it."""
        with self._cv:
            self._interrupt = error
            self._active = None
            n = len(self._jobs)
            self._cv.notify_all()
        deadline = time.monotonic() + wait_s
        # (a job already answered from outside, `abandoned`, is not waited for again: cleanup after such a
        # deactivate would block another `wait_s`)
        while self.alive and ((self._taken is not None and not self._taken.abandoned) or self.pending) \
                and time.monotonic() < deadline:
            time.sleep(0.005)
        self.drain(error)
        return n

    def resume(self) -> None:
        with self._cv:
            self._interrupt = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def running(self) -> bool:
        """A job is being handled right now."""
        return self._running_since is not None

    @property
    def busy(self) -> bool:
        """Work is in hand: a job queued, waiting for a frame, or in the handler. (`running` alone missed the
        job waiting for a frame: the node's idle check then dropped the sensor subscriptions under it.)"""
        return self._taken is not None or self.pending > 0

    def in_handler(self) -> Optional[Job]:
        """The job the worker thread is handling right now (inference, publishing), or None."""
        job = self._taken
        return job if job is not None and self._running_since is not None else None

    def busy_for(self) -> float:
        """Seconds the current job has been in the handler (0 when idle): a stuck backend shows here."""
        since = self._running_since
        return 0.0 if since is None else time.monotonic() - since

    # -- inputs (called from ROS callbacks) --------------------------------------------------------
    def submit(self, job: Job) -> bool:
        """Queue a job; False when the queue is full (the caller answers 'busy' at once)."""
        with self._cv:
            if self._interrupt is None and len(self._jobs) >= self.queue_size:
                return False
            self._jobs.append(job)
            self._cv.notify_all()
        if self._interrupt is not None:
            self.drain(self._interrupt)
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
            self._finish(job, None, error, track=False)
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
        active = self._active
        return None if active is None else active.parsed

    # -- the thread --------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                with self._cv:
                    while not self._stop and not self._jobs and not self._continuous_due():
                        self._cv.wait(timeout=self._continuous_wait())
                    if self._stop and not self._jobs:
                        return
                    job = self._jobs.popleft() if self._jobs else None
                    self._taken = job
                try:
                    if job is not None:
                        self._run_job(job)
                    else:
                        self._run_continuous()
                finally:
                    self._taken = None
            except BaseException as exc:  # noqa: BLE001 - the loop itself must never die
                self._report(None, exc)
                time.sleep(0.01)

    def _run_job(self, job: Job) -> None:
        if self._interrupt is not None:   # deactivating: answered in order, never run
            self._finish(job, None, self._interrupt)
            return
        if job.parsed.is_empty:
            self._active = None
            self._finish(job, None, "empty command: nothing to ground (active command cleared)")
            return
        frame = self._frame_for(job)
        if frame is None:
            if self._interrupt is not None:
                error = self._interrupt
            elif self._sync.stats.complete > 0:
                error = f"no camera frame within {job.timeout_s:.2f} s"
            else:
                error = f"no camera frames yet (waited {job.timeout_s:.2f} s)"
            self._finish(job, None, error)
            return
        self._active = job
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
        timeout = job.timeout_s if math.isfinite(job.timeout_s) else 0.0
        deadline = job.received_at + max(0.0, timeout)
        with self._cv:
            while not self._stop and self._interrupt is None:
                latest = self._sync.latest()
                if latest is not None and latest.seq > seen:
                    return self._sync.take_latest()
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return None
                self._cv.wait(timeout=min(remaining, MAX_WAIT_S))
        return None

    def _continuous_due(self) -> bool:
        if not self.continuous or self._active is None or self._interrupt is not None:
            return False
        latest = self._sync.latest()
        if latest is None or latest.seq <= self._last_continuous_seq:
            return False
        return self._clock() - self._last_continuous_at >= 1.0 / self.max_rate

    def _continuous_wait(self) -> float:
        if not self.continuous or self._active is None:
            return MAX_WAIT_S   # only new jobs (notify) can make work appear; sliced all the same
        remaining = 1.0 / self.max_rate - (self._clock() - self._last_continuous_at)
        return min(MAX_WAIT_S, max(0.001, remaining))

    def _run_continuous(self) -> None:
        active = self._active
        frame = self._sync.take_latest()
        if active is None or frame is None:
            return
        self._last_continuous_seq = frame.seq
        self._last_continuous_at = self._clock()
        job = Job(parsed=active.parsed, received_at=frame.received_at, timeout_s=0.0, continuous=True,
                  request_id=active.request_id)
        self._finish(job, frame, "")

    def _finish(self, job: Job, frame: Optional[SyncedFrame], error: str, track: bool = True) -> None:
        """Hand the job to the handler exactly once; whatever it raises, the job is still answered.
        `track`: the worker thread's own job (`busy_for`, `in_handler`); `drain` runs in other threads and must
        not mark the worker idle while its thread is still in inference."""
        response = None
        if track:
            self._running_since = time.monotonic()
        try:
            response = self._handle(job, frame, error)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a backend included: report, go on
            response = self._report(job, exc)
        finally:
            if track:
                self._running_since = None
            if response is not ALREADY_ANSWERED:
                job.finish(response)

    def _report(self, job: Optional[Job], exc: BaseException) -> Any:
        if self._on_error is None:
            return None
        try:
            return self._on_error(job, exc)
        except BaseException:  # noqa: BLE001 - the reporter itself failed: nothing more to do
            return None
