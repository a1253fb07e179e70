"""What every fine-tuning backend shares: the run's settings, the data split, the run folder and its card.

A trainer (one module per backend kind: `tabletop`, `hf`) only turns (settings, train samples, validation
samples) into an output folder that loads as `backend:=X model:=OUT`. Everything else lives here, so the
CLI, the model card and the before/after metrics are the same for every backend:

- `FinetuneConfig`: the settings, as the CLI takes them (saved into the output folder, for resume);
- `default_val_fraction` / `split_samples`: the validation split by image, seeded (guidance of the
  grounding products: 10-15 % for small sets, 20 % above 200 images);
- `RunState`: the resumable progress record (`state.json` in the output folder);
- `write_card`: the output folder's README.md (data statistics, settings, metrics before and after).
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.data.format import Sample

CONFIG_FILE = "finetune_config.json"
LOCK_FILE = ".finetune.lock"


class OutputBusy(RuntimeError):
    """Another fine-tuning run holds the output folder."""


@contextmanager
def exclusive_output(out: Path) -> Iterator[None]:
    """Hold `out` for one run. Why: two runs writing one folder interleave checkpoints, state.json and the
    card, and neither result can be trusted. An flock, so a crashed or killed run releases it with its
    process and never leaves a stale lock behind."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    handle = open(out / LOCK_FILE, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise OutputBusy(f"another fine-tuning run is writing to {out} (it holds {out / LOCK_FILE}); wait for "
                         "it to finish or choose another --out") from exc
    try:
        yield
    finally:
        handle.close()   # closing the file releases the lock
STATE_FILE = "state.json"
CARD_FILE = "README.md"


@dataclass
class FinetuneConfig:
    """The settings of one fine-tuning run. `None` means "the backend's default" (see each trainer)."""

    backend: str
    data: Path
    out: Path
    model: str = ""                 # base checkpoint: dir (transformers) or .pt (tabletop); "" = backend default
    method: str = "lora"            # "lora" (peft adapters, merged on save) or "full"; tabletop: "full" only
    epochs: Optional[int] = None    # None: the trainer's default (tabletop: enough for ~150 steps; others 10)
    lr: Optional[float] = None
    batch_size: int = 4
    val_split: Optional[float] = None   # None: default_val_fraction(number of images)
    seed: int = 0
    resume: bool = False
    lora_rank: int = 8
    lora_alpha: int = 16
    device: str = "cpu"
    dtype: str = "float32"
    threads: int = 2
    progress: bool = True
    max_minutes: Optional[float] = None   # stop early (still keeping the best checkpoint) after this long
    extra: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["data"], d["out"] = str(self.data), str(self.out)
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "FinetuneConfig":
        d = dict(d)
        d["data"], d["out"] = Path(d["data"]), Path(d["out"])
        return cls(**d)


def default_val_fraction(n_images: int) -> float:
    """The validation share the grounding products recommend: 20 % above 200 images, else 15 %."""
    return 0.2 if n_images > 200 else 0.15


def split_samples(samples: Sequence[Sample], fraction: float, seed: int = 0) -> Tuple[List[Sample], List[Sample]]:
    """Split by image (never one image's phrases across both sides), seeded. At least one validation image
    whenever there are two or more images and `fraction` > 0; with a single image, it trains and validates
    on that image (the card says so)."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation split must be in [0, 1), got {fraction}")
    n = len(samples)
    order = np.random.default_rng(seed).permutation(n)
    n_val = 0 if fraction == 0 or n < 2 else max(1, int(round(fraction * n)))
    val_idx = set(order[:n_val].tolist())
    train = [s for i, s in enumerate(samples) if i not in val_idx]
    val = [s for i, s in enumerate(samples) if i in val_idx]
    return train, val


@dataclass
class RunState:
    """Progress of a run, rewritten after every epoch: what `--resume` continues from."""

    epoch: int = 0                      # epochs completed
    step: int = 0
    best_metric: Optional[float] = None
    best_epoch: Optional[int] = None
    history: List[Dict[str, Any]] = field(default_factory=list)   # one dict per epoch (losses, val metrics)

    def save(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        tmp.replace(out / STATE_FILE)

    @classmethod
    def load(cls, out: Path) -> Optional["RunState"]:
        p = Path(out) / STATE_FILE
        return cls(**json.loads(p.read_text())) if p.exists() else None


def pairs(samples: Sequence[Sample]) -> int:
    return sum(len(s.groundings) for s in samples)


# figures that are fractions of phrases or boxes (printed as %); everything else (losses, learning rates,
# seconds) is a plain number: a value in [0, 1] is not a fraction by its range alone
FRACTIONS = ("acc50", "f1_50", "mean_iou", "no_ref_rejection", "val_acc", "val_acc50", "val_no_ref_rejection", "val_ok")


def _fmt(v: Any, key: str = "") -> str:
    if isinstance(v, float):
        return f"{100 * v:.1f}%" if key in FRACTIONS else f"{v:.4g}"
    return str(v)


def write_card(out: Path, cfg: FinetuneConfig, stats: Dict[str, Any], n_train: Tuple[int, int],
               n_val: Tuple[int, int], before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]],
               state: RunState, minutes: float, notes: Sequence[str] = ()) -> Path:
    """The output folder's model card: what it was trained on, how, and what it scores before and after."""
    lines = [f"# Fine-tuned `{cfg.backend}` model", "",
             f"Loads in the node as `backend:={cfg.backend} model:={cfg.out}` "
             f"(or `GroundingBackend` via `create_backend('{cfg.backend}', BackendConfig(model=...))`).", "",
             "## Data", "",
             f"- dataset: `{cfg.data}`",
             f"- images {stats.get('images')}, phrase-box pairs {stats.get('pairs')}, "
             f"negatives {stats.get('negatives')}, vocabulary "
             f"{(stats.get('vocabulary') or {}).get('words')} words",
             f"- train: {n_train[0]} images / {n_train[1]} pairs; validation: {n_val[0]} images / {n_val[1]} pairs",
             "", "## Settings", "", "| setting | value |", "|---|---|"]
    for k, v in cfg.to_dict().items():
        if k not in ("data", "out", "progress", "extra"):
            lines.append(f"| {k} | {v} |")
    for k, v in cfg.extra.items():
        lines.append(f"| {k} | {v} |")
    lines += ["", f"Trained {state.epoch} epochs ({state.step} steps) in {minutes:.1f} min; best epoch "
              f"{state.best_epoch} (validation {_fmt(state.best_metric, 'val_ok')}).", ""]
    if before is not None or after is not None:
        keys = [k for k in ("acc50", "f1_50", "mean_iou", "no_ref_rejection") if k in (after or before or {})]
        # no validation image: the trainers validate on the training images, and the heading says so
        title = "Validation metrics" if n_val[0] else "Metrics on the training images"
        lines += [f"## {title} (shipped threshold)", "", "| metric | before | after |", "|---|---|---|"]
        for k in keys:
            lines.append(f"| {k} | {_fmt((before or {}).get(k, '-'), k)} | {_fmt((after or {}).get(k, '-'), k)} |")
        lines.append("")
    if state.history:
        cols = sorted({k for h in state.history for k in h})
        lines += ["## Per epoch", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for h in state.history:
            lines.append("| " + " | ".join(_fmt(h.get(c, ""), c) for c in cols) + " |")
        lines.append("")
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    path = Path(out) / CARD_FILE
    path.write_text("\n".join(lines))
    return path


__all__ = ["CARD_FILE", "CONFIG_FILE", "STATE_FILE", "FinetuneConfig", "RunState", "default_val_fraction",
           "pairs", "split_samples", "write_card"]
