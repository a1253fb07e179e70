"""Raw model output -> boxes on the canonical 0-1024 grid, one pure function per family.

Every family speaks its own coordinate dialect; this module is the only place that knows them, so
the geometry downstream sees one convention (xyxy, 0-1024 on both axes, `pixel = v / 1024 * size`).
No torch, no transformers (numpy and the geometry's own box helpers only): these run in the remote
backend too, and are tested exactly against hand-computed values.

Each parser returns `ParsedBox` items carrying the label the model wrote and the character span of
the box tokens in the text, so a generative backend can score a box by the probabilities of exactly
the tokens that encode it. Malformed or truncated text yields fewer (or no) boxes, never an exception.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import re
from dataclasses import dataclass
from typing import Collection, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.geometry.boxes import GRID, clamp_box1024, pixels_to_box1024

Box = Tuple[float, float, float, float]
Size = Tuple[int, int]
log = logging.getLogger(__name__)


def finite_box(values: Sequence[float], text: str = "", limit: Optional[float] = None) -> bool:
    """True when every coordinate is a finite number (and, with `limit`, within +-`limit`); otherwise
    log a warning: the caller drops the box.

    `json.loads` accepts NaN and Infinity, and a huge literal (1e308) is finite but no coordinate of any
    image; every parser checks its numbers, so no NaN (or absurd) box reaches the geometry.
    """
    try:
        ok = all(math.isfinite(float(v)) and (limit is None or abs(float(v)) <= limit) for v in values)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        log.warning("dropped a box with a non-finite or absurd coordinate %s from the model's answer %.80r",
                    list(values), text)
    return ok


@dataclass(frozen=True)
class ParsedBox:
    """One box found in a model's text: `label` as written, `box_1024` xyxy, `span` = [start, end) in the text."""

    label: str
    box_1024: Box
    span: Tuple[int, int]


# -- coordinate conversions (pure, exact) ------------------------------------------------------------

def _ordered(x1: float, y1: float, x2: float, y2: float) -> Box:
    """xyxy with min/max restored (models sometimes emit corners swapped) and clipped to the grid."""
    return tuple(float(v) for v in clamp_box1024((x1, y1, x2, y2)))


def bins_to_1024(x1: float, y1: float, x2: float, y2: float, bins: int) -> Box:
    """Quantised bin indices (0..bins-1, x first) -> 0-1024, at bin centres: (b + 0.5) / bins * 1024.

    Florence-2 uses 1000 bins; its own post-processor dequantises to (b + 0.5) * W / 1000 pixels, which
    this matches exactly once multiplied by W / 1024.
    """
    s = GRID / float(bins)
    return _ordered((x1 + 0.5) * s, (y1 + 0.5) * s, (x2 + 0.5) * s, (y2 + 0.5) * s)


def scaled_to_1024(x1: float, y1: float, x2: float, y2: float, scale: float) -> Box:
    """Continuous coordinates normalised to `scale` (1000 for Qwen2-VL/Qwen3-VL, 1 for [0,1]) -> 0-1024."""
    s = GRID / float(scale)
    return _ordered(x1 * s, y1 * s, x2 * s, y2 * s)


def looks_fractional(coords: Sequence[float], text: str = "") -> bool:
    """True when a box meant for a 0-1000 or pixel scale was answered as 0-1 fractions (and say so).

    Loosely prompted Qwen-family checkpoints sometimes answer `[0.1, 0.2, 0.5, 0.6]`. Read on their own
    scale that is a box under a thousandth of the image at its corner, which no detection is, and its 3D
    point lands far from the object. Four coordinates within [0, 1] with one not whole can only be
    fractions; whole numbers ([0, 0, 1, 1]) stay on the family's scale, as the model wrote them.
    """
    values = [float(v) for v in coords]
    fractional = (all(0.0 <= v <= 1.0 for v in values) and any(v != int(v) for v in values)
                  and values[2] > values[0] and values[3] > values[1])
    if fractional:
        log.warning("the model answered 0-1 fractions %s where its family uses a 0-1000 or pixel scale; "
                    "read as fractions of the image (answer %.80r)", values, text)
    return fractional


def pixels_to_1024(box: Sequence[float], width: float, height: float) -> Box:
    """Pixel xyxy on an image of `width` x `height` -> 0-1024 (clipped: padding areas fall off the grid)."""
    return tuple(float(v) for v in pixels_to_box1024(box, width, height))


