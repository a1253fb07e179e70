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
