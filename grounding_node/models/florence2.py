"""`florence2`: Florence-2 through transformers' native classes (no remote code).

Use `florence-community/*` checkpoints; the `microsoft/*` ones need remote code, which is never
enabled. One prompt per phrase (`<CAPTION_TO_PHRASE_GROUNDING>red mug`, or the open-vocabulary
task via backend option `task`), all phrases of a frame **batched in one generate() call**; the
image is encoded once per batch row. Output `<loc_x1><loc_y1><loc_x2><loc_y2>`, x first, 1000 bins.
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from grounding_node.models.base import Detection, check_rgb
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.hf import detections_from_text, to_pil
from grounding_node.models.parsers import parse_florence2
from grounding_node.models.prompts import florence2_prompt


class Florence2Backend(GenerativeBackend):
    name = "florence2"
    default_model = "florence-community/Florence-2-base"
    model_class = "Florence2ForConditionalGeneration"

    def load(self) -> None:
        super().load()
        self.task = str(self.config.extra.get("task", "<CAPTION_TO_PHRASE_GROUNDING>"))
        florence2_prompt("x", self.task)  # validate the option at load time, not per frame

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        check_rgb(rgb)
        if not phrases:
            return []
        image = to_pil(rgb)
        prompts = [florence2_prompt(p.strip(), self.task) for p in phrases]
        inputs = self.processor(text=prompts, images=[image] * len(prompts), return_tensors="pt", padding=True)
        result: List[List[Detection]] = [[] for _ in phrases]
        for index, gen in enumerate(self.generate(inputs)):
            result[index] = detections_from_text(gen, self.tokenizer, parse_florence2, phrases, fixed_phrase=index)[index]
        return result
