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
Two things are not corruption and do not stop a run: a *truncated* file (`ros2 bag record` killed, a power
loss, a full disk: no summary or footer, the last record cut), whose messages before the cut are read and
reported in `BagReport.warnings`; and a *damaged frame* (data that does not match its own width, height,
step and encoding, a JPEG or PNG that does not decode, a message whose CDR does not decode), which is
skipped and counted in `BagReport.undecodable`. A run where no frame is left fails as before.
"""

from __future__ import annotations

import bisect
import io
import math
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple

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


class DamagedFrameError(BagError):
    """One message whose bytes do not make what its own fields describe (a data length that does not match
    width, height, step and encoding; an image file that does not decode; CDR that does not decode). Unlike
    the other `BagError`s it is about that message only, not the recording or its configuration: the frame
    it belongs to is skipped and counted, and the run goes on."""


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
    undecodable: int = 0
    undecodable_examples: List[str] = field(default_factory=list)   # the first few, "topic at stamp: why"
    warnings: List[str] = field(default_factory=list)   # one line per truncated file
    written: List[Path] = field(default_factory=list)

    def to_text(self) -> str:
        dropped = self.no_depth + self.no_info
        undecodable = (f"; skipped {self.undecodable} undecodable (a colour, depth or camera_info message that "
                       "does not decode)" if self.undecodable else "")
        return (f"colour frames {self.colour_frames}, depth frames {self.depth_frames}, camera_info "
                f"{self.info_messages}; paired {self.paired}, dropped {dropped} unpaired (no depth within slop: "
                f"{self.no_depth}, no camera_info within slop: {self.no_info}), {self.duplicate_stamps} repeated "
                f"stamps; skipped {self.skipped_by_every} by --every{undecodable}; wrote {len(self.written)} samples"
                + "".join(f"\nundecodable: {e}" for e in self.undecodable_examples)
                + (f"\nundecodable: ... and {self.undecodable - len(self.undecodable_examples)} more"
                   if self.undecodable > len(self.undecodable_examples) else "")
                + ("\nnote: colour frames that repeat a header.stamp are kept once; a driver that leaves "
                   "header.stamp at 0 or does not update it makes most frames repeats" if self.duplicate_stamps
                   else ""))


def header_stamp_ns(cdr: bytes) -> int:
    """The `header.stamp` of a CDR-encoded message whose first field is a std_msgs/Header (Image,
    CompressedImage and CameraInfo all are): 4 bytes of encapsulation, then int32 sec and uint32 nanosec."""
    if len(cdr) < 12:
        raise DamagedFrameError(f"message of {len(cdr)} bytes is too short to hold a header")
    endian = "<" if cdr[1] & 1 else ">"
    sec, nsec = struct.unpack_from(endian + "iI", cdr, 4)
    return sec * 1_000_000_000 + nsec


def _read_image(msg: Any) -> Tuple[np.ndarray, str]:
    """(pixels, the encoding as the shared table spells it); the encoding is compared without case."""
    enc = canonical_encoding(msg.encoding)
    if enc is None:
        raise BagError(f"unsupported image encoding {msg.encoding!r} (supported colour: "
                       f"{', '.join(COLOUR_ENCODINGS)}; depth: {', '.join(DEPTH_ENCODINGS)})")
    n, need = len(msg.data), int(msg.height) * int(msg.step)
    if n > need and int(msg.height) > 0:
        # More bytes than the fields describe: a wrong height or step, whose first rows would be a silently
        # cropped or sheared image. (A last row *without* its padding is fine: some drivers leave it out.)
        raise DamagedFrameError(f"data length {n} > height*step {need} ({msg.width}x{msg.height} {enc}, "
                                f"step {msg.step})")
    try:
        # Offline, so copy: contiguous, native byte order, writable, independent of the decoded message.
        return np.array(image_to_array(msg, encoding=enc, short_last_row_ok=True), order="C"), enc
    except ImageConversionError as e:   # the encoding is known: the message's own sizes and data disagree
        raise DamagedFrameError(str(e)) from None


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
            raise DamagedFrameError(f"cannot decode compressed image (format {msg.format!r}, "
                                    f"{len(msg.data)} bytes)")
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
            raise DamagedFrameError(f"compressed depth (format {fmt!r}) is too short to hold its 12-byte header")
        header, data = struct.unpack("<iff", data[:12]), data[12:]
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None or img.size == 0:
        raise DamagedFrameError(f"cannot decode compressed depth (format {fmt!r}, {len(data)} bytes)")
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


_FOOTER_TAIL = 1 + 8 + 20 + len(MCAP_MAGIC)   # Footer record (opcode, length, 20 bytes) then the closing magic
_OP_FOOTER, _OP_SCHEMA, _OP_CHANNEL, _OP_MESSAGE, _OP_CHUNK, _OP_DATA_END = 2, 3, 4, 5, 6, 15


@dataclass
class _Cut:
    """A file that ends without its footer: what `ros2 bag record` leaves when it is killed, the power fails
    or the disk fills. `at` is where its readable records end; `messages` counts, per topic, the messages
    read before that."""

    path: Path
    at: int
    size: int
    data_complete: bool   # the cut is after DataEnd: only the summary and footer are missing
    messages: Dict[str, int] = field(default_factory=dict)

    def text(self, image_topic: str) -> str:
        where = ("its data is complete, only the summary is missing" if self.data_complete
                 else f"it ends after a complete record, at byte {self.size}" if self.at >= self.size
                 else f"its last record, from byte {self.at} of {self.size}, is cut")
        return (f"{self.path} is truncated (no footer: the recording was not closed, e.g. killed, power loss or "
                f"disk full; {where}): read {self.messages.get(image_topic, 0)} colour frame(s) of {image_topic} "
                "before the cut")


def _corrupted(path: Path, exc: BaseException) -> BagError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return BagError(f"{path}: cannot be read, the file is corrupted ({type(exc).__name__}"
                    f"{': ' + text if text else ''}); `mcap recover` can often rescue what it holds")


def _has_footer(fh: IO[bytes], size: int) -> bool:
    """Whether the file ends like a closed MCAP file: a Footer record (opcode 0x02, length 20), then the magic."""
    if size < len(MCAP_MAGIC) + _FOOTER_TAIL:
        return False
    fh.seek(size - _FOOTER_TAIL)
    tail = fh.read(_FOOTER_TAIL)
    return tail[0] == _OP_FOOTER and struct.unpack_from("<Q", tail, 1)[0] == 20 and tail[29:] == MCAP_MAGIC


def _summary_topics(files: Sequence[Path]) -> Tuple[Dict[str, Optional[str]], bool]:
    """(topic -> schema name, from the summaries of the files that have one; whether every file has one).
    A file without footer (truncated) has no summary: its topics are learnt while it is read."""
    from mcap.reader import make_reader

    found: Dict[str, Optional[str]] = {}
    every = True
    for f in files:
        try:
            with open(f, "rb") as fh:
                if not _has_footer(fh, os.fstat(fh.fileno()).st_size):
                    every = False
                    continue
                fh.seek(0)
                summary = make_reader(fh).get_summary()
        except OSError as e:
            raise BagError(f"{f}: cannot be read ({e.strerror or e})") from None
        except Exception as e:  # the mcap library raises many kinds on a damaged file; all mean the same here
            raise _corrupted(f, e) from None
        if summary is None:
            every = False
            continue
        for c in summary.channels.values():
            sch = summary.schemas.get(c.schema_id)
            found.setdefault(c.topic, sch.name if sch is not None else None)
    return found, every


def _decompress_prefix(compression: str, data: bytes) -> bytes:
    """As much of a cut chunk's records as its compressed prefix holds (zstd and lz4 decode as a stream)."""
    if compression == "":
        return data
    try:
        if compression == "zstd":
            import zstandard

            return zstandard.ZstdDecompressor().decompressobj().decompress(data)
        if compression == "lz4":
            import lz4.frame

            return lz4.frame.LZ4FrameDecompressor().decompress(data)
    except Exception:  # a prefix too short to start the stream: nothing of this chunk can be read
        return b""
    return b""


