"""The demo on a robot workstation with ROS 2: the MuJoCo sim camera, the grounding node and RViz.

    ros2 launch phrase_grounding demo.launch.py
    ros2 topic pub --once /demo/command std_msgs/msg/String "{data: 'the red mug; all blue objects'}"

Without `launch` (PyPI wheels), `python -m grounding_node.demo` runs the same processes and also sends
one command of each expression type and checks the answers against the simulator's ground truth.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

ARGUMENTS = {
    "namespace": ("demo", "namespace of the camera and the node"),
    "backend": ("tabletop", "grounding backend"),
    "rviz": ("true", "start RViz with the package's config"),
}


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("phrase_grounding")
    args = [DeclareLaunchArgument(n, default_value=d, description=t) for n, (d, t) in ARGUMENTS.items()]
    ns = LaunchConfiguration("namespace")
    camera = Node(package="phrase_grounding", executable="sim_camera", name="sim_camera", namespace=ns,
                  parameters=[{"rate": 15.0, "scene_period": 0.0}], output="screen")
    grounding = Node(package="phrase_grounding", executable="grounding_node", name="grounding_node", namespace=ns,
                     parameters=[os.path.join(share, "config", "params.yaml"),
                                 {"backend": LaunchConfiguration("backend")}], output="screen")
    rviz = Node(package="rviz2", executable="rviz2", arguments=["-d", os.path.join(share, "rviz", "grounding.rviz")],
                condition=IfCondition(LaunchConfiguration("rviz")))
    return LaunchDescription(args + [camera, grounding, rviz])
