"""Counters the node keeps, and their /diagnostics message (diagnostic_msgs/DiagnosticArray).

The status level is what a user sees first in rqt_robot_monitor: ERROR when the backend failed to load or a
thread of the node is dead or stuck (`health`), WARN for stale input, sync failures, dropped frames or
mostly-invalid depth in the last period, OK otherwise.

The counters are written from three threads (executor, worker, service), so every write goes through
`add`/`put` under the lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue


@dataclass
class NodeStats:
    model: str = ""
    backend_error: str = ""
    last_inference_ms: float = 0.0
    frames_received: int = 0        # complete (synced) frames
    frames_dropped: int = 0         # messages rejected as malformed/unsupported
    frames_superseded: int = 0      # complete frames replaced before use (latest-frame policy)
    sync_failures: int = 0
    frames_without_depth: int = 0
    commands: int = 0
    results: int = 0
    errors: int = 0
    busy_rejections: int = 0
    located: int = 0                # objects that got a 3D position
    unlocated: int = 0              # objects that did not (depth invalid or missing)
    last_frame_age_s: Optional[float] = None
    sensors: str = "subscribed"     # or "paused (idle)" (idle_unsubscribe_after)
    health: str = ""                # non-empty: a thread is dead or stuck (ERROR)
    next_request_id: int = 1
    last_warning: str = ""
    recent_warnings: Dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        """Increment counters atomically (`stats.add(results=1, errors=1)`)."""
        with self.lock:
            for name, n in counts.items():
                setattr(self, name, getattr(self, name) + n)

    def put(self, **values) -> None:
        """Set several fields atomically."""
        with self.lock:
            for name, value in values.items():
                setattr(self, name, value)

    def new_request_id(self) -> int:
        """1, 2, 3, ...: unique per command or service call for the life of the node."""
        with self.lock:
            rid = self.next_request_id
            self.next_request_id += 1
            return rid

    def warn(self, key: str, text: str) -> None:
        with self.lock:
            self.recent_warnings[key] = self.recent_warnings.get(key, 0) + 1
            self.last_warning = text

    @property
    def depth_invalid_rate(self) -> float:
        total = self.located + self.unlocated
        return self.unlocated / total if total else 0.0


def diagnostic_array(stats: NodeStats, name: str, hardware_id: str, stamp, active: bool) -> DiagnosticArray:
    """One DiagnosticStatus named after the node; the warnings seen since the last call set its level."""
    with stats.lock:
        warnings = dict(stats.recent_warnings)
        stats.recent_warnings.clear()
        values = [
            ("model", stats.model),
            ("active", str(active)),
            ("last_inference_ms", f"{stats.last_inference_ms:.1f}"),
            ("frames_received", str(stats.frames_received)),
            ("frames_dropped", str(stats.frames_dropped)),
            ("frames_superseded", str(stats.frames_superseded)),
            ("sync_failures", str(stats.sync_failures)),
            ("frames_without_depth", str(stats.frames_without_depth)),
            ("depth_invalid_rate", f"{stats.depth_invalid_rate:.3f}"),
            ("commands", str(stats.commands)),
            ("results", str(stats.results)),
            ("errors", str(stats.errors)),
            ("busy_rejections", str(stats.busy_rejections)),
            ("sensors", stats.sensors),
            ("last_frame_age_s", "none" if stats.last_frame_age_s is None else f"{stats.last_frame_age_s:.3f}"),
            ("last_warning", stats.last_warning),
        ]
        backend_error = stats.backend_error
        health = stats.health
    if health:
        values.append(("health", health))
    status = DiagnosticStatus()
    status.name = name
    status.hardware_id = hardware_id
    if health:
        status.level = DiagnosticStatus.ERROR
        status.message = health
    elif backend_error:
        status.level = DiagnosticStatus.ERROR
        status.message = f"backend not loaded: {backend_error}"
    elif warnings:
        status.level = DiagnosticStatus.WARN
        status.message = "; ".join(f"{k} x{n}" for k, n in sorted(warnings.items()))
    else:
        status.level = DiagnosticStatus.OK
        status.message = "ok" if active else "inactive"
    status.values = [KeyValue(key=k, value=v) for k, v in values]
    arr = DiagnosticArray()
    arr.header.stamp = stamp
    arr.status = [status]
    return arr


def status_values(arr: DiagnosticArray) -> Dict[str, str]:
    """KeyValue list -> dict (tests and tools read diagnostics through this)."""
    return {kv.key: kv.value for kv in arr.status[0].values}


__all__: List[str] = ["NodeStats", "diagnostic_array", "status_values"]
