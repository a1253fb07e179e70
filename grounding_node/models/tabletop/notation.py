"""What symbols, shorthand and tags say, read before the normaliser strips punctuation.

People type requests with notation as well as words: arrows ("#2 (L→R)", "furthest ←", "→ gripper"), maths
("color ≠ red", "¬red", "∀ cup"), shorthand ("w/o", "@ far L", "dist-to-cam < box's", "size = max"), emoji
("the 🟥 mug"), accents from a dead key ("réd"), and speech's tag questions ("the leftmost cup, right?").
Stripped as punctuation they lose what matters: "≠" left "the mug red" (the opposite), "(R→L)" lost its side,
", right?" after "the leftmost cup" added a side. A blind set of such lines (test/phrasings/blind_u.tsv)
reached the model with its meaning in 88 of 152 lines when it arrived.

Each function here turns its notation into the words the normaliser already reads ("counting from the left",
"closest to the camera", "not"), so the rules that read those words stay the one place that knows them.
"""

from __future__ import annotations

import re
import unicodedata

from grounding_node.models.tabletop.canonical import COLORS, SIZES

# Symbols that name what a word would: a colour square or disc, a cup of coffee, a tin, a parcel, a ball, an
# ice cube. Before, "the 🟥 mug" reached the model as "the mug" (any mug) with no warning. Other emoji (faces,
# hands, hearts) are tone, dropped with the punctuation like "please".
_SYMBOL_WORDS = {
    **dict.fromkeys("🟥🔴", "red"), **dict.fromkeys("🟩🟢", "green"), **dict.fromkeys("🟦🔵", "blue"),
    **dict.fromkeys("🟨🟡", "yellow"), **dict.fromkeys("🟧🟠", "orange"), **dict.fromkeys("🟪🟣", "purple"),
    **dict.fromkeys("⬜⚪", "white"), **dict.fromkeys("⬛⚫", "black"), **dict.fromkeys("🟫🟤", "brown"),
    "☕": "mug", "🥫": "can", "📦": "box", "🧱": "brick", "🧊": "cube",
    **dict.fromkeys("⚽🏀🏐⚾🎾🎱", "ball"),
}
_SYMBOL_RE = re.compile("(" + "|".join(map(re.escape, _SYMBOL_WORDS)) + r")(?:\s*\1)*")
_SYMBOL_PLURALS = {"mug": "mugs", "can": "cans", "box": "boxes", "brick": "bricks", "cube": "cubes", "ball": "balls"}
_BEFORE_PLURAL = re.compile(r"\b(?:all|both|every one)(?: of)?(?: the)?(?: [^\W\d_]+){0,2} ?$", re.IGNORECASE)
# a shape symbol names the object only where a noun goes ("the 📦", "a small ☕"); "... pls 📦" is decoration
_BEFORE_NOUN = re.compile(rf"(?:\b(?:the|a|an|every|each|all|any|that|this|those|these|my|your|of|"
                          rf"{'|'.join(COLORS + SIZES)})|[≠¬∀:])\s*$", re.IGNORECASE)


def plain_letters(text: str) -> str:
    """Letters without their accents ("réd" typed with a dead key is red), and symbols that name a word as
    that word, once however often repeated ("🟩🟩"); a shape symbol after "all the" is its plural."""
    if text.isascii():
        return text

    def word(m: re.Match) -> str:
        w = _SYMBOL_WORDS[m.group(1)]
        if w in _SYMBOL_PLURALS:
            if not _BEFORE_NOUN.search(m.string, 0, m.start()):
                return " "
            if _BEFORE_PLURAL.search(m.string, 0, m.start()):
                w = _SYMBOL_PLURALS[w]
        return f" {w} "

    t = _SYMBOL_RE.sub(word, text)
    return "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))


