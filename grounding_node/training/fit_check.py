"""How well a tabletop checkpoint fits the scenes it was trained on, and whether rendering alone moves it.

    python -m grounding_node.training.fit_check [--model CKPT] [--cache data] [--first 0] [--scenes 300] [--scale 2]

Why: a model that misses on new scenes may have memorised its training scenes (more or fresher scenes would
help) or may not fit them either (they will not: the model or its input is short). The training loss cannot
tell: it is measured in train mode on boxes jittered around the truth. This reads cached training chunks
(`data.chunk_cache`) and grounds them as inference does, in eval mode, from the model's own detections:
- the shape head's accuracy on detected objects (IoU >= 0.5 with a true box);
- grounding Acc@0.5 of the scene's own training expressions with one referent (top candidate at or above
  the threshold, IoU >= 0.5 with the referent), per type.
With `--scale K` each scene is also rendered again at K times the chunk's size and letterboxed down to the
network input (INTER_AREA, as the backend does with a camera frame), and the same figures are taken on the
same scenes and expressions: the cost of training on network-sized renders while users send camera frames.
Scenes whose layout differs at the larger size (about 2 %: the sim's visibility test is in pixels) are left
out of both columns. No depth: both columns are colour only.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from grounding_node.training.data import CHUNK, Sample, chunk_cache


def _xyxy(b: np.ndarray) -> np.ndarray:
    return np.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], 1)


def score_sample(backend, image, sample: Sample, tally: Dict[str, List[int]], column: str,
                 threshold: float) -> None:
    """Add one network-sized image's figures (its `sample`'s truth and expressions) to `tally[key] = [ok, n]`."""
    import torch

    from grounding_node.geometry.boxes import box_iou
    from grounding_node.models.tabletop.processing import decode_candidates, encode_phrases

    model, cfg = backend.model, backend.cfg
    exprs = [e for e in sample.expressions if len(e[2]) == 1 and e[0] != "plural"]
    with torch.inference_mode():
        feats, det = model.encode_image(image)
        cells, boxes, _ = decode_candidates(det[0].float(), backend.max_candidates, backend.candidate_threshold)
        if len(cells) == 0:
            for e in exprs:
                tally[f"{column} ground {e[0]}"][1] += 1
            return
        tokens = model.candidate_tokens(feats, cells[None], boxes[None], None, None)
        shapes = model.attributes(tokens)[1][0].argmax(-1).cpu().numpy()
        scores = np.zeros((0, len(cells)))
        if exprs:
            words = encode_phrases([e[1] for e in exprs], cfg.vocab, cfg.max_words)
            p, k = len(exprs), tokens.shape[1]
            logits = model.score(tokens.expand(p, -1, -1), torch.ones(p, k, dtype=torch.bool), words,
                                 boxes[None].expand(p, -1, -1))
            scores = torch.sigmoid(logits.float()).cpu().numpy()
    iou = box_iou(_xyxy(boxes.cpu().numpy()), _xyxy(sample.boxes))
    for c in range(len(cells)):
        j = int(iou[c].argmax())
        if iou[c, j] >= 0.5:
            tally[f"{column} shape"][0] += int(shapes[c] == sample.attrs[j, 1])
            tally[f"{column} shape"][1] += 1
    for (kind, _, targets), row in zip(exprs, scores):
        top = int(row.argmax())
        tally[f"{column} ground {kind}"][0] += int(row[top] >= threshold and iou[top, targets[0]] >= 0.5)
        tally[f"{column} ground {kind}"][1] += 1


def fit_check(model: Optional[str], cache: Path, first: int, n_scenes: int, scale: float = 0.0,
              threshold: float = 0.3, threads: int = 2) -> Dict[str, Dict[str, float]]:
    """{"cached": {...}, "x<scale>": {...}, "notes": {...}}: shape accuracy and grounding Acc@0.5 (overall and
    per type) with their counts (keys ending in " n"); notes count the scenes left out."""
    import pickle

    import torch

    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend
    from grounding_node.models.tabletop.processing import letterbox_image
    from grounding_node.sim.scene import TabletopSim

    torch.set_num_threads(threads)
    backend = create_backend("tabletop", BackendConfig(model=model or "", device="cpu"))
    size = tuple(backend.cfg.image_size)
    start = first - first % CHUNK
    path = chunk_cache(cache, "train", "train", start, start + CHUNK, size)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: render it with python -m grounding_node.training.data "
                                f"{start} {start + CHUNK} {cache}")
    with open(path, "rb") as f:
        samples = [s for s in pickle.load(f) if first <= s.seed < first + n_scenes]
    tally: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    sims: Dict[tuple, TabletopSim] = {}
    column = f"x{scale:g}"
    try:
        for s in samples:
            rerendered = None
            if scale:
                h, w = s.rgb.shape[:2]
                bars = s.rgb[: max(1, h // 12)].std() < 1.0       # a 16:9 frame letterboxed into 4:3
                frame = (round(w * scale), round((w * 9 // 16 if bars else h) * scale))
                sim = sims.setdefault(frame, TabletopSim(frame[0], frame[1], camera="train"))
                scene = sim.new_scene(s.seed)
                rerendered, lb = letterbox_image(scene.rgb, size)
                b = np.stack([o.box_1024 for o in scene.objects]) / 1024.0
                truth = lb.to_network(np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2,
                                                b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1))
                if truth.shape != s.boxes.shape or np.abs(truth - s.boxes).max() > 0.01:
                    tally["notes:scenes left out (layout differs)"][1] += 1
                    continue
            image = torch.from_numpy(s.rgb).permute(2, 0, 1)[None].float().div(255.0).sub(0.5)
            score_sample(backend, image, s, tally, "cached", threshold)
            if rerendered is not None:
                score_sample(backend, rerendered, s, tally, column, threshold)
    finally:
        for sim in sims.values():
            sim.close()
    out: Dict[str, Dict[str, float]] = {}
    for key, (ok, n) in sorted(tally.items()):
        if key.startswith("notes:"):
            out.setdefault("notes", {})[key[len("notes:"):]] = n
            continue
        col, _, figure = key.partition(" ")
        out.setdefault(col, {})[figure] = round(100.0 * ok / max(n, 1), 2)
        out[col][figure + " n"] = n
    for col, figs in out.items():
        counts = [v for k, v in tally.items() if k.startswith(f"{col} ground ")]
        if counts:
            ok, n = (sum(c[i] for c in counts) for i in (0, 1))
            figs["ground overall"] = round(100.0 * ok / max(n, 1), 2)
            figs["ground overall n"] = n
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="checkpoint (default: the shipped one)")
    ap.add_argument("--cache", type=Path, default=Path("data"), help="folder of training chunks (default data/)")
    ap.add_argument("--first", type=int, default=0, help="first scene seed (within one 8,000-scene chunk)")
    ap.add_argument("--scenes", type=int, default=300)
    ap.add_argument("--scale", type=float, default=0.0,
                    help="also render each scene at this multiple of the chunk's size and letterbox it down")
    ap.add_argument("--threshold", type=float, default=0.3, help="score threshold (default: the shipped 0.3)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.scenes < 1 or args.first < 0 or args.first % CHUNK + args.scenes > CHUNK:
        ap.error(f"--first/--scenes must lie within one {CHUNK}-scene chunk")
    print(json.dumps(fit_check(args.model, args.cache, args.first, args.scenes, args.scale, args.threshold,
                               args.threads), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
