"""`grounding_dino`: Grounding DINO and MM-Grounding-DINO through transformers' zero-shot detection API.

All phrases go into one caption (`a. b.`), so the image and the text are encoded once per frame.
A query's score for a phrase is the mean sigmoid of the phrase's tokens (the mean, not the max,
so that the attribute words count: "red mug" and "blue mug" share "mug"). Boxes are the model's
normalised centre boxes, converted exactly to the 0-1024 grid (the processor's own post-processing
is the same conversion scaled to pixels).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.hf import load_model, move_inputs, pretrained_kwargs, select_per_phrase, to_pil
from grounding_node.models.parsers import cxcywh_to_1024
from grounding_node.models.prompts import grounding_dino_text

DEFAULT_MODEL = "IDEA-Research/grounding-dino-tiny"


def phrase_token_spans(input_ids: Sequence[int], dot_id: int, special_ids: Sequence[int]) -> List[Tuple[int, int]]:
    """[start, end) token positions of each '.'-terminated phrase of the caption (specials excluded)."""
    specials = set(special_ids)
    spans, start = [], None
    for i, tok in enumerate(input_ids):
        if tok in specials:
            continue
        if tok == dot_id:
            if start is not None:
                spans.append((start, i))
            start = None
        elif start is None:
            start = i
    if start is not None:           # a last phrase without its period (truncated caption)
        spans.append((start, len(input_ids)))
    return spans


class GroundingDinoBackend(GroundingBackend):
    name = "grounding_dino"

    def load(self) -> None:
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        extra = self.config.extra
        self.model_name = self.config.model or DEFAULT_MODEL
        self.processor = AutoProcessor.from_pretrained(self.model_name, **pretrained_kwargs(self.config))
        self.model, self.device, self.dtype = load_model(AutoModelForZeroShotObjectDetection, self.config, DEFAULT_MODEL)
        tok = self.processor.tokenizer
        self.dot_id = tok.convert_tokens_to_ids(".")
        self.special_ids = [i for i in (tok.cls_token_id, tok.sep_token_id, tok.pad_token_id) if i is not None]
        self.floor = float(extra.get("candidate_threshold", 0.05))
        self.max_per_phrase = int(extra.get("max_candidates", 20))
        self.nms_iou = float(extra.get("nms_iou", 0.5))

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        import torch

        check_rgb(rgb)
        if not phrases:
            return []
        inputs = self.processor(images=to_pil(rgb), text=grounding_dino_text(phrases), return_tensors="pt")
        ids = inputs["input_ids"][0].tolist()
        spans = phrase_token_spans(ids, self.dot_id, self.special_ids)
        with torch.inference_mode():
            out = self.model(**move_inputs(inputs, self.device, self.dtype))
            probs = torch.sigmoid(out.logits[0, :, : len(ids)].float())          # (Q, L)
            boxes = out.pred_boxes[0].float().cpu().numpy()                     # (Q, 4) cxcywh, 0..1
        if len(spans) != len(phrases):  # the caption was truncated at the text limit: score what is there
            spans = spans[: len(phrases)]
        per_phrase = np.zeros((probs.shape[0], len(phrases)), dtype=np.float32)
        for p, (a, b) in enumerate(spans):
            per_phrase[:, p] = probs[:, a:b].mean(dim=1).cpu().numpy()
        boxes_1024 = cxcywh_to_1024(boxes).reshape(-1, 4)
        return select_per_phrase(per_phrase, boxes_1024, self.floor, self.max_per_phrase, self.nms_iou)
