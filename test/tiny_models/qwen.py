"""Tiny random-weight Qwen2-VL / Qwen2.5-VL / Qwen3-VL checkpoints (native transformers; offline, no hub).

``build(out_dir, variant)`` with ``variant`` in ``{"qwen2", "qwen2_5", "qwen3"}`` writes a hub-style
directory: ``config.json``, ``generation_config.json``, ``model.safetensors``,
``preprocessor_config.json`` (``Qwen2VLImageProcessor``, small ``min/max_pixels``), the tokenizer
files and ``chat_template.json``. Load it with::

    from grounding_node.models.qwen_processing import load_qwen_processor, qwen_model_class
    processor = load_qwen_processor(out_dir)                     # local_files_only=True
    model = qwen_model_class(AutoConfig.from_pretrained(out_dir)).from_pretrained(out_dir)

(``AutoModelForImageTextToText`` maps all three too.) No ``trust_remote_code``.

Tokenizer: ``Qwen2Tokenizer`` over a byte-level vocab with no merges (ids 0..255 are the 256
byte symbols in byte order, so any text encodes one token per UTF-8 byte), then the real Qwen
special tokens in the real order (real id = ours + 151387)::

    256 <|endoftext|>  257 <|im_start|>  258 <|im_end|>  259 <|object_ref_start|>
    260 <|object_ref_end|>  261 <|box_start|>  262 <|box_end|>  263 <|quad_start|>  264 <|quad_end|>
    265 <|vision_start|>  266 <|vision_end|>  267 <|vision_pad|>  268 <|image_pad|>  269 <|video_pad|>

Each special token is one id and is ``special`` (decode with ``skip_special_tokens=False`` to see
them). eos = ``<|im_end|>``, pad = ``<|endoftext|>``, as in the real Instruct checkpoints.
Forced-answer recipe (what the real model emits, then ``<|im_end|>``)::

    ids = tok(target_text, add_special_tokens=False).input_ids + [tok.convert_tokens_to_ids("<|im_end|>")]

Image grid for a 640x480 image: qwen2/qwen2_5 (patch 14, merge 2, max_pixels 112*112) -> ``[1, 6, 8]``
(112x84 resized input, 12 image tokens); qwen3 (patch 16, max_pixels 128*128) -> ``[1, 6, 8]``
(128x96 input).
"""

from __future__ import annotations

import json
import os

from tiny_models import bytes_to_unicode

VARIANTS = ("qwen2", "qwen2_5", "qwen3")
SEED = 0

SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
]
TOKEN_IDS = {tok: 256 + i for i, tok in enumerate(SPECIAL_TOKENS)}
VOCAB_SIZE = 272  # 256 bytes + 14 specials, rounded up to a multiple of 16

# The real Qwen2-VL / Qwen2.5-VL chat template (default system prompt; image -> vision_start/pad/end).
CHAT_TEMPLATE_QWEN2 = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Qwen3-VL Instruct: no default system prompt; text content is rendered the same way.
CHAT_TEMPLATE_QWEN3 = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Tiny text model: hidden 64, 4 heads -> head_dim 16 -> mrope_section sums to 8.
_TEXT = dict(
    vocab_size=VOCAB_SIZE, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
    rms_norm_eps=1e-6, tie_word_embeddings=False,
)


def build_tokenizer(chat_template: str | None = None):
    from tokenizers import AddedToken
    from transformers import Qwen2Tokenizer

    byte_map = bytes_to_unicode()
    vocab = {byte_map[b]: b for b in range(256)}
    vocab.update(TOKEN_IDS)
    tok = Qwen2Tokenizer(
        vocab=vocab, merges=[], unk_token=None, bos_token=None,
        eos_token="<|im_end|>", pad_token="<|endoftext|>", errors="replace",
        model_max_length=32768,
    )
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS], special_tokens=True)
    if chat_template is not None:
        tok.chat_template = chat_template
    for t, i in TOKEN_IDS.items():
        assert tok.convert_tokens_to_ids(t) == i, (t, tok.convert_tokens_to_ids(t), i)
    return tok


