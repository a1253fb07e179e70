"""`paligemma`: PaliGemma 1 and 2 (`detect a ; b`), every phrase in **one prompt and one generate()**.

The answer `<locY1><locX1><locY2><locX2> label ; ...` is y first on 1024 bins, which is the
canonical grid itself (only the axis order changes). Labels are matched back to the phrases.
Use the `*-mix-*` checkpoints: they were fine-tuned on the detect prefix.
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from grounding_node.models.base import Detection, check_rgb
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.hf import detections_from_text, to_pil
from grounding_node.models.parsers import parse_paligemma
from grounding_node.models.prompts import paligemma_prompt


class PaliGemmaBackend(GenerativeBackend):
    name = "paligemma"
    default_model = "google/paligemma2-3b-mix-448"
    model_class = "PaliGemmaForConditionalGeneration"

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        check_rgb(rgb)
        if not phrases:
            return []
        prompt = "<image>" + paligemma_prompt(phrases)
        inputs = self.processor(text=prompt, images=to_pil(rgb), return_tensors="pt")
        inputs.pop("labels", None)
        gen = self.generate(inputs)[0]
        return detections_from_text(gen, self.tokenizer, parse_paligemma, phrases)
