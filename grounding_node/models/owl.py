"""`owlv2` (and OWL-ViT): open-vocabulary detection with one text query per phrase.

One forward pass per frame: the image is encoded once and every phrase is a query against the same
box predictions. OWLv2 pads the image to a square before predicting, so its normalised boxes are
stretched back onto the image (`owl_square_scale`); OWL-ViT v1 resizes without padding.
The text encoder reads 16 tokens (start and end included): a longer phrase is read as CLIP reads text,
its first tokens, and `phrase_warnings` says so (the processor pads to 16 without truncating, so such a
phrase crashed the whole command inside the model).
"""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.family import Family
from grounding_node.models.hf import load_model, move_inputs, pretrained_kwargs, select_per_phrase, to_pil
from grounding_node.models.parsers import cxcywh_to_1024, owl_square_scale

DEFAULT_MODEL = "google/owlv2-base-patch16-ensemble"

FAMILY = Family(
    name="owlv2",
    default_score_threshold=0.1,
    threshold_source="transformers' OWLv2 / OWL-ViT docs example: post_process_object_detection(threshold=0.1)",
    aliases=("owlvit",),
)


class OwlBackend(GroundingBackend):
    name = "owlv2"
    families = (FAMILY,)

    def load(self) -> None:
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        extra = self.config.extra
        self.model_name = self.config.model or DEFAULT_MODEL
        self.processor = AutoProcessor.from_pretrained(self.model_name, **pretrained_kwargs(self.config))
        self.model, self.device, self.dtype = load_model(AutoModelForZeroShotObjectDetection, self.config,
                                                         DEFAULT_MODEL)
        self.padded = getattr(self.model.config, "model_type", "") == "owlv2"
        self.floor = float(extra.get("candidate_threshold", 0.05))
        self.max_per_phrase = int(extra.get("max_candidates", 20))
        self.nms_iou = float(extra.get("nms_iou", 0.3))
        text_config = getattr(self.model.config, "text_config", None)
        self.text_limit = int(getattr(text_config, "max_position_embeddings", 16))

    def _token_count(self, phrase: str) -> int:
        return len(self.processor.tokenizer(phrase.strip(), verbose=False)["input_ids"])

    def phrase_warnings(self, phrases: Sequence[str]) -> List[str]:
        """Phrases longer than the text encoder's `text_limit` tokens: only their first tokens are read."""
        out = []
        for phrase in phrases:
            count = self._token_count(phrase)
            if count > self.text_limit:
                out.append(f"'{phrase.strip()}' is {count} tokens; {self.name} reads {self.text_limit} "
                           f"(start and end included), so only its first {self.text_limit - 2} were grounded")
        return out

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        import torch

        check_rgb(rgb)
        if not phrases:
            return []
        h, w = rgb.shape[:2]
        inputs = self.processor(text=[[p.strip() for p in phrases]], images=to_pil(rgb), return_tensors="pt",
                                truncation=True, max_length=self.text_limit)
        with torch.inference_mode():
            out = self.model(**move_inputs(inputs, self.device, self.dtype))
            scores = torch.sigmoid(out.logits[0].float()).cpu().numpy()         # (N, P)
            boxes = out.pred_boxes[0].float().cpu().numpy()                     # (N, 4) cxcywh, 0..1
        sx, sy = owl_square_scale(w, h) if self.padded else (1.0, 1.0)
        boxes_1024 = cxcywh_to_1024(boxes, sx, sy).reshape(-1, 4)
        return select_per_phrase(scores, boxes_1024, self.floor, self.max_per_phrase, self.nms_iou)
