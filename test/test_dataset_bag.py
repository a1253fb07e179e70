"""`from-bag`: an MCAP bag written here with the mcap writer (colour, depth, camera_info, some stamps
misaligned) becomes exactly the right samples."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import yaml

from grounding_node.data import load_dataset
from grounding_node.data.bag import BagError, bag_to_dataset, colour_to_rgb, image_to_numpy
from grounding_node.data.cli import main

# a requirement (requirements.txt); absent only on the GPU check's device image, which has no ROS tooling
Writer = pytest.importorskip("mcap_ros2.writer").Writer

# rosbag2's schema text: the message's own definition, then each dependency after a separator line.
SEP = "\n" + "=" * 80 + "\n"
_HEADER = SEP + """MSG: std_msgs/Header
builtin_interfaces/Time stamp
string frame_id""" + SEP + """MSG: builtin_interfaces/Time
int32 sec
uint32 nanosec"""
IMAGE_DEF = """std_msgs/Header header
uint32 height
uint32 width
string encoding
uint8 is_bigendian
uint32 step
uint8[] data""" + _HEADER
CAMERA_INFO_DEF = """std_msgs/Header header
uint32 height
uint32 width
string distortion_model
float64[] d
float64[9] k
float64[9] r
float64[12] p
uint32 binning_x
uint32 binning_y
sensor_msgs/RegionOfInterest roi""" + _HEADER + SEP + """MSG: sensor_msgs/RegionOfInterest
uint32 x_offset
uint32 y_offset
uint32 height
uint32 width
bool do_rectify
"""
W, H = 8, 6
T0 = 100 * 10**9
STEP = 10**8  # 0.1 s between frames


def _header(t: int) -> dict:
    return {"stamp": {"sec": t // 10**9, "nanosec": t % 10**9}, "frame_id": "cam_optical"}


def _image(t: int, arr: np.ndarray, encoding: str, pad: int = 0) -> dict:
    h, w = arr.shape[:2]
    row = arr.reshape(h, -1).view(np.uint8)
    step = row.shape[1] + pad
    data = np.zeros((h, step), np.uint8)
    data[:, : row.shape[1]] = row
    return {"header": _header(t), "height": h, "width": w, "encoding": encoding, "is_bigendian": 0,
            "step": step, "data": data.tobytes()}


def _info(t: int, fx: float) -> dict:
    k = [fx, 0.0, W / 2, 0.0, fx, H / 2, 0.0, 0.0, 1.0]
    return {"header": _header(t), "height": H, "width": W, "distortion_model": "plumb_bob", "d": [0.0] * 5,
            "k": k, "r": [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0], "p": k[:3] + [0.0] + k[3:6] + [0.0] + k[6:] + [0.0],
            "binning_x": 0, "binning_y": 0,
            "roi": {"x_offset": 0, "y_offset": 0, "height": 0, "width": 0, "do_rectify": False}}


def _rgb(k: int) -> np.ndarray:
    return np.random.default_rng(k).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _write_bag(path: Path, colour_encoding: str = "bgr8", depth_encoding: str = "16UC1") -> None:
    """Six frames k = 0..5 at 0.1 s. Depth of k=2 is 5 ms late (within the default 20 ms slop), depth of
    k=4 is 50 ms late (unpaired); k=3 has no camera_info at all. Depth is logged before colour, as a real
    recorder may. Each frame's depth (1000 + k mm) and fx (500 + k) tell which frame was paired with which."""
    with open(path, "wb") as fh, Writer(fh) as w:
        img = w.register_msgdef("sensor_msgs/msg/Image", IMAGE_DEF)
        info = w.register_msgdef("sensor_msgs/msg/CameraInfo", CAMERA_INFO_DEF)
        for k in range(6):
            t = T0 + k * STEP
            td = t + {2: 5 * 10**6, 4: 50 * 10**6}.get(k, 0)
            depth = np.full((H, W), 1000 + k, np.uint16)
            depth[0, 0] = 0
            if depth_encoding == "32FC1":
                dmsg = _image(td, (depth.astype(np.float32) / 1000.0), "32FC1")
            else:
                dmsg = _image(td, depth, "16UC1")
            w.write_message("/cam/depth", img, dmsg, log_time=t + 10**6)
            rgb = _rgb(k)
            if colour_encoding == "bgr8":
                cmsg = _image(t, np.ascontiguousarray(rgb[:, :, ::-1]), "bgr8", pad=4)  # padded rows
            elif colour_encoding == "bgra8":
                bgra = np.concatenate([rgb[:, :, ::-1], np.full((H, W, 1), 255, np.uint8)], axis=2)
                cmsg = _image(t, bgra, "bgra8")
            else:
                cmsg = _image(t, rgb, "rgb8")
            w.write_message("/cam/color", img, cmsg, log_time=t + 2 * 10**6)
            if k != 3:
                w.write_message("/cam/info", info, _info(t, 500.0 + k), log_time=t + 3 * 10**6)


