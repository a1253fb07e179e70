"""Smoke check for the tiny generative grounding checkpoints (Florence-2, PaliGemma, Kosmos-2).

Run: ``python test/tiny_models/check_generative.py``. For each family it builds a checkpoint into a temp
dir, loads it back offline through ``AutoProcessor`` + the model class, runs one free ``generate`` on a
random 640x480 image, then forces a known answer through the real ``generate`` with a scripted
``LogitsProcessor`` and shows decode + post-processing. Exits non-zero on any mismatch.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # .../test

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForImageTextToText,
    AutoProcessor,
    Florence2ForConditionalGeneration,
    Kosmos2ForConditionalGeneration,
    LogitsProcessor,
    LogitsProcessorList,
    PaliGemmaForConditionalGeneration,
)
from transformers.utils import logging as hf_logging  # noqa: E402

from tiny_models import florence2, kosmos2, paligemma  # noqa: E402

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()


class ForceSequence(LogitsProcessor):
    """Allow only the next token of ``target`` (then EOS) at every step."""

    def __init__(self, target: list[int], eos_id: int):
        self.target = list(target)
        self.eos_id = eos_id
        self.start = None

    def __call__(self, input_ids, scores):
        if self.start is None:
            self.start = input_ids.shape[1]
        step = input_ids.shape[1] - self.start
        nxt = self.target[step] if step < len(self.target) else self.eos_id
        forced = torch.full_like(scores, float("-inf"))
        forced[:, nxt] = 0.0
        return forced


def _single_ids(tok, tokens):
    for t in tokens:
        ids = tok(t, add_special_tokens=False).input_ids
        assert len(ids) == 1 and ids[0] != tok.unk_token_id, (t, ids)


def _generated(out):
    n = len(out.scores)
    return out.sequences[0, -n:]


def _run(name, module, model_cls, prompt, target_text, prefix_ids, tokens_single, post):
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        module.build(d)
        t_build = time.perf_counter() - t0
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        proc = AutoProcessor.from_pretrained(d, local_files_only=True)
        model = model_cls.from_pretrained(d, local_files_only=True).eval()
        auto = AutoModelForImageTextToText.from_pretrained(d, local_files_only=True)
        assert type(auto) is model_cls, type(auto)
        t_load = time.perf_counter() - t0 - t_build
    tok = proc.tokenizer
    _single_ids(tok, tokens_single)

    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), "RGB")
    inputs = proc(images=image, text=prompt, return_tensors="pt")
    inputs.pop("labels", None)
    t1 = time.perf_counter()
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=8, output_scores=True, return_dict_in_generate=True)
    t_gen = time.perf_counter() - t1

    target = prefix_ids(tok) + tok(target_text, add_special_tokens=False).input_ids
    with torch.no_grad():
        forced = model.generate(
            **inputs,
            max_new_tokens=len(target) + 1,
            logits_processor=LogitsProcessorList([ForceSequence(target, tok.eos_token_id)]),
            output_scores=True,
            return_dict_in_generate=True,
        )
    gen = _generated(forced).tolist()
    assert gen == target + [tok.eos_token_id], (gen, target)
    decoded = tok.decode(gen, skip_special_tokens=False)
    full = tok.decode(forced.sequences[0], skip_special_tokens=False)
    result = post(proc, decoded, full)
    total = time.perf_counter() - t0
    print(f"== {name}: {type(proc).__name__} / {type(tok).__name__} / {model_cls.__name__}  ({size / 1e6:.2f} MB)")
    print(f"   prompt ids: {inputs['input_ids'].shape[1]}, free generate: {tok.decode(_generated(out))!r}")
    print(f"   target ids: {target}")
    print(f"   forced decode: {decoded!r}")
    print(f"   post-processed: {result}")
    print(f"   build {t_build:.2f}s  load {t_load:.2f}s  generate {t_gen:.2f}s  total {total:.2f}s")
    return result


def _florence_post(proc, decoded, full):
    res = proc.post_process_generation(decoded, task="<CAPTION_TO_PHRASE_GROUNDING>", image_size=(640, 480))
    assert res == {"<CAPTION_TO_PHRASE_GROUNDING>": {"bboxes": [[64, 96, 192, 192]], "labels": ["red mug"]}}, res
    ov = proc.post_process_generation(decoded, task="<OPEN_VOCABULARY_DETECTION>", image_size=(640, 480))
    assert ov["<OPEN_VOCABULARY_DETECTION>"]["bboxes"] == [[64, 96, 192, 192]], ov
    assert ov["<OPEN_VOCABULARY_DETECTION>"]["bboxes_labels"] == ["red mug"], ov
    return res


_PG_BOX = re.compile(r"<loc(\d{4})><loc(\d{4})><loc(\d{4})><loc(\d{4})>\s*([^<;]*)")


def _paligemma_post(proc, decoded, full, width=640, height=480):
    # transformers has no PaliGemma post-processor: y first, 1024 bins.
    boxes = []
    for m in _PG_BOX.finditer(decoded.replace("<eos>", "")):
        y0, x0, y1, x1 = (int(m.group(i)) / 1024 for i in range(1, 5))
        boxes.append((m.group(5).strip(), [x0 * width, y0 * height, x1 * width, y1 * height]))
    assert boxes == [("red mug", [80.0, 120.0, 560.0, 360.0])], boxes
    return boxes


def _kosmos_post(proc, decoded, full):
    caption, entities = proc.post_process_generation(full)
    assert len(entities) == 1 and entities[0][0] == "a red mug", entities
    assert np.allclose(entities[0][2][0], (0.390625, 0.046875, 0.984375, 0.828125)), entities
    return caption, entities


def main() -> int:
    t0 = time.perf_counter()
    _run(
        "Florence-2", florence2, Florence2ForConditionalGeneration,
        "<CAPTION_TO_PHRASE_GROUNDING>red mug",
        "red mug<loc_100><loc_200><loc_300><loc_400>",
        lambda tok: [tok.bos_token_id],  # the real model emits </s><s>...; </s> is decoder_start
        ["<loc_0>", "<loc_999>", "<od>", "<image>", "<and>"],
        _florence_post,
    )
    _run(
        "PaliGemma", paligemma, PaliGemmaForConditionalGeneration,
        "<image>detect red mug ; blue cup",
        "<loc0256><loc0128><loc0768><loc0896> red mug",
        lambda tok: [],
        ["<loc0000>", "<loc1023>", "<seg000>", "<image>"],
        _paligemma_post,
    )
    _run(
        "Kosmos-2 (phrase prompt, forced <object>)", kosmos2, Kosmos2ForConditionalGeneration,
        "<grounding><phrase> a red mug</phrase>",
        "<object><patch_index_0044><patch_index_0863></object>",
        lambda tok: [],
        ["<grounding>", "<phrase>", "</phrase>", "<object>", "</object>", "<patch_index_0000>",
         "<patch_index_1023>"],
        _kosmos_post,
    )
    _run(
        "Kosmos-2 (<grounding> prompt, forced phrase+object)", kosmos2, Kosmos2ForConditionalGeneration,
        "<grounding>",
        "<phrase> a red mug</phrase><object><patch_index_0044><patch_index_0863></object>",
        lambda tok: [],
        ["<grounding>", "<phrase>", "</phrase>", "<object>", "</object>"],
        _kosmos_post,
    )
    print(f"ALL OK in {time.perf_counter() - t0:.2f}s (after imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
