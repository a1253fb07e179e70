"""Acceptance 1 of the backends issue: every transformers family, selected by name through the
registry, loads a tiny random checkpoint through its real loading path (from_pretrained, offline,
no remote code) and grounds on a 640x480 image. The whole generate -> decode -> parse -> box_1024
-> pixels path is proven by forcing a known answer through the real generate()."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import LogitsProcessor

from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundingSettings
from grounding_node.models.base import BackendConfig, Detection
from grounding_node.models.hf import to_pil
from grounding_node.models.parsers import bins_to_1024, kosmos2_patches_to_1024, pixels_to_1024, scaled_to_1024
from grounding_node.models.registry import create_backend

W, H = 640, 480
IMAGE = np.random.default_rng(0).integers(0, 256, (H, W, 3), dtype=np.uint8)

VARIANTS = [  # (registry name, tiny checkpoint)
    ("florence2", "florence2"), ("paligemma", "paligemma"), ("kosmos2", "kosmos2"),
    ("qwen_vl", "qwen2"), ("qwen_vl", "qwen2_5"), ("qwen_vl", "qwen3"),
    ("grounding_dino", "grounding_dino"), ("owlv2", "owlv2"), ("owlv2", "owlvit"),
]


def load(tiny_checkpoint, name, variant, **extra):
    config = BackendConfig(model=tiny_checkpoint(variant), device="auto", dtype="auto", extra=dict(extra))
    return create_backend(name, config)


@pytest.mark.parametrize("name,variant", VARIANTS, ids=[v for _, v in VARIANTS])
def test_backend_loads_offline_and_grounds_640x480(tiny_checkpoint, name, variant):
    backend = load(tiny_checkpoint, name, variant, max_new_tokens=16, candidate_threshold=0.0)
    # auto: CUDA in bf16 where there is a GPU that supports it, else the CPU in fp32 (BackendConfig's promise)
    gpu = torch.cuda.is_available()
    assert backend.device.startswith("cuda") if gpu else backend.device == "cpu"
    assert backend.dtype == (torch.bfloat16 if gpu and torch.cuda.is_bf16_supported() else torch.float32)
    assert not backend.model.training
    phrases = ["red mug", "blue cup"]
    out = backend.ground(IMAGE, phrases)
    assert len(out) == len(phrases)
    for dets in out:
        assert all(isinstance(d, Detection) for d in dets)
        assert [d.score for d in dets] == sorted((d.score for d in dets), reverse=True)
        for d in dets:
            assert 0.0 <= d.score <= 1.0
            x1, y1, x2, y2 = d.box_1024
            assert 0 <= x1 <= x2 <= 1024 and 0 <= y1 <= y2 <= 1024
    assert backend.ground(IMAGE, []) == []
    # the node's data path accepts whatever it returned
    result = ground_frame(backend, Frame(rgb=IMAGE), phrases, GroundingSettings(score_threshold=0.0))
    assert result.phrases == phrases


def test_detectors_return_candidates_per_phrase(tiny_checkpoint):
    """Detector heads always score every query: with a zero floor, each phrase gets boxes (NMS-ed, capped)."""
    backend = load(tiny_checkpoint, "grounding_dino", "grounding_dino", candidate_threshold=0.0, max_candidates=4)
    out = backend.ground(IMAGE, ["red mug", "blue cup", "green ball"])
    assert sum(len(d) for d in out) > 0 and all(len(d) <= 4 for d in out)


def test_remote_code_and_downloads_are_never_enabled(tiny_checkpoint, monkeypatch):
    import transformers

    seen = []
    real = transformers.Florence2ForConditionalGeneration.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        seen.append(kwargs)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(transformers.Florence2ForConditionalGeneration, "from_pretrained", classmethod(spy))
    load(tiny_checkpoint, "florence2", "florence2")
    assert seen and seen[0]["trust_remote_code"] is False and seen[0]["local_files_only"] is True


def test_missing_local_model_fails_clearly(tmp_path):
    with pytest.raises(Exception) as info:
        create_backend("florence2", BackendConfig(model=str(tmp_path / "nowhere")))
    assert "nowhere" in str(info.value)


# -- forced answers through the real generate() ------------------------------------------------------

class ForceSequence(LogitsProcessor):
    """Allow only the next token of `target` at each step (then keep repeating its last token)."""

    def __init__(self, target):
        self.target = list(target)
        self.start = None

    def __call__(self, input_ids, scores):
        if self.start is None:
            self.start = input_ids.shape[1]
        tok = self.target[min(input_ids.shape[1] - self.start, len(self.target) - 1)]
        forced = torch.full_like(scores, float("-inf"))
        forced[:, tok] = 0.0
        return forced


def forced(backend, text, prefix=(), suffix=None):
    tok = backend.tokenizer
    ids = list(prefix) + tok(text, add_special_tokens=False).input_ids
    ids.append(tok.eos_token_id if suffix is None else suffix)
    backend.logits_processors = [ForceSequence(ids)]
    backend.max_new_tokens = len(ids) + 2
    return ids


def ground_pixels(backend, phrases):
    result = ground_frame(backend, Frame(rgb=IMAGE), phrases, GroundingSettings(score_threshold=0.0))
    return {o.phrase: o for o in result.objects}


def test_florence2_forced_answer_end_to_end(tiny_checkpoint):
    backend = load(tiny_checkpoint, "florence2", "florence2")
    target = forced(backend, "red mug<loc_100><loc_200><loc_300><loc_400>", prefix=[backend.tokenizer.bos_token_id])
    objects = ground_pixels(backend, ["red mug"])
    obj = objects["red mug"]
    np.testing.assert_allclose(obj.box_1024, bins_to_1024(100, 200, 300, 400, 1000))
    # pixels equal Florence-2's own post-processor (which truncates to integers)
    post = backend.processor.post_process_generation("red mug<loc_100><loc_200><loc_300><loc_400>",
                                                      task="<CAPTION_TO_PHRASE_GROUNDING>", image_size=(W, H))
    np.testing.assert_array_equal(np.floor(obj.box_pixels), post["<CAPTION_TO_PHRASE_GROUNDING>"]["bboxes"][0])
    # score = mean model probability of the four <loc> tokens, checked by an independent teacher-forced pass
    from grounding_node.models.prompts import florence2_prompt

    assert florence2_prompt("red mug") == "<OPEN_VOCABULARY_DETECTION>red mug"   # task auto: a single noun phrase
    inputs = backend.processor(text=[florence2_prompt("red mug")], images=[IMAGE], return_tensors="pt")
    start = backend.model.config.text_config.decoder_start_token_id if hasattr(backend.model.config, "text_config") \
        else backend.model.config.decoder_start_token_id
    decoder_ids = torch.tensor([[start] + target[:-1]], device=backend.device)
    inputs = inputs.to(backend.device).to(backend.dtype)     # (to(dtype) casts the floating inputs only)
    with torch.no_grad():
        logits = backend.model(**inputs, decoder_input_ids=decoder_ids).logits[0]
    probs = torch.softmax(logits.float(), -1).cpu()[torch.arange(len(target)), torch.tensor(target)]
    loc_positions = [i for i, t in enumerate(target) if backend.tokenizer.convert_ids_to_tokens(t).startswith("<loc_")]
    assert len(loc_positions) == 4
    assert obj.score == pytest.approx(float(probs[loc_positions].mean()), rel=1e-4, abs=1e-6)


def test_paligemma_forced_answer_end_to_end(tiny_checkpoint):
    backend = load(tiny_checkpoint, "paligemma", "paligemma")
    forced(backend, "<loc0256><loc0128><loc0768><loc0896> red mug ; <loc0000><loc0512><loc0100><loc1023> blue cup")
    objects = ground_pixels(backend, ["blue cup", "red mug"])
    np.testing.assert_allclose(objects["red mug"].box_1024, (128, 256, 896, 768))
    np.testing.assert_allclose(objects["red mug"].box_pixels, (80.0, 120.0, 560.0, 360.0))  # v / 1024 * size
    np.testing.assert_allclose(objects["blue cup"].box_1024, (512, 0, 1023, 100))
    assert objects["red mug"].phrase_index == 1


def test_score_threshold_applies_to_generative_scores(tiny_checkpoint):
    backend = load(tiny_checkpoint, "paligemma", "paligemma")
    forced(backend, "<loc0256><loc0128><loc0768><loc0896> red mug")
    score = backend.ground(IMAGE, ["red mug"])[0][0].score
    assert 0.0 < score < 1.0   # the raw model probability, not the forced 1.0
    keep = ground_frame(backend, Frame(rgb=IMAGE), ["red mug"], GroundingSettings(score_threshold=score * 0.99))
    drop = ground_frame(backend, Frame(rgb=IMAGE), ["red mug"],
                        GroundingSettings(score_threshold=min(1.0, score * 1.01)))
    assert len(keep.objects) == 1 and len(drop.objects) == 0


def test_qwen25_forced_json_in_resized_pixels(tiny_checkpoint):
    backend = load(tiny_checkpoint, "qwen_vl", "qwen2_5")
    forced(backend, '```json\n[{"bbox_2d": [10, 20, 30, 40], "label": "red mug"}]\n```')
    inputs = backend._inputs(to_pil(IMAGE), "x")
    w_in, h_in = backend.input_size(inputs)
    assert (w_in, h_in) != (W, H)      # the model saw a resized image; coordinates refer to it
    objects = ground_pixels(backend, ["red mug", "blue cup"])
    np.testing.assert_allclose(objects["red mug"].box_1024, pixels_to_1024((10, 20, 30, 40), w_in, h_in))


def test_qwen3_forced_json_relative_1000(tiny_checkpoint):
    backend = load(tiny_checkpoint, "qwen_vl", "qwen3")
    forced(backend, '[{"bbox_2d": [100, 200, 300, 400], "label": "blue cup"}]')
    objects = ground_pixels(backend, ["red mug", "blue cup"])
    np.testing.assert_allclose(objects["blue cup"].box_1024, scaled_to_1024(100, 200, 300, 400, 1000))


def test_qwen2_forced_special_token_answer(tiny_checkpoint):
    backend = load(tiny_checkpoint, "qwen_vl", "qwen2")
    forced(backend, "<|object_ref_start|>red mug<|object_ref_end|><|box_start|>(10,20),(300,400)<|box_end|>")
    objects = ground_pixels(backend, ["red mug"])
    np.testing.assert_allclose(objects["red mug"].box_1024, scaled_to_1024(10, 20, 300, 400, 1000))


def test_kosmos2_forced_patch_answer(tiny_checkpoint):
    backend = load(tiny_checkpoint, "kosmos2", "kosmos2")
    forced(backend, "<object><patch_index_0044><patch_index_0863></object>")
    objects = ground_pixels(backend, ["a red mug"])
    np.testing.assert_allclose(objects["a red mug"].box_1024, kosmos2_patches_to_1024(44, 863))


def test_truncated_generation_gives_empty_not_exception(tiny_checkpoint):
    backend = load(tiny_checkpoint, "florence2", "florence2")
    forced(backend, "red mug<loc_100><loc_200>", prefix=[backend.tokenizer.bos_token_id])
    assert backend.ground(IMAGE, ["red mug"]) == [[]]


def test_decode_with_spans_streaming_equals_prefix_decoding(tiny_checkpoint):
    """The linear DecodeStream path and the prefix-decoding fallback give the same text and spans,
    and the spans tile the text (the scores depend on them)."""
    from transformers import AutoProcessor

    from grounding_node.models.hf import decode_with_spans

    class SlowOnly:                      # the same tokenizer without its Rust backend: the fallback path
        def __init__(self, tok):
            self.decode = tok.decode

    for variant, text in [("florence2", "red mug<loc_100><loc_200><loc_300><loc_400>"),
                          ("kosmos2",
                           "<phrase> a red mug</phrase><object><patch_index_0044><patch_index_0863></object>"),
                          ("paligemma", "<loc0256><loc0128><loc0768><loc0896> red mug ; blue cup")]:
        tok = AutoProcessor.from_pretrained(tiny_checkpoint(variant)).tokenizer
        ids = tok(text, add_special_tokens=False).input_ids
        fast, fast_spans = decode_with_spans(tok, ids)
        slow, slow_spans = decode_with_spans(SlowOnly(tok), ids)
        assert fast == slow == tok.decode(ids, skip_special_tokens=False)
        assert fast_spans == slow_spans and len(fast_spans) == len(ids)
        assert fast_spans[0][0] == 0 and fast_spans[-1][1] == len(fast)
        assert all(a[1] == b[0] for a, b in zip(fast_spans, fast_spans[1:]))
