"""Tiny random-weight PaliGemma (1, Gemma text backbone) checkpoint (offline, no hub, no sentencepiece).

``build(out_dir)`` writes config.json + model.safetensors + processor/tokenizer files that load with
``AutoProcessor.from_pretrained(out_dir, local_files_only=True)`` (-> ``PaliGemmaProcessor``) and
``PaliGemmaForConditionalGeneration.from_pretrained(out_dir, local_files_only=True)``;
``AutoModelForImageTextToText`` maps ``paligemma`` too. No ``trust_remote_code``.

Tokenizer: ``GemmaTokenizer`` (BPE, byte fallback) built in memory: ``<pad> <eos> <bos> <unk> <mask>``,
``<0x00>``..``<0xFF>``, ``▁`` + printable ASCII characters and a few merged words, so any text encodes.
Then, in the real checkpoint's order, ``<loc0000>``..``<loc1023>``, ``<seg000>``..``<seg127>``
(what ``PaliGemmaProcessor`` itself adds; adding them first keeps the real order) and ``<image>``.
Each ``<locNNNN>`` is one id. Prompt: ``"<image>detect red mug ; blue cup"`` (the processor inserts
``<bos>`` after the image tokens and appends ``\\n``). Forced-answer recipe::

    ids = tok("<loc0256><loc0128><loc0768><loc0896> red mug", add_special_tokens=False).input_ids
    target = ids + [tok.eos_token_id]

Coordinates are y first (ymin xmin ymax xmax), 1024 bins; transformers has no post-processor.
"""

from __future__ import annotations

import os
import string

from tiny_models import save_generative

IMAGE_SIZE = 64
PATCH_SIZE = 16
IMAGE_SEQ_LENGTH = (IMAGE_SIZE // PATCH_SIZE) ** 2

LOC_TOKENS = [f"<loc{i:0>4}>" for i in range(1024)]
SEG_TOKENS = [f"<seg{i:0>3}>" for i in range(128)]

WORDS = [
    "the", "a", "an", "of", "on", "in", "and", "or", "with", "detect", "segment", "caption", "en",
    "red", "green", "blue", "yellow", "black", "white", "mug", "cup", "box", "ball", "can", "bottle",
    "block", "cube", "bowl", "plate", "apple", "banana", "object", "table", "left", "right",
]


def _tokenizer():
    from tokenizers import AddedToken
    from transformers import GemmaTokenizer

    vocab: dict[str, int] = {"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<mask>": 4}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    chars = ["▁"] + [c for c in string.printable if c not in " \t\n\r\x0b\x0c"] + ["\n"]
    for c in chars:
        vocab.setdefault(c, len(vocab))
    merges: list[tuple[str, str]] = []
    for w in WORDS:
        # left-to-right merges "▁" + w[0], then + w[1], ... give "▁red" etc. as single pieces
        cur = "▁"
        for c in w:
            nxt = cur + c
            if nxt not in vocab:
                vocab[nxt] = len(vocab)
                merges.append((cur, c))
            cur = nxt
    tok = GemmaTokenizer(
        vocab=vocab,
        merges=merges,
        model_max_length=1024,
        model_specific_special_tokens={"image_token": "<image>"},
    )
    tok.add_tokens(LOC_TOKENS + SEG_TOKENS)  # as PaliGemmaProcessor does (ordinary added tokens)
    tok.add_tokens([AddedToken("<image>", special=True, normalized=False)], special_tokens=True)
    return tok


def _image_processor():
    try:  # PIL backend: torchvision is not installed here
        from transformers import SiglipImageProcessorPil as cls
    except ImportError:  # pragma: no cover
        from transformers import SiglipImageProcessor as cls
    ip = cls(
        do_resize=True,
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        resample=3,
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.5, 0.5, 0.5],
        image_std=[0.5, 0.5, 0.5],
        do_convert_rgb=True,
    )
    ip.image_seq_length = IMAGE_SEQ_LENGTH
    return ip


def build(out_dir) -> None:
    import torch
    from transformers import (
        GemmaConfig,
        PaliGemmaConfig,
        PaliGemmaForConditionalGeneration,
        PaliGemmaProcessor,
        SiglipVisionConfig,
    )

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)

    tok = _tokenizer()
    processor = PaliGemmaProcessor(image_processor=_image_processor(), tokenizer=tok)
    assert processor.image_token_id == tok.convert_tokens_to_ids("<image>")

    hidden = 32
    vocab_size = ((len(tok) + 63) // 64) * 64
    text_config = GemmaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=1024,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    vision_config = SiglipVisionConfig(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
        vision_use_head=False,
    )
    config = PaliGemmaConfig(
        vision_config=vision_config,
        text_config=text_config,
        image_token_index=processor.image_token_id,
        vocab_size=vocab_size,
        projection_dim=hidden,
        hidden_size=hidden,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )

    torch.manual_seed(0)
    model = PaliGemmaForConditionalGeneration(config).eval()
    save_generative(model, processor, tok, out_dir)


if __name__ == "__main__":  # pragma: no cover
    import sys

    build(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny_paligemma")
