"""Every node parameter, declared once: name, default, type, range, description, and whether it can
change at run time. `config/params.yaml`, the launch file and the README are checked against this table
by test/test_params_consistency.py.

The table is plain data (no rclpy) so it is importable by tests and tools; `declare_all` and
`validate` are the only places that touch rclpy parameter types.

One validation for every source: `validate` judges the values given at start-up (command line, params
file, launch file) exactly as it judges `ros2 param set` at run time; the node refuses to configure with
the reasons when start-up values are invalid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from grounding_node.grounding.types import GroundingSettings


@dataclass(frozen=True)
class ParamSpec:
    name: str
    default: Any
    description: str
    range: Optional[Tuple[float, float]] = None   # inclusive
    read_only: bool = False                        # fixed after start (needs a reconfigure/restart)
    choices: Optional[Tuple[str, ...]] = None
    auto_or_number: bool = False                   # the string 'auto' or a number in `range`


PARAMS: Tuple[ParamSpec, ...] = (
    # -- model -----------------------------------------------------------------------------------
    ParamSpec("backend", "tabletop", "Grounding backend: a built-in name, an entry point in "
              "'grounding_node.backends', or 'package.module:ClassName'. Applied on configure.", read_only=True),
    ParamSpec("model", "", "Hub id, local directory or checkpoint for the backend; empty = backend default.",
              read_only=True),
    ParamSpec("device", "auto", "auto (cuda when available), cpu, cuda, cuda:N.", read_only=True),
    ParamSpec("dtype", "auto", "auto (bf16 on CUDA where supported, fp32 on CPU), float32, float16, bfloat16.",
              read_only=True, choices=("auto", "float32", "float16", "bfloat16")),
    ParamSpec("local_files_only", True, "Never contact a model hub (offline robots).", read_only=True),
    ParamSpec("backend_options", "{}", "JSON object of extra backend options (see docs/backends.md).",
              read_only=True),
    # -- results ---------------------------------------------------------------------------------
    ParamSpec("score_threshold", "auto", "Objects scoring below this are dropped; 'auto' = the model family's "
              "recommended value (docs/backends.md), e.g. 0.3 tabletop, 0.35 Grounding DINO, 0.1 OWLv2.", (0.0, 1.0),
              auto_or_number=True),
    ParamSpec("max_objects_per_phrase", 5, "Top-N objects per phrase (1 = referring expression).", (1, 100)),
    ParamSpec("confidence_hi", 0.7, "Score at or above which confidence is 'hi'.", (0.0, 1.0)),
    ParamSpec("confidence_med", 0.4, "Score at or above which confidence is 'med' (else 'low').", (0.0, 1.0)),
    # -- depth and 3D ----------------------------------------------------------------------------
    ParamSpec("roi_fraction", 0.5, "Central fraction of the box (width and height) used for depth.", (0.05, 1.0)),
    ParamSpec("min_depth", 0.1, "Depth below this (m) is invalid.", (0.0, 100.0)),
    ParamSpec("max_depth", 10.0, "Depth above this (m) is invalid.", (0.0, 100.0)),
    ParamSpec("depth_scale", 0.0, "Metres per raw depth unit; 0 = from the encoding (16UC1 mm, 32FC1 m).",
              (0.0, 10.0)),
    ParamSpec("min_valid_pixels", 10, "Fewer valid depth pixels in the ROI -> has_position=false.", (1, 1000000)),
    ParamSpec("depth_for_grounding", True, "Give backends that read depth (the tabletop model) the aligned depth: "
              "measured depth and metric size of each candidate, for size and near/far words. false = colour only."),
    # -- frames and timing -----------------------------------------------------------------------
    ParamSpec("sync_slop", 0.05, "Max stamp difference (s) to pair colour and depth.", (0.0, 1.0)),
    ParamSpec("depth_timeout", 0.5, "Colour arriving this long (s) with no depth, or with depth that never "
              "pairs: frames complete without depth (2D only). A pause of both streams is not depth loss.",
              (0.01, 60.0)),
    ParamSpec("max_frame_age", 0.5, "A command uses the newest frame received within this many seconds, "
              "else waits for the next frame.", (0.0, 60.0)),
    ParamSpec("timeout", 2.0, "How long a command waits for a frame before its result gets an error (s).",
              (0.01, 600.0)),
    ParamSpec("continuous", False, "Re-ground the active command on new frames."),
    ParamSpec("max_rate", 5.0, "Upper rate (Hz) of continuous re-grounding.", (0.01, 1000.0)),
    ParamSpec("command_queue_size", 10, "Commands waiting beyond this are answered at once with a 'busy' error.",
              (1, 10000)),
    ParamSpec("idle_unsubscribe_after", 0.0, "Idle this long (s, no command, not continuous): drop the sensor "
              "subscriptions until the next command, which then waits for the next frame. 0 = never.",
              (0.0, 86400.0)),
    ParamSpec("max_command_length", 1000, "Longer commands are truncated with a warning.", (1, 100000)),
    # -- outputs ---------------------------------------------------------------------------------
    ParamSpec("publish_debug_image", True, "Draw and publish ~/debug_image (only when someone subscribes)."),
    ParamSpec("marker_scale_min", 0.01, "Smallest marker cube edge (m) for objects with a tiny size estimate.",
              (0.0, 1.0)),
    ParamSpec("rectified", "auto", "Is the colour image rectified? true: 3D uses CameraInfo P and no distortion "
              "(image_rect); false: K and the distortion model D (image_raw); auto: true when the image topic's "
              "resolved name contains 'rect' (image_proc's naming), else false.", read_only=True,
              choices=("auto", "true", "false")),
    ParamSpec("capture_dir", "~/.ros/phrase_grounding/captures", "Folder where ~/capture saves samples in the "
              "dataset format (docs/dataset.md): colour, depth, camera_info and the current results as "
              "pre-annotations."),
    ParamSpec("diagnostics_period", 1.0, "Seconds between /diagnostics messages.", (0.05, 60.0)),
    ParamSpec("timing_log", "", "Append each result's stage timings (JSON lines) to this file; empty = off.",
              read_only=True),
    # -- lifecycle -------------------------------------------------------------------------------
    ParamSpec("autostart", True, "Configure and activate on start, without a lifecycle manager.", read_only=True),
)

SPECS: Dict[str, ParamSpec] = {p.name: p for p in PARAMS}
GEOMETRY_FIELDS = tuple(GroundingSettings.__dataclass_fields__)


def validate(values: Dict[str, Any]) -> List[str]:
    """Check a full or partial set of values against the table and the cross-parameter rules.

    Returns the reasons for rejection (empty = accept). `values` must hold the *resulting* values of the
    parameters involved in cross rules (the node merges current and new values before calling).
    """
    reasons: List[str] = []
    for name, value in values.items():
        spec = SPECS.get(name)
        if spec is None:
            continue
        if spec.auto_or_number:
            if isinstance(value, str) and value == "auto":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                reasons.append(f"{name} must be 'auto' or a finite number, got {value!r}")
            elif not (spec.range[0] <= value <= spec.range[1]):
                reasons.append(f"{name}={value} is outside [{spec.range[0]}, {spec.range[1]}]")
            continue
        if isinstance(spec.default, bool):
            if not isinstance(value, bool):
                reasons.append(f"{name} must be a bool")
                continue
        elif isinstance(spec.default, (int, float)):
            # a bool is an int to Python, and the dynamically typed float parameters take one from
            # `ros2 param set ... false` or a YAML `true`: refused like any other non-number
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                reasons.append(f"{name} must be a number, got {value!r}")
                continue
            if not math.isfinite(value):
                reasons.append(f"{name}={value} is not a finite number")
                continue
            if isinstance(spec.default, int) and not isinstance(spec.default, bool) and not isinstance(value, int):
                reasons.append(f"{name} must be an integer")
                continue
            if spec.range is not None and not (spec.range[0] <= value <= spec.range[1]):
                reasons.append(f"{name}={value} is outside [{spec.range[0]}, {spec.range[1]}]")
        elif isinstance(spec.default, str) and not isinstance(value, str):
            reasons.append(f"{name} must be a string")
            continue
        if spec.choices is not None and value not in spec.choices:
            reasons.append(f"{name}='{value}' is not one of {', '.join(spec.choices)}")
    if "min_depth" in values and "max_depth" in values and not values["min_depth"] < values["max_depth"]:
        reasons.append(f"min_depth ({values['min_depth']}) must be < max_depth ({values['max_depth']})")
    if "confidence_med" in values and "confidence_hi" in values and values["confidence_med"] > values["confidence_hi"]:
        reasons.append(f"confidence_med ({values['confidence_med']}) must be <= confidence_hi "
                       f"({values['confidence_hi']})")
    if "backend_options" in values:
        import json

        try:
            if not isinstance(json.loads(values["backend_options"]), dict):
                reasons.append("backend_options must be a JSON object")
        except (TypeError, ValueError) as exc:
            reasons.append(f"backend_options is not valid JSON: {exc}")
    return reasons


def normalise(values: Dict[str, Any]) -> Dict[str, Any]:
    """Valid values in the types the code reads: an integer given for a float parameter (`timeout:=3` on
    the command line is an integer to ROS) becomes a float."""
    out = dict(values)
    for name, value in values.items():
        spec = SPECS.get(name)
        if (spec is not None and (isinstance(spec.default, float) or spec.auto_or_number)
                and isinstance(value, int) and not isinstance(value, bool)):
            out[name] = float(value)
    return out


def settings_from(values: Dict[str, Any]) -> GroundingSettings:
    """The pipeline's settings from parameter values."""
    return GroundingSettings(**{k: values[k] for k in GEOMETRY_FIELDS})


