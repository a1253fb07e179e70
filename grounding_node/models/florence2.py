"""`florence2`: Florence-2 through transformers' native classes (no remote code).

Use `florence-community/*` checkpoints; the `microsoft/*` ones need remote code, which is never
enabled. One prompt per phrase, all phrases of a frame **batched in one generate() call** (the image
is encoded once per batch row). The task (backend option `task`, default `auto`):
- `auto`: `<OPEN_VOCABULARY_DETECTION>` for a single noun phrase ("red mug": the answer is only that
  thing), `<CAPTION_TO_PHRASE_GROUNDING>` for a phrase naming other objects ("the mug next to the
  laptop"), whose answer boxes every noun phrase: the referent rule keeps the mug's boxes;
- or either task for every phrase.
Output `label<loc_x1><loc_y1><loc_x2><loc_y2>...`, x first, 1000 bins (the processor's own
`post_process_generation` reads it the same way); a `<poly>` answer is one box, its extent; phrases in the
checkpoint's banned grounding tokens ("the image", "it") give none, as the processor skips them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import List, Sequence

import numpy as np

from grounding_node.models.base import Detection, check_rgb
from grounding_node.models.family import Family
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.hf import detections_from_text, to_pil
from grounding_node.models.parsers import format_florence2, parse_florence2
from grounding_node.models.prompts import florence2_prompt

# The checkpoints' processor_config.json `phrase_grounding.banned_grounding_tokens` (transformers'
# convert_florence2_original_pytorch_to_hf.py writes the same list): pronouns, determiners and "the image",
# which the model grounds as words of the caption. transformers' Florence2PostProcessor skips them; here they
# were kept, and "the image" over the whole frame became the answer to "the mug next to the laptop".
BANNED_GROUNDING = frozenset("""
it i me mine you your yours he him his she her hers they them their theirs one oneself we us our ours its
myself yourself himself herself itself ourselves yourselves themselves this that these those who whom whose
which what all another any anybody anyone anything each everybody everyone everything few many nobody none
several some somebody someone something the a an lots
""".split()) | {"each other", "one another", "the image", "image", "images", "a group", "other objects", "a set"}

FAMILY = Family(
    name="florence2",
    default_score_threshold=0.0,
    threshold_source="Florence2Processor.post_process_generation keeps every generated box (no threshold)",
    prompt=lambda phrases: florence2_prompt(phrases[0].strip()),
    parse=lambda text, input_size=None: parse_florence2(text, banned=BANNED_GROUNDING),
    format_box=format_florence2,
    per_phrase=True,
    remote_body={"skip_special_tokens": False},
)


class Florence2Backend(GenerativeBackend):
    name = "florence2"
    families = (FAMILY,)
    default_model = "florence-community/Florence-2-base"
    model_class = "Florence2ForConditionalGeneration"

    def load(self) -> None:
        super().load()
        self.task = str(self.config.extra.get("task", "auto"))
        florence2_prompt("x", self.task)  # validate the option at load time, not per frame
        # The encoder reads the image tokens and the prompt through learned positions: no more than this.
        text_config = getattr(self.model.config, "text_config", self.model.config)
        self.text_limit = int(getattr(text_config, "max_position_embeddings", 0) or 0)
        self._family = replace(FAMILY, prompt=lambda phrases: florence2_prompt(phrases[0].strip(), self.task))

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        check_rgb(rgb)
        if not phrases:
            return []
        image = to_pil(rgb)
        requests = self.family.requests(phrases)
        prompts = [prompt for _, prompt in requests]
        inputs = self.processor(text=prompts, images=[image] * len(prompts), return_tensors="pt", padding=True)
        self.check_length(inputs, requests)
        result: List[List[Detection]] = [[] for _ in phrases]
        for (indices, _), gen in zip(requests, self.generate(inputs)):
            detections_from_text(gen, self.tokenizer, self.family, phrases, indices, result)
        return result

    def check_length(self, inputs, requests) -> None:
        """Refuse, naming the phrase, a prompt the encoder cannot read: image tokens + prompt beyond its
        `max_position_embeddings` (1024) failed inside the model with "IndexError: index out of range"."""
        limit = getattr(self, "text_limit", 0)
        if not limit or "attention_mask" not in inputs:
            return
        lengths = [int(n) for n in inputs["attention_mask"].sum(dim=1)]
        for (indices, _), length in zip(requests, lengths):
            if length > limit:
                raise ValueError(f"florence2: phrase {indices[0] + 1} makes a prompt of {length} tokens with the "
                                 f"image's; the model reads at most {limit}: shorten it")
