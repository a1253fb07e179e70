"""Fine-tune the `tabletop` model on a user's phrase-box pairs, starting from the shipped checkpoint.

What differs from training in the simulator, and what this does about it:

- **Partial labels.** A user's image has boxes only for the phrases someone annotated; other objects are
  unlabelled, not background. The detector's heatmap is trained with positives at every annotated box,
  and the negative (background) term is switched off inside the boxes of the model's own confident
  detections that match no annotation, so an unannotated mug is not taught to be table.
- **Candidates as at inference.** A phrase scores the annotated objects plus the model's own other
  detections plus a few background cells: its referents (the phrase's boxes) are positives, everything
  else negative, and a phrase with no boxes (a negative example) has no positive at all.
- **New words** ("egg", "bottle", a part number) are added to the vocabulary when they occur at least
  twice in the training phrases (`grow_vocabulary`); their embeddings start at the mean of the shipped
  object nouns', so a new name starts out meaning "some object" rather than noise.
- **Not forgetting.** Each step also trains on a batch of the simulator scenes the default model was
  trained on (`replay`, with their full labels: boxes, attributes, referents), so accuracy on the original
  set-ups stays (the learning curve in docs/finetune.md measures both).
- **Small data.** BatchNorm statistics are frozen (a few user images per batch would overwrite them);
  the learning rate follows a one-cycle schedule; the best epoch by validation accuracy is kept.

The output folder holds `tabletop.pt` (the best checkpoint; `backend:=tabletop model:=OUT` loads it),
`last.pt` (model + optimiser for `--resume`), `state.json` and the model card.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.data.format import Sample
from grounding_node.finetune.common import CONFIG_FILE, FinetuneConfig, RunState

CHECKPOINT = "tabletop.pt"
LAST = "last.pt"
DEFAULT_LR = 5e-4
MIN_STEPS = 150          # default epochs give at least this many optimiser steps (measured: at 500 pairs
#                          validation accuracy stops rising after ~100)
N_BG = 2                 # background cells per image among a phrase's candidates
DROPOUT = 0.0   # measured: 0.1 did not help at 500 pairs; kept as an option (extra 'dropout')
CROP_SOURCE_SCALE = 2    # a crop model's candidate crops come from the image at twice the network input
#                          (640x480 for 320x240: the resolution its training frames had, data.CROP_SOURCE_SIZE)
DET_THRESHOLD = 0.3      # the model's own detections that count as (unannotated) objects
REPLAY_SCENES = 1000     # measured at 500 wrist pairs on the stage-3 model: 300 scenes cost the original scenes
#                          3.5 points, 1,000 cost 1.7 (and held-out 92.3% vs 91.8%); weight 1.0 instead: 89.8%


@dataclass
class Item:
    """One training image at the network's input size, with its objects and phrases."""

    rgb: np.ndarray                      # (h, w, 3) uint8, letterboxed into the backend's input size for it
    objects: np.ndarray                  # (N, 4) annotated objects, cx cy w h normalised to the network input
    phrases: List[Tuple[str, List[int]]]  # (phrase, indices into objects); [] = no referent
    frame: Optional[np.ndarray] = None   # for a crop model: the image letterboxed at CROP_SOURCE_SCALE x rgb's size


# -- data ----------------------------------------------------------------------------------------------
def _xyxy1024_to_cxcywh(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, np.float64).reshape(-1, 4) / 1024.0
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)


def _cxcywh_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from grounding_node.geometry.boxes import box_iou

    to_xyxy = lambda x: np.concatenate([x[:, :2] - x[:, 2:] / 2, x[:, :2] + x[:, 2:] / 2], 1)  # noqa: E731
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    return box_iou(to_xyxy(np.asarray(a, np.float64)), to_xyxy(np.asarray(b, np.float64)))


