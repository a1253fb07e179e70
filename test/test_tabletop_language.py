"""Issue 11: everyday speech reaches the tabletop model in its own words; unknown words degrade gracefully."""

from __future__ import annotations

import numpy as np
import pytest
from test_tabletop_language_blind import meaning

from grounding_node.models.tabletop.language import normalize_words, read_phrase
from grounding_node.models.tabletop.processing import build_vocab, encode_phrases
from grounding_node.sim.expressions import VOCABULARY, generate_all, restyle
from grounding_node.training.eval import PARAPHRASES, load_paraphrases

VOCAB = build_vocab(VOCABULARY)

CASES = [
    ("could you grab the cup on the far left, please", "the cup furthest to the left"),
    ("Please pick up the 2nd block from the left", "the second block from the left"),
    ("from the left, the second blue cube", "the second blue cube from the left"),
    ("the first ball from the right", "the rightmost ball"),
    ("hand me the left-most sphere", "the leftmost sphere"),
    ("the mug that's furthest to the left", "the mug furthest to the left"),
    ("grab the cup in the front", "the cup closest to the camera"),
    ("the tin at the back", "the can furthest from the camera"),
    ("the closest mug to me", "the nearest mug"),
    ("the cube, not the red one", "the cube that is not red"),
    ("any ball but the red one", "the ball that is not red"),
    ("the ball other than the red one", "the ball that is not red"),
    ("the mug that's not blue", "the mug that is not blue"),
    ("the ball which isn't big", "the ball that is not big"),
    ("the can on the right side of the mug", "the can right of the mug"),
    ("the ball to the left of the green box", "the ball left of the green box"),
    ("the ball nearer than the cube", "the ball closer than the cube"),
    ("the cube in back of the ball", "the cube behind the ball"),
    ("I'd like the huge violet dice", "the large purple cube"),
    ("where's the small yellow cylinder?", "the small yellow cylinder"),
    ("the red ones", "all the red things"),
    ("give me the bleu ball thanks", "the blue ball"),          # misspelling corrected
    ("the red cube with the chipped paint", "the red cube"),  # unknown words dropped, not <unk>, and no stray "the"
    # choosing among a named group ("the smaller of the two balls") is a superlative over that group
    ("the smaller of the two balls", "the smallest ball"),
    ("the bigger one of the 2 mugs", "the biggest mug"),
    ("grab the nearer of the cups", "the nearest cup"),
    ("the left one of the two cubes", "the leftmost cube"),
    ("the rightmost of the balls", "the rightmost ball"),
    ("the largest of all the boxes", "the largest box"),
    # a superlative said as a predicate, or an attribute after "everything"
    ("which cube is the biggest?", "the biggest cube"),
    ("the mug that is furthest to the right", "the mug furthest to the right"),
    ("everything blue", "all blue things"),
    ("all objects that are red", "all red objects"),
    # "on the left" with no "of": the one furthest that way
    ("the purple object on the left", "the purple object furthest to the left"),
    ("the red cube on the right side", "the red cube furthest to the right"),
    ("the cube on the left of the ball", "the cube left of the ball"),
    # ... but a relation to a plural anchor stays a relation
    ("the cube to the left of the balls", "the cube left of the balls"),
    ("the mug on the right of the cups", "the mug right of the cups"),
    # a side, the front or the back said as an adjective
    ("the right-hand cup", "the rightmost cup"),
    ("the left red cube", "the leftmost red cube"),
    ("the front ball", "the nearest ball"),
    ("the rear cube", "the farthest cube"),
    ("the one in front", "the thing closest to the camera"),
    ("the one nearest the left edge", "the thing furthest to the left"),
    ("the object that is the furthest right", "the object furthest to the right"),
    ("the rightmost object of all", "the rightmost object"),
    # up and down in the picture: the far side of the table is at the top of the image
    ("the top-most ball", "the farthest ball"),
    ("the cube at the bottom of the image", "the cube closest to the camera"),
    ("the cube at the top of the picture", "the cube furthest from the camera"),
    # "tallest" is the largest, never the "smallest" a spelling corrector makes of it
    ("the tallest cylinder", "the largest cylinder"),
    ("the shortest can", "the smallest can"),
    # the ordinal after the noun, or fused with the side
    ("the ball second from the right", "the second ball from the right"),
    ("the mug which is third from the left", "the third mug from the left"),
    ("the second-leftmost cube", "the second cube from the left"),
    # a superlative with no "is the"; comparisons with the camera named
    ("the cube that's closest", "the nearest cube"),
    ("the mug nearer the camera than the ball", "the mug closer than the ball"),
    ("the block further back than the mug", "the block farther away than the mug"),
    ("the cube just left of the ball", "the cube left of the ball"),
    ("the block that sits behind the can", "the block that is behind the can"),
    # a colour after the noun
    ("the cup that's purple", "the purple cup"),
    ("the cube in red", "the red cube"),
    ("the block, the red one", "the red block"),
    ("the not-red ball", "the non red ball"),
    ("the cube that is neither red nor blue", "the cube that is not red"),
    ("the objects that are green", "all green objects"),
    # questions and fillers
    ("which one is the red cube?", "the red cube"),
    ("is there a green ball", "the green ball"),
    ("yo grab that white sphere", "the white sphere"),
    # speech: hesitations, a fragment said twice, a restatement after the request; an anchor "one" stays
    ("um pick the mug behind the uh behind the red box", "the mug behind the red box"),
    ("the rightmost cube, grab the rightmost one", "the rightmost cube"),
    ("the cube left of the red one", "the cube left of the red thing"),
    ("the mug closer than the blue one", "the mug closer than the blue thing"),
    ("Count one two three from the left and get me that mug!", "the third mug from the left"),
    ("you take cup more close to camera than big box please", "cup closer than the big box"),
    ("the cup right at the front", "the cup closest to the camera"),
    # a self-correction: the last word wins, whole ("no, the mug that isn't red") or one fragment ("left of")
    ("Take the mug to the right of, no sorry, to the left of the big box.", "the mug left of the big box"),
    ("Pick the red mug, no sorry, the mug that isn't red.", "the mug that is not red"),
    ("Grab the smallest, no wait, the largest cube", "the largest cube"),
    ("Third cup from the left, sorry, from the right.", "the third cup from the right"),
    ("the cube, not the red one", "the cube that is not red"),   # "not" is a negation, not a correction
    # texting, a radio call, a test-case step, a wordy request
    ("can u grab the 3rd mug from left pls thx", "the third mug from the left"),
    ("Robot one, mug left of the big box, pick it, over.", "mug left of the big box"),
    ("Step 5: Pick the cube located in front of the box (closer to camera).", "the cube in front of the box"),
    ("Would you be so kind as to gather up all of the mugs, please?", "all of the mugs"),
    # questions (set F): the noun is kept, a predicate is not a restatement
    ("Which mug is the smallest one? Pick it up.", "the smallest mug"),
    ("Which mug is the second one from the right?", "the second mug from the right"),
    ("Which object is the farthest right? Get it for me.", "the thing furthest to the right"),
    ("get teh mug thats nearer the camera then the red box", "the mug that is closer than the red box"),
    # no word in the model for "next to" or "the middle": dropped, not left as stray words
    ("the cup next to the box", "the cup"),
    ("the cube in the middle", "the cube"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_normaliser(text, expected):
    assert " ".join(normalize_words(text, VOCAB)) == expected


def test_no_unknown_tokens_reach_the_model():
    ids = encode_phrases(["please grab the zorblax thing", "the red cube"], VOCAB, 16)
    assert 1 not in ids.tolist()[0] and 1 not in ids.tolist()[1]
    raw = encode_phrases(["please grab the zorblax thing"], VOCAB, 16, normalize=False)
    assert 1 in raw.tolist()[0]


def test_everyday_wordings_normalise_into_the_vocabulary():
    """The generator's everyday wordings (train and held-out) lose no meaningful word to the normaliser."""
    pytest.importorskip("mujoco")   # a requirement; absent only on the GPU check's device image
    from grounding_node.sim.scene import TabletopSim

    with TabletopSim(320, 240, camera="random") as sim:
        scenes = [sim.new_scene(s) for s in range(4)]
    rng = np.random.default_rng(0)
    for split in ("train", "heldout"):
        for scene in scenes:
            for e in generate_all(scene, rng):
                r = restyle(e, rng, split, p=1.0)
                assert r.targets == e.targets and r.type == e.type
                words = normalize_words(r.text, VOCAB)
                assert words, r.text


def test_paraphrase_set_is_large_enough_and_covers_every_type():
    table = load_paraphrases(PARAPHRASES)
    assert sum(len(v) for v in table.values()) >= 60
    assert {k for k, _ in table} == {"attribute", "relation", "extreme", "ordinal", "negation", "plural",
                                     "no_referent"}


# Real words near a model word: a spelling corrector would change the referent ("the cyan cube" -> "the can
# cube", "lift" -> left, "here" -> sphere). Each must be dropped (or mapped on purpose), never corrected.
REAL_WORDS_NEAR_MODEL_WORDS = ["back", "beige", "bring", "cyan", "lift", "might", "must", "none", "pink", "shall",
                               "here", "thin", "hand", "kind", "fine", "what", "then", "there", "other", "thank",
                               # corrected into model words until the English word list (language.english_words)
                               "three", "straight", "upright", "while", "range", "tired", "brightest", "eight",
                               "read", "agree", "pack", "tablet", "clock", "bell", "cute", "glue", "pure", "smell",
                               "yell", "litter", "latest", "fastest", "father", "gather", "section", "project",
                               "candy", "bugs", "they", "night", "case", "fall", "interest", "lent", "leaf"]


@pytest.mark.parametrize("word", REAL_WORDS_NEAR_MODEL_WORDS)
def test_real_words_are_not_spelling_corrected_into_model_words(word):
    # after the noun, where no phrase rule gives the word a meaning ("the back cube" is the farthest one)
    assert normalize_words(f"the cube {word}", VOCAB) == ["the", "cube"]
    if word != "back":
        assert normalize_words(f"the {word} cube", VOCAB) == ["the", "cube"]


def test_misspellings_are_still_corrected():
    assert normalize_words("the yelow cilinder", VOCAB) == ["the", "yellow", "cylinder"]
    assert normalize_words("the gren sphear", VOCAB) == ["the", "green", "sphere"]


def test_typo_distance_counts_what_a_typist_does():
    from grounding_node.models.tabletop.language import typo_distance

    assert typo_distance("balck", "black") == 1      # two keys swapped
    assert typo_distance("balck", "block") == 2      # a letter missing and one extra
    assert typo_distance("blu", "blue") == 1         # a letter missing
    assert typo_distance("bos", "box") == 1          # s is next to x
    assert typo_distance("cat", "can") == 1.5        # t is far from n
    assert typo_distance("cube", "cube") == 0


def test_misspellings_a_typist_makes_are_corrected_and_real_words_are_not():
    assert normalize_words("the balck mug", VOCAB) == ["the", "black", "mug"]   # difflib alone said "block"
    assert normalize_words("the rde cna", VOCAB) == ["the", "red", "can"]      # 3 letters: swaps
    assert normalize_words("the blu bal", VOCAB) == ["the", "blue", "ball"]    # 3 letters: a letter missing
    # a correction into a negation would invert the question
    assert normalize_words("the hot mug", VOCAB) == ["the", "mug"]
    assert normalize_words("the cup nor the box", VOCAB) == ["the", "cup", "the", "box"]
    # a tie between two model words is dropped, not guessed
    assert normalize_words("the blck mug", VOCAB) == ["the", "mug"]


def test_a_planners_key_value_request_keeps_its_meaning():
    """Read before punctuation is stripped: without "!=" the negation would become the opposite question."""
    assert normalize_words("select: mug | color != red", VOCAB) == ["the", "mug", "that", "is", "not", "red"]
    assert normalize_words("select: cup | size != small", VOCAB) == ["the", "cup", "that", "is", "not", "small"]
    assert normalize_words("select: cube | ordinal: 2 | from: left", VOCAB) == [
        "the", "second", "cube", "from", "the", "left"]
    assert normalize_words("select: ball | ordinal: 1 | from: right", VOCAB) == ["the", "rightmost", "ball"]
    assert normalize_words("select: cup | relation: left of the red box", VOCAB) == [
        "the", "cup", "left", "of", "the", "red", "box"]
    assert normalize_words("select: can | extreme: nearest", VOCAB) == ["the", "nearest", "can"]
    assert normalize_words("object: cube | color: red", VOCAB) == ["the", "red", "cube"]
    assert normalize_words("select: all blue cubes", VOCAB) == ["all", "blue", "cubes"]
    assert normalize_words("the mug, color != red", VOCAB) == ["the", "mug", "that", "is", "not", "red"]
    # an ordinary phrase with a colon is not a request of this kind
    assert normalize_words("note: the red cube", VOCAB) == ["the", "red", "cube"]


def test_empty_fields_and_full_width_letters():
    """Read back: an empty planner field left a dangling "not"; full-width letters (CJK keyboards) were dropped."""
    assert normalize_words("select: mug | color !=", VOCAB) == ["the", "mug"]
    assert normalize_words("ＲＥＤ ｃｕｂｅ", VOCAB) == ["red", "cube"]


def test_accents_and_emoji_that_name_a_colour_or_an_object():
    """Noticed in review: "the 🟥 mug" reached the model as "the mug" (any mug) with no warning, and "the réd
    mug" (a keyboard with dead keys) dropped the colour. A colour square or disc names its colour, a cup of
    coffee, a tin, a parcel, a ball or an ice cube their shape; a face or a thumbs-up is tone, dropped like
    "please"; accents are read without their marks."""
    cases = {
        "the 🟥 mug": "the red mug",
        "the 🔵 ball on the left": "the blue ball on the left",
        "grab the 🟩🟩 cube": "the green cube",
        "the ⬛ box that isn't 🟨": "the black box that is not yellow",
        "the red ☕": "the red mug",
        "all the 🥫": "all the cans",
        "the 📦 left of the ⚽": "the box left of the ball",
        "the small 🧊": "the small cube",
        "the 🟣 mug please 🙏😊": "the purple mug",
        "the mug 👍": "the mug",
        "the réd mug": "the red mug",
        "the blúe cübe": "the blue cube",
        "the pürple bàll, s'il vous plaît": "the purple ball",
    }
    _assert_reads_as(cases, exact=True)
    # a colour the model lacks, said as an emoji, is refused like the word
    assert read_phrase("the 🟤 mug", VOCAB).refusal == read_phrase("the brown mug", VOCAB).refusal != ""


def _assert_reads_as(cases, exact=False):
    """Each phrase said reaches the model as the phrase meant: word for word, or as the blind sets compare
    (`meaning`: filler words aside; direction, order and negation count)."""
    for said, meant in cases.items():
        if exact:
            assert normalize_words(said, VOCAB) == normalize_words(meant, VOCAB), said
        else:
            assert meaning(said) == meaning(meant), (said, normalize_words(said, VOCAB))


def test_questions_and_purposes_of_set_h():
    """Blind set H (test/phrasings/blind_h.tsv) on arrival: "pick up the cup so I can check it" reached the
    model as "the cup can" (a shape word), "which cup is leftmost? can you pick that" as "the cup is leftmost
    can", and "which thing is left of the box" lost its noun."""
    cases = {
        "pick up the red cup so I can check it": "the red cup",
        "pick up the cups, every last one of them, so I can sort them": "all the cups",
        "pick up the ball in order to weigh it": "the ball",
        "which cup is leftmost? can you pick that": "the leftmost cup",
        "which ball is 2nd from the right? can you pick that": "the second ball from the right",
        "which cube is the biggest? can you pick that": "the biggest cube",
        "which thing is left of the box? pick that one": "the thing left of the box",
        "which one is the red cup?": "the red cup",
        "which cup is blue? grab it": "the blue cup",
        "which mug isn't small? can you pick that": "the mug that is not small",
    }
    _assert_reads_as(cases, exact=True)
    # "can" is still a shape where it names one
    assert normalize_words("the can left of the box", VOCAB) == ["the", "can", "left", "of", "the", "box"]
    assert normalize_words("pick up the can so I can check it", VOCAB) == ["the", "can"]


def test_what_a_speech_recogniser_writes_set_i():
    """Blind set I (test/phrasings/blind_i.tsv: speech-to-text transcripts) on arrival: "the mug thats knot
    red" and "that is nt red" reached the model as "the mug that is red" (the opposite question), "to the
    write of" lost its side, "the near est ball" its superlative, "the sec and cube" its ordinal."""
    cases = {
        "grab the mug thats knot red": "the mug that is not red",
        "hey robot get the cup that is nt blue": "the cup that is not blue",
        "pick the ball that aint small": "the ball that is not small",
        "pick up the cup to the write of the box": "the cup right of the box",
        "hey robot the cup thats rite of the box": "the cup that is right of the box",
        "grab the cube be hind the ball": "the cube behind the ball",
        "grab the cube in fronta the ball": "the cube in front of the ball",
        "uh the cube closure to the camera than the ball": "the cube closer to the camera than the ball",
        "the cube father from the camera than the ball": "the cube farther from the camera than the ball",
        "grab the near est mug": "the nearest mug",
        "grab the big est mug": "the biggest mug",
        "grab the small is red cube": "the smallest red cube",
        "uh the closet cup": "the closest cup",
        "grab the sec and ball from the lef": "the second ball from the left",
        "uh the number too cup counting from the right": "the second cup from the right",
        "okay arm can you get me that red mug": "the red mug",
        "grab the furtherst cup": "the furthest cup",
    }
    _assert_reads_as(cases, exact=True)
    # the homophone rules stay where they are homophones: "knot" is "not" only before an attribute, and a
    # typo is corrected to the closest model word, not to a superlative ("laarge" is large)
    assert "not" not in normalize_words("the knot on the red cube", VOCAB)
    assert normalize_words("the laarge mug", VOCAB) == ["the", "large", "mug"]


def test_inverted_relations_and_comparisons_with_all_others_set_k():
    """Compared as the blind sets are (`meaning`: filler words aside, direction and order count).

    Blind set K (test/phrasings/blind_k.tsv: the grammatical forms of each meaning) on arrival: "the cup
    that the box is right of" reached the model as "the cup ... right of the box", the OPPOSITE side, and
    so did "the cup with the box on its right"; "larger than all the others", "no other cup is left of",
    "next-to-leftmost", "between the camera and the box" lost what they said."""
    cases = {
        "grab the cup that the large blue box is to the right of": "the cup left of the large blue box",
        "grab the cup that the ball is to the left of": "the cup right of the ball",
        "get the cup that the ball is behind": "the cup in front of the ball",
        "get the cup that the ball is in front of": "the cup behind the ball",
        "get the cup with the ball on its right": "the cup left of the ball",
        "pick up the cup with the ball behind it": "the cup in front of the ball",
        "pick up the cup with the ball between it and the camera": "the cup behind the ball",
        "take the cup between the camera and the ball": "the cup in front of the ball",
        "take the cup on the far side of the ball, away from the camera": "the cup behind the ball",
        "pick up the cup at the ball's left": "the cup left of the ball",
        "the ball has a cup to its left; pick up that cup": "the cup left of the ball",
        "the cup that sits closer to the lens than the ball does": "the cup closer to the camera than the ball",
        "take the cup which is less far from the camera than the ball": "the cup closer to the camera than the ball",
        "the mug that no other mug is to the left of": "the leftmost mug",
        "get the mug with no other mug to its right": "the rightmost mug",
        "pick up the mug that is closer to the camera than any other": "the nearest mug",
        "grab the red cube larger than all the others": "the largest red cube",
        "take the cube that is bigger than every other red cube": "the largest cube",
        "pick up the least big ball": "the smallest ball",
        "grab the mug closest to the left edge of the image": "the leftmost mug",
        "grab the next-to-leftmost cup": "the second cup from the left",
        "take the cup just right of the leftmost one": "the second cup from the left",
        "the cup that comes third going from right to left, please": "the third cup from the right",
        "take the cup with exactly two other cups to its left": "the third cup from the left",
        "counting the red things from the right, take number two": "the second red thing from the right",
    }
    _assert_reads_as(cases)
    # a relation said the usual way round is untouched
    assert meaning("the cup that is right of the ball") == meaning("the cup right of the ball")
    assert "right" in normalize_words("the cup just right of the rightmost one", VOCAB)   # not an ordinal


def test_english_of_other_first_languages_set_j():
    """Blind set J (non-native English) on arrival: "more at left than", "of color no red", "without red
    color", "most behind", "on left side of the box there is a cup" were read wrongly or dropped."""
    cases = {
        "Pick cup that is more at left than ball.": "the cup left of the ball",
        "On left side of ball there is cup, please take it.": "the cup left of the ball",
        "cup in front from ball, take.": "the cup in front of the ball",
        "cup at back side of ball, please pick up.": "the cup behind the ball",
        "Pick mug that is more at left of all.": "the leftmost mug",
        "Take the most behind mug.": "the farthest mug",
        "Kindly pick the mug which is most front side.": "the nearest mug",
        "The mug more big of all, please pick.": "the biggest mug",
        "Of all mugs, take the one more small.": "the smallest mug",
        "mug closest one, please pick up.": "the closest mug",
        "The cup of color no red, please.": "the cup that is not red",
        "cup without red color, please pick up.": "the cup that is not red",
        "Please take cup which is not of small size.": "the cup that is not small",
    }
    _assert_reads_as(cases)


def test_requests_inside_context_set_m():
    """Blind set M (requests wrapped in what people say around them) on arrival: "Sorry, I was unclear
    before: ..." reached the model as "in front of ...", "drop them in the crate" as "in the box" (another
    object), "we can take a break" as "can" (a shape), "Right, so, ..." as the side "right"."""
    cases = {
        "Sorry, I was unclear before: it's the red mug I want. Hold it up so I can see it.": "the red mug",
        "Sorry, I was unclear before. I meant the cup on the ball's left; place it on the tray.":
            "the cup left of the ball",
        "For the inventory, could you pick all the red cubes and drop them in the crate?": "all the red cubes",
        "Now please gather up every single object; after that we can take a break.": "all the objects",
        "Right, so, for this next step, the blue ball \u2014 grab that, then wait.": "the blue ball",
        "We're sorting things today, so start by picking up the small can.": "the small can",
        "I need to weigh it \u2014 grab the mug that's second from the left.": "the second mug from the left",
        "Good work so far. Counting from the left, take the third cup and place it on the tray.":
            "the third cup from the left",
        "We're tidying up; going right to left, please take the second cube, and after that we're done.":
            "the second cube from the right",
    }
    _assert_reads_as(cases)
    # "before" still places an object before another, and a request that acts on another object is kept
    assert meaning("the cup before the red box") == meaning("the cup in front of the red box")
    assert meaning("the cup, then the ball") != meaning("the cup")


def test_referring_expression_annotations_set_l():
    """Blind set L (RefCOCO-style annotations) on arrival: "below"/"above" another object, "top cube",
    "bottom cube", "infront of" and "not red thing" were lost."""
    cases = {"mug below large blue box": "the mug in front of the large blue box",
             "mug above ball": "the mug behind the ball", "bottom cube": "the nearest cube",
             "top red cube": "the farthest red cube", "mug infront of ball": "the mug in front of the ball",
             "not red thing": "the thing that is not red", "biggest one of the red cubes": "the largest red cube"}
    _assert_reads_as(cases)
    # "non-red cube" without its article reached the model as a wording it never saw ("the non-red cube" is
    # the generator's): set L's negations scored 82.5 % and set F's 90.3 % until the article was restored
    assert normalize_words("non-red cube", VOCAB) == normalize_words("the non-red cube", VOCAB) == [
        "the", "non", "red", "cube"]
    # stacking words are still dropped, not read as near/far
    assert "front" not in normalize_words("the ball under the box", VOCAB)


def test_zero_based_indices_count_from_zero():
    """On the last session's code "index 2 from the left (zero-based)" read as the second cup (the base was
    dropped: a wrong object), "index 1 ... (0-based)", `index=0` and "cup[0] from left" were refused with the
    untrue reason "counts no further than the third", and "the zeroth cup from the left" was grounded as "the
    cup from the left". A stated zero base shifts every index by one; a 0 can only be zero-based."""
    _assert_reads_as({
        "index 2 from the left (zero-based)": "the third thing from the left",
        "the cup at index 1 from the left (0-based)": "the second cup from the left",
        "cup at index 0 from the right, 0-indexed": "the rightmost cup",
        "pick(object='cup', index=0, from='left')": "the leftmost cup",
        "select: cup | index: 0 | from: right": "the rightmost cup",
        "cup[0] from left": "the leftmost cup",
        "the zeroth cup from the left": "the leftmost cup",
        "the cup at index 1 from the left": "the leftmost cup",
        "position 1 from the right, cube": "the rightmost cube",
        "the cup at index 2 from the left (1-based)": "the second cup from the left",
    }, exact=True)
    # a zero-based index past the model's third is still refused, with the true reason
    from grounding_node.models.tabletop.language import read_phrase

    assert "third" in read_phrase("the cup at index 3 from the left (zero-based)", VOCAB).refusal
    assert read_phrase("the cup at index 2 from the left (zero based)", VOCAB).refusal == ""


def test_which_questions_ask_for_every_match():
    """"which cups are blue?" reached the model as "all the cups is blue" and "are any of the cups blue?" as
    "all is the of the cups blue"; "which of the cups is blue?" (one cup) as a plural."""
    _assert_reads_as({
        "which cups are blue?": "all the blue cups",
        "which balls are large?": "all the large balls",
        "which of the cubes are small and red?": "all the small red cubes",
        "are any of the cups blue?": "all the blue cups",
        "are there any blue cups?": "all the blue cups",
        "which of the cups is blue?": "the blue cup",
        "which one of the balls is green": "the green ball",
    }, exact=True)


def test_hedged_speakers_action_verbs_and_formal_english_sets_n_o_p():
    """Blind sets N (hedged and novice speakers, children), O (other action verbs, questions) and P (formal,
    British, very polite English) on arrival: 94.9, 95.7 and 94.4 % through the model. What they lost:
    "nudge the cup a little" read "little" as a size, "nearer to yourself than" and "furthest from yourself"
    lost the relation, "Counting from the left-hand end, ... the second cup" read as the leftmost, "that
    happens not to be red" lost the negation, and "leftish of", "most lefty", "the most big one", "hugest",
    "most sizeable", "most diminutive", "teeny-tiniest", "that mug! the closest one!" and "the cup... the
    not-small one, I mean" lost the relation, the superlative or the negation."""
    cases = {
        "nudge the red cube a little": "the red cube",
        "I should be most grateful if you would fetch the cup situated nearer to yourself than the red box.":
            "the cup in front of the red box",
        "I should be most grateful if you would fetch the ball furthest from yourself.": "the farthest ball",
        "Counting from the left-hand end, would you very kindly collect the second cube?":
            "the second cube from the left",
        "Counting from the right-hand end, would you very kindly collect the third mug?":
            "the third mug from the right",
        "I should be much obliged if you would take the cup that happens not to be red.":
            "the cup that is not red",
        "uh, pick the cup that's sort of leftish of the blue ball?": "the cup left of the blue ball",
        "the, um, most lefty cube I guess": "the leftmost cube",
        "the mug that's, like, the most big one": "the largest mug",
        "uh, the hugest ball, I guess": "the largest ball",
        "Be a dear and hand me the most sizeable box.": "the largest box",
        "Be a dear and hand me the most diminutive box.": "the smallest box",
        "uh, the teeny-tiniest can, kinda": "the smallest can",
        "that mug! the closest one!": "the nearest mug",
        "that one! the green thing farthest left!": "the leftmost green thing",
        "the ball... the not-small one, I mean": "the ball that is not small",
        "uh, the cube most in front, kinda": "the nearest cube",
    }
    _assert_reads_as(cases)
    # "Be a dear and ..." left a stray article before the request ("a the non red mug"): the model reads it
    _assert_reads_as({"Be a dear and hand me the non-red mug.": "the non-red mug",
                      "do me a favour and grab the blue ball": "the blue ball"}, exact=True)
    # a side word before "most" is not "most" + size ("the left-most small ball" stays the leftmost)
    _assert_reads_as({"the left-most small ball": "the leftmost small ball",
                      "the front-most small ball": "the nearest small ball"}, exact=True)


def test_phone_typing_and_technical_noun_phrases_sets_q_r():
    """Blind sets Q (typed fast on a phone) and R (relative clauses, passives, appositives) on arrival: "L of"
    lost its side, "whose distance to the camera is the shortest" read as the smallest (a size: the wrong
    object) and "... is the greatest" as the largest, "whose distance to the camera is less than that of the
    box" lost the relation, "furthest toward the left/back", "identified as the largest one" and "coloured
    differently from red" lost the extreme or the negation."""
    cases = {
        "grab the cup L of the red box": "the cup left of the red box",
        "grab the cup R of the red box": "the cup right of the red box",
        "the ball whose distance to the camera is the shortest": "the nearest ball",
        "the ball whose distance to the camera is the greatest": "the farthest ball",
        "the cup whose distance to the camera is less than that of the blue box": "the cup in front of the blue box",
        "the cup whose distance to the camera is greater than that of the blue box": "the cup behind the blue box",
        "the cube which is found furthest toward the left": "the leftmost cube",
        "the cube, which is situated furthest toward the back": "the farthest cube",
        "the mug furthest to the front": "the nearest mug",
        "the can identified as the smallest one": "the smallest can",
        "the mug that is coloured differently from red": "the mug that is not red",
    }
    _assert_reads_as(cases)


def test_emphasis_notation_and_conversational_glue_sets_t_u_v():
    """Blind sets T (frustrated users), U (symbols and shorthand) and V (wake words, discourse markers, tag
    questions) on arrival (c94ed3f): 95.3, 75.0 and 88.1 %. ", right?" after "the leftmost cup" reached the
    model as a side, "Right so, ..." kept "right", "color ≠ red" lost its "≠" and asked for the red mug, "#2
    (R→L)" lost its side, "dist-to-cam < box's" and "size = max" lost their meaning, "not the box itself" became
    a second request. The cases are other fillings and wordings of the same forms, not the sets' lines."""
    cases = {
        # tags and discourse markers: a question mark after a comma'd word is a tag, not a side
        "Hey Robo, grab the cup on the left, right?": "the cup on the left",
        "OK so the leftmost ball, yeah?": "the leftmost ball",
        "the blue cube, okay? thanks a lot": "the blue cube",
        "Right so, basically I want the second cube from the left. Ta.": "the second cube from the left",
        "right, well, the red mug please": "the red mug",
        "Oh, hmm, can you pass me the green ball? Cheers.": "the green ball",
        "like, the ball that is smaller than the rest, alright?": "the smallest ball",
        "the cube that's bigger than everything else": "the largest cube",
        "the can furthest forward": "the nearest can",
        # emphasis that restates
        "I SAID the ball behind the box, not the box itself!": "the ball behind the box",
        "The THIRD cube from the RIGHT! Third!": "the third cube from the right",
        "the second ball from the left, not the third!": "the second ball from the left",
        "For the last time, the yellow can. How hard can it be?": "the yellow can",
        # notation
        "ball #3 (R→L) → pick": "the third ball from the right",
        "cube, pos. 2 (L->R)": "the second cube from the left",
        "2nd can from R pls": "the second can from the right",
        "the cube @ far L": "the cube at the far left",
        "grab the ball furthest →": "the rightmost ball",
        "the can w/ max dist to cam": "the can furthest from the camera",
        "the mug, size = min, thx": "the smallest mug",
        "ball #1 by size (large→small)": "the largest ball",
        "the cube w/ dist-to-cam > can's": "the cube further from the camera than the can",
        "cup w/ colour ≠ blue": "the cup that is not blue",
        "target: cube | colour: ¬green": "the cube that is not green",
        "pick up the ball w/ the box on its L": "the ball right of the box",
        "∀ red cube: pick up": "all the red cubes",
        "the can @ near side of the mug": "the can in front of the mug",
    }
    _assert_reads_as(cases)
    # what must not change: a side that is not a tag, and "right" that is not a discourse marker
    kept = {
        "the cup on the right?": "the cup on the right",
        "the mug to the right, please": "the mug to the right",
        "right of the box, the mug": "the mug right of the box",
        "the ball, not the red one": "the ball that is not red",
    }
    for said, meant in kept.items():
        assert normalize_words(said, VOCAB) == normalize_words(meant, VOCAB), said
    # only a negation of the anchor itself is a restatement; another object's is no second request either: the
    # model negates no noun, and keeping it read "the cube left of the ball the can", a can named as a second
    # object (test_tabletop_wrong_readings.py: "the red cube, not the box" read "the red cube the box")
    assert normalize_words("the cube left of the ball, not the can", VOCAB) == normalize_words(
        "the cube left of the ball", VOCAB)


def test_code_switched_and_machine_written_requests_sets_w_x():
    """Blind sets W (English code-switched with eight other languages) and X (requests inside chat logs,
    markdown, JSON, tickets) on arrival (0de6e37): 55.6 % (negations 13.6, ordinals 14.7) and 85.8 %. "que no
    es red" and "links vom box" were dropped as unknown words, so the request lost what picks the object;
    markdown's backticks made the slot's words unknown and the phrase was refused; "(as seen by the camera)"
    read as the nearest. The cases are other fillings and wordings of the same forms, not the sets' lines."""
    cases = {
        # the other language's small words around English nouns
        "Por favor, the ball que no es blue": "the ball that is not blue",
        "Bitte, the cube, der nicht small ist": "the cube that is not small",
        "Grab le cube qui n'est pas vert, merci": "the cube that is not green",
        "the rojo mug links vom kleine cubo": "the red mug left of the small cube",
        "die blaue Tasse": "the cube blue mug",   # "die" is English (a dice cube): never read as German
        "the can rechts vom mug, bitte": "the can right of the mug",
        "dame the ball a la izquierda de la box": "the ball left of the box",
        "Prendi il cube dietro il mug, grazie": "the cube behind the mug",
        "pega o ball na frente do can": "the ball in front of the can",
        "the third cube von rechts": "the third cube from the right",
        "il secondo ball da sinistra, per favore": "the second ball from the left",
        "kunin mo yung pangatlong mug mula sa kaliwa": "the third mug from the left",
        "the can más a la derecha": "the can furthest to the right",
        "nimm den kleinsten ball": "the smallest ball",
        "the cube più grande, per favore": "the largest cube",
        "todos los red cubes, por favor": "all the red cubes",
        "the ball le plus loin de la caméra": "the ball furthest from the camera",
        "box no migi ni aru ball o totte": "the ball right of the box",
        "migi kara nibanme no cube o totte kudasai": "the second cube from the right",
        "blue ja nai mug o totte": "the mug that is not blue",
        "mug ke peeche wala ball uthao": "the ball behind the mug",
        "sabse chhota cube de do": "the smallest cube",
        # machine-written text around a request
        "User: could you grab the green ball?": "the green ball",
        "[09:15:02] operator: pick the `small cube`": "the small cube",
        "> **Pick:** the `ball` behind the `box`": "the ball behind the box",
        "INFO request: the blue mug": "the blue mug",
        "TASK-7: take the can left of the ball (as seen from the camera)": "the can left of the ball",
        "`cube` -- third one from the left": "the third cube from the left",
    }
    _assert_reads_as(cases)
    # colour, size and shape words of the other languages are none of English's (a 64k-word list)
    from grounding_node.models.tabletop.foreign import WORDS
    from grounding_node.models.tabletop.language import english_words
    assert not [w for w in WORDS if w in english_words()]
    # English is never read as another language: "die" is a dice cube, "de", "la", "plus" stay as they were
    kept = {"the red die": "the red cube", "the die on the left": "the cube on the left",
            "the mug, plus the ball": "the mug plus the ball"}
    for said, meant in kept.items():
        assert normalize_words(said, VOCAB) == normalize_words(meant, VOCAB), said


def test_it_as_the_anchor_of_a_correction_or_after_a_refusal():
    """Two listed gaps, now read (sets N and T): a self-correction whose anchor is "it" ("before the box... I
    mean in front of it" reached the model as "in front of it", no anchor) and the anchor named only in a
    refusal before the request ("Not the box!! I want the cup to its LEFT!")."""
    cases = {
        "the ball behind the red cube, no sorry, in front of it": "the ball in front of the red cube",
        "maybe the can left of the mug... I mean right of it": "the can right of the mug",
        "Not the green ball! I want the cube on its right": "the cube right of the green ball",
        "not the mug, the can that's to its left": "the can left of the mug",
    }
    _assert_reads_as(cases)


def test_a_scene_then_a_request_with_pronouns_set_y():
    """Blind set Y (the scene set first, then the request with pronouns) on arrival (918713f): 68.8 %
    (relations 34.0, ordinals 40.0). "See the box? Grab the cup to its left." lost its anchor, "Look at the
    mugs. Take the one closest to the camera." became two requests ("all the mugs ... the thing closest to the
    camera"). The cases are other fillings and wordings of the same forms, not the set's lines."""
    cases = {
        "See the red cube? Grab the ball to its right.": "the ball right of the red cube",
        "There's a green box. Take the can behind it.": "the can behind the green box",
        "Look at the mug. The cube nearer to the camera than it, please.": "the cube in front of the mug",
        "Notice the ball. Now look to its left; take the can there.": "the can left of the ball",
        "Look at the cubes. Take the one furthest to the right.": "the cube furthest to the right",
        "See the small balls? Grab the nearest one.": "the nearest small ball",
        "Okay, mugs. Which is smallest? That one.": "the smallest mug",
        "There are some cans here. Going right to left, I want the third.": "the third can from the right",
        "First line up the cubes from left to right. Then pick the second one.": "the second cube from the left",
        "There are blue balls on the table. I want all of them.": "all the blue balls",
        "See the cups? Grab the one that isn't green.": "the cup that is not green",
        "You see the boxes? Pick up the one that's smaller than the others.": "the smallest box",
        "The red mug, got it? Bring me the ball on the left side of it.": "the ball left of the red mug",
    }
    _assert_reads_as(cases)
    # a first sentence that already asks, a correction, or a pointer alone stay as the rules read them
    kept = {
        "Get the cube in front of the ball. The one closer to the camera.": "the cube in front of the ball",
        "Which can is second from the left? Pick that one up.": "the second can from the left",
        "the mug before the box... I mean in front of it": "the mug in front of the box",
        "pick the ball, i.e. the one left of the box": "the ball left of the box",
    }
    _assert_reads_as(kept)


def test_notation_reads_adversarial_symbol_runs_in_linear_time():
    """Found on the last read: 1000 '*' (what a command may hold, max_command_length) took 2.4 s in
    notation.py, the emphasis markers leaving 500 spaces for a pattern with '\\s*' on both sides of an optional
    '('. A command's reading blocks its answer, so such input must stay cheap. Bound: 100x the 1 ms it takes."""
    import time

    from grounding_node.models.tabletop.notation import read_notation
    for text in ("*" * 1000, "[12:00] " * 125, "_" * 1000, "( " * 500):
        t0 = time.perf_counter()
        read_notation(text)
        assert time.perf_counter() - t0 < 0.1, text[:10]


def test_the_camera_picture_as_frame_of_reference_set_z():
    """Blind set Z (remote operators watching the camera feed) on arrival (21dfc8d): 94.9 % (extremes 92.0).
    "lower in the frame than the box" and "more in the foreground than" lost their relation, "the one deepest
    in the shot" its extreme, "furthest image-left" its side, "in the feed, take the non-red mug" kept "in the",
    and "the biggest mug you can see on screen" read "can" as a shape. Other fillings and wordings of the same
    forms, not the set's lines; the near side of a table is low in the picture."""
    cases = {
        "On my monitor, grab the red cube that sits lower in the image than the ball.":
            "the red cube in front of the ball",
        "The can that is higher up in the picture than the small mug.": "the can behind the small mug",
        "the ball further in the background than the green box": "the ball behind the green box",
        "the cube that's closer in the foreground than the box": "the cube in front of the box",
        "Which blue mug is deeper in the scene than the cube?": "the blue mug behind the cube",
        "the ball that is most in the foreground": "the nearest ball",
        "Of the cans in the video feed, take the one deepest in the frame.": "the farthest can",
        "the cube nearest to the bottom edge of the screen": "the nearest cube",
        "the small box closest to the top of the image": "the farthest small box",
        "the mug lowest in the frame": "the nearest mug",
        "the ball that's furthest screen-left": "the leftmost ball",
        "grab the cup on the far left of the picture": "the leftmost cup",
        "the cube on the viewer's right side, furthest right": "the rightmost cube",
        "Counting blue cans from image right, I want number three.": "the third blue can from the right",
        "Grab every red ball you can see on screen.": "all the red balls",
        "From the robot's point of view, the can left of the box.": "the can left of the box",
        "As the camera sees it, the second cup from the left.": "the second cup from the left",
        "In the live feed, pick up the ball that isn't blue.": "the ball that is not blue",
    }
    _assert_reads_as(cases)


def test_an_ordinal_told_as_skipping():
    """Sets Y, Z and AA all told an ordinal as skipping ("skip the leftmost and take the next one"); it read as
    the skipped one (the leftmost) or lost its noun. Set Y's four such lines were listed gaps. The side comes
    from the skipped extreme, the starting side or the counting direction; the noun from the skipped ones,
    the taken one or the scene named first."""
    cases = {
        "skip the rightmost cube and grab the next one": "the second cube from the right",
        "Look at the red balls. Skip the leftmost and take the next one, counting to the right.":
            "the second red ball from the left",
        "Check the cans. Skip the two leftmost ones and pick up the next one, moving rightwards.":
            "the third can from the left",
        "starting from the right, skip two mugs and then take the next one": "the third mug from the right",
        "starting at the left skip one box and grab the next box": "the second box from the left",
        "skip the first one from the left and give me the following cube": "the second cube from the left",
    }
    _assert_reads_as(cases)
    # no side at all: not an ordinal the model can count, left as it was said
    assert "second" not in normalize_words("skip the cube and take the next one", VOCAB)


def test_young_users_slang_set_aa():
    """Blind set AA (slang, playful talk) on arrival (21dfc8d): 92.2 % (ordinals 77.3, attributes 87.9).
    "bestie can u snag the mug" and "ok tin man go get the mug" reached the model as "can the mug" (a shape
    word: "tin" is a can), "the big boi of the bunch", "the absolute unit of the cups" and "with the most
    size" lost the superlative, "out of the things get the one furthest from the cam" swapped its noun."""
    cases = {
        "bro can u snag the small red cube for me lol": "the small red cube",
        "ok tin man nab me the blue ball rn": "the blue ball",
        "ngl i want the cup thats the smol one of the bunch": "the smallest cup",
        "yo gimme the can thats the big guy of the group fr": "the largest can",
        "the absolute unit of the green boxes": "the largest green box",
        "the ball with the least size": "the smallest ball",
        "bestie get the chonkiest red mug": "the largest red mug",
        "out of all the cans gimme the smallest": "the smallest can",
        "of the things, get the one closest to the cam": "the thing closest to the camera",
    }
    _assert_reads_as(cases)


def test_shop_floor_jargon_set_ac():
    """Blind set AC (warehouse and pick-cell operators) on arrival (a363621): 88.8 % (ordinals 40.0). "LH of the
    box" and "second from RH" lost their side ("LH"/"RH" were unknown), "fwd of the box (camera side)" its
    relation, "outermost cup on the LH side" its extreme, "the largest unit among the cups" its noun, "skip the
    first two cups from the left, pick the next cup" read as the leftmost. Other fillings and wordings."""
    cases = {
        "pick the red ball RH of the can": "the red ball right of the can",
        "grab the cube to the LH side of the green box, over": "the cube left of the green box",
        "job 12: small mug third from RH": "the third small mug from the right",
        "counting balls from the RHS, take number two": "the second ball from the right",
        "next pick: can, fwd of the blue cube (camera side)": "the can in front of the blue cube",
        "next pick: ball, aft of the mug (away from camera)": "the ball behind the mug",
        "the box on my side of the large can": "the box in front of the large can",
        "the cube on the far side of the red ball": "the cube behind the red ball",
        "job 7: outermost blue cube on the RH side": "the rightmost blue cube",
        "next pick: smallest unit among the red boxes": "the smallest red box",
        "skip the first two cans from the right, pick the next can": "the third can from the right",
        "skip the leftmost ball and pick the next ball to its right": "the second ball from the left",
        "job 88: red cube #2 counting from right, count red cubes only": "the second red cube from the right",
    }
    _assert_reads_as(cases)


def test_telegraphic_keyword_input_set_ad():
    """Blind set AD (word tiles, keyword strings, hashtags) on arrival (a363621): 90.8 % (negations 81.6,
    ordinals 81.3). "#cube #3rdfromright", "#ball #notblue" and "#infrontof" lost what they said (run-together
    hashtags), "target cup / anchor box / target right of anchor" lost which was which, "cube nearer camera
    than box" and "cup / front of / box" their relation, "want. ball. far right one." its side."""
    cases = {
        "#cube #3rdfromright": "the third cube from the right",
        "#ball #notblue": "the ball that is not blue",
        "#smallcan #infrontof #redbox": "the small can in front of the red box",
        "target: green ball. anchor: mug. target left of anchor.": "the green ball left of the mug",
        "anchor red cube / target can / target behind anchor": "the can behind the red cube",
        "small cube nearer camera than ball": "the small cube in front of the ball",
        "cup / front of / green box": "the cup in front of the green box",
        "want. ball. far right one.": "the rightmost ball",
        "want. blue cube. closest one.": "the nearest blue cube",
        "red balls: right to left, 3rd": "the third red ball from the right",
    }
    _assert_reads_as(cases)
    # a hashtag that is not all model words is left to the other readers, not split into a wrong reading
    assert meaning("#mug #fragile") == meaning("the mug")


def test_clock_face_and_grid_positions_set_ae():
    """Blind set AE (positions told as to a blind or low-vision user: clock-face on the picture, columns, rows)
    on arrival (ec75836). "the cup at 9 o'clock from the box" lost its relation, "the cup between the box and
    the left edge of the picture" lost its anchor ("between" was dropped), and "the cup nearest the top edge of
    the image" read as the NEAREST cup (it is the farthest). 12 o'clock is the top of the picture (far)."""
    cases = {
        "the red ball at 3 o'clock from the mug": "the red ball right of the mug",
        "with 12 o'clock at the top of the picture, the can toward 12 o'clock of the cube": "the can behind the cube",
        "the small cube at 6 o'clock from the green ball": "the small cube in front of the green ball",
        "the box closest to 9 o'clock": "the leftmost box",
        "counting cans from the 3 o'clock side of the image, the third one": "the third can from the right",
        "the ball that lies between the red box and the right edge of the picture": "the ball right of the red box",
        "the can between the cube and the bottom edge of the image": "the can in front of the cube",
        "the cup nearest the top edge of the screen": "the farthest cup",
        "the cup that has no other cup to its right in the picture": "the rightmost cup",
        "the ball with no other ball above it in the picture": "the farthest ball",
        "scanning rows from the top of the image down, the first red cube you hit": "the farthest red cube",
        "line the blue balls up by column from the right; pick the 3rd": "the third blue ball from the right",
        "from the cube, move up the screen away from the camera; the ball there": "the ball behind the cube",
        "start at the mug, head toward the left edge of the picture; the can there": "the can left of the mug",
    }
    _assert_reads_as(cases)


def test_indirect_requests_set_af():
    """Blind set AF (wishes, hints, reasons, preferences; never a command) on arrival (ec75836). "... would be
    perfect right now" and "counting cups from the left, the second one would be great" lost their ordinal,
    "the cup in position two from the left" its place, "my dog likes big toys, so the biggest cup ..." gained
    "big", "the small cup won't work for me, so the cup that's a different size" read as the small cup."""
    cases = {
        "I could really use the blue can right about now.": "the blue can",
        "The ball in position three from the right would be ideal.": "the third ball from the right",
        "Counting cubes from the right, the second one would do nicely.": "the second cube from the right",
        "I'd rather have the box right after the leftmost box, going left to right.": "the second box from the left",
        "My cat loves small things, so the smallest ball is the one for her.": "the smallest ball",
        "The red cup won't work for me, so the cup that's a different colour would be perfect.":
            "the cup that is not red",
        "I'm sorting the shelf and the rightmost can should go first.": "the rightmost can",
        "Honestly the cube that's further to the right than every other cube would be great.": "the rightmost cube",
    }
    _assert_reads_as(cases)


def test_a_purpose_for_someone_else_is_not_a_can():
    """Found on the last read of this session: "I want the red cup, so the robot can wash it" reached the model as
    "the red cup the can" (the purpose's "can" read as a shape) when the purpose's subject was not a pronoun."""
    _assert_reads_as({
        "I want the red cup, so the robot can wash it": "the red cup",
        "grab the small box so the arm can stack it": "the small box",
        "the blue ball, so it can be sorted": "the blue ball",
    }, exact=True)
    assert normalize_words("the can so the robot can crush it", VOCAB) == ["the", "can"]


def test_destinations_of_manipulation_commands_set_ag():
    """Blind set AG (robot-learning dataset instructions, LIBERO / CALVIN / Open X style) on arrival (043368e):
    where the object goes was read as which object it is. "push the mug to the left" reached the model as "the
    mug to the left", "move the cup closer to the robot" as the nearest cup, "slide the second rightmost mug to
    the left" as "the second mug left of the right", and "the mug at the very back of the table" lost its
    place. A destination that names an object stays (it may pick the object: "move the cup to the left of the
    box"), and so does a location after a verb that only moves ("push the mug on the left side")."""
    cases = {
        "shove the yellow ball towards the right edge": "the yellow ball",
        "Move the green can closer to the robot.": "the green can",
        "drag the large cube 10 cm to the left": "the large cube",
        "nudge the small box a little further away": "the small box",
        "put the ball that isn't purple into the basket": "the ball that is not purple",
        "place the leftmost cylinder on the shelf": "the leftmost cylinder",
        "slide the third block from the right over to the left side of the table": "the third block from the right",
        "push the cup nearest to the camera to the right": "the nearest cup",
        "slide the box closest to the right edge of the table to the left": "the rightmost box",
        "move the sphere behind the red mug towards the camera": "the sphere behind the red mug",
        "lift the cube at the very front of the table": "the nearest cube",
        "grasp the brick on the far side of the table": "the farthest brick",
        "Put the can that is third from the left in the bin.": "the third can from the left",
        "Slide the ball that is bigger than all the other balls to the edge of the table.": "the largest ball",
        # kept: the destination may be a relation, and a mover's location is the object's own
        "move the cup to the left of the box": "the cup left of the box",
        "push the mug on the left side": "the leftmost mug",
        "pick up the mug to the left of the ball": "the mug left of the ball",
        "bring me the cube closest to you": "the nearest cube",
    }
    _assert_reads_as(cases)


def test_destination_needs_a_moving_verb_and_an_object():
    """Without a verb that moves something, or without an object before it, nothing is a destination: the
    generator's and the blind sets' own lines ("move down the screen toward the camera; the mug there") read
    as before."""
    from grounding_node.models.tabletop.destinations import strip_destination
    for text in ("the mug to the left", "the second cube from the left", "the ball closer to the camera",
                 "from the box, move down the screen toward the camera, the mug there",
                 "the cube in first place from the left", "push it left"):
        assert strip_destination(text) == text, text
    assert strip_destination("slide the mug to the left") == "slide the mug"
    assert strip_destination("put the blue box in the tray, thanks") == "put the blue box, thanks"
    # an object named as where to go, with no relation word, is only where to go
    assert strip_destination("roll the ball over to the red cup") == "roll the ball"
    assert strip_destination("push the cube towards the blue box") == "push the cube"
    assert strip_destination("move the cup to the left of the box") == "move the cup to the left of the box"


def test_formal_descriptions_set_ah():
    """Blind set AH (how a language model rephrases a request: formal, wordy, nominalised) on arrival
    (043368e) reached the model with its meaning in 101 of 152 lines: "that can be observed on the table" gave
    "the mug that can" (a shape), "the one that appears to be the leftmost one" lost "leftmost", "at a greater
    distance from the viewer than" and "whose position lies rightward relative to" lost the relation, "the
    second cube when the cubes are counted starting from the leftmost one" the ordinal, and "which does not
    possess a red coloration" the negation."""
    cases = {
        "Kindly identify the large ball that can be seen within the workspace.": "the large ball",
        "The element that can be characterized as the green cylinder.": "the green cylinder",
        "All of the items that can be categorized as blue boxes.": "all the blue boxes",
        "The brick which can be found further to the right than the white can.": "the brick right of the white can",
        "The sphere whose position lies leftward relative to the cup.": "the sphere left of the cup",
        "The block located at a greater distance from the observer than the mug.": "the block behind the mug",
        "The can that occupies a position nearer to the viewer than that of the ball.": "the can in front of the ball",
        "The cube that lies on the right side when compared with the position of the box.":
            "the cube right of the box",
        "The cylinder that appears to be the rightmost one.": "the rightmost cylinder",
        "The ball occupying the rearmost position among the balls.": "the farthest ball",
        "Locate the box with the smallest dimensions of all the boxes.": "the smallest box",
        "Which cup is sitting the furthest to the left among the cups on the table?": "the leftmost cup",
        "The third block when the blocks are counted starting from the rightmost one.":
            "the third block from the right",
        "Counting the red balls from right to left, the one that comes second.": "the second red ball from the right",
        "Please select the can whose placement is second in the left-to-right ordering of the cans.":
            "the second can from the left",
        "The cube which does not possess a yellow coloration.": "the cube that is not yellow",
        "The mug possessing a size that differs from large.": "the mug that is not large",
        "Of the objects present, the ball that is located rightward of the box.": "the ball right of the box",
    }
    _assert_reads_as(cases)


def test_learner_word_orders_set_ai():
    """Blind set AI (English typed by speakers of Chinese, Japanese, Korean and Russian) on arrival (917a52e):
    head-final and possessive chains put the anchor first and read as the target ("box's left side's cup" ->
    "box left cup"), a topic group said first became a plural request or lost its noun ("cups among, most left
    one" -> "the leftmost green"), "leftest" and "most near camera" lost the superlative, and "left from count,
    second cube" read as "left of second cube"."""
    cases = {
        "red ball's right side's can take": "the can right of the red ball",
        "small box left side the cube pick up": "the cube left of the small box",
        "green mug front side ball give me": "the ball in front of the green mug",
        "camera side of white can the block, grab": "the block in front of the white can",
        "between camera and yellow cube the mug please": "the mug in front of the yellow cube",
        "blue ball other side (far from camera) cup take": "the cup behind the blue ball",
        "the being-right-of-the-black can sphere": "the sphere right of the black can",
        "cylinders among, most right one pick up": "the rightmost cylinder",
        "leftest red block grab": "the leftmost red block",
        "in balls, the one most near to camera, give me": "the nearest ball",
        "all box of them, the most far one please": "the farthest box",
        "in all cans, size the most big, pick": "the largest can",
        "right from count, third mug pick up": "the third mug from the right",
        "the second one piece cube from left, grab": "the second cube from the left",
        "left side's second ball give me": "the second ball from the left",
        "cups, color is not green one, take that": "the cup that is not green",
        "large box, size is different from small, give me": "the large box that is not small",
        "please take sphere which is more near camera than all other spheres": "the nearest sphere",
        # English word order reads as before: the anchor after its relation, a restatement after a comma, a side
        # word after a plain noun (found on the last read: "the cube near the ball" became the ball in front of it)
        "the brick behind the cube": "the brick behind the cube",
        "the red cube near the blue mug": "the red cube",
        "the ball, but not the large one": "the ball that is not large",
        "could you take the left-most small ball?": "the leftmost small ball",
    }
    _assert_reads_as(cases)


def test_agent_narration_set_aj():
    """Blind set AJ (an LLM agent's first-person narration: ReAct traces, plans, records) on arrival (6532604):
    "Thought: ... Action: grasp" and "Okay, so the object I need is the ..." reached the model with the
    trace's words ("the object is the mug ..."), "Plan: 1) find the box 2) pick the cup to its left" lost its
    anchor (a plan numbered "1)" after a label), "target=mug; select=argmin(x)" and "sort=left_to_right;
    index=2" lost what picks the object, "constraint=color != red" asked for the red mug, and "Counting cups
    from my left: one, two. I'll grab that second one." lost its side."""
    cases = {
        "Thought: the user wants the small green can. Action: grasp": "the small green can",
        "Thought: among the balls, the user wants the smallest one. Action: grasp": "the smallest ball",
        "Okay, so the object I need is the cube that is second from the left.": "the second cube from the left",
        "My target is the red box.": "the red box",
        "I'll go for the yellow ball since that is what was asked.": "the yellow ball",
        "Plan: 1) locate the white mug 2) grab the block to its right": "the block right of the white mug",
        "Plan: 1) sort the cans from left to right 2) pick number three": "the third can from the left",
        "Plan: 1) find all the cubes 2) compare sizes 3) pick the smallest": "the smallest cube",
        "Plan: 1) find the balls 2) ignore the blue one 3) pick the one that is a different colour":
            "the ball that is not blue",
        "target=cylinder; select=argmax(x)": "the rightmost cylinder",
        "target=box; select=argmin(distance_to_camera)": "the nearest box",
        "target=ball; sort=right_to_left; index=2": "the second ball from the right",
        "target=cup; constraint=color != green": "the cup that is not green",
        "target=mug; constraint=size != large": "the mug that is not large",
        "Counting spheres from my right: one, two, three. I'll grab the third.": "the third sphere from the right",
        "Understood, I'll reach past the red can and pick up the ball behind it.": "the ball behind the red can",
        "Looking across the cubes, I'll grab the one at the extreme left.": "the leftmost cube",
        "I will now pick up all the small boxes, one at a time.": "all the small boxes",
        # a plan whose last step says "pick it up" keeps its anchor (blind set Y)
        "Find the red box. Which cube is on its left? That one; pick it up.": "the cube left of the red box",
    }
    _assert_reads_as(cases)


def test_a_relation_said_again_set_ak():
    """Blind set AK (replies to "Which one do you mean?") on arrival (6532604) read 150 of 152 lines; the two
    others said the relation again as a last sentence ("The cup in front of the box. In front of it."), and
    the last sentence alone was read: "in front of the box", with no object."""
    _assert_reads_as({
        "The ball behind the white cube. Behind it!": "the ball behind the white cube",
        "The can to the left of the mug. Left of it.": "the can left of the mug",
        "See the box. In front of it, the cup.": "the cup in front of the box",
    })


def test_clefts_and_focus_set_al():
    """Blind set AL (clefts, pseudo-clefts, fronting, existentials, focus) on arrival (902160d): "the thing to
    grab is the ..." and "the ones I'm after are ..." left their frame words beside the object, "the box - the
    cup to its left, that's the one" and "left of the box - that cup is the thing to grab" lost the relation,
    "there's a cup further left than all the other cups; that one" read as a relation to the cups, and "in
    second place from the right" lost its ordinal."""
    cases = {
        "The thing to take is the small red box.": "the small red box",
        "What I need is the blue can.": "the blue can",
        "It's the yellow cube that I want.": "the yellow cube",
        "The ones I'm after are all the green balls.": "all the green balls",
        "The white mug - the cylinder in front of it, that's the one.": "the cylinder in front of the white mug",
        "Right of the red ball - that cube is the thing to grab.": "the cube right of the red ball",
        "There's a can further right than all the other cans; that one.": "the rightmost can",
        "There's a box farther away from the camera than all the other boxes; that one.": "the farthest box",
        "The thing to grab is the ball in third place from the *left*.": "the third ball from the left",
        "All the red cups: that's what you should collect.": "all the red cups",
    }
    _assert_reads_as(cases)


def test_spelling_by_sound_set_am():
    """Blind set AM (phonetic and dyslexic spelling) on arrival (902160d): "ryte", "lefft", "seckund", "thurd",
    "neerist", "camra", "frum", "nott" were unknown words, dropped, so sides, ordinals and negations were
    lost ("the mug that is nott red" was the red mug), and "closer to the camra then the box" lost its "than".
    Words that are English are never respelled ("i need the red cube" keeps "need", not "not")."""
    cases = {
        "get the cube thats lefft frum the red ball": "the cube left of the red ball",
        "the can on the ryte side of the box plz": "the can right of the box",
        "grab the ball thats closer to the camra then the mug": "the ball in front of the mug",
        "the cup thats furthur awey from you then the cube": "the cup behind the cube",
        "pik up the seckund block from the riet": "the second block from the right",
        "the sphere thats thurd from the lefft": "the third sphere from the left",
        "counting frum the lef, the therd wun of the cans": "the third can from the left",
        "of all the boxes, get the wun neerist the camra": "the nearest box",
        "giv me the smollest ball": "the smallest ball",
        "the cylinder wich is the larjist wun": "the largest cylinder",
        "grab the mug that is nott yellow": "the mug that is not yellow",
        "get the cube exept the large wun": "the cube that is not large",
        "i nead the blue can": "the blue can",
    }
    _assert_reads_as(cases)


def test_european_learners_set_an():
    """Blind set AN (English of German, French, Spanish, Italian, Portuguese and Dutch speakers) on arrival
    (bbb21f7): "the more left cup" read as "the left cup", "more near of the camera (than)" lost its
    comparison, "nearer to the camera as the box" its anchor, "is not of colour red" and "has not the colour
    red" read as the red one, "what is for the box, on the camera side" (German "vor") lost the relation."""
    cases = {
        "take the more right ball": "the rightmost ball",
        "give me the cube which is the most on the left of all cubes": "the leftmost cube",
        "the can more near of the camera than the red box": "the can in front of the red box",
        "I want the cup who is farer from the camera as the ball": "the cup behind the ball",
        "catch the mug what is for the white cube, on the camera side": "the mug in front of the white cube",
        "take me the box which is after the green can, more far from the camera": "the box behind the green can",
        "I want the ball who is more near to the camera than all others balls": "the nearest ball",
        "pick the cylinder the more great": "the largest cylinder",
        "give me the smallest block of all blocks": "the smallest block",
        "the sphere which is not of colour blue": "the sphere that is not blue",
        "give me the cube that has not the colour yellow": "the cube that is not yellow",
        "give me the can in the right of the mug": "the can right of the mug",
        "you can pick up the purple ball please?": "the purple ball",
        # kept as before (blind set J): "more at left of all" is the leftmost
        "Pick mug that is more at left of all.": "the leftmost mug",
    }
    _assert_reads_as(cases)


def test_table_geometry_set_ao():
    """Blind set AO (positions told by the table's edges, ends and halves) on arrival (bbb21f7): "between the
    box and the front edge of the table" and "closer to the back edge than the box" lost the relation, "the
    mug closest to the back edge of the table" read as a relation to an edge, "at the left-hand end of the row
    of cups" and "the second cup along from the left end of the row" lost the side, "the next cup after the
    leftmost one" the ordinal, and "takes up the most room" the size."""
    cases = {
        "grab the ball that's between the red cube and the back edge of the table": "the ball behind the red cube",
        "take the can closer to the front edge than the box": "the can in front of the box",
        "lift the cube that's further right on the table than the mug": "the cube right of the mug",
        "get the cup on the left side of the ball, as seen from the front edge": "the cup left of the ball",
        "the box closest to the front edge of the table": "the nearest box",
        "of all the balls, take the one nearest the far edge": "the farthest ball",
        "pick up the can furthest over on the right side of the table": "the rightmost can",
        "grab the cube at the left-hand end of the row of cubes": "the leftmost cube",
        "get the third ball along from the right end of the row of balls": "the third ball from the right",
        "the mug second closest to the left edge of the table": "the second mug from the left",
        "grab the next block after the rightmost one": "the second block from the right",
        "grab the sphere two places after the leftmost one": "the third sphere from the left",
        "grab the cylinder that takes up the least room on the table": "the smallest cylinder",
    }
    _assert_reads_as(cases)


def test_vlm_grounding_prompts_set_aq():
    """Blind set AQ (prompts typed in the formats VLMs were trained on) on arrival (10f4710): "Find and output
    the bounding box of the red cube" reached the model with the shape "box" in it, "Please provide the bounding
    box coordinate of the region this sentence describes: ..." as "the box of the the the ...", "<ref>...</ref>",
    "[refer]" and "<grounding>" as words, 'Which object matches the description: "the smallest cube"?' as "the
    object", and "Counting the cubes from left to right, where is the second one?" and "the cube in position 2
    when the cubes are ordered from left to right" lost the ordinal."""
    cases = {
        "Find and output the bounding box of the blue ball that is to the left of the can.":
            "the blue ball left of the can",
        "Please provide the bounding box coordinate of the region this sentence describes: the cube nearer to the "
        "camera than the green mug.": "the cube in front of the green mug",
        "<ref>the rightmost yellow cylinder</ref>": "the rightmost yellow cylinder",
        "<|object_ref_start|>the small cup<|object_ref_end|>": "the small cup",
        "[refer] cube behind green ball": "the cube behind the green ball",
        "<grounding>the third sphere from the left": "the third sphere from the left",
        "<CAPTION_TO_PHRASE_GROUNDING>the orange can": "the orange can",
        'Which object matches the description: "the smallest block"?': "the smallest block",
        "Give me the box for: second cylinder from the right": "the second cylinder from the right",
        'Output JSON with the box of the "purple sphere", like {"bbox": [x1, y1, x2, y2]}.': "the purple sphere",
        "Output JSON with the bounding box of the ball located behind the cube.": "the ball behind the cube",
        "Locate the big ball and return its bounding box as [x_min, y_min, x_max, y_max].": "the big ball",
        "Where is the can that is in front of the mug? Answer with [x1, y1, x2, y2].": "the can in front of the mug",
        "Point to the white cube. Output the (x, y) pixel coordinate.": "the white cube",
        "Find every cylinder in the image and output their bounding boxes.": "all the cylinders",
        "Output JSON with a box for every instance of sphere.": "all the spheres",
        "Where are the green balls? Give the boxes for each one.": "all the green balls",
        "Which of the red things is nearest the camera? Answer with [x1, y1, x2, y2].": "the nearest red thing",
        "Counting the balls from left to right, where is the second one? Answer with [x1, y1, x2, y2].":
            "the second ball from the left",
        "Counting the cans from right to left, which is the third one?": "the third can from the right",
        "Counting the cubes from left to right, find the third one.": "the third cube from the left",
        "Output JSON with the box of the cylinder in position 2 when the cylinders are ordered from right to left.":
            "the second cylinder from the right",
        "Output JSON with the box of the cube that is any colour except green.": "the cube that is not green",
    }
    _assert_reads_as(cases)
    # a box in the request is the shape, not a frame
    _assert_reads_as({"find the box left of the mug": "the box left of the mug",
                      "the largest box of all the boxes": "the largest box",
                      "give me the box for the red cube": "the box for the red cube",
                      "pick up the cube and give me the box": "the cube and the box",
                      "the box, then report back": "the box"}, exact=True)


def test_speech_transcripts_set_ap():
    """Blind set AP (commands as a speech recogniser transcribes them) on arrival (10f4710): a correction said
    without a comma ("the leftmost no sorry the rightmost cup") reached the model with both words, "to the
    write no sorry to the left of" with both sides, "hey bot can you get me the cube" with the shape "can", and
    "i need the ball can you find it" with it too."""
    cases = {
        "the cylinder to the write no sorry to the left of the green box": "the cylinder left of the green box",
        "okay robot the ball to the left no wait to the right of the cube": "the ball right of the cube",
        "the can behind no sorry in front of the yellow mug": "the can in front of the yellow mug",
        "the sphere in front of no wait behind the small cube": "the sphere behind the small cube",
        "the left most no sorry the right most cylinder": "the rightmost cylinder",
        "the nearest um no the farthest block": "the farthest block",
        "the smallest no wait the biggest ball": "the largest ball",
        "the second box from the left no sorry from the right": "the second box from the right",
        "the third cup from the right oops from the left": "the third cup from the left",
        "the second scratch that the third sphere from the left": "the third sphere from the left",
        "hey bot can you uh can you get me the purple ball": "the purple ball",
        "i need the white cube can you find it": "the white cube",
        "i need the orange can could you grab that": "the orange can",
    }
    _assert_reads_as(cases)
    # a lone "no" or "sorry" is not a correction without its comma, and a can before "can you" stays
    _assert_reads_as({"the red can can you get it": "the red can",
                      "the mug left of the box no": "the mug left of the box"}, exact=True)


def test_requests_told_as_what_is_not_wanted_set_av():
    """Blind set AV (the ordinary middle: everyday requests from eight kinds of people) on arrival (267c56a):
    "I don't want the red mug, give me the other one" reached the model as "the red mug", the one object the
    speaker had refused ("not" before a verb was dropped with it). The same for "I don't want the red mug" alone,
    "don't give me ...", "... is not the one I want" and "I don't want the red mug, I want the blue one"."""
    cases = {
        "I don't want the green ball, give me the other one": "the ball that is not green",
        "I don't want the large cube": "the cube that is not large",
        "i dont want the yellow can give me the other one": "the can that is not yellow",
        "Sorry, I don't need the small cup, get the other one please": "the cup that is not small",
        "don't give me the orange box, the other one": "the box that is not orange",
        "Please don't pick up the white block. The other block.": "the block that is not white",
        "The purple sphere is not the one I want, give me the other one.": "the sphere that is not purple",
        "I don't want the blue one, give me the other cylinder": "the cylinder that is not blue",
        "I don't want the red mug, I want the blue one": "the blue mug",
        "don't grab the small ball, grab the large one instead": "the large ball",
    }
    _assert_reads_as(cases)


def test_a_rejection_with_no_reading_is_refused_not_grounded():
    """What the model cannot say ("any mug but the small red one") is refused with its reason: grounding the
    words would hand over the refused object."""
    for text in ["I don't want the mug", "I don't want the small red mug", "don't give me the cube left of the box"]:
        assert "not wanted" in read_phrase(text, VOCAB).refusal, text
    for text in ["I don't want the red mug", "i want the red mug", "the red mug"]:
        assert read_phrase(text, VOCAB).refusal == "", text


def test_camera_frames_and_axes_set_au():
    """Blind set AU (ROS engineers' camera optical and pixel frames) on arrival (267c56a): "the smallest u"
    reached the model as the SMALLEST mug, "the lowest column index" as the NEAREST, "the greatest depth" as the
    largest, "minimum x in the camera optical frame (+x = image right)" lost its extreme, "sort ... by x
    ascending and take index 1 (0-based)" its ordinal, "smaller z than the box" its relation, and "order the
    cups left to right and get the 3rd one" its ordinal."""
    cases = {
        "pick the ball with minimum x in the camera optical frame (+x = image right)": "the leftmost ball",
        "target is the cylinder with the smallest u in the image": "the leftmost cylinder",
        "the can with the lowest column index in the image, pick it up": "the leftmost can",
        "go for the cube with the highest column index in the image": "the rightmost cube",
        "argmax of x over all spheres in camera_optical (+x right), grab it": "the rightmost sphere",
        "argmin of z over the blocks in the optical frame (+z = away from the camera), grasp it": "the nearest block",
        "get the cup with the smallest depth value": "the nearest cup",
        "target is the ball with the greatest depth": "the farthest ball",
        "argmax of bounding-box volume over the cans, grasp it": "the largest can",
        "the box with the 2nd-lowest u in the image": "the second box from the left",
        "grasp the cube with the third-largest x in camera_optical (x pointing right in the image)":
            "the third cube from the right",
        "sort the balls by x ascending in the camera optical frame (+x = image right) and pick index 1 (0-based)":
            "the second ball from the left",
        "sort the cans by x descending (camera optical frame, +x right) and take index 2 (0-based)":
            "the third can from the right",
        "order the cubes left to right and get the 3rd one": "the third cube from the left",
        "pick the green ball with smaller z than the box in the optical frame (+z points away from the camera)":
            "the green ball in front of the box",
        "the mug that sits at smaller x than the can in the camera optical frame (+x is image right)":
            "the mug left of the can",
        "the cube whose pixel column index is greater than the ball's, grab it": "the cube right of the ball",
        "target is the cup with greater depth than the red box": "the cup behind the red box",
    }
    _assert_reads_as(cases)
    # x and z name the optical frame's axes only with a frame said (a base frame has x forward, z up)
    _assert_reads_as({"the cube with min z": "the cube with min z"}, exact=True)


def test_requests_padded_with_detail_set_at():
    """Blind set AT (requests padded with true but irrelevant detail) on arrival (267c56a): "you can't miss it"
    reached the model as the shape "can" (17 lines), "right now" as the side "right", "(the one I mentioned)"
    and "and be careful with it" as more words, "going left to right across the table" lost its count, "and I
    don't mean a small one" its negation, and "can you point to it?" gave a "can"."""
    cases = {
        "Could you pick up the yellow ball that's on the right of the box? You can't miss it.":
            "the yellow ball right of the box",
        "Hand me whichever cylinder is closest to the camera - you can't miss it.": "the nearest cylinder",
        "Could you grab the tiniest cube? It should be easy to spot.": "the smallest cube",
        "I'm looking for the orange sphere that's in the picture right now; can you point to it?": "the orange sphere",
        "Select the blue block, please - the one that's on the table right now; from where you are you should see "
        "it clearly.": "the blue block",
        "Please get the non-green can (the one I mentioned), and be careful with it.": "the can that is not green",
        "Going left to right across the table, hand me the third cube - you can't miss it.":
            "the third cube from the left",
        "Out of the balls currently on the table, take the one furthest to the right and lift it up.":
            "the rightmost ball",
        "Hand me the box, and I don't mean a large one; it should be easy to spot.": "the box that is not large",
        "Point to every single cylinder on the table right now, and don't miss any.": "all the cylinders",
    }
    _assert_reads_as(cases)
    # "right" after "the" or a superlative is still the side ("right now" lost it before this set, too)
    _assert_reads_as({"the cup on the right now": "the cup on the right",
                      "the mug furthest right now": "the rightmost mug",
                      "of the cans, slide the one furthest right away from the camera": "the rightmost can"})


def test_a_plural_with_its_exception_after_a_comma_stays_plural():
    """Noticed by a helper's review this session: "all the mugs, except the red one" reached the model as the
    ONE mug that is not red (a learner's topic-comment rule read the group as a topic), "apart from" too."""
    _assert_reads_as({"all the balls, except the green one": "all the balls except the green one",
                      "all the cubes, apart from the small ones": "all the cubes apart from the small ones",
                      "every can, other than the blue one": "every can other than the blue one"})


def test_other_first_languages_and_determiners_sets_aw_ax():
    """Blind sets AW (English of Hindi/Urdu, Arabic, Turkish, Swahili, Vietnamese, Malay, Persian, Bengali and
    Tagalog speakers) and AX (determiners and quantity words) on arrival (72a06aa): "left to the box" and "right
    side to box" lost the relation, "at front of", "closer to camera compare to the box", "this side of the box,
    towards camera" and "on other side of the box, away from camera" too; "on extreme left" and "most away from
    camera" lost the extreme; "can pick the mug or not?" gave the shape "can"; "the one green thing that's
    farthest left" reached the model as "the thing green thing"."""
    cases = {
        "The ball which is left to the green box, bring that.": "the ball left of the green box",
        "Take that cube, it is right side to small can.": "the cube right of the small can",
        "Pick the cylinder at front of the red mug.": "the cylinder in front of the red mug",
        "The cup closer to camera compare to blue box, take that.": "the cup in front of the blue box",
        "Which ball is this side of yellow cube, towards camera, that one pick.":
            "the ball in front of the yellow cube",
        "Which can is on other side of box, away from camera, pick that one.": "the can behind the box",
        "The sphere that on extreme left, pick it.": "the leftmost sphere",
        "The block most away from camera, please take.": "the farthest block",
        "Give me the cylinder that is at very front itself.": "the nearest cylinder",
        "Can pick the purple ball or not?": "the purple ball",
        "grab the one orange cube that's farthest left": "the leftmost orange cube",
        "get one small cup": "the small cup",
    }
    _assert_reads_as(cases)
    # "from left to right" is no relation, "the one on the left" keeps its one
    _assert_reads_as({"counting from left to right, the second cube": "the second cube from the left",
                      "the one on the left": "the thing on the left"})


def test_requests_asked_as_what_we_may_do():
    """Found on the last read of this session (and so at the session's starting code): "can we get the red cup"
    reached the model as "can the red cup" (the shape "can" beside the cup), and "so we can take the blue cube"
    as nothing at all (the purpose rule, meant for "... so I can check it" after a request, took the whole
    phrase)."""
    _assert_reads_as({
        "can we get the red cup": "the red cup",
        "may I grab the small box": "the small box",
        "do you think we can get the green ball": "the green ball",
        "so we can take the blue cube": "the blue cube",
        "shall we pick the leftmost mug": "the leftmost mug",
        "pick up the cup so I can check it": "the cup",
    }, exact=True)
    assert normalize_words("can we get the can", VOCAB) == ["the", "can"]


def test_what_you_can_see_is_not_a_can():
    """Found on the last read of this session (at the session's starting code too): "the box you can see on the
    right" reached the model as "the box can furthest to the right", and "the object you can grab most easily" as
    "the can": seeing or reaching is not a property, and its "can" is no shape."""
    _assert_reads_as({
        "the box you can see on the right": "the rightmost box",
        "the mug that you can see near the camera": "the nearest mug",
        "the red ball I can reach": "the red ball",
        "the can you can see": "the can",
    })
    assert normalize_words("the object you can grab most easily", VOCAB) == ["the", "object"]
