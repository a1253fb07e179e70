"""Fine-tune a backend on your own phrase-box pairs, then load the result in the node.

    python -m grounding_node.finetune --backend tabletop --data my_dataset --out my_model
    python -m grounding_node.finetune --backend florence2 --model /models/Florence-2-base --method lora \\
        --data my_dataset --out my_florence
    ros2 launch phrase_grounding grounding.launch.py backend:=tabletop model:=my_model

The dataset is the canonical folder (docs/dataset.md), checked first: any bad record stops the run with
every error (file:line), unless --skip-invalid. The validation split is by image, seeded, 15 % (20 % above
200 images) unless --val-split says otherwise. The output folder gets the model, `state.json` (for
--resume) and a README.md model card with the data statistics, the settings and the validation metrics
before and after, measured with `python -m grounding_node.eval --data`'s code at the shipped threshold.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from grounding_node.finetune.common import (
    CONFIG_FILE,
    FinetuneConfig,
    OutputBusy,
    RunState,
    default_val_fraction,
    exclusive_output,
    pairs,
    split_samples,
    write_card,
)

# backend -> the trainer module (each has `train(cfg, train, val, root, state) -> RunState`)
TRAINERS = {"tabletop": "grounding_node.finetune.tabletop", "florence2": "grounding_node.finetune.hf",
            "paligemma": "grounding_node.finetune.hf", "qwen_vl": "grounding_node.finetune.hf",
            "grounding_dino": "grounding_node.finetune.hf"}


def _number(kind: type, low: float, inclusive: bool, what: str) -> Callable[[str], Any]:
    """An argparse type: a `kind` number above `low` (or equal to it, when `inclusive`). Why: a zero or
    negative count was silently replaced (`--epochs 0` ran the default schedule, `--batch-size -3` became 1)
    and a negative learning rate died in AdamW; all of them are refused here, before anything is written."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not (value >= low if inclusive else value > low) or value != value:
            raise argparse.ArgumentTypeError(f"{text!r}: must be {what}")
        return value
    return parse


def _fraction(text: str) -> float:
    """The validation share: in [0, 1) (1 would leave nothing to train on)."""
    value = _number(float, 0.0, True, "in [0, 1)")(text)
    if value >= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be in [0, 1)")
    return value


POSITIVE_INT = _number(int, 0, False, "a positive integer")
COUNT = _number(int, 0, True, "0 or more")
POSITIVE = _number(float, 0.0, False, "positive")
MINUTES = _number(float, 0.0, True, "0 or more")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m grounding_node.finetune", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", required=True, choices=sorted(TRAINERS))
    ap.add_argument("--model", default="", help="base checkpoint: a local transformers folder, or a tabletop .pt / "
                    "fine-tuning output folder (default: the backend's default)")
    ap.add_argument("--data", type=Path, required=True, help="dataset folder (annotations.jsonl + images)")
    ap.add_argument("--out", type=Path, required=True, help="output folder (loads as backend:=X model:=OUT)")
    ap.add_argument("--method", choices=("lora", "full"), default=None,
                    help="LoRA adapters via peft (merged on save) or full fine-tuning (default: lora; tabletop: full)")
    ap.add_argument("--epochs", type=POSITIVE_INT, default=None)
    ap.add_argument("--lr", type=POSITIVE, default=None, help="learning rate (default: the trainer's)")
    ap.add_argument("--batch-size", type=POSITIVE_INT, default=None,
                    help="images per step (default: 8 tabletop, 4 others)")
    ap.add_argument("--val-split", type=_fraction, default=None,
                    help="validation share of the images, in [0, 1) (default: 0.15, or 0.2 above 200 images; 0: no "
                    "validation split, the metrics are on the training images)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true", help="continue the run in --out from its last epoch")
    ap.add_argument("--lora-rank", type=POSITIVE_INT, default=8)
    ap.add_argument("--lora-alpha", type=POSITIVE_INT, default=16)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--threads", type=POSITIVE_INT, default=2)
    ap.add_argument("--max-minutes", type=MINUTES, default=None, help="stop after this long (best epoch kept)")
    from grounding_node.finetune.tabletop import REPLAY_SCENES  # numpy only: no torch at parse time

    ap.add_argument("--replay", type=COUNT, default=REPLAY_SCENES,
                    help="tabletop: simulator scenes of the default model's domain mixed into every step, "
                    "so it does not forget it (0 = off; rendered once, then cached)")
    ap.add_argument("--skip-invalid", action="store_true", help="leave bad records out (with a count)")
    ap.add_argument("--no-progress", action="store_true")
    return ap


