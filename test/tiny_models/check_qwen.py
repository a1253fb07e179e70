"""Smoke check for the tiny Qwen-VL checkpoints and ``grounding_node.models.qwen_processing``.

Run: ``cd <repo> && source scripts/env.sh && python test/tiny_models/check_qwen.py [variant ...]``

For each variant: build into a temp dir, load offline with ``load_qwen_processor`` +
``qwen_model_class``, run a chat prompt with one 640x480 image through ``generate``, then force a
known grounding answer through the real ``generate`` with a scripted ``LogitsProcessor`` and check
that the decoded text (``skip_special_tokens=False``) equals the target. Exits non-zero on failure.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))                 # test/ -> `tiny_models`
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))  # repo -> `grounding_node`

PROMPT = 'Locate "red mug" and "blue cup"; answer as JSON [{"bbox_2d":[x1,y1,x2,y2],"label":...}]'
TARGETS = {
    "qwen2": "<|object_ref_start|>red mug<|object_ref_end|><|box_start|>(10,20),(300,400)<|box_end|>",
    "qwen2_5": '```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "red mug"}]\n```',
    "qwen3": '```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "red mug"}]\n```',
}


def forced_target_ids(tokenizer, text: str) -> list[int]:
    """Token ids the model must emit for ``text``: the text's ids, then ``<|im_end|>`` (eos)."""
    return tokenizer(text, add_special_tokens=False).input_ids + [tokenizer.convert_tokens_to_ids("<|im_end|>")]


def make_forcing_processor(target_ids: list[int], prompt_len: int):
    import torch
    from transformers import LogitsProcessor

    class ForceSequence(LogitsProcessor):
        """Allow only the next token of ``target_ids`` (then only the last one, i.e. eos)."""

        def __call__(self, input_ids, scores):
            step = input_ids.shape[1] - prompt_len
            nxt = target_ids[min(step, len(target_ids) - 1)]
            forced = torch.full_like(scores, float("-inf"))
            forced[:, nxt] = 0.0
            return forced

    return ForceSequence()


def check(variant: str) -> None:
    import numpy as np
    import torch
    from PIL import Image
    from transformers import AutoConfig, AutoModelForImageTextToText

    from tiny_models import qwen as tiny_qwen

    from grounding_node.models.qwen_processing import load_qwen_processor, qwen_model_class

    with tempfile.TemporaryDirectory(prefix=f"tiny_{variant}_") as d:
        t0 = time.perf_counter()
        tiny_qwen.build(d, variant)
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        assert size < 20 * 2**20, size
        t1 = time.perf_counter()

        processor = load_qwen_processor(d, local_files_only=True)
        config = AutoConfig.from_pretrained(d, local_files_only=True)
        cls = qwen_model_class(config)
        assert AutoModelForImageTextToText._model_mapping[type(config)] is cls
        model = cls.from_pretrained(d, local_files_only=True).eval()
        t2 = time.perf_counter()

        rng = np.random.default_rng(0)
        image = Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), "RGB")
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": PROMPT}]}]
        text = processor.apply_chat_template(messages, add_generation_prompt=True)
        assert text.endswith("<|im_start|>assistant\n") and "<|vision_start|><|image_pad|><|vision_end|>" in text
        inputs = processor(text=[text], images=[image], return_tensors="pt")
        grid = inputs["image_grid_thw"]
        n_img = int((inputs["input_ids"] == processor.image_token_id).sum())
        assert n_img == int(grid.prod()) // processor.image_processor.merge_size**2, (n_img, grid)

        # Pixel-budget override (applied after loading; no per-call FutureWarning).
        import warnings

        small = load_qwen_processor(d, local_files_only=True, max_pixels=4 * 32 * 32)
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            small_grid = small(text=[text], images=[image], return_tensors="pt")["image_grid_thw"]
        assert int(small_grid.prod()) < int(grid.prod()), (small_grid, grid)

        with torch.no_grad():
            out = model.generate(**inputs, max_new_tokens=8, output_scores=True, return_dict_in_generate=True)
        t3 = time.perf_counter()
        prompt_len = inputs["input_ids"].shape[1]
        assert len(out.scores) == out.sequences.shape[1] - prompt_len >= 1

        target = TARGETS[variant]
        target_ids = forced_target_ids(processor.tokenizer, target)
        with torch.no_grad():
            forced = model.generate(
                **inputs, max_new_tokens=len(target_ids) + 4, do_sample=False,
                logits_processor=[make_forcing_processor(target_ids, prompt_len)],
                output_scores=True, return_dict_in_generate=True,
            )
        t4 = time.perf_counter()
        new = forced.sequences[0, prompt_len:].tolist()
        assert new == target_ids, (new, target_ids)
        decoded = processor.decode(new, skip_special_tokens=False)
        answer = processor.decode(new[:-1], skip_special_tokens=False)
        print(f"[{variant}] processor={type(processor).__name__} model={cls.__name__} "
              f"image_processor={type(processor.image_processor).__name__} dir={size / 1e6:.2f} MB")
        print(f"[{variant}] image_grid_thw={grid.tolist()} (max_pixels=4096: {small_grid.tolist()}) "
              f"prompt_tokens={prompt_len} image_tokens={n_img}")
        free = processor.decode(out.sequences[0, prompt_len:], skip_special_tokens=False)
        print(f"[{variant}] free generate: {free!r}")
        print(f"[{variant}] forced decode: {decoded!r}")
        assert answer == target, (answer, target)
        assert decoded == target + "<|im_end|>"
        print(f"[{variant}] forced == target: True")
        print(f"[{variant}] timing: build {t1 - t0:.2f}s, load {t2 - t1:.2f}s, "
              f"generate(8) {t3 - t2:.2f}s, forced generate({len(target_ids)}) {t4 - t3:.2f}s")


def main(argv: list[str]) -> int:
    t0 = time.perf_counter()
    import torch  # noqa: F401
    import transformers  # noqa: F401

    print(f"import torch+transformers: {time.perf_counter() - t0:.2f}s")
    from tiny_models.qwen import VARIANTS

    variants = argv or list(VARIANTS)
    for v in variants:
        check(v)
    print(f"OK {variants} total {time.perf_counter() - t0:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