def make_items(samples: Sequence[Sample], root: Path, base: Tuple[int, int], crop_source: bool = False) -> List[Item]:
    """Read and letterbox each image once, into the input size the backend uses for its aspect
    (`processing.input_size`: 424x240 for 16:9), so training sees what inference sees; merge the phrases'
    boxes into one object list per image (the same object annotated for two phrases is one candidate: IoU > 0.8).
    `crop_source` (a crop model): also keep the image at `CROP_SOURCE_SCALE` times that size, where its
    candidate crops are cut, as the backend cuts them from the camera's frame."""
    import cv2

    from grounding_node.models.tabletop.processing import input_size, letterbox_uint8

    items = []
    for s in samples:
        bgr = cv2.imread(str(s.image_path(root)), cv2.IMREAD_COLOR)
        if bgr is None:
            raise FileNotFoundError(f"cannot read {s.image_path(root)}")
        full = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        size = input_size(bgr.shape[1::-1], base)
        rgb, lb = letterbox_uint8(full, size)
        frame = letterbox_uint8(full, (size[0] * CROP_SOURCE_SCALE, size[1] * CROP_SOURCE_SCALE))[0] \
            if crop_source else None
        objects: List[np.ndarray] = []
        phrases = []
        for g in s.groundings:
            idx = []
            for box in _xyxy1024_to_cxcywh(np.asarray(g.boxes_1024)) if g.boxes_1024 else []:
                box = lb.to_network(box[None])[0]
                ious = _cxcywh_iou(box[None], np.array(objects)) if objects else np.zeros((1, 0))
                if ious.size and ious.max() > 0.8:
                    idx.append(int(ious.argmax()))
                else:
                    objects.append(box)
                    idx.append(len(objects) - 1)
            phrases.append((g.phrase, idx))
        items.append(Item(rgb, np.array(objects, np.float32).reshape(-1, 4), phrases, frame))
    return items


def size_batches(items: Sequence[Item], batch: int, rng: np.random.Generator) -> List[List[int]]:
    """One epoch's batches (indices into `items`), each of one input size (images of several aspects cannot
    be stacked), in random order; every item once."""
    by_size: Dict[Tuple[int, ...], List[int]] = {}
    for i, it in enumerate(items):
        by_size.setdefault(it.rgb.shape, []).append(i)
    batches = []
    for idx in by_size.values():
        idx = [idx[j] for j in rng.permutation(len(idx))]
        batches += [idx[k:k + batch] for k in range(0, len(idx), batch)]
    return [batches[j] for j in rng.permutation(len(batches))]


# -- vocabulary ----------------------------------------------------------------------------------------
def new_words(phrases: Sequence[str], vocab: Sequence[str], min_count: int = 2) -> List[str]:
    """Words of the (normalised) training phrases the model does not know, seen at least `min_count` times."""
    from grounding_node.models.tabletop.language import normalize_phrase

    known = set(vocab)
    counts = Counter(w for p in phrases for w in normalize_phrase(p).split()
                     if w not in known and w.isalpha() and len(w) > 1)
    return sorted(w for w, c in counts.items() if c >= min_count)


def grow_vocabulary(model, cfg, words: Sequence[str]) -> List[str]:
    """Append `words` to the vocabulary and the word embedding (initialised at the mean of the known
    object nouns' embeddings, plus a little noise so new words stay distinguishable)."""
    import torch

    from grounding_node.sim.expressions import PLURALS, SHAPE_WORDS
    from grounding_node.sim.scene import SHAPES

    words = [w for w in words if w not in cfg.vocab]
    if not words:
        return []
    old = model.word_emb
    index = {w: i for i, w in enumerate(cfg.vocab)}
    nouns = [index[w] for s in SHAPES for n in SHAPE_WORDS[s] for w in (n, PLURALS[n]) if w in index]
    emb = torch.nn.Embedding(len(cfg.vocab) + len(words), old.embedding_dim, padding_idx=0)
    with torch.no_grad():
        emb.weight[: old.num_embeddings] = old.weight
        mean = old.weight[nouns].mean(0) if nouns else old.weight[2:].mean(0)
        gen = torch.Generator().manual_seed(len(cfg.vocab))
        noise = torch.randn(len(words), old.embedding_dim, generator=gen) * old.weight[2:].std() * 0.1
        emb.weight[old.num_embeddings:] = mean + noise
    model.word_emb = emb
    cfg.vocab = list(cfg.vocab) + list(words)
    return list(words)


