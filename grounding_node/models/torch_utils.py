"""Device and dtype choice shared by the torch backends (kept apart so numpy-only code never imports torch)."""

from __future__ import annotations

from typing import Any, Tuple


def resolve_device_dtype(device: str = "auto", dtype: str = "auto") -> Tuple[str, Any]:
    """Map the `device`/`dtype` parameters to a torch device string and dtype.

    auto device: "cuda" when available, else "cpu". auto dtype: bfloat16 on CUDA devices that
    support it (float16 otherwise), float32 on CPU, where half precision is slow or unsupported.
    """
    import torch

    if device in ("", "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device '{device}' requested but CUDA is not available")
    names = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
             "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if dtype in ("", "auto"):
        if device.startswith("cuda"):
            torch_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            torch_dtype = torch.float32
    elif dtype in names:
        torch_dtype = names[dtype]
    else:
        raise ValueError(f"unknown dtype '{dtype}'; use auto, float32, float16 or bfloat16")
    return device, torch_dtype
