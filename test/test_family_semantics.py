"""Issue #10: each family's output read as its model card and its own processor define it.

The model cards' published example outputs, as the cards print them, go through the real backend path
(a forced answer through the real generate() of the tiny checkpoints) and through `remote` against the
local fake server. Items: 1 referents (Florence-2, Kosmos-2, relations), 2 Grounding DINO (max score,
offsets), 3 per-family default thresholds, 4 Qwen2-VL prompt + fallbacks, 5 one Qwen resolution,
6 non-finite coordinates, 7 PaliGemma over remote, 8 one family record.
"""

from __future__ import annotations

import logging
import sys
import textwrap

import numpy as np
import pytest
from test_hf_backends import IMAGE, H, W, forced, load  # noqa: E402  (test dir is on sys.path)
from test_remote_backend import FakeServer, remote, sent_image  # noqa: E402

from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundingSettings
from grounding_node.models.base import BackendConfig, Detection, GroundingBackend
from grounding_node.models.parsers import bins_to_1024, kosmos2_patches_to_1024, scaled_to_1024
from grounding_node.models.prompts import qwen_smart_size
from grounding_node.models.registry import create_backend

# -- the model cards' examples, as printed ---------------------------------------------------------
# Florence-2 card, <CAPTION_TO_PHRASE_GROUNDING> with "A green car parked in front of a yellow building."
# on car.jpg (640x480): {'bboxes': [[34.88.., 158.64.., 583.36.., 374.64..], [0.32.., 4.08.., 639.04.., 305.04..]],
# 'labels': ['A green car', 'a yellow building']}. The raw text those come from ((b + 0.5) * W / 1000):
CAR_CAPTION = "A green car parked in front of a yellow building"
CAR_ANSWER = "A green car<loc_54><loc_330><loc_911><loc_780>a yellow building<loc_0><loc_8><loc_998><loc_635>"
CAR_CARD_BOXES = [[34.880001068115234, 158.63999938964844, 583.3599853515625, 374.6399841308594],
                  [0.3199999928474426, 4.079999923706055, 639.0399780273438, 305.03997802734375]]
# Kosmos-2 card / transformers docstring: "<grounding> An image of<phrase> a snowman</phrase><object>
# <patch_index_0044><patch_index_0863></object> warming himself by<phrase> a fire</phrase><object>
# <patch_index_0005><patch_index_0911></object>." -> ('a snowman', [(0.390625, 0.046875, 0.984375, 0.828125)]),
# ('a fire', [(0.171875, 0.015625, 0.484375, 0.890625)]). Asked "<grounding><phrase> a snowman</phrase>",
# the model continues with:
SNOWMAN_ANSWER = ("<object><patch_index_0044><patch_index_0863></object> warming himself by<phrase> a fire</phrase>"
                  "<object><patch_index_0005><patch_index_0911></object>.")
SNOWMAN_CARD_BOX = (0.390625, 0.046875, 0.984375, 0.828125)


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


def objects(backend, phrases, threshold=0.0):
    result = ground_frame(backend, Frame(rgb=IMAGE), phrases, GroundingSettings(score_threshold=threshold))
    return result.by_phrase()


# == 1. referents: other noun phrases of the answer are context ===================================

def test_florence2_card_caption_grounding_returns_only_the_referent(tiny_checkpoint):
    backend = load(tiny_checkpoint, "florence2", "florence2")
    forced(backend, CAR_ANSWER, prefix=[backend.tokenizer.bos_token_id])
    # the card's own post-processor reads two labelled boxes from this answer ...
    post = backend.processor.post_process_generation(CAR_ANSWER, task="<CAPTION_TO_PHRASE_GROUNDING>",
                                                      image_size=(W, H))["<CAPTION_TO_PHRASE_GROUNDING>"]
    assert post["labels"] == ["A green car", "a yellow building"]
    # ... the phrase's result is the car only, at the card's pixels
    (car,) = objects(backend, [CAR_CAPTION])[0]
    np.testing.assert_allclose(car.box_pixels, CAR_CARD_BOXES[0], atol=1e-4)


