"""`qwen_vl`: Qwen2-VL, Qwen2.5-VL and Qwen3-VL (the variant is read from the checkpoint's config).

Qwen2.5-VL and Qwen3-VL get **every phrase in one chat prompt and one generate()**, asking for a JSON
list of `bbox_2d` + `label`; labels are matched back to the phrases. Their coordinates differ:
- Qwen2.5-VL: absolute pixels of the *resized* model input, W_in x H_in = (grid_w, grid_h) x patch
  size from `image_grid_thw`, converted with `pixels_to_1024(box, W_in, H_in)`;
- Qwen3-VL: 0-1000 relative.
Qwen2-VL is asked once per phrase in its native form (`<|object_ref_start|>..<|box_start|>(x1,y1),(x2,y2)<|box_end|>`,
0-1000), since its special-token answer names one referent.
The processor is the image-only one from `qwen_processing` (no torchvision needed).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, check_rgb
from grounding_node.models.generative import GenerativeBackend
from grounding_node.models.hf import detections_from_text, load_model, pretrained_kwargs, to_pil
from grounding_node.models.parsers import parse_json_boxes, parse_qwen2_tokens
from grounding_node.models.prompts import qwen2_prompt, qwen_json_prompt


class QwenVLBackend(GenerativeBackend):
    name = "qwen_vl"
    default_model = "Qwen/Qwen2.5-VL-3B-Instruct"

    def load(self) -> None:
        from transformers import AutoConfig

        from grounding_node.models.qwen_processing import load_qwen_processor, qwen_model_class

        extra = self.config.extra
        self.model_name = self.config.model or self.default_model
        budget = {k: int(extra[k]) for k in ("min_pixels", "max_pixels") if k in extra}
        self.processor = load_qwen_processor(self.model_name, local_files_only=bool(self.config.local_files_only),
                                             **budget)
        hf_config = AutoConfig.from_pretrained(self.model_name, **pretrained_kwargs(self.config))
        self.variant = hf_config.model_type
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

    def input_size(self, inputs) -> Tuple[int, int]:
        """(W_in, H_in) of the resized image the model saw: Qwen2.5-VL's pixel coordinates refer to it."""
        _, grid_h, grid_w = (int(v) for v in inputs["image_grid_thw"][0])
        return grid_w * self.patch_size, grid_h * self.patch_size

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        check_rgb(rgb)
        if not phrases:
            return []
        image = to_pil(rgb)
        if self.variant == "qwen2_vl":
            result: List[List[Detection]] = [[] for _ in phrases]
            for index, phrase in enumerate(phrases):
                gen = self.generate(self._inputs(image, qwen2_prompt(phrase)))[0]
                result[index] = detections_from_text(gen, self.tokenizer, parse_qwen2_tokens, phrases,
                                                     fixed_phrase=index)[index]
            return result
        inputs = self._inputs(image, qwen_json_prompt(phrases, relative=self.variant != "qwen2_5_vl"))
        if self.variant == "qwen2_5_vl":
            size = self.input_size(inputs)
            parser = lambda text: parse_json_boxes(text, "pixels", size)  # noqa: E731
        else:
            parser = lambda text: parse_json_boxes(text, "1000")  # noqa: E731
        gen = self.generate(inputs)[0]
        return detections_from_text(gen, self.tokenizer, parser, phrases)
