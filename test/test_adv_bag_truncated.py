"""`from-bag` on bags as robots leave them (adversarial review): `ros2 bag record` killed by SIGKILL, a power
loss or a full disk leaves an MCAP file without its summary and footer, cut mid-record; and one frame of a
bag can be damaged (wrong data length, a corrupt JPEG, a malformed CDR message) while the others are fine.

Expected: the frames recorded before the cut are imported, with one line saying the file is truncated and how
many frames were read; a damaged frame is skipped and counted, never a traceback and never a wrong image; a
bag with no usable frame fails (exit 1, this CLI's code for a failed import) with a clear message and leaves
nothing in the output folder. The truncations are real: bags written with the `mcap` library's own writers,
then cut at byte offsets found here by walking the file's record headers (opcode u8, length u64) or by
finding each frame's pixel bytes in the file, independently of the importer's reader."""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np
import pytest
from test_adv_data_bag import _Bag, _compressed, _image, _rgb  # noqa: E402  (test dir on path)
from test_dataset_bag import CAMERA_INFO_DEF, IMAGE_DEF  # noqa: E402

from grounding_node.data import check_dataset, load_dataset
from grounding_node.data.cli import main

mcap_writer = pytest.importorskip("mcap.writer")
CompressionType = mcap_writer.CompressionType
from mcap_ros2._dynamic import serialize_dynamic  # noqa: E402

T0 = 70 * 10**9
STEP = 10**8
N = 10
CHUNK, DATA_END, FOOTER = 0x06, 0x0F, 0x02


def _write(path: Path, n: int = N, chunk_size: int = 1 << 20, compression: str = "ZSTD",
           chunking: bool = True) -> List[np.ndarray]:
    """`n` rgb8 frames on /c written with mcap's Writer (as rosbag2 does: chunked zstd by default, or
    uncompressed, or unchunked like its `fastwrite` preset); returns their pixels."""
    encode = serialize_dynamic("sensor_msgs/msg/Image", IMAGE_DEF)["sensor_msgs/msg/Image"]
    frames = [_rgb(k) for k in range(n)]
    with open(path, "wb") as fh:
        w = mcap_writer.Writer(fh, chunk_size=chunk_size, compression=CompressionType[compression],
                               use_chunking=chunking)
        w.start(profile="ros2", library="test")
        sid = w.register_schema("sensor_msgs/msg/Image", "ros2msg", IMAGE_DEF.encode())
        cid = w.register_channel("/c", "cdr", sid)
        for k, rgb in enumerate(frames):
            t = T0 + k * STEP
            w.add_message(cid, log_time=t, data=encode(_image(t, rgb, "rgb8")), publish_time=t)
        w.finish()
    return frames


def _records(data: bytes) -> List[Tuple[int, int, int]]:
    """(offset, opcode, end offset) of every record of a complete MCAP file, from the record headers alone."""
    out, pos = [], 8
    while pos < len(data) - 8:
        op, length = data[pos], struct.unpack_from("<Q", data, pos + 1)[0]
        out.append((pos, op, pos + 9 + length))
        pos += 9 + length
    return out


def _cli(capsys, *args) -> Tuple[int, str, str]:
    rc = main(["from-bag", *map(str, args)])
    got = capsys.readouterr()
    return rc, got.out, got.err


def _imported(out: Path) -> Tuple[List[np.ndarray], List[int]]:
    samples = sorted(load_dataset(out), key=lambda s: s.extra["stamp_ns"])
    return [cv2.imread(str(out / s.image))[:, :, ::-1] for s in samples], [s.extra["stamp_ns"] for s in samples]


def _assert_imported(out: Path, frames: List[np.ndarray], ks: List[int]) -> None:
    got, stamps = _imported(out)
    assert stamps == [T0 + k * STEP for k in ks]
    for k, img in zip(ks, got):
        assert np.array_equal(img, frames[k]), k
    assert check_dataset(out).ok


def _truncation_line(err: str, path: Path, frames_read: int) -> None:
    lines = [ln for ln in err.splitlines() if "truncated" in ln]
    assert len(lines) == 1, err
    assert str(path) in lines[0] and re.search(rf"\b{frames_read} colour frame", lines[0]), lines[0]