def test_florence2_relation_returns_the_mug_not_the_laptop(tiny_checkpoint):
    backend = load(tiny_checkpoint, "florence2", "florence2")
    forced(backend, "the mug<loc_100><loc_200><loc_300><loc_400>the laptop<loc_500><loc_500><loc_900><loc_900>",
           prefix=[backend.tokenizer.bos_token_id])
    (mug,) = objects(backend, ["the mug next to the laptop"])[0]
    np.testing.assert_allclose(mug.box_1024, bins_to_1024(100, 200, 300, 400, 1000))


def test_florence2_task_auto_uses_open_vocabulary_for_a_single_noun_phrase():
    from grounding_node.models.prompts import florence2_prompt

    assert florence2_prompt("red mug") == "<OPEN_VOCABULARY_DETECTION>red mug"
    assert florence2_prompt("the mug next to the laptop") == "<CAPTION_TO_PHRASE_GROUNDING>the mug next to the laptop"
    assert florence2_prompt("red mug", "<CAPTION_TO_PHRASE_GROUNDING>") == "<CAPTION_TO_PHRASE_GROUNDING>red mug"


def test_kosmos2_card_continuation_is_context(tiny_checkpoint):
    backend = load(tiny_checkpoint, "kosmos2", "kosmos2")
    forced(backend, SNOWMAN_ANSWER)
    (snowman,) = objects(backend, ["a snowman"])[0]
    np.testing.assert_allclose(snowman.box_1024, [v * 1024 for v in SNOWMAN_CARD_BOX])
    np.testing.assert_allclose(snowman.box_1024, kosmos2_patches_to_1024(44, 863))


def test_paligemma_relation_drops_the_context_object(tiny_checkpoint):
    backend = load(tiny_checkpoint, "paligemma", "paligemma")
    forced(backend, "<loc0100><loc0100><loc0300><loc0300> red box ; <loc0500><loc0600><loc0700><loc0800> blue cup")
    (box,) = objects(backend, ["the red box left of the blue cup"])[0]
    np.testing.assert_allclose(box.box_1024, (100, 100, 300, 300))


@pytest.mark.parametrize("family,answer,phrase,expected", [
    ("florence2", CAR_ANSWER, CAR_CAPTION, bins_to_1024(54, 330, 911, 780, 1000)),
    ("kosmos2", SNOWMAN_ANSWER, "a snowman", kosmos2_patches_to_1024(44, 863)),
    ("florence2", "the mug<loc_100><loc_200><loc_300><loc_400>the laptop<loc_500><loc_500><loc_900><loc_900>",
     "the mug next to the laptop", bins_to_1024(100, 200, 300, 400, 1000)),
    ("qwen3_vl", '[{"bbox_2d": [100, 100, 300, 300], "label": "red box"}, {"bbox_2d": [500, 500, 900, 900], '
                 '"label": "blue cup"}]', "the red box left of the blue cup", scaled_to_1024(100, 100, 300, 300, 1000)),
    ("qwen2_vl", "<|object_ref_start|>the mug<|object_ref_end|><|box_start|>(10,20),(300,400)<|box_end|>"
                 "<|object_ref_start|>the laptop<|object_ref_end|><|box_start|>(500,500),(900,900)<|box_end|>",
     "the mug next to the laptop", scaled_to_1024(10, 20, 300, 400, 1000)),
    ("paligemma", "<loc0100><loc0100><loc0300><loc0300> red box ; <loc0500><loc0600><loc0700><loc0800> blue cup",
     "the red box left of the blue cup", (100, 100, 300, 300)),
])
def test_remote_returns_only_the_referent(server, family, answer, phrase, expected):
    server.answer = answer
    out = remote(server.url, family=family).ground(IMAGE, [phrase])
    assert len(out[0]) == 1
    np.testing.assert_allclose(out[0][0].box_1024, expected)


