"""Pair augmentation with albumentations (the reference's recipe).

Geometric transforms and the resize to the model's input size are drawn ONCE per pair and applied to both
frames and to the target's masks (a shifted reference would look like motion). Photometric transforms
(channel shuffle, blur, colour jitter, Gaussian noise) are drawn per frame by default, as in the reference.
Randomness comes from an explicit integer seed per call, so a sample is reproducible and workers agree.
"""
from __future__ import annotations

import os

from dataclasses import dataclass

import numpy as np


@dataclass
class AugmentConfig:
    """Probabilities and ranges; ``enabled: false`` leaves only the resize."""

    enabled: bool = True
    hflip: float = 0.5
    affine: float = 0.3
    scale: tuple[float, float] = (0.9, 1.1)
    translate: float = 0.05
    rotate: float = 5.0
    channel_shuffle: float = 0.1
    blur: float = 0.1
    color_jitter: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    hue: float = 0.05
    noise: float = 0.2
    noise_std: tuple[float, float] = (0.01, 0.04)
    #: draw photometric parameters independently for the two frames (the reference); False: shared
    per_frame: bool = True


class PairAugment:
    """``__call__(target, reference, masks, geo_seed, photo_seed) -> (target, reference, masks)``:
    uint8 RGB frames of any size in, uint8 frames of ``size`` out; masks: list of HxW uint8 arrays."""

    def __init__(self, size: tuple[int, int], cfg: AugmentConfig | None = None, train: bool = True):
        os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no PyPI version check at import (offline machines)
        import albumentations as A
        import cv2

        cfg = cfg or AugmentConfig()
        self.train = train and cfg.enabled
        self.per_frame = cfg.per_frame
        h, w = int(size[0]), int(size[1])
        geo = [A.Resize(h, w, interpolation=cv2.INTER_LINEAR, mask_interpolation=cv2.INTER_NEAREST)]
        photo = []
        if self.train:
            geo = [
                A.HorizontalFlip(p=cfg.hflip),
                A.Affine(scale=tuple(cfg.scale), translate_percent=(-cfg.translate, cfg.translate),
                         rotate=(-cfg.rotate, cfg.rotate), border_mode=cv2.BORDER_REFLECT_101, p=cfg.affine),
                *geo,
            ]
            photo = [
                A.ChannelShuffle(p=cfg.channel_shuffle),
                A.Blur(blur_limit=(3, 5), p=cfg.blur),
                A.ColorJitter(brightness=cfg.brightness, contrast=cfg.contrast, saturation=cfg.saturation,
                              hue=cfg.hue, p=cfg.color_jitter),
                A.GaussNoise(std_range=tuple(cfg.noise_std), p=cfg.noise),
            ]
        self.geo = A.Compose(geo, additional_targets={"reference": "image"})
        self.photo = A.Compose(photo, additional_targets={"reference": "image"}) if photo else None

    def __call__(self, target: np.ndarray, reference: np.ndarray, masks: list[np.ndarray],
                 geo_seed: int = 0, photo_seed: int = 0):
        self.geo.set_random_seed(int(geo_seed))
        out = self.geo(image=target, reference=reference, masks=masks)
        target, reference, masks = out["image"], out["reference"], list(out["masks"])
        if self.photo is not None:
            self.photo.set_random_seed(int(photo_seed))
            if self.per_frame:
                target = self.photo(image=target)["image"]
                reference = self.photo(image=reference)["image"]
            else:
                out = self.photo(image=target, reference=reference)
                target, reference = out["image"], out["reference"]
        return target, reference, masks