def kosmos2_patches_to_1024(ul_index: int, lr_index: int, per_side: int = 32) -> Box:
    """Kosmos-2 patch indices of the upper-left and lower-right cells -> 0-1024.

    Follows the model's training convention (as in its reference post-processing): corners at cell
    centres, except when the two cells share a row or a column (or are the same cell), where the box
    spans the cells' outer edges so it cannot be degenerate.
    """
    cell = GRID / per_side
    ul_x, ul_y = ul_index % per_side, ul_index // per_side
    lr_x, lr_y = lr_index % per_side, lr_index // per_side
    if ul_x == lr_x or ul_y == lr_y:
        return _ordered(ul_x * cell, ul_y * cell, (lr_x + 1) * cell, (lr_y + 1) * cell)
    return _ordered((ul_x + 0.5) * cell, (ul_y + 0.5) * cell, (lr_x + 0.5) * cell, (lr_y + 0.5) * cell)


# -- per-family parsers ------------------------------------------------------------------------------

_SPECIALS = re.compile(r"</?s>|<pad>|<\|endoftext\|>|<\|im_end\|>|<eos>|<bos>|</?poly>|<sep>")
# a polygon (<poly> x y x y ... [<sep> more parts] </poly>, the closing tag lost when truncated) or a box
_FLORENCE = re.compile(r"<poly>((?:<loc_\d+>|<sep>)*)(?:</poly>)?|((?:<loc_\d+>){4})")
_FLORENCE_NUM = re.compile(r"<loc_(\d+)>")


def _clean_label(text: str) -> str:
    return " ".join(_SPECIALS.sub(" ", text).replace(";", " ").split()).strip(" .,:")


def parse_florence2(text: str, bins: int = 1000, banned: Collection[str] = ()) -> List[ParsedBox]:
    """`a red mug<loc_x1><loc_y1><loc_x2><loc_y2>[<loc_..>x4 ...] blue cup<loc_..>...`, x first, 1000 bins.

    Consecutive boxes with no text between them belong to the preceding label (one phrase, several
    instances), as the model writes them. A trailing incomplete group (truncation) is ignored. A polygon
    (`<poly>` x, y pairs, parts split by `<sep>`; `<OPEN_VOCABULARY_DETECTION>` may answer with one) is one
    instance whose box is its extent. Labels in `banned` (lower case; the checkpoint's
    banned_grounding_tokens, "the image", "it") give no box, as the official post-processor skips them.
    """
    out: List[ParsedBox] = []
    label, pos = "", 0
    for m in _FLORENCE.finditer(text):
        between = _clean_label(text[pos:m.start()])
        if between:
            label = between
        pos = m.end()
        nums = [int(n) for n in _FLORENCE_NUM.findall(m.group(0))]
        if label.lower() in banned or not all(0 <= n < bins for n in nums):
            continue
        if m.group(1) is not None:   # a polygon: its extent, given two points at least
            xs, ys = nums[0:len(nums) - len(nums) % 2:2], nums[1::2]
            if len(ys) < 2:
                continue
            nums = [min(xs), min(ys), max(xs), max(ys)]
        box = bins_to_1024(*nums, bins=bins)
        if finite_box(box, text):
            out.append(ParsedBox(label, box, (m.start(), m.end())))
    return out


_PALIGEMMA = re.compile(r"((?:<loc\d{4}>){4})([^;<]*)")
_PALIGEMMA_NUM = re.compile(r"<loc(\d{4})>")


def parse_paligemma(text: str) -> List[ParsedBox]:
    """`<locY1><locX1><locY2><locX2> red mug ; <loc..>x4 blue cup`: **y first**, 1024 bins.

    The 1024-bin grid is the canonical one, so values pass through unchanged (pixel = v / 1024 * size,
    as the model was trained); only the axis order is swapped.
    """
    out: List[ParsedBox] = []
    for m in _PALIGEMMA.finditer(text):
        y1, x1, y2, x2 = (int(n) for n in _PALIGEMMA_NUM.findall(m.group(1)))
        if max(y1, x1, y2, x2) > 1023:
            continue
        box = _ordered(x1, y1, x2, y2)
        if finite_box(box, text):
            out.append(ParsedBox(_clean_label(m.group(2)), box, (m.start(1), m.end(1))))
    return out


