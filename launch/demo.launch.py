"""The demo on a robot workstation with ROS 2: the MuJoCo sim camera, the grounding node, RViz, and the
demo commander, which sends one command of each expression type, prints the verdict table against the
simulator's ground truth and writes the annotated images and contact sheet to `out` (default demo_output).

    ros2 launch phrase_grounding demo.launch.py
    ros2 topic pub --once /demo/command std_msgs/msg/String "{data: 'the red mug; all blue objects'}"

Without `launch` (PyPI wheels), `python -m grounding_node.demo` starts the same processes itself.
The namespace is fixed to /demo (the commander uses it; RViz runs in it, so the config's relative topics resolve).
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

ARGUMENTS = {
    "backend": ("tabletop", "grounding backend"),
    "rviz": ("true", "start RViz with the package's config"),
    "out": ("demo_output", "folder for the demo's images and results"),
}


def generate_launch_description() -> LaunchDescription:
    share = get_package_share_directory("phrase_grounding")
    args = [DeclareLaunchArgument(n, default_value=d, description=t) for n, (d, t) in ARGUMENTS.items()]
    ns = "demo"
    camera = Node(package="phrase_grounding", executable="sim_camera", name="sim_camera", namespace=ns,
                  parameters=[{"rate": 15.0, "scene_period": 0.0}], output="screen")
    grounding = Node(package="phrase_grounding", executable="grounding_node", name="grounding_node", namespace=ns,
                     parameters=[os.path.join(share, "config", "params.yaml"),
                                 {"backend": LaunchConfiguration("backend")}], output="screen")
    # The RViz config's topics are relative (image, grounding_node/markers, ...): RViz in the demo's namespace
    # sees /demo/..., and the same config serves a robot's node at /grounding_node (RViz in the root namespace).
    rviz = Node(package="rviz2", executable="rviz2", namespace=ns,
                arguments=["-d", os.path.join(share, "rviz", "grounding.rviz")],
                condition=IfCondition(LaunchConfiguration("rviz")))
    commander = ExecuteProcess(cmd=["python3", "-m", "grounding_node.demo", "--attach", "--out",
                                    LaunchConfiguration("out")], output="screen")
    return LaunchDescription(args + [camera, grounding, rviz, commander])