# ---------------------------------------------------------------- truncation: the frames before the cut
def test_uncompressed_bag_cut_anywhere_keeps_exactly_the_messages_before_the_cut(tmp_path: Path, capsys):
    """One uncompressed chunk (rosbag2 with compression off): a frame is readable iff its whole message lies
    before the cut, i.e. iff its pixel bytes (the message's last field) end before it."""
    bag = tmp_path / "full.mcap"
    frames = _write(bag, compression="NONE")
    data = bag.read_bytes()
    ends = [data.find(f.tobytes()) + f.nbytes for f in frames]
    assert all(e > 0 for e in ends) and ends == sorted(ends)
    data_end = next(pos for pos, op, _ in _records(data) if op == DATA_END)
    cuts = [ends[2] - 1, ends[2], ends[5] + 3, ends[N - 1] - 70, ends[N - 1] + 1, data_end, len(data) - 20]
    for i, cut in enumerate(cuts):
        path = tmp_path / f"cut{i}.mcap"
        path.write_bytes(data[:cut])
        want = [k for k in range(N) if ends[k] <= cut]
        rc, out, err = _cli(capsys, path, "--image-topic", "/c", "--out", tmp_path / f"o{i}")
        assert rc == 0, (cut, err)
        _assert_imported(tmp_path / f"o{i}", frames, want)
        _truncation_line(err, path, len(want))
        assert f"wrote {len(want)} samples" in out