def _records_of(body: bytes, whole: bool) -> Iterator[Any]:
    """The Schema, Channel and Message records in `body` (a chunk's records). With `whole=False` (the prefix
    of a cut chunk) it stops at the first record that does not fit, instead of failing."""
    from mcap.data_stream import ReadDataStream
    from mcap.records import Channel, Message, Schema

    pos = 0
    while pos < len(body):
        if len(body) - pos < 9:
            if whole:
                raise ValueError(f"a chunk ends inside a record header at byte {pos}")
            return
        op, length = struct.unpack_from("<BQ", body, pos)
        if pos + 9 + length > len(body) or (op == 0 and not whole):
            if whole:
                raise ValueError(f"a record of {length} bytes at byte {pos} runs past the end of its chunk")
            return
        stream = ReadDataStream(io.BytesIO(body[pos + 9: pos + 9 + length]))
        if op == _OP_SCHEMA:
            yield Schema.read(stream)
        elif op == _OP_CHANNEL:
            yield Channel.read(stream)
        elif op == _OP_MESSAGE:
            yield Message.read(stream, length)
        pos += 9 + length


def _read_linear(fh: IO[bytes], size: int, tolerate_cut: bool,
                 cut: Optional[_Cut]) -> Iterator[Any]:
    """The Schema, Channel and Message records of a file, read record by record from its start (one record in
    memory at a time; chunk CRCs checked).

    With `tolerate_cut` (a file without footer) the file may end anywhere: the records that end before the
    cut are read, and so are the complete records inside a cut chunk (uncompressed, or a zstd/lz4 prefix),
    which hold exactly the bytes the recorder wrote; `cut.at` is set to where reading stopped. A record
    that is complete but does not parse, or fails its CRC, is corruption (an exception), cut or not."""
    from mcap.data_stream import ReadDataStream
    from mcap.records import Chunk
    from mcap.stream_reader import breakup_chunk

    def stop(at: int, data_complete: bool = False) -> None:
        if cut is not None:
            cut.at, cut.data_complete = at, data_complete

    pos = len(MCAP_MAGIC)
    fh.seek(pos)
    while True:
        head = fh.read(9)
        if len(head) < 9 or (head[0] == 0 and tolerate_cut):   # 0 is no opcode: zeros after a crash
            if tolerate_cut:
                return stop(pos)
            raise ValueError(f"the file ends at byte {size} without DataEnd")
        op, length = struct.unpack("<BQ", head)
        if pos + 9 + length > size:
            if not tolerate_cut:
                raise ValueError(f"a record of {length} bytes at byte {pos} runs past the end of the file ({size})")
            if op == _OP_CHUNK:   # the chunk the recorder was writing: its complete records are what it wrote
                part = fh.read(size - pos - 9)
                if len(part) >= 32:
                    n = struct.unpack_from("<I", part, 28)[0]
                    if len(part) >= 32 + n + 8:
                        yield from _records_of(_decompress_prefix(part[32: 32 + n].decode("utf-8", "replace"),
                                                                  part[32 + n + 8:]), whole=False)
            return stop(pos)
        if op in (_OP_DATA_END, _OP_FOOTER):   # the data section is complete; the summary follows
            return stop(pos, data_complete=True)
        body = fh.read(length)
        stream = ReadDataStream(io.BytesIO(body))
        if op == _OP_CHUNK:
            chunk = Chunk.read(stream)
            yield from breakup_chunk(chunk, validate_crc=True)
        elif op in (_OP_SCHEMA, _OP_CHANNEL, _OP_MESSAGE):
            yield from _records_of(head + body, whole=True)
        pos += 9 + length


