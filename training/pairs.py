"""Frame pairs (target t, reference t+k) from one video; the label is the TARGET frame's masks.

Static-scene simulation (the reference): with probability ``static_prob`` both inputs are the target frame
while its label stays, so the network learns that a mask does not need visible motion in this pair.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import AugmentConfig, PairAugment
from .videos import FrameReader


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> 3xHxW float in [0, 1] (the model normalises with ImageNet statistics itself)."""
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)


def fresh_seed() -> int:
    """A seed from torch's generator: seeded per worker and per epoch by the DataLoader (and by
    ``seed_everything``), so runs are reproducible and epochs differ."""
    return int(torch.randint(0, 2**31 - 1, ()).item())


def load_sample(reader: FrameReader, augment: PairAugment, vi: int, t: int, r: int,
                geo_seed: int, photo_seed: int) -> dict[str, torch.Tensor]:
    target = reader.image(vi, t)
    reference = target if r == t else reader.image(vi, r)
    if reference.shape != target.shape:
        v = reader.videos[vi]
        raise ValueError(f"{v.root}/image/{v.name}: frames {t} and {r} differ in size")
    target, reference, labels = augment(target, reference, reader.labels(vi, t), geo_seed, photo_seed)
    return {
        "target": to_tensor(target),
        "reference": to_tensor(reference),
        "labels": torch.from_numpy(np.stack(labels)).float(),
        "valid": torch.from_numpy(reader.valid[vi].copy()),
    }


class PairDataset(Dataset):
    """Every ``frame_stride``-th frame of every video is a target once per epoch."""

    def __init__(self, reader: FrameReader, size: tuple[int, int], augment: AugmentConfig | None = None,
                 train: bool = True, max_gap: int = 1, static_prob: float = 0.0, frame_stride: int = 1):
        self.reader = reader
        self.train = train
        self.max_gap = max(1, int(max_gap))
        self.static_prob = static_prob if train else 0.0
        self.augment = PairAugment(size, augment, train=train)
        self.items = [(vi, t) for vi, v in enumerate(reader.videos) for t in range(0, v.frames, max(1, frame_stride))]

    def __len__(self) -> int:
        return len(self.items)

    def reference_frame(self, vi: int, t: int, rng: np.random.Generator | None) -> int:
        n = self.reader.videos[vi].frames
        if n == 1:
            return t
        if rng is None:  # validation: the next frame (the previous one at the end)
            return t + 1 if t + 1 < n else t - 1
        if rng.random() < self.static_prob:
            return t
        offsets = [k for k in range(-self.max_gap, self.max_gap + 1) if k and 0 <= t + k < n]
        return t + int(rng.choice(offsets))

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        vi, t = self.items[i]
        if self.train:
            rng = np.random.default_rng(fresh_seed())
            geo_seed, photo_seed = (int(s) for s in rng.integers(0, 2**31 - 1, 2))
        else:
            rng, geo_seed, photo_seed = None, 0, 0
        r = self.reference_frame(vi, t, rng)
        sample = load_sample(self.reader, self.augment, vi, t, r, geo_seed, photo_seed)
        sample["static"] = torch.tensor(r == t)
        return sample
