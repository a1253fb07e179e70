"""Render a sim set-up as a dataset in the canonical format, as a robot's capture + annotation would give.

    python -m grounding_node.sim.capture --camera wrist --size 848x480 --pairs 500 --out data/wrist_500

Each frame is written the way `~/capture` writes one (colour PNG, 16-bit depth PNG, camera_info YAML) with
its phrases and boxes filled in from the simulator's ground truth (what a person annotating in Label Studio
would draw). Phrases are the generator's expression types, in the everyday wording of the training split,
tagged with their `type` so the evaluation breaks figures down by it; no-referent phrases are negatives.

Used by the fine-tuning learning curve (`bench/finetune_curve.py`) and by anyone who wants a dataset to
try `python -m grounding_node.finetune` on before capturing their own.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np


def scene_groundings(scene, seed: int, style: str = "train", per_image: Optional[int] = None) -> List[dict]:
    """The scene's expressions as dataset groundings (phrase, boxes, type), duplicates dropped."""
    from grounding_node.training.eval import expressions_for

    out, seen = [], set()
    for e in expressions_for(scene, seed, style):
        if e.text in seen:
            continue
        seen.add(e.text)
        boxes = [[round(float(v), 3) for v in scene.objects[i].box_1024] for i in e.targets]
        out.append({"phrase": e.text, "boxes_1024": boxes, "type": e.type})
    return out[:per_image] if per_image else out


def render_dataset(out: Path | str, camera: str, size: Tuple[int, int], seeds: Sequence[int],
                   max_pairs: Optional[int] = None, style: str = "train", progress: bool = True) -> int:
    """Write scenes of `seeds` into `out` until `max_pairs` phrase-box pairs (None = every seed). Returns
    the number of pairs written. A seed's frame is named by its seed, so datasets of one set-up nest."""
    from tqdm import tqdm

    from grounding_node.data.writer import write_sample
    from grounding_node.sim.scene import TabletopSim

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = 0
    width, height = size
    with TabletopSim(width, height, camera=camera) as sim:
        for seed in tqdm(list(seeds), desc=f"capture {camera}", disable=not progress):
            if max_pairs is not None and pairs >= max_pairs:
                break
            scene = sim.new_scene(int(seed))
            gs = scene_groundings(scene, int(seed), style)
            if max_pairs is not None:
                gs = gs[: max_pairs - pairs]
            info = {"width": width, "height": height, "k": scene.K.reshape(9).tolist()}
            write_sample(out, scene.rgb, depth=scene.depth_16uc1(), camera_info=info, groundings=gs,
                         name=f"{camera}_{int(seed):07d}", extra={"seed": int(seed), "camera": camera})
            pairs += len(gs)
    return pairs


def _size(text: str) -> Tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--camera", default="wrist", help="sim set-up: wrist, train, ood, random, classic")
    ap.add_argument("--size", type=_size, default=(848, 480), help="WxH")
    ap.add_argument("--pairs", type=int, default=None, help="stop at this many phrase-box pairs")
    ap.add_argument("--scenes", type=int, default=100, help="scenes to render (when --pairs is not reached)")
    ap.add_argument("--seed0", type=int, default=3_000_000)
    ap.add_argument("--style", default="train", choices=("train", "heldout", "plain", "paraphrase"))
    args = ap.parse_args(argv)
    seeds = np.arange(args.seed0, args.seed0 + (args.scenes if args.pairs is None else 10 * args.pairs))
    n = render_dataset(args.out, args.camera, args.size, seeds, args.pairs, args.style)
    print(f"{n} phrase-box pairs -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
