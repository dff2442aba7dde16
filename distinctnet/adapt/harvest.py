"""Harvest robot cut-outs: the base model's moving-foreground masks over recordings of the robot moving (no
object, static background, fixed camera), keeping only masks that look right.

A frame's mask is the thresholded foreground probability, cleaned: specks removed (connected components under
a tenth of the largest one) and holes filled (enclosed background smaller than ``fill_holes`` of the mask's
area: motion masks miss the inside of textureless parts). It is kept when, in this order of checks (the
first failing check is the reason it is dropped):

- too_small / too_large: its area is outside [min_area, max_area] of the frame;
- not_at_border: it does not touch the image border (a robot enters the picture from its base);
- low_confidence: the mean margin |2p - 1| inside the mask is under ``min_margin``;
- moving_outside_mask: more than ``max_outside_motion`` of the pixels far from the masks of the frame and of
  its reference frame change (camera shake, a person, a lighting change);
- flicker: its IoU with every neighbouring frame's mask (up to two frames before and after) is under
  ``min_iou``;
- area_jump: its area differs by more than a factor ``max_area_change`` from every neighbour's area.
Comparing with two frames on each side keeps a good frame whose direct neighbour is corrupted.

Kept frames go, in order, into ``WORK/harvest`` (a labelled-recording tree, one video per recording,
``annotated_parts`` = robot until the gripper step adds the gripper), each video's meta recording the
source frame of every kept frame and the counts. ``harvest.json`` sums them up, ``frames/{video}.csv`` has
every frame's numbers, and ``harvest.png`` shows kept and dropped examples.
"""
from __future__ import annotations

import csv
import io
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from ..errors import UserError, fail
from ..io import atomic_write_bytes, atomic_write_json
from ..layout import Recording, VideoWriter, is_finished
from .checks import MIN_FRAMES, check_recording, changed_fraction, motion_stats, small_grey
from .sheet import DROPPED, KEPT, Examples, tile, tint

log = logging.getLogger("distinctnet.adapt")

REASONS = {
    "too_small": "mask smaller than min_area of the frame (the robot stopped, or the model missed it)",
    "too_large": "mask larger than max_area of the frame",
    "not_at_border": "mask does not touch the image border (a robot enters the picture from its base)",
    "low_confidence": "mean probability margin inside the mask under min_margin",
    "moving_outside_mask": "pixels far from the robot change (camera shake, people, lighting)",
    "flicker": "IoU with every neighbouring frame's mask (+-2 frames) under min_iou",
    "area_jump": "area differs from every neighbour's (+-2 frames) by more than max_area_change",
}
NEIGHBOURS = 2   # temporal checks compare a frame with up to this many frames on each side
#: a predictor turns RGB frames into (rgb, moving-foreground probability HxW float32 at the frame's size)
Predictor = Callable[[Iterable[np.ndarray]], Iterator[tuple[np.ndarray, np.ndarray]]]


@dataclass(frozen=True)
class HarvestConfig:
    threshold: float = 0.5
    fill_holes: float = 0.1
    min_area: float = 0.005
    max_area: float = 0.6
    require_border: bool = True
    min_margin: float = 0.5
    max_outside_motion: float = 0.02
    min_iou: float = 0.5
    max_area_change: float = 1.5
    min_frames: int = MIN_FRAMES

    def check(self) -> "HarvestConfig":
        if not 0 <= self.min_area <= self.max_area <= 1:
            raise UserError(f"harvest: need 0 <= min_area ({self.min_area}) <= max_area ({self.max_area}) <= 1")
        if self.max_area_change < 1:
            raise UserError("harvest: max_area_change must be >= 1")
        if self.min_frames < 2:
            raise UserError("harvest: min_frames must be >= 2")
        return self


# ------------------------------------------------------------------------------------------- predictors
def foreground_channel(head: str, classes: tuple[str, ...]) -> Callable[[np.ndarray], np.ndarray]:
    """probabilities C x H x W (as the labeller's runner returns them) -> moving-foreground probability."""
    if head == "motion":
        return lambda p: p[0]
    if "foreground" in classes:
        i = classes.index("foreground")
        return lambda p: p[i]
    idx = [classes.index(c) for c in ("robot", "gripper", "object", "distractor") if c in classes]
    if not idx:
        raise UserError(f"model classes {classes} hold no foreground, robot, object or distractor channel")
    return lambda p: p[idx].max(0)


