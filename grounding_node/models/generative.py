"""Base class of the transformers backends that write boxes as text (Florence-2, PaliGemma, Qwen-VL, Kosmos-2).

A family subclass supplies its `Family` record (prompt, parser, batching, referent rule: `family`) and
`model_inputs(image, prompt)`, its processor call; loading, the request loop, greedy generation with
per-token probabilities, trimming, parsing and scoring live here (see `hf` for the score).
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.hf import (
    Generation,
    detections_from_text,
    generate_scored,
    load_model,
    move_inputs,
    pretrained_kwargs,
    to_pil,
    trim_at_end,
)


class GenerativeBackend(GroundingBackend):
    """Load once (processor + model, eval, inference mode); generate greedily with token probabilities.

    `logits_processors` is a public hook: constrained decoding on a robot, or a scripted answer in
    tests, goes through the real `generate()` without touching the model.
    """

    default_model: str = ""
    model_class: str = "AutoModelForImageTextToText"

    def load(self) -> None:
        import transformers

        self.model_name = self.config.model or self.default_model
        self.processor = self.load_processor()
        self.model, self.device, self.dtype = load_model(getattr(transformers, self.model_class), self.config,
                                                         self.default_model)
        self.tokenizer = self.processor.tokenizer
        self.max_new_tokens = int(self.config.extra.get("max_new_tokens", 256))
        self.logits_processors: List[Any] = []

    def load_processor(self):
        from transformers import AutoProcessor

        return AutoProcessor.from_pretrained(self.model_name, **pretrained_kwargs(self.config))

    def generate(self, inputs) -> List[Generation]:
        """Generate for a processor batch; each row cut at its end-of-sequence token."""
        gens = generate_scored(self.model, move_inputs(inputs, self.device, self.dtype), self.max_new_tokens,
                               self.logits_processors)
        stops: Sequence[int] = [self.tokenizer.eos_token_id, self.tokenizer.pad_token_id]
        return [trim_at_end(g, stops) for g in gens]

    def model_inputs(self, image, prompt: str):
        """The processor's batch for one prompt (the family's text) and the image."""
        return self.processor(text=prompt, images=image, return_tensors="pt")

    def answer_input_size(self, inputs) -> Optional[Tuple[int, int]]:
        """(W, H) of the image the model saw, when the family's coordinates refer to it (Qwen2.5-VL)."""
        return None

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        """One generate() per request of the family record (all phrases at once, or one per phrase)."""
        check_rgb(rgb)
        if not phrases:
            return []
        image = to_pil(rgb)
        result: List[List[Detection]] = [[] for _ in phrases]
        for indices, prompt in self.family.requests(phrases):
            inputs = self.model_inputs(image, prompt)
            gen = self.generate(inputs)[0]
            detections_from_text(gen, self.tokenizer, self.family, phrases, indices, result,
                                 self.answer_input_size(inputs))
        return result