def _iter_bag(files: Sequence[Path], topics: List[str], cuts: Optional[List[_Cut]] = None,
              seen: Optional[Dict[str, Optional[str]]] = None) -> Iterator[Tuple[Path, Any, Any, Any]]:
    """(file, schema, channel, message) of `topics`, file by file.

    A closed file with a summary is read through its index, in log-time order, chunk CRCs checked (the
    library's default is not to). A file without a summary, or without a footer (truncated), is read record
    by record in file order (what the recorder wrote, in arrival order); for a truncated one, a `_Cut` is
    appended to `cuts` and the topics it holds to `seen`. Any failure of the reader on a file becomes one
    `BagError` naming it. Only the reading is guarded: an error in the caller's own code is not disguised as
    a damaged bag."""
    from mcap.reader import make_reader
    from mcap.records import Channel, Message, Schema

    wanted = set(topics)
    for f in files:
        cut: Optional[_Cut] = None
        try:
            with open(f, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                closed = _has_footer(fh, size)
                fh.seek(0)
                if closed:
                    reader = make_reader(fh, validate_crcs=True)
                    summary = reader.get_summary()
                    if summary is not None and summary.chunk_indexes:
                        for schema, channel, message in reader.iter_messages(topics=topics, log_time_order=True):
                            yield f, schema, channel, message
                        continue
                else:
                    cut = _Cut(f, 0, size, False)
                schemas: Dict[int, Any] = {}
                channels: Dict[int, Any] = {}
                for rec in _read_linear(fh, size, tolerate_cut=not closed, cut=cut):
                    if isinstance(rec, Schema):
                        schemas[rec.id] = rec
                    elif isinstance(rec, Channel):
                        if rec.schema_id != 0 and rec.schema_id not in schemas:
                            raise ValueError(f"channel {rec.topic!r} names schema {rec.schema_id}, never defined")
                        channels[rec.id] = rec
                        if seen is not None:
                            sch = schemas.get(rec.schema_id)
                            seen.setdefault(rec.topic, sch.name if sch is not None else None)
                    elif isinstance(rec, Message):
                        channel = channels.get(rec.channel_id)
                        if channel is None:
                            raise ValueError(f"a message names channel {rec.channel_id}, never defined")
                        if channel.topic in wanted:
                            if cut is not None:
                                cut.messages[channel.topic] = cut.messages.get(channel.topic, 0) + 1
                            yield f, schemas.get(channel.schema_id), channel, rec
        except Exception as e:  # see the docstring: the library's many exception kinds all mean "damaged file"
            raise _corrupted(f, e) from None
        if cut is not None and cuts is not None:
            cuts.append(cut)


def _decode(decoders: Dict[Path, Any], path: Path, schema: Any, channel: Any, message: Any) -> Any:
    """A message decoded with the schema its own file embeds (one decoder set per file: schema ids are
    per file, and split files need not number them alike). A schema that does not parse is the recording's
    problem (a `BagError`); a message that does not decode is that message's (`DamagedFrameError`)."""
    from mcap_ros2.decoder import DecoderFactory

    factory = decoders.setdefault(path, DecoderFactory())
    try:
        decoder = factory.decoder_for(channel.message_encoding, schema)
    except Exception as e:  # mcap_ros2 raises its own and the parser's exceptions on a bad schema text
        raise BagError(f"the schema of {channel.topic!r} in {path} cannot be parsed ({e})") from None
    if decoder is None:
        raise BagError(f"{channel.topic!r} in {path} has no ROS 2 message definition to decode it with")
    try:
        return decoder(message.data)
    except Exception as e:  # the CDR decoder's many kinds (struct.error, IndexError, UnicodeDecodeError...)
        raise DamagedFrameError(f"message of {len(message.data)} bytes does not decode as {schema.name} "
                                f"({type(e).__name__}: {e})") from None


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
    a `BagError`; on one, nothing of this run stays written. A truncated file gives the frames before its cut
    and a line in `warnings`; a frame with a damaged message is skipped and counted (`undecodable`); when no
    frame at all could be decoded, that is a `BagError` saying why."""
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

    def check_topics(found: Dict[str, Optional[str]], note: str = "") -> None:
        for role, topic in roles.items():
            if topic not in found:
                raise BagError(f"topic {topic!r} not in {bag} (topics: {', '.join(sorted(found)) or 'none'})"
                               + note)
            name = found[topic]
            if name is not None and name not in expected[role]:
                raise BagError(f"topic {topic!r} has type {name}, expected {' or '.join(expected[role])}")

    found, every_summarised = _summary_topics(files)
    if every_summarised:
        check_topics(found)

    # Pass 1: stamps only. A message too short to hold a stamp is counted (colour) and left out.
    stamps: Dict[str, List[Tuple[int, int]]] = {r: [] for r in roles}
    counters = {r: 0 for r in roles}
    cuts: List[_Cut] = []
    seen: Dict[str, Optional[str]] = {}
    unstamped: List[str] = []
    for _f, _schema, channel, message in _iter_bag(files, list(topic_role), cuts, seen):
        role = topic_role[channel.topic]
        if channel.message_encoding != "cdr":
            raise BagError(f"topic {channel.topic!r} is encoded as {channel.message_encoding!r}, not cdr")
        try:
            stamps[role].append((header_stamp_ns(message.data), counters[role]))
        except DamagedFrameError as e:
            if role == "colour":
                unstamped.append(f"{channel.topic} message {counters[role]}: {e}")
        counters[role] += 1
    cut_lines = [c.text(image_topic) for c in cuts]
    cut_note = "".join(f"; {c}" for c in cut_lines)
    if not every_summarised:
        check_topics({**seen, **found}, cut_note)
    if not stamps["colour"]:
        why = f" ({len(unstamped)} too short to hold a header: {unstamped[0]})" if unstamped else ""
        raise BagError(f"topic {image_topic!r} has no messages{why} in {bag}: nothing to write{cut_note}")

    report = BagReport(colour_frames=len(stamps["colour"]) + len(unstamped),
                       depth_frames=len(stamps.get("depth", [])), info_messages=len(stamps.get("info", [])),
                       undecodable=len(unstamped), undecodable_examples=unstamped[:3], warnings=cut_lines)
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

    # Pass 2: decode only what the kept frames need, write each frame once all its parts have arrived. A part
    # that does not decode drops its frame(s), counted; anything else wrong stops the run.
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
    damaged: set = set()
    counters = {r: 0 for r in roles}
    decoders: Dict[Path, Any] = {}
    undo = _Rollback(out)
    try:
        for f_path, schema, channel, message in _iter_bag(files, list(topic_role)):
            role = topic_role[channel.topic]
            key = (role, counters[role])
            counters[role] += 1
            if key not in need:
                continue
            schema_name = schema.name if schema else IMAGE
            try:
                ros_msg = _decode(decoders, f_path, schema, channel, message)
                if role == "colour":
                    value: Any = colour_to_rgb(ros_msg, schema_name)
                    frame_id: Optional[str] = str(ros_msg.header.frame_id)
                elif role == "depth":
                    value = depth_msg_to_mm(ros_msg, schema_name)
                    frame_id = None
                else:
                    value = camera_info_to_dict(ros_msg)
                    frame_id = None
            except DamagedFrameError as e:
                for f in need.pop(key):
                    if f not in damaged:
                        damaged.add(f)
                        pending.pop(f, None)
                        report.undecodable += 1
                        if len(report.undecodable_examples) < 3:
                            report.undecodable_examples.append(
                                f"{channel.topic} at {_stamp_text(header_stamp_ns(message.data))}: {e}")
                continue
            except BagError as e:
                raise BagError(f"{bag}: topic {channel.topic!r}, message at stamp "
                               f"{_stamp_text(header_stamp_ns(message.data))}: {e}") from None
            for f in need.pop(key):
                if f in damaged:
                    continue
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
    if not written and report.undecodable:
        raise BagError(f"{bag}: no usable frame: {report.undecodable} frame(s) could not be decoded ("
                       + "; ".join(report.undecodable_examples) + ")" + cut_note)
    return report


__all__ = ["BagError", "BagReport", "DamagedFrameError", "bag_files", "bag_to_dataset", "camera_info_to_dict",
           "colour_to_rgb", "compressed_depth_to_mm", "depth_msg_to_mm", "header_stamp_ns", "image_to_numpy"]
