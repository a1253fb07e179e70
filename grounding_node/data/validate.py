"""Validation of a dataset folder: every bad record becomes an error naming the file and line.

The rules live here and only here, so `check`, the importers and the fine-tuning's loader can never disagree
on what a valid record is. Nothing is dropped silently: a caller either gets every sample, or a
`DatasetError` with every message, or (when it asks to skip invalid records) the valid samples plus the
list of what was skipped and why.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from grounding_node.data._common import DISPLAYED, _max_digits, is_finite_number
from grounding_node.data._common import show as _show
from grounding_node.data.format import ANNOTATIONS, GRID, SAMPLE_KEYS, Sample, normalize_phrase

REQUIRED_KEYS = ("image", "width", "height", "groundings")


class DatasetError(Exception):
    """A dataset that cannot be used as it is; `errors` holds one `file:line: message` string per problem."""

    def __init__(self, errors: List[str]):
        self.errors = list(errors)
        head = self.errors[0] if self.errors else "invalid dataset"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(head + more)


@dataclass
class BadRecord:
    """A line of the annotation file that was rejected, with every reason."""

    file: str
    line: int
    messages: List[str]

    def errors(self) -> List[str]:
        return [f"{self.file}:{self.line}: {m}" for m in self.messages]


@dataclass
class CheckResult:
    """What `check_dataset` found: the valid samples (with their line numbers) and the bad records."""

    root: Path
    samples: List[Sample] = field(default_factory=list)
    sample_lines: List[int] = field(default_factory=list)
    bad: List[BadRecord] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.bad

    @property
    def errors(self) -> List[str]:
        return [e for b in self.bad for e in b.errors()]


# ---------------------------------------------------------------- value description for messages
def _jtype(v: Any) -> str:
    """The JSON name of a value's type: users write JSON, so messages speak JSON, not Python."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _got(v: Any) -> str:
    return f"got {_show(v)} ({_jtype(v)})"


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# ---------------------------------------------------------------- JSON parsing
class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    """json's default keeps the last of two equal keys; a record that says "image" twice is ambiguous."""
    out: Dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def parse_line(text: str) -> Tuple[Any, Optional[str]]:
    """One JSONL line -> (value, None) or (None, message). NaN/Infinity literals parse (Python's json accepts
    them) and are then rejected by the box checks with a message that names the value."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys), None
    except _DuplicateKey as e:
        return None, f"duplicate key {_show(str(e))} in one object"
    except json.JSONDecodeError as e:
        return None, f"not valid JSON: {e.msg} at column {e.colno}"
    except ValueError:  # json turns an integer longer than Python's int-string limit into a plain ValueError
        return None, f"not valid JSON: a number has more than {_max_digits()} digits"


# ---------------------------------------------------------------- file checks
class _FileChecker:
    """Reads each referenced file once and remembers the outcome (a dataset may share a camera_info)."""

    def __init__(self, root: Path):
        self.root = root
        self._images: Dict[str, Tuple[Optional[Tuple[int, int]], Optional[str]]] = {}
        self._depth: Dict[str, Optional[str]] = {}
        self._info: Dict[str, Optional[str]] = {}

    def image_size(self, rel: str) -> Tuple[Optional[Tuple[int, int]], Optional[str]]:
        if rel not in self._images:
            self._images[rel] = self._read_image(rel)
        return self._images[rel]

    def _read_image(self, rel: str) -> Tuple[Optional[Tuple[int, int]], Optional[str]]:
        import cv2

        path = self.root / rel
        if not path.is_file():
            return None, f"image {_show(rel)} not found"
        img = cv2.imread(str(path), DISPLAYED)   # as displayed: EXIF orientation applied, as training reads it
        if img is None or img.size == 0:
            return None, f"image {_show(rel)} cannot be read as an image"
        return (int(img.shape[1]), int(img.shape[0])), None

    def depth_error(self, rel: str) -> Optional[str]:
        if rel not in self._depth:
            self._depth[rel] = self._check_depth(rel)
        return self._depth[rel]

    def _check_depth(self, rel: str) -> Optional[str]:
        import cv2
        import numpy as np

        path = self.root / rel
        if not path.is_file():
            return f"depth {_show(rel)} not found"
        if path.suffix.lower() == ".npy":
            try:
                d = np.load(str(path), allow_pickle=False)
            except (OSError, ValueError):
                d = None
        else:
            d = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if d is None or d.size == 0:
            return f"depth {_show(rel)} cannot be read as an image"
        if d.ndim != 2 or d.dtype not in (np.uint16, np.float32):
            chans = 1 if d.ndim == 2 else d.shape[2]
            return (f"depth {_show(rel)} must be a single-channel uint16 (mm) or float32 (m) image, "
                    f"got {d.dtype} with {chans} channel(s)")
        return None

    def camera_info_error(self, rel: str) -> Optional[str]:
        if rel not in self._info:
            self._info[rel] = self._check_info(rel)
        return self._info[rel]

    def _check_info(self, rel: str) -> Optional[str]:
        import yaml

        path = self.root / rel
        if not path.is_file():
            return f"camera_info {_show(rel)} not found"
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return f"camera_info {_show(rel)} is not valid YAML: {first}"
        k = None
        if isinstance(doc, dict):
            cm = doc.get("camera_matrix")
            k = cm.get("data") if isinstance(cm, dict) else doc.get("k", doc.get("K"))
        if not (isinstance(k, list) and len(k) == 9 and all(_is_num(v) for v in k)):
            return f"camera_info {_show(rel)} has no camera_matrix.data (or k) with 9 numbers"
        return None


# ---------------------------------------------------------------- one record
def _check_rel_path(key: str, v: Any, errors: List[str], nullable: bool) -> Optional[str]:
    if v is None and nullable:
        return None
    if not isinstance(v, str) or not v.strip():
        kind = "a non-empty string or null" if nullable else "a non-empty string"
        errors.append(f"{_show(key)} must be {kind}, {_got(v)}")
        return None
    norm = posixpath.normpath(v.replace("\\", "/"))
    if norm.startswith("/") or norm == ".." or norm.startswith("../") or (len(v) > 1 and v[1] == ":"):
        errors.append(f"{_show(key)} must be a relative path inside the dataset folder, got {_show(v)}")
        return None
    return v


def _check_box(where: str, box: Any, errors: List[str]) -> bool:
    if not isinstance(box, list) or len(box) != 4:
        n = f" ({len(box)} values)" if isinstance(box, list) else f" ({_jtype(box)})"
        errors.append(f"{where} must be a list of 4 numbers [x1, y1, x2, y2], got {_show(box)}{n}")
        return False
    if not all(_is_num(v) for v in box):
        errors.append(f"{where} must hold numbers, got {_show(box)}")
        return False
    if not all(is_finite_number(v) for v in box):
        errors.append(f"{where} is not finite: {_show(box)}")
        return False
    if not all(0.0 <= v <= GRID for v in box):
        errors.append(f"{where} is outside the 0-1024 grid: {_show(box)}")
        return False
    if not (box[0] < box[2] and box[1] < box[3]):
        errors.append(f"{where} is inverted or empty (needs x1 < x2 and y1 < y2): {_show(box)}")
        return False
    return True


def _check_groundings(gs: List[Any], errors: List[str]) -> None:
    seen: Dict[str, int] = {}
    for i, g in enumerate(gs):
        where = f"groundings[{i}]"
        if not isinstance(g, dict):
            errors.append(f"{where} must be an object, {_got(g)}")
            continue
        for key in ("phrase", "boxes_1024"):
            if key not in g:
                errors.append(f"{where}: missing required key {_show(key)}")
        phrase = g.get("phrase")
        if "phrase" in g:
            if not isinstance(phrase, str):
                errors.append(f"{where}.phrase must be a string, {_got(phrase)}")
            elif not phrase.strip():
                errors.append(f"{where}.phrase is empty")
            elif "\n" in phrase or "\r" in phrase:
                # Label Studio's text areas hold one phrase per line: such a phrase would come back as two.
                errors.append(f"{where}.phrase {_show(phrase)} contains a line break (a phrase is one line; "
                              "Label Studio would split it into two phrases)")
            else:
                key = normalize_phrase(phrase)
                if key in seen:
                    errors.append(f"{where}.phrase {_show(phrase)} repeats groundings[{seen[key]}] "
                                  "(list all its boxes in one grounding)")
                else:
                    seen[key] = i
        t = g.get("type")
        if t is not None and not (isinstance(t, str) and t.strip()):
            errors.append(f"{where}.type must be a non-empty string or null, {_got(t)}")
        if "boxes_1024" in g:
            boxes = g["boxes_1024"]
            if not isinstance(boxes, list):
                errors.append(f"{where}.boxes_1024 must be a list of [x1, y1, x2, y2] boxes, {_got(boxes)}")
                continue
            if len(boxes) == 4 and all(_is_num(v) for v in boxes):  # the commonest slip: one box, unwrapped
                errors.append(f"{where}.boxes_1024 must be a list of boxes, got the single box {_show(boxes)} "
                              f"(write [{_show(boxes)}])")
                continue
            for j, box in enumerate(boxes):
                _check_box(f"{where}.boxes_1024[{j}]", box, errors)


def validate_record(obj: Any, files: Optional[_FileChecker] = None) -> List[str]:
    """Every problem of one parsed record (empty list = valid). `files` also checks the image, depth and
    camera_info files; without it only the record itself is checked."""
    if not isinstance(obj, dict):
        return [f"record must be a JSON object, {_got(obj)}"]
    errors: List[str] = []
    for key in REQUIRED_KEYS:
        if key not in obj:
            errors.append(f"missing required key {_show(key)}")
    image = _check_rel_path("image", obj["image"], errors, nullable=False) if "image" in obj else None
    sizes_ok = True
    for key in ("width", "height"):
        if key in obj and not (_is_int(obj[key]) and obj[key] > 0):
            errors.append(f"{_show(key)} must be a positive integer, {_got(obj[key])}")
            sizes_ok = False
    if "groundings" in obj:
        gs = obj["groundings"]
        if not isinstance(gs, list):
            errors.append(f'"groundings" must be a list, {_got(gs)}')
        else:
            _check_groundings(gs, errors)
    depth = _check_rel_path("depth", obj.get("depth"), errors, nullable=True)
    info = _check_rel_path("camera_info", obj.get("camera_info"), errors, nullable=True)
    if files is not None:
        if image is not None:
            size, err = files.image_size(image)
            if err:
                errors.append(err)
            elif size is not None and sizes_ok and "width" in obj and "height" in obj:
                if (obj["width"], obj["height"]) != size:
                    errors.append(f"size {obj['width']}x{obj['height']} disagrees with image {_show(image)}, "
                                  f"which is {size[0]}x{size[1]}")
        if depth is not None and (err := files.depth_error(depth)):
            errors.append(err)
        if info is not None and (err := files.camera_info_error(info)):
            errors.append(err)
    return errors


# ---------------------------------------------------------------- a whole folder
def annotations_path(root: Path | str) -> Path:
    """`DIR/annotations.jsonl`, or the file itself when given one (so `check some/annotations.jsonl` works)."""
    p = Path(root)
    return p if p.is_file() else p / ANNOTATIONS


def check_dataset(root: Path | str, check_files: bool = True) -> CheckResult:
    """Read and validate a dataset folder. Raises `DatasetError` only when there is no annotation file;
    every bad line is reported in the result, never dropped."""
    ann = annotations_path(root)
    root = ann.parent
    if not ann.is_file():
        raise DatasetError([f"{ann}: not found (a dataset folder holds {ANNOTATIONS} and its images)"])
    files = _FileChecker(root) if check_files else None
    result = CheckResult(root=root)
    first_line: Dict[str, int] = {}
    data = ann.read_bytes()
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            result.bad.append(BadRecord(str(ann), lineno, [f"not valid UTF-8 (byte {e.start + 1})"]))
            continue
        if lineno == 1:
            text = text.lstrip("\ufeff")
        if not text.strip():
            continue  # blank lines (a trailing newline) are not records
        obj, err = parse_line(text)
        if err:
            result.bad.append(BadRecord(str(ann), lineno, [err]))
            continue
        errors = validate_record(obj, files)
        if isinstance(obj, dict) and isinstance(obj.get("image"), str) and obj["image"].strip():
            key = posixpath.normpath(obj["image"].replace("\\", "/"))
            if key in first_line:
                errors.insert(0, f"image {_show(obj['image'])} is already listed on line {first_line[key]}")
            else:
                first_line[key] = lineno
        if errors:
            result.bad.append(BadRecord(str(ann), lineno, errors))
        else:
            result.samples.append(Sample.from_dict(obj))
            result.sample_lines.append(lineno)
    return result


def load_dataset(root: Path | str, skip_invalid: bool = False, check_files: bool = True) -> List[Sample]:
    """The samples of a dataset folder, for training and evaluation. Raises `DatasetError` with every
    message when any record is bad, unless `skip_invalid` (then the bad ones are left out; call
    `check_dataset` when the caller must report what was skipped)."""
    result = check_dataset(root, check_files=check_files)
    if result.bad and not skip_invalid:
        raise DatasetError(result.errors)
    return result.samples


__all__ = ["BadRecord", "CheckResult", "DatasetError", "SAMPLE_KEYS", "annotations_path", "check_dataset",
           "load_dataset", "parse_line", "validate_record"]
