"""Adversarial review of what downstream consumers read and viewers see: markers, target pose, vision_msgs and
the debug image, fed results with hostile values.

Found: a finite but huge box (1e30 px) made the debug image fail (OpenCV int overflow); non-ASCII and
multi-line phrases were drawn as junk glyphs (cv2.putText draws bytes) and a 5,000-character phrase as one
label wider than any image, in the debug image and the RViz label alike; a NaN position went out as the
target pose and as a marker RViz rejects, an infinite size as an infinite cube; and a command that failed
left the previous command's cubes and labels in RViz, as if they answered it.
The expected images are drawn here from the ASCII text a person would read, independently of the fix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from ros_harness import unique_namespace

from grounding_node.grounding.types import GroundedObject, GroundingResult
from grounding_node.ros import messages
from grounding_node.visualization import draw_objects, phrase_color
from phrase_grounding.msg import GroundedObjectArray

NAN, INF = float("nan"), float("inf")


def _obj(phrase="red box", idx=0, score=0.9, box=(20.0, 10.0, 60.0, 40.0), pos=None, size=(0.1, 0.08, 0.05)):
    b = np.array(box, dtype=np.float64)
    o = GroundedObject(phrase=phrase, phrase_index=idx, score=score, confidence="high", box_1024=b.copy(),
                       box_pixels=b.copy(), box_xywh=np.array([0.1, 0.1, 0.2, 0.2]))
    if pos is not None:
        o.has_position, o.position, o.size = True, np.array(pos, np.float64), np.array(size, np.float64)
    return o


def _img(w=320, h=240):
    return np.full((h, w, 3), 40, np.uint8)


# -- the debug image ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [(320, 240), (1, 1), (7, 5)])
def test_a_huge_box_is_drawn_along_the_image_edges(size):
    w, h = size
    out = draw_objects(_img(w, h), [_obj(box=(-1e30, -1e30, 1e30, 1e30))])
    assert out.shape == (h, w, 3)
    color = np.array(phrase_color(0), np.uint8)
    # the box covers the whole image: its outline lies on the image's border (the label may cover the top)
    assert (out[h // 2, 0] == color).all() and (out[h - 1, w // 2] == color).all()


@pytest.mark.parametrize("phrase,readable,header", [
    ("café\nrouge", "cafe rouge", None),          # accents dropped, the newline a space
    ("红色杯子", "????", None),                    # one "?" per letter OpenCV cannot draw, not junk per byte
    ("mug\tleft  of\r\nbox", "mug left of box", None),
    ("x" * 5000, "x" * 57 + "...", "x" * 117 + "..."),   # labels at most 60 characters, the command 120
])
def test_labels_are_drawn_as_readable_ascii(phrase, readable, header):
    # wide, so that a label cut at 60 characters ends inside the image (a longer one would fill the row)
    got = draw_objects(_img(1920, 240), [_obj(phrase=phrase, pos=[0.0, 0.0, 0.5])], header_text=phrase)
    expected = draw_objects(_img(1920, 240), [_obj(phrase=readable, pos=[0.0, 0.0, 0.5])],
                            header_text=header or readable)
    assert np.array_equal(got, expected)


# -- target pose ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pos", [[NAN, 0.0, 0.5], [0.0, INF, 0.5], [0.0, 0.0, -INF]])
def test_a_non_finite_position_is_no_target(pos):
    assert messages.target_pose(Header(frame_id="cam"), GroundingResult(["a"], [_obj(pos=pos)])) is None


def test_target_pose_is_the_first_phrase_best_with_a_unit_quaternion():
    header = Header(frame_id="cam")
    header.stamp.sec, header.stamp.nanosec = 7, 9
    pose = messages.target_pose(header, GroundingResult(["a", "b"], [_obj(pos=[0.1, -0.2, 0.7]),
                                                                     _obj(idx=1, pos=[1.0, 1.0, 1.0])]))
    q = pose.pose.orientation
    assert math.isclose(q.x ** 2 + q.y ** 2 + q.z ** 2 + q.w ** 2, 1.0)
    assert (pose.pose.position.x, pose.pose.position.y, pose.pose.position.z) == (0.1, -0.2, 0.7)
    assert pose.header.frame_id == "cam" and (pose.header.stamp.sec, pose.header.stamp.nanosec) == (7, 9)


# -- markers ------------------------------------------------------------------------------------------------------
def _finite_marker(m: Marker) -> bool:
    p, s = m.pose.position, m.scale
    return all(math.isfinite(v) for v in (p.x, p.y, p.z, s.x, s.y, s.z))


def test_markers_skip_non_finite_positions_and_bound_non_finite_sizes():
    objs = [_obj(phrase="a", pos=[NAN, 0.0, 0.5]), _obj(phrase="b", pos=[0.0, 0.0, 0.5], size=[INF, NAN, 0.04]),
            _obj(phrase="c", pos=[0.1, 0.0, 0.6])]
    arr = messages.markers(Header(frame_id="cam"), GroundingResult(["a", "b", "c"], objs), min_scale=0.02).markers
    assert arr[0].action == Marker.DELETEALL
    cubes = [m for m in arr if m.type == Marker.CUBE]
    labels = [m for m in arr if m.type == Marker.TEXT_VIEW_FACING]
    assert len(cubes) == len(labels) == 2 and all(_finite_marker(m) for m in arr[1:])
    assert (cubes[0].scale.x, cubes[0].scale.y, cubes[0].scale.z) == pytest.approx((0.02, 0.02, 0.04))
    assert [m.id for m in cubes] == [0, 1] and labels[0].text == "b 0.90"


def test_marker_ids_unique_and_stable_for_150_objects_and_labels_readable():
    objs = [_obj(phrase=f"mug {i} 红", idx=i % 7, pos=[0.01 * i, 0.0, 0.8]) for i in range(150)]
    objs.append(_obj(phrase="y" * 3000, pos=[0.0, 0.0, 0.5]))
    result = GroundingResult(["p"], objs)
    first = messages.markers(Header(frame_id="cam"), result).markers
    again = messages.markers(Header(frame_id="cam"), result).markers
    keys = [(m.ns, m.id) for m in first[1:]]
    assert len(keys) == len(set(keys)) == 2 * 151
    assert keys == [(m.ns, m.id) for m in again[1:]]
    texts = [m.text for m in first if m.type == Marker.TEXT_VIEW_FACING]
    assert texts[3] == "mug 3 ? 0.90" and texts[-1] == "y" * 57 + "... 0.90"
    assert all(t.isascii() for t in texts)


def test_vision_3d_leaves_out_non_finite_boxes():
    if not messages.HAVE_VISION_MSGS:
        pytest.fail("vision_msgs not importable: run through scripts/test.sh (PG_TEST_ENV=1)")
    objs = [_obj(pos=[NAN, 0.0, 0.5]), _obj(pos=[0.0, 0.0, 0.5], size=[INF, 0.1, 0.1]), _obj(pos=[0.0, 0.1, 0.5])]
    d2, d3 = messages.vision_detections(Header(frame_id="cam"), GroundingResult(["a"], objs))
    assert len(d2.detections) == 3 and len(d3.detections) == 1
    assert d3.detections[0].results[0].pose.pose.position.y == pytest.approx(0.1)


# -- what a failed command leaves in RViz ----------------------------------------------------------------------
class Counting:
    """Stands in for an rclpy publisher: keeps what would go out."""

    def __init__(self) -> None:
        self.sent: list = []

    def publish(self, msg) -> None:
        self.sent.append(msg)

    def get_subscription_count(self) -> int:
        return 1


@pytest.mark.parametrize("error,refused", [("backend error: RuntimeError: boom", False),
                                           ("no frame within 5.0 s", False),
                                           ("busy: 8 commands already queued; command rejected", True)])
def test_a_failed_command_clears_the_markers_a_refused_one_does_not(ros, error, refused):
    from rclpy.lifecycle import LifecycleNode

    from grounding_node.ros.publishers import ResultPublishers

    node = LifecycleNode(f"adv_out_pubs{unique_namespace().replace('/', '_')}")
    try:
        pubs = ResultPublishers(node)
        for name in ("detections", "target", "markers", "debug_image", "det2d", "det3d"):
            if getattr(pubs, name) is not None:
                setattr(pubs, name, Counting())
        header = Header(frame_id="cam")
        ok = GroundingResult(["red box"], [_obj(pos=[0.0, 0.0, 0.6])])
        pubs.publish(GroundedObjectArray(header=header, command="red box"), ok, _img(), True, 0.01)
        assert len(pubs.markers.sent) == 1 and len(pubs.markers.sent[0].markers) == 3
        _, problems = pubs.publish(GroundedObjectArray(header=header, command="blue box", error=error), None,
                                   None, True, 0.01, refused=refused)
        assert problems == [] and len(pubs.detections.sent) == 2
        if not refused:
            assert len(pubs.markers.sent) == 2
            last = pubs.markers.sent[-1].markers
            assert len(last) == 1 and last[0].action == Marker.DELETEALL and last[0].header.frame_id == "cam"
        else:
            assert len(pubs.markers.sent) == 1
        assert len(pubs.target.sent) == 1 and len(pubs.debug_image.sent) == 1   # nothing else for the failure
    finally:
        node.destroy_node()


def test_going_inactive_clears_the_markers(ros):
    """From the output review: markers have no lifetime, so after the node deactivated or shut down RViz kept
    the last command's cubes as if still true. `clear` sends the DELETEALL (the node calls it on deactivate and
    shutdown, before its publishers go down), and a broken topic is reported, not raised."""
    from rclpy.lifecycle import LifecycleNode

    from grounding_node.ros.publishers import ResultPublishers

    node = LifecycleNode(f"adv_out_clear{unique_namespace().replace('/', '_')}")
    try:
        pubs = ResultPublishers(node)
        pubs.markers = Counting()
        assert pubs.clear(Header(frame_id="cam")) == []
        assert [m.action for m in pubs.markers.sent[0].markers] == [Marker.DELETEALL]

        class Broken(Counting):
            def publish(self, msg) -> None:
                raise RuntimeError("publisher's context is invalid")

        pubs.markers = Broken()
        problems = pubs.clear(Header(frame_id="cam"))
        assert len(problems) == 1 and "not cleared" in problems[0]
    finally:
        node.destroy_node()
