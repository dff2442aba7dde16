"""Inputs to label: video files, frame folders, ROS1/ROS2 bags, labelled-recording trees, list files.

:func:`expand_inputs` turns what the user named into a flat list of :class:`Source` (one per output video).
``Source.frames(skipped)`` streams RGB uint8 frames one at a time (memory stays flat on long videos);
corrupted frames are skipped with a warning and their input index appended to ``skipped``.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import fail
from .frames import to_rgb_uint8, uniform_size

log = logging.getLogger("distinctnet.label")

VIDEO_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
LIST_EXTS = (".txt",)


def natural_key(s: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", s)]


def safe_name(text: str) -> str:
    """A layout-valid video name (letters, digits, '_' and '-') from a file stem or topic."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")
    return name or "video"


@dataclass(frozen=True)
class Source:
    name: str                 # output video name
    path: str                 # the input path (meta "source")
    kind: str                 # "video" | "frames" | "bag" | "layout"
    topic: str | None = None  # bags
    video: str | None = None  # layout trees: the video inside the tree

    def describe(self) -> str:
        extra = f" topic {self.topic}" if self.topic else f" video {self.video}" if self.video else ""
        return f"{self.path}{extra}"

    def frames(self, skipped: list[int] | None = None) -> Iterator[np.ndarray]:
        """RGB uint8 frames of one size (the first frame's)."""
        skipped = [] if skipped is None else skipped
        raw = {"video": _video_frames, "frames": _folder_frames, "bag": _bag_frames,
               "layout": _layout_frames}[self.kind](self, skipped)
        return uniform_size(raw, self.describe())


# ---------------------------------------------------------------- expansion

def expand_inputs(inputs, topic: str | None = None) -> list[Source]:
    """The Sources named by ``inputs`` (paths), in order, with unique video names."""
    sources: list[Source] = []
    for inp in inputs:
        sources.extend(_expand(Path(inp), topic, depth=0))
    if not sources:
        raise fail(", ".join(map(str, inputs)), "nothing to label")
    seen: dict[str, int] = {}
    out = []
    for s in sources:
        n = seen.get(s.name, 0) + 1
        seen[s.name] = n
        out.append(s if n == 1 else Source(f"{s.name}-{n}", s.path, s.kind, s.topic, s.video))
    return out


def _expand(path: Path, topic: str | None, depth: int) -> list[Source]:
    if depth > 4:
        raise fail(path, "list files nest too deeply")
    if not path.exists():
        raise fail(path, "no such file or folder")
    suffix = path.suffix.lower()
    if path.is_file():
        if suffix in VIDEO_EXTS:
            return [Source(safe_name(path.stem), str(path), "video")]
        if suffix == ".bag":
            return [_bag_source(path, topic)]
        if suffix in LIST_EXTS:
            return _expand_list(path, topic, depth)
        raise fail(path, f"unsupported input: expected a video ({', '.join(VIDEO_EXTS)}), a ROS1 .bag, "
                         "a .txt list of inputs, a frame folder, a ROS2 bag folder or a labelled-recording tree")
    # folders
    if (path / "metadata.yaml").is_file():
        return [_bag_source(path, topic)]
    if (path / "meta.json").is_file() or (path / "image").is_dir():
        return _layout_sources(path)
    entries = sorted(path.iterdir(), key=lambda p: natural_key(p.name))
    if any(p.is_file() and p.suffix.lower() in IMAGE_EXTS for p in entries):
        return [Source(safe_name(path.resolve().name), str(path), "frames")]
    out: list[Source] = []
    for p in entries:
        if p.is_file() and p.suffix.lower() in VIDEO_EXTS + (".bag",):
            out.extend(_expand(p, topic, depth))
        elif p.is_dir() and ((p / "metadata.yaml").is_file()
                             or any(q.suffix.lower() in IMAGE_EXTS for q in p.iterdir() if q.is_file())):
            out.extend(_expand(p, topic, depth))
    if not out:
        raise fail(path, "no frames, videos, bags or labelled-recording tree found in this folder")
    return out


def _expand_list(path: Path, topic: str | None, depth: int) -> list[Source]:
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise fail(path, f"cannot read list file ({e})")
    out: list[Source] = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        p = Path(line).expanduser()
        out.extend(_expand(p if p.is_absolute() else path.parent / p, topic, depth + 1))
    if not out:
        raise fail(path, "list file names no inputs")
    return out


def _layout_sources(root: Path) -> list[Source]:
    from ..layout import Recording

    rec = Recording(root)
    videos = rec.videos or sorted((p.name for p in (root / "image").iterdir() if p.is_dir()), key=natural_key)
    if not videos:
        raise fail(root, "labelled-recording tree has no videos")
    return [Source(safe_name(v), str(root), "layout", video=v) for v in videos]


# ---------------------------------------------------------------- ROS bags

def _open_bag(path: Path):
    from rosbags.highlevel import AnyReader
    from rosbags.typesys import Stores, get_typestore

    # bags without embedded definitions (old ROS2) fall back to the standard message types
    return AnyReader([path], default_typestore=get_typestore(Stores.ROS2_HUMBLE))


