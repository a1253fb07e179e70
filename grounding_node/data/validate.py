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


def _path(p: str) -> str:
    """A file path quoted as JSON, whole: `_show` shortens long values, which would cut off the very part of
    a path (the file name) that says which file to fix."""
    return json.dumps(p, ensure_ascii=False)


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


# ---------------------------------------------------------------- depth and camera_info content
ASPECT_TOLERANCE = 0.01
"""Relative aspect-ratio difference beyond which a depth image or a calibration belongs to another view than the
colour image: the node's pipeline (`grounding.pipeline.model_depth`) refuses depth by the same rule."""

ImageSize = Tuple[int, int]


def _aspect_problem(size: ImageSize, image_size: Optional[ImageSize], lead: str = "is {w}x{h}") -> Optional[str]:
    """A depth image or calibration of `size` (w, h) may have another resolution than its colour image (a
    registered depth at half resolution, a calibration of the full sensor) but not another aspect ratio: then
    it is another camera's (an unaligned depth topic, the depth camera's camera_info)."""
    if image_size is None or min(size) <= 0 or min(image_size) <= 0:
        return None
    want = image_size[0] / image_size[1]
    if abs(size[0] / size[1] - want) > ASPECT_TOLERANCE * want:
        return (f"{lead.format(w=size[0], h=size[1])}, another aspect ratio than its {image_size[0]}x{image_size[1]} "
                "colour image, so it is not registered (aligned) to it")
    return None


def depth_array_problem(depth: Any, image_size: Optional[ImageSize] = None) -> Optional[str]:
    """Why `depth` (as read from its file, or as a writer is about to write it) cannot be the depth of a colour
    image of `image_size` (w, h), as the end of a sentence that starts with the depth's name; None = usable.
    Shared by `check`, `write_sample` (from-bag, ~/capture) and the importers, so nothing is written that
    `check` would refuse afterwards."""
    import numpy as np

    d = np.asarray(depth)
    if d.size == 0:
        return "is empty"
    if d.ndim != 2 or d.dtype not in (np.uint16, np.float32):
        chans = 1 if d.ndim <= 2 else d.shape[2]
        return f"must be a single-channel uint16 (mm) or float32 (m) image, got {d.dtype} with {chans} channel(s)"
    return _aspect_problem((int(d.shape[1]), int(d.shape[0])), image_size)


def _matrix(doc: Dict[str, Any], yaml_key: str, msg_key: str) -> Any:
    """A matrix of either camera_info spelling: camera_calibration's `{rows, cols, data}` or a CameraInfo
    dump's flat list (`k`, or `K` as ROS 1 dumps it)."""
    if "camera_matrix" in doc:
        entry = doc.get(yaml_key)
        return entry.get("data") if isinstance(entry, dict) else entry
    return doc.get(msg_key, doc.get(msg_key.upper()))


def camera_info_problem(doc: Any, image_size: Optional[ImageSize] = None) -> Optional[str]:
    """Why a camera_info document (camera_calibration YAML or a CameraInfo dump, parsed) cannot give the
    intrinsics of a colour image of `image_size`, as the end of a sentence that starts with its name; None =
    usable. The size is required because intrinsics mean nothing without the resolution they are for (the
    evaluation scales K by it); K must be a camera's (`Intrinsics.invalid_reason`, the node's own rule: an
    uncalibrated driver publishes all zeros) and every matrix finite."""
    from grounding_node.geometry.camera import Intrinsics

    k = _matrix(doc, "camera_matrix", "k") if isinstance(doc, dict) else None
    if not (isinstance(k, list) and len(k) == 9 and all(_is_num(v) for v in k)):
        return "has no camera_matrix.data (or k) with 9 numbers"
    assert isinstance(doc, dict)
    yaml_form = "camera_matrix" in doc
    w, h = (doc.get("image_width"), doc.get("image_height")) if yaml_form else (doc.get("width"), doc.get("height"))
    if not (_is_int(w) and _is_int(h) and w > 0 and h > 0):
        names = "image_width and image_height" if yaml_form else "width and height"
        return f"has no image size ({names} as positive integers), so its camera_matrix applies to no resolution"
    matrices = {"distortion_coefficients": ("distortion_coefficients", "d"),
                "rectification_matrix": ("rectification_matrix", "r"), "projection_matrix": ("projection_matrix", "p")}
    values: Dict[str, List[float]] = {"camera_matrix": [float(v) for v in k]}
    for name, (yaml_key, msg_key) in matrices.items():
        m = _matrix(doc, yaml_key, msg_key)
        if m is None:
            continue
        if not (isinstance(m, list) and all(_is_num(v) for v in m)):
            return f"has a {name} that is not a list of numbers: {_show(m)}"
        values[name] = [float(v) for v in m]
    for name, vals in values.items():
        if not all(is_finite_number(v) for v in vals):
            return f"has non-finite values in {name}: {_show(vals)}"
    roi = doc.get("roi") if isinstance(doc.get("roi"), dict) else {}
    try:
        intr = Intrinsics.from_calibration(
            values["camera_matrix"], int(w), int(h), d=values.get("distortion_coefficients", []),
            distortion_model=str(doc.get("distortion_model") or ""),
            binning=(int(doc.get("binning_x") or 0), int(doc.get("binning_y") or 0)),
            roi=tuple(int(roi.get(key) or 0) for key in ("x_offset", "y_offset", "width", "height")))
    except (TypeError, ValueError) as e:
        return f"cannot be used: {e}"
    reason = intr.invalid_reason()
    if reason:
        return f"is unusable: {reason}"
    return _aspect_problem((intr.width, intr.height), image_size, "is for a {w}x{h} image")


