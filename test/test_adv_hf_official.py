"""Adversarial review of the transformers backends against the official processors (transformers 5.x).

Expected values come from the official code installed in the venv (Florence2Processor.post_process_generation,
Kosmos-2's clean_text_and_extract_entities_with_bboxes, Owlv2/OwlViT post_process_object_detection, Qwen2-VL's
smart_resize through the image processor) or from hand arithmetic, on non-square frames (640x480, 1280x720,
480x640, 1920x1080). The text-limit tests feed phrases longer than the models read: the official processors
do not truncate, and the models then failed with torch shape/index errors instead of a clear answer.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grounding_node.models.base import BackendConfig
from grounding_node.models.hf import to_pil
from grounding_node.models.registry import create_backend

SIZES = [(640, 480), (1280, 720), (480, 640), (1920, 1080)]


def load(tiny_checkpoint, name, variant, **extra):
    return create_backend(name, BackendConfig(model=tiny_checkpoint(variant), device="cpu", dtype="auto",
                                              extra=dict(extra)))


def image(w, h, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def pixels(box_1024, w, h):
    return np.asarray(box_1024, dtype=np.float64) / 1024.0 * np.array([w, h, w, h])


# -- coordinates against the official post-processing (these held) ----------------------------------

FLORENCE_ANSWERS = [
    ("<CAPTION_TO_PHRASE_GROUNDING>",
     "</s><s>A green car<loc_52><loc_332><loc_932><loc_774>a yellow building<loc_0><loc_0><loc_998><loc_516></s>"),
    ("<CAPTION_TO_PHRASE_GROUNDING>",
     "<s>two mugs<loc_10><loc_20><loc_30><loc_40><loc_50><loc_60><loc_70><loc_80></s>"),
    ("<OPEN_VOCABULARY_DETECTION>",
     "<s>red mug<loc_100><loc_200><loc_300><loc_400><loc_500><loc_600><loc_700><loc_800>"),
]


@pytest.mark.parametrize("w,h", SIZES)
def test_florence2_boxes_equal_the_official_post_processor(tiny_checkpoint, w, h):
    from transformers import AutoProcessor

    from grounding_node.models.florence2 import FAMILY

    processor = AutoProcessor.from_pretrained(tiny_checkpoint("florence2"))
    for task, text in FLORENCE_ANSWERS:
        official = processor.post_process_generation(text, task=task, image_size=(w, h))[task]
        ours = FAMILY.parse(text, None)
        labels = official.get("labels", official.get("bboxes_labels"))
        assert [b.label for b in ours] == labels
        # the official boxes are (b + 0.5) * size / 1000, cast to int by its tensor dtype: floor of ours
        np.testing.assert_array_equal([np.floor(pixels(b.box_1024, w, h)) for b in ours], official["bboxes"])


def test_kosmos2_boxes_equal_the_official_entities():
    from transformers.models.kosmos2.processing_kosmos2 import clean_text_and_extract_entities_with_bboxes

    from grounding_node.models.kosmos2 import FAMILY

    text = ("<grounding><phrase> mugs</phrase><object><patch_index_0044><patch_index_0863>"
            "</delimiter_of_multi_objects/><patch_index_0033><patch_index_0033></object> near<phrase> a fire"
            "</phrase><object><patch_index_0005><patch_index_0911></object>.")
    _, entities = clean_text_and_extract_entities_with_bboxes(text)
    official = [(name, tuple(v * 1024 for v in box)) for name, _, boxes in entities for box in boxes]
    assert [(b.label, b.box_1024) for b in FAMILY.parse(text, None)] == official


@pytest.mark.parametrize("variant", ["owlv2", "owlvit"])
def test_owl_boxes_equal_the_official_post_processor(tiny_checkpoint, variant):
    """OWLv2: the official boxes are normalised to the padded square (target size max(W, H)); OWL-ViT: to the
    image. Ours, mapped to pixels, equal them (clipped to the image) for every query."""
    from grounding_node.models.parsers import cxcywh_to_1024, owl_square_scale

    backend = load(tiny_checkpoint, "owlv2", variant)
    for w, h in SIZES:
        inputs = backend.processor(text=[["red mug"]], images=to_pil(image(w, h)), return_tensors="pt")
        with torch.no_grad():
            out = backend.model(**inputs)
        official = backend.processor.image_processor.post_process_object_detection(
            out, threshold=-1.0, target_sizes=[(h, w)])[0]["boxes"].numpy()
        sx, sy = owl_square_scale(w, h) if backend.padded else (1.0, 1.0)
        ours = pixels(cxcywh_to_1024(out.pred_boxes[0].numpy(), sx, sy), w, h)
        np.testing.assert_allclose(ours, np.clip(official, 0, [w, h, w, h]), atol=1e-3)


@pytest.mark.parametrize("w,h", SIZES)
def test_qwen_resolution_is_the_official_smart_resize(tiny_checkpoint, w, h):
    """The remote client's resize (prompts.qwen_smart_size) and the local processor's grid agree with
    transformers' smart_resize at the shared 1280*28*28 budget, so Qwen2.5-VL pixels map back exactly."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize  # no torchvision here

    from grounding_node.models.prompts import QWEN_MAX_PIXELS, qwen_smart_size
    from grounding_node.models.qwen_processing import load_qwen_processor

    processor = load_qwen_processor(tiny_checkpoint("qwen2_5"), max_pixels=QWEN_MAX_PIXELS)
    grid = processor.image_processor(images=[to_pil(image(w, h))], return_tensors="pt")["image_grid_thw"][0]
    h_in, w_in = smart_resize(h, w, factor=28, min_pixels=56 * 56, max_pixels=QWEN_MAX_PIXELS)
    assert (int(grid[2]) * 14, int(grid[1]) * 14) == (w_in, h_in) == qwen_smart_size(w, h)


