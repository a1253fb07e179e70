"""Referent selection: which boxes of a generative model's answer are the *phrase's* boxes.

A generative family may ground more than the queried object. Florence-2's caption grounding boxes every
noun phrase of its text ("A green car parked in front of a yellow building" -> 'A green car' and
'a yellow building'); Kosmos-2 continues the prompt and grounds later phrases ("... warming himself
by<phrase> a fire</phrase>"); a relational query ("the mug next to the laptop") names context objects
that the model may box as well. **The rule**: a phrase's results are the boxes of its *referent*, the
head noun phrase it starts with; boxes of the other noun phrases are context and are dropped.

- The query's head is its words up to the first relation word (`of`, `on`, `next`, `left`, `behind`,
  `with`, `that`, ...; see `RELATION_WORDS`) that follows at least one other word. "the red box left of
  the blue cup" -> head "red box"; "a green car parked in front of a yellow building" -> "green car parked".
- A box's label is located in the query: the whole label as a contiguous run of the query's words if it
  occurs so, else its first word that occurs in the query. Inside the head -> referent; after it ->
  context; nowhere in the query -> unknown (a paraphrase).
- An unlabelled box is the referent: it answers the prompt itself (Kosmos-2's first `<object>` right
  after the prompt's `</phrase>`, Qwen2-VL's bare `<|box_start|>`).
- Result: the referent boxes; when there are none, the unknown ones (the model paraphrased the
  phrase), except for families whose prompt fixes the referent (Kosmos-2: `strict`), where a label
  the query does not contain is a continuation, never the referent.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Sequence

REFERENT, CONTEXT, UNKNOWN = "referent", "context", "unknown"

RELATION_WORDS = frozenset("""
of on in at to by near next beside besides behind under underneath below beneath above over left right front
back between with without inside outside into onto from that which who whose where holding containing
nearest closest farthest furthest across against along around among atop than for
""".split())

_ARTICLES = frozenset(("a", "an", "the"))


def _stem(word: str) -> str:
    if len(word) > 3 and word.endswith("es") and word[:-2].endswith(("x", "ch", "sh", "ss")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def words(text: str) -> List[str]:
    """Lower-case word stems of `text`, articles and punctuation dropped."""
    return [_stem(w) for w in re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split() if w not in _ARTICLES]


def head_length(query_words: Sequence[str]) -> int:
    """Number of leading words of the query that form its head noun phrase."""
    seen_other = False
    for i, w in enumerate(query_words):
        if w in RELATION_WORDS:
            if seen_other:
                return i
        else:
            seen_other = True
    return len(query_words)


def is_single_noun_phrase(phrase: str) -> bool:
    """True when the phrase has no relation after its head ("red mug", "the left cup"): nothing but
    the referent to ground, so a family's detection-style task can be used (Florence-2 open vocabulary)."""
    w = words(phrase)
    return head_length(w) == len(w)


def role(label: str, phrase: str) -> str:
    """REFERENT, CONTEXT or UNKNOWN for a box labelled `label` in the answer to `phrase`."""
    lw, qw = words(label), words(phrase)
    if not lw:
        return REFERENT
    head = head_length(qw)
    n = len(lw)
    for start in range(len(qw) - n + 1):
        if qw[start:start + n] == lw:
            return REFERENT if start < head else CONTEXT
    for w in lw:
        if w in qw:
            return REFERENT if qw.index(w) < head else CONTEXT
    return UNKNOWN


def select_referent(boxes: Iterable, phrase: str, strict: bool = False) -> list:
    """The boxes (anything with a `.label`) that belong to `phrase`'s referent, in their order."""
    boxes = list(boxes)
    roles = [role(b.label, phrase) for b in boxes]
    referent = [b for b, r in zip(boxes, roles) if r == REFERENT]
    if referent or strict:
        return referent
    return [b for b, r in zip(boxes, roles) if r == UNKNOWN]