def image_topics(path: Path) -> dict[str, str]:
    """topic -> message type for the image topics of a bag."""
    from .rosimg import IMAGE_TYPES

    try:
        with _open_bag(path) as reader:
            return {c.topic: c.msgtype for c in reader.connections if c.msgtype in IMAGE_TYPES}
    except Exception as e:  # rosbags raises several types for damaged bags
        raise fail(path, f"cannot read ROS bag ({type(e).__name__}: {e})")


def _bag_source(path: Path, topic: str | None) -> Source:
    topics = image_topics(path)
    if not topics:
        raise fail(path, "bag has no image topics (sensor_msgs/Image or sensor_msgs/CompressedImage)")
    listing = ", ".join(f"{t} ({m.rsplit('/', 1)[-1]})" for t, m in sorted(topics.items()))
    if topic is None:
        if len(topics) > 1:
            raise fail(path, f"bag has several image topics; choose one with --topic: {listing}")
        topic = next(iter(topics))
    elif topic not in topics:
        raise fail(path, f"no image topic {topic!r} in this bag; image topics: {listing}")
    return Source(safe_name(path.stem if path.is_file() else path.resolve().name), str(path), "bag", topic=topic)


def _bag_frames(src: Source, skipped: list[int]) -> Iterator[np.ndarray]:
    from .rosimg import decode

    path = Path(src.path)
    try:
        reader = _open_bag(path)
        reader.open()
    except Exception as e:
        raise fail(path, f"cannot read ROS bag ({type(e).__name__}: {e})")
    try:
        conns = [c for c in reader.connections if c.topic == src.topic]
        for i, (conn, _t, raw) in enumerate(reader.messages(connections=conns)):
            try:
                img = decode(conn.msgtype, reader.deserialize(raw, conn.msgtype))
            except Exception as e:
                log.warning("%s: %s message %d is corrupted, skipped (%s)", path, src.topic, i, e)
                skipped.append(i)
                continue
            yield img
    finally:
        reader.close()


# ---------------------------------------------------------------- videos and frame folders

def _video_frames(src: Source, skipped: list[int]) -> Iterator[np.ndarray]:
    import av

    path = Path(src.path)
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise fail(path, f"cannot open video (unreadable or truncated: {e})")
    with container:
        if not container.streams.video:
            raise fail(path, "file has no video stream")
        stream = container.streams.video[0]
        expected = int(stream.frames or 0)
        duration = float(container.duration) / 1e6 if container.duration else 0.0  # seconds
        demux = container.demux(stream)
        i = packets = 0
        last_time = None
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError as e:
                raise fail(path, f"video is truncated or corrupt after frame {i} ({e})")
            packets += 1
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as e:
                log.warning("%s: corrupted packet %d (near frame %d) skipped (%s)", path, packets - 1, i, e)
                skipped.append(packets - 1)
                continue
            for frame in decoded:
                last_time = frame.time if frame.time is not None else last_time
                yield frame.to_ndarray(format="rgb24")
                i += 1
        if i == 0:
            if packets:
                raise fail(path, "video is truncated or corrupt: no frame could be decoded")
            return
        if expected and i + len(skipped) < 0.9 * expected:
            raise fail(path, f"video is truncated: the container announces {expected} frames, "
                             f"only {i} could be decoded")
        rate = float(stream.average_rate or 0) or 25.0
        if not expected and duration and last_time is not None and last_time + 2.0 / rate < 0.9 * duration:
            raise fail(path, f"video is truncated: it lasts {duration:.1f} s, frames end at {last_time:.1f} s")


def _read_image(path: Path) -> np.ndarray | None:
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        return None
    return to_rgb_uint8(img, bgr=img.ndim == 3 and img.shape[2] >= 3)


def _image_files(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTS),
                  key=lambda p: natural_key(p.name))


def _files_frames(files: list[Path], skipped: list[int]) -> Iterator[np.ndarray]:
    """Images in order, a few read and decoded ahead in parallel (OpenCV releases the GIL)."""
    import os
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    workers = min(4, os.cpu_count() or 1)
    todo = iter(enumerate(files))
    with ThreadPoolExecutor(workers, thread_name_prefix="distinctnet-read") as pool:
        pending: deque = deque()

        def fill():
            for i, f in todo:
                pending.append((i, f, pool.submit(_read_image, f)))
                if len(pending) >= 2 * workers:
                    return

        fill()
        while pending:
            i, f, job = pending.popleft()
            img = job.result()
            fill()
            if img is None:
                log.warning("%s: cannot read image (corrupted or truncated), frame %d skipped", f, i)
                skipped.append(i)
                continue
            yield img


def _folder_frames(src: Source, skipped: list[int]) -> Iterator[np.ndarray]:
    return _files_frames(_image_files(Path(src.path)), skipped)


def _layout_frames(src: Source, skipped: list[int]) -> Iterator[np.ndarray]:
    folder = Path(src.path) / "image" / (src.video or "")
    if not folder.is_dir():
        raise fail(folder, "video folder of the labelled-recording tree is missing")
    return _files_frames(_image_files(folder), skipped)
