"""Tiny random-weight Kosmos-2 checkpoint (offline, no hub, no sentencepiece).

``build(out_dir)`` writes config.json + model.safetensors + processor/tokenizer files that load with
``AutoProcessor.from_pretrained(out_dir, local_files_only=True)`` (-> ``Kosmos2Processor``) and
``Kosmos2ForConditionalGeneration.from_pretrained(out_dir, local_files_only=True)``;
``AutoModelForImageTextToText`` maps ``kosmos-2`` too (and ``AutoModelForVision2Seq`` if present).
No ``trust_remote_code``.

Tokenizer: Unigram ``XLMRobertaTokenizer`` built in memory: ``<s> <pad> </s> <unk>``, then ``▁``,
printable ASCII characters (with and without ``▁``) and some whole words (so far more than the 64 ids after
``<unk>`` that the processor uses as image-slot placeholders), ``<mask>``, then the 11 Kosmos-2 tag tokens
and ``<patch_index_0000>``..``<patch_index_1023>`` (what ``Kosmos2Processor`` adds, in its order).
Prompt: ``"<grounding><phrase> a red mug</phrase>"``. Forced-answer recipe (continuation only)::

    ids = tok("<phrase> a red mug</phrase><object><patch_index_0044><patch_index_0863></object>",
              add_special_tokens=False).input_ids
    target = ids + [tok.eos_token_id]

``processor.post_process_generation(decoded_text)`` returns ``(clean_text, [(phrase, span, [box01])])``
with boxes normalised to [0, 1] on a 32x32 patch grid.
"""

from __future__ import annotations

import os
import string

from tiny_models import save_generative

IMAGE_SIZE = 32
PATCH_SIZE = 16
LATENT_QUERY_NUM = 64  # the processor's default num_image_tokens

TAG_TOKENS = [
    "</doc>", "<image>", "</image>", "</chunk>", "</line>", "<phrase>", "</phrase>", "<object>",
    "</object>", "</delimiter_of_multi_objects/>", "<grounding>",
]
PATCH_INDEX_TOKENS = [f"<patch_index_{i:04d}>" for i in range(1024)]

WORDS = [
    "the", "a", "an", "of", "to", "on", "in", "is", "and", "or", "with", "near", "image", "picture",
    "red", "green", "blue", "yellow", "black", "white", "mug", "cup", "box", "ball", "can", "bottle",
    "block", "cube", "bowl", "plate", "apple", "banana", "object", "table", "left", "right", "An",
]


def _tokenizer():
    from tokenizers import AddedToken
    from transformers import XLMRobertaTokenizer

    pieces: list[tuple[str, float]] = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    seen = {p for p, _ in pieces}

    def add(piece: str, score: float) -> None:
        if piece not in seen:
            seen.add(piece)
            pieces.append((piece, score))

    add("▁", -8.0)
    chars = [c for c in string.printable if not c.isspace()]
    for c in chars:
        add(c, -10.0)
    for c in chars:
        add("▁" + c, -9.5)
    for w in WORDS:
        add("▁" + w, -4.0)
        add(w, -5.0)
    pieces.append(("<mask>", 0.0))
    tok = XLMRobertaTokenizer(vocab=pieces, model_max_length=2048)
    # Exactly what Kosmos2Processor.__init__ adds (it re-adds them; that is a no-op).
    tok.add_tokens(
        [AddedToken(t, lstrip=True, rstrip=False, normalized=False) for t in TAG_TOKENS + PATCH_INDEX_TOKENS]
    )
    return tok


def _image_processor():
    try:  # PIL backend: torchvision is not installed here
        from transformers import CLIPImageProcessorPil as cls
    except ImportError:  # pragma: no cover
        from transformers import CLIPImageProcessor as cls
    return cls(
        do_resize=True,
        size={"shortest_edge": IMAGE_SIZE},
        resample=3,
        do_center_crop=True,
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.48145466, 0.4578275, 0.40821073],
        image_std=[0.26862954, 0.26130258, 0.27577711],
        do_convert_rgb=True,
    )


def build(out_dir) -> None:
    import torch
    from transformers import (
        Kosmos2Config,
        Kosmos2ForConditionalGeneration,
        Kosmos2Processor,
    )

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)

    tok = _tokenizer()
    assert len(tok) > tok.unk_token_id + LATENT_QUERY_NUM
    processor = Kosmos2Processor(_image_processor(), tok)

    vocab_size = ((len(tok) + 63) // 64) * 64
    text_config = dict(
        vocab_size=vocab_size,
        max_position_embeddings=1024,
        embed_dim=32,
        layers=1,
        ffn_dim=64,
        attention_heads=2,
        dropout=0.0,
        attention_dropout=0.0,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    vision_config = dict(
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=IMAGE_SIZE,
        patch_size=PATCH_SIZE,
    )
    config = Kosmos2Config(text_config=text_config, vision_config=vision_config, latent_query_num=LATENT_QUERY_NUM)

    torch.manual_seed(0)
    model = Kosmos2ForConditionalGeneration(config).eval()
    save_generative(model, processor, tok, out_dir)


if __name__ == "__main__":  # pragma: no cover
    import sys

    build(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny_kosmos2")
