"""Issue #9 / #10 item 6: a box with a non-finite coordinate or score never reaches the geometry or the
drawing; it is dropped with a warning in the result."""

from __future__ import annotations

import math

import numpy as np

from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundingSettings
from grounding_node.models.base import Detection, GroundingBackend
from grounding_node.visualization import draw_objects


class Scripted(GroundingBackend):
    name = "scripted"

    def __init__(self, per_phrase):
        super().__init__()
        self.per_phrase = per_phrase

    def load(self):
        pass

    def ground(self, rgb, phrases):
        return [list(d) for d in self.per_phrase]


def test_nonfinite_boxes_and_scores_are_dropped_with_a_warning():
    rgb = np.zeros((480, 640, 3), np.uint8)
    depth = np.full((480, 640), 1.0, np.float32)
    good = Detection((100.0, 100.0, 300.0, 300.0), 0.9)
    bad = [Detection((math.nan, 100.0, 300.0, 300.0), 0.95), Detection((0.0, 0.0, math.inf, 10.0), 0.8),
           Detection((10.0, 10.0, 20.0, 20.0), math.nan), Detection((10.0, -math.inf, 20.0, 20.0), 0.7)]
    backend = Scripted([[bad[0], good, bad[1]], bad[2:]])
    result = ground_frame(backend, Frame(rgb=rgb, depth=depth), ["mug", "cup"], GroundingSettings(score_threshold=0.0))
    assert [o.phrase for o in result.objects] == ["mug"]
    assert all(np.all(np.isfinite(o.box_pixels)) for o in result.objects)
    dropped = [w for w in result.warnings if "non-finite" in w]
    assert len(dropped) == 4 and any("'cup'" in w for w in dropped)
    draw_objects(rgb, result.objects)          # int(round(nan)) would raise here


class FailingNotes(Scripted):
    """A plug-in whose `phrase_warnings` raises: the boxes it grounded must still be answered."""

    def phrase_warnings(self, phrases):
        raise RuntimeError("notes broke")


def test_a_failing_phrase_warning_never_loses_the_grounding():
    rgb = np.zeros((480, 640, 3), np.uint8)
    backend = FailingNotes([[Detection((100.0, 100.0, 300.0, 300.0), 0.9)]])
    result = ground_frame(backend, Frame(rgb=rgb), ["mug"], GroundingSettings(score_threshold=0.0))
    assert [o.phrase for o in result.objects] == ["mug"]
    assert any("phrase warnings failed: RuntimeError: notes broke" in w for w in result.warnings)