def config_from_args(args: argparse.Namespace) -> FinetuneConfig:
    tabletop = args.backend == "tabletop"
    method = args.method or ("full" if tabletop else "lora")
    if tabletop and method != "full":
        raise SystemExit("error: tabletop is small and fine-tunes fully; --method lora is for transformers families")
    return FinetuneConfig(
        backend=args.backend, data=args.data, out=args.out, model=args.model, method=method, epochs=args.epochs,
        lr=args.lr, batch_size=args.batch_size or (8 if tabletop else 4), val_split=args.val_split, seed=args.seed,
        resume=args.resume, lora_rank=args.lora_rank, lora_alpha=args.lora_alpha, device=args.device,
        dtype=args.dtype, threads=args.threads, progress=not args.no_progress, max_minutes=args.max_minutes,
        extra={"replay": args.replay} if tabletop else {})


def _metrics(backend_name: str, model: str, cfg: FinetuneConfig, samples, root: Path) -> Optional[Dict[str, Any]]:
    """Validation figures of one checkpoint with the evaluation's own code, at the shipped threshold."""
    from grounding_node.models.base import BackendConfig
    from grounding_node.models.family import resolve_threshold
    from grounding_node.models.registry import create_backend
    from grounding_node.training.dataset_eval import evaluate_dataset

    if not samples:
        return None
    backend = create_backend(backend_name, BackendConfig(model=model, device=cfg.device, dtype=cfg.dtype))
    try:
        return evaluate_dataset(backend, root, samples, resolve_threshold("auto", backend))
    finally:
        backend.close()


def run(cfg: FinetuneConfig, skip_invalid: bool = False) -> Dict[str, Any]:
    """The whole run: check, split, metrics before, train, metrics after, model card."""
    from grounding_node.data.validate import check_dataset

    out = Path(cfg.out)
    check_output(out)
    if cfg.resume and (out / CONFIG_FILE).exists():   # the saved settings win: same split, same schedule
        saved = FinetuneConfig.from_dict(json.loads((out / CONFIG_FILE).read_text()))
        saved.resume, saved.progress, saved.max_minutes = True, cfg.progress, cfg.max_minutes
        cfg = saved
    checked = check_dataset(cfg.data)
    if checked.bad and not skip_invalid:
        raise DatasetInvalid(checked.errors)
    samples = [s for s in checked.samples if s.annotated]
    if not samples:
        raise DatasetInvalid([f"{cfg.data}: no annotated sample to train on"])
    notes: List[str] = []
    if checked.bad:
        notes.append(f"{len(checked.bad)} invalid records skipped (--skip-invalid)")
    fraction = cfg.val_split if cfg.val_split is not None else default_val_fraction(len(samples))
    train_s, val_s = split_samples(samples, fraction, cfg.seed)
    if not train_s:
        raise RunRefused(f"--val-split {fraction:g} leaves no training image ({len(samples)} annotated images, "
                         f"{len(val_s)} to validation); choose a smaller share")
    notes += validation_notes(len(train_s), len(val_s), fraction)
    with exclusive_output(out):
        return _run_locked(cfg, out, samples, train_s, val_s, notes)


