"""Pure, vectorised geometry (numpy, and OpenCV for lens distortion): boxes on the 0-1024 grid, camera
intrinsics with the full sensor_msgs/CameraInfo model (distortion, rectified P, ROI, binning), and depth -> 3D.
ROS-free: the node, the API, the CLI and the evaluation share it."""

from grounding_node.geometry.boxes import (
    GRID,
    box1024_to_pixels,
    box1024_to_xywh_norm,
    box_iou,
    clamp_box1024,
    pixels_to_box1024,
    scale_box_pixels,
)
from grounding_node.geometry.camera import (
    DISTORTION_MODELS,
    Intrinsics,
    backproject,
    intrinsics_from_fovy,
    project,
    undistort_normalized,
)
from grounding_node.geometry.depth import (
    Object3D,
    depth_to_metres,
    estimate_object_3d,
    estimate_objects_3d,
    roi_slices,
    valid_depth_mask,
)

__all__ = [
    "DISTORTION_MODELS", "GRID", "Intrinsics", "Object3D", "backproject", "box1024_to_pixels",
    "box1024_to_xywh_norm", "box_iou", "clamp_box1024", "depth_to_metres", "estimate_object_3d",
    "estimate_objects_3d", "intrinsics_from_fovy", "pixels_to_box1024", "project", "roi_slices",
    "scale_box_pixels", "undistort_normalized", "valid_depth_mask",
]
