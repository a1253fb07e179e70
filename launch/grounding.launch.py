"""Start the phrase grounding node (on a robot with ROS 2 from apt).

    ros2 launch phrase_grounding grounding.launch.py backend:=florence2 model:=/models/florence2 device:=cuda \
        namespace:=arm_cam image:=/camera/color/image_raw depth_image:=/camera/aligned_depth_to_color/image_raw \
        camera_info:=/camera/color/camera_info

Arguments that are node parameters (backend, model, device, use_sim_time) override the params file only
when given: left at their empty default, the params file decides (a launch file that always passed
`backend:=tabletop` after the params file made the file's own `backend` dead).
Without `launch` (PyPI wheels), use grounding_node.launcher, which passes the same --ros-args.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

# Launch arguments: name -> (default, description). Kept as data so the consistency test can read them.
ARGUMENTS = {
    "params_file": ("", "YAML parameters file (default: the package's config/params.yaml)"),
    "backend": ("", "grounding backend name, entry point or module:Class ('' = the params file's, tabletop)"),
    "model": ("", "hub id, local model directory or checkpoint ('' = the params file's / backend default)"),
    "device": ("", "auto, cpu, cuda, cuda:N ('' = the params file's, auto)"),
    "namespace": ("", "namespace of the node and its relative topics"),
    "image": ("image", "colour image topic"),
    "depth_image": ("depth_image", "depth image topic, aligned to the colour image"),
    "camera_info": ("camera_info", "CameraInfo of the colour image"),
    "command": ("command", "std_msgs/String command topic"),
    "detections": ("detections", "GroundedObjectArray output topic"),
    "use_sim_time": ("", "use /clock: true or false ('' = the params file's, false)"),
}
NODE_PARAMETER_ARGUMENTS = ("backend", "model", "device", "use_sim_time")
REMAP_ARGUMENTS = ("image", "depth_image", "camera_info", "command", "detections")


def parameter_overrides(given: dict) -> dict:
    """The node-parameter arguments the user actually gave (non-empty), typed: they go after the params
    file, so they win over it, and only they do."""
    out = {}
    for name in NODE_PARAMETER_ARGUMENTS:
        value = str(given.get(name, "")).strip()
        if not value:
            continue
        out[name] = value.lower() in ("true", "1", "yes") if name == "use_sim_time" else value
    return out


def _node(context, *args, **kwargs):
    given = {name: LaunchConfiguration(name).perform(context) for name in NODE_PARAMETER_ARGUMENTS}
    params = [LaunchConfiguration("params_file").perform(context)]
    overrides = parameter_overrides(given)
    if overrides:
        params.append(overrides)
    return [Node(
        package="phrase_grounding",
        executable="grounding_node",
        name="grounding_node",
        namespace=LaunchConfiguration("namespace"),
        output="screen",
        emulate_tty=True,
        parameters=params,
        remappings=[(name, LaunchConfiguration(name)) for name in REMAP_ARGUMENTS],
    )]


def generate_launch_description() -> LaunchDescription:
    default_params = os.path.join(get_package_share_directory("phrase_grounding"), "config", "params.yaml")
    args = []
    for name, (default, description) in ARGUMENTS.items():
        if name == "params_file":
            default = default_params
        args.append(DeclareLaunchArgument(name, default_value=default, description=description))
    return LaunchDescription(args + [OpaqueFunction(function=_node)])
