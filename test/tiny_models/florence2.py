"""Tiny random-weight Florence-2 checkpoint (native transformers ``florence2``; offline, no hub).

``build(out_dir)`` writes config.json + model.safetensors + processor/tokenizer files that load with
``AutoProcessor.from_pretrained(out_dir, local_files_only=True)`` (-> ``Florence2Processor``) and
``Florence2ForConditionalGeneration.from_pretrained(out_dir, local_files_only=True)``;
``AutoModelForImageTextToText`` maps ``florence2`` too. No ``trust_remote_code``.

Tokenizer: byte-level BPE (``BartTokenizer`` == ``RobertaTokenizer`` in transformers 5) with no merges,
so any English text encodes (one token per byte), plus the real checkpoint's added tokens in the real
order: ``<od> </od> <ocr> </ocr>``, ``<loc_0>``..``<loc_999>``, 20 task markers, then ``<image>``.
Each of those is a single id. Forced-answer recipe::

    ids = tok("red mug<loc_100><loc_200><loc_300><loc_400>", add_special_tokens=False).input_ids
    target = [tok.bos_token_id] + ids + [tok.eos_token_id]      # real output: </s><s>...</s>

Parse with ``processor.post_process_generation(text, task="<CAPTION_TO_PHRASE_GROUNDING>",
image_size=(W, H))`` (pixels = (bin + 0.5) * W / 1000).
"""

from __future__ import annotations

import os

from tiny_models import bytes_to_unicode, save_generative

IMAGE_SIZE = 64  # pixels, square
# Two vision stages with strides 4 and 2 -> 64/8 = 8x8 feature map, +1 pooled token.
VISION_STRIDES = (4, 2)
IMAGE_SEQ_LENGTH = (IMAGE_SIZE // 8) ** 2 + 1

TASK_MARKERS = ["<od>", "</od>", "<ocr>", "</ocr>"]
LOC_TOKENS = [f"<loc_{i}>" for i in range(1000)]
OTHER_MARKERS = [
    "<cap>", "</cap>", "<ncap>", "</ncap>", "<dcap>", "</dcap>", "<grounding>", "</grounding>",
    "<seg>", "</seg>", "<sep>", "<region_cap>", "</region_cap>",
    "<region_to_desciption>", "</region_to_desciption>",  # sic: the real checkpoint's spelling
    "<proposal>", "</proposal>", "<poly>", "</poly>", "<and>",
]

BANNED_GROUNDING_TOKENS = [
    "it", "I", "me", "mine", "you", "your", "yours", "he", "him", "his", "she", "her", "hers",
    "they", "them", "their", "theirs", "one", "oneself", "we", "us", "our", "ours", "its",
    "myself", "yourself", "himself", "herself", "itself", "ourselves", "yourselves", "themselves",
    "this", "that", "these", "those", "who", "whom", "whose", "which", "what", "all", "another",
    "any", "anybody", "anyone", "anything", "each", "everybody", "everyone", "everything", "few",
    "many", "nobody", "none", "several", "some", "somebody", "someone", "something",
    "each other", "one another", "the image", "image", "images", "the", "a", "an", "a group",
    "other objects", "lots", "a set",
]

POST_PROCESSOR_CONFIG = {
    "ocr": {
        "pattern": r"(.+?)<loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)><loc_(\d+)>",
        "area_threshold": 0.0,
    },
    "phrase_grounding": {"banned_grounding_tokens": BANNED_GROUNDING_TOKENS},
    "pure_text": {},
    "description_with_bboxes": {},
    "description_with_polygons": {},
    "polygons": {},
    "bboxes": {},
    "description_with_bboxes_or_polygons": {},
}


def _tokenizer():
    from tokenizers import AddedToken
    from transformers import BartTokenizer

    vocab: dict[str, int] = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for ch in [bytes_to_unicode()[b] for b in range(256)]:
        vocab.setdefault(ch, len(vocab))
    vocab["<mask>"] = len(vocab)
    extra = TASK_MARKERS + LOC_TOKENS + OTHER_MARKERS
    tok = BartTokenizer(
        vocab=vocab,
        merges=[],
        model_max_length=1024,
        extra_special_tokens=extra,
        model_specific_special_tokens={"image_token": "<image>"},
    )
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in extra], special_tokens=True)
    tok.add_tokens([AddedToken("<image>", special=True, normalized=False)], special_tokens=True)
    return tok


def _image_processor():
    try:  # PIL backend: torchvision is not installed here
        from transformers import CLIPImageProcessorPil as cls
    except ImportError:  # pragma: no cover
        from transformers import CLIPImageProcessor as cls
    ip = cls(
        do_resize=True,
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        resample=3,  # bicubic, as the real checkpoint
        do_center_crop=False,
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
        do_convert_rgb=True,
    )
    ip.image_seq_length = IMAGE_SEQ_LENGTH
    return ip


def build(out_dir) -> None:
    import torch
    from transformers import (
        BartConfig,
        Florence2Config,
        Florence2ForConditionalGeneration,
        Florence2Processor,
        Florence2VisionConfig,
    )

    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)

    tok = _tokenizer()
    processor = Florence2Processor(
        image_processor=_image_processor(), tokenizer=tok, post_processor_config=POST_PROCESSOR_CONFIG
    )

    d_model = 32
    vocab_size = ((len(tok) + 63) // 64) * 64
    text_config = BartConfig(
        vocab_size=vocab_size,
        d_model=d_model,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        max_position_embeddings=1024,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        decoder_start_token_id=tok.eos_token_id,
        forced_eos_token_id=tok.eos_token_id,
        scale_embedding=False,
        dropout=0.0,
        attention_dropout=0.0,
    )
    vision_config = Florence2VisionConfig(
        depths=[1, 1],
        patch_size=[7, 3],
        patch_stride=list(VISION_STRIDES),
        patch_padding=[3, 1],
        patch_prenorm=[False, True],
        embed_dim=[16, 32],
        num_heads=[1, 2],
        num_groups=[1, 2],
        window_size=4,
        drop_path_rate=0.0,
        projection_dim=d_model,
        max_position_embeddings=50,
        max_temporal_embeddings=100,
    )
    config = Florence2Config(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=tok.image_token_id,
    )

    torch.manual_seed(0)
    model = Florence2ForConditionalGeneration(config).eval()
    save_generative(model, processor, tok, out_dir, decoder_start_token_id=tok.eos_token_id)


if __name__ == "__main__":  # pragma: no cover
    import sys

    build(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny_florence2")
