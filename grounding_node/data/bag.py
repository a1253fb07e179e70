"""rosbag2 MCAP recordings -> dataset samples (colour PNG, 16-bit depth PNG in mm, camera_info YAML).

Read with the `mcap` and `mcap-ros2-support` libraries, which decode ROS 2 messages from the schemas the bag
embeds, so no ROS install is needed. Frames are paired by *header stamp* (the capture time), not by the
time the recorder logged them: colour and depth of one exposure carry the same or nearly the same stamp,
while their log times differ by transport delays. Each colour frame takes the nearest depth and camera_info
within `slop` seconds; frames with no partner are dropped and counted.

Two passes keep memory flat on long bags: the first reads only the stamps (straight from the CDR bytes,
without decoding images), the second decodes just the messages of the frames that are kept.

A run writes all its samples or none: a bag that turns out to be corrupted, or a frame that cannot become a
valid sample (an encoding that changes mid-bag, depth of another view, an unusable camera_info), stops it
with a `BagError` naming the bag, the topic and the frame, and what the run had written is removed again.
"""

from __future__ import annotations

import bisect
import math
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.data.format import ANNOTATIONS, CAMERA_INFO_DIR, DEPTH_DIR, IMAGES_DIR
from grounding_node.data.writer import depth_to_mm, write_sample
from grounding_node.image_encodings import (
    COLOR_ENCODINGS,
    ImageConversionError,
    canonical_encoding,
    image_to_array,
    to_rgb8,
)

IMAGE = "sensor_msgs/msg/Image"
COMPRESSED = "sensor_msgs/msg/CompressedImage"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"

# The encodings are the node's (grounding_node.image_encodings, shared so that a camera the node reads live can
# be recorded and imported, with the same colours). Not colour here: mono16, which the node only shows scaled
# per frame for display; a dataset of such frames would not be the camera's pixels.
COLOUR_ENCODINGS = tuple(e for e in COLOR_ENCODINGS if e != "mono16")
DEPTH_ENCODINGS = ("16UC1", "32FC1")
_GREY = ("mono8", "8UC1")  # kept single-channel: lossless
MCAP_MAGIC = b"\x89MCAP0\r\n"


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
                f"stamps; skipped {self.skipped_by_every} by --every; wrote {len(self.written)} samples"
                + ("\nnote: colour frames that repeat a header.stamp are kept once; a driver that leaves "
                   "header.stamp at 0 or does not update it makes most frames repeats" if self.duplicate_stamps
                   else ""))


def header_stamp_ns(cdr: bytes) -> int:
    """The `header.stamp` of a CDR-encoded message whose first field is a std_msgs/Header (Image,
    CompressedImage and CameraInfo all are): 4 bytes of encapsulation, then int32 sec and uint32 nanosec."""
    if len(cdr) < 12:
        raise BagError("message too short to hold a header")
    endian = "<" if cdr[1] & 1 else ">"
    sec, nsec = struct.unpack_from(endian + "iI", cdr, 4)
    return sec * 1_000_000_000 + nsec


def _read_image(msg: Any) -> Tuple[np.ndarray, str]:
    """(pixels, the encoding as the shared table spells it); the encoding is compared without case."""
    enc = canonical_encoding(msg.encoding)
    if enc is None:
        raise BagError(f"unsupported image encoding {msg.encoding!r} (supported colour: "
                       f"{', '.join(COLOUR_ENCODINGS)}; depth: {', '.join(DEPTH_ENCODINGS)})")
    try:
        # Offline, so copy: contiguous, native byte order, writable, independent of the decoded message.
        return np.array(image_to_array(msg, encoding=enc, short_last_row_ok=True), order="C"), enc
    except ImageConversionError as e:
        raise BagError(str(e)) from None


def image_to_numpy(msg: Any) -> Tuple[np.ndarray, str]:
    """A decoded sensor_msgs/Image -> (HxW or HxWxC array, lower-case encoding); honours `step` padding and
    `is_bigendian`, and accepts a last row without its padding (some drivers leave it out)."""
    arr, enc = _read_image(msg)
    return arr, enc.lower()


