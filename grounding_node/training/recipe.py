"""The shipped tabletop checkpoint, reproduced with one command.

    python -m grounding_node.training.recipe --out runs/recipe            # about 5 h on 2 CPU cores
    python -m grounding_node.training.recipe --out runs/recipe --install  # ... and replace the shipped weights

The shipped model was trained in stages, each continuing the last (the model card, docs/models/tabletop.md,
says why each stage exists and what it measured). The stages live here, as data, so the card, the one
command and its test name one sequence. The command

1. takes the first model (trained by an earlier version of this code; its weights are in git history,
   `git show FIRST_MODEL_COMMIT:...`) as the starting point, or `--first-model PATH`;
2. renders the training scenes it lacks into the 8,000-scene chunk cache (`--cache`, default data/),
   and the depth chunks of the stages that read depth, `--jobs` chunks at a time (a chunk is one
   process: the renderer is single-threaded);
3. runs every stage with its seed (`python -m grounding_node.train ...`, progress bar and log), skipping a
   stage whose output already exists, so an interrupted run resumes at the stage it was in;
4. leaves the last stage's checkpoint in `--out` (and, with `--install`, in the package).

Seeded throughout; floating-point results depend on the thread count, which each stage fixes.
`--smoke` runs the same sequence with a handful of scenes and steps, to check the wiring in a minute.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from grounding_node.training.data import BASE_SIZE, CHUNK, chunk_cache, crop_cache, depth_cache

FIRST_MODEL_COMMIT = "12357c5"
FIRST_MODEL_PATH = "grounding_node/models/tabletop/weights/tabletop.pt"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stage:
    """One training run: `python -m grounding_node.train --init <init>.pt --out <name>.pt --scenes N <args>`."""

    name: str
    init: str                       # the previous stage's name, or "first" (the first model)
    scenes: int                     # scene seeds 0..scenes-1
    args: Tuple[str, ...]           # the rest of the command line (steps, seed, lr, ...)
    average_with: Optional[str] = None   # replace the result by its average with this stage's weights


STAGES: Tuple[Stage, ...] = (
    Stage("stage1", "first", 4000, ("--steps", "2400", "--stop-after", "751", "--seed", "0", "--lr", "1e-3",
                                    "--oversample", "ordinal=1.5", "extreme=1.5", "relation=1.3")),
    Stage("stage2", "stage1", 8000, ("--steps", "3600", "--seed", "1", "--lr", "8e-4", "--attr-weight", "1.0",
                                     "--oversample", "ordinal=1.5", "extreme=1.5", "relation=1.3", "negation=1.3")),
    Stage("stage3", "stage2", 40000, ("--roi-pool", "4", "--steps", "5000", "--seed", "2", "--lr", "6e-4",
                                      "--attr-weight", "1.0", "--oversample", "ordinal=1.5", "extreme=1.5",
                                      "relation=1.3", "negation=1.5")),
    Stage("stage4", "stage3", 56000, ("--steps", "3000", "--threads", "1", "--seed", "3", "--lr", "4e-4",
                                      "--attr-weight", "1.0", "--oversample", "ordinal=1.8", "extreme=1.8",
                                      "relation=1.3", "negation=1.3"), average_with="stage3"),
    Stage("stage5", "stage4", 56000, ("--steps", "3000", "--threads", "1", "--seed", "4", "--lr", "2.5e-4",
                                      "--attr-weight", "1.0", "--oversample", "ordinal=1.5", "extreme=1.5",
                                      "relation=1.6", "negation=1.6"), average_with="stage4"),
    Stage("stage6", "stage5", 56000, ("--steps", "3000", "--threads", "1", "--seed", "5", "--lr", "2e-4",
                                      "--attr-weight", "1.0", "--oversample", "ordinal=1.8", "extreme=1.8",
                                      "relation=1.4", "negation=1.4"), average_with="stage5"),
    Stage("stage7", "stage6", 32000, ("--depth-tokens", "--steps", "3000", "--threads", "2", "--seed", "6",
                                      "--lr", "3e-4", "--attr-weight", "1.0", "--oversample", "ordinal=1.8",
                                      "extreme=1.8", "relation=1.4", "negation=1.4"), average_with="stage6"),
)

SMOKE_SCENES = 8
SMOKE_STEPS = 3


def command(stage: Stage, folder: Path, cache: Path, smoke: bool = False) -> List[str]:
    """The stage's `python -m grounding_node.train` command line (`--smoke`: 8 scenes, 3 steps)."""
    args = list(stage.args)
    scenes = stage.scenes
    if smoke:
        scenes = SMOKE_SCENES
        for flag, value in (("--steps", SMOKE_STEPS), ("--stop-after", SMOKE_STEPS - 1)):
            if flag in args:
                args[args.index(flag) + 1] = str(value)
    cmd = [sys.executable, "-m", "grounding_node.train", "--init", str(folder / f"{stage.init}.pt"),
           "--out", str(folder / f"{stage.name}.pt"), "--scenes", str(scenes), "--cache", str(cache), *args]
    if stage.average_with:
        cmd += ["--average-with", str(folder / f"{stage.average_with}.pt")]
    if smoke:
        cmd += ["--batch", "2", "--exprs", "2", "--no-progress"]
    return cmd


