"""The vision_msgs outputs: GroundingResult -> Detection2DArray/Detection3DArray, and the node's detections_2d and
detections_3d topics through real DDS.

vision_msgs has no PyPI wheel; here it is the test-only stand-in from test/interfaces/vision_msgs (upstream 4.x
field layout), built by `bash scripts/setup.sh --tests` and put on the paths by `PG_TEST_ENV=1 source
scripts/env.sh` (scripts/test.sh does both). On a robot it is apt's vision_msgs. No skip: without vision_msgs
every test here fails (not skips), so the suite fails instead of silently not testing this code path.
"""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header

try:
    from vision_msgs.msg import Detection2DArray, Detection3DArray
    _IMPORT_ERROR = None
except ImportError as exc:  # fail, never skip (see the module docstring); per test, so the rest of the suite runs
    Detection2DArray = Detection3DArray = None
    _IMPORT_ERROR = exc

import synthetic_camera as cam
from ros_harness import ProbeNode, start_stack, unique_namespace, wait_ready

from grounding_node.grounding.types import GroundedObject, GroundingResult
from grounding_node.launcher import wait_until
from grounding_node.ros import messages


@pytest.fixture(autouse=True)
def _require_vision_msgs():
    if _IMPORT_ERROR is not None:
        pytest.fail(
            f"vision_msgs is not importable ({_IMPORT_ERROR}), so the node's vision_msgs outputs would go untested. "
            "Build the test-only package with `bash scripts/setup.sh --tests` and run with `PG_TEST_ENV=1 source "
            "scripts/env.sh` (scripts/test.sh does both); on a robot install ros-<distro>-vision-msgs.",
            pytrace=False)


def _obj(idx, phrase, score, box_pixels, pos=None, size=(0.1, 0.2, 0.05)):
    box = np.array(box_pixels, dtype=np.float64)
    o = GroundedObject(phrase=phrase, phrase_index=idx, score=score, confidence="hi",
                       box_1024=box * 1024.0 / np.array([640, 480, 640, 480]), box_pixels=box,
                       box_xywh=np.array([box[0] / 640, box[1] / 480, (box[2] - box[0]) / 640,
                                          (box[3] - box[1]) / 480]))
    if pos is not None:
        o.has_position, o.position, o.size = True, np.array(pos, dtype=np.float64), np.array(size, np.float64)
    return o


def test_vision_msgs_is_the_one_the_node_uses():
    assert messages.HAVE_VISION_MSGS, "grounding_node.ros.messages did not import vision_msgs"


def test_result_to_detection_arrays_analytic():
    header = Header(frame_id="cam")
    header.stamp.sec, header.stamp.nanosec = 12, 345
    result = GroundingResult(["red box", "blue box"], [
        _obj(0, "red box", 0.9, [100, 120, 220, 240], pos=[-0.1, 0.05, 0.6], size=[0.14, 0.13, 0.0]),
        _obj(1, "blue box", 0.25, [380.5, 200.25, 520, 330]),   # no position: 2D only
    ])
    out = messages.vision_detections(header, result)
    assert len(out) == 2
    d2, d3 = out
    # through the serialiser: the type support is really there, not just the Python classes
    d2 = deserialize_message(serialize_message(d2), Detection2DArray)
    d3 = deserialize_message(serialize_message(d3), Detection3DArray)

    assert d2.header.frame_id == d3.header.frame_id == "cam"
    assert (d2.header.stamp.sec, d2.header.stamp.nanosec) == (12, 345)
    assert len(d2.detections) == 2 and len(d3.detections) == 1
    for det, obj in zip(d2.detections, result.objects):
        assert det.header.frame_id == "cam" and det.header.stamp.sec == 12
        assert len(det.results) == 1
        hyp = det.results[0].hypothesis
        assert hyp.class_id == obj.phrase
        assert hyp.score == pytest.approx(obj.score)
        x0, y0, x1, y1 = obj.box_pixels
        assert det.bbox.center.position.x == pytest.approx((x0 + x1) / 2)
        assert det.bbox.center.position.y == pytest.approx((y0 + y1) / 2)
        assert det.bbox.center.theta == 0.0
        assert det.bbox.size_x == pytest.approx(x1 - x0) and det.bbox.size_y == pytest.approx(y1 - y0)
    assert d2.detections[0].bbox.center.position.x == pytest.approx(160.0)
    assert d2.detections[1].bbox.size_y == pytest.approx(129.75)

    det = d3.detections[0]
    assert det.header.frame_id == "cam"
    hyp = det.results[0]
    assert hyp.hypothesis.class_id == "red box" and hyp.hypothesis.score == pytest.approx(0.9)
    p = hyp.pose.pose.position
    assert (p.x, p.y, p.z) == pytest.approx((-0.1, 0.05, 0.6))
    assert hyp.pose.pose.orientation.w == 1.0
    c = det.bbox.center
    assert (c.position.x, c.position.y, c.position.z) == pytest.approx((-0.1, 0.05, 0.6))
    assert (c.orientation.x, c.orientation.y, c.orientation.z, c.orientation.w) == (0.0, 0.0, 0.0, 1.0)
    assert (det.bbox.size.x, det.bbox.size.y, det.bbox.size.z) == pytest.approx((0.14, 0.13, 0.0))


