"""GroundingResult -> ROS messages (detections, target pose, markers, vision_msgs).

Pure functions of (result, header): no node, no publishing, so each message is testable on its own.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence

from geometry_msgs.msg import Point, PoseStamped, Vector3
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from grounding_node.grounding.types import GroundedObject, GroundingResult
from grounding_node.visualization import drawable_text, phrase_color
from phrase_grounding.msg import GroundedObject as GroundedObjectMsg
from phrase_grounding.msg import GroundedObjectArray

try:  # vision_msgs exists on every robot install, not as a wheel here.
    from vision_msgs.msg import (
        BoundingBox2D,
        BoundingBox3D,
        Detection2D,
        Detection2DArray,
        Detection3D,
        Detection3DArray,
        ObjectHypothesisWithPose,
    )

    HAVE_VISION_MSGS = True
except ImportError:  # pragma: no cover - depends on the install
    HAVE_VISION_MSGS = False


def object_to_msg(obj: GroundedObject) -> GroundedObjectMsg:
    msg = GroundedObjectMsg()
    msg.phrase = obj.phrase
    msg.score = float(obj.score)
    msg.confidence = obj.confidence
    msg.box_1024 = [float(v) for v in obj.box_1024]
    msg.box_pixels = [float(v) for v in obj.box_pixels]
    msg.box_xywh = [float(v) for v in obj.box_xywh]
    msg.has_position = bool(obj.has_position)
    if obj.has_position:
        msg.position = Point(x=float(obj.position[0]), y=float(obj.position[1]), z=float(obj.position[2]))
        msg.size = Vector3(x=float(obj.size[0]), y=float(obj.size[1]), z=float(obj.size[2]))
    msg.depth_valid_fraction = float(obj.depth_valid_fraction)
    return msg


def result_to_msg(
    header: Header,
    command: str,
    model: str,
    result: Optional[GroundingResult],
    total_ms: float,
    error: str = "",
    command_warnings: Sequence[str] = (),
) -> GroundedObjectArray:
    """The one message every command gets; `result` None means the grounding failed (error set).

    `warnings` carries what the command's sanitising changed, then the grounding's own warnings, so a planner
    can tell a phrase naming nothing on the table from one the model could not read, or a box without 3D
    because depth was missing, without reading the node's (throttled) log."""
    msg = GroundedObjectArray()
    msg.header = header
    msg.command = command
    msg.model = model
    msg.error = error
    msg.total_ms = float(total_ms)
    msg.warnings = [str(w) for w in command_warnings] + ([str(w) for w in result.warnings] if result else [])
    if result is not None:
        msg.objects = [object_to_msg(o) for o in result.objects]
        msg.inference_ms = float(result.inference_ms)
    return msg


def _finite(values) -> bool:
    return all(math.isfinite(float(v)) for v in values)


def target_pose(header: Header, result: GroundingResult) -> Optional[PoseStamped]:
    """Pose of the best object of the first phrase, or None when it has no position (then nothing is sent).
    A non-finite position is no position: a planner handed a NaN goal moves somewhere undefined."""
    first = [o for o in result.objects if o.phrase_index == 0]
    if not first or not first[0].has_position or not _finite(first[0].position):
        return None
    best = first[0]
    pose = PoseStamped()
    pose.header = header
    pose.pose.position = Point(x=float(best.position[0]), y=float(best.position[1]), z=float(best.position[2]))
    pose.pose.orientation.w = 1.0   # orientation is not estimated: identity in the camera frame
    return pose


def clear_markers(header: Header) -> MarkerArray:
    """Just the DELETEALL: what RViz should show after a command that failed (nothing of the old one)."""
    out = MarkerArray()
    clear = Marker()
    clear.header = header
    clear.action = Marker.DELETEALL
    out.markers.append(clear)
    return out


def _edge(value: float, min_scale: float) -> float:
    """A cube edge RViz draws: at least `min_scale`; a non-finite estimate (inf, NaN) becomes `min_scale`,
    since RViz refuses a marker with a non-finite scale and the object would silently vanish."""
    value = float(value)
    return max(value, min_scale) if math.isfinite(value) else min_scale


