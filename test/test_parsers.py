"""Acceptance 2 of the backends issue: every family's conversion to the 0-1024 grid, exactly, and
parsers on the families' documented raw outputs plus malformed/truncated variants (empty, no raise)."""

from __future__ import annotations

import pytest

from grounding_node.models import parsers as P
from grounding_node.models.prompts import grounding_dino_text, paligemma_prompt, qwen_smart_size


def approx_box(box, expected):
    assert box == pytest.approx(expected, abs=1e-9)


# -- conversions: hand-computed ---------------------------------------------------------------------

def test_florence_bins_are_centres_x_first():
    # bin b of 1000 -> (b + 0.5) * 1.024
    approx_box(P.bins_to_1024(100, 200, 300, 400, bins=1000),
               (100.5 * 1.024, 200.5 * 1.024, 300.5 * 1.024, 400.5 * 1.024))
    approx_box(P.bins_to_1024(0, 0, 999, 999, bins=1000), (0.512, 0.512, 1023.488, 1023.488))


def test_florence_matches_its_own_pixel_dequantisation():
    # transformers' Florence-2 post-processor: pixel = (b + 0.5) * W / 1000. Ours * W / 1024 must equal it.
    W, H = 640, 480
    box = P.bins_to_1024(100, 200, 300, 400, bins=1000)
    assert [v * s / 1024 for v, s in zip(box, (W, H, W, H))] == pytest.approx(
        [(100.5) * W / 1000, (200.5) * H / 1000, (300.5) * W / 1000, (400.5) * H / 1000])


def test_paligemma_is_y_first_and_native_1024():
    boxes = P.parse_paligemma("<loc0256><loc0128><loc0768><loc0896> red mug")
    assert len(boxes) == 1 and boxes[0].label == "red mug"
    approx_box(boxes[0].box_1024, (128.0, 256.0, 896.0, 768.0))   # (x1, y1, x2, y2)


def test_qwen25_pixels_of_resized_input():
    # resized input 644 x 476 (grid 46 x 34 patches of 14 px): x / 644 * 1024, y / 476 * 1024
    approx_box(P.pixels_to_1024((161, 119, 322, 238), 644, 476), (256.0, 256.0, 512.0, 512.0))


def test_qwen_0_1000_scale():
    approx_box(P.scaled_to_1024(10, 20, 300, 400, scale=1000), (10.24, 20.48, 307.2, 409.6))


def test_owlv2_padded_square_stretch():
    # 640x480 padded to 640x640: normalised y on the square * 640/480 on the image
    sx, sy = P.owl_square_scale(640, 480)
    assert (sx, sy) == (1.0, pytest.approx(640 / 480))
    approx_box(tuple(P.cxcywh_to_1024([0.5, 0.375, 0.25, 0.25], sx, sy)),
               (384.0, 341.3333333333333, 640.0, 682.6666666666666))
    # portrait 480x640: x is stretched instead
    sx, sy = P.owl_square_scale(480, 640)
    approx_box(tuple(P.cxcywh_to_1024([0.25, 0.5, 0.5, 1.0], sx, sy)), (0.0, 0.0, 682.6666666666666, 1024.0))


def test_detector_centre_boxes_unstretched_and_vectorised():
    approx_box(tuple(P.cxcywh_to_1024([0.5, 0.5, 0.5, 0.25])), (256.0, 384.0, 768.0, 640.0))
    many = P.cxcywh_to_1024([[0.5, 0.5, 0.5, 0.25], [0.0, 0.0, 0.5, 0.5], [1.0, 1.0, 0.2, 0.2]])
    assert many.shape == (3, 4)
    assert many[1].tolist() == [0.0, 0.0, 256.0, 256.0]            # clipped at the grid's edge
    assert many[2].tolist() == pytest.approx([921.6, 921.6, 1024.0, 1024.0])


