"""Exports of a labelled-recording tree for other tools, one video at a time (resumable).

- ``robotseg``: ``image/{video}/{frame:05d}.jpg`` + ``mask_gt/{video}/{000|001|002}/{frame:05d}.png`` (0/255,
  a PNG for every frame). RobotSeg needs a non-empty first frame: leading frames with an empty robot mask
  are dropped (with a warning) and the rest renumbered from 00000; the marker records ``first_frame``.
- ``sam2``: DAVIS-style ``JPEGImages/{video}/{frame:05d}.jpg`` + ``Annotations/{video}/{frame:05d}.png``
  palette PNGs, index 1 arm, 2 gripper, 3 object, 4 distractor, 0 background (object is painted last).
- ``coco``: ``coco/{video}.json`` with COCO RLE masks (pycocotools), one annotation per predicted part per
  frame (empty ones included, area 0), categories named, images listed (file names relative to image/).
- ``overlay``: ``overlay/{video}.mp4`` (parts drawn over the frames) + ``overlay/{video}_sheet.png``.

Each finished (format, video) gets ``{format}/.done/{video}.json``; a resumed run skips those.
"""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes, atomic_write_json
from ..layout import PART_IDS, Recording

log = logging.getLogger("distinctnet.label")

FORMATS = ("robotseg", "sam2", "coco", "overlay")
SAM2_INDEX = {"arm": 1, "gripper": 2, "object": 3, "distractor": 4}
SAM2_PAINT_ORDER = ("arm", "gripper", "distractor", "object")
# DAVIS palette colours for indices 0..4
SAM2_PALETTE = [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0, 0, 0, 128]
COCO_CATEGORIES = {"arm": 1, "gripper": 2, "robot": 3, "object": 4, "distractor": 5, "foreground": 6}


