"""Label a list of sources into a labelled-recording tree: resume, overwrite, shards, exports, disk-full.

A video counts as done once its ``meta.d`` fragment exists (written by ``VideoWriter.finish`` after all its
frames and its quality file). A resumed run skips done videos, and redoes an interrupted one from scratch
(its partial files are removed first), so it ends with the same files as an uninterrupted run.
"""
from __future__ import annotations

import errno
import hashlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .. import argtypes
from ..errors import UserError, fail
from ..io import atomic_write_json
from ..layout import VideoWriter, is_finished, read_meta
from .exports import FORMATS, export_video, remove_export
from .frames import prefetch
from .parts import plan_parts
from .quality import QualityRecorder, review_margins
from .readers import Source

log = logging.getLogger("distinctnet.label")


@dataclass
class LabelOptions:
    out: Path
    exports: list[str] = field(default_factory=list)
    overwrite: bool = False
    review_margin: float | None = None  # one for all parts; None: the checkpoint's calibrated ones, else the default
    jpeg_quality: int = 95
    fps: float = 15.0
    progress: bool = True
    write_workers: int = 2        # threads encoding and writing JPG/PNG files (0: in the main thread)
    checkpoint: str = ""          # recorded in meta; a finished video made with another one is an error
    checkpoint_sha256: str = ""
    settings: dict = field(default_factory=dict)  # the labeller's tta and input size, recorded in meta


@dataclass
class Summary:
    labelled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    exported: dict[str, list[str]] = field(default_factory=dict)
    frames: int = 0
    review: int = 0               # frames flagged for review in the videos labelled now


#: labeller settings added after outputs existed: what an output without them was made with
LATER_SETTINGS = {"reference": "--reference previous", "gap": "--gap 1", "second_size": "--second-scale 1",
                  "refine": "--refine none", "exclusive": "--exclusive none", "small_parts": "--small-parts first",
                  "unmoved": "--unmoved keep"}


def resume_hint(done: dict, now: dict) -> str:
    """The options that resume an output made before some settings existed (``LATER_SETTINGS``), else ''."""
    missing = [k for k in LATER_SETTINGS if k not in done and k in now]
    if not missing or {**done, **{k: now[k] for k in missing}} != now:
        return ""
    return " ".join(LATER_SETTINGS[k] for k in missing) + " (as it was labelled), "


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while b := f.read(chunk):
            h.update(b)
    return h.hexdigest()


def parse_shard(text: str | None) -> tuple[int, int]:
    return argtypes.parse_shard(text) if text else (0, 1)


def select_shard(sources: list[Source], shard: tuple[int, int]) -> list[Source]:
    i, n = shard
    return [s for k, s in enumerate(sources) if k % n == i]


def clean_video(root: Path, video: str) -> None:
    """Remove everything of ``video`` from the tree (images, masks, quality, meta, exports)."""
    from ..layout import _locked

    for p in (root / "image" / video, root / "mask" / video):
        if p.is_dir():
            shutil.rmtree(p)
    for p in (root / "quality" / f"{video}.csv", root / "meta.d" / f"{video}.json"):
        if p.exists():
            p.unlink()
    for fmt in FORMATS:
        remove_export(root / "exports", fmt, video)
    meta_path = root / "meta.json"
    if meta_path.exists():
        with _locked(root):
            meta = read_meta(root)
            if meta["videos"].pop(video, None) is not None:
                atomic_write_json(meta_path, meta)


class OrderedPool:
    """Runs calls in ``workers`` threads, yielding their results in submission order; at most
    ``2 * workers`` calls are pending (memory stays bounded). ``workers=0`` runs each call at once."""

    def __init__(self, workers: int):
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        self.workers = max(0, int(workers))
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="label-write") if self.workers else None
        self.pending: deque = deque()

    def submit(self, fn, *args) -> list:
        """Submit a call; returns the results that are ready to hand on (in order)."""
        if self.pool is None:
            return [fn(*args)]
        self.pending.append(self.pool.submit(fn, *args))
        done = []
        while len(self.pending) > 2 * self.workers:
            done.append(self.pending.popleft().result())
        return done

    def drain(self) -> list:
        out = []
        while self.pending:
            out.append(self.pending.popleft().result())
        return out

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _disk_full(e: BaseException) -> bool:
    return isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT)


