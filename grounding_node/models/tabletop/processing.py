"""Pre- and post-processing for the tabletop model: image normalisation, tokenisation, candidate decoding.

Kept apart from the network so the backend, the training and the tests share one implementation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from torch.nn import functional as F

PAD, UNK = "<pad>", "<unk>"


def build_vocab(words: Sequence[str]) -> List[str]:
    return [PAD, UNK] + sorted(set(words))


def tokenize(text: str) -> List[str]:
    """The generator's tokenisation: lower case, split on whitespace and hyphens, no punctuation."""
    return [w for w in re.split(r"[\s\-]+", re.sub(r"[^\w\s\-']", " ", text.lower()).strip()) if w]


def encode_phrases(phrases: Sequence[str], vocab: Sequence[str], max_words: int,
                   normalize: bool = True) -> torch.Tensor:
    """(P, L) word ids, 0-padded, at least one id per phrase.

    With `normalize` (the default, used in training and inference alike) each phrase first goes through
    `language.normalize_phrase` (everyday speech -> the model's wording; unknown words spelled close to a
    known one are corrected, the rest dropped). Without it unknown words map to <unk>."""
    from grounding_node.models.tabletop.language import normalize_words

    index = {w: i for i, w in enumerate(vocab)}
    if normalize:
        toks = [normalize_words(p, vocab) for p in phrases]
    else:
        toks = [tokenize(p) for p in phrases]
    ids = [[index.get(w, 1) for w in t][:max_words] or [1] for t in toks]
    length = max(len(x) for x in ids)
    out = torch.zeros(len(ids), length, dtype=torch.long)
    for i, row in enumerate(ids):
        out[i, : len(row)] = torch.tensor(row)
    return out


PAD_VALUE = 128   # letterbox bars: mid grey (normalises to ~0)


