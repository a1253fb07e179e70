"""Fine-tune a transformers family (Florence-2, PaliGemma, Qwen-VL, Grounding DINO) on phrase-box pairs.

    train(cfg, train_samples, val_samples, root, state) -> RunState      (called by `finetune.cli`)

The model is trained **inside the backend that serves it**: `create_backend(cfg.backend, ...)` loads the
processor and the model exactly as the node does, the examples are built with that backend's own prompt,
processor call and answer format (`hf_tasks`), and validation runs its real `ground()` on the model being
trained. So what is trained is what is served, and a format change in a backend cannot leave the trainer
behind.

- `cfg.method`: "lora" (peft adapters on the linear layers, merged into the output: `hf_weights`) or "full".
- Targets, loss and negative examples: `hf_tasks` (text families: the family record's answer format and
  token cross-entropy on the answer; Grounding DINO: transformers' detection loss).
- Learning rate: `cfg.lr`, else `DEFAULT_LR[method]`; linear warm-up, cosine decay to a tenth (computed from
  the step, so a resumed run continues the same schedule); AdamW, gradients clipped at 1.
- Epochs: `cfg.epochs`, else enough for about `MIN_STEPS` optimiser steps (between 3 and 30 epochs).
- Validation after every epoch (`cfg.extra["val_every"]` epochs; the last one always): the loss on the
  validation images, and `training.dataset_eval.evaluate_dataset` (the CLI's before/after figures) through
  `ground()` at the family's default threshold. The epoch kept is the one with the most validation phrases
  right (Acc@0.5 over positives, rejection over negatives), ties to the lower loss; the untrained model is
  epoch 0, so the output is never worse on validation than the base. Without validation images, the
  training images are validated on (`val_on: train` in the history).
- Output (`cfg.out`): the best epoch as a plain checkpoint (model, processor, generation config: it loads
  as `backend:=X model:=OUT`), `state.json` after every epoch, and `last/` (trainable weights and optimiser
  state) for `cfg.resume`.
- `cfg.max_minutes` (counted from the call): the run stops after the step that exceeds it; that epoch is
  validated and saved (marked `partial` in the history) and the best checkpoint stays.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from grounding_node.data.format import Sample
from grounding_node.finetune.common import FinetuneConfig, RunState
from grounding_node.finetune.hf_tasks import Unit, make_task
from grounding_node.finetune.hf_weights import add_lora, load_last, save_checkpoint, save_last, trainable_parameters

DEFAULT_LR = {"lora": 2e-4, "full": 1e-5}
MIN_STEPS = 300
WARMUP_FRACTION = 0.05
FINAL_LR_FRACTION = 0.1
CLIP_NORM = 1.0
METHODS = ("lora", "full")


def learning_rate(base: float, step: int, total: int) -> float:
    """Linear warm-up over the first 5 % of the steps, then cosine down to a tenth of `base`."""
    warmup = max(1, int(round(WARMUP_FRACTION * total)))
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (FINAL_LR_FRACTION + (1 - FINAL_LR_FRACTION) * 0.5 * (1 + math.cos(math.pi * progress)))


def default_epochs(steps_per_epoch: int) -> int:
    return int(min(30, max(3, math.ceil(MIN_STEPS / max(1, steps_per_epoch)))))


def load_for_training(cfg: FinetuneConfig):
    """(backend, peft wrapper or None): the backend loaded from the base checkpoint, set up for `cfg.method`."""
    import torch

    from grounding_node.models.base import BackendConfig
    from grounding_node.models.registry import create_backend

    if cfg.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got '{cfg.method}'")
    backend = create_backend(cfg.backend, BackendConfig(model=cfg.model, device=cfg.device, dtype=cfg.dtype))
    torch.manual_seed(cfg.seed)   # LoRA's initialisation
    if cfg.method == "lora":
        return backend, add_lora(backend.model, cfg.lora_rank, cfg.lora_alpha)
    for p in backend.model.parameters():
        p.requires_grad_(True)
    return backend, None


@dataclass
class Run:
    """One training run's fixed parts: the settings, the backend being trained, its data and its optimiser."""

    cfg: FinetuneConfig
    backend: Any
    peft_model: Any                  # the peft wrapper (LoRA) or None (full)
    task: Any                        # hf_tasks.GenerativeTask or DinoTask
    units: List[Unit]
    val: List[Sample]
    val_units: List[Unit]
    val_on: str                      # "val", or "train" when there are no validation images
    root: Path
    optimizer: Any
    params: List[Any]
    epochs: int
    base_lr: float
    deadline: Optional[float]        # time.time() after which the run stops (cfg.max_minutes)

    @property
    def batch(self) -> int:
        return max(1, int(self.cfg.batch_size))

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.units) / self.batch)

    @property
    def out(self) -> Path:
        return Path(self.cfg.out)


