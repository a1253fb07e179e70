"""ROS-free grounding core: command parsing, the frame/result types and the pipeline that runs a backend
and the geometry on one frame. The node, the Python API, the CLI and the evaluation all go through it."""

from grounding_node.grounding.command import ParsedCommand, parse_command
from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundedObject, GroundingResult, GroundingSettings

__all__ = [
    "Frame",
    "GroundedObject",
    "GroundingResult",
    "GroundingSettings",
    "ParsedCommand",
    "ground_frame",
    "parse_command",
]
