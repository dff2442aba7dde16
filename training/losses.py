"""Losses of the two heads. ``valid`` (B x C bool) drops label channels a video does not annotate."""
from __future__ import annotations

import torch
import torch.nn.functional as F

#: channel weights of the semantic loss (the reference: bg 1, fg 2, manipulator 3, object 10, distractor 8)
DEFAULT_CLASS_WEIGHTS = {"background": 1.0, "foreground": 2.0, "robot": 3.0, "arm": 3.0, "gripper": 5.0,
                         "object": 10.0, "distractor": 8.0}


def motion_loss(logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """2-class cross-entropy; logits B x 2 x H x W, labels B x 1 x H x W (moving foreground), valid B x 1."""
    ce = F.cross_entropy(logits.float(), labels[:, 0].long(), reduction="none").mean(dim=(1, 2))
    w = valid[:, 0].to(ce.dtype)
    return (ce * w).sum() / w.sum().clamp(min=1.0)


def semantic_loss(logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor,
                  weights: torch.Tensor, dice_weight: float = 0.0) -> torch.Tensor:
    """Channel-weighted BCE with logits, mean over pixels and valid (sample, channel) entries; with all
    channels valid this is ``BCEWithLogitsLoss(weight=weights)``. With ``dice_weight`` > 0 plus that times
    :func:`soft_dice_loss` (per-pixel BCE barely notices a missed gripper of a few hundred pixels; Dice
    measures each part against its own size)."""
    bce = F.binary_cross_entropy_with_logits(logits.float(), labels.float(), reduction="none").mean(dim=(2, 3))
    v = valid.to(bce.dtype)
    loss = (bce * v * weights.to(bce.dtype)).sum() / v.sum().clamp(min=1.0)
    if dice_weight:
        loss = loss + dice_weight * soft_dice_loss(logits, labels, valid)
    return loss


def soft_dice_loss(logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 - soft Dice per channel over the batch's valid samples (probabilities and labels summed over those
    samples' pixels, so a sample without the part adds its false positives and nothing else), averaged over
    the channels with at least one valid sample."""
    p = torch.sigmoid(logits.float())
    t = labels.float()
    v = valid.to(p.dtype)[:, :, None, None]
    inter = (p * t * v).sum(dim=(0, 2, 3))
    total = (p * v).sum(dim=(0, 2, 3)) + (t * v).sum(dim=(0, 2, 3))
    dice = (2 * inter + smooth) / (total + smooth)
    has = valid.any(dim=0)
    if not has.any():
        return logits.sum() * 0.0
    return (1 - dice)[has].mean()
