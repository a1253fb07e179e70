"""Command parsing and sanitising (bad inputs: empty, whitespace, too long, control chars, non-UTF-8)."""

from grounding_node.grounding.command import parse_command


def test_phrases_split_on_semicolons_and_newlines_in_order():
    parsed = parse_command("the red mug; all blue objects\nthe ball left of the box;;  ")
    assert parsed.phrases == ["the red mug", "all blue objects", "the ball left of the box"]
    assert parsed.warnings == []


def test_empty_and_whitespace_commands_have_no_phrases():
    assert parse_command("").is_empty
    assert parse_command("  \t \n ; ;").is_empty


def test_long_command_truncated_with_warning():
    parsed = parse_command("red mug; " + "x" * 2000, max_length=1000)
    assert len(parsed.text) <= 1000
    assert parsed.phrases[0] == "red mug"
    assert any("truncated" in w for w in parsed.warnings)


def test_control_characters_removed_with_warning():
    parsed = parse_command("red\x00 mug\x1b[31m; blue\x07 box")
    assert parsed.phrases == ["red mug [31m", "blue box"]
    assert any("control" in w for w in parsed.warnings)


def test_non_utf8_bytes_replaced_with_warning():
    parsed = parse_command(b"red \xff\xfe mug")
    assert parsed.phrases == ["red \ufffd\ufffd mug"]
    assert any("UTF-8" in w for w in parsed.warnings)


def test_unicode_text_kept():
    assert parse_command("la tasse rouge; 赤いマグ").phrases == ["la tasse rouge", "赤いマグ"]


def test_a_planners_record_split_by_semicolons_stays_one_phrase():
    """LLM planners write records with ";" between fields ("object=mug; exclude_color=red"). Split there, the
    negation became a phrase of its own and the mug any mug (blind set G, test/phrasings/blind_g.tsv)."""
    assert parse_command("object=mug; exclude_color=red").phrases == ["object=mug; exclude_color=red"]
    assert parse_command("target: cup; relation: closer_to_camera_than; anchor: box").phrases == [
        "target: cup; relation: closer_to_camera_than; anchor: box"]
    assert parse_command("(pick cup) ; constraint: (left-of cup box)").phrases == [
        "(pick cup); constraint: (left-of cup box)"]
    assert parse_command("(pick ?obj) ; ?obj = the cup furthest to the left").phrases == [
        "(pick ?obj); ?obj = the cup furthest to the left"]
    # a field that names another object starts a new phrase, and so does anything that is not a field
    assert parse_command("object: mug; object: box").phrases == ["object: mug", "object: box"]
    assert parse_command("target: mug; the blue box").phrases == ["target: mug", "the blue box"]
    assert parse_command("red mug; color: blue").phrases == ["red mug", "color: blue"]
    assert parse_command("object=mug\nexclude_color=red").phrases == ["object=mug; exclude_color=red"]
    assert parse_command("the red mug; the blue box").phrases == ["the red mug", "the blue box"]


def test_a_tab_is_whitespace_not_a_control_character():
    """An adversarial script: a tab inside a command was reported as "1 control character(s) removed"."""
    parsed = parse_command("red\tmug;\tblue box\t")
    assert parsed.phrases == ["red mug", "blue box"] and parsed.warnings == []


def test_a_sequence_of_objects_is_one_phrase_per_object():
    """"the cup, then the ball" reached the model as one phrase naming two objects (the tabletop model read
    "the cup the ball" and grounded one of them, or neither). A planner's sequence is split into its
    requests, in order, and the split is reported."""
    cases = {
        "the cup, then the ball": ["the cup", "the ball"],
        "pick up the red mug and then the blue box": ["pick up the red mug", "the blue box"],
        "first the red cup, then grab the blue ball, then the green cube":
            ["first the red cup", "grab the blue ball", "the green cube"],
        "the cube then a ball": ["the cube", "a ball"],
    }
    for text, phrases in cases.items():
        parsed = parse_command(text)
        assert parsed.phrases == phrases, text
        assert any("split" in w for w in parsed.warnings), parsed.warnings
    # not a sequence: "then" typed for "than", an action on the same object, a time
    for text in ["the cup closer then the box", "the mug nearer then the ball", "pick up the cup then put it down",
                 "pick up the cup, then place it in the bin", "and then", "then the ball"]:
        assert parse_command(text).phrases == [text], text


def test_a_then_that_names_no_new_object_continues_its_phrase():
    """Found with blind set AR (counting as you walk): "moving from the left, skip the first cube, then take the
    next one" was split into "moving from the left, skip the first cube" and "take the next one", two requests
    for the one object the whole phrase counts to (the second cube). A "then" part whose head is "one",
    "next" or "other" refers back; it names no object of its own."""
    for text in ["moving from the left, skip the first cube, then take the next one",
                 "skip the leftmost mug and then the next one",
                 "ignore the red ball, then grab the other one",
                 "start at the right, pass two cans, then the following one"]:
        assert parse_command(text).phrases == [text], text
    assert parse_command("the cup, then the next one").phrases == ["the cup, then the next one"]
    # a new object after "then" still splits, also after "one"
    assert parse_command("the red one, then the blue ball").phrases == ["the red one", "the blue ball"]
    assert parse_command("the cube, then the one after it").phrases == ["the cube, then the one after it"]


def test_a_replacement_character_sent_as_text_is_not_called_bad_bytes():
    """An adversarial script: a literal U+FFFD in valid UTF-8 was reported as "bytes that are not UTF-8"."""
    parsed = parse_command("red \ufffd mug".encode("utf-8"))
    assert parsed.phrases == ["red \ufffd mug"]
    assert not any("not UTF-8" in w for w in parsed.warnings) and any("U+FFFD" in w for w in parsed.warnings)


def test_a_noun_ending_in_er_still_splits_a_sequence():
    """Found on re-reading: "then" after any word ending in "er" was taken for "than" after a comparison, so
    "the marker, then the cup" stayed one phrase. Only a comparative keeps it."""
    assert parse_command("the marker, then the cup").phrases == ["the marker", "the cup"]
    assert parse_command("the red container then the blue stapler").phrases == ["the red container",
                                                                               "the blue stapler"]
    for text in ["the cup closer then the box", "the mug further then the ball", "the cup more then the box"]:
        assert parse_command(text).phrases == [text], text
