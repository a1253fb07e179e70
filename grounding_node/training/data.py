"""Rendered training data: scenes from the MuJoCo tabletop plus referring expressions with their referents.

Rendering is the slow part, so a dataset is rendered once and cached as a pickle under `data/`
(gitignored); expressions are generated per scene from ground truth at the same time.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from grounding_node.sim.expressions import TYPES, generate
from grounding_node.sim.scene import COLORS, SHAPES, SIZES, TabletopSim

COLOR_IDS = {c: i for i, c in enumerate(COLORS)}
SHAPE_IDS = {s: i for i, s in enumerate(SHAPES)}
SIZE_IDS = {s: i for i, s in enumerate(SIZES)}


@dataclass
class Sample:
    seed: int
    rgb: np.ndarray                    # (H, W, 3) uint8
    boxes: np.ndarray                  # (N, 4) normalised cx, cy, w, h of visible boxes
    attrs: np.ndarray                  # (N, 3) colour, shape, size ids
    expressions: List[Tuple[str, str, List[int]]]   # (type, text, targets)


# Training frames: the camera resolutions a user has (4:3 640x480; 16:9 848x480, 1280x720, 1920x1080),
# rendered directly at the network's width (what letterboxing the full frame would give) and letterboxed.
TRAIN_ASPECTS = (((320, 240), 0.4), ((320, 180), 0.6))


def render_samples(seeds, width: int = 320, height: int = 240, per_scene: int = 21,
                   progress: bool = True, camera: str = "train", style: str = "train") -> List[Sample]:
    """Render each seed's scene and draw `per_scene` expressions with types spread evenly.

    `camera` is the sim's camera domain ("classic": the old fixed 4:3 camera at width x height; otherwise
    a seeded mix of 4:3 and 16:9 frames, letterboxed to width x height like the backend does). Boxes are
    stored normalised to the network input."""
    from tqdm import tqdm

    from grounding_node.models.tabletop.processing import letterbox_uint8
    from grounding_node.sim.expressions import restyle

    sizes = [(width, height)] if camera == "classic" else [s for s, _ in TRAIN_ASPECTS]
    probs = [1.0] if camera == "classic" else [p for _, p in TRAIN_ASPECTS]
    sims = {s: TabletopSim(s[0], s[1], camera=camera) for s in sizes}
    out: List[Sample] = []
    try:
        for seed in tqdm(list(seeds), desc="render", disable=not progress):
            size = sizes[int(np.random.default_rng(int(seed) + 5_000_000).choice(len(sizes), p=probs))]
            scene = sims[size].new_scene(int(seed))
            rng = np.random.default_rng(int(seed) + 7_000_000)
            b = np.stack([o.box_1024 for o in scene.objects]) / 1024.0
            boxes = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0],
                              b[:, 3] - b[:, 1]], 1)
            rgb, lb = letterbox_uint8(scene.rgb, (width, height))
            boxes = lb.to_network(boxes)
            attrs = np.array([[COLOR_IDS[o.color], SHAPE_IDS[o.shape], SIZE_IDS[o.size]] for o in scene.objects])
            exprs = []
            for k in range(per_scene):
                e = generate(scene, rng, TYPES[k % len(TYPES)])
                if e is not None:
                    if style != "plain":
                        e = restyle(e, rng, style)
                    exprs.append((e.type, e.text, list(e.targets)))
            out.append(Sample(int(seed), rgb, boxes.astype(np.float32), attrs, exprs))
    finally:
        for sim in sims.values():
            sim.close()
    return out


def load_or_render(cache: Optional[Path], seeds, **kwargs) -> List[Sample]:
    seeds = list(seeds)
    if cache is not None and cache.exists():
        with open(cache, "rb") as f:
            data = pickle.load(f)
        if [s.seed for s in data] == seeds:
            return data
    data = render_samples(seeds, **kwargs)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(cache, "wb") as f:
            pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    return data
