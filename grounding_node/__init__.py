"""grounding_node: language-directed perception core (ROS-free) plus a thin ROS 2 adapter in `ros/`.

Data path: Frame (numpy) + phrases -> models.<backend>.ground -> geometry (box_1024 -> pixels -> 3D)
-> GroundedObject list. Only `grounding_node.ros` (and `sim.camera_node`) import rclpy.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
