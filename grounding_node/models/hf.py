"""What every transformers backend shares: safe loading, PIL conversion, and scored generation.

Kept apart from the family modules so each of those is only its prompt, its processor call and its
parser. Nothing here imports torch or transformers at module import time: the node imports the
registry on start-up and only the selected backend pays for its framework.

Scores of generative families: a VLM that writes boxes as text has no detection score, so a box's
score is the **mean probability of the tokens that encode it** (softmax of the model's raw logits at
each generated step, before any logits processor), in 0..1 like a detector's score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from grounding_node.models.base import BackendConfig, Detection


def to_pil(rgb: np.ndarray):
    """HxWx3 uint8 RGB -> PIL image (processors expect PIL or arrays; PIL is the common denominator)."""
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(rgb), mode="RGB")


def pretrained_kwargs(config: BackendConfig) -> Dict[str, Any]:
    """Keyword arguments for every `from_pretrained` call: offline when asked, never remote code."""
    kwargs: Dict[str, Any] = {"local_files_only": bool(config.local_files_only), "trust_remote_code": False}
    revision = config.extra.get("revision")
    if revision:
        kwargs["revision"] = str(revision)
    return kwargs


def load_model(model_cls, config: BackendConfig, default_model: str = ""):
    """`model_cls.from_pretrained` on the configured device and dtype, in eval mode.

    Returns (model, device, dtype). `model` is a hub id or a local directory: on an offline robot,
    point it at a directory holding config.json, the weights and the processor files.
    """
    from grounding_node.models.torch_utils import resolve_device_dtype

    name = config.model or default_model
    if not name:
        raise ValueError("parameter 'model' is empty: give a hub id or a local model directory")
    device, dtype = resolve_device_dtype(config.device, config.dtype)
    model = model_cls.from_pretrained(name, dtype=dtype, **pretrained_kwargs(config))
    model.to(device).eval()
    return model, device, dtype


def move_inputs(inputs, device: str, dtype) -> Dict[str, Any]:
    """Processor output -> tensors on `device`; floating tensors (pixel values) in the model dtype."""
    out = {}
    for key, value in dict(inputs).items():
        if hasattr(value, "to"):
            value = value.to(device)
            if value.is_floating_point():
                value = value.to(dtype)
        out[key] = value
    return out


@dataclass
class Generation:
    """One generated sequence: its new token ids and the model's probability of each."""

    ids: List[int]
    probs: np.ndarray


def generate_scored(model, inputs: Dict[str, Any], max_new_tokens: int,
                    logits_processor: Optional[Sequence[Any]] = None, **kwargs) -> List[Generation]:
    """Greedy `generate()` that also returns each new token's probability under the raw logits.

    Works for decoder-only and encoder-decoder models alike: the new tokens are the last
    len(logits) tokens of each sequence. A caller-supplied `logits_processor` (e.g. constrained
    decoding) changes which token is chosen, never the probability reported for it.
    """
    import torch

    extra = dict(kwargs)
    if logits_processor:
        from transformers import LogitsProcessorList

        extra["logits_processor"] = LogitsProcessorList(list(logits_processor))
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=int(max_new_tokens), do_sample=False, num_beams=1,
                             output_logits=True, return_dict_in_generate=True, **extra)
        steps = len(out.logits)
        if steps == 0:
            return [Generation([], np.zeros(0)) for _ in range(out.sequences.shape[0])]
        new_ids = out.sequences[:, -steps:]
        logits = torch.stack(list(out.logits), dim=1).float()            # (B, steps, V)
        probs = torch.softmax(logits, dim=-1).gather(-1, new_ids.unsqueeze(-1)).squeeze(-1)
    return [Generation(new_ids[b].tolist(), probs[b].cpu().numpy()) for b in range(new_ids.shape[0])]


def trim_at_end(gen: Generation, stop_ids: Sequence[int]) -> Generation:
    """Cut a sequence at its first end/pad token (batched generation pads finished rows)."""
    stops = set(int(i) for i in stop_ids if i is not None)
    for k, tok in enumerate(gen.ids):
        if tok in stops:
            return Generation(gen.ids[:k], gen.probs[:k])
    return gen


