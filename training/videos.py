"""Which videos train and which validate, and the label channels read from a labelled-recording tree.

The split is reproducible and never cuts a video: videos are sorted by (root, name), permuted with a
seeded generator, and the first ``round(val_fraction * n)`` go to validation.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from distinctnet.errors import fail
from distinctnet.layout import PART_NAMES, Recording, foreground

#: label channels a model can be trained on, derived from the five parts
LABELS = ("background", "foreground", "arm", "gripper", "robot", "object", "distractor")


@dataclass(frozen=True)
class Video:
    root: str
    name: str
    frames: int
    annotated: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.root}::{self.name}"


def list_videos(roots: list[str]) -> list[Video]:
    """All finished videos of the given labelled-recording trees, sorted by (root, name)."""
    out = []
    for root in roots:
        if not Path(root).exists():
            raise fail(root, "training data folder does not exist (run `make synth` or fix data.roots)")
        rec = Recording(root)
        for name in rec.videos:
            meta = rec.video_meta(name)
            annotated = tuple(meta.get("annotated_parts") or PART_NAMES)
            frames = int(meta.get("frames", 0))
            if frames > 0:
                out.append(Video(str(root), name, frames, annotated))
    out.sort(key=lambda v: (v.root, v.name))
    return out


def split_videos(videos: list[Video], val_fraction: float, seed: int) -> tuple[list[Video], list[Video]]:
    videos = sorted(videos, key=lambda v: (v.root, v.name))
    n = len(videos)
    n_val = int(round(val_fraction * n))
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    val = sorted((videos[i] for i in order[:n_val]), key=lambda v: (v.root, v.name))
    train = sorted((videos[i] for i in order[n_val:]), key=lambda v: (v.root, v.name))
    return train, val


def label_valid(video: Video, classes: tuple[str, ...]) -> np.ndarray:
    """Which label channels carry real annotation for this video (others are left out of the loss)."""
    ann = set(video.annotated)
    robot = "robot" in ann or {"arm", "gripper"} <= ann

    def ok(c: str) -> bool:
        if c in ("foreground", "background"):
            return robot and "object" in ann and "distractor" in ann
        if c == "robot":
            return robot
        if c == "arm":
            return "arm" in ann or ("robot" in ann and "gripper" in ann)
        return c in ann

    return np.array([ok(c) for c in classes], dtype=bool)


def label_stack(masks: dict[str, np.ndarray], classes: tuple[str, ...]) -> list[np.ndarray]:
    """Masks (from ``Recording.read_masks``) -> one uint8 0/1 array per label channel."""
    fg = foreground(masks)
    derived = {"foreground": fg, "background": ~fg, "robot": masks["robot"] | masks["arm"] | masks["gripper"],
               "arm": masks["arm"] | (masks["robot"] & ~masks["gripper"])}
    return [np.ascontiguousarray(derived.get(c, masks.get(c)), dtype=np.uint8) for c in classes]


class FrameReader:
    """Reads frames and label channels, one Recording per root (cheap to pickle into workers)."""

    def __init__(self, videos: list[Video], classes: tuple[str, ...]):
        unknown = set(classes) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown label classes {sorted(unknown)}; known: {LABELS}")
        self.videos = videos
        self.classes = tuple(classes)
        self._recs: dict[str, Recording] = {}
        self.valid = [label_valid(v, self.classes) for v in videos]

    def _rec(self, root: str) -> Recording:
        if root not in self._recs:
            self._recs[root] = Recording(root)
        return self._recs[root]

    def image(self, vi: int, frame: int) -> np.ndarray:
        v = self.videos[vi]
        return self._rec(v.root).read_image(v.name, frame)

    def labels(self, vi: int, frame: int) -> list[np.ndarray]:
        v = self.videos[vi]
        return label_stack(self._rec(v.root).read_masks(v.name, frame), self.classes)
