"""Real-size model figures for the GPU check (issue 13), from each checkpoint's published config.json.

Weights are never needed: `bench/gpu/build.py` writes a folder with config.json + tokenizer + processor
files built from these figures, and the harness instantiates the model with RANDOM weights on the device.
Only the architecture (and the processor's image size) decides the time, so these numbers must be the
real ones. Each entry names the hub repo whose config.json it copies; where the figures were cross-checked
against public text found with the project's code search, the comment says so.

`SMOKE` overrides shrink every model for the CPU smoke run (`--smoke`): same classes, same code paths,
a few layers and small widths/images.
"""

from __future__ import annotations

# -- Grounding DINO tiny ------------------------------------------------------------------------------
# https://huggingface.co/IDEA-Research/grounding-dino-tiny/blob/main/config.json
# Swin-T backbone (embed 96, depths 2-2-6-2, heads 3-6-12-24, window 7), bert-base-uncased text encoder,
# d_model 256, 6+6 layers, 900 queries, 4 levels x 4 points. transformers' GroundingDinoConfig defaults
# are documented as this checkpoint (checked: they print the same Swin-T figures); the base variant's
# config.json (embed 128, depths 2-2-18-2) shows up in code search, the tiny one is its Swin-T sibling.
# Processor (preprocessor_config.json): shortest_edge 800, longest_edge 1333, ImageNet mean/std.
GROUNDING_DINO_TINY = {
    "backbone": dict(embed_dim=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24], window_size=7, image_size=224,
                     patch_size=4, mlp_ratio=4.0, out_features=["stage2", "stage3", "stage4"]),
    "text": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2),
    "model": dict(d_model=256, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
                  decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, num_queries=900,
                  num_feature_levels=4, encoder_n_points=4, decoder_n_points=4, max_text_len=256,
                  two_stage=True, auxiliary_loss=False, position_embedding_type="sine"),
    "image": dict(shortest_edge=800, longest_edge=1333),
}

# -- OWLv2 base/16 ensemble ---------------------------------------------------------------------------
# https://huggingface.co/google/owlv2-base-patch16-ensemble/blob/main/config.json
# CLIP B/16: vision 768 wide, 12 layers, 12 heads, MLP 3072, 960x960 input (3600 patches -> 3600 boxes);
# text 512 wide, 12 layers, 8 heads, MLP 2048, vocab 49408, 16 tokens; projection 512.
# (960x960 input cross-checked in code search: usls' OWLv2 options feed 1x3x960x960.)
OWLV2_BASE16 = {
    "text": dict(vocab_size=49408, hidden_size=512, intermediate_size=2048, num_hidden_layers=12,
                 num_attention_heads=8, max_position_embeddings=16),
    "vision": dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                   image_size=960, patch_size=16),
    "projection_dim": 512,
}

# -- Florence-2 (native transformers `florence2`, florence-community/* checkpoints) -------------------
# https://huggingface.co/florence-community/Florence-2-base/blob/main/config.json and
# https://huggingface.co/florence-community/Florence-2-large/blob/main/config.json
# DaViT: depths 1-1-9-1, patch 7-3-3-3, stride 4-2-2-2, window 12 (transformers' Florence2VisionConfig
# defaults are the base vision tower: checked); base widths 128-256-512-1024 / heads 4-8-16-32, large
# 256-512-1024-2048 / 8-16-32-64. BART-like language model: base d_model 768, 6+6 layers, 12 heads,
# FFN 3072; large d_model 1024, 12+12 layers, 16 heads, FFN 4096; vocab 51289 (Florence2 options in
# code search: VocabSize 51289, base decoder 6 layers x 768, image 768). Image 768x768 -> 577 tokens.
_FLORENCE_VISION = dict(depths=[1, 1, 9, 1], patch_size=[7, 3, 3, 3], patch_stride=[4, 2, 2, 2],
                        patch_padding=[3, 1, 1, 1], patch_prenorm=[False, True, True, True], window_size=12,
                        max_position_embeddings=50, max_temporal_embeddings=100)
FLORENCE2_BASE = {
    "vision": dict(_FLORENCE_VISION, embed_dim=[128, 256, 512, 1024], num_heads=[4, 8, 16, 32],
                   num_groups=[4, 8, 16, 32], projection_dim=768),
    "text": dict(vocab_size=51289, d_model=768, encoder_layers=6, decoder_layers=6, encoder_attention_heads=12,
                 decoder_attention_heads=12, encoder_ffn_dim=3072, decoder_ffn_dim=3072, max_position_embeddings=1024),
    "image": 768,
}
FLORENCE2_LARGE = {
    "vision": dict(_FLORENCE_VISION, embed_dim=[256, 512, 1024, 2048], num_heads=[8, 16, 32, 64],
                   num_groups=[8, 16, 32, 64], projection_dim=1024),
    "text": dict(vocab_size=51289, d_model=1024, encoder_layers=12, decoder_layers=12, encoder_attention_heads=16,
                 decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024),
    "image": 768,
}