def augment(item: Item, rng: np.random.Generator) -> Item:
    """A random zoom (0.85-1.15) and shift (up to 8 % of the frame) with the boxes moved alike, and a
    brightness/contrast change: a few hundred pairs are otherwise memorised pixel for pixel. No flips: a
    flip swaps left and right, which the phrases talk about."""
    import cv2

    s = float(rng.uniform(0.85, 1.15))
    tx, ty = rng.uniform(-0.08, 0.08, 2)
    gain, offset = rng.uniform(0.8, 1.2), rng.uniform(-20, 20)

    def warp(image: np.ndarray) -> np.ndarray:   # the same zoom, shift and exposure at any resolution
        h, w = image.shape[:2]
        m = np.array([[s, 0.0, (1 - s) * w / 2 + tx * w], [0.0, s, (1 - s) * h / 2 + ty * h]])
        out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(128, 128, 128))
        return np.clip(out.astype(np.float32) * gain + offset, 0, 255).astype(np.uint8)

    img = warp(item.rgb)
    b = item.objects.astype(np.float64)
    cx, cy = s * b[:, 0] + (1 - s) / 2 + tx, s * b[:, 1] + (1 - s) / 2 + ty
    x0, x1 = np.clip(cx - s * b[:, 2] / 2, 0, 1), np.clip(cx + s * b[:, 2] / 2, 0, 1)
    y0, y1 = np.clip(cy - s * b[:, 3] / 2, 0, 1), np.clip(cy + s * b[:, 3] / 2, 0, 1)
    boxes = np.stack([(x0 + x1) / 2, (y0 + y1) / 2, np.maximum(x1 - x0, 1e-3), np.maximum(y1 - y0, 1e-3)], 1)
    return Item(img, boxes.astype(np.float32).reshape(-1, 4), item.phrases,
                None if item.frame is None else warp(item.frame))


