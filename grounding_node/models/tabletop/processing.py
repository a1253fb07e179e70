"""Pre- and post-processing for the tabletop model: image normalisation, tokenisation, candidate decoding.

Kept apart from the network so the backend, the training and the tests share one implementation.
"""

from __future__ import annotations

import re
from typing import List, Sequence, Tuple

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


def encode_phrases(phrases: Sequence[str], vocab: Sequence[str], max_words: int) -> torch.Tensor:
    """(P, L) word ids, 0-padded, unknown words -> <unk>, at least one id per phrase."""
    index = {w: i for i, w in enumerate(vocab)}
    ids = [[index.get(w, 1) for w in tokenize(p)][:max_words] or [1] for p in phrases]
    length = max(len(x) for x in ids)
    out = torch.zeros(len(ids), length, dtype=torch.long)
    for i, row in enumerate(ids):
        out[i, : len(row)] = torch.tensor(row)
    return out


def preprocess_image(rgb: np.ndarray, size: Tuple[int, int]) -> torch.Tensor:
    """HxWx3 uint8 RGB (any size) -> (1,3,h,w) float in [-0.5, 0.5]. Any aspect ratio is squashed to the
    network's: boxes come back normalised, so the 0-1024 grid is unaffected."""
    if (rgb.shape[1], rgb.shape[0]) != tuple(size):
        rgb = cv2.resize(rgb, tuple(size), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div_(255.0).sub_(0.5)[None]


def decode_candidates(det: torch.Tensor, max_candidates: int = 12, threshold: float = 0.25):
    """det (5,h,w) raw maps -> cells (K,2) long (x,y), boxes (K,4) normalised cx,cy,w,h, scores (K,).

    Peaks are local maxima of the centre heatmap (3x3 max-pool NMS) above `threshold`."""
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
    boxes = torch.stack([cx, cy, wh[0], wh[1]], dim=-1)
    return torch.stack([xs, ys], dim=-1), boxes, scores


def boxes_to_1024(boxes: torch.Tensor) -> np.ndarray:
    """normalised cx, cy, w, h -> xyxy on the 0-1024 grid, clipped."""
    b = boxes.detach().cpu().numpy().astype(np.float64)
    xyxy = np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)
    return np.clip(xyxy * 1024.0, 0.0, 1024.0)
