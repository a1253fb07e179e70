"""`grounding_dino`: Grounding DINO and MM-Grounding-DINO through transformers' zero-shot detection API.

All phrases go into one caption (`a. b.`), so the image and the text are encoded once per frame.
Phrases are mapped to their tokens through the tokenizer's character offsets (`phrase_token_spans`),
so a '.' inside a phrase ("the tin marked no. 5") cannot shift the later phrases; a phrase that gets
no token (the caption was cut at the model's text limit) raises instead of misaligning. A query's score
for a phrase is the **max** sigmoid over the phrase's tokens, as the official post-processing scores a
box (IDEA's `predict()`: `logits.max(dim=1)`; transformers' `post_process_grounded_object_detection`:
`torch.max(prob, dim=-1)`); a box goes to its best phrase. Boxes are the model's normalised centre
boxes, converted exactly to the 0-1024 grid (the processor's own post-processing is the same
conversion scaled to pixels).
The caption must fit the model's text length (`max_text_len`, 256 tokens): the processor does not cut it,
and a longer one crashed inside the model, so it is refused with a clear error before the model runs.
A phrase with no word to read ("?", "...") gets no boxes (and a phrase warning) instead of failing the
command: it is left out of the caption.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from grounding_node.models.base import Detection, GroundingBackend, check_rgb
from grounding_node.models.family import Family
from grounding_node.models.hf import load_model, move_inputs, pretrained_kwargs, select_per_phrase, to_pil
from grounding_node.models.parsers import cxcywh_to_1024
from grounding_node.models.prompts import grounding_dino_caption

DEFAULT_MODEL = "IDEA-Research/grounding-dino-tiny"

FAMILY = Family(
    name="grounding_dino",
    default_score_threshold=0.35,
    threshold_source="IDEA-Research/GroundingDINO README demo: BOX_TRESHOLD = 0.35 (TEXT_TRESHOLD = 0.25)",
    aliases=("mm_grounding_dino",),
)


def phrase_token_spans(offsets: Sequence[Tuple[int, int]], phrase_spans: Sequence[Tuple[int, int]],
                       token_ids: Sequence[int], skip_ids: Sequence[int]) -> List[List[int]]:
    """Token positions of each phrase: the tokens whose character offsets fall inside the phrase's span
    of the caption (special tokens, which have empty offsets, and separator tokens in `skip_ids` excluded).

    Raises ValueError when a phrase has no token (the caption was truncated), never misaligns.
    """
    skip = set(skip_ids)
    out: List[List[int]] = []
    for p, (start, end) in enumerate(phrase_spans):
        toks = [i for i, ((a, b), tok) in enumerate(zip(offsets, token_ids))
                if b > a and a >= start and b <= end and tok not in skip]
        if not toks:
            raise ValueError(f"grounding_dino: phrase {p + 1} of {len(phrase_spans)} has no token in the caption "
                             f"(the caption of {len(phrase_spans)} phrases exceeds the model's text length?); "
                             "send fewer or shorter phrases")
        out.append(toks)
    return out


class GroundingDinoBackend(GroundingBackend):
    name = "grounding_dino"
    families = (FAMILY,)

    def load(self) -> None:
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        extra = self.config.extra
        self.model_name = self.config.model or DEFAULT_MODEL
        self.processor = AutoProcessor.from_pretrained(self.model_name, **pretrained_kwargs(self.config))
        self.model, self.device, self.dtype = load_model(AutoModelForZeroShotObjectDetection, self.config,
                                                         DEFAULT_MODEL)
        tok = self.processor.tokenizer
        self.separator_ids = [tok.convert_tokens_to_ids(t) for t in (".", "?")]
        self.floor = float(extra.get("candidate_threshold", 0.05))
        self.max_per_phrase = int(extra.get("max_candidates", 20))
        self.nms_iou = float(extra.get("nms_iou", 0.5))
        self.text_limit = int(getattr(self.model.config, "max_text_len", 256))

    def readable(self, phrase: str) -> bool:
        """True when the phrase keeps a token in the caption: not only periods and question marks, which
        are the caption's separators (the model cannot ground a phrase it has no token of)."""
        text = grounding_dino_caption([phrase])[0][:-1]
        ids = self.processor.tokenizer(text, add_special_tokens=False)["input_ids"]
        return any(tok not in self.separator_ids for tok in ids)

    def phrase_warnings(self, phrases: Sequence[str]) -> List[str]:
        return [f"'{p.strip()}' not grounded: it has no word for {self.name} to read" for p in phrases
                if not self.readable(p)]

    def token_spans(self, caption: str, phrase_spans, input_ids: Sequence[int]) -> List[List[int]]:
        """Each phrase's token positions in `input_ids` (the processor's), through the tokenizer's offsets."""
        enc = self.processor.tokenizer(caption, return_offsets_mapping=True)
        ids = list(enc["input_ids"])
        if ids[: len(input_ids)] != list(input_ids):
            raise ValueError("grounding_dino: the tokenizer's offsets do not describe the processor's input_ids")
        return phrase_token_spans(enc["offset_mapping"][: len(input_ids)], phrase_spans, input_ids, self.separator_ids)

    def ground(self, rgb: np.ndarray, phrases: Sequence[str]) -> List[List[Detection]]:
        import torch

        check_rgb(rgb)
        if not phrases:
            return []
        result: List[List[Detection]] = [[] for _ in phrases]
        asked = [i for i, p in enumerate(phrases) if self.readable(p)]
        if not asked:
            return result
        caption, phrase_spans = grounding_dino_caption([phrases[i] for i in asked])
        inputs = self.processor(images=to_pil(rgb), text=caption, return_tensors="pt")
        ids = inputs["input_ids"][0].tolist()
        if len(ids) > self.text_limit:
            raise ValueError(f"grounding_dino: the caption of {len(asked)} phrases is {len(ids)} tokens; the model "
                             f"reads at most {self.text_limit}: send fewer or shorter phrases")
        spans = self.token_spans(caption, phrase_spans, ids)
        with torch.inference_mode():
            out = self.model(**move_inputs(inputs, self.device, self.dtype))
            probs = torch.sigmoid(out.logits[0, :, : len(ids)].float()).cpu().numpy()   # (Q, L)
            boxes = out.pred_boxes[0].float().cpu().numpy()                             # (Q, 4) cxcywh, 0..1
        per_phrase = np.stack([probs[:, toks].max(axis=1) for toks in spans], axis=1).astype(np.float32)
        boxes_1024 = cxcywh_to_1024(boxes).reshape(-1, 4)
        for i, dets in zip(asked, select_per_phrase(per_phrase, boxes_1024, self.floor, self.max_per_phrase,
                                                    self.nms_iou)):
            result[i] = dets
        return result