@dataclass(frozen=True)
class Letterbox:
    """Where a frame of `src` (width, height) sits inside the network input of `dst` (width, height):
    scaled by one factor to (`w`, `h`) and placed at (`x0`, `y0`); the rest is grey bars."""

    src: Tuple[int, int]
    dst: Tuple[int, int]
    w: int
    h: int
    x0: int
    y0: int

    @staticmethod
    def fit(src: Tuple[int, int], dst: Tuple[int, int]) -> "Letterbox":
        sw, sh = int(src[0]), int(src[1])
        dw, dh = int(dst[0]), int(dst[1])
        scale = min(dw / sw, dh / sh)
        w = max(1, min(dw, int(round(sw * scale))))
        h = max(1, min(dh, int(round(sh * scale))))
        return Letterbox((sw, sh), (dw, dh), w, h, (dw - w) // 2, (dh - h) // 2)

    def to_network(self, boxes: np.ndarray) -> np.ndarray:
        """(N,4) cx, cy, w, h normalised to the frame -> normalised to the network input."""
        b = np.asarray(boxes, np.float64).copy()
        dw, dh = self.dst
        b[..., 0] = (b[..., 0] * self.w + self.x0) / dw
        b[..., 1] = (b[..., 1] * self.h + self.y0) / dh
        b[..., 2] *= self.w / dw
        b[..., 3] *= self.h / dh
        return b

    def to_frame(self, boxes: np.ndarray) -> np.ndarray:
        """(N,4) cx, cy, w, h normalised to the network input -> normalised to the frame (exact inverse)."""
        b = np.asarray(boxes, np.float64).copy()
        dw, dh = self.dst
        b[..., 0] = (b[..., 0] * dw - self.x0) / self.w
        b[..., 1] = (b[..., 1] * dh - self.y0) / self.h
        b[..., 2] *= dw / self.w
        b[..., 3] *= dh / self.h
        return b


def input_size(frame: Tuple[int, int], base: Tuple[int, int], stride: int = 8,
               max_widen: float = 2.0) -> Tuple[int, int]:
    """The network input (width, height) for a frame of `frame` (width, height): the frame's short side at
    the `base` height and a long side that keeps its aspect (a multiple of `stride`), never shorter than the
    base width and at most `max_widen` times it. Why: letterboxing a 16:9 frame into the 4:3 base used
    320x180 of 320x240, so its objects were a quarter smaller than the same objects in a 4:3 frame and 16:9
    scored 3 points under 4:3; the network is fully convolutional, so a wider input costs only its extra
    pixels. A portrait frame gets the base turned on its side (480x640 -> 240x320: the same pixels, its
    objects at the 4:3 scale; letterboxed into 320x240 it used 180x240 and scored 3 points less). Square
    frames, and frames beyond `max_widen`, are letterboxed into the nearest of those sizes."""
    bw, bh = int(base[0]), int(base[1])
    fw, fh = int(frame[0]), int(frame[1])
    long_side, short_side = max(fw, fh), max(min(fw, fh), 1)
    want = int(round(bh * long_side / short_side / stride)) * stride
    length = min(max(bw, want), int(bw * max_widen) // stride * stride)
    return (bh, length) if fh > fw else (length, bh)


def letterbox_uint8(rgb: np.ndarray, size: Tuple[int, int]) -> Tuple[np.ndarray, Letterbox]:
    """HxWx3 uint8 (any size and aspect) -> the network-sized uint8 image, aspect kept, grey bars."""
    lb = Letterbox.fit((rgb.shape[1], rgb.shape[0]), size)
    if (lb.w, lb.h) == (rgb.shape[1], rgb.shape[0]):
        inner = rgb
    else:
        inner = cv2.resize(rgb, (lb.w, lb.h), interpolation=cv2.INTER_AREA)
    if (lb.w, lb.h) == tuple(size):
        return np.ascontiguousarray(inner), lb
    out = np.full((size[1], size[0], 3), PAD_VALUE, np.uint8)
    out[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w] = inner
    return out, lb


# Exposure: the shipped model's training frames (sim light intensity, direction and colour; no exposure
# augmentation) put the 99th percentile of the per-pixel max channel of the network input between ~65 and
# 255: median 205, 99% above 94, 0.8% below 90 (800 renders of the `train` camera domain, 320x240 and
# 320x180 as trained, seeds 3,600,000-3,600,399). Frames darker than that lost phrases the clean frames got
# right: of the 49 phrases lost at x0.4 brightness (60 scenes, bench/robustness_tabletop.py), 36 were in
# frames with this statistic below 87 (measured on the 640x480 frame), and those frames gained none.
EXPOSURE_DARK_P99 = 90       # below this a frame is darker than ~99% of what training saw: lifted
EXPOSURE_TARGET_P99 = 205    # ... to the training frames' median
EXPOSURE_MAX_GAIN = 8.0      # three stops at most: a lens-capped camera's noise stays dark


def normalize_exposure(img: np.ndarray, lb: Letterbox) -> Tuple[np.ndarray, float]:
    """The network-sized uint8 frame from `letterbox_uint8` -> (frame, gain): a frame darker than the
    training frames (`EXPOSURE_DARK_P99`) is multiplied by the gain that brings its 99th percentile of the
    max channel to `EXPOSURE_TARGET_P99` (at most `EXPOSURE_MAX_GAIN`), in a copy; the letterbox bars keep
    their grey. Any other frame is returned as it is (the same object) with gain 1.0, so frames within the
    training range ground exactly as before. Why the 99th percentile: a gain that fixes under-exposure
    should scale the frame's white point, and the brightest 1% may be speculars. Why only outside the range:
    within it the model was trained to cope (x0.4 frames lost 13.0 points of Acc@0.5, 80.3% against 93.3%,
    and are at 92.1% with this; no clean phrase's grade changed, docs/bench/robustness.md). Over-exposure
    is not undone: clipped pixels carry no colour to restore, and scaling the frame down regained nothing
    measurable."""
    inner = img[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w]
    # per-pixel max channel and its histogram: np.maximum and calcHist take 0.2 ms on a 424x240 input, where
    # `inner.max(axis=2)` (a strided uint8 reduction) took 4 ms of a 25 ms budget
    peak = np.maximum(np.maximum(inner[..., 0], inner[..., 1]), inner[..., 2])
    counts = cv2.calcHist([np.ascontiguousarray(peak)], [0], None, [256], [0, 256]).ravel()
    p99 = int(np.searchsorted(np.cumsum(counts), 0.99 * peak.size))   # nearest rank ("inverted_cdf")
    if p99 == 0 or p99 >= EXPOSURE_DARK_P99:
        return img, 1.0
    gain = min(EXPOSURE_TARGET_P99 / p99, EXPOSURE_MAX_GAIN)
    lut = np.clip(np.round(np.arange(256) * gain), 0, 255).astype(np.uint8)
    out = img.copy()   # `letterbox_uint8` may hand back the caller's own frame
    out[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w] = cv2.LUT(np.ascontiguousarray(inner), lut)
    return out, gain


def apply_gain(images: np.ndarray, gain: float) -> np.ndarray:
    """uint8 images (e.g. `box_crops`) times `gain`, rounded and clipped, as `normalize_exposure` scales the
    frame; gain 1.0 returns them as they are."""
    if gain == 1.0:
        return images
    lut = np.clip(np.round(np.arange(256) * gain), 0, 255).astype(np.uint8)
    return lut[images]


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """Network-sized HxWx3 uint8 -> (1,3,h,w) float in [-0.5, 0.5], the network's normalisation."""
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0).sub_(0.5)[None]


def letterbox_depth(depth: np.ndarray, size: Tuple[int, int]) -> Tuple[np.ndarray, Letterbox]:
    """HxW raw depth (16UC1 millimetres or 32FC1 metres, 0 = no reading), registered to the colour frame
    -> the network-sized depth in the same units, placed like `letterbox_uint8` places the colour frame.
    Nearest-neighbour, so no value is invented between a near edge and the table behind it; the bars
    read 0 (no reading). A depth image of another resolution than the colour frame but the same aspect
    lands on the same network pixels."""
    depth = np.asarray(depth)
    lb = Letterbox.fit((depth.shape[1], depth.shape[0]), size)
    inner = depth if (lb.w, lb.h) == (depth.shape[1], depth.shape[0]) else \
        cv2.resize(depth, (lb.w, lb.h), interpolation=cv2.INTER_NEAREST)
    out = np.zeros((size[1], size[0]), depth.dtype)
    out[lb.y0:lb.y0 + lb.h, lb.x0:lb.x0 + lb.w] = inner
    return out, lb


DEPTH_RANGE_M = (0.05, 20.0)   # readings outside are treated as no reading
SIZE_RANGE_M = (1e-3, 10.0)    # metric box sizes are clipped here: a wild focal length cannot blow up a token


def depth_features(depth_m: np.ndarray, boxes: np.ndarray, focal: float) -> np.ndarray:
    """What aligned depth says about each candidate box, the `depth_tokens` input of the network.

    depth_m (H,W) metres at the network input (NaN or 0 = no reading); boxes (K,4) normalised cx, cy, w, h
    of that input; focal: the focal length in network pixels. -> (K,4) float32: [1, log z, log(10 w_m),
    log(10 h_m)] with z the median reading over the central half of the box (the node's 3D estimate reads
    the same region) and w_m, h_m the box's extent in metres at that depth (pinhole: pixels * z / focal).
    A box with no valid reading, or a bad focal length, gets zeros (what a colour-only frame gets)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    out = np.zeros((len(boxes), 4), np.float32)
    if not np.isfinite(focal) or focal <= 0 or len(boxes) == 0:
        return out
    h, w = depth_m.shape
    x0 = np.clip(np.floor((boxes[:, 0] - boxes[:, 2] / 4) * w), 0, w - 1).astype(int)
    x1 = np.clip(np.ceil((boxes[:, 0] + boxes[:, 2] / 4) * w), x0 + 1, w).astype(int)
    y0 = np.clip(np.floor((boxes[:, 1] - boxes[:, 3] / 4) * h), 0, h - 1).astype(int)
    y1 = np.clip(np.ceil((boxes[:, 1] + boxes[:, 3] / 4) * h), y0 + 1, h).astype(int)
    lo, hi = DEPTH_RANGE_M
    for k in range(len(boxes)):   # at most a few dozen boxes; each ROI is a different size
        roi = depth_m[y0[k]:y1[k], x0[k]:x1[k]]
        with np.errstate(invalid="ignore"):
            v = roi[np.isfinite(roi) & (roi >= lo) & (roi <= hi)]
        if v.size == 0:
            continue
        z = float(np.median(v))
        size_m = np.clip(np.maximum(boxes[k, 2:4] * (w, h), 0.5) * z / focal, *SIZE_RANGE_M)
        out[k] = (1.0, np.log(z), *np.log(10.0 * size_m))
    return out


def depth_metres(depth: np.ndarray, encoding: str, depth_scale: float = 0.0) -> np.ndarray:
    """Network-sized raw depth -> float metres, NaN = no reading (`geometry.depth.depth_to_metres`)."""
    from grounding_node.geometry.depth import depth_to_metres

    return depth_to_metres(depth, encoding, depth_scale)


def letterbox_image(rgb: np.ndarray, size: Tuple[int, int]) -> Tuple[torch.Tensor, Letterbox]:
    """HxWx3 uint8 RGB (any size) -> (1,3,h,w) float in [-0.5, 0.5] and the letterbox it went through."""
    img, lb = letterbox_uint8(rgb, size)
    return to_tensor(img), lb


def preprocess_image(rgb: np.ndarray, size: Tuple[int, int]) -> torch.Tensor:
    """HxWx3 uint8 RGB (any size) -> (1,3,h,w) float in [-0.5, 0.5], letterboxed (never squashed): map
    boxes back with `letterbox_image`'s Letterbox (`boxes_to_1024(boxes, lb)`)."""
    return letterbox_image(rgb, size)[0]


CROP_CONTEXT = 1.25   # a crop covers the box's longer side times this: the object and a rim around it


def box_crops(rgb: np.ndarray, boxes: np.ndarray, size: int, context: float = CROP_CONTEXT) -> np.ndarray:
    """HxWx3 uint8 frame (at the camera's resolution) and (K,4) boxes cx, cy, w, h normalised to it ->
    (K, size, size, 3) uint8: a square around each box (its longer side times `context`, at least 4 px),
    resized to size x size, area-averaged when shrinking; outside the frame reads as the letterbox grey.
    Why square: the object keeps its proportions (a can is taller than a mug is wide). Why from the
    camera's frame: the network input shows a far mug's handle in two pixels, which a 1280x720 frame
    shows in eight (`TabletopConfig.crop_size`). A box that is not finite gives a grey crop."""
    h, w = rgb.shape[:2]
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    out = np.full((len(b), size, size, 3), PAD_VALUE, np.uint8)
    ok = np.isfinite(b).all(axis=1)
    side = np.where(ok, np.maximum(np.abs(b[:, 2]) * w, np.abs(b[:, 3]) * h), 0.0) * context
    side = np.clip(np.nan_to_num(side), 4.0, 2.0 * max(h, w))
    x0 = np.floor(np.nan_to_num(b[:, 0]) * w - side / 2).astype(np.int64)
    y0 = np.floor(np.nan_to_num(b[:, 1]) * h - side / 2).astype(np.int64)
    n = np.ceil(side).astype(np.int64)
    for k in np.flatnonzero(ok):
        xa, ya = max(x0[k], 0), max(y0[k], 0)
        xb, yb = min(x0[k] + n[k], w), min(y0[k] + n[k], h)
        if xb <= xa or yb <= ya:
            continue
        if (xa, ya, xb, yb) == (x0[k], y0[k], x0[k] + n[k], y0[k] + n[k]):
            region = rgb[ya:yb, xa:xb]
        else:
            region = np.full((n[k], n[k], 3), PAD_VALUE, np.uint8)
            region[ya - y0[k]:yb - y0[k], xa - x0[k]:xb - x0[k]] = rgb[ya:yb, xa:xb]
        interp = cv2.INTER_AREA if n[k] > size else cv2.INTER_LINEAR
        out[k] = cv2.resize(np.ascontiguousarray(region), (size, size), interpolation=interp)
    return out


def crops_tensor(crops: np.ndarray) -> torch.Tensor:
    """(..., S, S, 3) uint8 crops -> (..., 3, S, S) float in [-0.5, 0.5], normalised as the frames are."""
    t = torch.from_numpy(np.ascontiguousarray(crops))
    return t.movedim(-1, -3).float().div_(255.0).sub_(0.5)


def decode_candidates(det: torch.Tensor, max_candidates: int = 12, threshold: float = 0.25,
                      wh_scale: Tuple[float, float] = (1.0, 1.0)):
    """det (5,h,w) raw maps -> cells (K,2) long (x,y), boxes (K,4) normalised cx,cy,w,h, scores (K,).

    Peaks are local maxima of the centre heatmap (3x3 max-pool NMS) above `threshold`. The size head
    predicts width and height as fractions of the input it was trained on, since a convolution sees pixels,
    not the input's extent: for another input size (`input_size`) `wh_scale` = trained / this input size
    (width, height) makes them fractions of this input (without it, boxes came out a third too wide at 16:9)."""
    heat = torch.sigmoid(det[0])
    h, w = heat.shape
    peaks = heat * (F.max_pool2d(heat[None, None], 3, 1, 1)[0, 0] == heat)
    scores, idx = peaks.flatten().topk(min(max_candidates, h * w))
    keep = scores >= threshold
    scores, idx = scores[keep], idx[keep]
    ys, xs = idx // w, idx % w
    off = det[3:5, ys, xs].sigmoid()
    cx = (xs.float() + off[0]) / w
    cy = (ys.float() + off[1]) / h
    wh = det[1:3, ys, xs].exp() * 0.05
    if wh_scale != (1.0, 1.0):
        wh = wh * torch.tensor(wh_scale, dtype=wh.dtype, device=wh.device)[:, None]
    boxes = torch.stack([cx, cy, wh[0], wh[1]], dim=-1)
    return torch.stack([xs, ys], dim=-1), boxes, scores


def boxes_to_1024(boxes, letterbox: Optional[Letterbox] = None) -> np.ndarray:
    """normalised cx, cy, w, h (of the network input when `letterbox` is given, else of the frame) -> xyxy
    on the frame's 0-1024 grid, clipped."""
    b = boxes.detach().cpu().numpy() if isinstance(boxes, torch.Tensor) else np.asarray(boxes)
    b = b.astype(np.float64)
    if letterbox is not None:
        b = letterbox.to_frame(b)
    xyxy = np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)
    return np.clip(xyxy * 1024.0, 0.0, 1024.0)
