"""Command text -> phrases.

Syntax: one or more phrases separated by `;` or newlines; each is grounded on its own. The text comes from
a topic anyone can publish on, so it is sanitised here (length cap, control characters, undecodable bytes)
and every change is reported as a warning the node logs and puts in diagnostics.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import List, Union

_SEPARATORS = re.compile(r"[;\n\r]+")
_SPACES = re.compile(r"[ \t\f\v]+")


@dataclass
class ParsedCommand:
    """The sanitised command text, its phrases (in order) and what sanitising changed."""

    text: str
    phrases: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.phrases


def parse_command(raw: Union[str, bytes], max_length: int = 1000) -> ParsedCommand:
    """Split a command into phrases, after making it safe.

    - bytes that are not UTF-8 are replaced (U+FFFD) and reported;
    - control characters other than the newline separators are dropped and reported;
    - text beyond `max_length` characters is cut and reported (the phrases before the cut survive);
    - empty phrases (";;", trailing ";") are ignored; whitespace is collapsed.
    """
    warnings: List[str] = []
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", errors="replace")
        if "\ufffd" in text:
            warnings.append("command contained bytes that are not UTF-8; they were replaced")
    else:
        text = raw
    if "\ufffd" in text and not warnings:
        warnings.append("command contained undecodable characters (U+FFFD)")
    if len(text) > max_length:
        warnings.append(f"command of {len(text)} characters truncated to {max_length}")
        text = text[:max_length]
    cleaned_chars = []
    dropped = 0
    for ch in text:
        if ch in "\n\r" or unicodedata.category(ch)[0] != "C":
            cleaned_chars.append(ch)
        else:
            dropped += 1
            cleaned_chars.append(" ")
    if dropped:
        warnings.append(f"{dropped} control character(s) removed from the command")
    text = "".join(cleaned_chars)
    phrases = [_SPACES.sub(" ", p).strip() for p in _SEPARATORS.split(text)]
    phrases = [p for p in phrases if p]
    return ParsedCommand(text=text.strip(), phrases=phrases, warnings=warnings)
