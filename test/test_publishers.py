"""A failure after `detections` went out never sends a second answer for the same request.

Found by reading the node for an adversarial review: `ResultPublishers.publish` sends `detections` first,
then the target, markers, vision_msgs and the drawn debug image. When one of those raised, the exception
reached the node's `_safe_finish`, which published an *error* result for the same request: two answers with
one request_id, the second saying the command failed although its objects were already delivered.
"""

from __future__ import annotations

import numpy as np
import pytest
from std_msgs.msg import Header

from ros_harness import unique_namespace

from grounding_node.grounding.types import GroundedObject, GroundingResult
from grounding_node.ros import messages
from phrase_grounding.msg import GroundedObjectArray


class Counting:
    """Stands in for an rclpy publisher: counts what would go out."""

    def __init__(self) -> None:
        self.sent = []

    def publish(self, msg) -> None:
        self.sent.append(msg)

    def get_subscription_count(self) -> int:
        return 1


def _result() -> GroundingResult:
    obj = GroundedObject(phrase="red box", phrase_index=0, score=0.9, confidence="high",
                         box_1024=np.array([100.0, 100.0, 300.0, 300.0]),
                         box_pixels=np.array([62.5, 46.9, 187.5, 140.6]),
                         box_xywh=np.array([0.2, 0.2, 0.2, 0.2]), has_position=True,
                         position=np.array([0.0, 0.0, 0.6]), size=np.array([0.1, 0.1, 0.05]))
    return GroundingResult(["red box"], [obj])


@pytest.mark.parametrize("broken", ["markers", "target_pose", "draw_objects"])
def test_a_failing_extra_output_is_reported_and_detections_go_out_once(ros, monkeypatch, broken):
    from rclpy.lifecycle import LifecycleNode

    import grounding_node.ros.publishers as publishers

    def boom(*args, **kwargs):
        raise RuntimeError(f"{broken} failed")

    monkeypatch.setattr(publishers if broken == "draw_objects" else messages, broken, boom)
    node = LifecycleNode(f"pubs{unique_namespace().replace('/', '_')}")
    try:
        pubs = publishers.ResultPublishers(node)
        for name in ("detections", "target", "markers", "debug_image", "det2d", "det3d"):
            if getattr(pubs, name) is not None:   # detections_2d/_3d exist only with vision_msgs
                setattr(pubs, name, Counting())
        published_ns, problems = pubs.publish(GroundedObjectArray(header=Header(frame_id="cam")), _result(),
                                              np.zeros((240, 320, 3), np.uint8), True, 0.02)
        assert len(pubs.detections.sent) == 1 and published_ns > 0
        assert len(problems) == 1 and f"{broken} failed" in problems[0], problems
        # the outputs after the failing one still went out
        if broken != "draw_objects":
            assert len(pubs.debug_image.sent) == 1
    finally:
        node.destroy_node()
