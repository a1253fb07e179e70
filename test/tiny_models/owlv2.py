"""Tiny random-weight OWLv2 (and OWL-ViT v1) checkpoints (offline, no hub).

``build(out_dir)`` / ``build_owlvit(out_dir)`` write config.json + model.safetensors + processor
files that load with ``AutoProcessor.from_pretrained(out_dir, local_files_only=True)`` and
``AutoModelForZeroShotObjectDetection.from_pretrained(out_dir, local_files_only=True)``.

The CLIP tokenizer is a tiny byte-level BPE trained in memory with ``tokenizers``, laid out like
the real CLIP vocab: 256 byte chars, the same with ``</w>``, merge results, then the special
tokens LAST.  OWL masks a query whose first id is 0 and pools the text at ``argmax(input_ids)``,
so ``<|startoftext|>`` must not be id 0 and ``<|endoftext|>`` must be the highest id.
"""

from __future__ import annotations

import os

CORPUS = [
    "a red mug", "a blue cup", "the green box", "a yellow ball", "the red can",
    "a green bottle", "the blue block", "the yellow cube", "a white bowl", "a black plate",
    "the mug on the left", "the cup on the right", "the box left of the ball",
    "the can right of the bottle", "not the red one", "the big orange box", "a small purple ball",
    "a photo of a mug", "a photo of a cup", "the object near the table",
]
BOS, EOS = "<|startoftext|>", "<|endoftext|>"
TEXT_LEN = 16  # OwlProcessor pads queries to max_length=16


def _clip_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    byte_chars = pre_tokenizers.ByteLevel.alphabet()
    tok = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=600, initial_alphabet=byte_chars, end_of_word_suffix="</w>",
        special_tokens=[], show_progress=False,
    )
    tok.train_from_iterator([s.lower() for s in CORPUS] * 4, trainer=trainer)
    trained = tok.model  # merges in learned order
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        trained.save(tmp)
        with open(os.path.join(tmp, "merges.txt"), encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#version")]
    merges = [tuple(line.split(" ")) for line in lines]

    base = sorted(set(byte_chars))
    vocab: dict[str, int] = {}
    for t in base + [c + "</w>" for c in base] + [a + b for a, b in merges]:
        vocab.setdefault(t, len(vocab))
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=TEXT_LEN)


def _tiny_text_vision(tok, text_cls, vision_cls, image_size, patch_size):
    text = text_cls(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, max_position_embeddings=TEXT_LEN,
        pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
    )
    vision = vision_cls(
        hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        image_size=image_size, patch_size=patch_size,
    )
    return text.to_dict(), vision.to_dict()


def _pil_or_default(name_pil, name):
    import transformers

    return getattr(transformers, name_pil, None) or getattr(transformers, name)


def build(out_dir, image_size: int = 96, patch_size: int = 16) -> None:
    """OWLv2: (image_size/patch_size)^2 boxes, 36 by default."""
    import torch
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2Processor, Owlv2TextConfig, Owlv2VisionConfig

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    tok = _clip_tokenizer()
    text, vision = _tiny_text_vision(tok, Owlv2TextConfig, Owlv2VisionConfig, image_size, patch_size)
    config = Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)
    torch.manual_seed(0)
    model = Owlv2ForObjectDetection(config).eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    ip = _pil_or_default("Owlv2ImageProcessorPil", "Owlv2ImageProcessor")(
        size={"height": image_size, "width": image_size}
    )
    Owlv2Processor(image_processor=ip, tokenizer=tok).save_pretrained(out_dir)


def build_owlvit(out_dir, image_size: int = 96, patch_size: int = 16) -> None:
    """OWL-ViT v1. Its processor resizes (no pad) to a square: post-process with target_sizes=[(H, W)]."""
    import torch
    from transformers import (
        OwlViTConfig,
        OwlViTForObjectDetection,
        OwlViTProcessor,
        OwlViTTextConfig,
        OwlViTVisionConfig,
    )

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    tok = _clip_tokenizer()
    text, vision = _tiny_text_vision(tok, OwlViTTextConfig, OwlViTVisionConfig, image_size, patch_size)
    config = OwlViTConfig(text_config=text, vision_config=vision, projection_dim=32)
    torch.manual_seed(0)
    model = OwlViTForObjectDetection(config).eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    ip = _pil_or_default("OwlViTImageProcessorPil", "OwlViTImageProcessor")(
        size={"height": image_size, "width": image_size},
        crop_size={"height": image_size, "width": image_size},
        do_center_crop=False,
    )
    OwlViTProcessor(image_processor=ip, tokenizer=tok).save_pretrained(out_dir)
