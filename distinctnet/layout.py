"""The labelled-recording layout: the project's interchange format.

One tree serves as evaluation ground truth, as the labeller's output, as synthetic training data and as
RobotSeg training data::

    ROOT/
      meta.json
      meta.d/{video}.json                      one fragment per finished video (resume + shard merge)
      image/{video}/{frame:05d}.jpg            RGB frames, numbered from 00000, no gaps
      mask/{video}/{part:03d}/{frame:05d}.png  binary masks 0/255, same size as the frame

Parts: 000 arm, 001 gripper, 002 robot (= arm | gripper), 003 grasped object, 004 distractors.
Foreground = robot | object | distractor.

Writers call :class:`VideoWriter`; a video counts as finished only once its ``meta.d`` fragment exists,
so a killed job leaves no half-written video that looks complete, and a resumed job redoes it.
``meta.json`` is rebuilt from the fragments (under a file lock), so shards of one job that write into
the same ROOT merge into one dataset.
"""
from __future__ import annotations

import fcntl
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import fail
from .io import atomic_imwrite, atomic_write_json

PARTS: dict[str, str] = {"000": "arm", "001": "gripper", "002": "robot", "003": "object", "004": "distractor"}
PART_IDS: dict[str, str] = {name: pid for pid, name in PARTS.items()}
PART_NAMES: tuple[str, ...] = tuple(PARTS.values())
#: Classes that evaluation scores; the first two are derived from the parts.
DERIVED = ("background", "foreground")
VIDEO_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def check_video_name(name: str) -> str:
    if not VIDEO_NAME.match(name):
        raise fail(name, "invalid video name: use letters, digits, '_' and '-' only (no dots)")
    return name