def markers(header: Header, result: GroundingResult, min_scale: float = 0.01, ns: str = "grounding") -> MarkerArray:
    """DELETEALL first (so stale objects vanish), then a cube and a text label per located object. Ids count
    located objects from 0 in each namespace, so they are unique and the same for the same result. Objects
    with a non-finite position are left out (RViz rejects the marker; the detections message still has
    them); labels are ASCII and at most 60 characters (RViz's text font draws bytes, like OpenCV's)."""
    out = clear_markers(header)
    mid = 0
    for obj in result.objects:
        if not obj.has_position or not _finite(obj.position):
            continue
        r, g, b = (c / 255.0 for c in phrase_color(obj.phrase_index))
        cube = Marker()
        cube.header = header
        cube.ns = ns
        cube.id = mid
        cube.type = Marker.CUBE
        cube.action = Marker.ADD
        cube.pose.position = Point(x=float(obj.position[0]), y=float(obj.position[1]), z=float(obj.position[2]))
        cube.pose.orientation.w = 1.0
        cube.scale = Vector3(x=_edge(obj.size[0], min_scale), y=_edge(obj.size[1], min_scale),
                             z=_edge(obj.size[2], min_scale))
        cube.color.r, cube.color.g, cube.color.b, cube.color.a = r, g, b, 0.5
        text = Marker()
        text.header = header
        text.ns = ns + "_labels"
        text.id = mid
        text.type = Marker.TEXT_VIEW_FACING
        text.action = Marker.ADD
        text.pose.position = Point(x=cube.pose.position.x, y=cube.pose.position.y - cube.scale.y / 2 - 0.03,
                                   z=cube.pose.position.z)
        text.pose.orientation.w = 1.0
        text.scale.z = 0.03
        text.color.r, text.color.g, text.color.b, text.color.a = 1.0, 1.0, 1.0, 1.0
        text.text = f"{drawable_text(obj.phrase)} {obj.score:.2f}"
        out.markers.extend([cube, text])
        mid += 1
    return out


def vision_detections(header: Header, result: GroundingResult) -> List:
    """[Detection2DArray, Detection3DArray] when vision_msgs is importable, else []. Both in the image frame;
    class_id is the phrase and the score is always set. Objects without a (finite) position are absent from 3D."""
    if not HAVE_VISION_MSGS:
        return []
    arr2d, arr3d = Detection2DArray(), Detection3DArray()
    arr2d.header = header
    arr3d.header = header
    for obj in result.objects:
        hyp = ObjectHypothesisWithPose()
        hyp.hypothesis.class_id = obj.phrase
        hyp.hypothesis.score = float(obj.score)
        det = Detection2D()
        det.header = header
        det.results.append(hyp)
        x0, y0, x1, y1 = (float(v) for v in obj.box_pixels)
        bbox = BoundingBox2D()
        bbox.center.position.x = (x0 + x1) / 2.0
        bbox.center.position.y = (y0 + y1) / 2.0
        bbox.size_x, bbox.size_y = x1 - x0, y1 - y0
        det.bbox = bbox
        arr2d.detections.append(det)
        if obj.has_position and _finite(obj.position) and _finite(obj.size):   # a NaN box is no 3D box
            d3 = Detection3D()
            d3.header = header
            hyp3 = ObjectHypothesisWithPose()
            hyp3.hypothesis.class_id = obj.phrase
            hyp3.hypothesis.score = float(obj.score)
            hyp3.pose.pose.position = Point(x=float(obj.position[0]), y=float(obj.position[1]),
                                            z=float(obj.position[2]))
            hyp3.pose.pose.orientation.w = 1.0
            d3.results.append(hyp3)
            box3 = BoundingBox3D()
            box3.center.position = hyp3.pose.pose.position
            box3.center.orientation.w = 1.0
            box3.size = Vector3(x=float(obj.size[0]), y=float(obj.size[1]), z=float(obj.size[2]))
            d3.bbox = box3
            arr3d.detections.append(d3)
    return [arr2d, arr3d]