def label_video(src: Source, labeller, opts: LabelOptions, plan) -> int:
    """Label one source into ``opts.out`` as video ``src.name``; returns the number of frames."""
    root = Path(opts.out)
    skipped: list[int] = []
    motion_only = plan.annotated == ["foreground"]
    parts = list(plan.channels) if motion_only else plan.annotated
    margins = review_margins(parts, opts.review_margin, getattr(labeller, "review_margins", None))
    quality = QualityRecorder(parts, margins, {"robot": "foreground"} if motion_only else None)
    extra = {"input_kind": src.kind, **({"topic": src.topic} if src.topic else {}),
             **({"video": src.video} if src.video else {}),
             "labelled_by": "distinctnet label", "checkpoint": opts.checkpoint,
             "checkpoint_sha256": opts.checkpoint_sha256, "model_head": labeller.head,
             "model_classes": list(labeller.classes), "thresholds": dict(labeller.thresholds),
             "review_margins": margins,
             **({"labeller": opts.settings} if opts.settings else {}), **plan.meta}
    writer = VideoWriter(root, src.name, annotated_parts=plan.annotated, source=str(Path(src.path).resolve()),
                         extra=extra, quality=opts.jpeg_quality)
    bar = tqdm(desc=src.name, unit="frame", disable=not opts.progress, leave=False)

    def emit(i: int, rgb, probs) -> dict:  # masks + files + quality row of frame i (runs in a writer thread)
        split = plan.split(probs, labeller.channel_thresholds, labeller.clean, labeller.exclusive)
        writer.write(rgb, {part: m for part, (m, _p) in split.items()}, frame=i)
        return quality.make_row(i, split)

    n = 0
    pool = OrderedPool(opts.write_workers)
    try:
        kw = {}
        if getattr(labeller, "needs_moved_map", False):  # a first pass over the frames: where anything moved
            kw["moved"] = labeller.moved_map(tqdm(src.frames([]), desc=f"{src.name} (motion)", unit="frame",
                                                  disable=not opts.progress, leave=False))
        frames = prefetch(src.frames(skipped), depth=2 * labeller.batch)  # decoding overlaps the model
        for i, (rgb, probs) in enumerate(labeller.predict(frames, **kw)):
            if i == 0:
                quality.rows.append(emit(i, rgb, probs))  # fixes the video's frame size before threads start
            else:
                quality.rows.extend(pool.submit(emit, i, rgb, probs))
            n = i + 1
            bar.update()
        quality.rows.extend(pool.drain())
    except UserError as e:
        msg = str(e)
        raise fail(src.describe(), msg) if not msg.startswith(str(src.path)) else e
    finally:
        pool.close()  # no thread writes after this video has failed (its files are then removed)
        bar.close()
    writer.frames = n
    quality.write(root / "quality" / f"{src.name}.csv")
    writer.extra.update({"skipped_inputs": skipped, "review_frames": len(quality.review_frames),
                         "review_reasons": quality.review_reasons(), "quality": f"quality/{src.name}.csv"})
    writer.finish()
    return writer.frames


def label_sources(sources: list[Source], labeller, opts: LabelOptions) -> Summary:
    """Label every source (skipping finished ones), then write the requested exports of each."""
    root = Path(opts.out)
    if root.exists() and not root.is_dir():
        raise fail(root, "--out exists and is not a folder")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise fail(root, f"cannot create the output folder ({e.strerror or e})") from None
    for src in sources:
        if src.kind == "layout" and Path(src.path).resolve() == root.resolve():
            raise fail(root, "--out is the input tree itself; labelling would replace its images, choose another --out")
    plan = plan_parts(labeller.head, labeller.classes)
    summary = Summary()
    videos = tqdm(sources, desc="videos", unit="video", disable=not opts.progress or len(sources) < 2)
    for src in videos:
        started = False
        try:
            if opts.overwrite:
                clean_video(root, src.name)
            if is_finished(root, src.name):
                done = read_meta(root)["videos"].get(src.name, {})
                made_with = done.get("checkpoint_sha256")
                if made_with and opts.checkpoint_sha256 and made_with != opts.checkpoint_sha256:
                    raise fail(root / "meta.d" / f"{src.name}.json",
                               "video was labelled with another checkpoint; use --overwrite or another --out")
                if opts.settings and done.get("labeller", opts.settings) != opts.settings:
                    hint = resume_hint(done["labeller"], opts.settings)
                    raise fail(root / "meta.d" / f"{src.name}.json",
                               f"video was labelled with other labeller settings ({done['labeller']}); use "
                               f"{hint}--overwrite or another --out")
                summary.skipped.append(src.name)
            else:
                started = True
                clean_video(root, src.name)  # an interrupted earlier run: start this video afresh
                n = label_video(src, labeller, opts, plan)
                summary.frames += n
                summary.labelled.append(src.name)
                done = read_meta(root)["videos"][src.name]
                review = done.get("review_frames", 0)
                summary.review += review
                if opts.progress:
                    why = ", ".join(f"{k} {v}" for k, v in sorted(done.get("review_reasons", {}).items(),
                                                                  key=lambda kv: -kv[1]))
                    log.info("%s: %d frames labelled, %d flagged for review%s", src.name, n, review,
                             f" ({why})" if why else "")
        except UserError as e:
            if len(sources) > 1:  # a single input's error is the command's error line
                log.error("%s", e)
            if started:  # a finished video from an earlier run is never removed on an error
                clean_video(root, src.name)
            summary.failed.append((src.name, str(e)))
            continue
        except OSError as e:
            if started:
                clean_video(root, src.name)
            if not _disk_full(e):  # permissions, a vanished input, ...: name the file, no traceback
                raise fail(e.filename or src.path, f"{e.strerror or e} (while labelling {src.name})") from None
            raise fail(e.filename or root, f"no space left on device while labelling {src.name}; its partial "
                                            "files were removed, free some space and rerun to resume") from None
        if opts.exports:
            try:
                summary.exported[src.name] = export_video(root, src.name, opts.exports, fps=opts.fps)
            except OSError as e:
                if not _disk_full(e):
                    raise
                for fmt in opts.exports:
                    if not (root / "exports" / fmt / ".done" / f"{src.name}.json").exists():
                        remove_export(root / "exports", fmt, src.name)
                raise fail(e.filename or root, f"no space left on device while exporting {src.name}; "
                                                "free some space and rerun to resume") from None
    return summary


def summary_text(summary: Summary, root: Path) -> str:
    parts = [f"{len(summary.labelled)} video(s) labelled ({summary.frames} frames, {summary.review} flagged for "
             f"review in {Path(root) / 'quality'})"]
    if summary.skipped:
        parts.append(f"{len(summary.skipped)} already done")
    if summary.failed:
        parts.append(f"{len(summary.failed)} failed")
    return f"{', '.join(parts)} -> {root}"