def colour_to_rgb(msg: Any, schema: str) -> np.ndarray:
    """Image or CompressedImage -> HxWx3 RGB uint8 (or HxW grey for mono8/8UC1, kept single-channel: lossless).
    Raw driver encodings (YUV 4:2:2, Bayer) and untyped 8UC3/8UC4 are read as the node reads them live."""
    if schema == COMPRESSED:
        import cv2

        if "compresseddepth" in str(msg.format).lower():
            raise BagError(f"colour topic holds compressed depth (format {msg.format!r}); pass it as --depth-topic")
        img = cv2.imdecode(np.frombuffer(bytes(msg.data), np.uint8), cv2.IMREAD_UNCHANGED)
        if img is None or img.size == 0:
            raise BagError(f"cannot decode compressed image (format {msg.format!r})")
        if img.dtype != np.uint8:  # a 16-bit PNG: depth or IR, which as "colour" would be written wrong or not at all
            raise BagError(f"compressed image (format {msg.format!r}) is {img.dtype}, not 8-bit colour: is this a "
                           "depth topic?")
        if img.ndim == 3:
            img = img[:, :, :3][:, :, ::-1]
        return np.ascontiguousarray(img)
    arr, enc = _read_image(msg)
    if enc not in COLOUR_ENCODINGS:
        raise BagError(f"colour topic has encoding {msg.encoding!r}; expected one of {', '.join(COLOUR_ENCODINGS)}")
    if enc in _GREY:
        return arr
    return to_rgb8(arr, enc)


def compressed_depth_to_mm(msg: Any) -> np.ndarray:
    """A depth sensor_msgs/CompressedImage -> HxW uint16 millimetres.

    compressed_depth_image_transport's format is `"<encoding>; compressedDepth png"`: a 12-byte header
    (int32 format, float32 depthQuantA, depthQuantB) then a 16-bit PNG. For 16UC1 the PNG holds the
    millimetres; for 32FC1 it holds quantised inverse depth, `d = depthQuantA / (v - depthQuantB)` metres,
    0 = no reading. A plain 16-bit PNG (image_transport's png format of a 16UC1 image) is millimetres too."""
    import cv2

    fmt = str(msg.format)
    data = bytes(msg.data)
    header: Optional[Tuple[int, float, float]] = None
    if "compresseddepth" in fmt.lower():
        if "rvl" in fmt.lower():
            raise BagError(f"compressed depth format {fmt!r} (RVL) is not supported; record it as png")
        if len(data) < 12:
            raise BagError(f"compressed depth (format {fmt!r}) is too short to hold its 12-byte header")
        header, data = struct.unpack("<iff", data[:12]), data[12:]
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise BagError(f"cannot decode compressed depth (format {fmt!r})")
    if img.ndim != 2 or img.dtype != np.uint16:
        raise BagError(f"compressed depth (format {fmt!r}) decodes to {img.dtype} with "
                       f"{1 if img.ndim == 2 else img.shape[2]} channel(s), not a 16-bit single-channel image")
    encoding = fmt.split(";", 1)[0].strip().lower()
    if header is not None and encoding == "32fc1":
        _, quant_a, quant_b = header
        v = img.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            metres = np.where(img > 0, quant_a / (v - quant_b), np.nan)
        return depth_to_mm(metres)
    if encoding not in ("16uc1", "mono16", ""):
        raise BagError(f"compressed depth format {fmt!r}: expected 16UC1 (mm) or 32FC1 (m)")
    return img


def depth_msg_to_mm(msg: Any, schema: str = IMAGE) -> np.ndarray:
    """A depth Image (16UC1 mm, 32FC1 m) or CompressedImage -> HxW uint16 millimetres (0 = no reading)."""
    if schema == COMPRESSED:
        return compressed_depth_to_mm(msg)
    arr, enc = image_to_numpy(msg)
    if enc in ("16uc1", "mono16"):
        return arr
    if enc == "32fc1":
        return depth_to_mm(arr)
    raise BagError(f"depth topic has encoding {msg.encoding!r}; expected 16UC1 (mm) or 32FC1 (m)")


def camera_info_to_dict(msg: Any) -> Dict[str, Any]:
    """A decoded CameraInfo as the mapping `write_sample` takes (the message's own field names)."""
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


def _split_index(path: Path) -> Tuple[int, str]:
    """rosbag2 splits a recording into `<name>_0.mcap`, `<name>_1.mcap`, ...: order by that index, numerically
    (so `_10` comes after `_9`)."""
    m = re.search(r"_(\d+)\.mcap$", path.name)
    return (int(m.group(1)) if m else -1, path.name)