def test_referent_rule():
    from grounding_node.models.referent import CONTEXT, REFERENT, UNKNOWN, role

    assert role("A green car", CAR_CAPTION) == REFERENT
    assert role("a yellow building", CAR_CAPTION) == CONTEXT
    assert role("the laptop", "the mug next to the laptop") == CONTEXT
    assert role("mug", "the mug next to the laptop") == REFERENT
    assert role("blue cup", "the red box left of the blue cup") == CONTEXT
    assert role("blue mug", "the red mug next to the blue mug") == CONTEXT
    assert role("the mug next to the laptop", "the mug next to the laptop") == REFERENT
    assert role("", "anything") == REFERENT                 # unlabelled: answers the prompt itself
    assert role("giraffe", "the mug") == UNKNOWN
    assert role("mugs", "the mug") == REFERENT


def test_multi_phrase_command_keeps_each_phrase_its_own_referent(server):
    server.answer = ('[{"bbox_2d": [100, 100, 300, 300], "label": "the mug next to the laptop"},'
                     ' {"bbox_2d": [500, 500, 900, 900], "label": "laptop"}]')
    out = remote(server.url, family="qwen3_vl").ground(IMAGE, ["the mug next to the laptop", "laptop"])
    np.testing.assert_allclose(out[0][0].box_1024, scaled_to_1024(100, 100, 300, 300, 1000))
    np.testing.assert_allclose(out[1][0].box_1024, scaled_to_1024(500, 500, 900, 900, 1000))
    assert len(out[0]) == 1 and len(out[1]) == 1


# == 2. Grounding DINO: max over the phrase's tokens, phrases through offsets ======================

def test_grounding_dino_max_score_and_dotted_phrase(tiny_checkpoint, monkeypatch):
    import torch

    from grounding_node.models import grounding_dino as gd

    backend = load(tiny_checkpoint, "grounding_dino", "grounding_dino", candidate_threshold=0.0)
    captured = {}
    real = gd.select_per_phrase

    def spy(scores, boxes, *args):
        captured["scores"] = np.array(scores)
        return real(scores, boxes, *args)

    monkeypatch.setattr(gd, "select_per_phrase", spy)
    phrases = ["the tin marked no. 5", "red mug"]
    out = backend.ground(IMAGE, phrases)
    # independently: the caption's tokens, and the model's token probabilities
    caption = "the tin marked no. 5. red mug."
    inputs = backend.processor(images=backend_image(), text=caption, return_tensors="pt")
    toks = backend.processor.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    assert toks[-4:] == ["red", "mug", ".", "[SEP]"]
    with torch.no_grad():
        model_inputs = inputs.to(backend.device).to(backend.dtype)
        probs = torch.sigmoid(backend.model(**model_inputs).logits[0].float()).cpu().numpy()
    red_mug = [len(toks) - 4, len(toks) - 3]
    first = [i for i in range(1, len(toks) - 5) if toks[i] != "."]        # the tin marked no [.] 5
    np.testing.assert_allclose(captured["scores"][:, 1], probs[:, red_mug].max(axis=1), rtol=1e-5)
    np.testing.assert_allclose(captured["scores"][:, 0], probs[:, first].max(axis=1), rtol=1e-5)
    best = [d.score for dets in out for d in dets]
    assert max(best) == pytest.approx(float(captured["scores"].max()), rel=1e-5)


def backend_image():
    from grounding_node.models.hf import to_pil

    return to_pil(IMAGE)