def stage_sizes(stages: Sequence[Stage]) -> Dict[str, Tuple[int, int]]:
    """Each stage's network input (width, height): its `--image-size`, else the size of the model it
    continues (the first model's is `BASE_SIZE`). Its scenes are rendered at that size."""
    size, out = BASE_SIZE, {}
    for s in stages:
        if "--image-size" in s.args:
            w, h = s.args[s.args.index("--image-size") + 1].lower().split("x")
            size = (int(w), int(h))
        out[s.name] = size
    return out


Span = Tuple[int, int, Tuple[int, int]]   # scene seeds [start, end) rendered for a (width, height) input


def chunks_needed(stages: Sequence[Stage], smoke: bool = False, first: int = 0) -> List[Span]:
    """Every [start, end) chunk of scene seeds that stages[first:] read, at each stage's input size (a
    stage of N scenes reads `load_or_render_chunked`'s chunks of N), each once, largest first."""
    sizes = stage_sizes(stages)
    spans = set()
    for s in stages[first:]:
        n = SMOKE_SCENES if smoke else s.scenes
        spans.update((a, min(a + CHUNK, n), sizes[s.name]) for a in range(0, n, CHUNK))
    return sorted(spans, key=lambda ab: (ab[0] - ab[1], ab[0], ab[2]))


def depth_chunks_needed(stages: Sequence[Stage], smoke: bool = False) -> List[Span]:
    """The chunks whose depth the stages of a depth-reading model read (`train.training_depth`): from the
    first `--depth-tokens` stage on, since a later stage continues that model."""
    first = next((i for i, s in enumerate(stages) if "--depth-tokens" in s.args), len(stages))
    return chunks_needed(stages, smoke, first)


def crop_chunks_needed(stages: Sequence[Stage], smoke: bool = False) -> List[Span]:
    """The chunks whose camera-resolution frames (`data.render_crop_frames`, 640x480 whatever the stage's
    input) the stages of a crop model read: from the first `--crop-tokens` stage on."""
    from grounding_node.training.data import CROP_SOURCE_SIZE

    first = next((i for i, s in enumerate(stages) if "--crop-tokens" in s.args), len(stages))
    return sorted({(a, b, CROP_SOURCE_SIZE) for a, b, _ in chunks_needed(stages, smoke, first)},
                  key=lambda ab: (ab[0] - ab[1], ab[0]))


