"""Command text -> phrases.

Syntax: one or more phrases separated by `;` or newlines; each is grounded on its own. A planner's record
whose fields are separated the same way ("object=mug; exclude_color=red", "(pick ?obj) ; ?obj = the cup")
stays one phrase: a field that does not name an object continues the record before it. A sequence in one phrase
("the cup, then the ball") is split into its requests, in order, with a warning. The text comes from
a topic anyone can publish on, so it is sanitised here (length cap, control characters, undecodable bytes)
and every change is reported as a warning the node logs and puts in diagnostics.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import List, Union

_SEPARATORS = re.compile(r"[;\n\r]+")
# "the cup, then the ball": a sequence of requests in one phrase. Split where "then" is followed by a noun
# phrase (after a request verb at most), not by an action on the same object ("then put it down") nor typed
# for "than" after a comparison ("closer then the box").
_THEN = re.compile(r"(?<=\w),?\s+(?:and\s+)?then\s+(?=(?:(?:pick|grab|take|get|fetch|"
                   r"lift|find|bring|select|choose|locate)(?:\s+up)?\s+)?(?:the|a|an|all|every|each|that|this|"
                   r"those|these)\b)", re.IGNORECASE)
# the word before "then" that makes it "than" ("closer then the box"); a noun ending in "er" ("the marker,
# then the cup") does not
_COMPARATIVE = re.compile(r"(?:closer|nearer|farther|further|bigger|smaller|larger|higher|lower|taller|shorter|"
                          r"wider|narrower|heavier|lighter|greater|lesser|more|less|rather|other)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v]+")   # a tab is whitespace, not a control character
# Field keys that name the object a record asks for: such a field starts a new phrase ("object: mug; object:
# box" asks for two things), any other field continues its record. The tabletop model's record reader
# (models/tabletop/records.py) uses the same set.
RECORD_HEAD_KEYS = frozenset({"select", "object", "objects", "target", "targets", "item", "items", "pick", "find",
                              "get", "grab", "noun", "class", "category", "label", "query", "shape", "type", "obj",
                              "entity", "referent"})
_FIELD = re.compile(r"^\s*(?:\?\w+\s*=|([a-z_][\w \-]*?)\s*(?:!=|==|=|:))", re.IGNORECASE)


def _is_record(phrase: str) -> bool:
    return phrase.startswith("(") or bool(_FIELD.match(phrase))


def _continues_record(phrase: str) -> bool:
    """"exclude_color=red", "relation: left of", "?obj = the cup", "constraint: (left-of cup box)"."""
    m = _FIELD.match(phrase)
    if not m:
        return False
    key = re.split(r"[\s_\-]+", (m.group(1) or "").strip().lower())
    return not (set(key) & RECORD_HEAD_KEYS) or "exclude" in key


def join_records(phrases: List[str]) -> List[str]:
    """Phrases split at a record's own separators, joined again (see the module docstring)."""
    out: List[str] = []
    for phrase in phrases:
        if out and _is_record(out[-1]) and _continues_record(phrase):
            out[-1] = f"{out[-1]}; {phrase}"
        else:
            out.append(phrase)
    return out


# what follows a "then" that refers back instead of naming an object: "..., skip the first cube, then take the
# next one", "..., then grab the other one" (one request counted or contrasted in steps)
_BACK_REFERENCE = re.compile(r"(?:(?:pick|grab|take|get|fetch|lift|find|bring|select|choose|locate)(?:\s+up)?\s+)?"
                             r"(?:the|that|this)\s+(?:(?:next|other|following|same)\s+(?:one|ones)?|one\s+(?:after|"
                             r"before|next to)\b|next\b)", re.IGNORECASE)


def _split_sequence(phrase: str) -> List[str]:
    """"the cup, then the ball" -> its requests; a "then" after a comparative is "than" and stays, and so does
    one before a part that refers back ("..., then take the next one")."""
    parts, start = [], 0
    for m in _THEN.finditer(phrase):
        before = phrase[:m.start()].split()
        if before and _COMPARATIVE.fullmatch(before[-1]):
            continue
        if _BACK_REFERENCE.match(phrase, m.end()):
            continue
        parts.append(phrase[start:m.start()].strip())
        start = m.end()
    return parts + [phrase[start:].strip()]


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
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
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
        if ch in "\n\r\t" or unicodedata.category(ch)[0] != "C":
            cleaned_chars.append(ch)
        else:
            dropped += 1
            cleaned_chars.append(" ")
    if dropped:
        warnings.append(f"{dropped} control character(s) removed from the command")
    text = "".join(cleaned_chars)
    phrases = []
    for p in _SEPARATORS.split(text):
        p = _SPACES.sub(" ", p).strip()
        parts = _split_sequence(p) if p and not _is_record(p) else [p]
        if len(parts) > 1:
            warnings.append(f"'{p}' split into {len(parts)} phrases at 'then': " + ", ".join(f"'{q}'" for q in parts))
        phrases.extend(parts)
    phrases = join_records([p for p in phrases if p])
    return ParsedCommand(text=text.strip(), phrases=phrases, warnings=warnings)
