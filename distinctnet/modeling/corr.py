"""How the two frames' features meet. Each op maps (target, reference) features, both B x C x H x W, to a
B x K x H x W tensor laid out over the TARGET frame's positions."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class GlobalCorrelation(nn.Module):
    """Every target position against every reference position (the reference network): L2-normalise both
    over channels, all-pairs dot products, ReLU, L2-normalise over the H*W correlation channels.
    Channel j is reference position j, so K = H*W fixes the input size."""

    def __init__(self, size: tuple[int, int]):
        super().__init__()
        self.size = tuple(size)
        self.out_channels = size[0] * size[1]

    def forward(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        b, c, h, w = f1.shape
        if (h, w) != self.size:
            raise ValueError(f"global correlation was built for {self.size} features, got {(h, w)}: "
                             "feed the model its native input size")
        f1 = F.normalize(f1.flatten(2), dim=1)                       # B x C x HW (target)
        f2 = F.normalize(f2.flatten(2), dim=1)                       # B x C x HW (reference)
        corr = torch.bmm(f2.transpose(1, 2), f1)                    # B x HW_ref x HW_target
        corr = F.relu(corr.view(b, h * w, h, w))
        return F.normalize(corr, dim=1)


class LocalCorrelation(nn.Module):
    """Target position against reference positions within +-radius cells (a cost volume, as in optical
    flow): same normalisation as the global one, (2r+1)^2 channels, works at any input size."""

    def __init__(self, radius: int = 4):
        super().__init__()
        self.radius = radius
        self.out_channels = (2 * radius + 1) ** 2

    def forward(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        r = self.radius
        h, w = f1.shape[-2:]
        f1 = F.normalize(f1, dim=1)
        f2 = F.pad(F.normalize(f2, dim=1), (r, r, r, r))
        corr = torch.stack([(f1 * f2[:, :, dy:dy + h, dx:dx + w]).sum(1)
                            for dy in range(2 * r + 1) for dx in range(2 * r + 1)], dim=1)
        return F.normalize(F.relu(corr), dim=1)


class CoAttention(nn.Module):
    """Co-attention (COSNet style, the paper's weaker ablation variant): affinity A = f1^T W f2, each target
    position gathers reference features weighted by softmax over reference positions. K = C."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Conv2d(channels, channels, 1, bias=False)
        self.out_channels = channels

    def forward(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        b, c, h, w = f1.shape
        q = f1.flatten(2)                                            # B x C x HW_t
        k = self.weight(f2).flatten(2)                               # B x C x HW_r
        attn = torch.softmax(torch.bmm(q.transpose(1, 2), k) / c ** 0.5, dim=2)   # B x HW_t x HW_r
        return torch.bmm(f2.flatten(2), attn.transpose(1, 2)).view(b, c, h, w)


class Merge(nn.Module):
    """op(target, reference) concatenated with both feature maps, reduced by a 3x3 conv + BN + ReLU to the
    width the next block expects."""

    def __init__(self, op: nn.Module, in_channels: int, out_channels: int):
        super().__init__()
        self.op = op
        self.reduce = nn.Sequential(
            nn.Conv2d(op.out_channels + 2 * in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, f1: torch.Tensor, f2: torch.Tensor) -> torch.Tensor:
        return self.reduce(torch.cat([self.op(f1, f2), f1, f2], dim=1))
