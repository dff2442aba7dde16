"""The project's checkpoint format: one .safetensors file whose header carries the model configuration.

Loading rebuilds the model from the file alone. Header metadata (all strings):
  format = "distinctnet", format_version = "1", config = ModelConfig JSON, meta = free JSON (training info).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from .. import __version__
from ..errors import fail
from .config import ModelConfig
from .distinctnet import DistinctNet

FORMAT = "distinctnet"
FORMAT_VERSION = "1"


def save_checkpoint(model: DistinctNet, path: str | Path, meta: dict | None = None,
                    dtype: torch.dtype | None = None) -> None:
    """Write weights + config atomically. ``dtype=torch.float16`` halves the file (weights are cast back
    to float32 on loading)."""
    from safetensors.torch import save

    from ..io import atomic_write_bytes

    tensors = {}
    for k, v in model.state_dict().items():
        v = v.detach().to("cpu").contiguous().clone()
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        tensors[k] = v
    cfg = model.cfg.replace(encoder_weights=None)  # the weights are in this file now
    header = _header(cfg.to_json(), {"distinctnet_version": __version__, **(meta or {})})
    atomic_write_bytes(path, save(tensors, metadata=header))


def _header(config_json: str, meta: dict) -> dict[str, str]:
    """The safetensors metadata of a checkpoint (all values strings)."""
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "config": config_json, "meta": json.dumps(meta)}


def read_header(path: str | Path) -> dict:
    """The metadata of a checkpoint, with 'config' and 'meta' decoded; a clear error for anything else."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise fail(path, "checkpoint not found")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
    except Exception:  # noqa: BLE001 - safetensors raises several types for foreign files
        raise fail(path, "not a distinctnet checkpoint (not a safetensors file)") from None
    if header.get("format") != FORMAT:
        raise fail(path, "not a distinctnet checkpoint (safetensors file without a distinctnet header)")
    if header.get("format_version") != FORMAT_VERSION:
        raise fail(path, f"checkpoint format version {header.get('format_version')} is not supported by "
                         f"distinctnet {__version__} (supports {FORMAT_VERSION})")
    return {"config": json.loads(header["config"]), "meta": json.loads(header.get("meta", "{}"))}


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> DistinctNet:
    """Rebuild the model from the file alone, in eval mode."""
    from safetensors.torch import load_file

    header = read_header(path)
    model = DistinctNet(ModelConfig.from_dict(header["config"]))
    sd = load_file(str(path), device="cpu")
    ref = model.state_dict()
    sd = {k: v.to(ref[k].dtype) if k in ref else v for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if missing or unexpected:
        raise fail(path, f"weights do not match its own config ({len(missing)} missing, "
                         f"{len(unexpected)} unexpected tensors): file corrupted or from another version")
    model.meta = header["meta"]
    return model.to(map_location).eval()


def rewrite_meta(src: str | Path, dst: str | Path, update: dict) -> None:
    """Copy checkpoint ``src`` to ``dst`` with ``update`` merged into its meta; tensors are copied unchanged."""
    from safetensors.torch import load_file, save

    from ..io import atomic_write_bytes

    header = read_header(src)
    tensors = load_file(str(src), device="cpu")
    out = _header(json.dumps(header["config"], sort_keys=True), {**header["meta"], **update})
    atomic_write_bytes(dst, save(tensors, metadata=out))
