"""Adversarial review of the demo (`python -m grounding_node.demo`, the first thing a new user runs).

Found: `--scenes 0`, `--width 4000`, `--width 0` started both processes and then printed an empty table or a
MuJoCo/OpenGL traceback; Ctrl-C while it waited for the node ended in rclpy's "publisher's context is invalid"
traceback (rclpy's signal handler shut the context down under the demo's waits); a demo whose every command
came back as an error (e.g. the backend did not load) exited 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from grounding_node.launcher import wait_until

REPO = Path(__file__).resolve().parents[1]


def _demo(tmp_path: Path, *args: str, env_extra: dict | None = None) -> subprocess.Popen:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.Popen([sys.executable, "-u", "-m", "grounding_node.demo", "--out", str(tmp_path / "out"),
                             *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _processes_with(token: str) -> list:
    """Pids of live processes whose environment holds `token` (the demo's children inherit it), so the check
    sees exactly this test's processes and never another worker's."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if token.encode() in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.parametrize("args,expect", [
    (["--scenes", "0"], "argument --scenes: must be at least 1, not 0"),
    (["--width", "4000"], "width must be 1..1920 pixels, not 4000"),
    (["--height", "0"], "height must be 1..1200 pixels, not 0"),
    (["--timeout", "0"], "argument --timeout: must be a positive number of seconds"),
    (["--seed", "-1"], "--seed must be >= 0"),
])
def test_bad_arguments_exit_2_before_starting_anything(tmp_path, args, expect):
    proc = _demo(tmp_path, *args)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, out[-3000:]
    assert expect in out and "Traceback" not in out, out[-3000:]
    assert not (tmp_path / "out" / "logs").exists()    # no process was started


@pytest.mark.parametrize("when", ["starting", "commanding"])
def test_ctrl_c_stops_everything_with_exit_130_and_no_traceback(tmp_path, when):
    token = f"PG_ADV_DEMO_{uuid.uuid4().hex}"
    proc = _demo(tmp_path, "--scenes", "3", env_extra={token: "1"})
    try:
        logs = tmp_path / "out" / "logs"
        if when == "starting":    # the camera and node processes exist, the demo waits for the node
            assert wait_until(lambda: (logs / "grounding_node.log").exists(), 60)
            time.sleep(0.5)
        else:                     # the first answer's debug image is written: commands are under way
            assert wait_until(lambda: list((tmp_path / "out").glob("seed*.png")) or proc.poll() is not None, 120)
            assert proc.poll() is None, proc.stdout.read()[-3000:]
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out[-3000:]
    assert "demo interrupted" in out and "Traceback" not in out, out[-3000:]
    assert wait_until(lambda: not _processes_with(token), 15), "the demo left its processes running"


def test_every_command_failing_is_exit_1_with_the_reason(tmp_path):
    proc = _demo(tmp_path, "--scenes", "1", "--backend", "no_such_backend_adv", "--timeout", "20")
    out, _ = proc.communicate(timeout=240)
    assert proc.returncode == 1, out[-3000:]
    assert "FAIL: error: backend not loaded" in out and "no_such_backend_adv" in out, out[-3000:]
    assert "no command got an answer without an error" in out, out[-3000:]
