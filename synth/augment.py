"""Augmentations of composited pairs (albumentations), all seeded per pair so output is reproducible.

- ``shared``: applied with ONE draw of parameters to both frames of a pair (channel shuffle, colour
  jitter). Drawn per frame (the reference lists them as per-frame augmentations), they would make a
  static background change colour between the two frames while its label says "not moving"; sharing
  them keeps the motion cue honest.
- ``per_frame``: drawn independently for each frame (sensor noise, blur, a slight exposure change).
- ``region``: a hue/saturation/brightness shift for one pasted region (robot, object, each distractor),
  identical in both frames of a pair.
- :func:`repaint`: a new paint job for the robot (domain randomisation of its appearance): each part takes a
  random colour times its own shading, identical in both frames, so a model learns the shape and the motion
  of an arm rather than the colours of the few robots that were rendered.
- :func:`blend_edges`: a median-blurred band along the pasted edges against cut-and-paste artefacts.
- :func:`cast_shadow`: a soft shadow of the pasted things on the background, projected by one random light for
  both frames, so it moves with what casts it while its label stays background. Rendered scenes have such
  shadows and the robot's moving shadow is a motion cue a model must learn to ignore; pasted cut-outs have none.
"""
from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass

import numpy as np

# albumentations asks PyPI for a newer version at import unless told not to: a data generator stays offline
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")


def import_without_torch() -> None:
    """Import albumentations with torch hidden, unless either is loaded already. albumentations imports its
    optional PyTorch bridge whenever torch is installed (seconds and hundreds of MB per process); worker
    processes that only augment numpy images never use it. Falls back to a plain import."""
    if "torch" in sys.modules or "albumentations" in sys.modules:
        return
    sys.modules["torch"] = None  # makes `import torch` raise ImportError, which albumentations tolerates
    try:
        importlib.import_module("albumentations")
    except ImportError:
        pass
    finally:
        if "torch" in sys.modules and sys.modules["torch"] is None:
            del sys.modules["torch"]


@dataclass(frozen=True)
class AugmentConfig:
    channel_shuffle_p: float = 0.1
    jitter_p: float = 0.8
    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3
    hue: float = 0.05
    exposure: float = 0.03          # per-frame brightness / contrast change
    noise_p: float = 0.5
    noise_std: tuple[float, float] = (0.01, 0.04)  # fraction of 255
    blur_p: float = 0.3
    blur_limit: int = 5
    region_p: float = 0.8
    region_hue: int = 10
    region_sat: int = 25
    region_val: int = 25
    edge_blend_p: float = 0.8
    edge_ksize: int = 5             # median filter size of the edge blend
    edge_width: int = 1             # half-width (pixels) of the blended band
    repaint_p: float = 0.0          # chance the robot layer is repainted (see repaint)
    shadow_p: float = 0.0           # chance a pair gets cast shadows (see cast_shadow)
    shadow_strength: tuple[float, float] = (0.25, 0.7)   # fraction of the light the shadow's core removes
    shadow_blur: tuple[float, float] = (0.5, 4.0)        # Gaussian sigma of the penumbra, pixels
    shadow_offset: float = 0.12     # largest shift of the shadow, fraction of the shorter image side
    shadow_shear: float = 0.8       # largest horizontal shear of the projection (light from the side)
    shadow_squash: tuple[float, float] = (0.3, 1.0)      # vertical scale of the projection (low light: flat)


def _seed(pipeline, seed: int) -> None:
    """Seed an albumentations pipeline (albumentations >= 2 has per-pipeline generators; older ones use the
    global ``random`` / ``numpy.random`` state)."""
    if hasattr(pipeline, "set_random_seed"):
        pipeline.set_random_seed(int(seed))
    else:  # albumentations 1.x
        import random

        random.seed(int(seed))
        np.random.seed(int(seed) % 2 ** 32)


