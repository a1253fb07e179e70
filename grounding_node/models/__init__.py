"""Grounding backends: the protocol (`base`), name resolution (`registry`) and one module per family."""

from grounding_node.models.base import BackendConfig, Detection, GroundingBackend
from grounding_node.models.registry import available_backends, create_backend

__all__ = ["BackendConfig", "Detection", "GroundingBackend", "available_backends", "create_backend"]