def test_grounding_dino_phrase_without_tokens_raises():
    from grounding_node.models.grounding_dino import phrase_token_spans

    offsets = [(0, 0), (0, 3), (4, 7), (7, 8), (0, 0)]          # "red mug." then [SEP]: "blue cup" was cut off
    with pytest.raises(ValueError, match="phrase 2 of 2"):
        phrase_token_spans(offsets, [(0, 7), (9, 17)], [101, 1, 2, 3, 102], skip_ids=[3])
    assert phrase_token_spans(offsets, [(0, 7)], [101, 1, 2, 3, 102], skip_ids=[3]) == [[1, 2]]


# == 3. per-family default thresholds ==============================================================

EXPECTED_DEFAULTS = {"grounding_dino": 0.35, "owlv2": 0.1, "tabletop": 0.3, "florence2": 0.0, "paligemma": 0.0,
                     "qwen2_vl": 0.0, "qwen2_5_vl": 0.0, "qwen3_vl": 0.0, "kosmos2": 0.0}


class FamilyStub(GroundingBackend):
    name = "stub"

    def __init__(self, family, scores):
        super().__init__()
        self.families, self.scores = (family,), scores

    def load(self):
        pass

    def ground(self, rgb, phrases):
        return [[Detection((10.0, 10.0, 100.0, 100.0), s) for s in self.scores] for _ in phrases]


@pytest.mark.parametrize("name", sorted(EXPECTED_DEFAULTS))
def test_auto_threshold_is_the_family_default(name):
    from grounding_node.models.family import get_family

    family = get_family(name)
    assert family.default_score_threshold == EXPECTED_DEFAULTS[name] and family.threshold_source
    t = family.default_score_threshold
    backend = FamilyStub(family, [t + 0.01, max(0.0, t - 0.01) if t > 0 else t + 0.005])
    for auto in (None, "auto", "AUTO"):
        kept = [o.score for o in ground_frame(backend, Frame(rgb=IMAGE), ["x"],
                                              GroundingSettings(score_threshold=auto)).objects]
        assert kept == sorted(s for s in backend.scores if s >= t)[::-1]
    explicit = ground_frame(backend, Frame(rgb=IMAGE), ["x"], GroundingSettings(score_threshold=0.9)).objects
    assert explicit == []                                        # an explicit value wins


def test_settings_api_and_cli_default_to_auto():
    from grounding_node.api import Grounder
    from grounding_node.cli import build_parser

    assert GroundingSettings().score_threshold is None
    assert build_parser().parse_args(["x.png", "--prompt", "a"]).score_threshold is None
    assert build_parser().parse_args(["x.png", "--prompt", "a", "--score-threshold", "auto"]).score_threshold is None
    assert build_parser().parse_args(["x.png", "--prompt", "a", "--score-threshold", "0.2"]).score_threshold == 0.2
    g = Grounder.from_config(backend="tabletop")
    assert g.settings.score_threshold is None and g.backend.default_score_threshold == 0.3
    assert Grounder.from_config(backend="tabletop", score_threshold="auto").settings.score_threshold is None


def test_remote_and_local_share_the_family_default(server, tiny_checkpoint):
    assert remote(server.url, family="paligemma").default_score_threshold == EXPECTED_DEFAULTS["paligemma"]
    assert load(tiny_checkpoint, "owlv2", "owlv2").default_score_threshold == 0.1
    assert load(tiny_checkpoint, "qwen_vl", "qwen3").family.name == "qwen3_vl"


# == 4. Qwen2-VL: reference tokens in the prompt, JSON and plain-list fallbacks =====================

def test_qwen2_prompt_has_reference_tokens(tiny_checkpoint, server):
    backend = load(tiny_checkpoint, "qwen_vl", "qwen2")
    (_, prompt), = backend.family.requests(["the red mug"])
    assert "<|object_ref_start|>the red mug<|object_ref_end|>" in prompt
    ids = backend.model_inputs(backend_image(), prompt)["input_ids"][0].tolist()
    assert backend.tokenizer.convert_tokens_to_ids("<|object_ref_start|>") in ids
    server.answer = "<|box_start|>(10,20),(300,400)<|box_end|>"
    out = remote(server.url, family="qwen2_vl").ground(IMAGE, ["the red mug"])
    sent = server.requests[-1][2]["messages"][0]["content"][1]["text"]
    assert "<|object_ref_start|>the red mug<|object_ref_end|>" in sent
    np.testing.assert_allclose(out[0][0].box_1024, scaled_to_1024(10, 20, 300, 400, 1000))


