"""A small ROS-free process launcher for where `ros2 launch` does not exist (PyPI wheels, CI, the demo).

It starts each node as its own process with the same `--ros-args` a launch file would pass (namespace,
parameters, params file, remaps), checks that the loopback DDS profile is in the environment, and stops
everything with SIGINT then SIGKILL. On a robot, use launch/grounding.launch.py instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional


def ros_args(namespace: str = "", params: Optional[Dict[str, object]] = None, params_file: str = "",
             remaps: Optional[Dict[str, str]] = None, node_name: str = "") -> List[str]:
    """The `--ros-args ...` list for a node process (parameter values rendered as YAML scalars)."""
    out = ["--ros-args"]
    if node_name:
        out += ["-r", f"__node:={node_name}"]
    if namespace:
        out += ["-r", f"__ns:={namespace if namespace.startswith('/') else '/' + namespace}"]
    if params_file:
        out += ["--params-file", params_file]
    for key, value in (params or {}).items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = "'" + value.replace("'", "''") + "'" if value == "" or any(c in value for c in ":{}[],#") \
                else value
        else:
            text = repr(value)
        out += ["-p", f"{key}:={text}"]
    for src, dst in (remaps or {}).items():
        out += ["-r", f"{src}:={dst}"]
    return out


def check_dds_env(env: Dict[str, str]) -> None:
    """Refuse to start rclpy processes without the loopback-only DDS profile (a hard rule here)."""
    for var in ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"):
        # Kilted reads the first name, Jazzy's Fast DDS 2.14 only the second: both must be set.
        profile = env.get(var, "")
        if not profile or not Path(profile).is_file():
            raise RuntimeError(f"{var} is not set to an existing file: "
                               "source scripts/env.sh before starting ROS processes")


@dataclass
class Process:
    name: str
    cmd: List[str]
    log_path: Optional[Path] = None
    popen: Optional[subprocess.Popen] = None
    _log: object = field(default=None, repr=False)


class Launcher:
    """Start/stop a set of node processes; a context manager that always cleans up."""

    def __init__(self, log_dir: Optional[Path] = None, env: Optional[Dict[str, str]] = None) -> None:
        self.env = dict(os.environ if env is None else env)
        check_dds_env(self.env)
        self.log_dir = Path(log_dir) if log_dir else None
        self.processes: List[Process] = []

    def start(self, name: str, module: str, args: Optional[List[str]] = None) -> Process:
        """Run `python -m module args...` (or a script path ending in .py) as a new process group."""
        target = [module] if module.endswith(".py") else ["-m", module]
        proc = Process(name, [sys.executable, "-u", *target, *(args or [])])
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            proc.log_path = self.log_dir / f"{name}.log"
            proc._log = open(proc.log_path, "w")
        out = proc._log if proc._log is not None else subprocess.DEVNULL
        proc.popen = subprocess.Popen(proc.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        self.processes.append(proc)
        return proc

    def stop(self, proc: Process, timeout: float = 5.0) -> Optional[int]:
        if proc.popen is None:
            return None
        if proc.popen.poll() is None:
            try:
                os.killpg(proc.popen.pid, signal.SIGINT)
                proc.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.popen.pid, signal.SIGKILL)
                proc.popen.wait(timeout)
            except ProcessLookupError:
                pass
        if proc._log is not None:
            proc._log.close()
            proc._log = None
        return proc.popen.returncode

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            self.stop(proc)

    def log(self, proc: Process) -> str:
        return proc.log_path.read_text(errors="replace") if proc.log_path and proc.log_path.exists() else ""

    def __enter__(self) -> "Launcher":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()


def wait_until(predicate, timeout: float, period: float = 0.05) -> bool:
    """Poll `predicate` until true or `timeout` seconds pass (used by the demo and the tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())
