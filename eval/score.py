"""Score a predicted labelled-recording tree against a ground-truth tree (same layout, same video names).

``score(gt_root, pred_root)`` returns a JSON-ready dict; ``distinctnet eval --json FILE`` writes it.
All scores are percentages (0-100); an undefined score is ``null``. The schema is stable: fields are only
ever added, and a change of meaning bumps ``schema_version`` (the same text is in ``eval/SCHEMA.md``).

Schema (``schema_version`` 1)::

    {
      "schema_version": 1,
      "gt_root": str, "pred_root": str,
      "settings": {"classes": [str], "jf_parts": [str], "motion_parts": [str], "bound_th": 0.008,
                   "skip_first_and_last": false, "kept_after": 20, "worst_k": int},
      "summary": {"videos": int, "frames": int, "mean_iou": float|null,     # mean over classes with an IoU
                  "pred_extra_videos": [str]},                            # in pred only, ignored
      "iou": {class: {"iou": float|null, "tp": int, "fp": int, "fn": int, "frames": int}},
      "jf": {part: {"J": float|null, "F": float|null, "JF": float|null, "videos": int}},
      "videos": [{"video": str, "frames": int, "annotated_parts": [str], "static_from": int|null,
                  "scored": [class],
                  "iou": {class: float|null},                              # over this video's frames
                  "jf": {part: {"J", "F", "JF", "frames"} | null}}],      # null: part never in GT
      "motion_stop": {"kept_after": 20,
                      "parts": {part: {"videos": [str], "kept": float|null, "kept_std": float|null,
                                       "kept_n": int,
                                       "curve": [{"t", "n", "mean", "std", "q25", "median", "q75"}]}}},
      "worst_frames": [{"video": str, "frame": int, "score": float,
                        "iou": {class: float|null}}],                      # ascending score
      "run": null | {"checkpoint": str, "device": str, "pairs": int, "seconds": float,
                     "pairs_per_s": float, "parameters": int|null, "pred_root": str}
    }

Definitions: ``iou`` is the paper's dataset IoU, TP / (TP + FP + FN) with counts summed over all frames
(:mod:`eval.metrics`, including which classes a video is scored on given its ``annotated_parts``);
``jf`` is RobotSeg's / DAVIS's J&F (:mod:`eval.jf`); ``motion_stop`` is :mod:`eval.motion_stop`.
A frame's ``score`` for the worst-frames list is the mean of its own per-frame IoUs over the scored
classes other than background (classes whose GT and prediction are both empty in that frame are left out);
frames with no defined IoU are not listed.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from distinctnet.errors import fail
from distinctnet.layout import PART_NAMES, Recording

from .jf import BOUND_TH, VideoJF, summarize
from .metrics import CLASSES, IoUAccumulator, class_masks, mean_defined, scored_classes
from .motion_stop import DEFAULT_PARTS, KEPT_AFTER, motion_stop

SCHEMA_VERSION = 1


def _check_classes(classes: Iterable[str], what: str) -> tuple[str, ...]:
    classes = tuple(classes)
    bad = [c for c in classes if c not in CLASSES]
    if bad:
        raise fail(what, f"unknown class {bad[0]!r}; classes are {', '.join(CLASSES)}")
    return classes


def _pred_frames(pred: Recording, video: str) -> int | None:
    if video in pred.meta["videos"]:
        return pred.num_frames(video)
    if (pred.root / "mask" / video).is_dir():
        return None  # no meta entry: trust the mask files, a missing one is reported when read
    raise fail(pred.root, f"no prediction for video {video!r}")


@dataclass(frozen=True)
class _VideoJob:
    gt_root: str
    pred_root: str
    video: str
    frames: int
    meta: dict
    classes: tuple
    jf_parts: tuple
    bound_th: float
    skip_first_and_last: bool
    worst_k: int


def _score_video(job: _VideoJob, tick: Callable[[int], object] | None = None) -> dict:
    """Score one video: its IoU counts, its row of the JSON, its per-frame IoU series and its worst
    frames as (score, frame, per-class IoU), lowest first."""
    gt, pred = Recording(job.gt_root), Recording(job.pred_root)
    v, n = job.video, job.frames
    annotated = list(job.meta.get("annotated_parts", PART_NAMES))  # absent: all parts (layout default)
    try:
        scored = tuple(c for c in scored_classes(annotated) if c in job.classes)
    except ValueError as e:
        raise fail(gt.root / "meta.json", f"video {v!r}: {e}")
    acc = IoUAccumulator(job.classes)
    jfs = {p: VideoJF(job.bound_th) for p in job.jf_parts if p in scored}
    series: dict[str, list] = {c: [] for c in scored}
    worst: list[tuple[float, int, dict]] = []  # min-heap on -score: keeps the worst_k lowest scores
    for i in range(n):
        g, p = gt.read_masks(v, i), pred.read_masks(v, i)
        for name in g:
            if g[name].shape != p[name].shape:
                raise fail(pred.mask_path(v, name, i),
                           f"mask is {p[name].shape[1]}x{p[name].shape[0]}, ground truth is "
                           f"{g[name].shape[1]}x{g[name].shape[0]}")
        frame_iou = acc.update(p, g, annotated)
        for c in scored:
            series[c].append(frame_iou.get(c))
        if jfs and not (job.skip_first_and_last and (i == 0 or i == n - 1)):
            pc, gc = class_masks(p), class_masks(g)
            for part, vj in jfs.items():
                vj.update(pc[part], gc[part])
        s = mean_defined(frame_iou.get(c) for c in scored if c != "background")
        if s is not None and job.worst_k > 0:
            item = (-s, -i, {c: frame_iou.get(c) for c in scored})
            if len(worst) < job.worst_k:
                heapq.heappush(worst, item)
            elif item[:2] > worst[0][:2]:
                heapq.heapreplace(worst, item)
        if tick:
            tick(1)
    row = {"video": v, "frames": n, "annotated_parts": annotated, "static_from": job.meta.get("static_from"),
           "scored": list(scored),
           "iou": {c: r for c, r in acc.iou().items() if c in scored},
           "jf": {p: vj.result() for p, vj in jfs.items()}}
    return {"acc": acc, "row": row, "series": series,
            "worst": sorted((-ns, -ni, d) for ns, ni, d in worst)}


def score(gt_root: str | Path, pred_root: str | Path, parts: Iterable[str] = CLASSES, *,
          motion_parts: Iterable[str] = DEFAULT_PARTS, bound_th: float = BOUND_TH,
          skip_first_and_last: bool = False, kept_after: int = KEPT_AFTER, worst_k: int = 20,
          videos: Iterable[str] | None = None, progress: bool = True, workers: int = 1) -> dict:
    """Compare ``pred_root`` with ``gt_root`` (see the module docstring for the returned schema).

    ``parts``: the classes to score (IoU; J&F on all of them but background). ``motion_parts``: classes for
    the motion-stop curve. ``videos``: a subset of the GT videos (default all). ``workers`` > 1 scores
    videos in that many processes (same result)."""
    from tqdm import tqdm

    classes = _check_classes(parts, "parts")
    jf_parts = tuple(c for c in classes if c != "background")
    motion_parts = tuple(c for c in _check_classes(motion_parts, "motion_parts") if c in classes)
    gt, pred = Recording(gt_root), Recording(pred_root)
    names = gt.videos if videos is None else list(videos)
    if not names:
        raise fail(gt.root, "no videos to score (meta.json lists none)")
    for v in names:
        if v not in gt.meta["videos"]:
            raise fail(gt.root, f"unknown video {v!r}")

    frame_counts = {}
    for v in names:
        n_gt, n_pred = gt.num_frames(v), _pred_frames(pred, v)
        if n_pred is not None and n_pred != n_gt:
            raise fail(pred.root / "mask" / v, f"prediction has {n_pred} frames, ground truth has {n_gt}")
        frame_counts[v] = n_gt

    jobs = [_VideoJob(str(gt.root), str(pred.root), v, frame_counts[v], gt.video_meta(v), classes, jf_parts,
                      bound_th, skip_first_and_last, worst_k) for v in names]
    total = IoUAccumulator(classes)
    rows, per_frame_iou, static_from, worst = [], {}, {}, []
    bar = tqdm(total=sum(frame_counts.values()), desc="scoring", unit="frame", disable=not progress)
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(min(workers, len(jobs))) as pool:
            results = []
            for job, res in zip(jobs, pool.map(_score_video, jobs)):
                bar.update(job.frames)
                results.append(res)
    else:
        results = [_score_video(job, bar.update) for job in jobs]
    bar.close()
    for k, res in enumerate(results):
        total.merge(res["acc"])
        rows.append(res["row"])
        per_frame_iou[res["row"]["video"]] = res["series"]
        static_from[res["row"]["video"]] = res["row"]["static_from"]
        worst += [(s, k, i, d) for s, i, d in res["worst"]]
    worst = sorted(worst, key=lambda w: w[:3])[:worst_k]

    iou = total.result()
    jf = {p: summarize(r["jf"].get(p) for r in rows) for p in jf_parts}
    worst_frames = [{"video": names[k], "frame": i, "score": sc, "iou": d} for sc, k, i, d in worst]
    extra = sorted(set(pred.meta["videos"]) - set(gt.meta["videos"]))
    return {
        "schema_version": SCHEMA_VERSION,
        "gt_root": str(gt.root), "pred_root": str(pred.root),
        "settings": {"classes": list(classes), "jf_parts": list(jf_parts), "motion_parts": list(motion_parts),
                     "bound_th": bound_th, "skip_first_and_last": skip_first_and_last,
                     "kept_after": kept_after, "worst_k": worst_k},
        "summary": {"videos": len(names), "frames": sum(frame_counts.values()),
                    "mean_iou": mean_defined(r["iou"] for r in iou.values()), "pred_extra_videos": extra},
        "iou": iou,
        "jf": jf,
        "videos": rows,
        "motion_stop": motion_stop(per_frame_iou, static_from, motion_parts, kept_after),
        "worst_frames": worst_frames,
        "run": None,
    }
