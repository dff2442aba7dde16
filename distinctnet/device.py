"""Device selection and mixed precision, so no code path hard-codes `.cuda()`."""
from __future__ import annotations

from contextlib import nullcontext

import torch

from .errors import UserError


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when available, else CPU. Asking for CUDA on a machine without it is a user error."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"--device {name}: CUDA is not available on this machine (use --device cpu or auto)")
    return dev


def autocast(device: torch.device, enabled: bool = True):
    """bf16 autocast on CUDA; a no-op elsewhere (bf16 on these CPUs is slower than fp32)."""
    if enabled and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def prepare_for_inference(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in eval mode on ``device``, in channels_last layout (feed it :func:`to_device_layout` inputs).
    Measured on an H200 by ``python -m eval.gpu_check`` (paper preset, bf16, batch 32): channels_last +5%; cuDNN
    autotuning +0%, so it stays off (it would re-tune for every new batch size, such as each video's last chunk).
    On the CPU the model is a copy with its batch norms folded into the convolutions (``modeling/fold.py``; on CUDA,
    unmeasured, it is left as it is). On the 2-core CPU (oneDNN, fp32; ``eval/RESULTS.md``) both together run the
    bundled model about 20% faster, its max-pool about ten times faster, for the same outputs up to float rounding."""
    if device.type == "cpu":
        from .modeling.fold import fold_batchnorm

        model = fold_batchnorm(model)
    return model.eval().to(device).to(memory_format=torch.channels_last)


def to_device_layout(x: torch.Tensor) -> torch.Tensor:
    """Image batch in the memory layout :func:`prepare_for_inference` chose for its device."""
    return x.contiguous(memory_format=torch.channels_last) if x.dim() == 4 else x
