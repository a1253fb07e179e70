"""Shared bench helpers: repeated timing, tables, and writing a section of docs/benchmarks.md."""

from __future__ import annotations

import platform
import re
import statistics
import time
from pathlib import Path
from typing import Callable, Dict, List, Sequence

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "benchmarks.md"


def time_ms(fn: Callable[[], object], repeats: int, warmup: int = 5) -> List[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def summary(values: Sequence[float]) -> Dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(values: Sequence[float], digits: int = 3) -> str:
    s = summary(values)
    return f"{s['median']:.{digits}f} ({s['min']:.{digits}f}-{s['max']:.{digits}f})"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _first(path: str, key: str) -> str:
    """The value of the first `key: value` (or `key=value`) line of a text file, or ''."""
    try:
        for line in Path(path).read_text(errors="replace").splitlines():
            for sep in (":", "="):
                k, found, v = line.partition(sep)
                if found and k.strip() == key:
                    return v.strip().strip('"')
    except OSError:
        pass
    return ""


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return ""


def _gpu() -> str:
    """GPU names from nvidia-smi when there is one (no torch import: most benches never load it)."""
    import shutil
    import subprocess

    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                                 text=True, timeout=10).stdout
            names = [n.strip() for n in out.splitlines() if n.strip()]
            if names:
                return ", ".join(names)
        except (OSError, subprocess.SubprocessError):
            pass
    return "no GPU"


_MACHINE: Dict[str, str] = {}


def machine_info() -> Dict[str, str]:
    """What this machine is, detected (not hard-coded): CPU model, cores, RAM, OS, Python, torch, rclpy, GPU."""
    import os

    if not _MACHINE:
        cpu = _first("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()
        cores = os.cpu_count() or 0
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
        mem_kb = _first("/proc/meminfo", "MemTotal").split()
        os_name = _first("/etc/os-release", "PRETTY_NAME") or platform.system()
        _MACHINE.update(
            cpu=cpu, cores=f"{cores}" + (f" ({usable} usable)" if usable != cores else ""),
            ram=f"{int(mem_kb[0]) / 2**20:.0f} GiB" if mem_kb else "?",
            os=f"{os_name}, Linux {platform.release()}" if platform.system() == "Linux" else os_name,
            python=platform.python_version(), torch=_version("torch") or "not installed",
            rclpy=_version("rclpy") or _version("ros-rclpy") or "not installed",
            rmw=os.environ.get("RMW_IMPLEMENTATION", "default rmw"), gpu=_gpu())
    return dict(_MACHINE)


def machine() -> str:
    m = machine_info()
    return (f"{m['cpu']}, {m['cores']} cores, {m['ram']} RAM, {m['os']}, Python {m['python']}, torch {m['torch']}, "
            f"rclpy {m['rclpy']} ({m['rmw']}), {m['gpu']}")


def percentile(values: Sequence[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


RESULTS = REPO / "bench" / "out" / "results"


def save_results(name: str, data: dict) -> None:
    """The figures a bench measured, as JSON (bench/out/results/NAME.json): run_all writes the prose of
    docs/benchmarks.md from these, so no number in it is typed by hand."""
    import json

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1, default=float))


def load_results(name: str):
    import json

    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def write_section(name: str, body: str, top: bool = False) -> None:
    """Replace (or add) the section between <!-- NAME:begin --> and <!-- NAME:end --> in docs/benchmarks.md,
    so each bench script owns its section and reruns do not clobber the others. A new section goes at the
    end, or right after the title with `top`."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nEach section is written by the script it names.\n"
    block = f"<!-- {name}:begin -->\n{body.rstrip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:begin -->.*?<!-- {re.escape(name)}:end -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    elif top:
        head, _, rest = text.partition("\n\n<!--")
        text = head.rstrip() + "\n\n" + block + ("\n\n<!--" + rest if rest else "\n")
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def figure(width: float = 7.0, height: float = 3.5):
    """A matplotlib figure on the Agg backend (no display): (fig, ax)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), dpi=110)


def save_figure(fig, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