_JSON_OBJECT = re.compile(r"\{[^{}]*\}")
_NUMBER = r"-?\d+(?:\.\d+)?"
_BBOX_KEY = re.compile(r'"(?:bbox_2d|bbox|box)"\s*:\s*\[([^\]]*)\]')


def parse_json_boxes(text: str, mode: str, input_size: Optional[Tuple[int, int]] = None) -> List[ParsedBox]:
    """Qwen2.5-VL / Qwen3-VL style: a (possibly fenced, possibly truncated) JSON list of
    `{"bbox_2d": [x1, y1, x2, y2], "label": "..."}`.

    mode "pixels": absolute pixels of the model's resized input, `input_size` = (W_in, H_in)
    (Qwen2.5-VL: grid_w*14 x grid_h*14); mode "1000": 0-1000 relative (Qwen2-VL, Qwen3-VL).
    Objects are read one by one, so a truncated list still yields its complete objects.
    """
    if mode == "pixels" and not input_size:
        raise ValueError("mode 'pixels' needs input_size=(W_in, H_in)")
    out: List[ParsedBox] = []
    for m in _JSON_OBJECT.finditer(text):
        try:
            obj = json.loads(m.group(0))
        except ValueError:
            continue
        if not isinstance(obj, dict):
            continue
        coords = obj.get("bbox_2d", obj.get("bbox", obj.get("box")))
        if not (isinstance(coords, list) and len(coords) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in coords)):
            continue
        label = obj.get("label", obj.get("name", ""))
        label = _clean_label(label) if isinstance(label, str) else ""
        if not finite_box(coords, text, limit=4.0 * (max(input_size) if mode == "pixels" else 1000.0)):
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            if looks_fractional(coords, text):
                box = scaled_to_1024(*coords, scale=1.0)
            elif mode == "pixels":
                box = pixels_to_1024(coords, input_size[0], input_size[1])
            else:
                box = scaled_to_1024(*coords, scale=1000.0)
        if not finite_box(box, text):
            continue
        key = _BBOX_KEY.search(m.group(0))
        span = (m.start() + key.start(1), m.start() + key.end(1)) if key else (m.start(), m.end())
        out.append(ParsedBox(label, box, span))
    return out


_QWEN2_REF = re.compile(r"<\|object_ref_start\|>(.*?)<\|object_ref_end\|>")
_QWEN2_BOX = re.compile(
    r"<\|box_start\|>\s*\(\s*(" + _NUMBER + r")\s*,\s*(" + _NUMBER + r")\s*\)\s*,\s*\(\s*("
    + _NUMBER + r")\s*,\s*(" + _NUMBER + r")\s*\)\s*<\|box_end\|>"
)


def parse_qwen2_tokens(text: str) -> List[ParsedBox]:
    """Qwen2-VL's native grounding:
    `<|object_ref_start|>red mug<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`, 0-1000 normalised.
    Boxes after a reference belong to it until the next reference."""
    refs = [(m.start(), _clean_label(m.group(1))) for m in _QWEN2_REF.finditer(text)]
    out: List[ParsedBox] = []
    for m in _QWEN2_BOX.finditer(text):
        label = ""
        for start, name in refs:
            if start < m.start():
                label = name
        coords = [float(m.group(i)) for i in range(1, 5)]
        if finite_box(coords, text, limit=4000.0):
            box = scaled_to_1024(*coords, scale=1.0 if looks_fractional(coords, text) else 1000.0)
            if finite_box(box, text):
                out.append(ParsedBox(label, box, (m.start(), m.end())))
    return out


_PLAIN_LIST = re.compile(r"\[\s*(" + _NUMBER + r")\s*,\s*(" + _NUMBER + r")\s*,\s*(" + _NUMBER + r")\s*,\s*("
                         + _NUMBER + r")\s*\]")
_PLAIN_PAIRS = re.compile(r"\(\s*(" + _NUMBER + r")\s*,\s*(" + _NUMBER + r")\s*\)\s*,\s*\(\s*(" + _NUMBER
                          + r")\s*,\s*(" + _NUMBER + r")\s*\)")


