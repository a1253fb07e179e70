"""Load Qwen2-VL / Qwen2.5-VL / Qwen3-VL processors and model classes offline, without torchvision.

Why this module exists
----------------------
The stock ``Qwen2VLProcessor``, ``Qwen2_5_VLProcessor`` and ``Qwen3VLProcessor`` (and therefore
``AutoProcessor``) have a ``video_processor`` slot. Building it needs torchvision, and torchvision
cannot be installed next to our CPU torch (see docs / shared notes: the PyPI wheels either need a
newer torch or are CUDA builds that break ``import transformers``). So on our machines
``AutoProcessor.from_pretrained(<any Qwen-VL checkpoint>)`` fails, although the image processor
(PIL backend) and the tokenizer both load fine.

:class:`QwenVLImageProcessorOnly` is a small subclass of ``Qwen2_5_VLProcessor`` with only the
``image_processor`` and ``tokenizer`` slots. Image-text prompts of all three families go through the
same code (``<|vision_start|><|image_pad|>*N<|vision_end|>``, N = prod(image_grid_thw) / merge_size**2),
so this one class serves Qwen2-VL, Qwen2.5-VL and Qwen3-VL and loads real hub checkpoints.

Nothing here imports torch or transformers at module import time: the grounding package must
import cheaply. ``QwenVLImageProcessorOnly`` is built on first attribute access (module
``__getattr__``). ``trust_remote_code`` is never set: all three families are native in
transformers >= 4.57 / 5.x.
"""

from __future__ import annotations

import importlib.util
from typing import Any

# QwenVLImageProcessorOnly is real but lazy: the module __getattr__ below builds it on first access.
__all__ = [
    "QwenVLImageProcessorOnly",  # noqa: F822 -- defined lazily by the module __getattr__ (PEP 562)
    "load_qwen_processor",
    "qwen_model_class",
    "QWEN_MODEL_CLASSES",
]

#: ``config.model_type`` -> class name in ``transformers``.
QWEN_MODEL_CLASSES: dict[str, str] = {
    "qwen2_vl": "Qwen2VLForConditionalGeneration",
    "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
    "qwen3_vl": "Qwen3VLForConditionalGeneration",
    "qwen3_vl_moe": "Qwen3VLMoeForConditionalGeneration",
}

_IMAGE_ONLY_CLASS: type | None = None


def _build_image_only_class() -> type:
    """Create (once) the image-only processor class; imports transformers lazily."""
    global _IMAGE_ONLY_CLASS
    if _IMAGE_ONLY_CLASS is not None:
        return _IMAGE_ONLY_CLASS

    from transformers import Qwen2_5_VLProcessor
    from transformers.processing_utils import ProcessorMixin

    def _token_and_id(tokenizer: Any, attr: str, default: str) -> tuple[str, int]:
        token = getattr(tokenizer, attr, None) or default
        token_id = getattr(tokenizer, f"{attr}_id", None)
        if token_id is None:
            token_id = tokenizer.convert_tokens_to_ids(token)
        return token, token_id

    class QwenVLImageProcessorOnly(Qwen2_5_VLProcessor):
        """Qwen-VL processor with only image-processor and tokenizer slots (no video processor).

        Why it exists: the stock Qwen2-VL / Qwen2.5-VL / Qwen3-VL processors declare a
        ``video_processor`` slot, and building a video processor requires torchvision, which
        cannot be installed here next to the CPU torch. ``ProcessorMixin`` derives the slots from
        the ``__init__`` signature, so dropping ``video_processor`` from the signature makes
        ``from_pretrained`` load just the image processor (PIL backend) and the tokenizer.

        Image prompts behave exactly like the stock processors (same token ids, same
        ``image_grid_thw``, ``pixel_values`` and ``mm_token_type_ids``); passing ``videos=`` is
        simply ignored (the mixin only processes videos when a ``video_processor`` attribute exists).
        """

        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            self.image_token, self.image_token_id = _token_and_id(tokenizer, "image_token", "<|image_pad|>")
            self.video_token, self.video_token_id = _token_and_id(tokenizer, "video_token", "<|video_pad|>")
            # Skip Qwen2_5_VLProcessor.__init__: it would pass a third (video) positional slot.
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)
            # Qwen3-VL's processor also exposes these; harmless for the other families.
            self.vision_start_token, self.vision_start_token_id = _token_and_id(
                tokenizer, "vision_start_token", "<|vision_start|>"
            )
            self.vision_end_token, self.vision_end_token_id = _token_and_id(
                tokenizer, "vision_end_token", "<|vision_end|>"
            )

    QwenVLImageProcessorOnly.__module__ = __name__
    _IMAGE_ONLY_CLASS = QwenVLImageProcessorOnly
    return QwenVLImageProcessorOnly


