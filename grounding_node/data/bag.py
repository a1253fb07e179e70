"""rosbag2 MCAP recordings -> dataset samples (colour PNG, 16-bit depth PNG in mm, camera_info YAML).

Read with the `mcap` and `mcap-ros2-support` libraries, which decode ROS 2 messages from the schemas the bag
embeds, so no ROS install is needed. Frames are paired by *header stamp* (the capture time), not by the
time the recorder logged them: colour and depth of one exposure carry the same or nearly the same stamp,
while their log times differ by transport delays. Each colour frame takes the nearest depth and camera_info
within `slop` seconds; frames with no partner are dropped and counted.

Two passes keep memory flat on long bags: the first reads only the stamps (straight from the CDR bytes,
without decoding images), the second decodes just the messages of the frames that are kept.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.data.format import ANNOTATIONS
from grounding_node.data.writer import depth_to_mm, write_sample

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"

# encoding -> (channels, numpy dtype)
_ENCODINGS = {
    "rgb8": (3, "u1"), "bgr8": (3, "u1"), "rgba8": (4, "u1"), "bgra8": (4, "u1"), "mono8": (1, "u1"),
    "8uc1": (1, "u1"), "8uc3": (3, "u1"), "16uc1": (1, "u2"), "mono16": (1, "u2"), "32fc1": (1, "f4"),
}
COLOUR_ENCODINGS = ("rgb8", "bgr8", "rgba8", "bgra8", "mono8")
DEPTH_ENCODINGS = ("16UC1", "32FC1")


class BagError(Exception):
    """A bag that cannot become samples (missing topic, wrong type, unsupported encoding)."""


@dataclass
class BagReport:
    """Counts of what happened to every colour frame, so nothing is dropped unseen."""

    colour_frames: int = 0
    depth_frames: int = 0
    info_messages: int = 0
    duplicate_stamps: int = 0
    no_depth: int = 0
    no_info: int = 0
    paired: int = 0
    skipped_by_every: int = 0
    written: List[Path] = field(default_factory=list)

    def to_text(self) -> str:
        dropped = self.no_depth + self.no_info
        return (f"colour frames {self.colour_frames}, depth frames {self.depth_frames}, camera_info "
                f"{self.info_messages}; paired {self.paired}, dropped {dropped} unpaired (no depth within slop: "
                f"{self.no_depth}, no camera_info within slop: {self.no_info}), {self.duplicate_stamps} repeated "
                f"stamps; skipped {self.skipped_by_every} by --every; wrote {len(self.written)} samples")


def header_stamp_ns(cdr: bytes) -> int:
    """The `header.stamp` of a CDR-encoded message whose first field is a std_msgs/Header (Image,
    CompressedImage and CameraInfo all are): 4 bytes of encapsulation, then int32 sec and uint32 nanosec."""
    if len(cdr) < 12:
        raise BagError("message too short to hold a header")
    endian = "<" if cdr[1] & 1 else ">"
    sec, nsec = struct.unpack_from(endian + "iI", cdr, 4)
    return sec * 1_000_000_000 + nsec


def image_to_numpy(msg: Any) -> Tuple[np.ndarray, str]:
    """A decoded sensor_msgs/Image -> (HxW or HxWxC array, lower-case encoding); honours `step` padding and
    `is_bigendian`."""
    enc = str(msg.encoding).lower()
    if enc not in _ENCODINGS:
        raise BagError(f"unsupported image encoding {msg.encoding!r} (supported colour: "
                       f"{', '.join(COLOUR_ENCODINGS)}; depth: {', '.join(DEPTH_ENCODINGS)})")
    ch, kind = _ENCODINGS[enc]
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    item = np.dtype(kind).itemsize
    row = w * ch * item
    buf = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if step < row or buf.size < h * step - (step - row):
        raise BagError(f"image data too short: {buf.size} bytes for {w}x{h} {msg.encoding} with step {step}")
    if buf.size < h * step:  # some drivers leave the last row's padding out
        buf = np.concatenate([buf, np.zeros(h * step - buf.size, np.uint8)])
    rows = buf[: h * step].reshape(h, step)[:, :row]
    dtype = np.dtype(kind).newbyteorder(">" if msg.is_bigendian else "<") if item > 1 else np.dtype(kind)
    arr = np.ascontiguousarray(rows).view(dtype).reshape(h, w, ch).astype(np.dtype(kind).newbyteorder("="))
    return (arr[:, :, 0] if ch == 1 else arr), enc


def colour_to_rgb(msg: Any, schema: str) -> np.ndarray:
    """Image or CompressedImage -> HxWx3 RGB uint8 (or HxW grey for mono8, kept single-channel: lossless)."""
    if schema == COMPRESSED:
        import cv2

        img = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise BagError(f"cannot decode compressed image (format {msg.format!r})")
        if img.ndim == 3:
            img = img[:, :, :3][:, :, ::-1]
        return np.ascontiguousarray(img)
    arr, enc = image_to_numpy(msg)
    if enc in ("rgb8", "8uc3"):
        return arr
    if enc == "bgr8":
        return np.ascontiguousarray(arr[:, :, ::-1])
    if enc == "rgba8":
        return np.ascontiguousarray(arr[:, :, :3])
    if enc == "bgra8":
        return np.ascontiguousarray(arr[:, :, 2::-1])
    if enc in ("mono8", "8uc1"):
        return arr
    raise BagError(f"colour topic has encoding {msg.encoding!r}; expected one of {', '.join(COLOUR_ENCODINGS)}")


def depth_msg_to_mm(msg: Any) -> np.ndarray:
    arr, enc = image_to_numpy(msg)
    if enc in ("16uc1", "mono16"):
        return arr
    if enc == "32fc1":
        return depth_to_mm(arr)
    raise BagError(f"depth topic has encoding {msg.encoding!r}; expected 16UC1 (mm) or 32FC1 (m)")


def camera_info_to_dict(msg: Any) -> Dict[str, Any]:
    return {"width": int(msg.width), "height": int(msg.height), "k": list(msg.k), "d": list(msg.d),
            "r": list(msg.r), "p": list(msg.p), "distortion_model": msg.distortion_model or "plumb_bob"}


def _nearest(stamps: Sequence[int], t: int, slop_ns: int) -> Optional[int]:
    """Index of the stamp nearest to `t` within `slop_ns`, or None (`stamps` sorted)."""
    i = bisect.bisect_left(stamps, t)
    best = None
    for j in (i - 1, i):
        if 0 <= j < len(stamps) and abs(stamps[j] - t) <= slop_ns:
            if best is None or abs(stamps[j] - t) < abs(stamps[best] - t):
                best = j
    return best


def _open_reader(fh: Any, decoders: bool = False) -> Any:
    from mcap.reader import make_reader

    if decoders:
        from mcap_ros2.decoder import DecoderFactory

        return make_reader(fh, decoder_factories=[DecoderFactory()])
    return make_reader(fh)


def bag_to_dataset(bag: Path | str, out_dir: Path | str, image_topic: str, depth_topic: Optional[str] = None,
                   info_topic: Optional[str] = None, every: int = 1, slop: float = 0.02,
                   append: bool = False) -> BagReport:
    """Turn an MCAP bag into samples under `out_dir` with empty groundings (frames to annotate).

    `every` keeps every N-th *paired* frame (so N counts frames that can become samples); `slop` is the
    largest stamp difference in seconds for colour/depth/camera_info to count as one frame. Refuses to add
    to an existing dataset unless `append`, so a second run cannot double every frame."""
    bag, out = Path(bag), Path(out_dir)
    if every < 1:
        raise ValueError("every must be >= 1")
    if (out / ANNOTATIONS).exists() and not append:
        raise BagError(f"{out / ANNOTATIONS} exists (pass --append to add to it)")
    slop_ns = int(round(slop * 1e9))
    roles = {"colour": image_topic}
    if depth_topic:
        roles["depth"] = depth_topic
    if info_topic:
        roles["info"] = info_topic
    topic_role = {t: r for r, t in roles.items()}
    if len(topic_role) != len(roles):
        raise BagError("image, depth and info topics must differ")
    expected = {"colour": (IMAGE, COMPRESSED), "depth": (IMAGE,), "info": (CAMERA_INFO,)}

    # Pass 1: stamps only.
    stamps: Dict[str, List[Tuple[int, int]]] = {r: [] for r in roles}
    with open(bag, "rb") as fh:
        reader = _open_reader(fh)
        summary = reader.get_summary()
        if summary is not None:
            found = {c.topic: summary.schemas.get(c.schema_id) for c in summary.channels.values()}
            for role, topic in roles.items():
                if topic not in found:
                    raise BagError(f"topic {topic!r} not in {bag} (topics: {', '.join(sorted(found)) or 'none'})")
                sch = found[topic]
                if sch is not None and sch.name not in expected[role]:
                    raise BagError(f"topic {topic!r} has type {sch.name}, expected {' or '.join(expected[role])}")
        counters = {r: 0 for r in roles}
        for _schema, channel, message in reader.iter_messages(topics=list(topic_role), log_time_order=True):
            role = topic_role[channel.topic]
            if channel.message_encoding != "cdr":
                raise BagError(f"topic {channel.topic!r} is encoded as {channel.message_encoding!r}, not cdr")
            stamps[role].append((header_stamp_ns(message.data), counters[role]))
            counters[role] += 1

    report = BagReport(colour_frames=len(stamps["colour"]), depth_frames=len(stamps.get("depth", [])),
                       info_messages=len(stamps.get("info", [])))
    partners: Dict[str, Tuple[List[int], List[int]]] = {}
    for role in ("depth", "info"):
        if role in roles:
            srt = sorted(stamps[role])
            partners[role] = ([s for s, _ in srt], [i for _, i in srt])

    # Pairing: frame = (stamp, colour index, depth index, info index).
    frames: List[Tuple[int, int, Optional[int], Optional[int]]] = []
    seen_stamps = set()
    for t, ci in sorted(stamps["colour"]):
        if t in seen_stamps:
            report.duplicate_stamps += 1
            continue
        seen_stamps.add(t)
        idx: Dict[str, Optional[int]] = {"depth": None, "info": None}
        missing = False
        for role in ("depth", "info"):
            if role not in partners:
                continue
            j = _nearest(partners[role][0], t, slop_ns)
            if j is None:
                if role == "depth":
                    report.no_depth += 1
                else:
                    report.no_info += 1
                missing = True
                break
            idx[role] = partners[role][1][j]
        if not missing:
            frames.append((t, ci, idx["depth"], idx["info"]))
    report.paired = len(frames)
    kept = frames[::every]
    report.skipped_by_every = len(frames) - len(kept)

    # Pass 2: decode only what the kept frames need, write each frame once all its parts have arrived.
    need: Dict[Tuple[str, int], List[int]] = {}
    for f, (_, ci, di, ii) in enumerate(kept):
        need.setdefault(("colour", ci), []).append(f)
        if di is not None:
            need.setdefault(("depth", di), []).append(f)
        if ii is not None:
            need.setdefault(("info", ii), []).append(f)
    parts_needed = 1 + ("depth" in roles) + ("info" in roles)
    pending: Dict[int, Dict[str, Any]] = {}
    written: Dict[int, Path] = {}
    with open(bag, "rb") as fh:
        reader = _open_reader(fh, decoders=True)
        counters = {r: 0 for r in roles}
        for schema, channel, _message, ros_msg in reader.iter_decoded_messages(topics=list(topic_role),
                                                                              log_time_order=True):
            role = topic_role[channel.topic]
            key = (role, counters[role])
            counters[role] += 1
            if key not in need:
                continue
            if role == "colour":
                value: Any = colour_to_rgb(ros_msg, schema.name if schema else IMAGE)
                frame_id = str(ros_msg.header.frame_id)
            elif role == "depth":
                value = depth_msg_to_mm(ros_msg)
                frame_id = None
            else:
                value = camera_info_to_dict(ros_msg)
                frame_id = None
            for f in need.pop(key):
                parts = pending.setdefault(f, {})
                parts[role] = value
                if frame_id is not None:
                    parts["frame_id"] = frame_id
                if sum(r in parts for r in ("colour", "depth", "info")) == parts_needed:
                    t = kept[f][0]
                    written[f] = write_sample(
                        out, parts["colour"], depth=parts.get("depth"), camera_info=parts.get("info"),
                        name=f"{t // 1_000_000_000}_{t % 1_000_000_000:09d}",
                        extra={"stamp_ns": t, "frame_id": parts.get("frame_id", ""), "source": bag.name})
                    del pending[f]
    report.written = [written[f] for f in sorted(written)]
    return report


__all__ = ["BagError", "BagReport", "bag_to_dataset", "camera_info_to_dict", "colour_to_rgb", "depth_msg_to_mm",
           "header_stamp_ns", "image_to_numpy"]