def parse_plain_boxes(text: str, scale: float = 1000.0) -> List[ParsedBox]:
    """Bare coordinates with no JSON keys and no special tokens: `[x1, y1, x2, y2]` or `(x1,y1),(x2,y2)`,
    normalised to `scale` (Qwen2-VL answers 0-1000 this way when its box tokens are skipped). No label."""
    out: List[ParsedBox] = []
    for pattern in (_PLAIN_LIST, _PLAIN_PAIRS):
        for m in pattern.finditer(text):
            coords = [float(m.group(i)) for i in range(1, 5)]
            if not finite_box(coords, text, limit=4.0 * scale):
                continue
            fractions = scale != 1.0 and looks_fractional(coords, text)
            box = scaled_to_1024(*coords, scale=1.0 if fractions else scale)
            if finite_box(box, text):
                out.append(ParsedBox("", box, (m.start(), m.end())))
        if out:
            break
    return out


def parse_qwen2(text: str, input_size: Optional[Size] = None) -> List[ParsedBox]:
    """Qwen2-VL: its native special tokens; failing those a JSON `bbox_2d` list; failing that bare
    `[x1, y1, x2, y2]` / `(x1,y1),(x2,y2)` coordinates; all on 0-1000 (the same chain local and remote)."""
    return parse_qwen2_tokens(text) or parse_json_boxes(text, "1000") or parse_plain_boxes(text, 1000.0)


_KOSMOS_PHRASE = re.compile(r"<phrase>(.*?)</phrase>")
_KOSMOS_OBJECT = re.compile(r"<object>(.*?)</object>")
_KOSMOS_PAIR = re.compile(r"<patch_index_(\d{4})>\s*<patch_index_(\d{4})>")


def parse_kosmos2(text: str, per_side: int = 32) -> List[ParsedBox]:
    """`<phrase> a red mug</phrase><object><patch_index_0044><patch_index_0863>`
    `[</delimiter_of_multi_objects/>...]</object>` (one string, wrapped here).

    An object block belongs to the phrase written just before it. Patch pairs are converted with
    `kosmos2_patches_to_1024`; an unterminated block (truncation) is ignored.
    """
    phrases = [(m.end(), _clean_label(m.group(1))) for m in _KOSMOS_PHRASE.finditer(text)]
    out: List[ParsedBox] = []
    n_cells = per_side * per_side
    for block in _KOSMOS_OBJECT.finditer(text):
        label = ""
        for end, name in phrases:
            if end <= block.start():
                label = name
        for pair in _KOSMOS_PAIR.finditer(block.group(1)):
            ul, lr = int(pair.group(1)), int(pair.group(2))
            if ul >= n_cells or lr >= n_cells:
                continue
            start = block.start(1) + pair.start()
            box = kosmos2_patches_to_1024(ul, lr, per_side)
            if finite_box(box, text):
                out.append(ParsedBox(label, box, (start, start + len(pair.group(0)))))
    return out


# -- from labels back to the command's phrases -------------------------------------------------------

def _norm(text: str) -> str:
    words = re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split()
    return " ".join(w for w in words if w not in ("a", "an", "the"))


def match_phrase(label: str, phrases: Sequence[str], cutoff: float = 0.6) -> Optional[int]:
    """Index of the phrase a model's label refers to: exact (ignoring case, articles, punctuation),
    then containment, then the closest by difflib ratio >= `cutoff`; None when nothing is close.
    A single-phrase command takes every box (models often paraphrase or drop the label)."""
    if len(phrases) == 1:
        return 0
    wanted = _norm(label)
    normed = [_norm(p) for p in phrases]
    if not wanted:
        return None
    for i, p in enumerate(normed):
        if p == wanted:
            return i
    contained = [i for i, p in enumerate(normed) if p and (p in wanted or wanted in p)]
    if len(contained) == 1:
        return contained[0]
    best, best_ratio = None, cutoff
    for i, p in enumerate(normed):
        ratio = difflib.SequenceMatcher(None, wanted, p).ratio()
        if ratio >= best_ratio:
            best, best_ratio = i, ratio
    return best


def assign_to_phrases(boxes: Iterable[ParsedBox], phrases: Sequence[str]) -> List[List[ParsedBox]]:
    """Group parsed boxes by the command phrase their label names; unmatched labels are dropped."""
    grouped: List[List[ParsedBox]] = [[] for _ in phrases]
    for box in boxes:
        index = match_phrase(box.label, phrases)
        if index is not None:
            grouped[index].append(box)
    return grouped


def parse_output(family: str, text: str, input_size: Optional[Size] = None) -> List[ParsedBox]:
    """Parse `text` with the parser of the family record called `family` (or one of its aliases)."""
    from grounding_node.models.family import get_family

    record = get_family(family)
    if record.parse is None:
        raise ValueError(f"family '{family}' does not answer in text: no parser")
    return record.parse(text, input_size)


