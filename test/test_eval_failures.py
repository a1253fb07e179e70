"""`python -m grounding_node.eval --failures`: the misses the card draws are the split's misses, exactly."""

from __future__ import annotations

from typing import List, Sequence

import numpy as np
import pytest

from grounding_node.models.base import BackendConfig, Detection, GroundingBackend
from grounding_node.training.eval import Misses, evaluate_split

pytest.importorskip("mujoco")   # a requirement; absent only on the GPU check's device image

BOX = (0.0, 0.0, 40.0, 30.0)    # a corner no rendered object fills


class CornerBackend(GroundingBackend):
    """Answers every phrase with one box in the top-left corner (or nothing): every referent phrase misses."""

    name = "test_corner"

    def load(self) -> None:
        self.empty = bool(self.config.extra.get("empty"))

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        return [[] if self.empty else [Detection(BOX, 0.9)] for _ in phrases]


def _run(empty: bool, limit: int = 5):
    backend = CornerBackend(BackendConfig(extra={"empty": empty}))
    backend.load()
    misses = Misses(limit)
    r = evaluate_split(backend, range(1_000_000, 1_000_003), "train", [(640, 480)], "train", 0.3,
                       progress=False, misses=misses)
    return r, misses


def test_misses_are_the_wrong_answers_with_their_truth_and_the_top_box(tmp_path):
    from grounding_node.sim.scene import TabletopSim
    from grounding_node.training.eval import expressions_for

    r, misses = _run(empty=False)
    assert r["all"]["acc_overall"] == 0.0 and len(misses.items) == 5   # capped at the limit
    with TabletopSim(640, 480, camera="train") as sim:
        scene = sim.new_scene(1_000_000)
    truth = [e for e in expressions_for(scene, 1_000_000, "train") if e.type != "no_referent"][:5]
    for m, e in zip(misses.items, truth):       # the first misses, in order, with the generator's referents
        assert (m["seed"], m["text"], m["type"]) == (1_000_000, e.text, e.type)
        np.testing.assert_array_equal(m["gt"], np.stack([scene.objects[i].box_1024 for i in e.targets]))
        np.testing.assert_array_equal(m["pred"], BOX)
        assert m["score"] == pytest.approx(0.9)
    path = misses.write_sheet(tmp_path / "f.jpg", 0.3, width=240)
    import cv2

    sheet = cv2.imread(str(path))
    assert sheet.shape[1] == 2 * 240 and sheet.shape[0] >= 3 * 180   # 5 tiles -> 3 rows of two


def test_a_backend_that_answers_nothing_is_drawn_as_nothing(tmp_path):
    _, misses = _run(empty=True, limit=3)
    assert len(misses.items) == 3 and all(m["pred"] is None and m["score"] is None for m in misses.items)
    assert misses.write_sheet(tmp_path / "n.jpg", 0.3).is_file()
