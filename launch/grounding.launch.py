"""Start the phrase grounding node (on a robot with ROS 2 from apt).

    ros2 launch phrase_grounding grounding.launch.py backend:=florence2 model:=/models/florence2 device:=cuda \
        namespace:=arm_cam image:=/camera/color/image_raw depth_image:=/camera/aligned_depth_to_color/image_raw \
        camera_info:=/camera/color/camera_info

Arguments that are node parameters (backend, model, device, use_sim_time) override the params file.
Without `launch` (PyPI wheels), use grounding_node.launcher, which passes the same --ros-args.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue

# Launch arguments: name -> (default, description). Kept as data so the consistency test can read them.
ARGUMENTS = {
    "params_file": ("", "YAML parameters file (default: the package's config/params.yaml)"),
    "backend": ("tabletop", "grounding backend name, entry point or module:Class"),
    "model": ("", "hub id, local model directory or checkpoint ('' = backend default)"),
    "device": ("auto", "auto, cpu, cuda, cuda:N"),
    "namespace": ("", "namespace of the node and its relative topics"),
    "image": ("image", "colour image topic"),
    "depth_image": ("depth_image", "depth image topic, aligned to the colour image"),
    "camera_info": ("camera_info", "CameraInfo of the colour image"),
    "command": ("command", "std_msgs/String command topic"),
    "detections": ("detections", "GroundedObjectArray output topic"),
    "use_sim_time": ("false", "use /clock"),
}
NODE_PARAMETER_ARGUMENTS = ("backend", "model", "device", "use_sim_time")
REMAP_ARGUMENTS = ("image", "depth_image", "camera_info", "command", "detections")


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(get_package_share_directory("phrase_grounding"), "config", "params.yaml")
    args = []
    for name, (default, description) in ARGUMENTS.items():
        if name == "params_file":
            default = default_params
        args.append(DeclareLaunchArgument(name, default_value=default, description=description))
    node = Node(
        package="phrase_grounding",
        executable="grounding_node",
        name="grounding_node",
        namespace=LaunchConfiguration("namespace"),
        output="screen",
        emulate_tty=True,
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "backend": LaunchConfiguration("backend"),
                "model": ParameterValue(LaunchConfiguration("model"), value_type=str),
                "device": LaunchConfiguration("device"),
                "use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool),
            },
        ],
        remappings=[(name, LaunchConfiguration(name)) for name in REMAP_ARGUMENTS],
    )
    return LaunchDescription(args + [node])