# -- boxes back to text: each parser's inverse (the targets a fine-tuning loss sees) ------------------

def _bin(v: float, bins: int) -> int:
    return int(min(bins - 1, max(0, math.floor(v / GRID * bins))))


def format_florence2(label: str, box: Box, input_size: Optional[Size] = None, bins: int = 1000) -> str:
    """`label<loc_x1><loc_y1><loc_x2><loc_y2>`: 1000 bins, x first, clamped to <loc_999> (a box touching the
    right or bottom edge must not become <loc_1000>). `parse_florence2` of it gives the bin centres back."""
    x1, y1, x2, y2 = (_bin(v, bins) for v in box)
    return f"{label}<loc_{x1}><loc_{y1}><loc_{x2}><loc_{y2}>"


def format_paligemma(label: str, box: Box, input_size: Optional[Size] = None) -> str:
    """`<locY1><locX1><locY2><locX2> label`: y first, 1024 bins (the canonical grid, rounded)."""
    x1, y1, x2, y2 = (int(min(1023, max(0, round(v)))) for v in box)
    return f"<loc{y1:04d}><loc{x1:04d}><loc{y2:04d}><loc{x2:04d}> {label}"


def format_json_box(label: str, box: Box, input_size: Optional[Size] = None, mode: str = "1000") -> str:
    """`{"bbox_2d": [x1, y1, x2, y2], "label": ...}`: integer pixels of the resized input `input_size`
    (mode "pixels", Qwen2.5-VL) or 0-1000 (mode "1000", Qwen3-VL)."""
    if mode == "pixels":
        if not input_size:
            raise ValueError("mode 'pixels' needs input_size=(W_in, H_in)")
        scale = (input_size[0], input_size[1], input_size[0], input_size[1])
    else:
        scale = (1000.0,) * 4
    coords = [int(round(v / GRID * s)) for v, s in zip(box, scale)]
    return json.dumps({"bbox_2d": coords, "label": label})


def format_qwen2(label: str, box: Box, input_size: Optional[Size] = None) -> str:
    """Qwen2-VL's native answer, 0-1000:
    `<|object_ref_start|>label<|object_ref_end|><|box_start|>(x1,y1),(x2,y2)<|box_end|>`."""
    x1, y1, x2, y2 = (int(round(v / GRID * 1000.0)) for v in box)
    return f"<|object_ref_start|>{label}<|object_ref_end|><|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>"


def format_kosmos2(label: str, box: Box, input_size: Optional[Size] = None, per_side: int = 32) -> str:
    """`<phrase> label</phrase><object><patch_index_UL><patch_index_LR></object>` on the 32x32 grid:
    the cells holding the box's corners (the inverse of `kosmos2_patches_to_1024`)."""
    cell = GRID / per_side
    clip = lambda v: int(min(per_side - 1, max(0, v)))  # noqa: E731
    ul_x, ul_y = clip(math.floor(box[0] / cell)), clip(math.floor(box[1] / cell))
    lr_x, lr_y = clip(math.ceil(box[2] / cell) - 1), clip(math.ceil(box[3] / cell) - 1)
    return (f"<phrase> {label}</phrase><object><patch_index_{ul_y * per_side + ul_x:04d}>"
            f"<patch_index_{lr_y * per_side + lr_x:04d}></object>")


# -- detector heads (normalised centre boxes) --------------------------------------------------------

def cxcywh_to_1024(boxes, sx: float = 1.0, sy: float = 1.0) -> np.ndarray:
    """Normalised (cx, cy, w, h) boxes, (N, 4) or (4,), -> 0-1024 xyxy, vectorised; `sx`/`sy` stretch them
    when the model's frame is larger than the image (OWLv2: normalised to the padded square, sx = S / W,
    sy = S / H)."""
    arr = np.asarray(boxes, dtype=np.float64)
    cx, cy, w, h = arr[..., 0], arr[..., 1], arr[..., 2], arr[..., 3]
    xyxy = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=-1) * (np.array([sx, sy, sx, sy]) * GRID)
    return clamp_box1024(xyxy)


def owl_square_scale(width: int, height: int) -> Tuple[float, float]:
    """OWLv2 pads the image bottom/right to a square of side max(W, H) before predicting boxes
    normalised to that square: the stretch factors that map them back onto the image."""
    side = float(max(width, height))
    return side / float(width), side / float(height)
