"""`kosmos2`: Kosmos-2 (`<grounding><phrase> a red mug</phrase>` -> `<object><patch_index_..>..</object>`).

One generate() per phrase. The model *continues* the prompt and may ground further phrases (the
model card: "... a snowman</phrase><object>...</object> warming himself by<phrase> a fire</phrase>
<object>...</object>"): the phrase's referent is the object block written right after the prompt's
`</phrase>` (unlabelled in the answer); blocks after a later `<phrase>` are context (strict referent
rule). (Batching rows of different lengths would need left padding, which shifts Kosmos-2's image-slot
mask; at one or two phrases per command the loop costs little.) Patch indices on the 32x32 grid are
converted by `kosmos2_patches_to_1024`, the model's own convention.
"""

from __future__ import annotations

from dataclasses import replace

from grounding_node.models.family import Family
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.parsers import format_kosmos2, parse_kosmos2
from grounding_node.models.prompts import kosmos2_prompt

FAMILY = Family(
    name="kosmos2",
    default_score_threshold=0.0,
    threshold_source="Kosmos2Processor.post_process_generation keeps every generated box (no threshold)",
    prompt=lambda phrases: kosmos2_prompt(phrases[0]),
    parse=lambda text, input_size=None: parse_kosmos2(text),
    format_box=format_kosmos2,
    per_phrase=True,
    strict_referent=True,
    remote_body={"skip_special_tokens": False},
)


class Kosmos2Backend(GenerativeBackend):
    name = "kosmos2"
    families = (FAMILY,)
    default_model = "microsoft/kosmos-2-patch14-224"
    model_class = "Kosmos2ForConditionalGeneration"

    def load(self) -> None:
        super().load()
        self.max_new_tokens = int(self.config.extra.get("max_new_tokens", 32))
        self.per_side = int(getattr(self.processor, "num_patch_index_tokens", 1024) ** 0.5)
        if self.per_side != 32:
            self._family = replace(FAMILY, parse=lambda text, input_size=None: parse_kosmos2(text, self.per_side))
