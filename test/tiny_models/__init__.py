"""Tiny random-weight checkpoint builders for the test suite (one module per family).

`BUILDERS` is the one list of them: a new family adds its module here and one line below, and the
`tiny_checkpoint` fixture (test/conftest.py) serves it with no other change.
"""

from __future__ import annotations

import importlib
from typing import Dict, Tuple

# variant -> (module in this package, builder function, positional arguments after the output directory)
BUILDERS: Dict[str, Tuple[str, str, tuple]] = {
    "florence2": ("florence2", "build", ()),
    "paligemma": ("paligemma", "build", ()),
    "kosmos2": ("kosmos2", "build", ()),
    "qwen2": ("qwen", "build", ("qwen2",)),
    "qwen2_5": ("qwen", "build", ("qwen2_5",)),
    "qwen3": ("qwen", "build", ("qwen3",)),
    "grounding_dino": ("grounding_dino", "build", ()),
    "owlv2": ("owlv2", "build", ()),
    "owlvit": ("owlv2", "build_owlvit", ()),
}


def build(variant: str, out_dir: str) -> None:
    """Build the tiny checkpoint `variant` into `out_dir` (offline: config, tokenizer, processor, weights)."""
    module, function, args = BUILDERS[variant]
    getattr(importlib.import_module(f"{__name__}.{module}"), function)(out_dir, *args)


def bytes_to_unicode() -> dict:
    """GPT-2's byte -> printable unicode map: the alphabet of byte-level BPE vocabularies
    (Florence-2's BART tokenizer and Qwen's), so a vocab of just these 256 symbols encodes any text."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1))
          + list(range(ord("\u00ae"), ord("\u00ff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def save_generative(model, processor, tok, out_dir: str, **generation) -> None:
    """Greedy generation defaults from the tokenizer's special ids (plus `generation` overrides, e.g.
    Florence-2's decoder_start_token_id), then the model and the processor into `out_dir`."""
    gc = model.generation_config
    gc.bos_token_id, gc.eos_token_id, gc.pad_token_id = tok.bos_token_id, tok.eos_token_id, tok.pad_token_id
    gc.do_sample, gc.num_beams = False, 1
    for key, value in generation.items():
        setattr(gc, key, value)
    model.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
