"""Train the tabletop grounding model.

    python -m grounding_node.train --out grounding_node/models/tabletop/weights/tabletop.pt --steps 3000

Reproducible by seed (data seeds, expression sampling, initialisation, batch order). Training seeds are
0..n_scenes-1; evaluation uses seeds from 1_000_000 on, never seen here.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.nn import functional as F

from grounding_node.models.tabletop.modeling import DEPTH_FEATURES, TabletopConfig, TabletopGrounder
from grounding_node.models.tabletop.processing import (
    box_crops,
    build_vocab,
    crops_tensor,
    depth_features,
    depth_metres,
    encode_phrases,
)
from grounding_node.sim.expressions import VOCABULARY
from grounding_node.training.augment import augment
from grounding_node.training.data import (
    CHUNK,
    Sample,
    load_or_render,
    load_or_render_chunked,
    load_or_render_crops,
    load_or_render_depth,
)

MAX_OBJ = 10
N_BG = 2


def detection_targets(samples: List[Sample], h: int, w: int):
    """Gaussian centre heatmaps, and per object its cell, wh (log, relative to 0.05) and sub-cell offset."""
    b = len(samples)
    heat = np.zeros((b, h, w), np.float32)
    ys, xs = np.mgrid[0:h, 0:w]
    cells = np.zeros((b, MAX_OBJ, 2), np.int64)
    wh = np.zeros((b, MAX_OBJ, 2), np.float32)
    off = np.zeros((b, MAX_OBJ, 2), np.float32)
    mask = np.zeros((b, MAX_OBJ), bool)
    for i, s in enumerate(samples):
        for j, (cx, cy, bw, bh) in enumerate(s.boxes[:MAX_OBJ]):
            gx, gy = cx * w, cy * h
            cxi, cyi = min(int(gx), w - 1), min(int(gy), h - 1)
            sigma = max(0.6, 0.18 * math.sqrt(bw * w * bh * h))
            g = np.exp(-((xs - cxi) ** 2 + (ys - cyi) ** 2) / (2 * sigma ** 2))
            heat[i] = np.maximum(heat[i], g)
            cells[i, j] = (cxi, cyi)
            wh[i, j] = np.log(np.maximum([bw, bh], 1e-3) / 0.05)
            off[i, j] = (gx - cxi, gy - cyi)
            mask[i, j] = True
    return [torch.from_numpy(x) for x in (heat, cells, wh, off, mask)]


def jittered(boxes: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """(N,4) cx, cy, w, h with the detector's typical errors (5 % of the size, a tenth of that on the centre):
    the referent head trains on boxes like those it will see at inference. Shared with fine-tuning."""
    jitter = 1 + rng.normal(0, 0.05, (len(boxes), 4)) * np.array([0.1, 0.1, 1, 1])
    return torch.from_numpy((boxes * jitter).astype(np.float32))


def focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss on the centre heatmap."""
    p = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    neg = 1 - pos
    pos_loss = -(torch.log(p) * (1 - p) ** 2 * pos).sum()
    neg_loss = -(torch.log(1 - p) * p ** 2 * (1 - target) ** 4 * neg).sum()
    return (pos_loss + neg_loss) / pos.sum().clamp(min=1)


def batch_depth_features(boxes: torch.Tensor, depth: Sequence[Optional[Tuple[np.ndarray, float]]],
                         rng: np.random.Generator, dropout: float) -> torch.Tensor:
    """(B,K,4) boxes and per image (network-sized depth in mm, focal in network pixels) or None -> the
    (B,K,DEPTH_FEATURES) `depth_features` of every box, computed as the backend does at inference. With
    probability `dropout` an image gets zeros, as a colour-only frame does, so the model keeps working
    without depth."""
    out = torch.zeros(*boxes.shape[:2], DEPTH_FEATURES)
    for i, item in enumerate(depth):
        if item is None or rng.random() < dropout:
            continue
        depth_mm, focal = item
        out[i] = torch.from_numpy(depth_features(depth_metres(depth_mm, "16UC1"), boxes[i].numpy(), focal))
    return out


