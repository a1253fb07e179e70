"""Backend resolution: built-in names, import paths and installed entry points."""

from __future__ import annotations

import pytest

from grounding_node.models.base import BackendConfig, GroundingBackend
from grounding_node.models.registry import (
    BUILTIN_BACKENDS,
    ENTRY_POINT_GROUP,
    BackendNotFound,
    available_backends,
    create_backend,
    resolve_backend_class,
)


def test_import_path_backend_is_created_and_loaded():
    backend = create_backend("pg_test_backends:ColorBackend", BackendConfig(extra={"sleep_ms": 0}))
    assert isinstance(backend, GroundingBackend) and backend.describe() == "test_color"


def test_entry_point_backend_is_found(tmp_path, monkeypatch):
    # An "installed" distribution: a dist-info folder with an entry point, as pip would write it.
    dist = tmp_path / "my_backends-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-backends\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nmy_color = pg_test_backends:ColorBackend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "my_color" in available_backends()
    assert resolve_backend_class("my_color").__name__ == "ColorBackend"
    assert create_backend("my_color").name == "test_color"


@pytest.mark.parametrize("name", ["nope", "no_such_module:Thing", "pg_test_backends:Missing", "json:dumps"])
def test_unknown_or_wrong_backends_raise_clear_errors(name):
    with pytest.raises(BackendNotFound):
        resolve_backend_class(name)


def test_builtin_names_listed():
    assert set(BUILTIN_BACKENDS) <= set(available_backends())
    assert "tabletop" in BUILTIN_BACKENDS


def test_load_failure_propagates_from_create():
    with pytest.raises(RuntimeError, match="fail loading"):
        create_backend("pg_test_backends:ColorBackend", BackendConfig(extra={"fail_load": True}))


def test_every_builtin_name_resolves_to_a_backend_class():
    """Selectable in the node and CLI: each built-in name imports and is a GroundingBackend (no load)."""
    for name in BUILTIN_BACKENDS:
        cls = resolve_backend_class(name)
        assert issubclass(cls, GroundingBackend), name
