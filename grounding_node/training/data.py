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


def render_samples(seeds, width: int = 320, height: int = 240, per_scene: int = 21,
                   progress: bool = True) -> List[Sample]:
    """Render each seed's scene and draw `per_scene` expressions with types spread evenly."""
    from tqdm import tqdm

    out: List[Sample] = []
    with TabletopSim(width, height) as sim:
        for seed in tqdm(list(seeds), desc="render", disable=not progress):
            scene = sim.new_scene(int(seed))
            rng = np.random.default_rng(int(seed) + 7_000_000)
            b = np.stack([o.box_1024 for o in scene.objects]) / 1024.0
            boxes = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]], 1)
            attrs = np.array([[COLOR_IDS[o.color], SHAPE_IDS[o.shape], SIZE_IDS[o.size]] for o in scene.objects])
            exprs = []
            for k in range(per_scene):
                e = generate(scene, rng, TYPES[k % len(TYPES)])
                if e is not None:
                    exprs.append((e.type, e.text, list(e.targets)))
            out.append(Sample(int(seed), scene.rgb, boxes.astype(np.float32), attrs, exprs))
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
