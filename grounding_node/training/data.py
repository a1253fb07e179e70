"""Rendered training data: scenes from the MuJoCo tabletop plus referring expressions with their referents.

Rendering is the slow part, so a dataset is rendered once and cached as a pickle under `data/`
(gitignored); expressions are generated per scene from ground truth at the same time.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

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
BASE_SIZE = (320, 240)   # the network input the first chunks were rendered at (their file names carry no size)


def train_aspects(width: int, height: int) -> List[Tuple[Tuple[int, int], float]]:
    """`TRAIN_ASPECTS` for a network input of width x height: the 4:3 frame at that size and the 16:9 frame
    at the same width. The aspect draw per seed does not depend on the size, so a larger rendering of a
    seed is the same scene, except for about 2 % of seeds whose layout the sim's visibility test (made in
    pixels) settles differently at another size (`train.same_layout` finds them)."""
    return [((width, height), TRAIN_ASPECTS[0][1]), ((width, width * 9 // 16), TRAIN_ASPECTS[1][1])]


def size_tag(width: int, height: int) -> str:
    """Cache file-name suffix: empty at `BASE_SIZE` (older caches keep their names), else `_WxH`."""
    return "" if (int(width), int(height)) == BASE_SIZE else f"_{int(width)}x{int(height)}"


def render_scenes(seeds, width: int = 320, height: int = 240, per_scene: int = 21, progress: bool = True,
                  camera: str = "train", style: str = "train", depth: bool = False
                  ) -> Tuple[List[Sample], Optional[Dict[str, np.ndarray]]]:
    """Render each seed's scene once: its `Sample` (`render_samples`) and, with `depth`, its depth frame
    (`render_depth`'s dict), else None. Why one pass: the sim renders colour and depth of a scene
    together, so a chunk whose colour and depth are both wanted costs one rendering, not two."""
    from tqdm import tqdm

    from grounding_node.models.tabletop.processing import letterbox_depth, letterbox_uint8
    from grounding_node.sim.expressions import restyle

    sizes = [(width, height)] if camera == "classic" else [s for s, _ in train_aspects(width, height)]
    probs = [1.0] if camera == "classic" else [p for _, p in train_aspects(width, height)]
    sims = {s: TabletopSim(s[0], s[1], camera=camera) for s in sizes}
    seeds = [int(s) for s in seeds]
    out: List[Sample] = []
    depth_mm = np.zeros((len(seeds), height, width) if depth else (0, height, width), np.uint16)
    focal = np.zeros(len(seeds) if depth else 0, np.float32)
    try:
        for k, seed in enumerate(tqdm(seeds, desc="render", disable=not progress)):
            size = sizes[int(np.random.default_rng(seed + 5_000_000).choice(len(sizes), p=probs))]
            scene = sims[size].new_scene(seed)
            rng = np.random.default_rng(seed + 7_000_000)
            b = np.stack([o.box_1024 for o in scene.objects]) / 1024.0
            boxes = np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, b[:, 2] - b[:, 0],
                              b[:, 3] - b[:, 1]], 1)
            rgb, lb = letterbox_uint8(scene.rgb, (width, height))
            boxes = lb.to_network(boxes)
            attrs = np.array([[COLOR_IDS[o.color], SHAPE_IDS[o.shape], SIZE_IDS[o.size]] for o in scene.objects])
            exprs = []
            for j in range(per_scene):
                e = generate(scene, rng, TYPES[j % len(TYPES)])
                if e is not None:
                    if style != "plain":
                        e = restyle(e, rng, style)
                    exprs.append((e.type, e.text, list(e.targets)))
            out.append(Sample(seed, rgb, boxes.astype(np.float32), attrs, exprs))
            if depth:
                depth_mm[k], lbd = letterbox_depth(scene.depth_16uc1(), (width, height))
                focal[k] = scene.K[1, 1] * lbd.h / scene.depth.shape[0]
    finally:
        for sim in sims.values():
            sim.close()
    return out, ({"seeds": np.asarray(seeds, np.int64), "depth_mm": depth_mm, "focal": focal} if depth else None)


def render_samples(seeds, width: int = 320, height: int = 240, per_scene: int = 21,
                   progress: bool = True, camera: str = "train", style: str = "train") -> List[Sample]:
    """Render each seed's scene and draw `per_scene` expressions with types spread evenly.

    `camera` is the sim's camera domain ("classic": the old fixed 4:3 camera at width x height; otherwise
    a seeded mix of 4:3 and 16:9 frames, letterboxed to width x height like the backend does). Boxes are
    stored normalised to the network input."""
    return render_scenes(seeds, width, height, per_scene, progress, camera, style)[0]


def load_or_render(cache: Optional[Path], seeds, **kwargs) -> List[Sample]:
    seeds = list(seeds)
    if cache is not None and cache.exists():
        with open(cache, "rb") as f:
            data = pickle.load(f)
        if [s.seed for s in data] == seeds:
            return data
    data = render_samples(seeds, **kwargs)
    if cache is not None:
        _write_pickle(cache, data)
    return data


def _write_pickle(path: Path, obj) -> None:
    """Write atomically, so an interrupted render never leaves a chunk that a later run would trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def _write_npz(path: Path, arrays: Dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


CHUNK = 8000


def render_depth(seeds, width: int = 320, height: int = 240, camera: str = "train",
                 progress: bool = True) -> Dict[str, np.ndarray]:
    """The depth frames of `render_samples`' scenes (same seeds, same frame sizes, same letterbox), at the
    network input: {"seeds" (N,), "depth_mm" (N,H,W) uint16 (0 = no reading, the bars too), "focal" (N,)
    the focal length in network pixels}. Why a separate file: the RGB chunks were rendered before the model
    read depth, and a depth chunk is a tenth of their size."""
    return render_scenes(seeds, width, height, per_scene=0, progress=progress, camera=camera, depth=True)[1]


def depth_cache(folder: Path, camera: str, start: int, end: int, size: Tuple[int, int] = BASE_SIZE) -> Path:
    return folder / f"depth_{camera}_{start}-{end}{size_tag(*size)}.npz"


def load_or_render_depth(folder: Path, start: int, end: int, camera: str = "train",
                         progress: bool = True, size: Tuple[int, int] = BASE_SIZE) -> Dict[str, np.ndarray]:
    path = depth_cache(folder, camera, start, end, size)
    if path.exists():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    out = render_depth(range(start, end), width=size[0], height=size[1], camera=camera, progress=progress)
    _write_npz(path, out)
    return out


CROP_SOURCE_SIZE = (640, 480)   # the frames object crops are cut from in training (`crop_cache`)


def render_crop_frames(seeds, width: int = CROP_SOURCE_SIZE[0], height: int = CROP_SOURCE_SIZE[1],
                       camera: str = "train", style: str = "train", progress: bool = True,
                       quality: int = 95) -> Dict[str, np.ndarray]:
    """The frames of `render_samples`' scenes at a camera resolution (default 640x480), letterboxed like
    them and JPEG-encoded: {"seeds" (N,), "jpeg" (N,) object array of bytes}. Why: a model with
    `TabletopConfig.crop_size` reads each candidate from the full-resolution frame (`processing.box_crops`),
    which the network-sized chunks do not keep. Crops are cut with the colour chunk's boxes: a seed's
    normalised boxes are the same at every size, except for about 2 % of seeds whose layout depends on the
    render size (`train.same_layout` finds them). JPEG keeps 16,000 frames in about 590 MB."""
    import cv2
    from tqdm import tqdm

    seeds = [int(s) for s in seeds]
    jpeg = np.empty(len(seeds), object)
    step = 200   # encoded as they come: 8,000 raw 640x480 frames would hold 7 GB
    for a in tqdm(range(0, len(seeds), step), desc="render crop frames", disable=not progress):
        for k, s in enumerate(render_samples(seeds[a:a + step], width, height, per_scene=0, progress=False,
                                             camera=camera, style=style)):
            ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(s.rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise RuntimeError(f"could not encode the frame of seed {s.seed}")
            jpeg[a + k] = buf.tobytes()
    return {"seeds": np.asarray(seeds, np.int64), "jpeg": jpeg}


def crop_cache(folder: Path, camera: str, start: int, end: int, size: Tuple[int, int] = CROP_SOURCE_SIZE) -> Path:
    return folder / f"crops_{camera}_{start}-{end}_{int(size[0])}x{int(size[1])}.pkl"


def load_or_render_crops(folder: Path, start: int, end: int, camera: str = "train", progress: bool = True,
                         size: Tuple[int, int] = CROP_SOURCE_SIZE) -> Dict[str, np.ndarray]:
    path = crop_cache(folder, camera, start, end, size)
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    out = render_crop_frames(range(start, end), size[0], size[1], camera=camera, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        pickle.dump(out, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return out


def chunk_cache(folder: Path, camera: str, style: str, start: int, end: int,
                size: Tuple[int, int] = BASE_SIZE) -> Path:
    """Cache file of scene seeds [start, end) rendered for a `size` network input. The first chunk keeps
    the name a whole-run cache had (`train_<camera>_<style>_<end>.pkl`), so caches rendered before chunking
    stay valid; chunks at another size carry it (`size_tag`)."""
    span = f"{end}" if start == 0 else f"{start}-{end}"
    return folder / f"train_{camera}_{style}_{span}{size_tag(*size)}.pkl"


def load_or_render_chunked(folder: Path, n_scenes: int, camera: str = "train", style: str = "train",
                           progress: bool = True, size: Tuple[int, int] = BASE_SIZE, start: int = 0) -> List[Sample]:
    """Scenes start..start+n_scenes-1, rendered and cached in chunks of `CHUNK` seeds from `start`.

    Why chunks: a larger run reuses every chunk a smaller one rendered, and chunks can be rendered by
    separate processes at once (`python -m grounding_node.training.data START END`)."""
    out: List[Sample] = []
    for a in range(start, start + n_scenes, CHUNK):
        b = min(a + CHUNK, start + n_scenes)
        out += load_or_render(chunk_cache(folder, camera, style, a, b, size), range(a, b),
                              progress=progress, camera=camera, style=style, width=size[0], height=size[1])
    return out


PART = 100   # seeds per task of `render_chunk`'s process pool: small enough to balance the workers


def _render_part(task: Tuple[List[int], Tuple[int, int], bool]) -> Tuple[List[Sample], Optional[Dict[str, np.ndarray]]]:
    seeds, size, depth = task
    return render_scenes(seeds, size[0], size[1], progress=False, depth=depth)


def render_chunk(folder: Path, start: int, end: int, size: Tuple[int, int] = BASE_SIZE, depth: bool = False,
                 jobs: int = 1, progress: bool = True) -> None:
    """Render the training chunk of seeds [start, end) into its cache file in `folder` (`chunk_cache`), and
    with `depth` its depth chunk (`depth_cache`) from the same renderings, over `jobs` processes. The files
    are the ones a single process writes: a seed's scene, expressions and depth depend on the seed alone
    and the parts are joined in seed order. Why: one renderer is single-threaded, and a machine with many
    cores (the GPU machine of docs/models/tabletop.md's GPU stage) renders a chunk in minutes this way."""
    import multiprocessing as mp

    from tqdm import tqdm

    if not 0 <= start < end:
        raise ValueError(f"a chunk is seeds [start, end) with 0 <= start < end, not [{start}, {end})")
    seeds = list(range(start, end))
    tasks = [(seeds[a:a + PART], tuple(size), depth) for a in range(0, len(seeds), PART)]
    samples: List[Sample] = []
    parts: List[Dict[str, np.ndarray]] = []
    # spawn, not fork: each worker opens its own GL context, and a forked one would share the parent's state
    with mp.get_context("spawn").Pool(max(1, jobs)) as pool:
        for got, dep in tqdm(pool.imap(_render_part, tasks), total=len(tasks), desc=f"render {start}-{end}",
                             disable=not progress):
            samples += got
            if dep is not None:
                parts.append(dep)
    _write_pickle(chunk_cache(folder, "train", "train", start, end, size), samples)
    if depth:
        _write_npz(depth_cache(folder, "train", start, end, size),
                   {k: np.concatenate([d[k] for d in parts]) for k in ("seeds", "depth_mm", "focal")})


if __name__ == "__main__":   # one chunk: python -m grounding_node.training.data A B [FOLDER] [options]
    import argparse

    from grounding_node.training import data as _module  # pickle `Sample` under its module, not __main__

    ap = argparse.ArgumentParser(description="Render one chunk of training scenes (colour, --depth, or both).")
    ap.add_argument("start", type=int)
    ap.add_argument("end", type=int)
    ap.add_argument("folder", nargs="?", default="data")
    ap.add_argument("--depth", action="store_true", help="render the depth chunk instead of the colour one")
    ap.add_argument("--crops", action="store_true",
                    help="render the chunk's crop frames (JPEG at --size, default 640x480) instead of the colour one")
    ap.add_argument("--with-depth", action="store_true",
                    help="render the colour chunk and its depth chunk from the same renderings")
    ap.add_argument("--jobs", type=int, default=1,
                    help="processes to render the chunk with (colour, or colour --with-depth)")
    ap.add_argument("--size", default=None,
                    help=f"network input WxH (default {BASE_SIZE[0]}x{BASE_SIZE[1]}; crop frames: "
                         f"{CROP_SOURCE_SIZE[0]}x{CROP_SOURCE_SIZE[1]})")
    ns = ap.parse_args()
    default = CROP_SOURCE_SIZE if ns.crops else BASE_SIZE
    size = tuple(int(v) for v in ns.size.lower().split("x")) if ns.size else default
    if ns.crops:
        _module.load_or_render_crops(Path(ns.folder), ns.start, ns.end, size=size)
    elif ns.depth:
        _module.load_or_render_depth(Path(ns.folder), ns.start, ns.end, size=size)
    elif ns.with_depth or ns.jobs > 1:
        _module.render_chunk(Path(ns.folder), ns.start, ns.end, size, depth=ns.with_depth, jobs=ns.jobs)
    else:
        _module.load_or_render(_module.chunk_cache(Path(ns.folder), "train", "train", ns.start, ns.end, size),
                               range(ns.start, ns.end), width=size[0], height=size[1])