def model_predictor(checkpoint: str | Path | None, device: str = "auto", batch: int = 4) -> tuple[Predictor, dict]:
    """The base model (default: the shipped checkpoint) as a Predictor, and what to record about it."""
    from ..device import resolve_device
    from ..label.model import checkpoint_path, load_model
    from ..label.pipeline import file_sha256
    from ..label.runner import Labeller

    path = checkpoint_path(checkpoint)
    model = load_model(path)
    # refine none: the harvest's area and border rules were set on unrefined masks (eval/QUALITY.md rows 34-)
    labeller = Labeller(model, resolve_device(device), batch=batch, refine="none")
    pick = foreground_channel(labeller.head, labeller.classes)

    def predict(frames):
        for rgb, probs in labeller.predict(frames):
            yield rgb, pick(probs)

    return predict, {"checkpoint": str(path), "checkpoint_sha256": file_sha256(path), "head": labeller.head,
                     "classes": list(labeller.classes)}


# ------------------------------------------------------------------------------------------------ masks
def clean_mask(mask: np.ndarray, keep: float = 0.1) -> np.ndarray:
    """Connected components of at least ``keep`` times the largest one's area."""
    import cv2

    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask.astype(bool)
    areas = stats[1:, cv2.CC_STAT_AREA]
    good = np.flatnonzero(areas >= keep * areas.max()) + 1
    return np.isin(lab, good)


def fill_holes(mask: np.ndarray, max_fraction: float) -> np.ndarray:
    """Fill the holes (background regions not connected to the image border) smaller than ``max_fraction``
    of the mask's area."""
    import cv2

    if max_fraction <= 0 or not mask.any():
        return mask
    n, lab, stats, _ = cv2.connectedComponentsWithStats((~mask).astype(np.uint8), connectivity=4)
    border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    small = [i for i in range(1, n) if i not in border and stats[i, cv2.CC_STAT_AREA] < max_fraction * mask.sum()]
    return mask | np.isin(lab, small) if small else mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