def test_kosmos2_patch_grid():
    # 32x32 grid, 32 units per cell. 44 = (x 12, y 1); 863 = (x 31, y 26): distinct row and column -> centres
    approx_box(P.kosmos2_patches_to_1024(44, 863), (12.5 * 32, 1.5 * 32, 31.5 * 32, 26.5 * 32))
    # same cell -> the whole cell; same row -> outer edges
    approx_box(P.kosmos2_patches_to_1024(33, 33), (32.0, 32.0, 64.0, 64.0))
    approx_box(P.kosmos2_patches_to_1024(32, 35), (0.0, 32.0, 128.0, 64.0))


def test_kosmos2_matches_transformers_reference():
    from transformers.models.kosmos2.processing_kosmos2 import patch_index_to_coordinate

    for ul, lr in [(44, 863), (0, 1023), (33, 33), (32, 35), (5, 997)]:
        ref = patch_index_to_coordinate(ul, lr, 32)
        approx_box(P.kosmos2_patches_to_1024(ul, lr), tuple(v * 1024 for v in ref))


def test_swapped_corners_are_reordered_and_clipped():
    approx_box(P.scaled_to_1024(300, 400, 10, 20, scale=1000), (10.24, 20.48, 307.2, 409.6))
    approx_box(P.pixels_to_1024((-10, -5, 700, 500), 640, 480), (0.0, 0.0, 1024.0, 1024.0))


# -- parsers on documented raw outputs -------------------------------------------------------------

def test_florence_phrase_grounding_several_instances():
    text = ("</s><s>red mug<loc_100><loc_200><loc_300><loc_400><loc_500><loc_500><loc_600><loc_700>"
            "blue cup<loc_0><loc_0><loc_9><loc_9></s>")
    boxes = P.parse_florence2(text)
    assert [b.label for b in boxes] == ["red mug", "red mug", "blue cup"]
    approx_box(boxes[1].box_1024, P.bins_to_1024(500, 500, 600, 700, 1000))
    assert text[boxes[0].span[0]:boxes[0].span[1]] == "<loc_100><loc_200><loc_300><loc_400>"


def test_florence_polygon_answer_is_the_polygons_extent():
    """An adversarial review: `<OPEN_VOCABULARY_DETECTION>` may answer with a polygon (its post-processing type
    is description_with_bboxes_or_polygons in transformers' Florence2PostProcessor). Its <loc_> pairs were
    cut into groups of four: two zero-height boxes labelled "red mug<poly>". A polygon is one instance; its
    extent is its box (the official processor returns the polygon and no box at all)."""
    square = "</s><s>red mug<poly><loc_100><loc_200><loc_300><loc_200><loc_300><loc_400><loc_100><loc_400></poly></s>"
    boxes = P.parse_florence2(square)
    assert [b.label for b in boxes] == ["red mug"]
    approx_box(boxes[0].box_1024, P.bins_to_1024(100, 200, 300, 400, 1000))
    # six points, then a second polygon of the same instance after <sep>, then a box of another label
    text = ("red mug<poly><loc_100><loc_200><loc_300><loc_210><loc_320><loc_400><loc_150><loc_420><loc_90>"
            "<loc_300><loc_95><loc_250><sep><loc_500><loc_500><loc_520><loc_510><loc_510><loc_530></poly>"
            "blue cup<loc_0><loc_0><loc_9><loc_9>")
    boxes = P.parse_florence2(text)
    assert [b.label for b in boxes] == ["red mug", "blue cup"]
    approx_box(boxes[0].box_1024, P.bins_to_1024(90, 200, 520, 530, 1000))
    # a polygon cut short by the token limit still has an extent; one of fewer than two points has none
    assert len(P.parse_florence2("mug<poly><loc_1><loc_2><loc_30><loc_40><loc_5>")) == 1
    assert P.parse_florence2("mug<poly><loc_1><loc_2></poly>") == []