def _config(variant: str):
    common_ids = dict(
        image_token_id=TOKEN_IDS["<|image_pad|>"], video_token_id=TOKEN_IDS["<|video_pad|>"],
        vision_start_token_id=TOKEN_IDS["<|vision_start|>"], vision_end_token_id=TOKEN_IDS["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    text_ids = dict(bos_token_id=TOKEN_IDS["<|endoftext|>"], eos_token_id=TOKEN_IDS["<|im_end|>"],
                    pad_token_id=TOKEN_IDS["<|endoftext|>"])
    if variant == "qwen2":
        from transformers import Qwen2VLConfig

        text = dict(_TEXT, **text_ids, rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                                         "mrope_section": [2, 3, 3]})
        vision = dict(depth=1, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2)
        return Qwen2VLConfig(text_config=text, vision_config=vision, **common_ids)
    if variant == "qwen2_5":
        from transformers import Qwen2_5_VLConfig

        text = dict(_TEXT, **text_ids, rope_parameters={"rope_type": "default", "rope_theta": 1e6,
                                                         "mrope_section": [2, 3, 3]})
        vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                      patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                      fullatt_block_indexes=[0], tokens_per_second=2)
        return Qwen2_5_VLConfig(text_config=text, vision_config=vision, **common_ids)
    if variant == "qwen3":
        from transformers import Qwen3VLConfig

        text = dict(_TEXT, **text_ids, head_dim=16,
                    rope_parameters={"rope_type": "default", "rope_theta": 5e6,
                                     "mrope_section": [4, 2, 2], "mrope_interleaved": True})
        text.pop("tie_word_embeddings")
        vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                      patch_size=16, spatial_merge_size=2, temporal_patch_size=2,
                      num_position_embeddings=64, deepstack_visual_indexes=[0])
        return Qwen3VLConfig(text_config=text, vision_config=vision, **common_ids)
    raise ValueError(f"unknown Qwen variant {variant!r}; expected one of {VARIANTS}")


def _image_processor(variant: str):
    from transformers import Qwen2VLImageProcessor  # PIL fallback without torchvision; saves this type name

    if variant == "qwen3":
        return Qwen2VLImageProcessor(
            min_pixels=64 * 64, max_pixels=128 * 128, patch_size=16, temporal_patch_size=2, merge_size=2,
            image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
        )
    return Qwen2VLImageProcessor(
        min_pixels=56 * 56, max_pixels=112 * 112, patch_size=14, temporal_patch_size=2, merge_size=2,
    )


_PROCESSOR_CLASS = {"qwen2": "Qwen2VLProcessor", "qwen2_5": "Qwen2_5_VLProcessor", "qwen3": "Qwen3VLProcessor"}


def build(out_dir, variant: str) -> None:
    """Write a tiny random-weight ``variant`` checkpoint (hub layout) to ``out_dir``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown Qwen variant {variant!r}; expected one of {VARIANTS}")
    import torch
    from transformers import GenerationConfig

    from grounding_node.models.qwen_processing import qwen_model_class

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    chat_template = CHAT_TEMPLATE_QWEN3 if variant == "qwen3" else CHAT_TEMPLATE_QWEN2

    torch.manual_seed(SEED)
    config = _config(variant)
    model = qwen_model_class(config)(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=TOKEN_IDS["<|endoftext|>"],
        eos_token_id=[TOKEN_IDS["<|im_end|>"], TOKEN_IDS["<|endoftext|>"]],
        pad_token_id=TOKEN_IDS["<|endoftext|>"],
        do_sample=False,
    )
    model.save_pretrained(out_dir)

    build_tokenizer(chat_template).save_pretrained(out_dir)
    _image_processor(variant).save_pretrained(out_dir)

    # Like the hub repos: name the stock processor class and ship chat_template.json.
    pp_path = os.path.join(out_dir, "preprocessor_config.json")
    with open(pp_path, encoding="utf-8") as f:
        pp = json.load(f)
    pp["processor_class"] = _PROCESSOR_CLASS[variant]
    with open(pp_path, "w", encoding="utf-8") as f:
        json.dump(pp, f, indent=2)
    with open(os.path.join(out_dir, "chat_template.json"), "w", encoding="utf-8") as f:
        json.dump({"chat_template": chat_template}, f, indent=2)
