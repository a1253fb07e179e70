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
    import tiny_models

    root = tmp_path_factory.mktemp("tiny_checkpoints")
    built = {}

    def get(variant: str) -> str:
        if variant not in built:
            path = root / variant
            tiny_models.build(variant, str(path))
            built[variant] = str(path)
        return built[variant]

    return get


# -- device/dtype and ROS-free selection (issue 13: `scripts/gpu_check.sh` runs the suite on CUDA) -------------
# `--device cuda --dtype bf16` reach tests through the `test_device`/`test_dtype` fixtures and the env vars
# PG_TEST_DEVICE / PG_TEST_DTYPE (child processes see them too). `--no-ros` drops what needs rclpy: files that
# import ROS modules at module level, and tests that take the `ros` or `launcher` fixtures.
_ROS_MODULES = {"rclpy", "rcl_interfaces", "lifecycle_msgs", "sensor_msgs", "std_msgs", "std_srvs",
                "geometry_msgs", "phrase_grounding", "ros_harness"}


def pytest_addoption(parser):
    group = parser.getgroup("phrase_grounding")
    group.addoption("--device", default=os.environ.get("PG_TEST_DEVICE", "cpu"),
                    help="torch device for the backend tests (cpu, cuda, cuda:1); env PG_TEST_DEVICE")
    group.addoption("--dtype", default=os.environ.get("PG_TEST_DTYPE", "auto"),
                    help="model dtype for the backend tests (auto, float32, bf16, fp16); env PG_TEST_DTYPE")
    group.addoption("--no-ros", action="store_true", default=False,
                    help="deselect every test that needs rclpy / ROS messages (a machine without ROS)")


def pytest_configure(config):
    os.environ["PG_TEST_DEVICE"] = config.getoption("--device")
    os.environ["PG_TEST_DTYPE"] = config.getoption("--dtype")


@pytest.fixture(scope="session")
def test_device(pytestconfig) -> str:
    """The `--device` option: what backend tests pass as BackendConfig.device."""
    return pytestconfig.getoption("--device")


@pytest.fixture(scope="session")
def test_dtype(pytestconfig) -> str:
    """The `--dtype` option: what backend tests pass as BackendConfig.dtype."""
    return pytestconfig.getoption("--dtype")


def _imports_ros(path: Path) -> bool:
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return False
    for node in tree.body:   # module level only: a function-level import is handled by its fixtures
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(n.split(".")[0] in _ROS_MODULES or n.startswith("grounding_node.ros.conversions")
               or n == "grounding_node.ros.messages" for n in names):
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    if config.getoption("--no-ros") and collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return True if _imports_ros(Path(collection_path)) else None
    return None


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--no-ros"):
        return
    keep, dropped = [], []
    for item in items:
        (dropped if {"ros", "launcher"} & set(getattr(item, "fixturenames", ()))  else keep).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