# -- text limits ---------------------------------------------------------------------------------------

def test_owl_phrase_over_the_16_token_text_limit_is_read_as_its_first_tokens(tiny_checkpoint):
    """OWL-ViT/OWLv2 read 16 text tokens. A longer phrase crashed the whole command ("The size of tensor a (22)
    must match the size of tensor b (16)"), also when batched with a short one ("Unable to create tensor").
    Now the phrase is read as CLIP reads text, its first 14 word tokens (plus start/end): exactly the result of
    asking that prefix; the user is told through the phrase warnings."""
    for variant in ("owlv2", "owlvit"):
        backend = load(tiny_checkpoint, "owlv2", variant, candidate_threshold=0.0, max_candidates=5)
        tok = backend.processor.tokenizer
        assert len(tok("red mug").input_ids) == 4          # start, red, mug, end: one token per word here
        prefix, long = " ".join(["red mug"] * 7), " ".join(["red mug"] * 11)   # 14 and 22 word tokens
        rgb = image(640, 480)
        expected = backend.ground(rgb, [prefix, "blue cup"])
        assert backend.ground(rgb, [long, "blue cup"]) == expected
        assert backend.ground(rgb, [long])[0] == backend.ground(rgb, [prefix])[0]
        warnings = backend.phrase_warnings([long, "blue cup"])
        assert len(warnings) == 1 and "16" in warnings[0] and long[:20] in warnings[0]
        assert backend.phrase_warnings([prefix]) == []


def test_grounding_dino_caption_over_the_text_limit_is_a_clear_error(tiny_checkpoint):
    """The caption `a. b. ...` of many phrases past max_text_len (256 tokens) crashed inside the model
    ("The size of tensor a (257) must match the size of tensor b (256)"). The docs promise a clear error."""
    from grounding_node.models.prompts import grounding_dino_caption

    backend = load(tiny_checkpoint, "grounding_dino", "grounding_dino", candidate_threshold=0.0)
    tok = backend.processor.tokenizer
    rgb = image(640, 480)
    fits, over = ["red mug"] * 84, ["red mug"] * 85
    assert len(tok(grounding_dino_caption(fits)[0]).input_ids) == 254   # [CLS] + 84 x (red mug .) + [SEP]
    assert len(tok(grounding_dino_caption(over)[0]).input_ids) == 257
    assert len(backend.ground(rgb, fits)) == 84
    with pytest.raises(ValueError, match=r"257 tokens.*256"):
        backend.ground(rgb, over)


def test_grounding_dino_phrase_of_punctuation_only_gets_no_boxes_not_an_error(tiny_checkpoint):
    """A phrase with no word ("?", "...": the caption keeps no token of it) failed the whole command with
    "phrase 2 of 2 has no token in the caption (... exceeds the model's text length?)". It now gets no
    boxes, the other phrases are grounded exactly as alone, and the user is told why."""
    backend = load(tiny_checkpoint, "grounding_dino", "grounding_dino", candidate_threshold=0.0)
    rgb = image(1280, 720)
    alone = backend.ground(rgb, ["red mug"])
    assert alone[0]
    assert backend.ground(rgb, ["red mug", "?"]) == alone + [[]]
    assert backend.ground(rgb, ["...", "red mug"]) == [[]] + alone
    warnings = backend.phrase_warnings(["red mug", "?"])
    assert len(warnings) == 1 and "'?'" in warnings[0]


def test_florence2_prompt_over_the_text_limit_is_a_clear_error(tiny_checkpoint):
    """Florence-2's encoder reads image tokens + prompt within max_position_embeddings (1024). A longer
    prompt raised "IndexError: index out of range in self" from the position embedding."""
    backend = load(tiny_checkpoint, "florence2", "florence2", max_new_tokens=2)
    rgb = image(480, 640)
    fits, over = "mug" + " mug" * 233, "mug" + " mug" * 234
    length = lambda p: backend.processor(text=[f"<OPEN_VOCABULARY_DETECTION>{p}"], images=[to_pil(rgb)],  # noqa: E731
                                         return_tensors="pt")["input_ids"].shape[1]
    assert (length(fits), length(over)) == (1023, 1027)
    assert len(backend.ground(rgb, [fits, "mug"])) == 2
    with pytest.raises(ValueError, match=r"phrase 1 .*1027 tokens.*1024"):
        backend.ground(rgb, [over, "mug"])