def declare_all(node, errors: Optional[List[str]] = None) -> Dict[str, Any]:
    """Declare every parameter on `node` with a descriptor (type, range, read-only, description).

    Float parameters are declared with dynamic typing: ROS types `timeout:=3` as an integer, and a static
    double declaration would throw InvalidParameterTypeException at start-up. `validate` then checks the
    type and range of whatever was given, at start-up and at run time alike, and `normalise` makes it a
    float. The values are returned as given: the caller validates them. A value that rclpy itself refuses
    at declaration (out of a descriptor's range, wrong type) does not raise: its reason goes to `errors`
    and the default is declared, so the node can refuse to configure with every reason at once."""
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

    values: Dict[str, Any] = {}
    for spec in PARAMS:
        desc = ParameterDescriptor(description=spec.description, read_only=spec.read_only,
                                   dynamic_typing=isinstance(spec.default, float) or spec.auto_or_number)
        if spec.choices:
            desc.additional_constraints = "one of: " + ", ".join(spec.choices)
        if spec.range is not None and not isinstance(spec.default, (bool, str)):
            if isinstance(spec.default, int):
                desc.integer_range = [IntegerRange(from_value=int(spec.range[0]), to_value=int(spec.range[1]), step=0)]
            else:
                desc.floating_point_range = [
                    FloatingPointRange(from_value=float(spec.range[0]), to_value=float(spec.range[1]), step=0.0)
                ]
        try:
            values[spec.name] = node.declare_parameter(spec.name, spec.default, desc).value
        except (InvalidParameterValueException, InvalidParameterTypeException) as exc:
            if errors is None:
                raise
            errors.append(f"{spec.name}: {exc}")
            values[spec.name] = node.declare_parameter(spec.name, spec.default, desc, ignore_override=True).value
    return values