def parse_formats(text: str | None) -> list[str]:
    from ..errors import UserError

    if not text:
        return []
    fmts = [f.strip().lower() for f in text.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad:
        raise UserError(f"--export: unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    return list(dict.fromkeys(fmts))


def marker(dest: Path, video: str) -> Path:
    return dest / ".done" / f"{video}.json"


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link src to dst (atomically replacing dst); copy where links are not possible."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.parent / f".{dst.name}.{os.getpid()}.lnk"
    try:
        if tmp.exists():
            tmp.unlink()
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError as e:
        if tmp.exists():
            tmp.unlink()
        import errno

        if e.errno == errno.ENOSPC:
            raise
        atomic_write_bytes(dst, Path(src).read_bytes())


def annotated_masks(rec: Recording, video: str) -> list[tuple[str, str]]:
    """(label, layout part) pairs that carry the model's prediction; motion-only -> foreground in robot."""
    ann = rec.video_meta(video).get("annotated_parts", [])
    if "foreground" in ann:
        return [("foreground", rec.video_meta(video).get("foreground_written_to", "robot"))]
    return [(p, p) for p in ("arm", "gripper", "robot", "object", "distractor") if p in ann]


def export_robotseg(rec: Recording, video: str, dest: Path) -> dict:
    n = rec.num_frames(video)
    if "foreground" in rec.video_meta(video).get("annotated_parts", []):
        log.warning("%s: motion-only labels; the RobotSeg masks hold the whole moving foreground "
                    "(robot with any grasped object or distractor)", video)
    first = next((i for i in range(n) if rec.read_mask(video, "robot", i).any()), None)
    if first is None:
        log.warning("%s: the robot mask is empty in every frame; not exported for RobotSeg "
                    "(its loader needs a non-empty first frame)", video)
        return {"first_frame": None, "frames": 0}
    if first:
        log.warning("%s: robot mask empty in frames 0-%d; RobotSeg export starts at frame %d (renumbered 00000)",
                    video, first - 1, first)
    for j, i in enumerate(range(first, n)):
        link_or_copy(rec.image_path(video, i), dest / "image" / video / f"{j:05d}.jpg")
        for part in ("arm", "gripper", "robot"):
            link_or_copy(rec.mask_path(video, part, i), dest / "mask_gt" / video / PART_IDS[part] / f"{j:05d}.png")
    return {"first_frame": first, "frames": n - first}


def palette_png(index: np.ndarray) -> bytes:
    import io

    from PIL import Image

    im = Image.fromarray(index.astype(np.uint8), mode="P")
    im.putpalette(SAM2_PALETTE + [0] * (768 - len(SAM2_PALETTE)))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def sam2_index(masks: dict[str, np.ndarray]) -> np.ndarray:
    shape = next(iter(masks.values())).shape
    idx = np.zeros(shape, np.uint8)
    for part in SAM2_PAINT_ORDER:
        idx[masks[part]] = SAM2_INDEX[part]
    return idx


def export_sam2(rec: Recording, video: str, dest: Path) -> dict:
    n = rec.num_frames(video)
    for i in range(n):
        link_or_copy(rec.image_path(video, i), dest / "JPEGImages" / video / f"{i:05d}.jpg")
        masks = {p: rec.read_mask(video, p, i) for p in SAM2_PAINT_ORDER}
        atomic_write_bytes(dest / "Annotations" / video / f"{i:05d}.png", palette_png(sam2_index(masks)))
    return {"frames": n, "palette": SAM2_INDEX}


def export_coco(rec: Recording, video: str, dest: Path) -> dict:
    from pycocotools import mask as mask_utils

    labels = annotated_masks(rec, video)
    cats = [{"id": COCO_CATEGORIES[label], "name": label, "supercategory": "robot" if label in
             ("arm", "gripper", "robot") else "thing"} for label, _ in labels]
    images, anns = [], []
    for i in range(rec.num_frames(video)):
        masks = {part: rec.read_mask(video, part, i) for _, part in labels}
        h, w = next(iter(masks.values())).shape
        image_id = i + 1
        images.append({"id": image_id, "file_name": f"{video}/{i:05d}.jpg", "width": int(w), "height": int(h),
                       "video": video, "frame_index": i})
        for label, part in labels:
            rle = mask_utils.encode(np.asfortranarray(masks[part].astype(np.uint8)))
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": COCO_CATEGORIES[label],
                         "segmentation": {"size": [int(h), int(w)], "counts": rle["counts"].decode("ascii")},
                         "area": int(mask_utils.area(rle)), "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                         "iscrowd": 0})
    atomic_write_json(dest / f"{video}.json", {
        "info": {"description": f"distinctnet labels of {video}", "source": rec.video_meta(video).get("source", "")},
        "images": images, "annotations": anns, "categories": cats})
    return {"frames": len(images), "annotations": len(anns)}


def export_overlay(rec: Recording, video: str, dest: Path, fps: float = 15.0) -> dict:
    from .overlay import write_contact_sheet, write_overlay_video

    write_overlay_video(rec, video, dest / f"{video}.mp4", fps=fps)
    write_contact_sheet(rec, video, dest / f"{video}_sheet.png")
    return {"video": f"{video}.mp4", "sheet": f"{video}_sheet.png"}


EXPORTERS = {"robotseg": export_robotseg, "sam2": export_sam2, "coco": export_coco, "overlay": export_overlay}


def export_video(root: str | Path, video: str, formats: list[str], exports_dir: str | Path | None = None,
                 redo: bool = False, fps: float = 15.0) -> list[str]:
    """Export one finished video of ``root`` in ``formats``; returns the formats written now."""
    rec = Recording(root)
    base = Path(exports_dir) if exports_dir else Path(root) / "exports"
    done = []
    for fmt in formats:
        dest = base / fmt
        if marker(dest, video).exists() and not redo:
            continue
        remove_export(base, fmt, video)
        info = export_overlay(rec, video, dest, fps) if fmt == "overlay" else EXPORTERS[fmt](rec, video, dest)
        atomic_write_json(marker(dest, video), info)
        done.append(fmt)
    return done


def remove_export(base: Path, fmt: str, video: str) -> None:
    dest = base / fmt
    paths = {"robotseg": [dest / "image" / video, dest / "mask_gt" / video],
             "sam2": [dest / "JPEGImages" / video, dest / "Annotations" / video],
             "coco": [dest / f"{video}.json"],
             "overlay": [dest / f"{video}.mp4", dest / f"{video}_sheet.png"]}[fmt]
    for p in paths + [marker(dest, video)]:
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