def validate(run: Run) -> Dict[str, Any]:
    """Loss on the validation units and the dataset evaluation's figures through `ground()`."""
    import torch

    from grounding_node.models.family import resolve_threshold
    from grounding_node.training.dataset_eval import evaluate_dataset

    backend = run.backend
    backend.model.eval()
    with torch.no_grad():
        losses = [run.task.loss([u], train=False) for u in run.val_units]
    saved = getattr(backend, "max_new_tokens", None)
    limit = run.task.limit_generation()
    if saved is not None and limit:
        backend.max_new_tokens = min(saved, limit)
    try:
        figures = evaluate_dataset(backend, run.root, run.val, resolve_threshold("auto", backend))
    finally:
        if saved is not None:
            backend.max_new_tokens = saved
    phrases = figures.get("phrases") or []
    return {"val_loss": float(np.mean(losses)) if losses else float("nan"),
            "val_acc50": figures.get("acc50"), "val_no_ref_rejection": figures.get("no_ref_rejection"),
            "val_ok": float(np.mean([p["ok"] for p in phrases])) if phrases else 0.0, "val_on": run.val_on}


def _better(entry: Dict[str, Any], state: RunState) -> bool:
    """More validation phrases right than the best epoch so far; on a tie, a lower validation loss."""
    if state.best_metric is None:
        return True
    if entry["val_ok"] != state.best_metric:
        return entry["val_ok"] > state.best_metric
    best = next((h for h in state.history if h.get("epoch") == state.best_epoch), {})
    return entry["val_loss"] < best.get("val_loss", float("inf"))


def record_best(run: Run, entry: Dict[str, Any], state: RunState) -> None:
    """Write the checkpoint into the output folder when this validated epoch is the best so far."""
    if _better(entry, state):
        state.best_metric, state.best_epoch = entry["val_ok"], entry["epoch"]
        save_checkpoint(run.backend.model, run.peft_model, run.backend.processor, run.out)


def train_epoch(run: Run, state: RunState, epoch: int) -> Dict[str, Any]:
    """One pass over the shuffled units (seeded by run seed and epoch, so a resumed run sees the same order);
    cut short after the step that passes the deadline (`partial`)."""
    import torch
    from tqdm import tqdm

    run.backend.model.train()
    torch.manual_seed(run.cfg.seed * 1000 + epoch)   # dropout: the same masks whether resumed or not
    order = np.random.default_rng([run.cfg.seed, epoch]).permutation(len(run.units))
    total = run.epochs * run.steps_per_epoch
    losses: List[float] = []
    bar = tqdm(range(run.steps_per_epoch), desc=f"epoch {epoch + 1}/{run.epochs}", disable=not run.cfg.progress,
               leave=False)
    entry: Dict[str, Any] = {"epoch": epoch + 1}
    for k in bar:
        entry["lr"] = learning_rate(run.base_lr, state.step, total)
        for group in run.optimizer.param_groups:
            group["lr"] = entry["lr"]
        run.optimizer.zero_grad(set_to_none=True)
        losses.append(run.task.loss([run.units[j] for j in order[k * run.batch:(k + 1) * run.batch]], train=True))
        torch.nn.utils.clip_grad_norm_(run.params, CLIP_NORM)
        run.optimizer.step()
        state.step += 1
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        if run.deadline is not None and time.time() > run.deadline and k + 1 < run.steps_per_epoch:
            entry["partial"] = True
            break
    entry.update(train_loss=float(np.mean(losses)), steps=len(losses))
    return entry


