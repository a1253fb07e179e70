"""A camera process for the integration tests: a synthetic RGB-D scene with analytic geometry.

A grey plane at 1.0 m with a red rectangle face at 0.6 m and a blue one at 0.8 m (fronto-parallel), published as
image (rgb8), depth_image (16UC1 mm or 32FC1 m) and camera_info with one shared header, at --rate Hz.
`SCENE` and `expected_position` give the analytic answers the tests compare against.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

WIDTH, HEIGHT = 640, 480
FX = FY = 525.0
CX, CY = (WIDTH - 1) / 2.0, (HEIGHT - 1) / 2.0
PLANE_Z = 1.0
# name -> (colour RGB, u0, v0, u1, v1 pixel rectangle [u0,u1) x [v0,v1), depth metres)
SCENE = {
    "red": ((220, 30, 30), 100, 120, 220, 240, 0.6),
    "blue": ((30, 40, 220), 380, 200, 520, 330, 0.8),
}
FRAME_ID = "camera_color_optical_frame"


def render(width: int = WIDTH, height: int = HEIGHT):
    """RGB uint8 and depth float32 metres of the scene (the rectangles are in the 640x480 pixel grid,
    scaled when a different size is asked for)."""
    sx, sy = width / WIDTH, height / HEIGHT
    rgb = np.full((height, width, 3), 128, np.uint8)
    depth = np.full((height, width), PLANE_Z, np.float32)
    for colour, u0, v0, u1, v1, z in SCENE.values():
        a, b, c, d = int(u0 * sx), int(v0 * sy), int(u1 * sx), int(v1 * sy)
        rgb[b:d, a:c] = colour
        depth[b:d, a:c] = z
    return rgb, depth


def expected_position(name: str) -> np.ndarray:
    """The analytic centre of a face: pixel-centre mean of its rectangle, back-projected at its depth."""
    _, u0, v0, u1, v1, z = SCENE[name]
    uc, vc = (u0 + u1 - 1) / 2.0, (v0 + v1 - 1) / 2.0
    return np.array([(uc - CX) * z / FX, (vc - CY) * z / FY, z])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=30.0)
    ap.add_argument("--depth-encoding", default="16UC1", choices=["16UC1", "32FC1"])
    ap.add_argument("--no-depth", action="store_true")
    ap.add_argument("--no-info", action="store_true")
    ap.add_argument("--zero-k", action="store_true")
    ap.add_argument("--depth-scale-down", type=int, default=1, help="publish depth at 1/N resolution")
    ap.add_argument("--zero-stamp", action="store_true")
    ap.add_argument("--depth-fill", choices=["zero", "nan"], help="publish an all-invalid depth image")
    ap.add_argument("--width", type=int, default=WIDTH)
    ap.add_argument("--height", type=int, default=HEIGHT)
    ap.add_argument("--depth-stamp-offset", type=float, default=0.0,
                    help="stamp depth this many seconds after colour (a misconfigured driver)")
    ap.add_argument("--depth-frame-id", default="", help="a depth frame_id other than the image's")
    ap.add_argument("--duration", type=float, default=0.0, help="exit after this many seconds (0 = run)")
    args, ros_args = ap.parse_known_args(argv)

    import rclpy
    from rclpy.node import Node
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, Image
    from std_msgs.msg import Header, String

    from grounding_node.geometry.camera import Intrinsics
    from grounding_node.ros.conversions import camera_info_from_intrinsics, numpy_to_image

    rclpy.init(args=ros_args)
    node = Node("synthetic_camera")
    pub_img = node.create_publisher(Image, "image", qos_profile_sensor_data)
    pub_depth = node.create_publisher(Image, "depth_image", qos_profile_sensor_data)
    pub_info = node.create_publisher(CameraInfo, "camera_info", qos_profile_sensor_data)
    rgb, depth_m = render(args.width, args.height)
    n = max(1, args.depth_scale_down)
    if n > 1:
        depth_m = depth_m[::n, ::n].copy()
    if args.depth_fill == "zero":
        depth_m = np.zeros_like(depth_m)
    elif args.depth_fill == "nan":
        depth_m = np.full_like(depth_m, np.nan)
    if args.depth_encoding == "16UC1":
        depth = np.round(np.nan_to_num(depth_m) * 1000.0).astype(np.uint16)
    else:
        depth = depth_m
    intr = Intrinsics(FX, FY, CX, CY, WIDTH, HEIGHT).scaled(args.width, args.height)
    if args.zero_k:
        intr = Intrinsics(0.0, 0.0, 0.0, 0.0, args.width, args.height)
    # Pre-build the messages once (publishing re-stamps them): the camera must not be the bottleneck.
    img_msg = numpy_to_image(rgb, "rgb8")
    depth_msg = numpy_to_image(depth, args.depth_encoding)
    info_msg = camera_info_from_intrinsics(intr)
    start = node.get_clock().now()
    state = {"depth": not args.no_depth}

    def on_control(msg: String) -> None:
        """Tests switch streams at run time: "depth off" / "depth on"."""
        if msg.data in ("depth off", "depth on"):
            state["depth"] = msg.data == "depth on"

    node.create_subscription(String, "~/control", on_control, 10)

    def tick() -> None:
        header = Header(frame_id=FRAME_ID)
        if not args.zero_stamp:
            header.stamp = node.get_clock().now().to_msg()
        img_msg.header = info_msg.header = header
        depth_header = Header(frame_id=args.depth_frame_id or FRAME_ID)
        if not args.zero_stamp:
            stamp_ns = node.get_clock().now().nanoseconds + int(args.depth_stamp_offset * 1e9)
            depth_header.stamp.sec, depth_header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
        depth_msg.header = depth_header
        if not args.no_info:
            pub_info.publish(info_msg)
        pub_img.publish(img_msg)
        if state["depth"]:
            pub_depth.publish(depth_msg)
        if args.duration and (node.get_clock().now() - start).nanoseconds > args.duration * 1e9:
            raise SystemExit(0)

    node.create_timer(1.0 / args.rate, tick)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