def batch_step(model: TabletopGrounder, batch: List[Sample], rng: np.random.Generator, exprs_per_image: int,
               cfg: TabletopConfig, type_weights: Optional[Dict[str, float]] = None,
               depth: Optional[Sequence[Optional[Tuple[np.ndarray, float]]]] = None,
               depth_dropout: float = 0.25, crop_frames: Optional[Sequence[np.ndarray]] = None,
               photometric: float = 0.0) -> Dict[str, torch.Tensor]:
    """One training batch's losses. `crop_frames`: per sample its frame at a camera resolution
    (letterboxed like `Sample.rgb`), which a `crop_size` model cuts its candidate crops from.
    `photometric`: the probability that a frame is seen through a random camera response
    (`augment.augment`: exposure, white balance, gamma); 0 draws nothing from `rng`, so runs without it
    are unchanged."""
    dev = next(model.parameters()).device   # targets are built on the CPU, then moved where the model is
    frames = [augment(s.rgb, rng, photometric) for s in batch] if photometric > 0 else [s.rgb for s in batch]
    images = torch.from_numpy(np.stack(frames)).to(dev).permute(0, 3, 1, 2).float().div(255).sub(0.5)
    feats, det = model.encode_image(images)
    b, _, h, w = det.shape
    heat, cells, wh, off, mask = detection_targets(batch, h, w)
    heat_d, cells_d, wh_d, off_d, mask_d = (t.to(dev) for t in (heat, cells, wh, off, mask))
    losses = {"heat": focal_loss(det[:, 0], heat_d)}
    gather = lambda t: t.flatten(2).transpose(1, 2)[torch.arange(b, device=dev)[:, None],  # noqa: E731
                                                    cells_d[..., 1] * w + cells_d[..., 0]]
    det_at = gather(det)                                                         # (B,K,5)
    losses["wh"] = F.l1_loss(det_at[..., 1:3][mask_d], wh_d[mask_d])
    losses["off"] = F.l1_loss(det_at[..., 3:5].sigmoid()[mask_d], off_d[mask_d])

    # candidate tokens: the true objects (boxes jittered like the detector's errors) + background cells
    boxes = torch.zeros(b, MAX_OBJ + N_BG, 4)
    all_cells = torch.zeros(b, MAX_OBJ + N_BG, 2, dtype=torch.long)
    cand_mask = torch.zeros(b, MAX_OBJ + N_BG, dtype=torch.bool)
    for i, s in enumerate(batch):
        n = min(len(s.boxes), MAX_OBJ)
        boxes[i, :n] = jittered(s.boxes[:n], rng)
        all_cells[i, :n] = cells[i, :n]
        cand_mask[i, :n] = True
        for k in range(N_BG):   # random non-object cells with plausible boxes
            cx, cy = int(rng.integers(w)), int(rng.integers(h))
            all_cells[i, MAX_OBJ + k] = torch.tensor([cx, cy])
            boxes[i, MAX_OBJ + k] = torch.tensor([(cx + 0.5) / w, (cy + 0.5) / h, rng.uniform(0.03, 0.12),
                                                  rng.uniform(0.03, 0.12)], dtype=torch.float32)
            cand_mask[i, MAX_OBJ + k] = heat[i, cy, cx] < 0.3
    depth_in = batch_depth_features(boxes, depth, rng, depth_dropout) if cfg.depth_tokens and depth else None
    crops = None
    if cfg.crop_size:
        if crop_frames is None:
            raise ValueError("a crop_size model trains with crop frames (the crop chunks)")
        crops = crops_tensor(np.stack([box_crops(f, boxes[i].numpy(), cfg.crop_size)
                                       for i, f in enumerate(crop_frames)])).to(dev)
    if depth_in is not None:
        depth_in = depth_in.to(dev)
    boxes, all_cells, cand_mask = boxes.to(dev), all_cells.to(dev), cand_mask.to(dev)
    tokens = model.candidate_tokens(feats, all_cells, boxes, depth_in, crops)
    attrs = torch.zeros(b, MAX_OBJ, 3, dtype=torch.long)
    for i, s in enumerate(batch):
        attrs[i, : len(s.attrs)] = torch.from_numpy(s.attrs[:MAX_OBJ])
    attrs, mask = attrs.to(dev), mask_d
    col, shp, siz = model.attributes(tokens[:, :MAX_OBJ])
    # the shape term has its own weight: shape is the attribute the model confuses most (card: cans 86 %)
    losses["attr"] = F.cross_entropy(col[mask], attrs[..., 0][mask]) + F.cross_entropy(siz[mask], attrs[..., 2][mask])
    losses["shape"] = F.cross_entropy(shp[mask], attrs[..., 1][mask])

    # referents: several expressions per image share its tokens (optionally oversampling some types)
    type_weights = type_weights or {}
    rows, texts, labels = [], [], []
    for i, s in enumerate(batch):
        weights = np.array([type_weights.get(e[0], 1.0) for e in s.expressions])
        picks = rng.choice(len(s.expressions), size=min(exprs_per_image, len(s.expressions)), replace=False,
                           p=weights / weights.sum())
        for k in picks:
            _, text, targets = s.expressions[k]
            rows.append(i)
            texts.append(text)
            lab = torch.zeros(MAX_OBJ + N_BG)
            lab[list(targets)] = 1.0
            labels.append(lab)
    rows_t = torch.tensor(rows, device=dev)
    words = encode_phrases(texts, cfg.vocab, cfg.max_words).to(dev)
    logits = model.score(tokens[rows_t], cand_mask[rows_t], words, boxes[rows_t])
    lab = torch.stack(labels).to(dev)
    m = cand_mask[rows_t]
    losses["ref"] = F.binary_cross_entropy_with_logits(logits[m], lab[m])
    return losses


