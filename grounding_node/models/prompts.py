"""Phrases -> the prompt each family was trained to answer with boxes (pure string functions).

Shared by the local transformers backends and the remote backend, so a model gets the same prompt
whether it runs on the robot or on a GPU server.
"""

from __future__ import annotations

import json
import math
from typing import List, Sequence, Tuple

FLORENCE2_CAPTION_GROUNDING = "<CAPTION_TO_PHRASE_GROUNDING>"
FLORENCE2_OPEN_VOCABULARY = "<OPEN_VOCABULARY_DETECTION>"
FLORENCE2_TASKS = ("auto", FLORENCE2_CAPTION_GROUNDING, FLORENCE2_OPEN_VOCABULARY)

#: Qwen-VL's image budget, shared by the local backend and `remote` so both see the same resolution:
#: 1280 tokens of 28x28 pixels (the Qwen2.5-VL README's example budget). The checkpoints ship 12,845,056,
#: which would not downscale even a 4K frame; the backend option `max_pixels` overrides it for both.
QWEN_MAX_PIXELS = 1280 * 28 * 28
QWEN_MIN_PIXELS = 56 * 56


def florence2_task(phrase: str, task: str = "auto") -> str:
    """The task a phrase is asked with. `auto`: `<OPEN_VOCABULARY_DETECTION>` ("Locate {phrase} in the
    image.", it answers with the one thing asked for) when the phrase is a single noun phrase ("red mug"),
    `<CAPTION_TO_PHRASE_GROUNDING>` when it names other objects ("the mug next to the laptop"): caption
    grounding boxes every noun phrase and the referent rule (`referent`) keeps the mug's boxes."""
    if task not in FLORENCE2_TASKS:
        raise ValueError(f"florence2 task must be one of {FLORENCE2_TASKS}, got '{task}'")
    if task != "auto":
        return task
    from grounding_node.models.referent import is_single_noun_phrase

    return FLORENCE2_OPEN_VOCABULARY if is_single_noun_phrase(phrase) else FLORENCE2_CAPTION_GROUNDING


def florence2_prompt(phrase: str, task: str = "auto") -> str:
    """Task token followed by the phrase; the processor expands it to the model's instruction."""
    return f"{florence2_task(phrase, task)}{phrase}"


#: A chat template for PaliGemma, which ships none: the user message's text parts, verbatim (the
#: server's PaliGemma processor adds the image tokens and the newline itself). `remote` sends it as the
#: request's `chat_template` (a vLLM request field); or start vLLM with `--chat-template` and a file
#: holding it, and set `extra_body: {"chat_template": null}`.
PALIGEMMA_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'user' %}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}"
    "{% endif %}{% endif %}{% endfor %}"
)


def paligemma_prompt(phrases: Sequence[str]) -> str:
    """`detect a ; b`: PaliGemma's detection prefix, every phrase in one prompt (one generate per frame)."""
    return "detect " + " ; ".join(p.strip().lower() for p in phrases)


def qwen_json_prompt(phrases: Sequence[str], relative: bool = False) -> str:
    """Ask for every instance of every phrase as a JSON list of `bbox_2d` + `label`.

    Qwen2.5-VL answers in absolute pixels of its input; Qwen3-VL (`relative=True`) in 0-1000.
    """
    names = ", ".join(json.dumps(p.strip()) for p in phrases)
    unit = "on a 0-1000 scale" if relative else "in pixels"
    return (f"Locate every instance of each of these: {names}. "
            f"Output their bbox coordinates {unit} in JSON format as "
            '[{"bbox_2d": [x1, y1, x2, y2], "label": "<one of the names>"}]. '
            "Output [] if none is present.")


def qwen2_prompt(phrase: str) -> str:
    """Qwen2-VL's native grounding request: the phrase between its reference tokens (the format of
    ms-swift's Qwen2-VL grounding data, "Find <|object_ref_start|>the man<|object_ref_end|>"), answered
    with `<|box_start|>(x1,y1),(x2,y2)<|box_end|>` on 0-1000."""
    return f"Find <|object_ref_start|>{phrase.strip()}<|object_ref_end|>"


def kosmos2_prompt(phrase: str) -> str:
    """`<grounding><phrase> a red mug</phrase>`: Kosmos-2 continues with `<object><patch_index_..>..</object>`."""
    return f"<grounding><phrase> {phrase.strip()}</phrase>"


def grounding_dino_caption(phrases: Sequence[str]) -> Tuple[str, List[Tuple[int, int]]]:
    """`a red mug. a blue cup.` and each phrase's [start, end) character span in it (its period excluded).
    A '.' inside a phrase ("the tin marked no. 5") stays in its span: the backend maps phrases to tokens
    through the tokenizer's offsets, never by counting periods."""
    parts, spans, pos = [], [], 0
    for p in phrases:
        text = p.strip().lower().rstrip(".").strip()
        spans.append((pos, pos + len(text)))
        parts.append(text + ".")
        pos += len(text) + 2
    return " ".join(parts), spans


def grounding_dino_text(phrases: Sequence[str]) -> str:
    """`a red mug. a blue cup.`: lower case, each phrase ended by a period (the model's caption format)."""
    return grounding_dino_caption(phrases)[0]


def qwen_smart_size(width: int, height: int, factor: int = 28, min_pixels: int = QWEN_MIN_PIXELS,
                    max_pixels: int = QWEN_MAX_PIXELS) -> Tuple[int, int]:
    """The (W, H) Qwen-VL resizes an image to: multiples of `factor`, area within [min, max] pixels.

    The remote backend resizes to this itself before sending, so the pixel coordinates Qwen2.5-VL
    answers in refer to an image size the client knows (servers resize inside the model otherwise).
    """
    h = max(factor, round(height / factor) * factor)
    w = max(factor, round(width / factor) * factor)
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return int(w), int(h)
