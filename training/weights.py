"""Start a stage from the previous stage's exported checkpoint, and freeze parts of the network."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from distinctnet.errors import UserError, fail


def copy_matching(net: nn.Module, source: dict[str, torch.Tensor], skip: list[str] = ()) -> dict[str, list[str]]:
    """Copy every tensor of ``source`` whose name and shape exist in ``net``, except names under a ``skip``
    prefix (e.g. ``decoder.head``, the last conv). Returns what was loaded and what stayed fresh."""
    own = net.state_dict()
    skip = tuple(skip)
    take = {k: v for k, v in source.items()
            if k in own and own[k].shape == v.shape and not any(k == s or k.startswith(s + ".") for s in skip)}
    net.load_state_dict(take, strict=False)
    return {"loaded": sorted(take), "fresh": sorted(set(own) - set(take)),
            "ignored": sorted(set(source) - set(take))}


def init_from_checkpoint(net: nn.Module, path: str | Path, skip: list[str] = ()) -> dict[str, list[str]]:
    """Initialise ``net`` from a project checkpoint (``.safetensors`` written by ``save_checkpoint``)."""
    from distinctnet.modeling import load_checkpoint

    source = load_checkpoint(path, map_location="cpu")
    report = copy_matching(net, source.state_dict(), skip)
    if not report["loaded"]:
        raise fail(path, "no tensor of this checkpoint fits the network being trained (another encoder?)")
    return report


def submodules(net: nn.Module, paths: list[str]) -> list[nn.Module]:
    out = []
    for p in paths:
        try:
            out.append(net.get_submodule(p))
        except AttributeError:
            names = ", ".join(n for n, _ in net.named_children())
            raise UserError(f"model.freeze: the network has no part {p!r} (top-level parts: {names})") from None
    return out


def freeze(modules: list[nn.Module]) -> None:
    """No gradients, and eval mode (BatchNorm running statistics stay as they are). Modules must be kept in
    eval mode after every ``.train()`` call: :class:`training.module.DistinctNetModule` does that."""
    for m in modules:
        m.eval()
        for p in m.parameters():
            p.requires_grad_(False)
