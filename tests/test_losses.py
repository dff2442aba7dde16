"""The training losses against naive per-sample, per-channel computations."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from training.losses import semantic_loss, soft_dice_loss


def _data(seed=0, b=3, c=4, h=9, w=11):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, c, h, w, generator=g) * 2
    labels = (torch.rand(b, c, h, w, generator=g) > 0.8).float()
    valid = torch.rand(b, c, generator=g) > 0.3
    valid[0, 0] = True
    return logits, labels, valid


def test_semantic_loss_without_dice_is_weighted_bce():
    logits, labels, _ = _data()
    valid = torch.ones(logits.shape[:2], dtype=torch.bool)
    w = torch.tensor([1.0, 2.0, 5.0, 10.0])
    ref = F.binary_cross_entropy_with_logits(logits, labels, weight=w[None, :, None, None])
    assert torch.allclose(semantic_loss(logits, labels, valid, w), ref, atol=1e-6)


def test_soft_dice_matches_a_loop_over_channels_and_valid_samples():
    logits, labels, valid = _data(1)
    p = torch.sigmoid(logits)
    losses = []
    for c in range(logits.shape[1]):
        keep = [b for b in range(logits.shape[0]) if valid[b, c]]
        if not keep:
            continue
        inter = sum(float((p[b, c] * labels[b, c]).sum()) for b in keep)
        total = sum(float(p[b, c].sum() + labels[b, c].sum()) for b in keep)
        losses.append(1 - (2 * inter + 1) / (total + 1))
    got = soft_dice_loss(logits, labels, valid)
    assert abs(float(got) - sum(losses) / len(losses)) < 1e-5
    w = torch.ones(logits.shape[1])
    both = semantic_loss(logits, labels, valid, w, dice_weight=0.5)
    assert torch.allclose(both, semantic_loss(logits, labels, valid, w) + 0.5 * got, atol=1e-6)


def test_soft_dice_rewards_the_small_part_bce_ignores():
    """A 3x3 part in a 64x64 frame: missing it entirely costs BCE little, Dice nearly everything."""
    labels = torch.zeros(1, 1, 64, 64)
    labels[0, 0, 30:33, 30:33] = 1
    valid = torch.ones(1, 1, dtype=torch.bool)
    miss = torch.full_like(labels, -10.0)
    hit = torch.where(labels > 0, 10.0, -10.0)  # soft Dice also counts the background's tiny probabilities
    assert float(soft_dice_loss(miss, labels, valid)) > 0.9
    assert float(soft_dice_loss(hit, labels, valid)) < 0.05
    w = torch.ones(1)
    assert float(semantic_loss(miss, labels, valid, w)) < 0.03  # BCE: the miss is cheap (9 of 4096 pixels)
    # a batch without any valid sample gives 0 (and a gradient of zeros), not NaN
    none = torch.zeros(1, 1, dtype=torch.bool)
    x = miss.clone().requires_grad_()
    loss = soft_dice_loss(x, labels, none)
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.count_nonzero(x.grad) == 0
