"""`training.fit_check`: the shipped model graded on its own training scenes, as inference grounds them."""

from __future__ import annotations

import pickle

import pytest

from grounding_node.training.data import CHUNK, chunk_cache, render_samples
from grounding_node.training.fit_check import fit_check, main


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """A chunk file holding the first 8 training scenes (the rest of the chunk is not needed)."""
    folder = tmp_path_factory.mktemp("chunks")
    with open(chunk_cache(folder, "train", "train", 0, CHUNK), "wb") as f:
        pickle.dump(render_samples(range(8), progress=False), f)
    return folder


def test_rendering_at_the_chunks_own_size_reproduces_the_cached_figures(cache):
    """At scale 1 the re-rendered, letterboxed scene is the cached training image pixel for pixel, so both
    columns must agree exactly; and the shipped model, which trained on these scenes, grounds their own
    expressions (a box-format or threshold slip would read near 0)."""
    out = fit_check(None, cache, 0, 8, scale=1.0, threads=1)
    assert out["cached"] == out["x1"]
    assert out["cached"]["ground overall n"] >= 40 and out["cached"]["shape n"] >= 20
    assert out["cached"]["ground overall"] >= 85.0 and out["cached"]["shape"] >= 80.0


def test_the_cli_refuses_a_range_beyond_one_chunk(cache, capsys):
    with pytest.raises(SystemExit) as err:
        main(["--cache", str(cache), "--first", str(CHUNK - 5), "--scenes", "10"])
    assert err.value.code == 2 and "one 8000-scene chunk" in capsys.readouterr().err
