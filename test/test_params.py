"""Parameters: one declaration, descriptors enforced, cross-rules rejected with a reason, and
params.yaml / launch arguments / README in agreement with the declaration."""

from __future__ import annotations

import ast
import py_compile
from pathlib import Path

import pytest
import yaml

from grounding_node.ros.params import PARAMS, SPECS, validate

REPO = Path(__file__).resolve().parents[1]


def _launch_arguments(path: Path) -> dict:
    """The ARGUMENTS table of a launch file, read without importing `launch` (absent from the wheels)."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ARGUMENTS":
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} has no ARGUMENTS table")


def test_params_yaml_lists_exactly_the_declared_parameters_with_their_defaults():
    data = yaml.safe_load((REPO / "config" / "params.yaml").read_text())
    (key,) = data   # '/**/grounding_node': any namespace (test_adv_node_drivers.py checks that it applies)
    assert key.rsplit("/", 1)[-1] == "grounding_node", key
    values = data[key]["ros__parameters"]
    assert set(values) == set(SPECS)
    for name, value in values.items():
        assert value == SPECS[name].default, name
        assert type(value) is type(SPECS[name].default), name


def test_launch_files_compile_and_their_parameter_arguments_are_declared():
    for path in (REPO / "launch").glob("*.launch.py"):
        py_compile.compile(str(path), doraise=True)
    args = _launch_arguments(REPO / "launch" / "grounding.launch.py")
    tree = ast.parse((REPO / "launch" / "grounding.launch.py").read_text())
    consts = {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body
              if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") in
              ("NODE_PARAMETER_ARGUMENTS", "REMAP_ARGUMENTS")}
    assert {"params_file", "backend", "model", "device", "namespace", "use_sim_time"} <= set(args)
    for name in consts["NODE_PARAMETER_ARGUMENTS"]:
        assert name in SPECS or name == "use_sim_time", name
        # Empty = "not given": the params file decides (a non-empty default would always override it).
        assert args[name][0] == "", f"launch argument {name} must default to '' so the params file can set it"
    assert {"image", "depth_image", "camera_info", "command"} <= set(consts["REMAP_ARGUMENTS"])


def _load_launch_module(path: Path):
    """Import a launch file with stand-ins for `launch`/`launch_ros` (absent from the PyPI wheels): only its
    pure functions are exercised."""
    import importlib.util
    import sys
    import types

    stubs = {}
    for mod in ("launch", "launch.actions", "launch.substitutions", "launch.conditions", "launch_ros",
                "launch_ros.actions", "launch_ros.parameter_descriptions", "ament_index_python",
                "ament_index_python.packages"):
        m = types.ModuleType(mod)
        m.__getattr__ = lambda name: type(name, (), {"__init__": lambda self, *a, **k: None})
        stubs[mod] = m
    saved = {k: sys.modules.get(k) for k in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location("launch_under_test", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v


def test_launch_arguments_override_the_params_file_only_when_given():
    """The launch file used to pass backend:=tabletop, model:='' and device:=auto after the params file
    every time, so a params file could never choose the backend."""
    mod = _load_launch_module(REPO / "launch" / "grounding.launch.py")
    assert mod.parameter_overrides({"backend": "", "model": "", "device": "", "use_sim_time": ""}) == {}
    assert mod.parameter_overrides({"backend": "florence2", "model": "", "device": "cuda",
                                    "use_sim_time": "true"}) == {"backend": "florence2", "device": "cuda",
                                                                 "use_sim_time": True}
    assert mod.parameter_overrides({"use_sim_time": "false"}) == {"use_sim_time": False}


def test_readme_documents_every_parameter():
    readme = (REPO / "README.md").read_text()
    missing = [p.name for p in PARAMS if f"`{p.name}`" not in readme]
    assert not missing, f"README lacks: {missing}"


@pytest.mark.parametrize("values,fragment", [
    ({"score_threshold": 1.5}, "outside"),
    ({"roi_fraction": 0.0}, "outside"),
    ({"max_objects_per_phrase": 0}, "outside"),
    ({"max_objects_per_phrase": 2.5}, "integer"),
    ({"continuous": 1}, "bool"),
    ({"min_depth": 2.0, "max_depth": 1.0}, "min_depth"),
    ({"confidence_hi": 0.3, "confidence_med": 0.5}, "confidence_med"),
    ({"dtype": "int8"}, "not one of"),
    ({"backend_options": "[1, 2]"}, "JSON object"),
    ({"backend_options": "{oops"}, "not valid JSON"),
])
def test_invalid_values_are_rejected_with_a_reason(values, fragment):
    reasons = validate(values)
    assert reasons and any(fragment in r for r in reasons), reasons


def test_defaults_are_valid():
    assert validate({p.name: p.default for p in PARAMS}) == []


def test_node_rejects_invalid_runtime_values_and_applies_valid_ones(ros):
    from rclpy.parameter import Parameter

    from grounding_node.ros.node import GroundingNode

    node = GroundingNode(node_name="param_probe", parameter_overrides=[
        Parameter("backend", value="pg_test_backends:ColorBackend")])
    try:
        res = node.set_parameters([Parameter("score_threshold", value=2.0)])[0]
        assert not res.successful and "score_threshold" in res.reason
        res = node.set_parameters([Parameter("min_depth", value=20.0)])[0]
        assert not res.successful and "max_depth" in res.reason
        res = node.set_parameters([Parameter("backend", value="florence2")])[0]
        assert not res.successful   # read-only: needs a reconfigure
        for name, value in (("score_threshold", 0.55), ("roi_fraction", 0.3), ("max_objects_per_phrase", 1),
                            ("continuous", True)):
            assert node.set_parameters([Parameter(name, value=value)])[0].successful, name
        assert node._settings.score_threshold == 0.55 and node._settings.roi_fraction == 0.3
        assert node._settings.max_objects_per_phrase == 1 and node._worker.continuous is True
    finally:
        node._worker.stop()
        node.destroy_node()


def test_rviz_config_uses_relative_topics_and_the_demo_runs_rviz_in_its_namespace():
    """Absolute /demo/... topics left every display empty on a robot (node at /grounding_node)."""
    config = yaml.safe_load((REPO / "rviz" / "grounding.rviz").read_text())
    topics = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Topic" and isinstance(value, dict) and "Value" in value:
                    topics.append(value["Value"])
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(config)
    assert topics and all(not t.startswith("/") for t in topics), topics
    assert {"image", "grounding_node/markers", "grounding_node/debug_image"} <= set(topics)
    demo = (REPO / "launch" / "demo.launch.py").read_text()
    assert 'executable="rviz2", namespace=ns' in demo