_TO_RIGHT = r"(?:→|⟶|➡\ufe0f?|➔|-+>|=>)"
_TO_LEFT = r"(?:←|⟵|⬅\ufe0f?|<-+|<=)"
_L = r"(?:l|left)"
_R = r"(?:r|right)"
_CAM = r"(?:the )?cam(?:era)?"
_DIST = rf"(?:dist(?:ance)?)(?:[\s\-]*(?:to|from)[\s\-]*{_CAM})?"
_MIN = r"(?:min(?:imum)?|shortest|smallest|least|lowest)"
_MAX = r"(?:max(?:imum)?|longest|largest|greatest|biggest|highest)"
_SIZE = r"(?:size|volume)"
_BIG = r"(?:big|large)\w*"
_SMALL = r"(?:small|little|tiny)\w*"
_FIRST_BY = r"(?:#|no\.? ?|number )?1(?:st)? ((?:[a-z]+ ){0,3}?)by "
# the tags speech adds to a request ("..., right?", "..., yeah?"): a question mark after a comma'd word says
# it is a tag, so ", right?" after "the leftmost cup" is not a side
_TAG_RE = re.compile(r",\s*(?:right|yeah|yes|yep|yup|okay|ok|alright|all right|correct|eh|innit|no|got it|"
                     r"understood|ya|yah|yeh|you know|ja)\s*\?+", re.IGNORECASE)

# What machine-written text wraps a request in (blind set X): markdown code and bold ("hand me the `red mug`":
# the backticks made "'red" and "mug'" unknown words and the phrase was refused), quote marks ("> ..."),
# chat speaker labels and log stamps ("[12:03:44] op:", "User:", "INFO"), and "(as seen by the camera)", whose
# "by the camera" read as the nearest
_MARKUP = [(re.compile(p, re.IGNORECASE), r) for p, r in [
    (r"`+([^`]*)`+", r" \1 "), (r"\*\*|__", " "), (r"(?<![\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])", r"\1"),
    (r"^\s*(?:>\s*)+", ""),
    (r"\[\s*(?:\d{4}-\d\d-\d\d[ t]?)?\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?\s*\]|\b\d{4}-\d\d-\d\d[ t]\d\d:\d\d(?::\d\d)?"
     r"(?:[.,]\d+)?z?", " "),
    (r"^\s*(?-i:INFO|DEBUG|NOTICE|WARN(?:ING)?|TRACE)\b\s*:?\s*", ""),   # upper case: "notice the ball" is speech
    (r"^\s*(?:user|operator|op|human|customer|client|me|tech(?:nician)?|supervisor|engineer|lead)\s*:\s*", ""),
]]

