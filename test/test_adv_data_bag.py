"""`from-bag` against bags as robots really record them (adversarial review): compressed depth, float depth
with non-finite values, a damaged or truncated file, a rosbag2 folder, an encoding that changes mid-bag,
depth or camera_info of another camera, bad options. Every expectation is computed here from the values the
test puts into the bag, and every failure must leave nothing written and no traceback. (A truncated bag is
no longer a failure when frames precede the cut: see test_adv_bag_truncated.py.)"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Dict, List, Optional

import cv2
import numpy as np
import pytest
import yaml
from test_dataset_bag import _HEADER, CAMERA_INFO_DEF, IMAGE_DEF  # noqa: E402  (test dir is on sys.path)

from grounding_node.data import check_dataset, load_dataset
from grounding_node.data.bag import bag_to_dataset
from grounding_node.data.cli import main

Writer = pytest.importorskip("mcap_ros2.writer").Writer

COMPRESSED_DEF = "std_msgs/Header header\nstring format\nuint8[] data" + _HEADER
W, H = 8, 6
T0 = 70 * 10**9
STEP = 10**8


def _header(t: int) -> dict:
    return {"stamp": {"sec": t // 10**9, "nanosec": t % 10**9}, "frame_id": "cam"}


def _image(t: int, arr: np.ndarray, encoding: str, pad: int = 0, bigendian: bool = False) -> dict:
    """An Image message built byte by byte from `arr` (padding and byte order as a driver writes them)."""
    h, w = arr.shape[:2]
    a = arr.astype(arr.dtype.newbyteorder(">")) if bigendian else arr
    row = np.ascontiguousarray(a).reshape(h, -1).view(np.uint8)
    data = np.zeros((h, row.shape[1] + pad), np.uint8)
    data[:, : row.shape[1]] = row
    return {"header": _header(t), "height": h, "width": w, "encoding": encoding, "is_bigendian": int(bigendian),
            "step": data.shape[1], "data": data.tobytes()}


def _compressed(t: int, data: bytes, fmt: str) -> dict:
    return {"header": _header(t), "format": fmt, "data": data}


def _info(t: int, w: int, h: int, fx: float, k: Optional[List[float]] = None) -> dict:
    k = k if k is not None else [fx, 0.0, w / 2, 0.0, fx, h / 2, 0.0, 0.0, 1.0]
    return {"header": _header(t), "height": h, "width": w, "distortion_model": "plumb_bob", "d": [0.0] * 5,
            "k": k, "r": [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0], "p": k[:3] + [0.0] + k[3:6] + [0.0] + k[6:] + [0.0],
            "binning_x": 0, "binning_y": 0,
            "roi": {"x_offset": 0, "y_offset": 0, "height": 0, "width": 0, "do_rectify": False}}


def _rgb(k: int, h: int = H, w: int = W) -> np.ndarray:
    return np.random.default_rng(1000 + k).integers(0, 256, (h, w, 3), dtype=np.uint8)


class _Bag:
    """An MCAP file written with mcap_ros2's writer, as rosbag2 writes one (zstd chunks with CRCs)."""

    def __init__(self, path: Path):
        self.fh = open(path, "wb")
        self.w = Writer(self.fh)
        self.schemas = {"img": self.w.register_msgdef("sensor_msgs/msg/Image", IMAGE_DEF),
                        "comp": self.w.register_msgdef("sensor_msgs/msg/CompressedImage", COMPRESSED_DEF),
                        "info": self.w.register_msgdef("sensor_msgs/msg/CameraInfo", CAMERA_INFO_DEF)}

    def write(self, topic: str, kind: str, msg: dict, log_time: int) -> None:
        self.w.write_message(topic, self.schemas[kind], msg, log_time=log_time, publish_time=log_time)

    def close(self) -> None:
        self.w.finish()
        self.fh.close()


def _colour_bag(path: Path, n: int = 20) -> List[np.ndarray]:
    """`n` rgb8 frames on /c; returns their pixels."""
    b = _Bag(path)
    frames = [_rgb(k) for k in range(n)]
    for k, rgb in enumerate(frames):
        b.write("/c", "img", _image(T0 + k * STEP, rgb, "rgb8"), T0 + k * STEP)
    b.close()
    return frames


def _cli(capsys, *args) -> tuple:
    rc = main(["from-bag", *map(str, args)])
    got = capsys.readouterr()
    return rc, got.out, got.err