WEIGHTS = {"heat": 1.0, "wh": 1.0, "off": 1.0, "attr": 0.3, "shape": 0.3, "ref": 2.0}


def full_loss_weights(overrides: Optional[Dict[str, float]] = None) -> Dict[str, float]:
    """`WEIGHTS` with a caller's overrides. An overridden `attr` weight carries to `shape` unless `shape` is
    given too, so a caller who sets only `attr` (as every recipe stage does) keeps the loss it had when one
    weight covered colour, shape and size."""
    given = dict(overrides or {})
    if "attr" in given:
        given.setdefault("shape", given["attr"])
    return dict(WEIGHTS, **given)


def train(out: Path, steps: int, n_scenes: int, seed: int, batch_size: int, exprs_per_image: int, lr: float,
          cache: Optional[Path], log_every: int = 50, progress: bool = True, threads: int = 2,
          init: Optional[Path] = None,
          type_weights: Optional[Dict[str, float]] = None, camera: str = "train", style: str = "train",
          save_every: int = 250, loss_weights: Optional[Dict[str, float]] = None,
          stop_after: Optional[int] = None, roi_pool: int = 0, depth_tokens: bool = False,
          depth_dropout: float = 0.25, image_size: Optional[Tuple[int, int]] = None,
          crop_size: int = 0, new_lr_mult: float = 1.0, deep_roi: int = 0, first_scene: int = 0,
          device: str = "cpu", photometric: float = 0.0) -> Dict[str, float]:
    """Train (or fine-tune `init`) on scene seeds first_scene..first_scene+n_scenes-1 for `steps` steps on
    `device`; returns the first and final loss and the minutes taken. Checkpoints are written every
    `save_every` steps and at the end, always with CPU tensors."""
    from tqdm import tqdm

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(seed)
    if init is not None:   # fine-tune a checkpoint (same architecture and vocabulary)
        from grounding_node.models.tabletop.backend import load_model

        model, cfg = load_model(init)
        loaded = set(model.state_dict())
        if roi_pool and not cfg.roi_pool:
            model, cfg = add_roi_pool(model, cfg, roi_pool)
        if depth_tokens and not cfg.depth_tokens:
            model, cfg = upgrade(model, cfg, depth_tokens=True)
        if image_size is not None and tuple(image_size) != tuple(cfg.image_size):
            model, cfg = resize_input(model, cfg, image_size)
        if crop_size and not cfg.crop_size:
            model, cfg = upgrade(model, cfg, crop_size=crop_size)
        if deep_roi and not cfg.deep_roi:
            model, cfg = upgrade(model, cfg, deep_roi=deep_roi)
    else:
        cfg = TabletopConfig(vocab=build_vocab(VOCABULARY), roi_pool=roi_pool, depth_tokens=depth_tokens,
                             crop_size=crop_size, deep_roi=deep_roi,
                             **({"image_size": tuple(image_size)} if image_size else {}))
        model = TabletopGrounder(cfg)
    size = tuple(cfg.image_size)
    if cache is not None and cache.suffix == ".pkl":   # one explicit cache file for all scenes
        data = load_or_render(cache, range(first_scene, first_scene + n_scenes), progress=progress, camera=camera,
                              style=style, width=size[0], height=size[1])
    else:   # a cache folder of 8,000-scene chunks (default data/), at the model's input size
        data = load_or_render_chunked(cache or Path("data"), n_scenes, camera=camera, style=style, progress=progress,
                                      size=size, start=first_scene)
    if data and data[0].rgb.shape[:2] != (size[1], size[0]):
        raise RuntimeError(f"the cached scenes are {data[0].rgb.shape[1]}x{data[0].rgb.shape[0]}, the model's "
                           f"input is {size[0]}x{size[1]}: render them at that size or use another --cache")
    depth = training_depth(cache or Path("data"), data, camera, progress, size, first_scene) \
        if cfg.depth_tokens else None
    crop_jpegs = training_crops(cache or Path("data"), data, camera, progress, first_scene) \
        if cfg.crop_size else None
    model.to(device)
    # parameters the --init checkpoint lacks (an upgrade's new inputs) start from scratch while the rest is
    # fine-tuned: `new_lr_mult` gives them a larger learning rate
    fresh = [p for n, p in model.named_parameters() if init is not None and n not in loaded]
    rest = [p for n, p in model.named_parameters() if init is None or n in loaded]
    groups = [{"params": rest, "lr": lr}] + ([{"params": fresh, "lr": lr * new_lr_mult}] if fresh else [])
    opt = torch.optim.AdamW(groups, lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in groups], total_steps=steps,
                                                pct_start=0.1)
    model.train()
    t0 = time.time()
    history: Dict[str, float] = {}
    first = None
    bar = tqdm(range(steps), desc="train", disable=not progress)
    running: Dict[str, float] = {}
    weights = full_loss_weights(loss_weights)
    for step in bar:
        if stop_after is not None and step >= stop_after:   # a prefix of the `steps` schedule
            break
        idx = rng.choice(len(data), size=batch_size, replace=False)
        frames = [crop_frame(data[i], crop_jpegs[i]) for i in idx] if crop_jpegs is not None else None
        losses = batch_step(model, [data[i] for i in idx], rng, exprs_per_image, cfg, type_weights,
                            [depth[i] for i in idx] if depth is not None else None, depth_dropout, frames,
                            photometric)
        loss = sum(weights[k] * v for k, v in losses.items())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        for k, v in losses.items():
            running[k] = 0.9 * running.get(k, v.item()) + 0.1 * v.item()
        running["total"] = 0.9 * running.get("total", loss.item()) + 0.1 * loss.item()
        if first is None:
            first = loss.item()
        if step % log_every == 0 or step == steps - 1:
            bar.set_postfix({k: f"{v:.3f}" for k, v in running.items()})
            if not progress:
                print(f"step {step} " + " ".join(f"{k}={v:.4f}" for k, v in running.items()), flush=True)
        if out is not None and step > 0 and step % save_every == 0:
            save(model, cfg, out, {"step": step, "seed": seed, "n_scenes": n_scenes, "init": str(init or "")})
    history = {"first_loss": first, "final_loss": running["total"], "minutes": (time.time() - t0) / 60}
    if out is not None:
        save(model, cfg, out, {"step": min(steps, stop_after or steps), "schedule_steps": steps, "seed": seed,
                               "n_scenes": n_scenes, "init": str(init or ""),
                               "type_weights": dict(type_weights or {}), **history})
    return history