def touches_border(mask: np.ndarray) -> bool:
    return bool(mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def outside_motion(grey: np.ndarray, grey_ref: np.ndarray, mask: np.ndarray, mask_ref: np.ndarray) -> float:
    """Changed fraction of the (analysis-size) pixels far from both masks."""
    import cv2

    h, w = grey.shape
    both = cv2.resize((mask | mask_ref).astype(np.uint8), (w, h), interpolation=cv2.INTER_AREA) > 0
    r = max(3, round(0.04 * w))
    near = cv2.dilate(both.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
    far = ~near
    if far.sum() < 0.05 * far.size:
        return 0.0
    return changed_fraction(grey[far], grey_ref[far])


@dataclass
class Item:
    frame: int
    rgb: np.ndarray
    prob: np.ndarray
    mask: np.ndarray
    grey: np.ndarray
    area: float
    margin: float


def judge(cur: Item, nbrs: list[Item], ref: Item | None, cfg: HarvestConfig) -> tuple[str, dict]:
    """('' when kept, else the reason), and the frame's numbers. ``nbrs``: the frames up to ``NEIGHBOURS``
    before and after; ``ref``: the frame the model paired it with (the previous one; the next for frame 0)."""
    ious = [iou(cur.mask, x.mask) for x in nbrs]
    changes = [max(cur.area, x.area) / max(min(cur.area, x.area), 1e-9) for x in nbrs]
    rec = {"frame": cur.frame, "area": round(cur.area, 5), "margin": round(cur.margin, 4),
           "iou": round(max(ious), 4) if ious else None, "area_change": round(min(changes), 4) if changes else None,
           "outside_motion": None}
    if cur.area < cfg.min_area:
        return "too_small", rec
    if cur.area > cfg.max_area:
        return "too_large", rec
    if cfg.require_border and not touches_border(cur.mask):
        return "not_at_border", rec
    if cur.margin < cfg.min_margin:
        return "low_confidence", rec
    if ref is not None:
        rec["outside_motion"] = round(outside_motion(cur.grey, ref.grey, cur.mask, ref.mask), 5)
        if rec["outside_motion"] > cfg.max_outside_motion:
            return "moving_outside_mask", rec
    if ious and max(ious) < cfg.min_iou:
        return "flicker", rec
    if changes and min(changes) > cfg.max_area_change:
        return "area_jump", rec
    return "", rec


def make_item(frame: int, rgb: np.ndarray, prob: np.ndarray, cfg: HarvestConfig) -> Item:
    from ..label.quality import part_stats

    prob = np.asarray(prob, np.float32)
    if prob.shape != rgb.shape[:2]:
        raise ValueError(f"frame {frame}: probability map {prob.shape} does not match the frame {rgb.shape[:2]}")
    mask = fill_holes(clean_mask(prob > cfg.threshold), cfg.fill_holes)
    area, margin = part_stats(mask, prob)
    return Item(frame, rgb, prob, mask, small_grey(rgb), area, 0.0 if np.isnan(margin) else margin)


def judge_stream(pairs: Iterable[tuple[np.ndarray, np.ndarray]],
                 cfg: HarvestConfig) -> Iterator[tuple[Item, str, dict]]:
    """(item, reason or '', numbers) for every frame of a stream of (rgb, probability), in order; at most
    2 * NEIGHBOURS + 1 frames in memory."""
    window: list[Item] = []

    def verdict(k: int):
        cur = window[k]
        nbrs = [x for x in window if x is not cur and abs(x.frame - cur.frame) <= NEIGHBOURS]
        ref = window[k - 1] if k > 0 else (window[k + 1] if k + 1 < len(window) else None)
        return (cur, *judge(cur, nbrs, ref, cfg))

    for i, (rgb, prob) in enumerate(pairs):
        window.append(make_item(i, rgb, prob, cfg))
        k = len(window) - 1 - NEIGHBOURS   # the frame whose later neighbours are all here
        if k >= 0:
            yield verdict(k)
            if k == NEIGHBOURS:
                window.pop(0)
    for k in range(max(0, len(window) - NEIGHBOURS), len(window)):
        yield verdict(k)


# ------------------------------------------------------------------------------------------------- the step
def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    fields = ["frame", "kept", "reason", "area", "margin", "iou", "area_change", "outside_motion"]
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in fields})
    return buf.getvalue().encode()


def harvest_video(src, predict: Predictor, cfg: HarvestConfig, root: Path, examples: Examples,
                  settings: dict, progress: bool = True) -> dict:
    """Check one recording, judge its frames, write the kept ones as video ``src.name``; returns its counts."""
    from tqdm import tqdm

    from ..label.pipeline import clean_video

    where = src.describe()
    check_recording(motion_stats(src.frames()), where, min_frames=cfg.min_frames)
    clean_video(root, src.name)
    writer = VideoWriter(root, src.name, annotated_parts=["robot"], source=str(src.path),
                         extra={"harvest": {}, "harvest_settings": settings})
    counts = {"frames": 0, "kept": 0, "dropped": {r: 0 for r in REASONS}}
    rows, kept_frames = [], []
    bar = tqdm(desc=f"harvest {src.name}", unit="frame", disable=not progress, leave=False)
    try:
        for item, reason, rec in judge_stream(predict(src.frames()), cfg):
            counts["frames"] += 1
            rows.append({**rec, "kept": int(not reason), "reason": reason})
            if reason:
                counts["dropped"][reason] += 1
                examples.offer(reason, lambda: tile(tint(item.rgb, item.mask, DROPPED),
                                                    f"{src.name} #{item.frame}"))
            else:
                writer.write(item.rgb, {"robot": item.mask})
                kept_frames.append(item.frame)
                counts["kept"] += 1
                examples.offer("kept", lambda: tile(tint(item.rgb, item.mask, KEPT), f"{src.name} #{item.frame}"))
            bar.update()
    finally:
        bar.close()
    atomic_write_bytes(root / "frames" / f"{src.name}.csv", _csv(rows))
    share = counts["dropped"]["moving_outside_mask"] / max(1, counts["frames"])
    if share > 0.5:
        clean_video(root, src.name)
        raise fail(where, f"pixels far from the robot change in {100 * share:.0f}% of the frames: the camera moves "
                          "or something else moves in the picture; adapt needs a fixed camera and a static background")
    if counts["kept"] < 2:
        clean_video(root, src.name)  # fewer than 2 frames cannot make a moving pair
        counts["written"] = False
        return counts
    counts["written"] = True
    writer.extra["harvest"] = {"kept": counts["kept"], "frames": counts["frames"], "dropped": counts["dropped"]}
    writer.extra["source_frames"] = kept_frames
    writer.finish()
    return counts


