"""Model configuration: one dataclass, presets by name, serialisable to JSON (checkpoints carry it)."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field

from ..errors import UserError

SEMANTIC_CLASSES = ("foreground", "robot", "gripper", "object", "distractor")
MOTION_CLASSES = ("background", "foreground")
ENCODERS = ("resnet18", "resnet34", "resnet50", "resnet101")
MERGE_OPS = ("global", "local", "coattention")
MERGE_POINTS = ("layer1", "layer2", "layer3", "layer4", "aspp")


@dataclass(frozen=True)
class ModelConfig:
    encoder: str = "resnet50"
    output_stride: int = 8
    #: how the two frames meet: all-pairs correlation (reference), windowed correlation, or co-attention
    merge: str = "global"
    #: where they meet: after ResBlock 1-4 or after ASPP (the paper's Table II); "layer2" is the reference
    merge_after: str = "layer2"
    #: local correlation: displacements within +-corr_radius feature cells, (2r+1)^2 channels
    corr_radius: int = 4
    #: native input size (H, W); fixed for global correlation/co-attention, a default otherwise
    input_size: tuple[int, int] = (414, 736)
    #: "motion": 2-class softmax (background, moving foreground); "semantic": one sigmoid per class
    head: str = "motion"
    classes: tuple[str, ...] = SEMANTIC_CLASSES
    #: ConvLSTM after ASPP and in the decoder; state carried across a sequence
    recurrent: bool = False
    aspp_channels: int = 256
    aspp_rates: tuple[int, int, int] | None = None  # None: (12, 24, 36) at OS8, (6, 12, 18) at OS16
    decoder_channels: int = 256
    #: optional ImageNet weights for the encoder: a local file (torchvision ResNet state dict)
    encoder_weights: str | None = None

    def __post_init__(self):
        def bad(msg):
            raise UserError(f"model config: {msg}")

        if self.encoder not in ENCODERS:
            bad(f"encoder {self.encoder!r} not in {ENCODERS}")
        if self.output_stride not in (8, 16):
            bad(f"output_stride must be 8 or 16, got {self.output_stride}")
        if self.merge not in MERGE_OPS:
            bad(f"merge {self.merge!r} not in {MERGE_OPS}")
        if self.merge_after not in MERGE_POINTS:
            bad(f"merge_after {self.merge_after!r} not in {MERGE_POINTS}")
        if self.head not in ("motion", "semantic"):
            bad(f"head must be 'motion' or 'semantic', got {self.head!r}")
        unknown = set(self.classes) - set(SEMANTIC_CLASSES)
        if self.head == "semantic" and (unknown or not self.classes):
            bad(f"classes must be a non-empty subset of {SEMANTIC_CLASSES}, got {self.classes}")
        h, w = self.input_size
        if h < 32 or w < 32:
            bad(f"input_size {self.input_size} is too small (at least 32x32)")
        # JSON round trips give lists; keep tuples so configs compare equal
        object.__setattr__(self, "input_size", (int(h), int(w)))
        object.__setattr__(self, "classes", tuple(self.classes))
        if self.aspp_rates is not None:
            object.__setattr__(self, "aspp_rates", tuple(self.aspp_rates))

    @property
    def out_classes(self) -> tuple[str, ...]:
        return MOTION_CLASSES if self.head == "motion" else self.classes

    @property
    def rates(self) -> tuple[int, int, int]:
        if self.aspp_rates is not None:
            return self.aspp_rates
        return (12, 24, 36) if self.output_stride == 8 else (6, 12, 18)

    def replace(self, **changes) -> "ModelConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise UserError(f"model config: unknown keys {sorted(unknown)}")
        return cls(**d)

    @classmethod
    def preset(cls, name: str, **changes) -> "ModelConfig":
        if name not in PRESETS:
            raise UserError(f"unknown preset {name!r}; presets: {', '.join(PRESETS)}")
        return dataclasses.replace(PRESETS[name], **changes)


PRESETS: dict[str, ModelConfig] = {
    # The reference network (DistinctNet's public code): 67.1M parameters with the motion head.
    "paper": ModelConfig(),
    # CPU preset, chosen by measurement (eval/bench.py; see README): small encoder, windowed correlation.
    "fast": ModelConfig(encoder="resnet18", output_stride=16, merge="local", merge_after="layer2",
                        corr_radius=4, input_size=(256, 448), aspp_channels=128, decoder_channels=128),
}