def test_empty_result_gives_empty_arrays_with_header():
    d2, d3 = messages.vision_detections(Header(frame_id="f"), GroundingResult(["a"], []))
    assert d2.header.frame_id == d3.header.frame_id == "f"
    assert not d2.detections and not d3.detections


def test_without_vision_msgs_nothing_extra(monkeypatch, ros):
    """The code path of an install without vision_msgs: no arrays, no detections_2d/_3d publishers."""
    from rclpy.lifecycle import LifecycleNode

    from grounding_node.ros.publishers import ResultPublishers

    node = LifecycleNode(f"vm_pubs{unique_namespace().replace('/', '_')}")
    try:
        with_vm = ResultPublishers(node)
        assert with_vm.det2d.topic_name.endswith("/detections_2d")
        assert with_vm.det3d.topic_name.endswith("/detections_3d")
        assert with_vm.det2d in with_vm.all() and with_vm.det3d in with_vm.all()
        monkeypatch.setattr(messages, "HAVE_VISION_MSGS", False)
        assert messages.vision_detections(Header(), GroundingResult(["a"], [])) == []
        without = ResultPublishers(node)
        assert without.det2d is None and without.det3d is None and len(without.all()) == 4
    finally:
        node.destroy_node()


def test_node_publishes_detections_2d_and_3d_through_real_dds(ros, launcher):
    ns = unique_namespace()
    probe = ProbeNode(ns)
    reliable = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    got2d, got3d = [], []
    probe._subs += [probe.node.create_subscription(Detection2DArray, "detections_2d", probe._keep(got2d), reliable),
                    probe.node.create_subscription(Detection3DArray, "detections_3d", probe._keep(got3d), reliable)]
    node, _ = start_stack(launcher, ns, camera_args=["--rate", "30"])
    try:
        wait_ready(probe, launcher, node)
        assert wait_until(lambda: probe.node.count_publishers(f"{ns}/detections_3d") > 0, 10), \
            "the node has no detections_3d publisher (is vision_msgs importable in the node process?)\n" \
            + launcher.log(node)[-2000:]
        probe.send("red box; blue box")
        results = probe.wait_for_detections(1, 20)
        assert len(results) == 1 and results[0].error == "", launcher.log(node)[-2000:]
        assert wait_until(lambda: got2d and got3d, 10), "no detections_2d/_3d arrived\n" + launcher.log(node)[-2000:]
        res = results[0]
        with probe.lock:
            d2, d3 = got2d[-1], got3d[-1]
        for arr in (d2, d3):
            assert arr.header.frame_id == cam.FRAME_ID
            assert (arr.header.stamp.sec, arr.header.stamp.nanosec) == (res.header.stamp.sec, res.header.stamp.nanosec)
        scores = {o.phrase: o.score for o in res.objects}
        sizes = {o.phrase: (o.size.x, o.size.y, o.size.z) for o in res.objects}

        by2 = {d.results[0].hypothesis.class_id: d for d in d2.detections}
        assert set(by2) == {"red box", "blue box"} and len(d2.detections) == 2
        for name in ("red", "blue"):
            det = by2[f"{name} box"]
            _, u0, v0, u1, v1, _ = cam.SCENE[name]
            assert det.results[0].hypothesis.score == pytest.approx(scores[f"{name} box"])
            assert det.bbox.center.position.x == pytest.approx((u0 + u1) / 2, abs=1e-3)
            assert det.bbox.center.position.y == pytest.approx((v0 + v1) / 2, abs=1e-3)
            assert det.bbox.size_x == pytest.approx(u1 - u0, abs=1e-3)
            assert det.bbox.size_y == pytest.approx(v1 - v0, abs=1e-3)

        by3 = {d.results[0].hypothesis.class_id: d for d in d3.detections}
        assert set(by3) == {"red box", "blue box"} and len(d3.detections) == 2
        for name in ("red", "blue"):
            det = by3[f"{name} box"]
            hyp = det.results[0]
            assert hyp.hypothesis.score == pytest.approx(scores[f"{name} box"])
            pos = np.array([hyp.pose.pose.position.x, hyp.pose.pose.position.y, hyp.pose.pose.position.z])
            err = np.abs(pos - cam.expected_position(name)).max()
            assert err <= 0.002, f"{name}: {pos} vs {cam.expected_position(name)} (err {err * 1000:.2f} mm)"
            c = det.bbox.center.position
            np.testing.assert_allclose([c.x, c.y, c.z], pos)
            assert det.bbox.center.orientation.w == 1.0
            assert (det.bbox.size.x, det.bbox.size.y, det.bbox.size.z) == pytest.approx(sizes[f"{name} box"])
    finally:
        probe.close()