class PairAugmenter:
    """Builds the albumentations pipelines once (per process) and applies them with per-pair seeds."""

    def __init__(self, cfg: AugmentConfig = AugmentConfig()):
        os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no PyPI version check at import (offline machines)
        import albumentations as A

        self.cfg = cfg
        pair_target = {"image_b": "image"}
        self.shared = A.Compose([
            A.ChannelShuffle(p=cfg.channel_shuffle_p),
            A.ColorJitter(brightness=cfg.brightness, contrast=cfg.contrast, saturation=cfg.saturation,
                          hue=cfg.hue, p=cfg.jitter_p),
        ], additional_targets=pair_target)
        self.per_frame = A.Compose([
            A.RandomBrightnessContrast(brightness_limit=cfg.exposure, contrast_limit=cfg.exposure, p=0.5),
            A.OneOf([A.GaussianBlur(blur_limit=(3, cfg.blur_limit)), A.MotionBlur(blur_limit=(3, cfg.blur_limit)),
                     A.MedianBlur(blur_limit=(3, cfg.blur_limit))], p=cfg.blur_p),
            A.GaussNoise(std_range=cfg.noise_std, p=cfg.noise_p),
        ])
        self.region = A.Compose([
            A.HueSaturationValue(hue_shift_limit=cfg.region_hue, sat_shift_limit=cfg.region_sat,
                                 val_shift_limit=cfg.region_val, p=cfg.region_p),
        ], additional_targets=pair_target)

    def region_shift(self, seed: int, a: np.ndarray, b: np.ndarray | None = None):
        """The same HSV shift for ``a`` and ``b`` (RGB uint8, e.g. the robot layer of both frames)."""
        _seed(self.region, seed)
        if b is None:
            return self.region(image=a)["image"]
        out = self.region(image=a, image_b=b)
        return out["image"], out["image_b"]

    def frames(self, seed: int, a: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Shared then per-frame augmentations of a pair; ``b`` None means a static pair (b := a, which the
        caller copies, so the two frames stay byte-identical)."""
        rng = np.random.default_rng(seed)
        s_shared, s_a, s_b = (int(x) for x in rng.integers(0, 2 ** 31, 3))
        _seed(self.shared, s_shared)
        if b is None:
            a = self.shared(image=a)["image"]
        else:
            out = self.shared(image=a, image_b=b)
            a, b = out["image"], out["image_b"]
        _seed(self.per_frame, s_a)
        a = self.per_frame(image=a)["image"]
        if b is not None:
            _seed(self.per_frame, s_b)
            b = self.per_frame(image=b)["image"]
        return a, b


def repaint(seed: int, images: list[np.ndarray], labels: list[np.ndarray]) -> list[np.ndarray]:
    """Repaint the labelled parts of ``images`` (RGB uint8, e.g. both frames of a robot layer) with ONE draw
    of parameters: each label value > 0 (arm, gripper) gets a random colour (half the time all parts share
    it), multiplied by the pixel's own shading (luminance, sometimes inverted, under a random gamma) and mixed
    with the original colour. Shading and edges survive, colours and materials do not."""
    import colorsys

    rng = np.random.default_rng(seed)
    parts = sorted({int(v) for lab in labels for v in np.unique(lab) if v > 0})
    shared = rng.random() < 0.5
    params = {}
    for k, part in enumerate(parts):
        if k == 0 or not shared:
            colour = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.9), rng.uniform(0.35, 1.0)))
            draw = (colour, bool(rng.random() < 0.25), float(rng.uniform(0.6, 1.6)), float(rng.uniform(0.6, 1.0)))
        params[part] = draw
    out = []
    for img, lab in zip(images, labels):
        res = img.astype(np.float32)
        shade = (img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)) / 255.0
        for part, (colour, invert, gamma, mix) in params.items():
            on = lab == part
            if not on.any():
                continue
            s = shade[on]
            s = (1.0 - s if invert else s) ** gamma
            new = 255.0 * (0.1 + 0.9 * s)[:, None] * colour[None, :].astype(np.float32)
            res[on] = (1.0 - mix) * res[on] + mix * new
        out.append(np.clip(res + 0.5, 0, 255).astype(np.uint8))
    return out


def shadow_light(rng: np.random.Generator, shape: tuple[int, int], cfg: AugmentConfig) -> tuple[np.ndarray, float, float]:
    """One light for a pair: the projection (2x3 affine, about the image centre, the same in both frames, so the
    shadow moves exactly as its caster does), the penumbra's sigma and the shadow's strength."""
    h, w = shape
    shear = rng.uniform(-cfg.shadow_shear, cfg.shadow_shear)
    squash = rng.uniform(*cfg.shadow_squash)
    dx, dy = rng.uniform(-1, 1, 2) * cfg.shadow_offset * min(h, w)
    a = np.array([[1.0, shear], [0.0, squash]])
    c = np.array([w / 2, h / 2])
    M = np.hstack([a, (c - a @ c + [dx, dy])[:, None]])
    return M, float(rng.uniform(*cfg.shadow_blur)), float(rng.uniform(*cfg.shadow_strength))


def cast_shadow(img: np.ndarray, labels: np.ndarray, light: tuple[np.ndarray, float, float]) -> np.ndarray:
    """Darken the background pixels (label 0) of ``img`` under the soft, projected silhouette of everything
    labelled (> 0). Pasted things are not shadowed themselves; the labels do not change."""
    import cv2

    M, sigma, strength = light
    h, w = labels.shape
    caster = (labels > 0).astype(np.float32)
    shade = cv2.warpAffine(caster, M, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    if sigma > 0:
        shade = cv2.GaussianBlur(shade, (0, 0), sigma)
    gain = 1.0 - strength * np.clip(shade, 0.0, 1.0) * (labels == 0)
    return np.clip(img.astype(np.float32) * gain[..., None] + 0.5, 0, 255).astype(np.uint8)


def edge_band(labels: np.ndarray, width: int = 1) -> np.ndarray:
    """Pixels within ``width`` of a boundary between different labels (bool HxW)."""
    import cv2

    k = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    return cv2.dilate(labels, k) != cv2.erode(labels, k)


def blend_edges(img: np.ndarray, labels: np.ndarray, ksize: int = 5, width: int = 1) -> np.ndarray:
    """Replace the pixels along the pasted edges (label boundaries) by their median-filtered values."""
    import cv2

    band = edge_band(labels, width)
    if not band.any():
        return img
    out = img.copy()
    out[band] = cv2.medianBlur(img, ksize)[band]
    return out
