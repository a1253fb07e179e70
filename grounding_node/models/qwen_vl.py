"""`qwen_vl`: Qwen2-VL, Qwen2.5-VL and Qwen3-VL (the variant is read from the checkpoint's config).

Qwen2.5-VL and Qwen3-VL get **every phrase in one chat prompt and one generate()**, asking for a JSON
list of `bbox_2d` + `label`; labels are matched back to the phrases. Their coordinates differ:
- Qwen2.5-VL: absolute pixels of the *resized* model input, W_in x H_in = (grid_w, grid_h) x patch
  size from `image_grid_thw`, converted with `pixels_to_1024(box, W_in, H_in)`;
- Qwen3-VL: 0-1000 relative.
Qwen2-VL is asked once per phrase in its native form (`Find <|object_ref_start|>..<|object_ref_end|>`,
answered `<|box_start|>(x1,y1),(x2,y2)<|box_end|>` on 0-1000; JSON or bare coordinates are read too).
The image budget is `prompts.QWEN_MAX_PIXELS` (option `max_pixels`), the same as `remote`'s, so both
see the same resolution. The processor is the image-only one from `qwen_processing` (no torchvision).
"""

from __future__ import annotations

from typing import List, Tuple

from grounding_node.models.family import Family
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.hf import load_model, pretrained_kwargs
from grounding_node.models.parsers import format_json_box, format_qwen2, parse_json_boxes, parse_qwen2
from grounding_node.models.prompts import QWEN_MAX_PIXELS, qwen2_prompt, qwen_json_prompt

_SOURCE = "no threshold in the model card's grounding examples: every box of the answer is kept"


def _json_list(items: List[str]) -> str:
    return "[" + ", ".join(items) + "]"


QWEN2_VL = Family(
    name="qwen2_vl", default_score_threshold=0.0, threshold_source=_SOURCE,
    prompt=lambda phrases: qwen2_prompt(phrases[0]),
    parse=parse_qwen2, format_box=format_qwen2, per_phrase=True,
    remote_body={"skip_special_tokens": False}, resize_factor=28, aliases=("qwen2",),
)
QWEN2_5_VL = Family(
    name="qwen2_5_vl", default_score_threshold=0.0, threshold_source=_SOURCE,
    prompt=lambda phrases: qwen_json_prompt(phrases, relative=False),
    parse=lambda text, input_size=None: parse_json_boxes(text, "pixels", input_size),
    format_box=lambda label, box, input_size=None: format_json_box(label, box, input_size, "pixels"),
    join_answer=_json_list, resize_factor=28, aliases=("qwen2.5_vl", "qwen2.5"),
)
QWEN3_VL = Family(
    name="qwen3_vl", default_score_threshold=0.0, threshold_source=_SOURCE,
    prompt=lambda phrases: qwen_json_prompt(phrases, relative=True),
    parse=lambda text, input_size=None: parse_json_boxes(text, "1000"),
    format_box=lambda label, box, input_size=None: format_json_box(label, box, input_size, "1000"),
    join_answer=_json_list, resize_factor=32, aliases=("qwen3", "json_1000"),
)
BY_MODEL_TYPE = {"qwen2_vl": QWEN2_VL, "qwen2_5_vl": QWEN2_5_VL, "qwen3_vl": QWEN3_VL, "qwen3_vl_moe": QWEN3_VL}


class QwenVLBackend(GenerativeBackend):
    name = "qwen_vl"
    families = (QWEN2_5_VL, QWEN2_VL, QWEN3_VL)
    default_model = "Qwen/Qwen2.5-VL-3B-Instruct"

    def load(self) -> None:
        from transformers import AutoConfig

        from grounding_node.models.qwen_processing import load_qwen_processor, qwen_model_class

        extra = self.config.extra
        self.model_name = self.config.model or self.default_model
        budget = {"max_pixels": int(extra.get("max_pixels", QWEN_MAX_PIXELS))}
        if "min_pixels" in extra:
            budget["min_pixels"] = int(extra["min_pixels"])
        self.processor = load_qwen_processor(self.model_name, local_files_only=bool(self.config.local_files_only),
                                             **budget)
        hf_config = AutoConfig.from_pretrained(self.model_name, **pretrained_kwargs(self.config))
        self.variant = hf_config.model_type
        self._family = BY_MODEL_TYPE[self.variant]
        self.model, self.device, self.dtype = load_model(qwen_model_class(hf_config), self.config, self.default_model)
        self.tokenizer = self.processor.tokenizer
        self.max_new_tokens = int(extra.get("max_new_tokens", 512))
        self.logits_processors = []
        self.patch_size = int(getattr(self.processor.image_processor, "patch_size", 14))

    def describe(self) -> str:
        return f"qwen_vl({self.variant}):{self.model_name}"

    def _inputs(self, image, prompt: str):
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return self.processor(text=[text], images=[image], return_tensors="pt")

    model_inputs = _inputs

    def input_size(self, inputs) -> Tuple[int, int]:
        """(W_in, H_in) of the resized image the model saw: Qwen2.5-VL's pixel coordinates refer to it."""
        _, grid_h, grid_w = (int(v) for v in inputs["image_grid_thw"][0])
        return grid_w * self.patch_size, grid_h * self.patch_size

    answer_input_size = input_size


__all__ = ["QwenVLBackend", "QWEN2_VL", "QWEN2_5_VL", "QWEN3_VL"]