def complete_parts(masks: dict[str, np.ndarray], shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Fill in every part from what is given: robot = arm | gripper (or arm = robot & ~gripper), missing
    parts empty. Masks are returned as bool arrays of ``shape``."""
    out: dict[str, np.ndarray] = {}
    for name, m in masks.items():
        if name not in PART_IDS:
            raise ValueError(f"unknown part {name!r}; parts are {PART_NAMES}")
        m = np.asarray(m)
        if m.shape != tuple(shape):
            raise ValueError(f"mask {name!r} has shape {m.shape}, frame is {tuple(shape)}")
        out[name] = m.astype(bool)
    empty = np.zeros(shape, bool)
    gripper = out.setdefault("gripper", empty)
    if "robot" in out and "arm" not in out:
        out["arm"] = out["robot"] & ~gripper
    arm = out.setdefault("arm", empty)
    out["robot"] = out.get("robot", empty) | arm | gripper
    out.setdefault("object", empty)
    out.setdefault("distractor", empty)
    return {name: out[name] for name in PART_NAMES}


def foreground(masks: dict[str, np.ndarray]) -> np.ndarray:
    return masks["robot"] | masks["arm"] | masks["gripper"] | masks["object"] | masks["distractor"]


@dataclass
class VideoMeta:
    frames: int
    annotated_parts: list[str] = field(default_factory=lambda: list(PART_NAMES))
    static_from: int | None = None
    source: str = ""
    license: str = ""
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        d = {
            "frames": self.frames,
            "annotated_parts": list(self.annotated_parts),
            "static_from": self.static_from,
            "source": self.source,
            "license": self.license,
        }
        d.update(self.extra)
        return d


class Recording:
    """Read access to a labelled-recording tree."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not self.root.is_dir():
            raise fail(self.root, "not a folder")
        self.meta = read_meta(self.root)
        if not self.meta["videos"] and not (self.root / "image").is_dir():
            raise fail(self.root, "not a labelled-recording tree (no meta.json and no image/ folder)")

    @property
    def videos(self) -> list[str]:
        return sorted(self.meta["videos"])

    def video_meta(self, video: str) -> dict:
        return self.meta["videos"][video]

    def num_frames(self, video: str) -> int:
        return int(self.meta["videos"][video]["frames"])

    def image_path(self, video: str, frame: int) -> Path:
        return self.root / "image" / video / f"{frame:05d}.jpg"

    def mask_path(self, video: str, part: str, frame: int) -> Path:
        pid = part if part in PARTS else PART_IDS[part]
        return self.root / "mask" / video / pid / f"{frame:05d}.png"

    def read_image(self, video: str, frame: int) -> np.ndarray:
        from .io import imread_rgb

        return imread_rgb(self.image_path(video, frame))

    def read_mask(self, video: str, part: str, frame: int) -> np.ndarray:
        import cv2

        path = self.mask_path(video, part, frame)
        m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if m is None:
            raise fail(path, "missing or unreadable mask")
        return m > 127

    def read_masks(self, video: str, frame: int) -> dict[str, np.ndarray]:
        return {name: self.read_mask(video, name, frame) for name in PART_NAMES}


class VideoWriter:
    """Writes one video into a labelled-recording tree; ``finish`` makes it count.

    >>> with VideoWriter(root, "panda_0001", source="synth") as w:
    ...     for rgb, masks in frames:
    ...         w.write(rgb, masks)            # masks: {part name: bool HxW}, missing parts empty
    ...     w.static_from = 42                 # optional
    """

    def __init__(self, root: str | Path, video: str, *, annotated_parts=PART_NAMES, static_from=None,
                 source: str = "", license: str = "", extra: dict | None = None, quality: int = 95,
                 write_images: bool = True):
        self.root = Path(root)
        self.video = check_video_name(video)
        self.annotated_parts = list(annotated_parts)
        self.static_from = static_from
        self.source, self.license, self.extra = source, license, dict(extra or {})
        self.quality = quality
        self.write_images = write_images
        self.frames = 0
        self._shape: tuple[int, int] | None = None

    def write(self, rgb: np.ndarray | None, masks: dict[str, np.ndarray], frame: int | None = None) -> None:
        i = self.frames if frame is None else frame
        shape = rgb.shape[:2] if rgb is not None else next(iter(masks.values())).shape[:2]
        if self._shape is None:
            self._shape = tuple(shape)
        elif tuple(shape) != self._shape:
            raise ValueError(f"{self.video}: frame {i} is {shape}, earlier frames are {self._shape}")
        if self.write_images and rgb is not None:
            atomic_imwrite(self.root / "image" / self.video / f"{i:05d}.jpg", rgb, self.quality)
        for name, m in complete_parts(masks, self._shape).items():
            atomic_imwrite(self.root / "mask" / self.video / PART_IDS[name] / f"{i:05d}.png",
                           m.astype(np.uint8) * 255)
        self.frames = max(self.frames, i + 1)

    def finish(self, rebuild: bool = True) -> VideoMeta:
        """Mark the video finished (its meta.d fragment). ``rebuild=False`` skips rewriting meta.json, which
        reads every fragment: a job writing thousands of videos rebuilds once at its end instead (readers
        merge the fragments anyway)."""
        meta = VideoMeta(self.frames, self.annotated_parts, self.static_from, self.source, self.license, self.extra)
        atomic_write_json(self.root / "meta.d" / f"{self.video}.json", meta.to_json())
        if rebuild:
            rebuild_meta(self.root)
        return meta

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.finish()


def is_finished(root: str | Path, video: str) -> bool:
    return (Path(root) / "meta.d" / f"{video}.json").exists()


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".meta.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_meta(root: str | Path) -> dict:
    """meta.json merged with any finished-video fragments in meta.d/ (fragments win)."""
    root = Path(root)
    meta: dict = {"parts": dict(PARTS), "videos": {}}
    path = root / "meta.json"
    if path.exists():
        try:
            loaded = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise fail(path, f"not valid JSON ({e})")
        meta.update({k: v for k, v in loaded.items() if k != "videos"})
        meta["videos"].update(loaded.get("videos", {}))
    frag_dir = root / "meta.d"
    if frag_dir.is_dir():
        for frag in sorted(frag_dir.glob("*.json")):
            meta["videos"][frag.stem] = json.loads(frag.read_text())
    meta["videos"] = dict(sorted(meta["videos"].items()))
    return meta


def rebuild_meta(root: str | Path, **extra) -> dict:
    """Rewrite meta.json from meta.json + fragments; extra top-level keys are merged in."""
    root = Path(root)
    with _locked(root):
        meta = read_meta(root)
        meta.update(extra)
        atomic_write_json(root / "meta.json", meta)
    return meta


def validate(root: str | Path) -> list[str]:
    """Check a tree against the layout rules; returns a list of problems (empty when valid)."""
    import cv2

    problems: list[str] = []
    rec = Recording(root)
    for video in rec.videos:
        if not VIDEO_NAME.match(video):
            problems.append(f"{video}: invalid video name")
        n = rec.num_frames(video)
        frames = sorted((rec.root / "image" / video).glob("*.jpg"))
        if [f.stem for f in frames] != [f"{i:05d}" for i in range(n)]:
            problems.append(f"{video}: images are not 00000..{n - 1:05d}")
        for pid in PARTS:
            for i in range(n):
                p = rec.root / "mask" / video / pid / f"{i:05d}.png"
                m = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
                if m is None:
                    problems.append(f"{p}: missing")
                elif m.ndim != 2 or not np.isin(m, (0, 255)).all():
                    problems.append(f"{p}: not a binary 0/255 single-channel mask")
        for i in range(n):
            ms = {name: rec.read_mask(video, name, i) for name in ("arm", "gripper", "robot")
                  if rec.mask_path(video, name, i).exists()}
            if len(ms) == 3 and not np.array_equal(ms["robot"], ms["arm"] | ms["gripper"]):
                problems.append(f"{video} frame {i}: robot != arm | gripper")
    return problems