def __getattr__(name: str) -> Any:  # PEP 562: build the transformers subclass only when asked for
    if name == "QwenVLImageProcessorOnly":
        return _build_image_only_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _torchvision_available() -> bool:
    return importlib.util.find_spec("torchvision") is not None


def load_qwen_processor(model_path_or_id: str, local_files_only: bool = True, **kwargs: Any):
    """Return a working processor for a Qwen2-VL / Qwen2.5-VL / Qwen3-VL checkpoint.

    ``model_path_or_id`` is a hub id (resolved from the local HF cache when ``local_files_only``)
    or a hub-style directory (``preprocessor_config.json``, tokenizer files, chat template).
    ``min_pixels`` / ``max_pixels`` (optional kwargs) override the image processor's resize budget
    (``size["shortest_edge"]`` / ``size["longest_edge"]``) after loading; they are not handed to
    ``from_pretrained``, which would also store them as per-call kwargs and warn on every call.
    Other ``kwargs`` go to ``from_pretrained`` (``revision=``, ``cache_dir=``, ...).

    Strategy (why not always ``AutoProcessor``): when torchvision is not importable, the stock
    processors cannot be built at all (video processor), so we go straight to
    :class:`QwenVLImageProcessorOnly` -- deterministic, and no wasted tokenizer load. When
    torchvision *is* present (e.g. a robot with a matching GPU build), ``AutoProcessor`` gives the
    full stock processor; if it still fails (broken torchvision, "operator torchvision::nms does
    not exist", missing video processor config...) we fall back to the image-only subclass. The
    fallback's error is raised chained to the ``AutoProcessor`` one if both fail.

    ``trust_remote_code`` is never set; passing ``trust_remote_code=True`` is rejected.
    """
    if kwargs.pop("trust_remote_code", False):
        raise ValueError("load_qwen_processor never uses trust_remote_code: Qwen-VL is native in transformers")
    model_path_or_id = str(model_path_or_id)
    pixel_budget = {
        key: kwargs.pop(name)
        for name, key in (("min_pixels", "shortest_edge"), ("max_pixels", "longest_edge"))
        if kwargs.get(name) is not None
    }
    processor = _load(model_path_or_id, local_files_only, kwargs)
    if pixel_budget:
        _set_pixel_budget(processor.image_processor, pixel_budget)
    return processor


def _set_pixel_budget(image_processor: Any, budget: dict[str, int]) -> None:
    size = image_processor.size
    if isinstance(size, dict):
        image_processor.size = {**size, **budget}
    else:  # transformers 5.x SizeDict
        for key, value in budget.items():
            setattr(size, key, value)


def _load(model_path_or_id: str, local_files_only: bool, kwargs: dict[str, Any]):
    first_error: BaseException | None = None
    if _torchvision_available():
        try:
            from transformers import AutoProcessor

            return AutoProcessor.from_pretrained(model_path_or_id, local_files_only=local_files_only, **kwargs)
        except Exception as exc:  # noqa: BLE001 - any failure here means "try the image-only path"
            first_error = exc

    cls = _build_image_only_class()
    try:
        return cls.from_pretrained(model_path_or_id, local_files_only=local_files_only, **kwargs)
    except Exception as exc:
        if first_error is not None:
            raise exc from first_error
        raise


def qwen_model_class(config: Any):
    """Return the ``...ForConditionalGeneration`` class for a Qwen-VL config.

    ``config`` may be a ``PretrainedConfig``, a ``config.json`` dict, or a ``model_type`` string.
    ``model_type`` ``qwen2_vl`` -> ``Qwen2VLForConditionalGeneration``, ``qwen2_5_vl`` ->
    ``Qwen2_5_VLForConditionalGeneration``, ``qwen3_vl`` -> ``Qwen3VLForConditionalGeneration``
    (``qwen3_vl_moe`` -> ``Qwen3VLMoeForConditionalGeneration``).

    Equivalent alternative (checked with transformers 5.24): ``AutoModelForImageTextToText`` maps
    all three model types to these same classes, so
    ``AutoModelForImageTextToText.from_pretrained(path, local_files_only=True)`` also works.
    (``AutoModelForCausalLM`` does not: it does not map the VL configs.)
    """
    if isinstance(config, str):
        model_type = config
    elif isinstance(config, dict):
        model_type = config.get("model_type")
    else:
        model_type = getattr(config, "model_type", None)
    name = QWEN_MODEL_CLASSES.get(model_type or "")
    if name is None:
        raise ValueError(
            f"not a Qwen-VL config: model_type={model_type!r} (expected one of {sorted(QWEN_MODEL_CLASSES)})"
        )
    import transformers

    return getattr(transformers, name)
