"""`paligemma`: PaliGemma 1 and 2 (`detect a ; b`), every phrase in **one prompt and one generate()**.

The answer `<locY1><locX1><locY2><locX2> label ; ...` is y first on 1024 bins, which is the
canonical grid itself (only the axis order changes). Labels are matched back to the phrases, then the
referent rule drops boxes of other noun phrases. Use the `*-mix-*` checkpoints: they were fine-tuned
on the detect prefix. PaliGemma ships no chat template: `remote` sends one (see `prompts`).
"""

from __future__ import annotations

from grounding_node.models.family import Family
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.parsers import format_paligemma, parse_paligemma
from grounding_node.models.prompts import PALIGEMMA_CHAT_TEMPLATE, paligemma_prompt

FAMILY = Family(
    name="paligemma",
    default_score_threshold=0.0,
    threshold_source="Google's PaliGemma detection notebook and big_vision's evaluator keep every generated box",
    prompt=paligemma_prompt,
    parse=lambda text, input_size=None: parse_paligemma(text),
    format_box=format_paligemma,
    join_answer=" ; ".join,
    remote_body={"chat_template": PALIGEMMA_CHAT_TEMPLATE},
)


class PaliGemmaBackend(GenerativeBackend):
    name = "paligemma"
    families = (FAMILY,)
    default_model = "google/paligemma2-3b-mix-448"
    model_class = "PaliGemmaForConditionalGeneration"

    def model_inputs(self, image, prompt: str):
        inputs = self.processor(text="<image>" + prompt, images=image, return_tensors="pt")
        inputs.pop("labels", None)
        return inputs