# -- PaliGemma 2 3B, 448 px ---------------------------------------------------------------------------
# https://huggingface.co/google/paligemma2-3b-mix-448/blob/main/config.json
# Gemma 2 2B text: 2304 wide, 26 layers, 8 heads / 4 KV heads, head_dim 256, MLP 9216, sliding window 4096,
# soft-capping 50 (attention) / 30 (final), query_pre_attn_scalar 256 (cross-checked in code search: a
# gemma2 config with these figures); vocab 257216 (256000 + 1024 <loc> + 128 <seg> + extra, image token
# 257152). SigLIP So400m/14 vision: 1152 wide, 27 layers, 16 heads, MLP 4304; 448x448 -> 1024 tokens.
PALIGEMMA2_3B_448 = {
    "text": dict(vocab_size=257216, hidden_size=2304, intermediate_size=9216, num_hidden_layers=26,
                 num_attention_heads=8, num_key_value_heads=4, head_dim=256, query_pre_attn_scalar=256,
                 sliding_window=4096, attn_logit_softcapping=50.0, final_logit_softcapping=30.0,
                 max_position_embeddings=8192, hidden_activation="gelu_pytorch_tanh"),
    "vision": dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
                   image_size=448, patch_size=14, vision_use_head=False),
    "projection_dim": 2304,
    "image": 448,
}

# -- Qwen2.5-VL 3B Instruct ---------------------------------------------------------------------------
# https://huggingface.co/Qwen/Qwen2.5-VL-3B-Instruct/blob/main/config.json (text figures cross-checked in
# code search: hidden 2048, intermediate 11008, 36 layers, 16 heads, 2 KV heads, rope 1e6).
# Vision: 32 blocks, 1280 wide, MLP 3420, 16 heads, patch 14, merge 2, window 112, full attention in
# blocks 7/15/23/31, out 2048. Processor: min_pixels 3136, max_pixels 12845056 (1280x720 -> 1288x728,
# 92x52 patches, 1196 image tokens).
QWEN25_VL_3B = {
    "text": dict(vocab_size=151936, hidden_size=2048, intermediate_size=11008, num_hidden_layers=36,
                 num_attention_heads=16, num_key_value_heads=2, max_position_embeddings=128000,
                 rms_norm_eps=1e-6, tie_word_embeddings=True,
                 rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [16, 24, 24]}),
    "vision": dict(depth=32, hidden_size=1280, intermediate_size=3420, num_heads=16, out_hidden_size=2048,
                   patch_size=14, spatial_merge_size=2, temporal_patch_size=2, window_size=112,
                   fullatt_block_indexes=[7, 15, 23, 31], tokens_per_second=2),
    "tie_word_embeddings": True,
    "image": dict(min_pixels=3136, max_pixels=12845056, patch_size=14, merge_size=2, temporal_patch_size=2),
}

# name -> (family builder, backend name, figures, goal). Goals: issue 13's table (ms, or a ratio).
MODELS = {
    "grounding_dino_tiny": ("grounding_dino", "grounding_dino", GROUNDING_DINO_TINY, {1: 15.0, 8: 15.0}),
    "owlv2_base16": ("owlv2", "owlv2", OWLV2_BASE16, {1: 20.0, 8: 20.0}),
    "florence2_base": ("florence2", "florence2", FLORENCE2_BASE, {}),
    "florence2_large": ("florence2", "florence2", FLORENCE2_LARGE, {1: 40.0, "ratio8": 2.0}),
    "paligemma2_3b_448": ("paligemma", "paligemma", PALIGEMMA2_3B_448, {}),
    "qwen2_5_vl_3b": ("qwen2_5_vl", "qwen_vl", QWEN25_VL_3B, {1: 150.0}),
}
ORDER = ["grounding_dino_tiny", "owlv2_base16", "florence2_large", "qwen2_5_vl_3b", "florence2_base",
         "paligemma2_3b_448"]   # most important first: a run short of time drops the tail

# -- the CPU smoke sizes: same classes and paths, tiny widths ------------------------------------------
SMOKE = {
    "grounding_dino_tiny": {
        "backbone": dict(embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 2]),
        "text": dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64),
        "model": dict(d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
                      decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, num_queries=30,
                      encoder_n_points=2, decoder_n_points=2),
        "image": dict(shortest_edge=96, longest_edge=160),
    },
    "owlv2_base16": {
        "text": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2),
        "vision": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                       image_size=96),
        "projection_dim": 32,
    },
    "florence2_base": {
        "vision": dict(depths=[1, 1], patch_size=[7, 3], patch_stride=[4, 2], patch_padding=[3, 1],
                       patch_prenorm=[False, True], embed_dim=[16, 32], num_heads=[1, 2], num_groups=[1, 2],
                       window_size=4, projection_dim=32),
        "text": dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                     decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64, vocab_size=2048),
        "image": 64,
    },
    "paligemma2_3b_448": {
        "text": dict(vocab_size=2048, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=16),
        "vision": dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                       image_size=64, patch_size=16),
        "projection_dim": 32,
        "image": 64,
    },
    "qwen2_5_vl_3b": {
        "text": dict(vocab_size=2048, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                     num_attention_heads=4, num_key_value_heads=2,
                     rope_parameters={"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]}),
        "vision": dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64,
                       fullatt_block_indexes=[1]),
        "image": dict(min_pixels=56 * 56, max_pixels=112 * 112),
    },
}
SMOKE["florence2_large"] = SMOKE["florence2_base"]


def figures(name: str, smoke: bool = False) -> dict:
    """The figures of `name`, with the smoke overrides merged one level deep when `smoke`."""
    import copy

    base = copy.deepcopy(MODELS[name][2])
    if not smoke:
        return base
    for key, value in SMOKE[name].items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key].update(value)
        else:
            base[key] = value
    return base
