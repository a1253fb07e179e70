"""msg <-> numpy (zero-copy, step, endianness, validation) and the result messages, without a running node."""

from __future__ import annotations

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from grounding_node.geometry.camera import Intrinsics
from grounding_node.grounding.types import GroundedObject, GroundingResult
from grounding_node.ros import messages
from grounding_node.ros.conversions import (
    ImageConversionError,
    camera_info_from_intrinsics,
    image_to_numpy,
    intrinsics_from_camera_info,
    numpy_to_image,
    to_rgb8,
)
from phrase_grounding.msg import GroundedObjectArray


def test_round_trip_each_encoding_through_serialisation():
    rng = np.random.default_rng(0)
    cases = {
        "rgb8": rng.integers(0, 255, (4, 5, 3), dtype=np.uint8),
        "bgra8": rng.integers(0, 255, (4, 5, 4), dtype=np.uint8),
        "mono8": rng.integers(0, 255, (4, 5), dtype=np.uint8),
        "16UC1": rng.integers(0, 65535, (4, 5), dtype=np.uint16),
        "32FC1": rng.random((4, 5)).astype(np.float32),
    }
    for enc, arr in cases.items():
        msg = deserialize_message(serialize_message(numpy_to_image(arr, enc)), Image)
        np.testing.assert_array_equal(image_to_numpy(msg), arr, err_msg=enc)


def test_view_is_zero_copy_and_honours_row_padding():
    arr = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3)
    padded = np.zeros((4, 12), np.uint8)          # step 12 > 9 bytes per row
    padded[:, :9] = arr.reshape(4, 9)
    msg = Image(height=4, width=3, encoding="rgb8", step=12, data=padded.tobytes())
    view = image_to_numpy(msg)
    np.testing.assert_array_equal(view, arr)
    assert not view.flags.writeable                                # read-only ...
    assert np.shares_memory(view, np.frombuffer(msg.data, np.uint8))  # ... view of msg.data, not a copy
    depth = np.zeros((2, 6), np.uint16)
    depth[:, :3] = [[1, 2, 3], [4, 5, 6]]
    msg16 = Image(height=2, width=3, encoding="16UC1", step=12, data=depth.tobytes())
    np.testing.assert_array_equal(image_to_numpy(msg16), [[1, 2, 3], [4, 5, 6]])


def test_big_endian_depth_is_swapped():
    be = np.array([[1000, 2]], dtype=">u2")
    msg = Image(height=1, width=2, encoding="16UC1", step=4, is_bigendian=1, data=be.tobytes())
    np.testing.assert_array_equal(image_to_numpy(msg), [[1000, 2]])


@pytest.mark.parametrize("msg,fragment", [
    (Image(height=2, width=2, encoding="nv21", step=4, data=bytes(8)), "unsupported encoding"),
    (Image(height=2, width=2, encoding="rgb8", step=6, data=bytes(5)), "data length"),
    (Image(height=2, width=2, encoding="rgb8", step=4, data=bytes(8)), "step"),
    (Image(height=0, width=2, encoding="rgb8", step=6, data=b""), "empty"),
])
def test_malformed_images_are_rejected_with_reason(msg, fragment):
    with pytest.raises(ImageConversionError, match=fragment):
        image_to_numpy(msg)


def test_allowed_encodings_restrict():
    msg = numpy_to_image(np.zeros((2, 2, 3), np.uint8), "rgb8")
    with pytest.raises(ImageConversionError):
        image_to_numpy(msg, allowed=("16UC1", "32FC1"))


def test_colour_conversions():
    rgb = np.array([[[10, 20, 30]]], np.uint8)
    assert to_rgb8(rgb[..., ::-1], "bgr8").tolist() == [[[10, 20, 30]]]
    assert to_rgb8(np.array([[[10, 20, 30, 255]]], np.uint8), "rgba8").tolist() == [[[10, 20, 30]]]
    assert to_rgb8(np.array([[[30, 20, 10, 255]]], np.uint8), "bgra8").tolist() == [[[10, 20, 30]]]
    assert to_rgb8(np.array([[7]], np.uint8), "mono8").tolist() == [[[7, 7, 7]]]
    m16 = to_rgb8(np.array([[0, 1000]], np.uint16), "mono16")
    assert m16[0, 0, 0] == 0 and m16[0, 1, 0] == 255