# ---------------------------------------------------------------- file checks
class _FileChecker:
    """Reads each referenced file once and remembers the outcome (a dataset may share a camera_info); the
    comparison with each record's image size is made per record."""

    def __init__(self, root: Path):
        self.root = root
        self._images: Dict[str, Tuple[Optional[Tuple[int, int]], Optional[str]]] = {}
        self._depth: Dict[str, Tuple[Any, Optional[str]]] = {}
        self._info: Dict[str, Tuple[Any, Optional[str]]] = {}

    def image_size(self, rel: str) -> Tuple[Optional[Tuple[int, int]], Optional[str]]:
        if rel not in self._images:
            self._images[rel] = self._read_image(rel)
        return self._images[rel]

    def _read_image(self, rel: str) -> Tuple[Optional[Tuple[int, int]], Optional[str]]:
        import cv2

        path = self.root / rel
        if not path.is_file():
            return None, f"image {_path(rel)} not found"
        img = cv2.imread(str(path), DISPLAYED)   # as displayed: EXIF orientation applied, as training reads it
        if img is None or img.size == 0:
            return None, f"image {_path(rel)} cannot be read as an image"
        return (int(img.shape[1]), int(img.shape[0])), None

    def depth_error(self, rel: str, image_size: Optional[ImageSize] = None) -> Optional[str]:
        if rel not in self._depth:
            self._depth[rel] = read_depth_file(self.root / rel)
        return _named("depth", _path(rel), self._depth[rel], image_size, depth_array_problem)

    def camera_info_error(self, rel: str, image_size: Optional[ImageSize] = None) -> Optional[str]:
        if rel not in self._info:
            self._info[rel] = read_camera_info_file(self.root / rel)
        return _named("camera_info", _path(rel), self._info[rel], image_size, camera_info_problem)


def read_depth_file(path: Path) -> Tuple[Any, Optional[str]]:
    """(depth array, None) or (None, why it cannot be read, as the end of a sentence)."""
    import cv2
    import numpy as np

    if not path.is_file():
        return None, "not found"
    if path.suffix.lower() == ".npy":
        try:
            d = np.load(str(path), allow_pickle=False)
        except (OSError, ValueError):
            d = None
    else:
        d = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if d is None or d.size == 0:
        return None, "cannot be read as an image"
    return d, None


def read_camera_info_file(path: Path) -> Tuple[Any, Optional[str]]:
    """(parsed YAML document, None) or (None, why it cannot be read, as the end of a sentence)."""
    import yaml

    if not path.is_file():
        return None, "not found"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return None, f"is not valid YAML: {first}"


def _named(kind: str, shown: str, loaded: Tuple[Any, Optional[str]], image_size: Optional[ImageSize],
           problem: Any) -> Optional[str]:
    value, err = loaded
    err = err or problem(value, image_size)
    return None if err is None else f"{kind} {shown} {err}"


def companion_file_problem(kind: str, path: Path, image_size: Optional[ImageSize], shown: Optional[str] = None
                           ) -> Optional[str]:
    """What `check` would say about a depth (`kind` "depth") or camera_info file at `path` carried along with
    a colour image of `image_size`: importers ask before copying it, so an import never writes a file that
    `check` refuses afterwards."""
    shown = shown if shown is not None else _path(str(path))
    if kind == "depth":
        return _named(kind, shown, read_depth_file(path), image_size, depth_array_problem)
    return _named(kind, shown, read_camera_info_file(path), image_size, camera_info_problem)


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
                    errors.append(f"size {obj['width']}x{obj['height']} disagrees with image {_path(image)}, "
                                  f"which is {size[0]}x{size[1]}")
        # The image's size, when it is known, also decides whether depth and intrinsics belong to its view.
        seen = files.image_size(image)[0] if image is not None else None
        if depth is not None and (err := files.depth_error(depth, seen)):
            errors.append(err)
        if info is not None and (err := files.camera_info_error(info, seen)):
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


__all__ = ["ASPECT_TOLERANCE", "BadRecord", "CheckResult", "DatasetError", "SAMPLE_KEYS", "annotations_path",
           "camera_info_problem", "check_dataset", "companion_file_problem", "depth_array_problem", "load_dataset",
           "parse_line", "read_camera_info_file", "read_depth_file", "validate_record"]