def bag_files(bag: Path | str) -> List[Path]:
    """The MCAP files of `bag`: the file itself, or the `.mcap` files of a rosbag2 folder (what `ros2 bag
    record` writes: a folder with metadata.yaml and one file per split) in recording order. Anything that is
    not MCAP is a `BagError` saying what it is, before any file is opened for writing."""
    bag = Path(bag)
    if bag.is_dir():
        files = sorted(bag.glob("*.mcap"), key=_split_index)
        if not files:
            db3 = sorted(bag.glob("*.db3"))
            hint = (f" (it holds the SQLite bag {db3[0].name}: convert it with `ros2 bag convert`)" if db3 else "")
            raise BagError(f"{bag}: no .mcap file in this folder{hint}")
    elif bag.is_file():
        files = [bag]
    else:
        raise BagError(f"{bag}: not found")
    for f in files:
        try:
            with open(f, "rb") as fh:
                head = fh.read(len(MCAP_MAGIC))
        except OSError as e:
            raise BagError(f"{f}: cannot be read ({e.strerror or e})") from None
        if head != MCAP_MAGIC:
            sqlite = head.startswith(b"SQLite")
            what = " (a rosbag2 SQLite .db3 bag: convert it with `ros2 bag convert`)" if sqlite else ""
            raise BagError(f"{f}: not an MCAP file{what}")
    return files


def _corrupted(path: Path, exc: BaseException) -> BagError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return BagError(f"{path}: cannot be read, the file is truncated or corrupted ({type(exc).__name__}"
                    f"{': ' + text if text else ''}); `mcap recover` can often rescue what it holds")


def _summary_topics(files: Sequence[Path]) -> Optional[Dict[str, Optional[str]]]:
    """topic -> schema name over all files, from their summaries (None when a file has none)."""
    from mcap.reader import make_reader

    found: Dict[str, Optional[str]] = {}
    for f in files:
        try:
            with open(f, "rb") as fh:
                summary = make_reader(fh).get_summary()
        except Exception as e:  # the mcap library raises many kinds on a damaged file; all mean the same here
            raise _corrupted(f, e) from None
        if summary is None:
            return None
        for c in summary.channels.values():
            sch = summary.schemas.get(c.schema_id)
            found.setdefault(c.topic, sch.name if sch is not None else None)
    return found


def _iter_bag(files: Sequence[Path], topics: List[str], decode: bool) -> Iterator[Tuple[Any, Any, Any, Any]]:
    """(schema, channel, message, decoded message or None) of `topics`, file by file, in log-time order.

    Chunk CRCs are checked (the library's default is not to), so a damaged chunk is a `BagError` rather than
    images with wrong pixels; any failure of the reader or decoder on the file becomes one `BagError` naming
    it. Only the reading is guarded: an error in the caller's own code is not disguised as a damaged bag."""
    from mcap.reader import make_reader

    factories: List[Any] = []
    if decode:
        from mcap_ros2.decoder import DecoderFactory

        factories = [DecoderFactory()]
    for f in files:
        try:
            with open(f, "rb") as fh:
                reader = make_reader(fh, validate_crcs=True, decoder_factories=factories)
                if decode:
                    for item in reader.iter_decoded_messages(topics=topics, log_time_order=True):
                        yield item
                else:
                    for schema, channel, message in reader.iter_messages(topics=topics, log_time_order=True):
                        yield schema, channel, message, None
        except BagError:
            raise
        except Exception as e:  # see the docstring: the library's many exception kinds all mean "damaged file"
            raise _corrupted(f, e) from None


class _Rollback:
    """What one run added to the output folder, so that a failure can take it all back: the samples' files
    and the annotation file's previous length (an `--append` run keeps what was there before it)."""

    def __init__(self, out: Path):
        self.out = out
        ann = out / ANNOTATIONS
        self.ann_size: Optional[int] = ann.stat().st_size if ann.exists() else None
        self.dirs = [d for d in (out, out / IMAGES_DIR, out / DEPTH_DIR, out / CAMERA_INFO_DIR) if not d.exists()]
        self.images: List[Path] = []

    def undo(self) -> None:
        for img in self.images:
            stem = img.stem
            for path in (img, self.out / DEPTH_DIR / f"{stem}.png", self.out / CAMERA_INFO_DIR / f"{stem}.yaml"):
                path.unlink(missing_ok=True)
        ann = self.out / ANNOTATIONS
        if self.ann_size is None:
            ann.unlink(missing_ok=True)
        elif ann.exists():
            with open(ann, "r+b") as fh:
                fh.truncate(self.ann_size)
        for d in reversed(self.dirs):  # only the folders this run created, and only when empty again
            try:
                d.rmdir()
            except OSError:
                pass


def _stamp_text(t: int) -> str:
    return f"{t // 1_000_000_000}.{t % 1_000_000_000:09d}"


