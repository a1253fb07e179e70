"""Phrases -> the prompt each family was trained to answer with boxes (pure string functions).

Shared by the local transformers backends and the remote backend, so a model gets the same prompt
whether it runs on the robot or on a GPU server.
"""

from __future__ import annotations

import json
import math
from typing import Sequence, Tuple

FLORENCE2_TASKS = ("<CAPTION_TO_PHRASE_GROUNDING>", "<OPEN_VOCABULARY_DETECTION>")


def florence2_prompt(phrase: str, task: str = "<CAPTION_TO_PHRASE_GROUNDING>") -> str:
    """Task token followed by the phrase; the processor expands it to the model's instruction."""
    if task not in FLORENCE2_TASKS:
        raise ValueError(f"florence2 task must be one of {FLORENCE2_TASKS}, got '{task}'")
    return f"{task}{phrase}"


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
    """Qwen2-VL's native grounding request, answered with object_ref/box special tokens (0-1000)."""
    return f"Output the bounding box of {phrase.strip()} in the image."


def kosmos2_prompt(phrase: str) -> str:
    """`<grounding><phrase> a red mug</phrase>`: Kosmos-2 continues with `<object><patch_index_..>..</object>`."""
    return f"<grounding><phrase> {phrase.strip()}</phrase>"


def grounding_dino_text(phrases: Sequence[str]) -> str:
    """`a red mug. a blue cup.`: lower case, each phrase ended by a period (the model's caption format)."""
    return " ".join(p.strip().lower().rstrip(".") + "." for p in phrases)


def qwen_smart_size(width: int, height: int, factor: int = 28, min_pixels: int = 56 * 56,
                    max_pixels: int = 1280 * 28 * 28) -> Tuple[int, int]:
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
