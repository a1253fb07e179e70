"""Weights of a transformers fine-tune: LoRA adapters, the plain output checkpoint, and the resume state.

- `add_lora`: peft LoRA adapters on every `nn.Linear` that is reached by exactly one path and owns its
  weight. Why not peft's `"all-linear"`: Grounding DINO ties its box head's weights across the detection
  head and the decoder (one weight under four module names), and a module can be shared outright; peft
  adapts each name on its own, so the other paths would run the unadapted layer in training and the merged
  file would hold different copies of one tied weight. The output layer is skipped as with `"all-linear"`.
  The adapters are injected in place: the backend keeps its own `model` object, so validation runs the
  backend's real `ground()` on the model being trained.
- `save_checkpoint`: the output folder is a plain checkpoint (`from_pretrained` + the processor files), so
  it loads with the existing backend: LoRA is merged into a copy of the model (the training copy keeps its
  unmerged adapters; merging in place and unmerging would drift low-precision weights every epoch).
- `save_last` / `load_last`: what `--resume` needs, in `OUT/last/`: the trainable tensors (LoRA: the
  adapters only; full: every weight) and the optimiser state.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, List, Optional

LAST_DIR = "last"
TRAINABLE_FILE = "trainable.pt"
OPTIMIZER_FILE = "optimizer.pt"
META_FILE = "meta.json"


def lora_target_names(model) -> List[str]:
    """Full names of the `nn.Linear` layers LoRA may adapt: not the output layer, not shared or tied ones."""
    import torch

    paths = Counter(id(m) for _, m in model.named_modules(remove_duplicate=False))
    owners = Counter(id(p) for _, p in model.named_parameters(remove_duplicate=False))
    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    return [name for name, m in model.named_modules()
            if isinstance(m, torch.nn.Linear) and m is not output and paths[id(m)] == 1
            and owners[id(m.weight)] == 1]


def add_lora(model, rank: int, alpha: int):
    """Inject LoRA adapters into `model` (in place) and return the peft wrapper (merging, trainable flags)."""
    from peft import LoraConfig, get_peft_model

    names = lora_target_names(model)
    if not names:
        raise ValueError(f"no linear layer to adapt in {type(model).__name__}")
    pattern = "(?:" + "|".join(re.escape(n) for n in names) + ")"   # exact names: peft full-matches a string
    config = LoraConfig(r=int(rank), lora_alpha=int(alpha), lora_dropout=0.0, bias="none", target_modules=pattern)
    with _input_embeddings_for_peft(model):
        return get_peft_model(model, config)


@contextmanager
def _input_embeddings_for_peft(model):
    """peft asks a model with tied weights for its input embeddings (to keep word-embedding ties); Grounding
    DINO ties only box-head weights and its `get_input_embeddings` raises NotImplementedError (transformers
    5.x). Such a model has no word embedding to keep tied: peft is shown an empty module for the call."""
    import torch

    try:
        model.get_input_embeddings()
        needs_stand_in = False
    except NotImplementedError:
        needs_stand_in = True
    if needs_stand_in:
        model.get_input_embeddings = torch.nn.Module
    try:
        yield
    finally:
        if needs_stand_in:
            del model.get_input_embeddings


def trainable_parameters(model) -> Dict[str, Any]:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(model, peft_model, processor, out: Path) -> None:
    """Write a plain checkpoint into `out`: LoRA merged into a copy (when `peft_model`), processor files."""
    out.mkdir(parents=True, exist_ok=True)
    plain = copy.deepcopy(peft_model).merge_and_unload() if peft_model is not None else model
    plain.save_pretrained(out)
    processor.save_pretrained(out)
    del plain


def _atomic_torch_save(obj: Any, path: Path) -> None:
    import torch

    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, str(tmp))
    tmp.replace(path)


def save_last(model, optimizer, out: Path, meta: Dict[str, Any]) -> None:
    """The resume state: trainable tensors and optimiser state in `out/last/` (replaced file by file)."""
    last = out / LAST_DIR
    last.mkdir(parents=True, exist_ok=True)
    tensors = {name: p.detach().cpu().clone() for name, p in trainable_parameters(model).items()}
    _atomic_torch_save(tensors, last / TRAINABLE_FILE)
    _atomic_torch_save(optimizer.state_dict(), last / OPTIMIZER_FILE)
    (last / META_FILE).write_text(json.dumps(meta, indent=1))


def load_last(model, optimizer, out: Path) -> Optional[Dict[str, Any]]:
    """Restore what `save_last` wrote into `model` and `optimizer`; None when there is nothing to resume.

    Raises ValueError when the saved tensors do not name exactly this run's trainable parameters (another
    base model, or another method), rather than resuming half a model.
    """
    import torch

    last = out / LAST_DIR
    if not (last / TRAINABLE_FILE).exists():
        return None
    tensors = torch.load(str(last / TRAINABLE_FILE), map_location="cpu", weights_only=True)
    params = trainable_parameters(model)
    if set(tensors) != set(params):
        missing, unknown = sorted(set(params) - set(tensors)), sorted(set(tensors) - set(params))
        raise ValueError(f"{last}: the saved weights do not match this model and method "
                         f"(missing {missing[:3]}..., unknown {unknown[:3]}...); start without --resume")
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(tensors[name].to(p.device, p.dtype))
    optimizer.load_state_dict(torch.load(str(last / OPTIMIZER_FILE), map_location="cpu", weights_only=True))
    meta_path = last / META_FILE
    return json.loads(meta_path.read_text()) if meta_path.exists() else {}


__all__ = ["LAST_DIR", "add_lora", "load_last", "lora_target_names", "save_checkpoint", "save_last",
           "trainable_parameters"]