_NOTATION = [(re.compile(p, re.IGNORECASE), r) for p, r in [
    (r",? ?\(? ?\b(?:as )?(?:seen|viewed) (?:by|from|in|through) (?:the )?camera(?:'s (?:view|point of view))?\b ?\)?",
     " "),   # whitespace is one space here (read_notation)
    # counting directions: "(L→R)", "left to right", "go right to left and take ..."
    (rf"\(\s*{_L}\s*{_TO_RIGHT}\s*{_R}\s*(?:,[^)]*)?\)|\b{_L}\s*{_TO_RIGHT}\s*{_R}\b|"
     rf"\b(?:(?:go|going|count|counting|reading|read|working|work)(?: from)? )?left to right\b",
     " counting from the left, "),
    (rf"\(\s*{_R}\s*{_TO_LEFT}?{_TO_RIGHT}?\s*{_L}\s*(?:,[^)]*)?\)|\b{_R}\s*(?:{_TO_RIGHT}|{_TO_LEFT})\s*{_L}\b|"
     rf"\b(?:(?:go|going|count|counting|reading|read|working|work)(?: from)? )?right to left\b",
     " counting from the right, "),
    (rf"\((?:\s*{_R}\s*{_TO_LEFT}\s*{_L}|\s*{_L}\s*{_TO_LEFT}\s*{_R})\s*\)", " "),   # "(R←L)": ambiguous, dropped
    # ranks by a measure: "#1 by size (big→small)", "#1 by distance from cam", "last by distance"
    (rf"{_FIRST_BY}{_SIZE}\s*\(\s*{_BIG}\s*{_TO_RIGHT}\s*{_SMALL}\s*\)", r" largest \1"),
    (rf"{_FIRST_BY}{_SIZE}\s*\(\s*{_SMALL}\s*{_TO_RIGHT}\s*{_BIG}\s*\)", r" smallest \1"),
    (rf"{_FIRST_BY}{_DIST}(?:\s*\(\s*(?:near|close)\w*\s*{_TO_RIGHT}\s*far\w*\s*\))?",
     r" \1 closest to the camera "),
    (rf"\blast ((?:[a-z]+ ){{0,3}}?)by {_DIST}", r" \1 furthest from the camera "),
    # a measure at its extreme: "w/ min dist to camera", "size = max", "w/ the least size"
    (rf"(?:\b(?:w/|with|having|of) )?(?:the )?{_MIN} {_DIST}\b|\b{_DIST}\s*(?:==?|:)\s*{_MIN}\b",
     " closest to the camera "),
    (rf"(?:\b(?:w/|with|having|of) )?(?:the )?{_MAX} {_DIST}\b|\b{_DIST}\s*(?:==?|:)\s*{_MAX}\b",
     " furthest from the camera "),
    (rf"(?:\b(?:w/|with|having|of) )?(?:the )?{_MAX} {_SIZE}\b|\b{_SIZE}\s*(?:==?|:)\s*{_MAX}\b", " largest "),
    (rf"(?:\b(?:w/|with|having|of) )?(?:the )?{_MIN} {_SIZE}\b|\b{_SIZE}\s*(?:==?|:)\s*{_MIN}\b", " smallest "),
    # a comparison of distances: "dist-to-cam < box's"
    (rf"(?:\b(?:w/|with) )?(?:the )?\b{_DIST}\s*(?:<|less than|smaller than|shorter than)\s*(?:that of )?",
     " closer to the camera than "),
    (rf"(?:\b(?:w/|with) )?(?:the )?\b{_DIST}\s*(?:>|more than|greater than|longer than|larger than)\s*(?:that of )?",
     " further from the camera than "),
    # directions as arrows and letters: "furthest ←", "@ far L", "from R", "on its R"
    (rf"\b(furthest|farthest|far|most|to the)\s*{_TO_LEFT}", r" \1 left "),
    (rf"\b(furthest|farthest|far|most|to the)\s*{_TO_RIGHT}(?!\s*(?:pick|grab|take|get|gripper|the gripper|do it))",
     r" \1 right "),
    (r"(?-i:\bL of\b)", " left of "), (r"(?-i:\bR of\b)", " right of "),
    (r"\b(from(?: the)?|far|its|on the|to the|starting|start)\s+L\b(?!['\w])", r" \1 left "),
    (r"\b(from(?: the)?|far|its|on the|to the|starting|start)\s+R\b(?!['\w])", r" \1 right "),
    # an arrow to the action: "{s} #2 → pick", "→ gripper"
    (rf"\s*{_TO_RIGHT}\s*(?:pick(?: it)?(?: up)?|grab(?: it)?|take(?: it)?|get(?: it)?|(?:the )?gripper|do it|"
     r"go|execute|robot)\b", ", "),
    (rf"{_TO_RIGHT}|{_TO_LEFT}", " "),
    # sides and places: "@ near side of", "@ very front", "pos: front of"
    (r"\bnear side of\b", " in front of "), (r"\bfar side of\b", " behind "),
    (r"\bpos(?:ition)?\s*[:=]\s*(?:in )?front of\b", " in front of "),
    (r"\bpos(?:ition)?\s*[:=]\s*(?=behind|left of|right of)", " "),
    # shorthand and maths
    (r"\bw/o\b", " without "), (r"\bw/(?=\s|\w)", " with "), (r"≠|=/=|<>", " != "), (r"¬\s*", " not "),
    (r"∀\s*([^:,]+?)\s*:", r" every \1, "), (r"∀\s*", " every "),
    (r"(?:\s|^)@\s*(?=(?:very|far|near|back|front|rear|left|right|top|bottom)\b)", " at the "),
    (r"\s@\s*|^@\s*", " at "), (r"\s&\s", " and "),
    (r"\bpos\.?\s*(?=#?\d)", " position "), (r"\bidx\.?\s*(?=#?\d)", " index "), (r"#\s*(?=\d)", " number "),
]]


def read_notation(text: str) -> str:
    """`text` with its tags, arrows, maths and shorthand said in words; plain text passes unchanged."""
    # whitespace runs as one space, before and after the markup goes: patterns with "\s*" on both sides of an
    # optional token took seconds on 1000 characters of "*" (cubic backtracking over the spaces left)
    t = _TAG_RE.sub(".", re.sub(r"\s+", " ", text))   # a tag ends its sentence ("See the box, got it? ...")
    for pat, rep in _MARKUP:
        t = pat.sub(rep, t)
    t = re.sub(r"\s+", " ", t)
    for pat, rep in _NOTATION:
        t = pat.sub(rep, t)
    t = re.sub(r"\s+", " ", t).strip()
    return t if t != re.sub(r"\s+", " ", text).strip() else text
