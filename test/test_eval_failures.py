"""`python -m grounding_node.eval --failures`: the misses the card draws are the split's misses, exactly."""

from __future__ import annotations

import re
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


def test_your_own_phrasings_are_graded_with_their_referents(tmp_path):
    """`--paraphrases FILE`: the split's phrases are the file's wordings, filled from the generator's queries."""
    from grounding_node.sim.scene import TabletopSim
    from grounding_node.training.eval import expressions_for, load_paraphrases

    f = tmp_path / "mine.tsv"
    f.write_text("# mine\nattribute\t-\tyo robot gimme the {d}\nnegation\tcolor\tthe {n}, anything but {w}\n")
    table = load_paraphrases(f)
    with TabletopSim(640, 480, camera="random") as sim:
        scene = sim.new_scene(1_200_000)
    plain = expressions_for(scene, 1_200_000, "plain")
    mine = expressions_for(scene, 1_200_000, "paraphrase", table)
    assert {e.type for e in mine} <= {"attribute", "negation"} and mine
    for e in mine:   # each wording carries the referents of the generator's query it rewords
        same = [p for p in plain if p.type == e.type]
        assert e.targets == same[0].targets
        assert e.text.startswith("yo robot gimme the ") or ", anything but " in e.text
    backend = CornerBackend(BackendConfig())
    backend.load()
    r = evaluate_split(backend, [1_200_000], "random", [(640, 480)], "paraphrase", 0.3, progress=False,
                       paraphrases=f)
    assert r["paraphrases"] == str(f) and r["all"]["n_all"] == len(mine)


@pytest.mark.parametrize("line,message", [
    ("attribute\tthe {d}", "expected type<TAB>key<TAB>phrasing"),
    ("relation\tabove\tthe {t} above the {a}", "unknown (type, key)"),
    ("attribute\t-\tthe {t} left of the {a}", "uses a slot attribute does not fill"),
])
def test_a_bad_phrasing_file_fails_at_once_with_its_line(tmp_path, line, message):
    from grounding_node.training import eval as ev

    f = tmp_path / "bad.tsv"
    f.write_text(f"# header\n{line}\n")
    with pytest.raises(ValueError, match=rf"bad.tsv:2: .*{re.escape(message)}"):
        ev.load_paraphrases(f)
    assert ev.main(["--paraphrases", str(f), "--scenes", "0", "--ood-scenes", "0"]) == 2
