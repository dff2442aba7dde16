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
                  weights: torch.Tensor) -> torch.Tensor:
    """Channel-weighted BCE with logits, mean over pixels and valid (sample, channel) entries; with all
    channels valid this is ``BCEWithLogitsLoss(weight=weights)``."""
    bce = F.binary_cross_entropy_with_logits(logits.float(), labels.float(), reduction="none").mean(dim=(2, 3))
    v = valid.to(bce.dtype)
    return (bce * v * weights.to(bce.dtype)).sum() / v.sum().clamp(min=1.0)
