"""Refine the network's probabilities with the frame itself: ``distinctnet label --refine MODE``.

The decoder draws its masks on a grid of 4 x 4 input pixels (a 48 x 84 grid at 192x336), which the labeller
upsamples to the frame: outlines come out soft and a few pixels off, and half of the robot's wrong pixels lie within
3 pixels of its outline (eval/QUALITY.md, rows 34-). Two cheap steps on the full-size frame, after the passes:

- ``edges``: a guided filter (He et al. 2010; ``kornia.filters.guided_blur``) of every channel, guided by the
  frame's colours: inside a window of ``RADIUS`` input pixels each probability becomes a linear function of the
  colour, so the soft outline snaps to the colour edges nearby. ``EPS`` (squared colour units of [0, 1] RGB) sets
  how small a colour step counts as an edge. Large frames are filtered on every ``s``-th pixel (the fast guided
  filter) so that the cost stays that of a frame about the network's size.
- ``gate``: the robot, gripper and distractor are kept only where the foreground channel is above its threshold.
  The foreground channel, trained on everything that moves, is cleaner than the part channels, whose low
  calibrated thresholds (gripper 0.1) let in specks far from the robot. The grasped object is left alone: gating it
  too cost object IoU on the sets it was chosen on (eval/QUALITY.md, rows 34-).

``both`` runs ``edges`` then ``gate``. A model without a foreground channel can take ``edges`` only.
"""
from __future__ import annotations

from ..errors import UserError

MODES = ("none", "edges", "gate", "both")
RADIUS = 6.5   # guided-filter window radius, in network-input pixels (8 pixels of a 240x416 frame at 192x336)
EPS = 3e-5     # guided-filter regularisation, squared [0, 1] colour units
GATED = ("robot", "gripper", "distractor")  # the channels ``gate`` keeps inside the foreground only


def can_gate(classes: tuple[str, ...]) -> bool:
    """Whether a model with these output channels has a foreground channel and parts to gate with it."""
    return "foreground" in classes and any(c in GATED for c in classes)


def check_refine(mode: str, classes: tuple[str, ...]) -> str:
    """``mode`` if this model can take it, else a UserError."""
    if mode not in MODES:
        raise UserError(f"--refine: {mode!r} is not one of {', '.join(MODES)}")
    if mode in ("gate", "both") and not can_gate(classes):
        raise UserError(f"--refine {mode} needs a model with a foreground channel and part channels; this one has "
                        f"{', '.join(classes)} (use --refine edges)")
    return mode


def filter_size(frame_h: int, input_h: int, radius: float = RADIUS) -> tuple[int, int]:
    """(window size 2r + 1 in frame pixels, subsample step) for frames ``frame_h`` high labelled at ``input_h``."""
    scale = frame_h / input_h
    r = max(1, int(radius * scale + 0.5))
    return 2 * r + 1, max(1, int(scale / 1.25))


def refine(probs, frames, mode: str, classes: tuple[str, ...], thresholds: dict[str, float], input_h: int,
           radius: float = RADIUS, eps: float = EPS):
    """``probs`` (B x C x H x W, on any device) refined by ``mode`` using ``frames`` (B x 3 x H x W uint8 RGB, same
    device); returns a new float tensor (probabilities stay in [0, 1])."""
    import torch

    probs = probs.float()
    if mode in ("edges", "both"):
        from kornia.filters import guided_blur

        size, sub = filter_size(probs.shape[-2], input_h, radius)
        with torch.autocast(probs.device.type, enabled=False):  # eps is far below bf16/fp16 resolution
            probs = guided_blur(frames.float().div(255.0), probs, size, eps, subsample=sub).clamp_(0.0, 1.0)
    if mode in ("gate", "both"):
        fg = probs[:, classes.index("foreground")] > thresholds["foreground"]
        ch = [i for i, c in enumerate(classes) if c in GATED]
        probs = probs.clone() if mode == "gate" else probs
        probs[:, ch] *= fg.unsqueeze(1).to(probs.dtype)
    return probs
