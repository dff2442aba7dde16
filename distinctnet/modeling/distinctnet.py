"""DistinctNet: a siamese DeepLabv3+ whose two frames meet in a correlation layer.

    target, reference --[siamese: stem, layer1 .. merge point]--> features t, r
    merge(t, r) = reduce(concat(correlation(t, r), t, r))
    --> remaining ResNet layers --> ASPP --(ConvLSTM)--> decoder with target's layer1 features --> logits

The masks are for the target frame. ``encode`` and ``decode`` are exposed so a video labeller computes the
siamese features of each frame once and reuses them as target and then as reference.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .corr import CoAttention, GlobalCorrelation, LocalCorrelation, Merge
from .decoder import Decoder, build_aspp
from .encoder import WIDTHS, build_resnet, feature_size, resnet_stages, stage_stride

STAGES = ("stem", "layer1", "layer2", "layer3", "layer4", "aspp")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class DistinctNet(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

        stages = resnet_stages(build_resnet(cfg.encoder, cfg.output_stride, cfg.encoder_weights))
        widths = dict(zip(("layer1", "layer2", "layer3", "layer4"), WIDTHS[cfg.encoder]))
        stages["aspp"] = build_aspp(widths["layer4"], cfg.aspp_channels, cfg.rates)
        widths["aspp"] = cfg.aspp_channels

        cut = STAGES.index(cfg.merge_after) + 1
        self.siamese = nn.ModuleDict({name: stages[name] for name in STAGES[:cut]})
        self.trunk = nn.ModuleDict({name: stages[name] for name in STAGES[cut:]})

        width = widths[cfg.merge_after]
        if cfg.merge == "global":
            op = GlobalCorrelation(feature_size(cfg.input_size, stage_stride(cfg.merge_after, cfg.output_stride)))
        elif cfg.merge == "local":
            op = LocalCorrelation(cfg.corr_radius)
        else:
            op = CoAttention(width)
        self.merge = Merge(op, width, width)
        self.decoder = Decoder(cfg.aspp_channels, widths["layer1"], cfg.decoder_channels,
                               len(cfg.out_classes), cfg.recurrent)

    # -- the two halves ---------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Siamese features of frames x (B x 3 x H x W, RGB in [0, 1])."""
        x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        feats = {}
        for name, stage in self.siamese.items():
            x = stage(x)
            if name == "layer1":
                feats["low"] = x
        feats["merge"] = x
        return feats

    def decode(self, target: dict[str, torch.Tensor], reference: dict[str, torch.Tensor], state=None,
               size: tuple[int, int] | None = None):
        """Logits for the target frame at ``size`` (default: stride 4), and the new recurrent state."""
        x = self.merge(target["merge"], reference["merge"])
        for stage in self.trunk.values():
            x = stage(x)
        logits, state = self.decoder(x, target["low"], state)
        if size is not None:
            logits = F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)
        return logits, state

    def forward(self, target: torch.Tensor, reference: torch.Tensor, state=None):
        """(logits B x C x H x W for ``target``, state). The siamese part runs once on both frames stacked."""
        b = target.shape[0]
        feats = self.encode(torch.cat([target, reference], dim=0))
        ft = {k: v[:b] for k, v in feats.items()}
        fr = {k: v[b:] for k, v in feats.items()}
        return self.decode(ft, fr, state, target.shape[-2:])

    # -- recurrent state ----------------------------------------------------------------------------------
    @staticmethod
    def reset_state(state, new_sequence: torch.Tensor):
        """Zero the state of the samples where ``new_sequence`` (bool [B]) is set; others carry on."""
        if state is None:
            return None
        keep = (~new_sequence.bool()).view(-1, 1, 1, 1)
        return tuple(None if s is None else (s[0] * keep.to(s[0].dtype), s[1] * keep.to(s[1].dtype))
                     for s in state)

    @staticmethod
    def detach_state(state):
        """Cut the graph (truncated backpropagation through time)."""
        if state is None:
            return None
        return tuple(None if s is None else (s[0].detach(), s[1].detach()) for s in state)

    # -- bookkeeping --------------------------------------------------------------------------------------
    def param_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters by role (the reference trains 'encoder' and 'merge' at 1e-4, 'aspp' and 'decoder' at 1e-3)."""
        groups: dict[str, list[nn.Parameter]] = {"encoder": [], "merge": [], "aspp": [], "decoder": []}
        for part in (self.siamese, self.trunk):
            for name, stage in part.items():
                groups["aspp" if name == "aspp" else "encoder"] += list(stage.parameters())
        groups["merge"] = list(self.merge.parameters())
        groups["decoder"] = list(self.decoder.parameters())
        return groups

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
