"""Issue 13's GPU check harness at smoke size on the CPU: one small model end to end (build the weightless
folder, random weights through the backend's load(), forced answers, timing, report files)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_smoke_florence2(tmp_path):
    sys.path.insert(0, str(REPO / "bench" / "gpu"))
    import harness

    rc = harness.main(["--smoke", "--device", "cpu", "--skip", "tests", "tabletop", "--models", "florence2_base",
                       "--variants", "sdpa", "static_compile", "--out", str(tmp_path)])
    assert rc == 0
    report = json.loads((tmp_path / "gpu-smoke.json").read_text())
    variants = report["models"]["florence2_base"]["variants"]
    for name in ("sdpa", "static_compile"):
        cases = variants[name]["cases"]
        assert set(cases) == {"1", "3"}, variants[name]
        assert cases["3"]["phrases_with_a_box"] == 3       # the forced answers parse back through the product
    assert (tmp_path / "gpu-smoke.md").exists() and not (tmp_path / "gpu.md").exists()