# -- losses --------------------------------------------------------------------------------------------
def _masked_focal(logits, target, neg_weight):
    """CenterNet focal loss with a per-pixel weight on the negative term (0 = unlabelled, not background)."""
    import torch

    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p ** 2 * (1 - target) ** 4 * (1 - pos) * neg_weight).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def user_step(model, items: Sequence[Item], cfg, rng: np.random.Generator) -> Dict:
    """The losses on a batch of user images (partial labels, see the module docstring)."""
    import torch
    from torch.nn import functional as F

    from grounding_node.models.tabletop.processing import box_crops, crops_tensor, decode_candidates, encode_phrases
    from grounding_node.training.train import MAX_OBJ, detection_targets, jittered

    images = torch.from_numpy(np.stack([it.rgb for it in items])).permute(0, 3, 1, 2).float().div(255).sub(0.5)
    feats, det = model.encode_image(images)
    b, _, h, w = det.shape
    # the size head works in fractions of the base input (see processing.decode_candidates)
    wh_scale = (cfg.image_size[0] / images.shape[3], cfg.image_size[1] / images.shape[2])

    class _Boxes:   # detection_targets reads `.boxes`
        def __init__(self, boxes):
            self.boxes = boxes

    heat, cells, wh, off, mask = detection_targets([_Boxes(it.objects[:MAX_OBJ]) for it in items], h, w)
    wh = wh - torch.log(torch.tensor(wh_scale, dtype=wh.dtype))
    neg_weight = torch.ones(b, h, w)
    others: List[Tuple[np.ndarray, np.ndarray]] = []
    for i, it in enumerate(items):
        with torch.no_grad():
            dcells, dboxes, _ = decode_candidates(det[i].detach(), 16, DET_THRESHOLD, wh_scale=wh_scale)
        dboxes_np = dboxes.numpy()
        iou = _cxcywh_iou(dboxes_np, it.objects)
        unmatched = (iou.max(1) < 0.3) if iou.size else np.ones(len(dboxes_np), bool)
        ocells, oboxes = dcells.numpy()[unmatched], dboxes_np[unmatched]
        for (cx, cy, bw, bh) in oboxes:
            x0, x1 = int(max(0, (cx - bw / 2) * w)), int(min(w, math.ceil((cx + bw / 2) * w)))
            y0, y1 = int(max(0, (cy - bh / 2) * h)), int(min(h, math.ceil((cy + bh / 2) * h)))
            neg_weight[i, y0:y1, x0:x1] = 0.0
        others.append((ocells[: 16 - min(len(it.objects), MAX_OBJ)], oboxes[: 16 - min(len(it.objects), MAX_OBJ)]))
    losses = {"heat": _masked_focal(det[:, 0], heat, neg_weight)}
    if mask.any():
        gather = lambda t: t.flatten(2).transpose(1, 2)[torch.arange(b)[:, None], cells[..., 1] * w + cells[..., 0]]  # noqa
        det_at = gather(det)
        losses["wh"] = F.l1_loss(det_at[..., 1:3][mask], wh[mask])
        losses["off"] = F.l1_loss(det_at[..., 3:5].sigmoid()[mask], off[mask])

    # candidates per image: annotated objects (jittered like detector errors), other detections, background
    k_max = 16 + N_BG
    cand_boxes = torch.zeros(b, k_max, 4)
    cand_cells = torch.zeros(b, k_max, 2, dtype=torch.long)
    cand_mask = torch.zeros(b, k_max, dtype=torch.bool)
    for i, it in enumerate(items):
        n = min(len(it.objects), MAX_OBJ)
        cand_boxes[i, :n] = jittered(it.objects[:n], rng)
        cand_cells[i, :n] = cells[i, :n]
        cand_mask[i, :n] = True
        oc, ob = others[i]
        m = len(ob)
        cand_boxes[i, n:n + m] = torch.from_numpy(ob.astype(np.float32))
        cand_cells[i, n:n + m] = torch.from_numpy(oc)
        cand_mask[i, n:n + m] = True
        for k in range(N_BG):
            cx, cy = int(rng.integers(w)), int(rng.integers(h))
            j = 16 + k
            cand_cells[i, j] = torch.tensor([cx, cy])
            cand_boxes[i, j] = torch.tensor([(cx + 0.5) / w, (cy + 0.5) / h, rng.uniform(0.03, 0.12),
                                             rng.uniform(0.03, 0.12)], dtype=torch.float32)
            cand_mask[i, j] = bool(heat[i, cy, cx] < 0.3) and bool(neg_weight[i, cy, cx] > 0)
    crops = None
    if cfg.crop_size:   # cut from the larger frame, as the backend cuts them from the camera's
        crops = crops_tensor(np.stack([box_crops(it.frame, cand_boxes[i].numpy(), cfg.crop_size)
                                       for i, it in enumerate(items)]))
    tokens = model.candidate_tokens(feats, cand_cells, cand_boxes, None, crops)
    rows, texts, labels = [], [], []
    for i, it in enumerate(items):
        for phrase, idx in it.phrases:
            rows.append(i)
            texts.append(phrase)
            lab = torch.zeros(k_max)
            lab[[j for j in idx if j < MAX_OBJ]] = 1.0
            labels.append(lab)
    if rows:
        r = torch.tensor(rows)
        words = encode_phrases(texts, cfg.vocab, cfg.max_words)
        logits = model.score(tokens[r], cand_mask[r], words, cand_boxes[r])
        lab, m = torch.stack(labels), cand_mask[r]
        losses["ref"] = F.binary_cross_entropy_with_logits(logits[m], lab[m])
    return losses