def _check_frames(out: Path, ks, depth_mm=True) -> None:
    samples = load_dataset(out)  # also proves the samples pass `check`
    assert [s.extra["stamp_ns"] for s in samples] == [T0 + k * STEP for k in ks]
    for s, k in zip(samples, ks):
        assert s.groundings == [] and (s.width, s.height) == (W, H) and s.extra["frame_id"] == "cam_optical"
        assert s.image == f"images/{100 + k // 10}_{(k % 10) * STEP:09d}.png"
        assert np.array_equal(cv2.imread(str(out / s.image))[:, :, ::-1], _rgb(k))
        d = cv2.imread(str(out / s.depth), cv2.IMREAD_UNCHANGED)
        assert d.dtype == np.uint16 and d[0, 0] == 0 and np.all(d.ravel()[1:] == 1000 + k)
        doc = yaml.safe_load((out / s.camera_info).read_text())
        assert doc["camera_matrix"]["data"] == [500.0 + k, 0.0, W / 2, 0.0, 500.0 + k, H / 2, 0.0, 0.0, 1.0]
        assert (doc["image_width"], doc["image_height"], doc["distortion_model"]) == (W, H, "plumb_bob")


def test_bag_becomes_the_right_samples(tmp_path: Path):
    bag = tmp_path / "rec.mcap"
    _write_bag(bag)
    out = tmp_path / "ds"
    report = bag_to_dataset(bag, out, "/cam/color", "/cam/depth", "/cam/info")
    assert (report.colour_frames, report.depth_frames, report.info_messages) == (6, 6, 5)
    assert (report.paired, report.no_depth, report.no_info, len(report.written)) == (4, 1, 1, 4)
    _check_frames(out, [0, 1, 2, 5])
    with pytest.raises(BagError, match="pass --append"):
        bag_to_dataset(bag, out, "/cam/color", "/cam/depth", "/cam/info")


def test_slop_and_every(tmp_path: Path):
    bag = tmp_path / "rec.mcap"
    _write_bag(bag)
    strict = bag_to_dataset(bag, tmp_path / "strict", "/cam/color", "/cam/depth", "/cam/info", slop=0.001)
    assert (strict.paired, strict.no_depth) == (3, 2)  # the 5 ms-late depth no longer pairs
    loose = bag_to_dataset(bag, tmp_path / "loose", "/cam/color", "/cam/depth", "/cam/info", every=2, slop=0.06)
    assert (loose.paired, loose.skipped_by_every, len(loose.written)) == (5, 2, 3)
    _check_frames(tmp_path / "loose", [0, 2, 5])  # paired 0, 1, 2, 4, 5 -> every 2nd


def test_cli_from_bag_bgra8_and_float_depth(tmp_path: Path, capsys):
    bag = tmp_path / "rec.mcap"
    _write_bag(bag, colour_encoding="bgra8", depth_encoding="32FC1")
    out = tmp_path / "ds"
    rc = main(["from-bag", str(bag), "--image-topic", "/cam/color", "--depth-topic", "/cam/depth",
               "--info-topic", "/cam/info", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "paired 4, dropped 2 unpaired" in text and "4 unannotated" in text
    _check_frames(out, [0, 1, 2, 5])


def test_bag_errors_name_the_problem(tmp_path: Path, capsys):
    bag = tmp_path / "rec.mcap"
    _write_bag(bag)
    with pytest.raises(BagError, match=r"topic '/nope' not in .*topics: /cam/color, /cam/depth, /cam/info"):
        bag_to_dataset(bag, tmp_path / "a", "/nope")
    with pytest.raises(BagError, match="topic '/cam/info' has type sensor_msgs/msg/CameraInfo, expected"):
        bag_to_dataset(bag, tmp_path / "b", "/cam/info")
    assert main(["from-bag", str(bag), "--image-topic", "/cam/depth", "--out", str(tmp_path / "c")]) == 1
    assert "colour topic has encoding '16UC1'" in capsys.readouterr().err


def _msg(arr: np.ndarray, encoding: str, pad: int = 0, bigendian: bool = False) -> SimpleNamespace:
    d = _image(0, arr, encoding, pad)
    if bigendian:
        h = arr.shape[0]
        raw = np.frombuffer(d["data"], np.uint8).reshape(h, -1)
        n = arr.shape[1] * arr.dtype.itemsize
        raw = raw.copy()
        raw[:, :n] = arr.astype(arr.dtype.newbyteorder(">")).reshape(h, -1).view(np.uint8)
        d["data"] = raw.tobytes()
    d["is_bigendian"] = int(bigendian)
    return SimpleNamespace(**d)


def test_encodings_to_rgb():
    rgb = _rgb(9)
    alpha = np.full((H, W, 1), 7, np.uint8)
    assert np.array_equal(colour_to_rgb(_msg(rgb, "rgb8", pad=3), "sensor_msgs/msg/Image"), rgb)
    assert np.array_equal(colour_to_rgb(_msg(rgb[:, :, ::-1].copy(), "bgr8"), "sensor_msgs/msg/Image"), rgb)
    assert np.array_equal(colour_to_rgb(_msg(np.concatenate([rgb, alpha], 2), "rgba8"), "x"), rgb)
    assert np.array_equal(colour_to_rgb(_msg(np.concatenate([rgb[:, :, ::-1], alpha], 2), "bgra8"), "x"), rgb)
    assert np.array_equal(colour_to_rgb(_msg(rgb[:, :, 0].copy(), "mono8"), "x"), rgb[:, :, 0])
    depth = np.arange(H * W, dtype=np.uint16).reshape(H, W) * 300
    arr, enc = image_to_numpy(_msg(depth, "16UC1", pad=2, bigendian=True))
    assert enc == "16uc1" and np.array_equal(arr, depth)
    # nv21 (YUV 4:2:0 semi-planar) is not read; yuv422 was the example until from-bag learned it
    with pytest.raises(BagError, match="unsupported image encoding 'nv21'"):
        image_to_numpy(SimpleNamespace(encoding="nv21", height=1, width=1, step=2, data=b"ab", is_bigendian=0))
