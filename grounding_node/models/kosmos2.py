"""`kosmos2`: Kosmos-2 (`<grounding><phrase> a red mug</phrase>` -> `<object><patch_index_..>..</object>`).

One generate() per phrase: the phrase is in the prompt, so every box the model writes belongs to it.
(Batching rows of different lengths would need left padding, which shifts Kosmos-2's image-slot
mask; at one or two phrases per command the loop costs little.) Patch indices on the 32x32 grid
are converted by `kosmos2_patches_to_1024`, the model's own convention.
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from grounding_node.models.base import Detection, check_rgb
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.hf import detections_from_text, to_pil
from grounding_node.models.parsers import parse_kosmos2
from grounding_node.models.prompts import kosmos2_prompt


class Kosmos2Backend(GenerativeBackend):
    name = "kosmos2"
    default_model = "microsoft/kosmos-2-patch14-224"
    model_class = "Kosmos2ForConditionalGeneration"

    def load(self) -> None:
        super().load()
        self.max_new_tokens = int(self.config.extra.get("max_new_tokens", 32))
        self.per_side = int(getattr(self.processor, "num_patch_index_tokens", 1024) ** 0.5)

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        check_rgb(rgb)
        image = to_pil(rgb)
        result: List[List[Detection]] = [[] for _ in phrases]
        parser = lambda text: parse_kosmos2(text, self.per_side)  # noqa: E731
        for index, phrase in enumerate(phrases):
            inputs = self.processor(text=kosmos2_prompt(phrase), images=image, return_tensors="pt")
            gen = self.generate(inputs)[0]
            result[index] = detections_from_text(gen, self.tokenizer, parser, phrases, fixed_phrase=index)[index]
        return result
