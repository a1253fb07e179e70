"""Training examples and their loss, built with the loaded backend's own code so training and inference agree.

A `Unit` is one model request of one image, exactly as the backend's `ground()` makes it:

- **generative families** (Florence-2, PaliGemma, Qwen-VL): the family record's `requests(phrases)` (one
  request per phrase, or all phrases at once), the backend's own `model_inputs(image, prompt)` (its
  processor call and chat template), and as the target the record's `format_answer(items, input_size)`,
  the inverse of the parser inference uses (Qwen2.5-VL: pixels of the resized input, from
  `answer_input_size(inputs)`). The answer tokens follow the prompt (decoder-only: appended, with the
  end-of-turn token the generation stops at; Florence-2: the decoder sequence `<s> answer </s>`), and the
  loss is the model's own token cross-entropy with every prompt position set to -100. A box is labelled
  with its phrase as written (labels are matched back to phrases case-insensitively at inference).
  **Negative examples** (a phrase with no box) train the family's "nothing found" answer: the phrase
  contributes no box to its request's answer, so a request whose phrases are all negative trains
  `format_answer([])`: Qwen-VL `[]`, which its prompt asks for; Florence-2 and PaliGemma the empty answer
  (just the end token), which their parsers read as no box. None is skipped.
- **Grounding DINO**: one caption per image with all its phrases (`grounding_dino_caption`, as at
  inference), boxes as normalised (cx, cy, w, h) with the phrase index as class label; an image-phrase with
  no box simply has no target (its tokens learn "no object"). The loss is transformers' own
  `GroundingDinoForObjectDetectionLoss`, but with each phrase's label map taken from the backend's
  `token_spans` (the tokens inference takes the max over) instead of the model's `build_label_maps`:
  that one splits the caption at hard-coded BERT ids of [CLS]/[SEP]/'.'/'?' (101, 102, 1012, 1029), so a
  '.' inside a phrase, or any tokenizer with other ids, would shift the classes against inference.
  Two more departures from transformers' loss, both back to the original Grounding DINO training
  (IDEA-Research's `SetCriterion` with `aux_loss` and `interm_outputs`):
  **every decoder layer is supervised** (`auxiliary_loss` on for the loss only; the checkpoint's config
  keeps its value), and the **two-stage (encoder) term is computed on the proposals the decoder starts
  from, with their gradients** (`encoder_proposals`). transformers scores its encoder term with the
  detached decoder target (with `embedding_init_target`, the learned, image-independent query
  embeddings) against the text before the encoder, and boxes it with the detached reference points: that
  term is a constant for the model and no gradient reaches the proposal head (`enc_output`,
  `enc_output_norm`, `encoder_output_bbox_embed`), so the decoder's top-k queries and starting boxes
  never learn (the tiny test checkpoint: 62 % of 16 phrase-box pairs at most with it, 100 % without).
  Images go through the model one at a time (gradients accumulated over the batch), as `ground()` sends
  them: no padding between images of different sizes (inference sees each image unpadded, with its boxes
  normalised to it), and no batch for the loss's per-image class offsets, which add
  `len(label_maps[i])` instead of the previous images' phrase counts (right only for two images with equal
  counts).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from grounding_node.data.format import Sample

# Per-token inputs a processor returns besides input_ids, and the value an appended answer token gets.
_TOKEN_FILL = {"attention_mask": 1, "token_type_ids": 1, "mm_token_type_ids": 0}
# ... and the value a padded position gets when a batch is collated.
_PAD_FILL = {"attention_mask": 0, "token_type_ids": 0, "mm_token_type_ids": 0, "labels": -100}


@dataclass
class Unit:
    """One model request of one image: the phrase indices it asks (into the sample's groundings), its prompt."""

    sample: Sample
    indices: List[int]
    prompt: str = ""


def load_rgb(root: Path, sample: Sample):
    """The sample's image as RGB (PIL), as the node would receive it and as inference and the dataset check
    read it (`read_rgb`: EXIF orientation applied, 16-bit scaled to 8). PIL's own convert("RGB") did neither:
    an EXIF-rotated photo trained on its stored orientation, and a 16-bit grey PNG turned white."""
    from PIL import Image

    from grounding_node.training.dataset_eval import read_rgb

    return Image.fromarray(read_rgb(sample.image_path(root)))


@dataclass
class GenerativeTask:
    """Examples and loss of a family that writes boxes as text (a `GenerativeBackend`)."""

    backend: Any
    root: Path
    max_answer_tokens: int = field(default=0)

    def units(self, samples: Sequence[Sample]) -> List[Unit]:
        family = self.backend.family
        return [Unit(s, list(indices), prompt)
                for s in samples if s.groundings
                for indices, prompt in family.requests([g.phrase for g in s.groundings])]

    def answer(self, unit: Unit, inputs) -> str:
        """The target text: every box of the asked phrases, labelled with the phrase, in the family's format."""
        items = [(unit.sample.groundings[i].phrase.strip(), tuple(float(v) for v in box))
                 for i in unit.indices for box in unit.sample.groundings[i].boxes_1024]
        return self.backend.family.format_answer(items, self.backend.answer_input_size(inputs))

    def answer_ids(self, text: str) -> List[int]:
        tok = self.backend.tokenizer
        if self.backend.model.config.is_encoder_decoder:   # Florence-2 writes "<s> answer </s>"
            return list(tok(text).input_ids)
        return list(tok(text, add_special_tokens=False).input_ids) + [tok.eos_token_id]

    def encode(self, unit: Unit) -> Dict[str, Any]:
        """The backend's own inputs for the request, with the answer as labels (prompt positions -100)."""
        import torch

        inputs = dict(self.backend.model_inputs(load_rgb(self.root, unit.sample), unit.prompt))
        answer = torch.tensor([self.answer_ids(self.answer(unit, inputs))], dtype=torch.long)
        self.max_answer_tokens = max(self.max_answer_tokens, answer.shape[1])
        if self.backend.model.config.is_encoder_decoder:
            inputs["labels"] = answer
            return inputs
        n_prompt = inputs["input_ids"].shape[1]
        for key, value in list(inputs.items()):
            if key == "input_ids":
                inputs[key] = torch.cat([value, answer], dim=1)
            elif _is_per_token(value, n_prompt):
                if key not in _TOKEN_FILL:
                    raise ValueError(f"unknown per-token input '{key}' from {type(self.backend).__name__}: "
                                     "cannot extend it over the answer")
                inputs[key] = torch.cat([value, value.new_full(answer.shape, _TOKEN_FILL[key])], dim=1)
        inputs["labels"] = torch.cat([torch.full((1, n_prompt), -100, dtype=torch.long), answer], dim=1)
        return inputs

    def loss(self, units: Sequence[Unit], train: bool) -> float:
        """Mean answer-token cross-entropy of one batch; backpropagated when `train`."""
        from grounding_node.models.hf import move_inputs

        batch = collate([self.encode(u) for u in units], self.backend.tokenizer.pad_token_id)
        out = self.backend.model(**move_inputs(batch, self.backend.device, self.backend.dtype), use_cache=False)
        if train:
            out.loss.backward()
        return float(out.loss.detach())

    def limit_generation(self) -> int:
        """A generation budget for validation: twice the longest target answer (a random or half-trained
        model would otherwise write the backend's full `max_new_tokens` for every request)."""
        return 2 * self.max_answer_tokens + 8 if self.max_answer_tokens else 0


def _is_per_token(value: Any, n_tokens: int) -> bool:
    return hasattr(value, "shape") and len(value.shape) == 2 and value.shape[1] == n_tokens \
        and not value.is_floating_point()


def collate(encoded: Sequence[Dict[str, Any]], pad_id: int) -> Dict[str, Any]:
    """One batch: per-token tensors right-padded (input_ids with `pad_id`, labels -100, masks 0), image
    tensors concatenated along their first axis (pixel_values, Qwen's patches and image_grid_thw)."""
    import torch

    if len(encoded) == 1:
        return dict(encoded[0])
    out: Dict[str, Any] = {}
    lengths = {k: max(e[k].shape[1] for e in encoded) for k in encoded[0] if k == "input_ids" or k in _PAD_FILL}
    for key in encoded[0]:
        values = [e[key] for e in encoded]
        if key in lengths:
            fill = pad_id if key == "input_ids" else _PAD_FILL[key]
            values = [torch.cat([v, v.new_full((1, lengths[key] - v.shape[1]), fill)], dim=1) for v in values]
        out[key] = torch.cat(values, dim=0)
    return out


def encoder_proposals(model_output, num_queries: int, detached_boxes=None) -> Dict[str, Any]:
    """The two-stage outputs of the `num_queries` encoder proposals the decoder starts from, as the original
    Grounding DINO supervises them (`interm_outputs`): their class logits (the proposal features against
    the encoded text, `enc_outputs_class`) and boxes (`enc_outputs_coord_logits`, sigmoid), with gradients.
    `model_output` is the `GroundingDinoModel` output of the forward being trained; `detached_boxes`, the
    model's own (detached) `encoder_pred_boxes`, checks that the same proposals were selected."""
    import torch

    scores, coords = model_output.enc_outputs_class, model_output.enc_outputs_coord_logits
    top = torch.topk(scores.max(-1).values, num_queries, dim=1).indices   # the selection the model makes
    logits = torch.gather(scores, 1, top[..., None].expand(-1, -1, scores.shape[-1]))
    boxes = torch.gather(coords, 1, top[..., None].expand(-1, -1, coords.shape[-1])).sigmoid()
    if detached_boxes is not None and not torch.allclose(boxes.detach(), detached_boxes.to(boxes.dtype)):
        raise RuntimeError("grounding_dino: the encoder proposals do not match the model's top-k "
                           "(transformers' GroundingDinoModel changed?)")
    return {"encoder_logits": logits, "encoder_pred_boxes": boxes}


@dataclass
class DinoTask:
    """Examples and loss of Grounding DINO (a `GroundingDinoBackend`): transformers' detection loss, with the
    phrase label maps, every decoder layer and the two-stage term trained as the original does."""

    backend: Any
    root: Path
    _maps: List[Any] = field(default_factory=list)
    _model_output: Any = None
    loss_terms: Dict[str, float] = field(default_factory=dict)   # the last forward's loss terms (unweighted)

    def __post_init__(self) -> None:
        real = self.backend.model.loss_function

        def detection_loss(logits, labels, device, pred_boxes, config, label_maps, text_mask, **kwargs):
            if not self._maps:    # not a DinoTask forward: transformers' loss as it is
                return real(logits, labels, device, pred_boxes, config, label_maps, text_mask, **kwargs)
            maps = tuple(m.to(logits.device) for m in self._maps)
            config = copy.copy(config)
            config.auxiliary_loss = True
            if config.two_stage:
                kwargs.update(encoder_proposals(self._model_output, config.num_queries,
                                                kwargs.get("encoder_pred_boxes")))
            loss, terms, aux = real(logits, labels, device, pred_boxes, config, maps, text_mask, **kwargs)
            self.loss_terms = {k: float(v.detach()) for k, v in terms.items()}
            return loss, terms, aux

        self.backend.model.loss_function = detection_loss

    def _capture(self, _module, _inputs, output) -> None:
        self._model_output = output

    def units(self, samples: Sequence[Sample]) -> List[Unit]:
        return [Unit(s, list(range(len(s.groundings)))) for s in samples if s.groundings]

    def encode(self, unit: Unit) -> Tuple[Dict[str, Any], Dict[str, Any], Any]:
        """(processor inputs as `ground()` makes them, the target, each phrase's label map over the tokens)."""
        import torch

        from grounding_node.models.prompts import grounding_dino_caption

        phrases = [g.phrase for g in unit.sample.groundings]
        caption, spans = grounding_dino_caption(phrases)
        inputs = self.backend.processor(images=load_rgb(self.root, unit.sample), text=caption, return_tensors="pt")
        ids = inputs["input_ids"][0].tolist()
        tokens = self.backend.token_spans(caption, spans, ids)
        maps = torch.zeros((len(phrases), int(self.backend.model.config.max_text_len)), dtype=torch.long)
        for p, toks in enumerate(tokens):
            maps[p, toks] = 1
        labels, boxes = [], []
        for p, g in enumerate(unit.sample.groundings):
            for x1, y1, x2, y2 in g.boxes_1024:
                labels.append(p)
                boxes.append([(x1 + x2) / 2048.0, (y1 + y2) / 2048.0, (x2 - x1) / 1024.0, (y2 - y1) / 1024.0])
        target = {"class_labels": torch.tensor(labels, dtype=torch.long),
                  "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)}
        return dict(inputs), target, maps

    def loss(self, units: Sequence[Unit], train: bool) -> float:
        """Mean detection loss over the batch's images, one forward each; backpropagated when `train`."""
        from grounding_node.models.hf import move_inputs

        backend, total = self.backend, 0.0
        for unit in units:
            inputs, target, maps = self.encode(unit)
            target = {k: v.to(backend.device) for k, v in target.items()}
            target["boxes"] = target["boxes"].to(backend.dtype)
            self._maps = [maps]
            hook = backend.model.model.register_forward_hook(self._capture)   # GroundingDinoModel's outputs
            try:
                out = backend.model(**move_inputs(inputs, backend.device, backend.dtype), labels=[target],
                                    return_dict=True)
            finally:
                self._maps, self._model_output = [], None
                hook.remove()
            loss = out.loss / len(units)
            if train:
                loss.backward()
            total += float(loss.detach())
        return total

    def limit_generation(self) -> int:
        return 0


def make_task(backend, root: Path):
    """The task for a loaded backend: Grounding DINO's detection loss, or the text answer's cross-entropy."""
    from grounding_node.models.generative import GenerativeBackend
    from grounding_node.models.grounding_dino import GroundingDinoBackend

    if isinstance(backend, GroundingDinoBackend):
        return DinoTask(backend, Path(root))
    if isinstance(backend, GenerativeBackend):
        return GenerativeTask(backend, Path(root))
    raise ValueError(f"backend '{backend.name}' cannot be fine-tuned here (transformers families: florence2, "
                     "paligemma, qwen_vl, grounding_dino)")


__all__ = ["DinoTask", "GenerativeTask", "Unit", "collate", "encoder_proposals", "load_rgb", "make_task"]
