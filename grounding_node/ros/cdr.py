"""Reading std_msgs/String straight from its CDR bytes.

Why: rclpy's own deserialisation goes through a C string, so a NUL inside a command silently drops the
rest of it, and bytes that are not UTF-8 raise inside the executor. Reading the length-prefixed bytes
ourselves keeps every byte; `grounding.command.parse_command` then reports and removes what is unsafe.
"""

from __future__ import annotations


def string_from_cdr(raw: bytes) -> bytes:
    """The payload of a serialised std_msgs/String: a 4-byte encapsulation header (byte 1: 0 big-endian,
    1 little-endian CDR), a uint32 length that counts the trailing NUL, then the bytes. A truncated or
    inconsistent message yields what is there rather than raising."""
    if len(raw) < 8:
        return b""
    order = "little" if raw[1] & 1 else "big"
    length = int.from_bytes(raw[4:8], order)
    data = bytes(raw[8:8 + length])
    return data[:-1] if data.endswith(b"\x00") and len(data) == length else data