def bag_to_dataset(bag: Path | str, out_dir: Path | str, image_topic: str, depth_topic: Optional[str] = None,
                   info_topic: Optional[str] = None, every: int = 1, slop: float = 0.02,
                   append: bool = False) -> BagReport:
    """Turn an MCAP bag (a file, or a rosbag2 folder of split files) into samples under `out_dir` with empty
    groundings (frames to annotate).

    `every` keeps every N-th *paired* frame (so N counts frames that can become samples); `slop` is the
    largest stamp difference in seconds for colour/depth/camera_info to count as one frame. Refuses to add
    to an existing dataset unless `append`, so a second run cannot double every frame. Every user error is
    a `BagError`; on one, nothing of this run stays written."""
    bag, out = Path(bag), Path(out_dir)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise BagError(f"--every must be a whole number >= 1, got {every!r}")
    if not (isinstance(slop, (int, float)) and math.isfinite(slop) and slop >= 0):
        raise BagError(f"--slop must be a finite number of seconds >= 0, got {slop!r}")
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
    expected = {"colour": (IMAGE, COMPRESSED), "depth": (IMAGE, COMPRESSED), "info": (CAMERA_INFO,)}
    files = bag_files(bag)

    found = _summary_topics(files)
    if found is not None:
        for role, topic in roles.items():
            if topic not in found:
                raise BagError(f"topic {topic!r} not in {bag} (topics: {', '.join(sorted(found)) or 'none'})")
            name = found[topic]
            if name is not None and name not in expected[role]:
                raise BagError(f"topic {topic!r} has type {name}, expected {' or '.join(expected[role])}")

    # Pass 1: stamps only.
    stamps: Dict[str, List[Tuple[int, int]]] = {r: [] for r in roles}
    counters = {r: 0 for r in roles}
    for _schema, channel, message, _ in _iter_bag(files, list(topic_role), decode=False):
        role = topic_role[channel.topic]
        if channel.message_encoding != "cdr":
            raise BagError(f"topic {channel.topic!r} is encoded as {channel.message_encoding!r}, not cdr")
        stamps[role].append((header_stamp_ns(message.data), counters[role]))
        counters[role] += 1
    if not stamps["colour"]:
        raise BagError(f"topic {image_topic!r} has no messages in {bag}: nothing to write")

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
    counters = {r: 0 for r in roles}
    undo = _Rollback(out)
    try:
        for schema, channel, message, ros_msg in _iter_bag(files, list(topic_role), decode=True):
            role = topic_role[channel.topic]
            key = (role, counters[role])
            counters[role] += 1
            if key not in need:
                continue
            schema_name = schema.name if schema else IMAGE
            try:
                if role == "colour":
                    value: Any = colour_to_rgb(ros_msg, schema_name)
                    frame_id: Optional[str] = str(ros_msg.header.frame_id)
                elif role == "depth":
                    value = depth_msg_to_mm(ros_msg, schema_name)
                    frame_id = None
                else:
                    value = camera_info_to_dict(ros_msg)
                    frame_id = None
            except BagError as e:
                raise BagError(f"{bag}: topic {channel.topic!r}, message at stamp "
                               f"{_stamp_text(header_stamp_ns(message.data))}: {e}") from None
            for f in need.pop(key):
                parts = pending.setdefault(f, {})
                parts[role] = value
                if frame_id is not None:
                    parts["frame_id"] = frame_id
                if sum(r in parts for r in ("colour", "depth", "info")) == parts_needed:
                    t = kept[f][0]
                    try:
                        written[f] = write_sample(
                            out, parts["colour"], depth=parts.get("depth"), camera_info=parts.get("info"),
                            name=f"{t // 1_000_000_000}_{t % 1_000_000_000:09d}",
                            extra={"stamp_ns": t, "frame_id": parts.get("frame_id", ""), "source": bag.name})
                    except ValueError as e:  # write_sample's checks: this frame's parts do not make a sample
                        topics = ", ".join(roles[r] for r in ("colour", "depth", "info") if r in roles)
                        raise BagError(f"{bag}: frame at stamp {_stamp_text(t)} ({topics}): {e}") from None
                    undo.images.append(written[f])
                    del pending[f]
    except BaseException as exc:
        undo.undo()
        if isinstance(exc, BagError) and written:
            raise BagError(f"{exc} (the {len(written)} sample(s) this run had written were removed again)") from None
        raise
    report.written = [written[f] for f in sorted(written)]
    return report


__all__ = ["BagError", "BagReport", "bag_files", "bag_to_dataset", "camera_info_to_dict", "colour_to_rgb",
           "compressed_depth_to_mm", "depth_msg_to_mm", "header_stamp_ns", "image_to_numpy"]