def training_depth(folder: Path, data: List[Sample], camera: str, progress: bool,
                   size: Tuple[int, int] = (320, 240), first_scene: int = 0) -> List[Tuple[np.ndarray, float]]:
    """Per training sample (network-sized depth in mm, focal length in network pixels), from the depth
    chunks beside the colour chunks (rendered when missing: `python -m grounding_node.training.data A B
    --depth`). Checked seed by seed against the colour samples."""
    out: List[Tuple[np.ndarray, float]] = []
    n = len(data)
    for start in range(0, n, CHUNK):
        chunk = load_or_render_depth(folder if folder.is_dir() else folder.parent, first_scene + start,
                                     first_scene + min(start + CHUNK, n), camera=camera, progress=progress,
                                     size=tuple(size))
        out += list(zip(chunk["depth_mm"], chunk["focal"].astype(float)))
        seeds = [s.seed for s in data[start:start + CHUNK]]
        if list(chunk["seeds"]) != seeds:
            raise RuntimeError(f"depth chunk {start}.. does not match the colour samples' seeds")
    return out


SAME_LAYOUT_MAX_DIFF = 12.0   # mean |difference| (0-255) of a crop frame shrunk onto its colour sample:
#                               measured on 300 seeds, the same layout gives under 5, another layout over 30