@pytest.mark.parametrize("answer", ['[{"bbox_2d": [10, 20, 300, 400], "label": "red mug"}]', "[10, 20, 300, 400]",
                                    "The red mug is at (10,20),(300,400)."])
def test_qwen2_local_reads_json_and_plain_answers(tiny_checkpoint, answer):
    backend = load(tiny_checkpoint, "qwen_vl", "qwen2")
    forced(backend, answer)
    (mug,) = objects(backend, ["red mug"])[0]
    np.testing.assert_allclose(mug.box_1024, scaled_to_1024(10, 20, 300, 400, 1000))


# == 5. local and remote Qwen see the same resolution ===============================================

def test_qwen_local_and_remote_resolution_agree(tiny_checkpoint, server):
    backend = load(tiny_checkpoint, "qwen_vl", "qwen2_5")
    local_size = backend.input_size(backend.model_inputs(backend_image(), "x"))
    server.answer = "[]"
    remote(server.url, family="qwen2_5_vl").ground(IMAGE, ["mug"])
    h, w = sent_image(server.requests[-1][2]).shape[:2]
    assert local_size == (w, h) == qwen_smart_size(W, H)
    # one option changes both
    small = load(tiny_checkpoint, "qwen_vl", "qwen2_5", max_pixels=112 * 112)
    remote(server.url, family="qwen2_5_vl", max_pixels=112 * 112).ground(IMAGE, ["mug"])
    h, w = sent_image(server.requests[-1][2]).shape[:2]
    assert small.input_size(small.model_inputs(backend_image(), "x")) == (w, h)


# == 6. non-finite coordinates are dropped, with a warning ==========================================

NAN_ANSWER = ('[{"bbox_2d": [NaN, 20, 30, 40], "label": "red mug"},'
              ' {"bbox_2d": [1, 2, Infinity, 4], "label": "red mug"},'
              ' {"bbox_2d": [1e308, 2, 3, 4], "label": "red mug"},'
              ' {"bbox_2d": [100, 200, 300, 400], "label": "red mug"}]')


def test_nan_in_json_local(tiny_checkpoint, caplog):
    backend = load(tiny_checkpoint, "qwen_vl", "qwen3")
    forced(backend, NAN_ANSWER)
    with caplog.at_level(logging.WARNING, logger="grounding_node.models.parsers"):
        (mug,) = objects(backend, ["red mug"])[0]
    np.testing.assert_allclose(mug.box_1024, scaled_to_1024(100, 200, 300, 400, 1000))
    assert sum("non-finite" in r.getMessage() for r in caplog.records) == 3