def decode_with_spans(tokenizer, ids: Sequence[int]) -> Tuple[str, List[Tuple[int, int]]]:
    """Decode `ids` (special tokens kept) and give each token its [start, end) character span.

    The text comes from the tokenizer's own decoder (byte-level BPE, SentencePiece spaces, byte
    fallback), fed one token at a time through `tokenizers`' DecodeStream: linear in the answer's
    length. A token that only completes a multi-byte character later gets an empty span and the
    character goes to the token that completes it. Tokenizers without a Rust backend fall back to
    decoding growing prefixes (quadratic, same spans).
    """
    backend = getattr(tokenizer, "_tokenizer", None)
    try:
        from tokenizers.decoders import DecodeStream

        if backend is None:
            raise TypeError("no fast tokenizer")
        stream = DecodeStream(skip_special_tokens=False)
        pieces = [stream.step(backend, int(tok)) or "" for tok in ids]
    except (ImportError, TypeError, AttributeError):
        pieces, previous = [], ""
        for k in range(len(ids)):
            text = tokenizer.decode(list(ids[: k + 1]), skip_special_tokens=False, clean_up_tokenization_spaces=False)
            pieces.append(text[len(previous):] if text.startswith(previous) else "")
            previous = text if text.startswith(previous) else previous
    spans, pos = [], 0
    for piece in pieces:
        spans.append((pos, pos + len(piece)))
        pos += len(piece)
    return "".join(pieces), spans


def span_score(spans: Optional[Sequence[Tuple[int, int]]], probs: Optional[np.ndarray], span: Tuple[int, int]) -> float:
    """Mean probability of the tokens whose characters overlap `span` (0 when none do)."""
    if spans is None or probs is None:
        return 0.0
    start, end = span
    picked = [float(p) for (a, b), p in zip(spans, probs) if a < end and b > start]
    return float(np.mean(picked)) if picked else 0.0


def detections_from_text(gen: Generation, tokenizer, family, phrases: Sequence[str], indices: Sequence[int],
                         result: Optional[List[List[Detection]]] = None,
                         input_size: Optional[Tuple[int, int]] = None) -> List[List[Detection]]:
    """Decode one generated sequence and turn it into detections for the asked phrases (`indices`):
    the family's parser, its referent rule, and the mean probability of each box's tokens as its score
    (`family.detections_from_answer`, the same code `remote` runs)."""
    from grounding_node.models.family import detections_from_answer

    text, spans = decode_with_spans(tokenizer, gen.ids)
    return detections_from_answer(family, text, spans, gen.probs, phrases, indices, input_size, result=result)


def merge_detections(per_phrase: List[List[Detection]], extra: List[List[Detection]]) -> List[List[Detection]]:
    """Concatenate two per-phrase lists and keep each sorted by score."""
    merged = [list(a) + list(b) for a, b in zip(per_phrase, extra)]
    for dets in merged:
        dets.sort(key=lambda d: -d.score)
    return merged


def select_per_phrase(scores: np.ndarray, boxes_1024: np.ndarray, floor: float, max_per_phrase: int,
                      nms_iou: float) -> List[List[Detection]]:
    """Detector heads -> per-phrase detections.

    `scores` (N, P): each of N predicted boxes scored against each of P phrases. Like the families'
    own post-processing, a box goes to its best phrase only, so "red mug" and "blue mug" do not
    share boxes. Then: score floor, non-maximum suppression (OpenCV) per phrase, best `max_per_phrase`.
    The final `score_threshold` is the pipeline's; `floor` only bounds the work here.
    """
    import cv2

    scores = np.asarray(scores, dtype=np.float32).reshape(len(boxes_1024), -1)
    boxes_1024 = np.asarray(boxes_1024, dtype=np.float32).reshape(-1, 4)
    n_phrases = scores.shape[1]
    result: List[List[Detection]] = [[] for _ in range(n_phrases)]
    if len(boxes_1024) == 0:
        return result
    best = scores.argmax(axis=1)
    for p in range(n_phrases):
        idx = np.flatnonzero((best == p) & (scores[:, p] >= floor))
        if idx.size == 0:
            continue
        xywh = np.column_stack([boxes_1024[idx, :2], boxes_1024[idx, 2:] - boxes_1024[idx, :2]])
        keep = cv2.dnn.NMSBoxes(xywh.tolist(), scores[idx, p].tolist(), float(floor), float(nms_iou))
        keep = np.asarray(keep, dtype=np.int64).reshape(-1)
        order = keep[np.argsort(-scores[idx[keep], p], kind="stable")][: max(0, int(max_per_phrase))]
        result[p] = [Detection(tuple(float(v) for v in boxes_1024[idx[k]]), float(scores[idx[k], p])) for k in order]
    return result
