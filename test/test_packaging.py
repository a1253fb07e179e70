"""`pip install .` ships every data file the code reads (setup.cfg package_data).

A file missing there works in the source tree and in editable installs, and fails only for a user who
installed the wheel: the paraphrase set and the English word list were both missing once.
"""

from __future__ import annotations

import configparser
import fnmatch
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _package_data():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    return {pkg: [p.strip() for p in pats.split(",") if p.strip()]
            for pkg, pats in cfg["options.package_data"].items()}


def test_every_data_file_under_the_package_is_in_package_data():
    try:
        files = subprocess.run(["git", "ls-files", "grounding_node"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout (an installed copy): nothing to compare")
    data = _package_data()
    missing = []
    for f in files:
        if f.endswith(".py") or "/__pycache__/" in f:
            continue
        parts = Path(f).parts
        shipped = False
        for i in range(len(parts) - 1, 0, -1):   # the deepest package whose patterns match
            pkg = ".".join(parts[:i])
            rel = "/".join(parts[i:])
            if any(fnmatch.fnmatch(rel, pat) for pat in data.get(pkg, [])):
                shipped = True
                break
        if not shipped:
            missing.append(f)
    assert not missing, f"not in setup.cfg [options.package_data]: {missing}"