def test_florence_banned_grounding_phrases_are_not_boxes():
    """An adversarial review: transformers' Florence2PostProcessor skips phrase-grounding phrases in the
    checkpoint's banned_grounding_tokens ("the image", "it", "one", ...). Here "the image" covering the
    whole frame became the answer to "the mug next to the laptop" (no label matched the referent)."""
    from grounding_node.models.family import detections_from_answer, get_family

    family = get_family("florence2")
    for answer in ["the image<loc_0><loc_0><loc_999><loc_999>",
                   "it<loc_0><loc_0><loc_999><loc_999>the laptop<loc_500><loc_500><loc_700><loc_700>"]:
        assert [b.label for b in family.parse(answer)] in ([], ["the laptop"])
        assert detections_from_answer(family, answer, None, None, ["the mug next to the laptop"], [0])[0] == []
    kept = family.parse("the mug<loc_10><loc_10><loc_20><loc_20>the image<loc_0><loc_0><loc_999><loc_999>")
    assert [b.label for b in kept] == ["the mug"]


def test_paligemma_several_phrases():
    text = "<loc0256><loc0128><loc0768><loc0896> red mug ; <loc0000><loc0000><loc0512><loc0512> blue cup<eos>"
    boxes = P.parse_paligemma(text)
    assert [b.label for b in boxes] == ["red mug", "blue cup"]
    approx_box(boxes[1].box_1024, (0.0, 0.0, 512.0, 512.0))


def test_qwen_json_fenced_and_plain():
    text = ('```json\n[{"bbox_2d": [161, 119, 322, 238], "label": "red mug"}, '
            '{"bbox_2d": [0, 0, 644, 476], "label": "table"}]\n```')
    boxes = P.parse_json_boxes(text, "pixels", (644, 476))
    assert [b.label for b in boxes] == ["red mug", "table"]
    approx_box(boxes[0].box_1024, (256.0, 256.0, 512.0, 512.0))
    assert text[boxes[0].span[0]:boxes[0].span[1]] == "161, 119, 322, 238"
    boxes = P.parse_json_boxes('[{"bbox_2d": [100, 200, 300, 400], "label": "x"}]', "1000")
    approx_box(boxes[0].box_1024, (102.4, 204.8, 307.2, 409.6))


def test_qwen2_special_tokens():
    text = ("<|object_ref_start|>the red mug<|object_ref_end|><|box_start|>(10,20),(300,400)<|box_end|>"
            "<|box_start|>(0,0),(500,500)<|box_end|><|im_end|>")
    boxes = P.parse_qwen2_tokens(text)
    assert [b.label for b in boxes] == ["the red mug", "the red mug"]
    approx_box(boxes[0].box_1024, (10.24, 20.48, 307.2, 409.6))


def test_kosmos2_grounding_output():
    text = ("<grounding><phrase> a red mug</phrase><object><patch_index_0044><patch_index_0863>"
            "</delimiter_of_multi_objects/><patch_index_0033><patch_index_0033></object> and "
            "<phrase> a cup</phrase><object><patch_index_0000><patch_index_1023></object>")
    boxes = P.parse_kosmos2(text)
    assert [b.label for b in boxes] == ["a red mug", "a red mug", "a cup"]
    approx_box(boxes[1].box_1024, (32.0, 32.0, 64.0, 64.0))


MALFORMED = {
    "florence2": ["", "red mug<loc_100><loc_200><loc_300>", "red mug<loc_100><loc_2", "<loc_1000><loc_0><loc_1><loc_2>",
                  "red mug<loc_a><loc_b><loc_c><loc_d>", "\x00\xff garbage <<<>>>"],
    "paligemma": ["", "<loc0256><loc0128><loc0768> red", "<loc0256><loc01", "<loc9999><loc0000><loc0001><loc0002> x",
                  "detect red mug", ";;;"],
    "qwen2_5_vl": ["", '```json\n[{"bbox_2d": [1, 2, 3', '[{"bbox_2d": [1, 2, 3], "label": "x"}]',
                   '[{"bbox_2d": ["a", 2, 3, 4]}]', '[{"label": "x"}]', "[1, 2, 3, 4]", '{"bbox_2d": [true, 1, 2, 3]}',
                   "not json"],
    "qwen3_vl": ["", '[{"bbox_2d": [1, 2, 3, 4], "label": "x"', "}{"],
    "qwen2_vl": ["", "<|box_start|>(10,20),(300<|box_end|>",
                 "<|object_ref_start|>mug<|object_ref_end|><|box_start|>(a,b),(c,d)<|box_end|>"],
    "kosmos2": ["", "<phrase> a mug</phrase><object><patch_index_0044>",
                "<object><patch_index_0044><patch_index_9999></object>",
                "<phrase> a mug</phrase><object><patch_index_0044><patch_index_0863>"],
}


