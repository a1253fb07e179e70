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
