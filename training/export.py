"""The best Lightning checkpoint -> the project's checkpoint format (``.safetensors`` with the model config).

    python -m training.export runs/x/checkpoints/best.ckpt model.safetensors
    python -m training.export model.safetensors small.safetensors --fp16   # half the file, e.g. to ship it
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from distinctnet.errors import UserError, fail


def read_lightning_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise fail(path, "checkpoint not found")
    try:
        # our own training checkpoint: it holds loop and callback state next to the weights
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is reported with its name
        raise fail(path, f"not a Lightning checkpoint ({type(e).__name__})") from None


def export_checkpoint(ckpt_path: str | Path, out_path: str | Path, meta: dict | None = None,
                      dtype: torch.dtype | None = None) -> Path:
    """Rebuild the network from the checkpoint's hyperparameters, load its weights, save_checkpoint."""
    from distinctnet.modeling import load_checkpoint, save_checkpoint

    from .module import build_net

    if str(ckpt_path).endswith(".safetensors"):  # already ours: re-save (e.g. in fp16), meta kept
        net = load_checkpoint(ckpt_path)
        info = {**net.meta, **(meta or {})}
        if dtype is not None:
            info["weights_dtype"] = str(dtype).replace("torch.", "")
        save_checkpoint(net, out_path, meta=info, dtype=dtype)
        return Path(out_path)
    ckpt = read_lightning_checkpoint(ckpt_path)
    hp = ckpt.get("hyper_parameters") or {}
    if "state_dict" not in ckpt or "preset" not in hp:
        raise fail(ckpt_path, "not a checkpoint of `distinctnet train` (no weights or no model settings)")
    net = build_net(hp["preset"], hp.get("net"))
    weights = {k[len("net."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    missing, unexpected = net.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise fail(ckpt_path, f"weights do not fit the network of its settings ({len(missing)} missing, "
                              f"{len(unexpected)} unexpected)")
    info = {"source": str(ckpt_path), "epoch": ckpt.get("epoch"), "global_step": ckpt.get("global_step"),
            "init_from": hp.get("init_from"), "freeze": hp.get("freeze")}
    for cb_key, cb_state in (ckpt.get("callbacks") or {}).items():
        if str(cb_key).startswith("ModelCheckpoint") and cb_state.get("best_model_score") is not None:
            info["monitor"] = cb_state.get("monitor")
            info["best_score"] = float(cb_state["best_model_score"])
            break
    info.update(meta or {})
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if dtype is not None:
        info["weights_dtype"] = str(dtype).replace("torch.", "")
    save_checkpoint(net, out_path, meta=info, dtype=dtype)
    return out_path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.splitlines()[0])
    p.add_argument("ckpt")
    p.add_argument("out")
    p.add_argument("--fp16", action="store_true", help="store the weights in float16 (half the file; loaded back "
                                                       "as float32)")
    args = p.parse_args(argv)
    try:
        print(export_checkpoint(args.ckpt, args.out, dtype=torch.float16 if args.fp16 else None))
    except UserError as e:
        print(f"export: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
