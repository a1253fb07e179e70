"""The node's outputs: creates the publishers once and publishes one grounding outcome on all of them.

QoS: every publisher is reliable with depth 10, which matches reliable and best-effort subscribers alike
(planners, RViz, `ros2 topic echo`); the debug image keeps depth 1 (only the newest is worth sending).
"""

from __future__ import annotations

from typing import Optional

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
# Results: one per command, and a flood of "busy" answers comes out in a burst; a deep history keeps
# a slow subscriber from losing any of them (messages are small).
RELIABLE_100 = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


class ResultPublishers:
    """detections, ~/target, ~/markers, ~/debug_image and, with vision_msgs, detections_2d/_3d."""

    def __init__(self, node) -> None:
        self._node = node
        make = node.create_lifecycle_publisher
        self.detections = make(GroundedObjectArray, "detections", RELIABLE_100)
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

    def publish(self, array_msg: GroundedObjectArray, result: Optional[GroundingResult],
                rgb: Optional[np.ndarray], draw_debug: bool, min_marker: float) -> None:
        """Publish the detections message, then (on success) target, markers, debug image, vision_msgs."""
        self.detections.publish(array_msg)
        if result is None:
            return
        header: Header = array_msg.header
        pose = messages.target_pose(header, result)
        if pose is not None:
            self.target.publish(pose)
        self.markers.publish(messages.markers(header, result, min_marker))
        if draw_debug and rgb is not None and self.debug_image.get_subscription_count() > 0:
            drawn = draw_objects(rgb, result.objects, header_text=array_msg.command)
            self.debug_image.publish(numpy_to_image(drawn, "rgb8", header))
        if self.det2d is not None:
            d2, d3 = messages.vision_detections(header, result)
            self.det2d.publish(d2)
            self.det3d.publish(d3)