# -- validation ----------------------------------------------------------------------------------------
def backend_for(model, cfg, path: Path = Path("in-memory")):
    """A TabletopBackend around an in-memory model: validation runs the real inference path."""
    import torch

    from grounding_node.models.base import BackendConfig
    from grounding_node.models.tabletop.backend import TabletopBackend

    backend = TabletopBackend(BackendConfig(model=str(path), device="cpu"))
    backend.model, backend.cfg, backend.path = model, cfg, path
    backend.device, backend.dtype = "cpu", torch.float32
    backend.max_candidates, backend.candidate_threshold = 16, 0.25
    backend.reads_depth = bool(cfg.depth_tokens)   # validated with the samples' depth, as the node grounds
    return backend


def phrase_accuracy(backend, samples: Sequence[Sample], root: Path, threshold: float) -> float:
    """Fraction of phrases grounded right at the shipped threshold: the top box at IoU >= 0.5 with one of
    the phrase's boxes, or nothing above the threshold for a phrase with no box (the selection metric)."""
    from grounding_node.geometry.boxes import box_iou
    from grounding_node.grounding.pipeline import model_depth
    from grounding_node.grounding.types import GroundingSettings
    from grounding_node.training.dataset_eval import sample_frame

    ok, n = 0, 0
    for s in samples:
        if not s.groundings:
            continue
        frame = sample_frame(root, s)   # with the sample's depth, as the node and `eval --data` ground
        depth = model_depth(backend, frame, GroundingSettings())
        results = backend.ground(frame.rgb, [g.phrase for g in s.groundings], **({"depth": depth} if depth else {}))
        for g, dets in zip(s.groundings, results):
            above = [d for d in dets if d.score >= threshold]
            n += 1
            if g.is_negative:
                ok += not above
            elif above:
                ok += bool(box_iou(np.array([above[0].box_1024]), np.array(g.boxes_1024)).max() >= 0.5)
    return ok / max(n, 1)


# -- replay --------------------------------------------------------------------------------------------
def replay_data(n_scenes: int, progress: bool, size: Optional[Tuple[int, int]] = None):
    """The default model's own training domain (seeded, cached under the user cache dir), rendered at the
    model's input `size` (`TabletopConfig.image_size`, default `data.BASE_SIZE`), the size its own training
    scenes had."""
    from grounding_node.training.data import BASE_SIZE, load_or_render, size_tag

    size = size or BASE_SIZE
    if n_scenes <= 0:
        return []
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "grounding_node"
    return load_or_render(cache_dir / f"replay_train_{n_scenes}{size_tag(*size)}.pkl", range(n_scenes),
                          progress=progress, camera="train", style="train", width=int(size[0]), height=int(size[1]))


def replay_frames(replay: Sequence, progress: bool) -> List[np.ndarray]:
    """For a crop model: each replay scene's frame at the resolution its training crops came from
    (`data.render_crop_frames`, cached beside `replay_data`'s), or the scene's own frame where that
    resolution settled on another layout (`train.same_layout`), as in training."""
    from grounding_node.training.data import load_or_render_crops
    from grounding_node.training.train import crop_frame, decode_jpeg, same_layout

    if not replay:
        return []
    cache_dir = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "grounding_node"
    chunk = load_or_render_crops(cache_dir, 0, len(replay), progress=progress)
    if [int(v) for v in chunk["seeds"]] != [s.seed for s in replay]:
        raise RuntimeError(f"{cache_dir}: the replay crop frames are not the replay scenes' seeds")
    frames = [decode_jpeg(b) for b in chunk["jpeg"]]
    return [f if same_layout(s.rgb, f) else crop_frame(s, None) for s, f in zip(replay, frames)]