def first_model(dest: Path, source: Optional[Path] = None) -> Path:
    """The first model's checkpoint at `dest`: copied from `source`, or taken from git history."""
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        shutil.copyfile(source, dest)
        return dest
    try:
        blob = subprocess.run(["git", "-C", str(REPO), "show", f"{FIRST_MODEL_COMMIT}:{FIRST_MODEL_PATH}"],
                              check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"the first model is in git history ({FIRST_MODEL_COMMIT}), which this checkout "
                         f"cannot read ({e}); pass --first-model PATH") from e
    tmp = dest.with_suffix(".tmp")
    tmp.write_bytes(blob)
    tmp.replace(dest)
    return dest


def render_chunks(cache: Path, spans: Sequence[Span], jobs: int, depth_spans: Sequence[Span] = (),
                  crop_spans: Sequence[Span] = ()) -> None:
    """Render the chunks missing from `cache` (colour, depth for `depth_spans`, camera-resolution frames for
    `crop_spans`), `jobs` processes at a time."""
    todo = [(a, b, ("--size", f"{wh[0]}x{wh[1]}")) for a, b, wh in spans
            if not chunk_cache(cache, "train", "train", a, b, wh).is_file()]
    todo += [(a, b, ("--depth", "--size", f"{wh[0]}x{wh[1]}")) for a, b, wh in depth_spans
             if not depth_cache(cache, "train", a, b, wh).is_file()]
    todo += [(a, b, ("--crops", "--size", f"{wh[0]}x{wh[1]}")) for a, b, wh in crop_spans
             if not crop_cache(cache, "train", a, b, wh).is_file()]
    if not todo:
        return
    print(f"rendering {len(todo)} chunk(s) of scenes into {cache} ({jobs} at a time)", flush=True)

    def one(span: Tuple[int, int, Tuple[str, ...]]) -> None:
        subprocess.run([sys.executable, "-m", "grounding_node.training.data", str(span[0]), str(span[1]),
                        str(cache), *span[2]], check=True)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, todo))


def run(out: Path, cache: Path, jobs: int, smoke: bool = False, first: Optional[Path] = None,
        install: Optional[Path] = None, stages: Sequence[Stage] = STAGES) -> Path:
    """Run the recipe; returns the last stage's checkpoint."""
    out.mkdir(parents=True, exist_ok=True)
    first_model(out / "first.pt", first)
    render_chunks(cache, chunks_needed(stages, smoke), jobs, depth_chunks_needed(stages, smoke),
                  crop_chunks_needed(stages, smoke))
    for stage in stages:
        target = out / f"{stage.name}.pt"
        if target.is_file():
            print(f"{stage.name}: {target} exists, skipped", flush=True)
            continue
        cmd = command(stage, out, cache, smoke)
        print(f"{stage.name}: {' '.join(cmd[1:])}", flush=True)
        subprocess.run(cmd, check=True)
    last = out / f"{stages[-1].name}.pt"
    if install is not None:
        shutil.copyfile(last, install)
        print(f"installed {last} -> {install}")
    return last


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/recipe"), help="folder for every stage's checkpoint")
    ap.add_argument("--cache", type=Path, default=Path("data"), help="scene chunk cache (gitignored data/)")
    ap.add_argument("--jobs", type=int, default=2, help="chunks rendered at once")
    ap.add_argument("--first-model", type=Path, default=None,
                    help=f"the first model's checkpoint (default: from git history, {FIRST_MODEL_COMMIT})")
    ap.add_argument("--install", action="store_true", help="copy the result over the shipped checkpoint")
    ap.add_argument("--smoke", action="store_true", help=f"{SMOKE_SCENES} scenes and {SMOKE_STEPS} steps per stage")
    args = ap.parse_args(argv)
    from grounding_node.models.tabletop.backend import DEFAULT_CHECKPOINT

    last = run(args.out, args.cache, args.jobs, args.smoke, args.first_model,
               DEFAULT_CHECKPOINT if args.install else None)
    print(f"done: {last}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