def check_output(out: Path) -> None:
    """Refuse an --out that cannot become a folder (it, or a folder above it, is a file) before anything is
    read or written: found only at mkdir, it was a traceback, possibly after minutes of work."""
    for p in (out, *out.parents):
        if p.exists():
            if not p.is_dir():
                where = "is a file" if p == out else f"is under {p}, which is a file"
                raise RunRefused(f"--out {out} {where}; choose a folder")
            return


def validation_notes(n_train: int, n_val: int, fraction: float) -> List[str]:
    """What the card's metrics were measured on when there is no validation image (the trainers then
    validate on the training images): the reader must not take them for held-out figures."""
    if n_val:
        return []
    if fraction == 0:
        return [f"no validation split (--val-split 0): metrics on the {n_train} training images"]
    if n_train == 1:
        return ["one image only: validated on the training image"]
    return [f"--val-split {fraction:g} of {n_train} images gives no validation image: metrics on the training "
            "images"]


def _run_locked(cfg: FinetuneConfig, out: Path, samples, train_s, val_s, notes: List[str]) -> Dict[str, Any]:
    """`run` once it holds the output folder (`exclusive_output`)."""
    from grounding_node.data.stats import dataset_stats

    (out / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=1))
    state = (RunState.load(out) if cfg.resume else None) or RunState()
    before_path = out / "metrics_before.json"
    if before_path.exists() and cfg.resume:
        before = json.loads(before_path.read_text())
    else:
        before = _metrics(cfg.backend, cfg.model, cfg, val_s or train_s, Path(cfg.data))
        before_path.write_text(json.dumps(_summary(before), indent=1))
    t0 = time.time()
    trainer = importlib.import_module(TRAINERS[cfg.backend])
    state = trainer.train(cfg, train_s, val_s, Path(cfg.data), state)
    minutes = (time.time() - t0) / 60
    (out / CONFIG_FILE).write_text(json.dumps(cfg.to_dict(), indent=1))
    after = _metrics(cfg.backend, str(out), cfg, val_s or train_s, Path(cfg.data))
    (out / "metrics_after.json").write_text(json.dumps(_summary(after), indent=1))
    write_card(out, cfg, dataset_stats(samples).to_dict(), (len(train_s), pairs(train_s)),
               (len(val_s), pairs(val_s)), _summary(before), _summary(after), state, minutes, notes)
    return {"before": _summary(before), "after": _summary(after), "state": state, "minutes": minutes, "out": out}


def _summary(result: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The headline figures of an evaluation (the per-phrase list stays out of the card and JSON)."""
    if result is None:
        return None
    return {k: v for k, v in result.items() if isinstance(v, (int, float, str, dict)) and k != "per_phrase"}


class RunRefused(Exception):
    """A run that cannot start with these inputs (one line for the user; exit code 2, as a bad argument)."""


class DatasetInvalid(Exception):
    def __init__(self, errors: List[str]):
        super().__init__(f"{len(errors)} invalid record(s)")
        self.errors = errors


def main(argv: Optional[List[str]] = None) -> int:
    from grounding_node.data.validate import DatasetError

    args = build_parser().parse_args(argv)
    cfg = config_from_args(args)
    try:
        res = run(cfg, skip_invalid=args.skip_invalid)
    except DatasetError as exc:      # no dataset there at all: nothing to skip
        for e in exc.errors:
            print(f"error: {e}", file=sys.stderr)
        return 2
    except RunRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DatasetInvalid as exc:
        for e in exc.errors:
            print(f"error: {e}", file=sys.stderr)
        print(f"error: {len(exc.errors)} problem(s) in {cfg.data}; fix them or pass --skip-invalid",
              file=sys.stderr)
        return 2
    except OutputBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    b, a = res["before"] or {}, res["after"] or {}
    print(f"done in {res['minutes']:.1f} min -> {res['out']} (best epoch {res['state'].best_epoch})")
    for k in ("acc50", "f1_50", "no_ref_rejection"):
        if k in a:
            print(f"  {k}: {b.get(k, float('nan')):.3f} -> {a[k]:.3f}")
    print(f"  load it: backend:={cfg.backend} model:={res['out']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