# -- the run -------------------------------------------------------------------------------------------
def _save(path: Path, model, cfg, meta: Dict, optimizer=None, scheduler=None) -> None:
    import torch

    blob = {"config": cfg.to_dict(), "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "meta": meta}
    if optimizer is not None:
        blob["optimizer"] = optimizer.state_dict()
        blob["scheduler"] = scheduler.state_dict()
    tmp = path.with_suffix(".tmp")
    torch.save(blob, str(tmp))
    tmp.replace(path)


EMBEDDING_LR_FACTOR = 20.0


def make_optimizer(model, mcfg, lr: float, n_known: int, factor: float = EMBEDDING_LR_FACTOR):
    """AdamW with the new words' embeddings in their own group: they start from a generic noun and must
    travel far in a few hundred steps (Adam moves each weight by about lr per step, so at the network's lr a
    new word barely leaves its starting point: measured, 'egg'/'bottle' phrases stayed at 61 %). The known
    words' rows get no gradient at all, so the shipped words keep their meaning."""
    import torch

    emb = model.word_emb.weight
    n_known = max(0, min(n_known, emb.shape[0]))
    if n_known < emb.shape[0]:
        keep = torch.zeros(emb.shape[0], 1)
        keep[n_known:] = 1.0
        emb.register_hook(lambda g: g * keep.to(g))
    rest = [p for n, p in model.named_parameters() if n != "word_emb.weight"]
    groups = [{"params": rest, "lr": lr, "weight_decay": 1e-4}]
    if n_known < emb.shape[0]:
        groups.append({"params": [emb], "lr": lr * factor, "weight_decay": 0.0})
    else:
        groups[0]["params"].append(emb)
    return torch.optim.AdamW(groups, lr=lr)


def _small_data_mode(model, dropout: float) -> None:
    """Train mode with BatchNorm statistics frozen (a few user images per batch would overwrite them) and
    the reasoner's dropout set (0 by default, as in pre-training; an option for very small sets)."""
    import torch

    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()
        elif isinstance(m, torch.nn.Dropout):
            m.p = dropout


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The random streams of one epoch (batch order, augmentation, candidates, replay picks; torch's for
    dropout), seeded by (run seed, epoch) as the transformers trainer does. Why: one stream seeded at the
    start made `--resume` replay epoch 1's batches and augmentation in place of the interrupted epoch's, so
    a resumed run ended with other weights than the uninterrupted one."""
    import torch

    torch.manual_seed(seed * 1000 + epoch)
    return np.random.default_rng([seed, epoch])


def train(cfg: FinetuneConfig, train_samples: List[Sample], val_samples: List[Sample], root: Path,
          state: RunState) -> RunState:
    """Fine-tune; writes the best checkpoint, `last.pt`, and `state.json` after every epoch."""
    import torch
    from tqdm import tqdm

    from grounding_node.models.family import resolve_threshold
    from grounding_node.models.tabletop.backend import DEFAULT_CHECKPOINT, load_model
    from grounding_node.training.train import WEIGHTS, batch_step

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    resuming = cfg.resume and (out / LAST).exists()
    base = out / LAST if resuming else Path(cfg.model) if cfg.model else DEFAULT_CHECKPOINT
    if base.is_dir():
        base = base / CHECKPOINT
    model, mcfg = load_model(base)
    added: List[str] = []
    if not resuming:
        added = grow_vocabulary(model, mcfg, new_words([g.phrase for s in train_samples for g in s.groundings],
                                                       mcfg.vocab))
    items = make_items([s for s in train_samples if s.groundings], root, mcfg.image_size, bool(mcfg.crop_size))
    if not items:
        raise ValueError("no annotated training images")
    replay = replay_data(int(cfg.extra.get("replay", REPLAY_SCENES)), cfg.progress, tuple(mcfg.image_size))
    frames = replay_frames(replay, cfg.progress) if mcfg.crop_size else None
    batch = max(1, min(cfg.batch_size, len(items)))
    steps_per_epoch = len(size_batches(items, batch, np.random.default_rng(0)))
    epochs = cfg.epochs or max(10, math.ceil(MIN_STEPS / steps_per_epoch))
    total = epochs * steps_per_epoch
    lr = cfg.lr or DEFAULT_LR
    opt = make_optimizer(model, mcfg, lr, n_known=int(cfg.extra.get("known_words") or len(mcfg.vocab) - len(added)),
                         factor=float(cfg.extra.get("embedding_lr_factor", EMBEDDING_LR_FACTOR)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=total,
                                                pct_start=0.1)
    if resuming:
        blob = torch.load(str(out / LAST), map_location="cpu", weights_only=True)
        opt.load_state_dict(blob["optimizer"])
        sched.load_state_dict(blob["scheduler"])
    threshold = resolve_threshold("auto", backend_for(model, mcfg))
    val = val_samples or train_samples   # a single image: validate on it (the card says so)
    if not resuming:   # (the base's validation accuracy is in the card's 'before' column)
        _save(out / CHECKPOINT, model, mcfg, {"epoch": 0, "added_words": added})
    cfg.extra.setdefault("known_words", len(mcfg.vocab) - len(added))
    cfg.extra.update({"epochs_run": epochs, "steps_per_epoch": steps_per_epoch, "added_words": added or
                      cfg.extra.get("added_words", []), "replay_scenes": len(replay), "lr": lr})
    # saved now, not only at the end: a killed run's --resume must know which embedding rows are new
    (out / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=1))
    t0 = time.time()
    replay_weight = float(cfg.extra.get("replay_weight", 0.5))
    for epoch in range(state.epoch, epochs):
        _small_data_mode(model, float(cfg.extra.get("dropout", DROPOUT)))
        rng = epoch_rng(cfg.seed, epoch)
        batches = size_batches(items, batch, rng)
        running: Dict[str, float] = {}
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{epochs}", disable=not cfg.progress,
                   leave=False)
        for k in bar:
            chunk = [items[j] for j in batches[k]]
            if cfg.extra.get("augment", True):
                chunk = [augment(it, rng) for it in chunk]
            losses = user_step(model, chunk, mcfg, rng)
            loss = sum(WEIGHTS[n] * v for n, v in losses.items())
            if replay:
                pick = rng.choice(len(replay), size=min(batch, len(replay)), replace=False)
                rl = batch_step(model, [replay[j] for j in pick], rng, 4, mcfg,
                                crop_frames=[frames[j] for j in pick] if frames is not None else None)
                loss = loss + replay_weight * sum(WEIGHTS[n] * v for n, v in rl.items())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            state.step += 1
            for n, v in losses.items():
                running[n] = running.get(n, 0.0) + v.item() / steps_per_epoch
            running["loss"] = running.get("loss", 0.0) + loss.item() / steps_per_epoch
            bar.set_postfix(loss=f"{loss.item():.3f}")
        model.eval()   # (eval() also turns dropout off; the saved weights do not depend on it)
        acc = phrase_accuracy(backend_for(model, mcfg), val, root, threshold)
        state.epoch = epoch + 1
        state.history.append({"epoch": epoch + 1, "train_loss": running.get("loss", float("nan")),
                              "ref_loss": running.get("ref", float("nan")), "val_acc": acc})
        # best trained epoch; a tie goes to the later one (a few dozen validation phrases often tie)
        if state.best_metric is None or acc >= state.best_metric:
            state.best_metric, state.best_epoch = acc, epoch + 1
            _save(out / CHECKPOINT, model, mcfg, {"epoch": epoch + 1, "val_acc": acc, "added_words": added})
        _save(out / LAST, model, mcfg, {"epoch": epoch + 1}, opt, sched)
        state.save(out)
        if cfg.progress:
            tqdm.write(f"epoch {epoch + 1}/{epochs}: loss {running.get('loss', float('nan')):.3f}, "
                       f"validation accuracy {100 * acc:.1f}% (best {100 * state.best_metric:.1f}%)")
        if cfg.max_minutes is not None and (time.time() - t0) / 60 > cfg.max_minutes:
            if cfg.progress:
                tqdm.write(f"stopping after {cfg.max_minutes} min (--max-minutes)")
            break
    return state


__all__ = ["CHECKPOINT", "Item", "backend_for", "epoch_rng", "grow_vocabulary", "make_items", "new_words",
           "phrase_accuracy", "size_batches", "train", "user_step"]
