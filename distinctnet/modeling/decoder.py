"""DeepLabv3+ decoder (ASPP from segmentation-models-pytorch) and its recurrent variant.

Feed-forward: upsampled ASPP features + frame-1 low-level features (1x1 -> 48 ch), two 3x3 convs, 1x1 head.
Recurrent: a ConvLSTM after ASPP, and the two 3x3 convs replaced by ConvLSTM cells.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from segmentation_models_pytorch.decoders.deeplabv3.decoder import ASPP
from torch import nn

from .convlstm import ConvLSTMCell

LOW_LEVEL_CHANNELS = 48


def conv_bn_relu(cin: int, cout: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def build_aspp(in_channels: int, out_channels: int, rates) -> nn.Module:
    return ASPP(in_channels, out_channels, rates, separable=False, dropout=0.1)


class Decoder(nn.Module):
    """Returns (logits at stride 4, new state). ``state`` is None for the feed-forward decoder."""

    def __init__(self, aspp_channels: int, low_channels: int, channels: int, num_classes: int, recurrent: bool):
        super().__init__()
        self.recurrent = recurrent
        self.low = conv_bn_relu(low_channels, LOW_LEVEL_CHANNELS, 1)
        cin = aspp_channels + LOW_LEVEL_CHANNELS
        if recurrent:
            self.aspp_cell = ConvLSTMCell(aspp_channels, aspp_channels)
            self.cell1 = ConvLSTMCell(cin, channels)
            self.cell2 = ConvLSTMCell(channels, channels)
        else:
            self.convs = nn.Sequential(conv_bn_relu(cin, channels, 3), conv_bn_relu(channels, channels, 3))
        self.head = nn.Conv2d(channels, num_classes, 1)

    def forward(self, x: torch.Tensor, low: torch.Tensor, state=None):
        if self.recurrent:
            s0, s1, s2 = state if state is not None else (None, None, None)
            x, s0 = self.aspp_cell(x, s0)
        x = F.interpolate(x, size=low.shape[-2:], mode="bilinear", align_corners=False)
        x = torch.cat([x, self.low(low)], dim=1)
        if self.recurrent:
            x, s1 = self.cell1(x, s1)
            x, s2 = self.cell2(x, s2)
            return self.head(x), (s0, s1, s2)
        return self.head(self.convs(x)), None