def harvest(inputs: list[str], work: str | Path, *, predict: Predictor | None = None,
            predictor_info: dict | None = None,
            checkpoint: str | Path | None = None, device: str = "auto", batch: int = 4,
            cfg: HarvestConfig = HarvestConfig(), topic: str | None = None, progress: bool = True) -> dict:
    """Harvest every recording of ``inputs`` (any labelling input kind) into ``WORK/harvest``.

    ``predict`` replaces the base model (it must map frames to (rgb, foreground probability)); otherwise
    ``checkpoint`` (default: the shipped one) runs on ``device``. Videos already harvested with the same
    settings are kept (resume); videos of recordings no longer named are removed. Returns the summary also
    written to ``WORK/harvest/harvest.json``."""
    from ..label.readers import expand_inputs

    cfg.check()
    sources = expand_inputs(inputs, topic)
    if predict is None:
        predict, predictor_info = model_predictor(checkpoint, device, batch)
    info = dict(predictor_info or {"predictor": "custom"})
    settings = {"config": asdict(cfg), "model": info.get("checkpoint_sha256", info.get("predictor", ""))}
    root = Path(work) / "harvest"
    root.mkdir(parents=True, exist_ok=True)
    examples = Examples(per_row=6)
    videos: dict[str, dict] = {}
    old = Recording(root).meta["videos"] if (root / "meta.json").exists() else {}
    from ..label.pipeline import clean_video

    for gone in sorted(set(old) - {s.name for s in sources}):
        clean_video(root, gone)  # a recording no longer named: its cut-outs must not be used
        (root / "frames" / f"{gone}.csv").unlink(missing_ok=True)
    for src in sources:
        vm = old.get(src.name)
        if vm and is_finished(root, src.name) and vm.get("harvest_settings") == settings:
            h = vm["harvest"]
            videos[src.name] = {"frames": h["frames"], "kept": h["kept"], "dropped": h["dropped"], "written": True,
                                "source": src.describe(), "resumed": True}
            continue
        c = harvest_video(src, predict, cfg, root, examples, settings, progress)
        videos[src.name] = {**c, "source": src.describe()}
    total = {"frames": sum(v["frames"] for v in videos.values()), "kept": sum(v["kept"] for v in videos.values()
                                                                               if v["written"])}
    dropped = {r: sum(v["dropped"][r] for v in videos.values()) for r in REASONS}
    dropped["too_few_kept_in_video"] = sum(v["kept"] for v in videos.values() if not v["written"])
    summary = {"root": str(root), "model": info, "settings": asdict(cfg), **total, "dropped": dropped,
               "videos": videos, "reasons": {**REASONS,
                                             "too_few_kept_in_video": "a recording kept fewer than 2 frames"}}
    sheet = examples.write(root / "harvest.png", f"harvest: {total['kept']} of {total['frames']} frames kept "
                                                 "(green: kept, red: dropped, by reason)",
                           order=["kept", *REASONS])
    summary["sheet"] = str(sheet) if sheet else (str(root / "harvest.png") if (root / "harvest.png").exists() else None)
    atomic_write_json(root / "harvest.json", summary)
    if total["kept"] < 2:
        why = ", ".join(f"{n} {r}" for r, n in dropped.items() if n) or "no frames"
        raise fail(root, f"no usable robot cut-outs: {total['kept']} of {total['frames']} frames kept ({why}); "
                         "see harvest.png and frames/*.csv, or relax the thresholds")
    return summary
