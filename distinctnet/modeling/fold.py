"""Batch norm folded into the convolution before it, for inference.

In eval mode a BatchNorm2d is a fixed per-channel scale and shift, so ``bn(conv(x))`` is one convolution with
scaled weights and a bias (``torch.nn.utils.fusion.fuse_conv_bn_eval``). This network has its batch norms in two
kinds of places: ``nn.Sequential`` containers (the stem, ResNet downsample branches, ASPP, the merge reduction,
the decoder) and torchvision's ResNet blocks (``conv1``/``bn1`` .. ``conv3``/``bn3``), which smp's encoders use.
"""
from __future__ import annotations

import copy

from torch import nn


def _foldable(conv, bn) -> bool:
    return (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d) and bn.running_mean is not None
            and conv.out_channels == bn.num_features)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode, each BatchNorm2d that directly follows a Conv2d folded into it and replaced
    by ``nn.Identity``. The outputs are the same up to float rounding; ``model`` itself is left alone."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    from torchvision.models.resnet import BasicBlock, Bottleneck

    model = copy.deepcopy(model).eval()
    for m in list(model.modules()):
        if isinstance(m, nn.Sequential):
            names = list(m._modules)
            for a, b in zip(names, names[1:]):
                if _foldable(m._modules[a], m._modules[b]):
                    m._modules[a] = fuse_conv_bn_eval(m._modules[a], m._modules[b])
                    m._modules[b] = nn.Identity()
        elif isinstance(m, (BasicBlock, Bottleneck)):  # forward: conv1 -> bn1 -> relu -> conv2 -> bn2 (-> ...)
            for i in (1, 2, 3):
                conv, bn = getattr(m, f"conv{i}", None), getattr(m, f"bn{i}", None)
                if _foldable(conv, bn):
                    setattr(m, f"conv{i}", fuse_conv_bn_eval(conv, bn))
                    setattr(m, f"bn{i}", nn.Identity())
    return model


def count_batchnorms(model: nn.Module) -> int:
    """How many BatchNorm2d layers ``model`` still has."""
    return sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
