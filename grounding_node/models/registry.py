"""Resolve a `backend` name to a backend class.

Three ways, in order:
1. a built-in name (the table below: name -> "module:Class", imported lazily so that e.g. the
   tabletop backend never imports transformers);
2. an installed package's entry point in the group `grounding_node.backends`;
3. an import path `package.module:ClassName` for a user's own class.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Dict, List, Type

from grounding_node.models.base import BackendConfig, GroundingBackend

ENTRY_POINT_GROUP = "grounding_node.backends"

BUILTIN_BACKENDS: Dict[str, str] = {
    "tabletop": "grounding_node.models.tabletop.backend:TabletopBackend",
    "florence2": "grounding_node.models.florence2:Florence2Backend",
    "paligemma": "grounding_node.models.paligemma:PaliGemmaBackend",
    "qwen_vl": "grounding_node.models.qwen_vl:QwenVLBackend",
    "grounding_dino": "grounding_node.models.grounding_dino:GroundingDinoBackend",
    "owlv2": "grounding_node.models.owl:OwlBackend",
    "owlvit": "grounding_node.models.owl:OwlBackend",      # same code: OWL-ViT v1 is detected from the config
    "kosmos2": "grounding_node.models.kosmos2:Kosmos2Backend",
    "ocr": "grounding_node.models.ocr:OcrBackend",
    "remote": "grounding_node.models.remote:RemoteBackend",
    "composite": "grounding_node.models.composite:CompositeBackend",
}


class BackendNotFound(LookupError):
    """The name is neither built in, nor an entry point, nor an importable `module:Class`."""


def _import_path(path: str) -> type:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise BackendNotFound(f"'{path}' is not of the form package.module:ClassName")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendNotFound(f"cannot import '{module_name}': {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise BackendNotFound(f"'{module_name}' has no '{attr}'") from exc


def _entry_points() -> Dict[str, metadata.EntryPoint]:
    eps = metadata.entry_points()
    selected = eps.select(group=ENTRY_POINT_GROUP) if hasattr(eps, "select") else eps.get(ENTRY_POINT_GROUP, [])
    return {ep.name: ep for ep in selected}


def available_backends() -> List[str]:
    """Built-in names plus installed entry points (import paths are open-ended and not listed)."""
    return sorted(set(BUILTIN_BACKENDS) | set(_entry_points()))


def resolve_backend_class(name: str) -> Type[GroundingBackend]:
    """Return the class for `name` without instantiating or loading it."""
    if name in BUILTIN_BACKENDS:
        cls = _import_path(BUILTIN_BACKENDS[name])
    else:
        eps = _entry_points()
        if name in eps:
            cls = eps[name].load()
        elif ":" in name:
            cls = _import_path(name)
        else:
            raise BackendNotFound(
                f"unknown backend '{name}'; built-in: {', '.join(sorted(BUILTIN_BACKENDS))}; "
                f"or an entry point in '{ENTRY_POINT_GROUP}', or 'package.module:ClassName'"
            )
    if not (isinstance(cls, type) and issubclass(cls, GroundingBackend)):
        raise BackendNotFound(f"'{name}' resolved to {cls!r}, which is not a GroundingBackend subclass")
    return cls


def create_backend(name: str, config: BackendConfig | None = None, load: bool = True) -> GroundingBackend:
    """Instantiate (and by default load) the backend called `name`."""
    backend = resolve_backend_class(name)(config or BackendConfig())
    if load:
        backend.load()
    return backend