def run_epochs(run: Run, state: RunState) -> None:
    """Train, validate, keep the best, save the resume state: epoch after epoch until done or out of time."""
    val_every = max(1, int(run.cfg.extra.get("val_every", 1)))
    for epoch in range(state.epoch, run.epochs):
        started = time.time()
        entry = train_epoch(run, state, epoch)
        stop = entry.get("partial") or (run.deadline is not None and time.time() > run.deadline)
        if (epoch + 1) % val_every == 0 or epoch + 1 == run.epochs or stop:
            entry.update(validate(run))
            record_best(run, entry, state)
        entry["seconds"] = round(time.time() - started, 2)
        state.epoch = epoch + 1
        state.history.append(entry)
        save_last(run.backend.model, run.optimizer, run.out,
                  {"epoch": state.epoch, "step": state.step, "method": run.cfg.method})
        state.save(run.out)
        _report(run, entry, state)
        if stop:
            break


def prepare(cfg: FinetuneConfig, train_samples: List[Sample], val_samples: List[Sample], root: Path,
            started: float) -> Run:
    """Load the backend for training and lay out the run: units, epochs, learning rate, optimiser."""
    import torch

    backend, peft_model = load_for_training(cfg)
    task = make_task(backend, root)
    units = task.units(train_samples)
    if not units:
        raise ValueError("no annotated training image")
    val = list(val_samples) or list(train_samples)   # no validation images: validate on the training ones
    params = list(trainable_parameters(backend.model).values())
    base_lr = float(cfg.lr or DEFAULT_LR[cfg.method])
    run = Run(cfg=cfg, backend=backend, peft_model=peft_model, task=task, units=units, val=val,
              val_units=task.units(val), val_on="val" if val_samples else "train", root=Path(root),
              optimizer=torch.optim.AdamW(params, lr=base_lr, weight_decay=0.0), params=params, epochs=0,
              base_lr=base_lr, deadline=started + 60.0 * cfg.max_minutes if cfg.max_minutes is not None else None)
    run.epochs = int(cfg.epochs or default_epochs(run.steps_per_epoch))
    cfg.extra.update({"epochs_run": run.epochs, "steps_per_epoch": run.steps_per_epoch, "lr": base_lr})
    return run


def train(cfg: FinetuneConfig, train_samples: List[Sample], val_samples: List[Sample], root: Path,
          state: RunState) -> RunState:
    """Fine-tune `cfg.model` for `cfg.backend`; see the module docstring. Returns the updated `state`."""
    import torch

    started = time.time()
    threads = torch.get_num_threads()
    if cfg.threads:
        torch.set_num_threads(int(cfg.threads))
    try:
        run = prepare(cfg, train_samples, val_samples, root, started)
        if cfg.resume and state.epoch > 0:
            if load_last(run.backend.model, run.optimizer, run.out) is None:
                raise ValueError(f"{run.out}: state.json says {state.epoch} epochs but there is no last/ to resume")
        elif state.best_metric is None:   # epoch 0: the base model is the checkpoint to beat
            entry = {"epoch": 0, **validate(run)}
            record_best(run, entry, state)
            state.history.append(entry)
            state.save(run.out)
        run_epochs(run, state)
        return state
    finally:
        torch.set_num_threads(threads)


def _report(run: Run, entry: Dict[str, Any], state: RunState) -> None:
    if not run.cfg.progress:
        return
    from tqdm import tqdm

    val = "" if "val_loss" not in entry else \
        f", val loss {entry['val_loss']:.4f}, val right {100 * entry['val_ok']:.1f}%"
    tqdm.write(f"epoch {entry['epoch']}/{run.epochs}: train loss {entry['train_loss']:.4f}{val} "
               f"(best epoch {state.best_epoch})" + (" [stopped: --max-minutes]" if entry.get("partial") else ""))


__all__ = ["DEFAULT_LR", "Run", "default_epochs", "learning_rate", "load_for_training", "prepare", "train",
           "validate"]
