"""One `Family` record per model family: everything the code knows about how a family talks.

A record holds the prompt builder, the answer parser, the batching (all phrases in one request, or one
request per phrase), the referent rule, the default score threshold (with its source), the box-as-text
formatter (the parser's inverse: the target text fine-tuning trains on), and what a remote server
needs (extra request fields, the client-side resize). The local backends, `remote` and fine-tuning all
read the same record, so they cannot disagree.

Each family's record lives in its own module next to its backend class, which lists it in
`families`; `get_family` finds records through the registry's backend table. Adding a family is one
module, one registry line and its tiny-checkpoint builder (README, "Adding a family").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection
from grounding_node.models.parsers import Box, ParsedBox, Size, assign_to_phrases
from grounding_node.models.referent import select_referent

Parser = Callable[[str, Optional[Size]], List[ParsedBox]]
Formatter = Callable[[str, Box, Optional[Size]], str]


@dataclass(frozen=True)
class Family:
    """What one model family needs, in one place. Detector families (no text answers) leave the
    text fields empty and carry only their threshold."""

    name: str
    default_score_threshold: float
    threshold_source: str                                  # where the default comes from (docs table)
    prompt: Optional[Callable[[Sequence[str]], str]] = None  # the phrases of one request -> prompt text
    parse: Optional[Parser] = None                         # answer text (+ model input size) -> boxes
    format_box: Optional[Formatter] = None                 # (label, box_1024, input size) -> answer text
    join_answer: Callable[[List[str]], str] = "".join      # formatted boxes -> one answer
    per_phrase: bool = False                               # batching: one request per phrase
    strict_referent: bool = False                          # the prompt fixes the referent (Kosmos-2)
    remote_body: Mapping[str, Any] = field(default_factory=dict)  # extra chat-completions fields
    resize_factor: int = 0                                 # >0: remote resizes to Qwen's grid first
    aliases: Tuple[str, ...] = ()

    @property
    def generative(self) -> bool:
        return self.parse is not None

    def requests(self, phrases: Sequence[str]) -> List[Tuple[List[int], str]]:
        """(phrase indices, prompt) per model request: all phrases at once, or one per phrase."""
        if self.prompt is None:
            raise ValueError(f"family '{self.name}' is not prompted with text")
        if self.per_phrase:
            return [([i], self.prompt([p])) for i, p in enumerate(phrases)]
        return [(list(range(len(phrases))), self.prompt(list(phrases)))] if phrases else []

    def format_answer(self, items: Sequence[Tuple[str, Box]], input_size: Optional[Size] = None) -> str:
        """[(label, box_1024)] -> the answer text this family's model writes (parse(format_answer(x)) ~ x)."""
        if self.format_box is None:
            raise ValueError(f"family '{self.name}' does not write boxes as text")
        return self.join_answer([self.format_box(label, box, input_size) for label, box in items])

    def group(self, parsed: Sequence[ParsedBox], phrases: Sequence[str],
              indices: Sequence[int]) -> Dict[int, List[ParsedBox]]:
        """The boxes of one answer per asked phrase (`indices` into `phrases`), referents only.

        One phrase asked: every box is a candidate for it. Several: labels are matched back to the
        phrases first. Then `referent.select_referent` keeps the phrase's referent's boxes.
        """
        if len(indices) == 1:
            groups = {indices[0]: list(parsed)}
        else:
            matched = assign_to_phrases(parsed, [phrases[i] for i in indices])
            groups = {i: g for i, g in zip(indices, matched)}
        return {i: select_referent(g, phrases[i], strict=self.strict_referent) for i, g in groups.items()}


def detections_from_answer(family: Family, text: str, spans: Optional[Sequence[Tuple[int, int]]],
                           probs: Optional[np.ndarray], phrases: Sequence[str], indices: Sequence[int],
                           input_size: Optional[Size] = None, default_score: float = 1.0,
                           result: Optional[List[List[Detection]]] = None) -> List[List[Detection]]:
    """Parse one answer, keep each asked phrase's referent boxes and score them: the mean probability of
    the tokens that encode a box (`spans`, `probs`), or `default_score` without token probabilities.
    Fills (and returns) `result`, one sorted list per phrase of `phrases`."""
    from grounding_node.models.hf import span_score

    if result is None:
        result = [[] for _ in phrases]
    for index, boxes in family.group(family.parse(text, input_size), phrases, indices).items():
        dets = [Detection(b.box_1024, span_score(spans, probs, b.span) if spans is not None else default_score)
                for b in boxes]
        result[index] = sorted(result[index] + dets, key=lambda d: -d.score)
    return result


def all_families() -> Dict[str, Family]:
    """Every built-in family record by name and alias (found through the registry's backend table)."""
    from grounding_node.models.registry import BUILTIN_BACKENDS, resolve_backend_class

    found: Dict[str, Family] = {}
    for backend in BUILTIN_BACKENDS:
        for fam in getattr(resolve_backend_class(backend), "families", ()):
            for key in (fam.name,) + tuple(fam.aliases):
                found.setdefault(key, fam)
    return found


def text_families() -> List[str]:
    """Names of the families that answer in text (what `remote` can serve)."""
    return sorted({f.name for f in all_families().values() if f.generative})


def get_family(name: str) -> Family:
    """The record called `name` (or an alias); ValueError naming the known ones otherwise."""
    families = all_families()
    if name not in families:
        raise ValueError(f"unknown family '{name}'; known: {', '.join(sorted({f.name for f in families.values()}))}")
    return families[name]


AUTO = "auto"


def parse_threshold(value: Any) -> Optional[float]:
    """A `score_threshold` setting -> None for `auto` (None, '' or 'auto', any case), else a finite float."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", AUTO)):
        return None
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"score_threshold must be a finite number or 'auto', got {value!r}")
    return number


def resolve_threshold(value: Any, backend: Any) -> float:
    """A `score_threshold` setting -> the number to filter with: None, '' or 'auto' (any case) mean the
    backend's family default (`backend.default_score_threshold`); a number (or numeric string) wins."""
    number = parse_threshold(value)
    if number is None:
        return float(getattr(backend, "default_score_threshold", DEFAULT_SCORE_THRESHOLD))
    return number


#: For backends with no family record (plug-ins, test backends): the old single default.
DEFAULT_SCORE_THRESHOLD = 0.3