def test_nan_in_json_remote(server, caplog):
    server.answer = NAN_ANSWER
    with caplog.at_level(logging.WARNING, logger="grounding_node.models.parsers"):
        out = remote(server.url, family="qwen3_vl").ground(IMAGE, ["red mug"])
    assert len(out[0]) == 1 and np.all(np.isfinite(out[0][0].box_1024))
    assert any("non-finite" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl", "qwen2_vl"])
def test_every_json_parser_drops_nonfinite(family):
    from grounding_node.models.parsers import parse_output

    boxes = parse_output(family, NAN_ANSWER, (644, 476))
    assert len(boxes) == 1 and all(np.isfinite(boxes[0].box_1024))


# == 7. PaliGemma over remote: a chat template the server accepts ===================================

def test_paligemma_remote_sends_a_chat_template(server):
    server.answer = "<loc0256><loc0128><loc0768><loc0896> red mug"
    out = remote(server.url, family="paligemma").ground(IMAGE, ["red mug", "blue cup"])
    request = server.requests[-1][2]
    assert len(server.requests) == 1                              # every phrase in one request
    template = request["chat_template"]
    content = request["messages"][0]["content"]
    assert content[1]["text"] == "detect red mug ; blue cup" and content[0]["type"] == "image_url"
    from jinja2 import Template

    assert Template(template).render(messages=request["messages"]) == "detect red mug ; blue cup"
    np.testing.assert_allclose(out[0][0].box_1024, (128, 256, 896, 768))
    # a server started with --chat-template: drop the field
    remote(server.url, family="paligemma", extra_body={"chat_template": None}).ground(IMAGE, ["red mug"])
    assert "chat_template" not in server.requests[-1][2]


# == 8. one record per family: a new family is one module + one registry line =====================

ALL_TEXT_FAMILIES = ["florence2", "paligemma", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "kosmos2"]


@pytest.mark.parametrize("name", ALL_TEXT_FAMILIES)
def test_box_as_text_is_the_parsers_inverse(name):
    from grounding_node.models.family import get_family

    family = get_family(name)
    items = [("red mug", (102.4, 204.8, 307.2, 409.6)), ("blue cup", (0.0, 512.0, 1024.0, 1024.0))]
    size = (644, 476)
    parsed = family.parse(family.format_answer(items, size), size)
    assert [p.label for p in parsed] == ["red mug", "blue cup"]
    for p, (_, box) in zip(parsed, items):
        assert np.abs(np.subtract(p.box_1024, box)).max() <= 1024 / 32 + 1e-9 if name == "kosmos2" \
            else np.abs(np.subtract(p.box_1024, box)).max() <= 1.6


def test_florence2_box_text_clamps_the_right_edge():
    from grounding_node.models.parsers import format_florence2

    assert format_florence2("x", (0.0, 0.0, 1024.0, 1024.0)) == "x<loc_0><loc_0><loc_999><loc_999>"


def test_remote_families_are_the_registry_families():
    from grounding_node.models.family import text_families

    assert text_families() == sorted(ALL_TEXT_FAMILIES)


NEW_FAMILY_MODULE = '''
from grounding_node.models.family import Family
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.parsers import parse_plain_boxes

FAMILY = Family(name="toy_vlm", default_score_threshold=0.2, threshold_source="toy card",
                prompt=lambda phrases: "where is " + phrases[0], per_phrase=True,
                parse=lambda text, input_size=None: parse_plain_boxes(text, 1000.0),
                format_box=lambda label, box, size=None: str([round(v / 1.024) for v in box]))


class ToyBackend(GenerativeBackend):
    name = "toy_vlm"
    families = (FAMILY,)
'''


def test_a_new_family_is_one_module_and_one_registry_line(tmp_path, monkeypatch, server):
    from grounding_node.models import registry
    from grounding_node.models.family import get_family

    (tmp_path / "toy_family.py").write_text(textwrap.dedent(NEW_FAMILY_MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(registry.BUILTIN_BACKENDS, "toy_vlm", "toy_family:ToyBackend")   # the registry line
    assert get_family("toy_vlm").default_score_threshold == 0.2
    server.answer = "[100, 200, 300, 400]"
    backend = remote(server.url, family="toy_vlm")
    out = backend.ground(IMAGE, ["mug", "cup"])
    assert [r[2]["messages"][0]["content"][1]["text"] for r in server.requests] == ["where is mug", "where is cup"]
    np.testing.assert_allclose(out[0][0].box_1024, scaled_to_1024(100, 200, 300, 400, 1000))
    assert backend.default_score_threshold == 0.2
    sys.modules.pop("toy_family", None)


def test_backend_config_keeps_auto():
    assert BackendConfig().score_threshold is None
    assert create_backend("tabletop").default_score_threshold == 0.3