def same_layout(sample_rgb: np.ndarray, frame: np.ndarray) -> bool:
    """Whether a camera-resolution frame shows the colour sample's scene. Why it can differ: the sim
    resamples a layout until every object shows enough pixels and none touches the border, a test made
    in pixels, so about 3 % of seeds settle on another layout at 640x480 than at 320x240, and crops cut
    there with the sample's boxes would show other objects or the table."""
    import cv2

    small = cv2.resize(frame, (sample_rgb.shape[1], sample_rgb.shape[0]), interpolation=cv2.INTER_AREA)
    return float(np.abs(small.astype(np.int16) - sample_rgb.astype(np.int16)).mean()) <= SAME_LAYOUT_MAX_DIFF


def training_crops(folder: Path, data: List[Sample], camera: str, progress: bool,
                   first_scene: int = 0) -> List[Optional[bytes]]:
    """Per training sample its JPEG frame at a camera resolution (`data.render_crop_frames`), from the
    crop chunks beside the colour chunks (rendered when missing: `python -m grounding_node.training.data A B
    --crops`), checked seed by seed against the colour samples; None where the frame shows another layout
    (`same_layout`), whose crops are then cut from the sample itself (`crop_frame`)."""
    out: List[Optional[bytes]] = []
    n = len(data)
    for start in range(0, n, CHUNK):
        chunk = load_or_render_crops(folder if folder.is_dir() else folder.parent, first_scene + start,
                                     first_scene + min(start + CHUNK, n), camera=camera, progress=progress)
        if [int(v) for v in chunk["seeds"]] != [s.seed for s in data[start:start + CHUNK]]:
            raise RuntimeError(f"crop chunk {start}.. does not match the colour samples' seeds")
        out += [buf if same_layout(s.rgb, decode_jpeg(buf)) else None
                for s, buf in zip(data[start:start + CHUNK], chunk["jpeg"])]
    other = sum(buf is None for buf in out)
    if other:
        print(f"crop frames: {other} of {len(out)} seeds show another layout at the camera resolution; "
              "their crops come from the network-sized frame", flush=True)
    return out