def _files(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------- compressed depth, float depth
def _compressed_depth(depth_mm: np.ndarray) -> bytes:
    """compressed_depth_image_transport's 16UC1 payload: 12-byte ConfigHeader (format, quantA, quantB), PNG."""
    ok, png = cv2.imencode(".png", depth_mm)
    assert ok
    return struct.pack("<iff", 0, 0.0, 0.0) + png.tobytes()


def _compressed_depth_32f(inv: np.ndarray, quant_a: float, quant_b: float) -> bytes:
    ok, png = cv2.imencode(".png", inv)
    assert ok
    return struct.pack("<iff", 0, quant_a, quant_b) + png.tobytes()


def test_compressed_depth_16uc1_and_32fc1_become_the_exact_millimetres(tmp_path: Path):
    """The RealSense/Orbbec `.../compressedDepth` topics: 16UC1 PNG after a 12-byte header, and 32FC1 as
    quantised inverse depth (d = quantA / (v - quantB) metres, v = 0 no reading)."""
    mm = np.arange(H * W, dtype=np.uint16).reshape(H, W) * 97 + 300
    mm[2, 3] = 0
    qa, qb = 1000.0, 0.0
    inv = np.full((H, W), 2000, np.uint16)   # 1000 / 2000 = 0.5 m
    inv[0, 0] = 0
    inv[1, 1] = 800                          # 1.25 m
    bag = tmp_path / "cd.mcap"
    b = _Bag(bag)
    b.write("/c", "img", _image(T0, _rgb(0), "rgb8"), T0)
    b.write("/d16", "comp", _compressed(T0, _compressed_depth(mm), "16UC1; compressedDepth png"), T0)
    b.write("/d32", "comp", _compressed(T0, _compressed_depth_32f(inv, qa, qb), "32FC1; compressedDepth png"), T0)
    b.close()
    bag_to_dataset(bag, tmp_path / "a", "/c", "/d16")
    s = load_dataset(tmp_path / "a")[0]
    assert np.array_equal(cv2.imread(str(tmp_path / "a" / s.depth), cv2.IMREAD_UNCHANGED), mm)
    bag_to_dataset(bag, tmp_path / "b", "/c", "/d32")
    s = load_dataset(tmp_path / "b")[0]
    want = np.full((H, W), 500, np.uint16)
    want[0, 0] = 0
    want[1, 1] = 1250
    assert np.array_equal(cv2.imread(str(tmp_path / "b" / s.depth), cv2.IMREAD_UNCHANGED), want)


def test_float_depth_non_finite_negative_and_big_endian_rows_with_padding(tmp_path: Path):
    f = np.full((H, W), 1.2345, np.float32)
    f[0, :6] = [np.nan, np.inf, -np.inf, -0.5, 70.0, 0.0]   # no reading: 0 (70 m is beyond 16-bit millimetres)
    bag = tmp_path / "f.mcap"
    b = _Bag(bag)
    b.write("/c", "img", _image(T0, _rgb(0), "rgb8"), T0)
    b.write("/d", "img", _image(T0, f, "32FC1", pad=4, bigendian=True), T0)
    b.close()
    bag_to_dataset(bag, tmp_path / "o", "/c", "/d")
    s = load_dataset(tmp_path / "o")[0]
    want = np.full((H, W), 1235, np.uint16)   # 1.2345 m as float32 is 1.23450005 m: 1234.50005 mm rounds up
    want[0, :6] = 0
    assert np.array_equal(cv2.imread(str(tmp_path / "o" / s.depth), cv2.IMREAD_UNCHANGED), want)


def test_a_16bit_png_or_compressed_depth_on_the_colour_topic_is_a_clear_error(tmp_path: Path, capsys):
    ok, png16 = cv2.imencode(".png", np.full((H, W), 1234, np.uint16))
    bag = tmp_path / "c.mcap"
    b = _Bag(bag)
    b.write("/c16", "comp", _compressed(T0, png16.tobytes(), "16UC1; png"), T0)
    b.write("/cd", "comp", _compressed(T0, _compressed_depth(np.ones((H, W), np.uint16)),
                                       "16UC1; compressedDepth png"), T0)
    b.close()
    rc, _, err = _cli(capsys, bag, "--image-topic", "/c16", "--out", tmp_path / "a")
    assert rc == 1 and "is uint16, not 8-bit colour" in err and "/c16" in err
    rc, _, err = _cli(capsys, bag, "--image-topic", "/cd", "--out", tmp_path / "b")
    assert rc == 1 and "compressed depth" in err and "--depth-topic" in err
    assert _files(tmp_path / "a") == _files(tmp_path / "b") == []


# ---------------------------------------------------------------- damaged files, folders, other formats
def test_a_corrupted_chunk_is_an_error_not_wrong_pixels(tmp_path: Path, capsys):
    """Bytes flipped inside a chunk used to be decoded as they were: frames with wrong pixels and exit 0."""
    bag = tmp_path / "ok.mcap"
    _colour_bag(bag, 50)
    data = bytearray(bag.read_bytes())
    data[len(data) // 3: len(data) // 3 + 40] = b"\xff" * 40
    bad = tmp_path / "bad.mcap"
    bad.write_bytes(bytes(data))
    rc, _, err = _cli(capsys, bad, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and str(bad) in err and "corrupted" in err and "mcap recover" in err
    assert _files(tmp_path / "o") == []


@pytest.mark.parametrize("fraction", [0.5, 0.99])
def test_a_truncated_bag_gives_the_frames_before_the_cut_or_a_clear_error(tmp_path: Path, capsys,
                                                                         fraction: float):
    """Was: any truncated bag refused whole. A recorder killed mid-write leaves exactly this, and the frames
    before the cut are intact (test_adv_bag_truncated.py covers the cut points). Here all 30 frames are in
    one zstd chunk: cut at half, that chunk's single compressed block cannot be decoded, so no frame is read
    (a clear error, nothing written); cut at 99% (inside the summary), every frame is read."""
    bag = tmp_path / "ok.mcap"
    frames = _colour_bag(bag, 30)
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(bag.read_bytes()[: int(bag.stat().st_size * fraction)])
    rc, _, err = _cli(capsys, cut, "--image-topic", "/c", "--out", tmp_path / "o")
    assert "Traceback" not in err and str(cut) in err and "truncated" in err
    if fraction == 0.5:
        assert rc == 1 and "read 0 colour frame(s)" in err
        assert _files(tmp_path / "o") == []
    else:
        assert rc == 0 and "read 30 colour frame(s)" in err
        samples = sorted(load_dataset(tmp_path / "o"), key=lambda s: s.extra["stamp_ns"])
        assert [s.extra["stamp_ns"] for s in samples] == [T0 + k * STEP for k in range(30)]
        assert all(np.array_equal(cv2.imread(str(tmp_path / "o" / s.image))[:, :, ::-1], frames[k])
                   for k, s in enumerate(samples))


def test_a_rosbag2_folder_of_split_files_is_read_in_order(tmp_path: Path, capsys):
    """`ros2 bag record` writes a folder (metadata.yaml, rec_0.mcap, rec_1.mcap, ...); passing the folder used
    to be an IsADirectoryError traceback. Splits are read by their index (rec_10 after rec_9), and a colour
    frame in one split pairs with depth in the next."""
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "metadata.yaml").write_text("rosbag2_bagfile_information: {}\n")
    for part, ks in ((0, [0, 1]), (1, [2]), (10, [3])):
        b = _Bag(folder / f"rec_{part}.mcap")
        for k in ks:
            t = T0 + k * STEP
            b.write("/c", "img", _image(t, _rgb(k), "rgb8"), t)
            if k != 1:
                b.write("/d", "img", _image(t, np.full((H, W), 100 + k, np.uint16), "16UC1"), t)
        if part == 1:   # frame 1's depth was logged late, after the split
            b.write("/d", "img", _image(T0 + STEP, np.full((H, W), 101, np.uint16), "16UC1"), T0 + 25 * STEP)
        b.close()
    rc, out, err = _cli(capsys, folder, "--image-topic", "/c", "--depth-topic", "/d", "--out", tmp_path / "o")
    assert rc == 0, err
    samples = sorted(load_dataset(tmp_path / "o"), key=lambda s: s.extra["stamp_ns"])   # written as completed
    assert [s.extra["stamp_ns"] for s in samples] == [T0 + k * STEP for k in range(4)]
    for k, s in enumerate(samples):
        assert np.array_equal(cv2.imread(str(tmp_path / "o" / s.image))[:, :, ::-1], _rgb(k))
        assert np.all(cv2.imread(str(tmp_path / "o" / s.depth), cv2.IMREAD_UNCHANGED) == 100 + k)


def test_a_db3_bag_a_folder_without_mcap_and_a_missing_file(tmp_path: Path, capsys):
    db3 = tmp_path / "rec_0.db3"
    db3.write_bytes(b"SQLite format 3\x00" + bytes(100))
    rc, _, err = _cli(capsys, db3, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and "not an MCAP file" in err and "ros2 bag convert" in err
    rc, _, err = _cli(capsys, tmp_path, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and "no .mcap file" in err and "rec_0.db3" in err
    rc, _, err = _cli(capsys, tmp_path / "nope.mcap", "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and "nope.mcap: not found" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("option,value", [("--every", "0"), ("--every", "-3"), ("--slop", "nan"),
                                          ("--slop", "-0.5"), ("--slop", "inf")])
def test_bad_every_or_slop_is_a_message_not_a_traceback(tmp_path: Path, capsys, option: str, value: str):
    bag = tmp_path / "b.mcap"
    _colour_bag(bag, 3)
    rc, _, err = _cli(capsys, bag, "--image-topic", "/c", "--out", tmp_path / "o", option, value)
    assert rc == 1 and option in err
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- a bad frame leaves nothing behind
def test_an_encoding_change_mid_bag_leaves_nothing_written(tmp_path: Path, capsys):
    """Three good frames, then the driver switches to nv21 (unsupported; yuv422 was the example until from-bag
    learned it): the run used to stop with three samples and an annotations.jsonl left behind, which a rerun
    then refused without --append."""
    bag = tmp_path / "b.mcap"
    b = _Bag(bag)
    for k in range(5):
        t = T0 + k * STEP
        msg = _image(t, _rgb(k), "rgb8") if k < 3 else _image(t, np.zeros((H, W, 2), np.uint8), "nv21")
        b.write("/c", "img", msg, t)
    b.close()
    rc, _, err = _cli(capsys, bag, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and "nv21" in err and "/c" in err and "70.300000000" in err
    assert _files(tmp_path / "o") == [] and not (tmp_path / "o").exists()


def test_a_failed_append_keeps_the_dataset_exactly_as_it_was(tmp_path: Path, capsys):
    good = tmp_path / "good.mcap"
    _colour_bag(good, 2)
    out = tmp_path / "o"
    assert _cli(capsys, good, "--image-topic", "/c", "--out", out)[0] == 0
    before = {p: (out / p).read_bytes() for p in _files(out)}
    bad = tmp_path / "bad.mcap"
    b = _Bag(bad)
    for k in range(4):
        t = T0 + (10 + k) * STEP
        msg = _image(t, _rgb(k), "bgr8") if k < 2 else _image(t, np.zeros((1, 1), np.uint8), "nv21")
        b.write("/c", "img", msg, t)
    b.close()
    rc, _, err = _cli(capsys, bad, "--image-topic", "/c", "--out", out, "--append")
    assert rc == 1 and "removed again" in err
    assert {p: (out / p).read_bytes() for p in _files(out)} == before


def _depth_info_bag(path: Path, depth_shape=(H, W), info_size=(W, H), info_k: Optional[List[float]] = None,
                    n: int = 3, bad_from: int = 0) -> None:
    """Colour WxH on /c, depth of `depth_shape` on /d, camera_info of `info_size` / `info_k` on /i, from frame
    `bad_from` on (earlier frames are consistent)."""
    b = _Bag(path)
    for k in range(n):
        t = T0 + k * STEP
        b.write("/c", "img", _image(t, _rgb(k), "rgb8"), t)
        dshape, (iw, ih), kk = ((depth_shape, info_size, info_k) if k >= bad_from else ((H, W), (W, H), None))
        b.write("/d", "img", _image(t, np.full(dshape, 900, np.uint16), "16UC1"), t)
        b.write("/i", "info", _info(t, iw, ih, 300.0, kk), t)
    b.close()


@pytest.mark.parametrize("case,kwargs,message", [
    ("unaligned-depth", {"depth_shape": (4, 4)}, "is 4x4, another aspect ratio than its 8x6 colour image"),
    ("other-camera-info", {"info_size": (18, 6)}, "is for a 18x6 image, another aspect ratio than its 8x6"),
    ("uncalibrated", {"info_k": [0.0] * 9}, "K is all zeros"),
    ("nan-k", {"info_k": [np.nan, 0, 4, 0, 300.0, 3, 0, 0, 1]}, "non-finite values in camera_matrix"),
    ("changes-mid-bag", {"depth_shape": (3, 3), "bad_from": 2}, "is 3x3, another aspect ratio"),
])
def test_depth_or_camera_info_of_another_view_is_refused_before_anything_stays_written(
        tmp_path: Path, capsys, case: str, kwargs: Dict, message: str):
    """These used to be written silently, and `check` passed them: an unaligned depth topic, the depth
    camera's camera_info, an uncalibrated driver's zero K, a NaN K."""
    bag = tmp_path / "b.mcap"
    _depth_info_bag(bag, **kwargs)
    rc, _, err = _cli(capsys, bag, "--image-topic", "/c", "--depth-topic", "/d", "--info-topic", "/i",
                      "--out", tmp_path / "o")
    assert rc == 1 and message in err and str(bag) in err, err
    assert not (tmp_path / "o").exists()


def test_registered_depth_at_half_resolution_and_a_full_sensor_calibration_are_kept(tmp_path: Path):
    """Another resolution with the colour image's aspect ratio is the same view (what the node accepts)."""
    bag = tmp_path / "b.mcap"
    _depth_info_bag(bag, depth_shape=(H // 2, W // 2), info_size=(2 * W, 2 * H), n=2)
    report = bag_to_dataset(bag, tmp_path / "o", "/c", "/d", "/i")
    assert len(report.written) == 2 and check_dataset(tmp_path / "o").ok
    s = load_dataset(tmp_path / "o")[0]
    assert cv2.imread(str(tmp_path / "o" / s.depth), cv2.IMREAD_UNCHANGED).shape == (H // 2, W // 2)
    doc = yaml.safe_load((tmp_path / "o" / s.camera_info).read_text())
    assert (doc["image_width"], doc["image_height"]) == (2 * W, 2 * H)


def test_an_empty_image_and_a_topic_without_messages(tmp_path: Path, capsys):
    bag = tmp_path / "b.mcap"
    b = _Bag(bag)
    b.write("/c", "img", {**_image(T0, np.zeros((1, 1, 3), np.uint8), "rgb8"), "height": 0, "width": 0,
                          "step": 0, "data": b""}, T0)
    b.close()
    silent = tmp_path / "silent.mcap"   # a channel with no messages: a camera that never published
    from mcap.writer import Writer as RawWriter

    with open(silent, "wb") as fh:
        raw = RawWriter(fh)
        raw.start()
        sid = raw.register_schema("sensor_msgs/msg/Image", "ros2msg", IMAGE_DEF.encode())
        raw.register_channel("/silent", "cdr", sid)
        raw.finish()
    rc, _, err = _cli(capsys, bag, "--image-topic", "/c", "--out", tmp_path / "a")
    assert rc == 1 and "image is empty" in err
    rc, _, err = _cli(capsys, silent, "--image-topic", "/silent", "--out", tmp_path / "b")
    assert rc == 1 and "'/silent' has no messages" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_no_paired_frame_says_nothing_was_written(tmp_path: Path, capsys):
    """camera_info published once, a second after the frames: no frame pairs. The command used to end with
    'annotations.jsonl: not found', which reads like a broken dataset rather than a pairing problem."""
    bag = tmp_path / "b.mcap"
    b = _Bag(bag)
    for k in range(3):
        t = T0 + k * STEP
        b.write("/c", "img", _image(t, _rgb(k), "rgb8"), t)
    b.write("/i", "info", _info(T0 + 30 * STEP, W, H, 300.0), T0 + 30 * STEP)
    b.close()
    rc, out, err = _cli(capsys, bag, "--image-topic", "/c", "--info-topic", "/i", "--out", tmp_path / "o")
    assert rc == 1 and "no camera_info within slop: 3" in out
    assert "nothing written" in err and "--slop" in err and "not found" not in err


def test_zero_header_stamps_are_counted_and_explained(tmp_path: Path, capsys):
    bag = tmp_path / "b.mcap"
    b = _Bag(bag)
    for k in range(4):
        b.write("/c", "img", _image(0, _rgb(k), "rgb8"), T0 + k * STEP)
    b.close()
    rc, out, _ = _cli(capsys, bag, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 0 and "3 repeated stamps" in out and "header.stamp at 0" in out
    (s,) = load_dataset(tmp_path / "o")
    assert np.array_equal(cv2.imread(str(tmp_path / "o" / s.image))[:, :, ::-1], _rgb(0))   # the first logged