@pytest.mark.parametrize("compression", ["ZSTD", "LZ4"])
def test_compressed_bag_cut_mid_chunk_keeps_every_complete_chunk(tmp_path: Path, capsys, compression: str):
    """Small compressed chunks, one frame each (checked from the record headers). Cut inside chunk k, inside
    the message index after it, exactly at a chunk boundary, before DataEnd, inside the summary, without
    footer: every frame of a complete chunk is imported; from the cut chunk, at most its frame (zstd and lz4
    decode as streams)."""
    bag = tmp_path / "full.mcap"
    frames = _write(bag, chunk_size=100, compression=compression)
    data = bag.read_bytes()
    recs = _records(data)
    chunks = [(pos, end) for pos, op, end in recs if op == CHUNK]
    assert len(chunks) == N
    data_end = next(pos for pos, op, _ in recs if op == DATA_END)
    footer = next(pos for pos, op, _ in recs if op == FOOTER)
    cuts = [(chunks[3][0] + 40, 3), ((chunks[3][0] + chunks[3][1]) // 2, 3), (chunks[3][1] - 1, 3),
            (chunks[3][1], 4), (chunks[3][1] + 5, 4), (data_end, N), (data_end + 30, N), (footer, N)]
    for i, (cut, complete) in enumerate(cuts):
        path = tmp_path / f"cut{i}.mcap"
        path.write_bytes(data[:cut])
        rc, out, err = _cli(capsys, path, "--image-topic", "/c", "--out", tmp_path / f"o{i}")
        assert rc == 0, (cut, err)
        _, stamps = _imported(tmp_path / f"o{i}")
        got = len(stamps)
        assert complete <= got <= min(complete + 1, N), (cut, got)
        _assert_imported(tmp_path / f"o{i}", frames, list(range(got)))
        _truncation_line(err, path, got)


def test_unchunked_bag_cut_mid_message(tmp_path: Path, capsys):
    """rosbag2's `fastwrite` preset writes messages without chunks: a cut inside frame 6 keeps frames 0-5."""
    bag = tmp_path / "full.mcap"
    frames = _write(bag, chunking=False)
    data = bag.read_bytes()
    start6 = data.find(frames[6].tobytes())
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: start6 + 50])
    rc, _, err = _cli(capsys, cut, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 0, err
    _assert_imported(tmp_path / "o", frames, list(range(6)))
    _truncation_line(err, cut, 6)


@pytest.mark.parametrize("where", ["magic-only", "mid-header", "after-header", "mid-first-chunk"])
def test_a_bag_cut_before_its_first_frame_fails_clearly_and_writes_nothing(tmp_path: Path, capsys, where: str):
    bag = tmp_path / "full.mcap"
    _write(bag, chunk_size=100)
    data = bag.read_bytes()
    recs = _records(data)
    first_chunk = next(pos for pos, op, _ in recs if op == CHUNK)
    cut = {"magic-only": 8, "mid-header": 30, "after-header": recs[0][2], "mid-first-chunk": first_chunk + 60}[where]
    path = tmp_path / "cut.mcap"
    path.write_bytes(data[:cut])
    rc, out, err = _cli(capsys, path, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and "Traceback" not in err
    assert "truncated" in err and str(path) in err and "/c" in err, err
    assert not (tmp_path / "o").exists()


def test_a_split_recording_whose_last_file_was_cut(tmp_path: Path, capsys):
    """`ros2 bag record` killed during its second split: rec_0 is complete, rec_1 is cut inside frame 4."""
    folder = tmp_path / "rec"
    folder.mkdir()
    b = _Bag(folder / "rec_0.mcap")
    for k in range(3):
        b.write("/c", "img", _image(T0 + k * STEP, _rgb(k), "rgb8"), T0 + k * STEP)
    b.close()
    full = tmp_path / "rec_1_full.mcap"
    fh = open(full, "wb")
    from mcap_ros2.writer import Writer as Ros2Writer

    w = Ros2Writer(fh, chunk_size=100, compression=CompressionType.NONE)
    sid = w.register_msgdef("sensor_msgs/msg/Image", IMAGE_DEF)
    for k in range(3, 6):
        w.write_message("/c", sid, _image(T0 + k * STEP, _rgb(k), "rgb8"), T0 + k * STEP, T0 + k * STEP)
    w.finish()
    fh.close()
    data = full.read_bytes()
    (folder / "rec_1.mcap").write_bytes(data[: data.find(_rgb(4).tobytes()) + 10])
    rc, out, err = _cli(capsys, folder, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 0, err
    _assert_imported(tmp_path / "o", [_rgb(k) for k in range(6)], [0, 1, 2, 3])
    _truncation_line(err, folder / "rec_1.mcap", 1)


def test_a_truncated_bag_with_a_wrong_topic_type_is_a_message_not_a_traceback(tmp_path: Path, capsys):
    """A cut bag has no summary to check topic types against: --info-topic naming an Image topic used to be
    decoded as CameraInfo (an AttributeError traceback once truncated bags are read)."""
    bag = tmp_path / "full.mcap"
    b = _Bag(bag)
    for k in range(4):
        t = T0 + k * STEP
        b.write("/c", "img", _image(t, _rgb(k), "rgb8"), t)
        b.write("/d", "img", _image(t, np.full((6, 8), 500, np.uint16), "16UC1"), t)
    b.close()
    data = bag.read_bytes()
    cut = tmp_path / "cut.mcap"
    cut.write_bytes(data[: next(pos for pos, op, _ in _records(data) if op == DATA_END)])
    rc, _, err = _cli(capsys, cut, "--image-topic", "/c", "--info-topic", "/d", "--out", tmp_path / "o")
    assert rc == 1 and "'/d' has type sensor_msgs/msg/Image, expected sensor_msgs/msg/CameraInfo" in err, err
    assert not (tmp_path / "o").exists()


def test_a_corrupted_chunk_in_a_complete_bag_is_still_refused(tmp_path: Path, capsys):
    """Truncation is not corruption: a complete file (footer present) with a chunk whose CRC fails is still
    refused whole, as before (wrong pixels must never be imported)."""
    bag = tmp_path / "full.mcap"
    _write(bag, chunk_size=100, compression="NONE")
    data = bytearray(bag.read_bytes())
    pos = data.find(_rgb(5).tobytes())
    data[pos: pos + 8] = b"\x00" * 8
    bad = tmp_path / "bad.mcap"
    bad.write_bytes(bytes(data))
    rc, _, err = _cli(capsys, bad, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and "corrupted" in err and not (tmp_path / "o").exists()
    cut = tmp_path / "badcut.mcap"   # the same damage in a cut file: still corruption, not truncation
    cut.write_bytes(bytes(data[: data.find(_rgb(8).tobytes())]))
    rc, _, err = _cli(capsys, cut, "--image-topic", "/c", "--out", tmp_path / "o2")
    assert rc == 1 and "corrupted" in err and not (tmp_path / "o2").exists()


# ---------------------------------------------------------------- one damaged frame among good ones
def test_frames_with_a_wrong_data_length_are_skipped_and_counted(tmp_path: Path, capsys):
    """Frame 1: data 10 bytes short of height*step; frame 3: one row more than height*step (a wrong height
    field: importing its first rows would be a silently cropped image); frame 4: depth 2 bytes short."""
    bag = tmp_path / "b.mcap"
    b = _Bag(bag)
    for k in range(6):
        t = T0 + k * STEP
        msg = _image(t, _rgb(k), "rgb8")
        if k == 1:
            msg["data"] = msg["data"][:-10]
        if k == 3:
            msg["data"] = msg["data"] + bytes(msg["step"])
        b.write("/c", "img", msg, t)
        depth = _image(t, np.full((6, 8), 400 + k, np.uint16), "16UC1")
        if k == 4:
            depth["data"] = depth["data"][:-2]
        b.write("/d", "img", depth, t)
    b.close()
    rc, out, err = _cli(capsys, bag, "--image-topic", "/c", "--depth-topic", "/d", "--out", tmp_path / "o")
    assert rc == 0, err
    _assert_imported(tmp_path / "o", [_rgb(k) for k in range(6)], [0, 2, 5])
    for s in load_dataset(tmp_path / "o"):
        k = (s.extra["stamp_ns"] - T0) // STEP
        assert np.all(cv2.imread(str(tmp_path / "o" / s.depth), cv2.IMREAD_UNCHANGED) == 400 + k)
    assert "Traceback" not in err
    assert re.search(r"skipped 3 undecodable", out), out
    assert "70.100000000" in out + err and "data length" in out + err


def _jpeg(k: int) -> bytes:
    ok, j = cv2.imencode(".jpg", _rgb(k)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])
    assert ok
    return j.tobytes()


def test_a_corrupt_or_cut_jpeg_frame_is_skipped_and_the_others_imported(tmp_path: Path, capsys):
    bag = tmp_path / "b.mcap"
    b = _Bag(bag)
    for k in range(5):
        t = T0 + k * STEP
        j = _jpeg(k)
        if k == 1:
            j = j[: len(j) // 2]                 # cut mid-scan
        if k == 3:
            j = b"\x00" * 16 + j[16:]            # header overwritten
        b.write("/c", "comp", _compressed(t, j, "jpeg"), t)
    b.close()
    rc, out, err = _cli(capsys, bag, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 0, err
    got, stamps = _imported(tmp_path / "o")
    assert stamps == [T0 + k * STEP for k in (0, 2, 4)]
    for k, img in zip((0, 2, 4), got):   # the decoder's own output for the intact JPEG, not an approximation
        want = cv2.imdecode(np.frombuffer(_jpeg(k), np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert np.array_equal(img, want)
    assert "skipped 2 undecodable" in out and "cannot decode compressed image" in out + err


def test_a_malformed_cdr_message_is_skipped(tmp_path: Path, capsys):
    """Frame 2's CDR ends early (its header intact): mcap_ros2 cannot decode it; it used to make the whole bag
    'truncated or corrupted'. Frame 1 is 8 bytes, too short for a header: it used to stop the run."""
    encode = serialize_dynamic("sensor_msgs/msg/Image", IMAGE_DEF)["sensor_msgs/msg/Image"]
    bag = tmp_path / "b.mcap"
    with open(bag, "wb") as fh:
        w = mcap_writer.Writer(fh)
        w.start(profile="ros2", library="test")
        cid = w.register_channel("/c", "cdr", w.register_schema("sensor_msgs/msg/Image", "ros2msg",
                                                                IMAGE_DEF.encode()))
        for k in range(4):
            t = T0 + k * STEP
            cdr = encode(_image(t, _rgb(k), "rgb8"))
            w.add_message(cid, log_time=t, publish_time=t, data={1: cdr[:8], 2: cdr[:40]}.get(k, cdr))
        w.finish()
    rc, out, err = _cli(capsys, bag, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 0, err
    _assert_imported(tmp_path / "o", [_rgb(k) for k in range(4)], [0, 3])
    assert "colour frames 4" in out and "skipped 2 undecodable" in out and "70.200000000" in out + err
    assert "too short to hold a header" in out


def test_no_decodable_frame_fails_with_the_reason_and_writes_nothing(tmp_path: Path, capsys):
    bag = tmp_path / "b.mcap"
    b = _Bag(bag)
    for k in range(3):
        t = T0 + k * STEP
        b.write("/c", "comp", _compressed(t, b"not a jpeg at all", "jpeg"), t)
    b.close()
    rc, out, err = _cli(capsys, bag, "--image-topic", "/c", "--out", tmp_path / "o")
    assert rc == 1 and "Traceback" not in err
    assert "no usable frame" in err and "3" in err and "cannot decode compressed image" in err, err
    assert not (tmp_path / "o").exists()


def test_camera_info_topic_damaged_for_one_frame(tmp_path: Path, capsys):
    """One camera_info whose CDR is cut (malformed): only the frame it pairs with is skipped."""
    enc_img = serialize_dynamic("sensor_msgs/msg/Image", IMAGE_DEF)["sensor_msgs/msg/Image"]
    enc_info = serialize_dynamic("sensor_msgs/msg/CameraInfo", CAMERA_INFO_DEF)["sensor_msgs/msg/CameraInfo"]
    from test_adv_data_bag import _info

    bag = tmp_path / "b.mcap"
    with open(bag, "wb") as fh:
        w = mcap_writer.Writer(fh)
        w.start(profile="ros2", library="test")
        ci = w.register_channel("/c", "cdr", w.register_schema("sensor_msgs/msg/Image", "ros2msg",
                                                               IMAGE_DEF.encode()))
        ii = w.register_channel("/i", "cdr", w.register_schema("sensor_msgs/msg/CameraInfo", "ros2msg",
                                                               CAMERA_INFO_DEF.encode()))
        for k in range(3):
            t = T0 + k * STEP
            w.add_message(ci, log_time=t, publish_time=t, data=enc_img(_image(t, _rgb(k), "rgb8")))
            info = enc_info(_info(t, 8, 6, 300.0))
            w.add_message(ii, log_time=t, publish_time=t, data=info[:60] if k == 0 else info)
        w.finish()
    rc, out, err = _cli(capsys, bag, "--image-topic", "/c", "--info-topic", "/i", "--out", tmp_path / "o")
    assert rc == 0, err
    _assert_imported(tmp_path / "o", [_rgb(k) for k in range(3)], [1, 2])
    assert "skipped 1 undecodable" in out and "/i" in out + err