def crop_frame(sample: Sample, buf: Optional[bytes]) -> np.ndarray:
    """The frame a training sample's crops are cut from: its camera-resolution frame, or the sample's own
    network-sized frame where that shows another layout (`training_crops`)."""
    return decode_jpeg(buf) if buf is not None else sample.rgb


def decode_jpeg(buf: bytes) -> np.ndarray:
    """JPEG bytes -> HxWx3 uint8 RGB."""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("unreadable JPEG in a crop chunk")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# Each token input that `upgrade` can add: the config field that turns it on, the prefix of its projection into
# the token (zero-initialised, so the upgraded model grounds as before) and the prefixes of its own encoder (which
# the zero projection silences). One table, read by `upgrade` and by `average_checkpoints`.
UPGRADE_INPUTS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "roi_pool": ("roi_proj.", ()),
    "depth_tokens": ("depth_proj.", ()),
    "crop_size": ("crop_proj.", ("crop_net.",)),
    "deep_roi": ("deep_roi_proj.", ()),
}


def upgrade(model: TabletopGrounder, cfg: TabletopConfig, **changes):
    """The same trained model with token inputs added (`roi_pool`: box-pooled features; `depth_tokens`:
    measured depth and metric size; `crop_size`: crops of the camera's frame; `deep_roi`: box-pooled deep
    features). The new projections start at zero, so the upgraded model grounds
    exactly as before until it trains."""
    from dataclasses import replace

    new_cfg = replace(cfg, **changes)
    new = TabletopGrounder(new_cfg)
    missing, unexpected = new.load_state_dict(model.state_dict(), strict=False)
    new_inputs = tuple(p for proj, own in UPGRADE_INPUTS.values() for p in (proj, *own))
    if unexpected or any(not k.startswith(new_inputs) for k in missing):
        raise RuntimeError(f"cannot upgrade the model with {changes}: missing {missing}, unexpected {unexpected}")
    return new, new_cfg


def resize_input(model: TabletopGrounder, cfg: TabletopConfig, image_size: Tuple[int, int]):
    """The same trained model for another network input size (`TabletopConfig.image_size`, the base that
    `processing.input_size` scales frames to). The network is fully convolutional, so every weight carries
    over; only the size head's unit changes: it predicts box sizes as fractions of the input it trained on
    (`decode_candidates`), and at a larger input the same object covers more pixels. Shifting its log-size
    biases by log(old/new) keeps every box the same for the same input pixels, so training starts from the
    detector it had (at the larger input its objects are larger, as on a nearer camera)."""
    from dataclasses import replace

    new_cfg = replace(cfg, image_size=(int(image_size[0]), int(image_size[1])))
    new = TabletopGrounder(new_cfg)
    new.load_state_dict(model.state_dict())
    with torch.no_grad():
        new.det_head[-1].bias[1] += math.log(cfg.image_size[0] / new_cfg.image_size[0])
        new.det_head[-1].bias[2] += math.log(cfg.image_size[1] / new_cfg.image_size[1])
    return new, new_cfg


def add_roi_pool(model: TabletopGrounder, cfg: TabletopConfig, r: int):
    """`upgrade` with box-pooled token features (`TabletopConfig.roi_pool`)."""
    return upgrade(model, cfg, roi_pool=r)


def save(model: TabletopGrounder, cfg: TabletopConfig, out: Path, meta: Dict) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}   # loads anywhere
    tmp = out.with_suffix(".tmp")
    torch.save({"config": cfg.to_dict(), "state_dict": state, "meta": meta}, str(tmp))
    tmp.replace(out)


def _config_defaults() -> Dict:
    """`TabletopConfig`'s fields with a plain default (the ones added after the first checkpoints)."""
    from dataclasses import MISSING, fields

    return {f.name: f.default for f in fields(TabletopConfig) if f.default is not MISSING}


