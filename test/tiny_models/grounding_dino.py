"""Tiny random-weight Grounding DINO checkpoint (offline, no timm, no hub).

``build(out_dir)`` writes config.json + model.safetensors + processor files that load with
``AutoProcessor.from_pretrained(out_dir, local_files_only=True)`` and
``AutoModelForZeroShotObjectDetection.from_pretrained(out_dir, local_files_only=True)``.
"""

from __future__ import annotations

import os

# Words the tests use in prompts; anything else maps to [UNK] (still works, just less distinct).
WORDS = [
    "the", "a", "an", "of", "to", "on", "in", "at", "is", "and", "or", "not", "with", "near",
    "left", "right", "top", "bottom", "front", "back", "behind", "next", "between", "middle",
    "big", "small", "large", "tall", "short", "closest", "farthest", "leftmost", "rightmost",
    "red", "green", "blue", "yellow", "orange", "purple", "pink", "black", "white", "gray", "grey",
    "brown", "cyan", "magenta",
    "mug", "cup", "box", "ball", "can", "bottle", "block", "cube", "bowl", "plate", "apple",
    "banana", "object", "table", "thing", "one", "item", "sphere", "cylinder", "label", "labelled",
    "fragile", "pick", "place", "put", "grab", "find",
]
PUNCT = [".", ",", "!", "?", "'", "-", ";", ":", "(", ")"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _tokenizer():
    from transformers import BertTokenizer

    tokens = SPECIALS + PUNCT + WORDS + [f"##{c}" for c in "abcdefghijklmnopqrstuvwxyz"]
    tokens += list("abcdefghijklmnopqrstuvwxyz0123456789")
    vocab: dict[str, int] = {}
    for t in tokens:
        vocab.setdefault(t, len(vocab))
    return BertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=256)


def _image_processor():
    try:  # PIL backend: torchvision is not installed here
        from transformers import GroundingDinoImageProcessorPil as cls
    except ImportError:  # pragma: no cover
        from transformers import GroundingDinoImageProcessor as cls
    return cls(size={"shortest_edge": 96, "longest_edge": 160})


def build(out_dir) -> None:
    import torch
    from transformers import (
        BertConfig,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoProcessor,
        ResNetConfig,
    )

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    tok = _tokenizer()

    backbone = ResNetConfig(
        num_channels=3,
        embedding_size=16,
        hidden_sizes=[16, 32, 32, 32],
        depths=[1, 1, 1, 1],
        layer_type="basic",
        out_features=["stage2", "stage3", "stage4"],
    )
    text = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
        pad_token_id=tok.pad_token_id,
    )
    config = GroundingDinoConfig(
        backbone_config=backbone,
        text_config=text,
        d_model=32,  # must be divisible by 32
        encoder_layers=1,
        encoder_attention_heads=2,  # >= 2
        encoder_ffn_dim=64,
        decoder_layers=2,  # >= 2
        decoder_attention_heads=2,
        decoder_ffn_dim=64,
        num_queries=30,
        num_feature_levels=4,
        encoder_n_points=2,
        decoder_n_points=2,
        max_text_len=256,
    )
    torch.manual_seed(0)
    model = GroundingDinoForObjectDetection(config).eval()
    model.save_pretrained(out_dir, safe_serialization=True)
    GroundingDinoProcessor(image_processor=_image_processor(), tokenizer=tok).save_pretrained(out_dir)
