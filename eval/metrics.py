"""Per-class IoU as the DistinctNet paper reports it: TP / (TP + FP + FN), with the pixel counts summed over
the whole dataset (not a mean of per-frame IoUs). Values are percentages (0-100).

Classes: background, foreground, robot, arm, gripper, object, distractor, with
foreground = robot | object | distractor and background = ~foreground (see :mod:`distinctnet.layout`).

Which frames count for which class (the annotated-parts rule): a video's ``annotated_parts`` in meta.json
says which parts carry real annotation.

* a part counts when it is listed; ``robot`` also counts when ``arm`` and ``gripper`` are both listed,
  ``arm`` also when ``robot`` and ``gripper`` are both listed (``arm = robot & ~gripper``);
* ``foreground`` and ``background`` count only when robot, object and distractor all count (a clip with
  robot masks only cannot say what else moved).

A class whose TP + FP + FN is 0 over everything it was scored on (never in the ground truth and never
predicted) has an undefined IoU, reported as ``None`` (``null`` in JSON).
"""
from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np

from distinctnet.layout import PART_NAMES

CLASSES: tuple[str, ...] = ("background", "foreground", "robot", "arm", "gripper", "object", "distractor")


def scored_classes(annotated_parts: Iterable[str]) -> tuple[str, ...]:
    """The classes that a video with these annotated parts is scored on, in :data:`CLASSES` order."""
    ann = set(annotated_parts)
    unknown = ann - set(PART_NAMES)
    if unknown:
        raise ValueError(f"unknown annotated parts {sorted(unknown)}; parts are {PART_NAMES}")
    if {"arm", "gripper"} <= ann:
        ann.add("robot")
    if {"robot", "gripper"} <= ann:
        ann.add("arm")
    if {"robot", "object", "distractor"} <= ann:
        ann |= {"foreground", "background"}
    return tuple(c for c in CLASSES if c in ann)


def class_masks(masks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All seven class masks (bool) from a dict of the five part masks."""
    m = {name: np.asarray(masks[name], bool) for name in PART_NAMES}
    fg = m["robot"] | m["arm"] | m["gripper"] | m["object"] | m["distractor"]
    return {"background": ~fg, "foreground": fg, **m}


def confusion(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int, int]:
    """(TP, FP, FN) pixel counts of two bool masks."""
    pred = np.asarray(pred, bool)
    gt = np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction is {pred.shape}, ground truth is {gt.shape}")
    tp = int(np.count_nonzero(pred & gt))
    return tp, int(np.count_nonzero(pred)) - tp, int(np.count_nonzero(gt)) - tp


def iou_from_counts(tp: int, fp: int, fn: int) -> float | None:
    """IoU in percent, or None when TP + FP + FN == 0 (undefined)."""
    union = tp + fp + fn
    return None if union == 0 else 100.0 * tp / union


class IoUAccumulator:
    """Sums TP/FP/FN per class over frames; :meth:`result` gives the dataset IoU per class.

    >>> acc = IoUAccumulator()
    >>> per_frame = acc.update(pred_masks, gt_masks, annotated_parts=["robot"])   # per-frame IoU of the frame
    >>> acc.result()["robot"]["iou"]
    """

    def __init__(self, classes: Iterable[str] = CLASSES):
        self.classes = tuple(classes)
        unknown = set(self.classes) - set(CLASSES)
        if unknown:
            raise ValueError(f"unknown classes {sorted(unknown)}; classes are {CLASSES}")
        self.counts = {c: np.zeros(3, np.int64) for c in self.classes}
        self.frames = {c: 0 for c in self.classes}

    def update(self, pred: Mapping[str, np.ndarray], gt: Mapping[str, np.ndarray],
               annotated_parts: Iterable[str]) -> dict[str, float | None]:
        """Add one frame. ``pred`` and ``gt`` map part names (arm, gripper, robot, object, distractor) to
        HxW masks. Returns this frame's own IoU per scored class (None where undefined)."""
        pc, gc = class_masks(pred), class_masks(gt)
        out: dict[str, float | None] = {}
        for c in scored_classes(annotated_parts):
            if c not in self.counts:
                continue
            tp, fp, fn = confusion(pc[c], gc[c])
            self.counts[c] += (tp, fp, fn)
            self.frames[c] += 1
            out[c] = iou_from_counts(tp, fp, fn)
        return out

    def merge(self, other: "IoUAccumulator") -> "IoUAccumulator":
        for c in self.classes:
            if c in other.counts:
                self.counts[c] += other.counts[c]
                self.frames[c] += other.frames[c]
        return self

    def iou(self) -> dict[str, float | None]:
        """IoU (percent) per class; None where undefined or never scored."""
        return {c: iou_from_counts(*map(int, self.counts[c])) for c in self.classes}

    def result(self) -> dict[str, dict]:
        """``{class: {"iou": percent or None, "tp", "fp", "fn", "frames"}}``."""
        out = {}
        for c in self.classes:
            tp, fp, fn = map(int, self.counts[c])
            out[c] = {"iou": iou_from_counts(tp, fp, fn), "tp": tp, "fp": fp, "fn": fn, "frames": self.frames[c]}
        return out


def mean_defined(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not None; None when there are none."""
    v = [x for x in values if x is not None]
    return float(np.mean(v)) if v else None
