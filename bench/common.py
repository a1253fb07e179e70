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


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


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
