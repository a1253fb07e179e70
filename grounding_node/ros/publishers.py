"""The node's outputs: creates the publishers once and publishes one grounding outcome on all of them.

QoS: every publisher is reliable, which matches reliable and best-effort subscribers alike (planners, RViz,
`ros2 topic echo`): depth 1000 for detections (below), 10 for the others, and 1 for the debug image (only
the newest is worth sending).
"""

from __future__ import annotations

import time
from typing import List, Optional, Tuple

import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from grounding_node.grounding.types import GroundingResult
from grounding_node.ros import messages
from grounding_node.ros.conversions import numpy_to_image
from grounding_node.visualization import draw_objects
from phrase_grounding.msg import GroundedObjectArray

RELIABLE_10 = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
RELIABLE_1 = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
# Results: one per command, and a burst of 1000 commands comes out as a burst of ~1000 answers (most of
# them "busy"). KEEP_LAST(1000), not KEEP_ALL: a reliable KEEP_ALL writer blocks publish() when a matched
# reader stops reading (a hung planner would stall the worker); 1000 small messages (~1 MB) cover any
# burst a reader can fall behind by while still reading. Measured: every answer of a 1000-command burst
# reaches a KEEP_ALL reader (test_node_robustness.py); with depth 100, about 150 did.
RESULTS_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)


class ResultPublishers:
    """detections, ~/target, ~/markers, ~/debug_image and, with vision_msgs, detections_2d/_3d."""

    def __init__(self, node) -> None:
        self._node = node
        make = node.create_lifecycle_publisher
        self.detections = make(GroundedObjectArray, "detections", RESULTS_QOS)
        self.target = make(PoseStamped, "~/target", RELIABLE_10)
        self.markers = make(MarkerArray, "~/markers", RELIABLE_10)
        self.debug_image = make(Image, "~/debug_image", RELIABLE_1)
        self.det2d = self.det3d = None
        if messages.HAVE_VISION_MSGS:
            from vision_msgs.msg import Detection2DArray, Detection3DArray

            self.det2d = make(Detection2DArray, "detections_2d", RELIABLE_10)
            self.det3d = make(Detection3DArray, "detections_3d", RELIABLE_10)

    def all(self):
        return [p for p in (self.detections, self.target, self.markers, self.debug_image, self.det2d, self.det3d)
                if p is not None]

    def clear(self, header: Header) -> List[str]:
        """Clear RViz's markers (the node going inactive: markers have no lifetime, so the last command's cubes
        would stay on screen as if still true). Returns what failed, like `publish`."""
        try:
            self.markers.publish(messages.clear_markers(header))
        except Exception as exc:  # noqa: BLE001 - going down must not fail on a display topic
            return [f"~/markers not cleared: {type(exc).__name__}: {exc}"]
        return []

    def publish(self, array_msg: GroundedObjectArray, result: Optional[GroundingResult],
                rgb: Optional[np.ndarray], draw_debug: bool, min_marker: float,
                refused: bool = False) -> Tuple[int, List[str]]:
        """Publish the detections message first (what planners wait for), then (on success) target, markers,
        vision_msgs, and last the drawn debug image (the slowest, only for viewers); on failure (`result`
        None) a marker DELETEALL, unless the command was `refused` without running (the queue was full, a bad
        timeout: it replaced nothing, so RViz keeps showing the last command's objects). Returns the system time
        (ns) right after `detections` went out, for the node's timing log, and what failed after it. Why the
        later outputs never raise: the request is answered once `detections` is out, and an exception here
        made the node answer it a second time, with an error."""
        self.detections.publish(array_msg)
        published_ns = time.time_ns()
        header: Header = array_msg.header
        problems: List[str] = []

        def attempt(what: str, fn) -> None:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - one broken output must not cost the others
                problems.append(f"{what} not published: {type(exc).__name__}: {exc}")

        if result is None:
            # The command failed: clear RViz, or the previous command's cubes and labels stay on screen as if
            # they answered this one. Not for a refused command ("busy"): it replaced nothing.
            if not refused:
                attempt("~/markers", lambda: self.markers.publish(messages.clear_markers(header)))
            return published_ns, problems

        def target() -> None:
            pose = messages.target_pose(header, result)
            if pose is not None:
                self.target.publish(pose)

        def vision() -> None:
            d2, d3 = messages.vision_detections(header, result)
            self.det2d.publish(d2)
            self.det3d.publish(d3)

        def debug() -> None:
            drawn = draw_objects(rgb, result.objects, header_text=array_msg.command)
            self.debug_image.publish(numpy_to_image(drawn, "rgb8", header))

        attempt("~/target", target)
        attempt("~/markers", lambda: self.markers.publish(messages.markers(header, result, min_marker)))
        if self.det2d is not None:
            attempt("detections_2d/_3d", vision)
        if draw_debug and rgb is not None and self.debug_image.get_subscription_count() > 0:
            attempt("~/debug_image", debug)
        return published_ns, problems
