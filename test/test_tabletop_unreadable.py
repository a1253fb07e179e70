"""Phrases the default model cannot read are refused, not guessed, and dropped words are reported.

Found by asking the shipped model for things outside its world on 30 randomised scenes: "the banana",
"pick up the wrench", "the hexagonal prism" and "asdf qwerty" were answered above the shipped threshold in
14-15 of them (the normaliser dropped the unknown noun and the network grounded "the"); "the teal mug" in 29
(grounded as "the mug"); "the 7th ball from the left" in 26 (grounded as "the ball from the left"). A robot
would pick up an object nobody asked for. Such a phrase is now answered like one naming something absent (no
detections), with the reason in the result's warnings; a phrase grounded without some of its words says
which.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from grounding_node.grounding.pipeline import ground_frame
from grounding_node.grounding.types import Frame, GroundingSettings
from grounding_node.models.base import BackendConfig
from grounding_node.models.registry import create_backend
from grounding_node.models.tabletop.language import read_phrase
from grounding_node.models.tabletop.processing import build_vocab
from grounding_node.sim.expressions import TYPES, VOCABULARY, generate, restyle
from grounding_node.sim.scene import TabletopSim
from grounding_node.training.eval import load_paraphrases

VOCAB = build_vocab(VOCABULARY)


@pytest.mark.parametrize("text,why", [
    ("the banana", "which object ('banana' unknown)"), ("pick up the wrench", "which object ('wrench' unknown)"),
    ("the hexagonal prism", "which object ('hexagonal', 'prism' unknown)"), ("the red banana", "names the object"),
    ("asdf qwerty", "which object"), ("the", "which object"), ("give it to me", "which object"),
    ("the teal mug", "colour"), ("the pink cup", "colour"), ("grab the grey ball please", "colour"),
    ("the cup that is grey", "colour"), ("the grey metal cube", "colour"), ("the pinkish cube", "colour"),
    ("the 7th ball from the left", "third"), ("the fourth cube from the right", "third"),
    ("select: cube | ordinal: 99 | from: up", "third"), ("select: mug | ordinal: 5 | from: left", "third"),
    # the model counts from the left or the right only: from the top, the front or by size it would guess
    # (these read as "the second cube from the", "the second closest cup": wordings it never saw)
    ("the 2nd cube from up", "left or the right"), ("the second cube from the top", "left or the right"),
    ("the third mug from the front", "left or the right"), ("the second cup from the back", "left or the right"),
    ("select: cube | ordinal: 2 | from: top", "left or the right"),
    ("the second closest cup", "left or the right"), ("the third largest cube", "left or the right"),
    ("the second biggest ball", "left or the right"),
])
def test_a_phrase_the_model_cannot_read_is_refused_with_its_reason(text, why):
    reading = read_phrase(text, VOCAB)
    assert why in reading.refusal, reading


@pytest.mark.parametrize("text,words,unknown", [
    ("could you grab me the cup beside the plate please", "the cup", ("beside", "plate")),
    ("the glossiest mug", "the mug", ("glossiest",)),
    # every mug but a pink one (there are none): still readable, and no dangling "not" reaches the network
    ("the mug that is not pink", "the mug", ("pink",)),
    ("the non pink mug", "the mug", ("pink",)),
    ("not the pink mug", "the mug", ("pink",)),                       # a leading "not" left dangling too
    ("select: mug | color != pink", "the mug", ("pink",)),
    ("the mug that is not red", "the mug that is not red", ()),
    ("the red guy", "the red thing", ()),                             # colloquial generic nouns
    ("clear the red cube", "the red cube", ("clear",)),               # a verb, not a colour
    ("the cube near the grey wall", "the cube", ("near", "grey", "wall")),   # grey is the wall's
    ("please pick up the red mug, thanks", "the red mug", ()),        # politeness is not an unknown word
    ("the leftmost one", "the leftmost thing", ()),
    ("the red", "the red", ()),                                       # an attribute alone still picks
    # a possessive names its owner ("mug's" was unknown, and the phrase was refused as naming nothing)
    ("grab the red mug's handle", "the red mug", ("handle",)),
    # relations the model has no word for are dropped with their object, and named: before, "between the
    # two mugs" made "all the cube the mugs" (a plural request) and "on top of the box" "the ball on of the box"
    ("the cube between the two mugs", "the cube", ("between",)),
    ("the cube between the red mug and the blue ball", "the cube", ("between",)),
    ("the ball on top of the box", "the ball", ("on top of",)),
    ("the cube in the mug", "the cube", ("in",)),
    ("the cube next to the box", "the cube", ("next to",)),
    ("the red cube on the table please", "the red cube", ()),         # the table is not an object
    ("the ball in front of the cube", "the ball in front of the cube", ()),
    ("the mug near me", "the mug closest to the camera", ()),
    # a superlative over a named group: before, "the leftmost red cubes" (plural) and "the nearest blue"
    ("the leftmost of the red cubes", "the leftmost red cube", ()),
    ("the nearest of the blue things", "the nearest blue thing", ()),
    ("the rightmost of all the cups", "the rightmost cup", ()),
])
def test_a_readable_phrase_is_grounded_and_names_what_it_dropped(text, words, unknown):
    reading = read_phrase(text, VOCAB)
    assert reading.refusal == ""
    assert " ".join(reading.words) == words
    assert reading.unknown == unknown


@pytest.mark.parametrize("text,words", [
    ("the second to last ball from the left", "the second ball from the right"),
    ("the penultimate cube from the right", "the second cube from the left"),
    ("the next to last mug from the left", "the second mug from the right"),
    ("the last but one can from the right", "the second can from the left"),
])
def test_second_to_last_counts_from_the_other_side(text, words):
    """"last" was dropped as unknown, so "the second to last ball from the left" asked for the second from
    the left."""
    assert " ".join(read_phrase(text, VOCAB).words) == words


def test_a_fine_tuned_vocabulary_is_never_refused():
    vocab = VOCAB + ["egg", "eggs"]
    reading = read_phrase("the brown egg", vocab)
    assert reading.refusal == "" and reading.unknown == ("brown",)


def test_no_wording_the_model_trained_or_is_judged_on_is_refused():
    """Every generated wording (plain and restyled, training and held-out styles), the card's paraphrase set
    and every blind set reads without refusal: refusing one would lose a referent that is there."""
    rng = np.random.default_rng(0)
    texts = []
    with TabletopSim(320, 240, camera="train") as sim:
        for seed in range(80):
            scene = sim.new_scene(5_000_000 + seed)
            for kind in TYPES:
                e = generate(scene, rng, kind)
                if e is not None:
                    texts += [e.text, restyle(e, rng, "train").text, restyle(e, rng, "heldout").text]
    fill = dict(d="red cube", t="red cube", a="ball", s="mug", p="mugs", n="cube", w="red")
    texts += [t.format(**fill) for lines in load_paraphrases().values() for t in lines]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from test_tabletop_language_blind import BLIND, PHRASE_GAPS, fills, lines

    for name in BLIND:
        for kind, key, text in lines(name):
            if text not in PHRASE_GAPS:   # lines the normaliser is known not to read (listed with reasons there)
                texts += [text.format(**slots) for slots in fills(kind, key)]
    assert len(texts) > 5000
    refused = [(t, read_phrase(t, VOCAB).refusal) for t in texts if read_phrase(t, VOCAB).refusal]
    assert refused == []


@pytest.fixture(scope="module")
def backend():
    return create_backend("tabletop", BackendConfig(device="cpu"))


@pytest.fixture(scope="module")
def scenes():
    with TabletopSim(640, 480) as sim:
        return [sim.new_scene(1_400_000 + k) for k in range(12)]


def test_the_backend_answers_a_refused_phrase_with_nothing_and_the_rest_as_before(backend, scenes):
    refused = ["the banana", "pick up the wrench", "the teal mug", "the 7th ball from the left", "asdf qwerty"]
    kept = ["the red cube", "all blue objects", "the ball left of the green box"]
    for scene in scenes:
        alone = backend.ground(scene.rgb, kept)
        mixed = backend.ground(scene.rgb, refused[:2] + kept[:1] + refused[2:] + kept[1:])
        assert mixed[0] == mixed[1] == mixed[3] == mixed[4] == mixed[5] == []
        for a, b in zip(alone, [mixed[2], mixed[6], mixed[7]]):
            assert [d.box_1024 for d in a] == [d.box_1024 for d in b]
            np.testing.assert_allclose([d.score for d in a], [d.score for d in b], atol=1e-5)


def test_the_result_warns_what_was_refused_and_what_was_dropped(backend, scenes):
    scene = scenes[0]
    result = ground_frame(backend, Frame(rgb=scene.rgb), ["the banana", "the cup beside the plate", "the red cube"],
                          GroundingSettings())
    text = json.dumps(result.warnings)
    assert "'the banana'" in text and "not grounded" in text and "banana' unknown" in text
    assert "'the cup beside the plate'" in text and "'beside', 'plate'" in text
    assert "the red cube" not in text
    assert all(o.phrase != "the banana" for o in result.objects)


def test_an_unknown_word_in_the_objects_place_is_refused_even_with_a_superlative_or_a_relation():
    """Found on the last read of this session: "pick up the banana" was refused, but "the banana on the left"
    reached the model as "the thing furthest to the left" and "the largest banana" as "the largest thing", so
    the robot picked the leftmost or largest object of any kind for a thing that is not on the table (and "the
    banana left of the cup" read as "the left of the cup"). The object's own place names no word the model
    knows: refused, like the banana alone. An unknown word beside a noun it knows is still dropped."""
    from grounding_node.models.tabletop.language import read_phrase

    for text in ["the banana on the left", "the largest banana", "the toolbox closest to the camera",
                 "the banana left of the cup", "grab the stapler that is furthest to the right"]:
        assert "names the object" in read_phrase(text, VOCAB).refusal, text
    for text in ["the shiny red cup on the left", "the shiny one on the left", "the largest thing",
                 "the leftmost cup", "the cup left of the banana", "the item on the left"]:
        assert read_phrase(text, VOCAB).refusal == "", text
