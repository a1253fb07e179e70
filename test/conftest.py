"""Test-session set-up: the loopback-only DDS profile and a per-run ROS domain, before anything imports rclpy.

scripts/test.sh sets all of this (and runs the suite in a private network namespace when root); these
checks make a bare `pytest` in a shell without scripts/env.sh fail loudly instead of multicasting.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import pytest

TEST_DIR = Path(__file__).resolve().parent
REPO = TEST_DIR.parent
sys.path.insert(0, str(TEST_DIR))   # test-only backends and helpers (pg_test_backends, ros_harness)

_profile = REPO / "config" / "fastdds_loopback.xml"
# Both names: Kilted reads FASTDDS_*, Jazzy's Fast DDS 2.14 reads only FASTRTPS_*.
for _var in ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"):
    os.environ[_var] = str(_profile)
os.environ.setdefault("ROS_DOMAIN_ID", str(random.randint(1, 100)))
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
# Child processes (node, camera) import the test backends by module name.
os.environ["PYTHONPATH"] = os.pathsep.join([str(TEST_DIR), str(REPO), os.environ.get("PYTHONPATH", "")])


@pytest.fixture(scope="session")
def ros():
    """rclpy initialised once for the session (tests that need it say so by taking this fixture)."""
    import rclpy

    rclpy.init()
    yield rclpy
    rclpy.shutdown()


@pytest.fixture
def launcher(tmp_path):
    from grounding_node.launcher import Launcher

    with Launcher(log_dir=tmp_path / "logs") as launch:
        yield launch


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """`tiny_checkpoint(variant) -> directory` of a tiny random-weight checkpoint, built offline once per
    session (config, offline tokenizer, processor, save_pretrained). Variants: florence2, paligemma,
    kosmos2, qwen2, qwen2_5, qwen3, grounding_dino, owlv2, owlvit."""
    from tiny_models import florence2, grounding_dino, kosmos2, owlv2, paligemma, qwen

    builders = {
        "florence2": florence2.build, "paligemma": paligemma.build, "kosmos2": kosmos2.build,
        "qwen2": lambda d: qwen.build(d, "qwen2"), "qwen2_5": lambda d: qwen.build(d, "qwen2_5"),
        "qwen3": lambda d: qwen.build(d, "qwen3"), "grounding_dino": grounding_dino.build,
        "owlv2": owlv2.build, "owlvit": owlv2.build_owlvit,
    }
    root = tmp_path_factory.mktemp("tiny_checkpoints")
    built = {}

    def get(variant: str) -> str:
        if variant not in built:
            path = root / variant
            builders[variant](str(path))
            built[variant] = str(path)
        return built[variant]

    return get
