"""ResNet encoder from segmentation-models-pytorch, split into the stages the merge point cuts between."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import fail

WIDTHS = {
    "resnet18": (64, 128, 256, 512),
    "resnet34": (64, 128, 256, 512),
    "resnet50": (256, 512, 1024, 2048),
    "resnet101": (256, 512, 1024, 2048),
}


def build_resnet(name: str, output_stride: int, weights_path: str | None = None) -> nn.Module:
    """An smp ResNet encoder (no classifier) with dilated layer3/4 for output stride 8 or 16."""
    from segmentation_models_pytorch.encoders import get_encoder

    enc = get_encoder(name, in_channels=3, depth=5, weights=None, output_stride=output_stride)
    if weights_path:
        load_encoder_weights(enc, weights_path)
    return enc


def load_encoder_weights(encoder: nn.Module, path: str | Path) -> None:
    """Load ImageNet weights from a local file: a torchvision ResNet state dict (.pth/.pt) or safetensors.
    The classifier (fc.*) is ignored; any other missing or unexpected key is an error."""
    path = Path(path)
    if not path.is_file():
        raise fail(path, "encoder weights file not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            sd = load_file(str(path))
        else:
            sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's problem, say which
        raise fail(path, f"cannot read encoder weights ({type(e).__name__})") from None
    if isinstance(sd, dict) and "state_dict" in sd:
        sd = sd["state_dict"]
    sd = {k: v for k, v in sd.items() if not k.startswith("fc.")}
    own = encoder.state_dict()
    missing = [k for k in own if k not in sd]
    unexpected = [k for k in sd if k not in own]
    wrong = [k for k in sd if k in own and tuple(sd[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or wrong:
        example = (missing or unexpected or wrong)[0]
        raise fail(path, f"not weights for this encoder ({len(missing)} missing, {len(unexpected)} unexpected, "
                         f"{len(wrong)} wrongly shaped tensors, e.g. {example})")
    # nn.Module's own loader: smp's encoders override load_state_dict
    nn.Module.load_state_dict(encoder, sd, strict=True)


def resnet_stages(enc: nn.Module) -> dict[str, nn.Module]:
    """stem (stride 4: conv1, bn, relu, maxpool), then layer1..layer4."""
    stem = nn.Sequential(enc.conv1, enc.bn1, enc.relu, enc.maxpool)
    return {"stem": stem, "layer1": enc.layer1, "layer2": enc.layer2, "layer3": enc.layer3, "layer4": enc.layer4}


def stage_stride(stage: str, output_stride: int) -> int:
    return {"layer1": 4, "layer2": 8, "layer3": min(16, output_stride), "layer4": output_stride,
            "aspp": output_stride}[stage]


def feature_size(size: tuple[int, int], stride: int) -> tuple[int, int]:
    """Spatial size of a ResNet feature map at ``stride``: every stride-2 step rounds up ((n + 1) // 2)."""
    h, w = size
    s = 1
    while s < stride:
        h, w, s = (h + 1) // 2, (w + 1) // 2, s * 2
    return h, w