def average_checkpoints(trained: Path, other: Path, out: Path) -> None:
    """Write the uniform average of two checkpoints of one architecture (a "model soup") to `out`; integer
    buffers (BatchNorm's step counts) come from `trained`. Why: stage 4 continued stage 3 on more scenes and
    gained accuracy but lost box precision (3D hit); the average of the two kept both (docs/models/tabletop.md).
    `other` may be the checkpoint `trained` was upgraded from with one new token input (`UPGRADE_INPUTS`:
    `--roi-pool`, `--depth-tokens`, `--crop-tokens`, `--deep-roi`); it counts with that input's projection at
    zero, the upgrade's starting point. It may also be the checkpoint `trained` was resized from
    with `--image-size`; it counts as `resize_input` made it (its size head's biases shifted)."""
    a = torch.load(str(trained), map_location="cpu", weights_only=True)
    b = torch.load(str(other), map_location="cpu", weights_only=True)
    # a file written before a field existed lacks it: it holds the field's default (as `load_model` reads it)
    a, b = (dict(x, config={**_config_defaults(), **x["config"]}) for x in (a, b))
    sa, sb = a["state_dict"], b["state_dict"]
    for field, (proj, own) in UPGRADE_INPUTS.items():
        if a["config"] != b["config"] and not b["config"].get(field) \
                and a["config"] == dict(b["config"], **{field: a["config"][field]}):
            # `other` is the model `trained` was upgraded from with `field`: it counts with the zero projection
            # the upgrade started from, and with `trained`'s own encoder for that input (silenced by the zeros)
            sb = dict(sb, **{k: (torch.zeros_like(v) if k.startswith(proj) else v)
                             for k, v in sa.items() if k.startswith((proj, *own))})
            b = dict(b, config=a["config"])
    size_a, size_b = tuple(a["config"]["image_size"]), tuple(b["config"]["image_size"])
    if size_a != size_b and a["config"] == dict(b["config"], image_size=a["config"]["image_size"]):
        # `other` is the model `trained` was resized from (`resize_input`): it counts as resized
        from grounding_node.models.tabletop.backend import load_model

        resized, _ = resize_input(*load_model(other), size_a)
        sb = resized.state_dict()
        b = dict(b, config=a["config"])
    if a["config"] != b["config"] or sa.keys() != sb.keys():
        raise ValueError(f"cannot average {trained} and {other}: different architectures")
    state = {k: ((sa[k].float() + sb[k].float()) / 2).to(sa[k].dtype) if sa[k].is_floating_point() else sa[k]
             for k in sa}
    tmp = out.with_suffix(".tmp")
    torch.save({"config": a["config"], "state_dict": state,
                "meta": {**a["meta"], "averaged_with": str(other)}}, str(tmp))
    tmp.replace(out)


