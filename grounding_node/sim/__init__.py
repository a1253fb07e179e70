"""Simulation: the MuJoCo tabletop (`scene`), referring expressions with guaranteed referents
(`expressions`) and the ROS camera node (`camera_node`). scene/expressions are ROS-free."""