def test_camera_info_round_trip():
    intr = Intrinsics(500.0, 510.0, 319.5, 239.5, 640, 480)
    info = camera_info_from_intrinsics(intr)
    assert intrinsics_from_camera_info(info) == intr
    assert list(info.p) == [500.0, 0.0, 319.5, 0.0, 0.0, 510.0, 239.5, 0.0, 0.0, 0.0, 1.0, 0.0]


def _obj(idx, phrase, score, pos=None):
    o = GroundedObject(phrase=phrase, phrase_index=idx, score=score, confidence="hi",
                       box_1024=np.array([0, 0, 512, 512.0]), box_pixels=np.array([0, 0, 320, 240.0]),
                       box_xywh=np.array([0, 0, 0.5, 0.5]))
    if pos is not None:
        o.has_position, o.position, o.size = True, np.array(pos), np.array([0.1, 0.1, 0.05])
    return o


def test_result_message_target_and_markers():
    header = Header(frame_id="cam")
    result = GroundingResult(phrases=["a", "b"], objects=[_obj(0, "a", 0.9, [0.1, 0.2, 0.8]),
                                                           _obj(1, "b", 0.5)], inference_ms=12.0)
    msg = messages.result_to_msg(header, "a; b", "m", result, 20.0)
    msg = deserialize_message(serialize_message(msg), GroundedObjectArray)
    assert [o.phrase for o in msg.objects] == ["a", "b"] and msg.inference_ms == 12.0 and msg.error == ""
    assert msg.objects[0].has_position and not msg.objects[1].has_position
    pose = messages.target_pose(header, result)
    assert pose.header.frame_id == "cam" and pose.pose.position.z == pytest.approx(0.8)
    marks = messages.markers(header, result).markers
    assert marks[0].action == marks[0].DELETEALL and len(marks) == 3   # one located object: cube + label
    # no position for the first phrase's best object -> no target
    assert messages.target_pose(header, GroundingResult(["b"], [_obj(0, "b", 0.5)])) is None
    err = messages.result_to_msg(header, "x", "m", None, 1.0, error="boom")
    assert err.error == "boom" and not err.objects and list(err.warnings) == []


def test_result_message_carries_warnings_for_planners():
    """A planner must tell "nothing there" from "phrase not understood" or "no 3D": the reasons travel in the
    message (command sanitising first, then the grounding's own), not only in the node's log."""
    result = GroundingResult(phrases=["the banana"], objects=[],
                             warnings=["no depth image: 2D results only",
                                       "'the banana' not grounded: no word the model knows says which object"])
    msg = messages.result_to_msg(Header(), "the banana", "m", result, 3.0,
                                 command_warnings=["removed 1 control character(s)"])
    msg = deserialize_message(serialize_message(msg), GroundedObjectArray)
    assert list(msg.warnings) == ["removed 1 control character(s)", "no depth image: 2D results only",
                                  "'the banana' not grounded: no word the model knows says which object"]
    # an error result still says what was wrong with the command itself
    err = messages.result_to_msg(Header(), "x", "m", None, 1.0, error="busy", command_warnings=["truncated"])
    assert list(err.warnings) == ["truncated"] and err.error == "busy"


@pytest.mark.skipif(not messages.HAVE_VISION_MSGS,
                    reason="vision_msgs is not available as a PyPI wheel (it is on every apt ROS 2 install)")
def test_vision_msgs_detections():
    header = Header(frame_id="cam")
    result = GroundingResult(["a"], [_obj(0, "a", 0.9, [0.1, 0.2, 0.8]), _obj(0, "a", 0.4)])
    d2, d3 = messages.vision_detections(header, result)
    assert len(d2.detections) == 2 and len(d3.detections) == 1
    assert d2.detections[0].results[0].hypothesis.class_id == "a"
    assert d2.detections[1].results[0].hypothesis.score == pytest.approx(0.4)
    assert d3.header.frame_id == d2.header.frame_id == "cam"