@pytest.mark.parametrize("family,text", [(f, t) for f, texts in MALFORMED.items() for t in texts])
def test_malformed_output_gives_no_box_and_no_exception(family, text):
    assert P.parse_output(family, text, (644, 476)) == []


def test_truncated_json_keeps_complete_objects():
    text = '[{"bbox_2d": [100, 200, 300, 400], "label": "red mug"}, {"bbox_2d": [1, 2'
    boxes = P.parse_json_boxes(text, "1000")
    assert [b.label for b in boxes] == ["red mug"]


def test_pixels_mode_needs_input_size():
    with pytest.raises(ValueError):
        P.parse_json_boxes("[]", "pixels")


def test_unknown_family_is_an_error_not_a_silent_empty():
    with pytest.raises(ValueError):
        P.parse_output("yolo", "")


# -- labels back to phrases ------------------------------------------------------------------------

def test_match_phrase():
    phrases = ["the red mug", "blue cup", "mug left of the box"]
    assert P.match_phrase("red mug", phrases) == 0
    assert P.match_phrase("Blue Cup.", phrases) == 1
    assert P.match_phrase("the mug left of the box", phrases) == 2
    assert P.match_phrase("giraffe", phrases) is None
    assert P.match_phrase("", phrases) is None
    assert P.match_phrase("anything", ["only phrase"]) == 0


def test_prompts():
    assert paligemma_prompt(["Red mug", " blue cup "]) == "detect red mug ; blue cup"
    assert grounding_dino_text(["A red mug", "blue cup."]) == "a red mug. blue cup."
    w, h = qwen_smart_size(640, 480)
    assert (w % 28, h % 28) == (0, 0) and abs(w / h - 640 / 480) < 0.05
    w, h = qwen_smart_size(1920, 1080, max_pixels=1280 * 28 * 28)
    assert w * h <= 1280 * 28 * 28 and (w % 28, h % 28) == (0, 0)


@pytest.mark.parametrize("family_parse", [
    lambda t: P.parse_json_boxes(t, "1000"),
    lambda t: P.parse_json_boxes(t, "pixels", (448, 336)),
    P.parse_qwen2,
])
def test_a_fractional_answer_is_read_as_fractions_not_a_corner_speck(family_parse, caplog):
    """Prompted loosely, Qwen-family checkpoints sometimes answer 0-1 fractions. Read on the family's
    0-1000 (or pixel) scale, [0.1, 0.2, 0.5, 0.6] became a box 0.4 units wide at the image's corner (a 3D
    point in the wrong place, no warning). Four coordinates all within [0, 1], some not whole, cannot be a
    box on those scales (under a thousandth of the image), so they are fractions: 0.1 -> 102.4 of 1024."""
    text = '[{"bbox_2d": [0.1, 0.2, 0.5, 0.6], "label": "mug"}]'
    with caplog.at_level("WARNING"):
        boxes = family_parse(text)
    assert [b.box_1024 for b in boxes] == [pytest.approx((102.4, 204.8, 512.0, 614.4))]
    assert "0-1 fractions" in caplog.text


def test_whole_small_coordinates_stay_on_the_family_scale():
    """[0, 0, 1, 1] is a whole-number answer on 0-1000 (a speck, but what the model said): not rescaled."""
    boxes = P.parse_json_boxes('[{"bbox_2d": [0, 0, 1, 1]}]', "1000")
    assert [b.box_1024 for b in boxes] == [pytest.approx((0.0, 0.0, 1.024, 1.024))]