def _image_size(text: str) -> Tuple[int, int]:
    """`--image-size WxH`: positive multiples of the network's stride (8), so the stride-8 detection grid
    covers the input exactly; anything else is refused before scenes are rendered."""
    stride = TabletopConfig.stride
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not WxH, e.g. 384x288") from None
    if w <= 0 or h <= 0 or w % stride or h % stride:
        raise argparse.ArgumentTypeError(f"'{text}': width and height must be positive multiples of {stride}")
    return w, h


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("grounding_node/models/tabletop/weights/tabletop.pt"))
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--scenes", type=int, default=3000)
    ap.add_argument("--first-scene", type=int, default=0, metavar="S",
                    help="train on scene seeds S..S+scenes-1 (chunks of 8,000 from S; default 0)")
    ap.add_argument("--device", default="cpu", help="torch device to train on, e.g. cuda (default cpu)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--exprs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path("data"),
                    help="dataset cache: a folder of 8,000-scene chunk files (default data/), or one .pkl file")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--log-every", type=int, default=50, metavar="K", help="log the running losses every K steps")
    ap.add_argument("--init", type=Path, default=None, help="fine-tune from this checkpoint")
    ap.add_argument("--camera", default="train", help="sim camera domain of the training scenes "
                    "(train = domain randomisation minus the held-out bands; classic = the old fixed camera)")
    ap.add_argument("--style", default="train", help="phrasing: train (everyday wordings, half the time) or plain")
    ap.add_argument("--stop-after", type=int, default=None, help="stop after this many steps of the --steps schedule")
    ap.add_argument("--attr-weight", type=float, default=WEIGHTS["attr"],
                    help="weight of the colour and size losses (and of shape, unless --shape-weight)")
    ap.add_argument("--shape-weight", type=float, default=None,
                    help="weight of the shape loss alone (default: --attr-weight)")
    ap.add_argument("--roi-pool", type=int, default=0, metavar="R",
                    help="pool an R x R grid of stride-4 features over each candidate box into its token "
                         "(added to an --init model that lacks it; 0 = keep the checkpoint's setting)")
    ap.add_argument("--depth-tokens", action="store_true",
                    help="give each candidate token its measured depth and metric size (added to an --init model "
                         "that lacks it); needs the depth chunks (rendered when missing)")
    ap.add_argument("--depth-dropout", type=float, default=0.25,
                    help="fraction of training images shown without depth, so the model keeps working on "
                         "colour-only frames")
    ap.add_argument("--image-size", default=None, metavar="WxH", type=_image_size,
                    help="network input (base) size, e.g. 384x288; an --init model at another size is resized "
                         "(`resize_input`); the scenes are rendered at this size (default: the checkpoint's, or "
                         "320x240)")
    ap.add_argument("--crop-tokens", type=int, default=0, metavar="S",
                    help="give each candidate token an S x S crop of its box from the camera-resolution frame "
                         "(added to an --init model that lacks it); needs the crop chunks (rendered when missing)")
    ap.add_argument("--deep-roi", type=int, default=0, metavar="R",
                    help="pool an R x R grid of the stride-8 (deep) features over each candidate box into its "
                         "token (added to an --init model that lacks it)")
    ap.add_argument("--new-lr-mult", type=float, default=1.0, metavar="M",
                    help="learning rate of the parameters the --init checkpoint lacks (an upgrade's new inputs, "
                         "which start from scratch), as a multiple of --lr")
    ap.add_argument("--oversample", nargs="*", default=[], metavar="TYPE=W",
                    help="sample expressions of TYPE W times as often, e.g. ordinal=3")
    ap.add_argument("--average-with", type=Path, default=None, metavar="CKPT",
                    help="after training, replace --out by the average of its weights and CKPT's (same architecture)")
    ap.add_argument("--photometric", type=float, default=0.0, metavar="P",
                    help="probability that a training frame is seen through a random camera response (exposure, "
                         "white balance, gamma: training/augment.py); 0 (default) leaves frames as rendered")
    args = ap.parse_args(argv)
    if not 0.0 <= args.photometric <= 1.0:
        ap.error(f"--photometric is a probability in [0, 1], not {args.photometric}")
    if args.first_scene < 0:
        ap.error(f"--first-scene must be 0 or more (scene seeds), not {args.first_scene}")
    weights = {k: float(v) for k, v in (item.split("=") for item in args.oversample)}
    hist = train(args.out, args.steps, args.scenes, args.seed, args.batch, args.exprs, args.lr, args.cache,
                 progress=not args.no_progress, threads=args.threads, log_every=args.log_every, init=args.init,
                 type_weights=weights,
                 camera=args.camera, style=args.style,
                 loss_weights={"attr": args.attr_weight, **({} if args.shape_weight is None
                                                            else {"shape": args.shape_weight})},
                 stop_after=args.stop_after, roi_pool=args.roi_pool, depth_tokens=args.depth_tokens,
                 depth_dropout=args.depth_dropout,
                 image_size=args.image_size, crop_size=args.crop_tokens, new_lr_mult=args.new_lr_mult,
                 deep_roi=args.deep_roi, first_scene=args.first_scene, device=args.device,
                 photometric=args.photometric)
    print(f"done: loss {hist['first_loss']:.3f} -> {hist['final_loss']:.3f} in {hist['minutes']:.1f} min -> {args.out}")
    if args.average_with is not None:
        average_checkpoints(args.out, args.average_with, args.out)
        print(f"averaged with {args.average_with} -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
