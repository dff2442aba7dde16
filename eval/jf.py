"""J&F per part, the video-segmentation measure RobotSeg reports (DAVIS definition, as computed by the
``vos-benchmark`` package). Values are percentages (0-100).

* J (region similarity): IoU of the prediction and the ground truth in one frame; 100 when both are empty.
* F (boundary accuracy): F-measure of boundary precision and recall. Boundaries are one pixel wide
  (:func:`boundary_map`: a pixel is on the boundary when it differs from its right, lower or lower-right
  neighbour, neighbours outside the image ignored, as DAVIS's ``seg2bmap``). A boundary pixel of one mask
  matches when it lies within ``bound_th * image diagonal`` pixels (rounded up; ``bound_th`` = 0.008) of the
  other mask's boundary (dilation with a disk). Precision = matched predicted boundary / predicted
  boundary, recall = matched GT boundary / GT boundary; no predicted boundary -> precision 1, no GT
  boundary -> recall 1; F = 0 when both are 0.
* Per video and part: mean J and mean F over frames, counted from the first frame in which the part
  appears in the ground truth or the prediction (vos-benchmark's rule: an object enters the evaluation when
  it first shows up). A video whose ground truth never contains the part is not scored for that part (its
  false positives still show in the IoU table). Optionally the first and last frame are skipped
  (DAVIS semi-supervised protocol; off by default: our labeller is prompt-free).
* Per part over the dataset: mean over the scored videos; J&F = (J + F) / 2.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Iterable

import numpy as np

BOUND_TH = 0.008


def boundary_map(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary of a binary mask (DAVIS ``seg2bmap`` at the mask's own size): a pixel is on
    the boundary when it differs from its right, lower or lower-right neighbour inside the image."""
    m = np.asarray(mask, bool)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {m.shape}")
    b = np.zeros_like(m)
    b[:, :-1] |= m[:, :-1] ^ m[:, 1:]
    b[:-1, :] |= m[:-1, :] ^ m[1:, :]
    b[:-1, :-1] |= m[:-1, :-1] ^ m[1:, 1:]
    return b


def bound_pixels(shape: tuple[int, int], bound_th: float = BOUND_TH) -> int:
    """Boundary tolerance in pixels: ``bound_th`` itself when >= 1, else ceil(bound_th * diagonal)."""
    return int(bound_th) if bound_th >= 1 else int(math.ceil(bound_th * math.hypot(*shape[:2])))


@lru_cache(maxsize=16)
def _disk(radius: int) -> np.ndarray:
    """The DAVIS structuring element (skimage ``disk``: x^2 + y^2 <= r^2), without importing scipy."""
    y, x = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return (x * x + y * y <= radius * radius).astype(np.uint8)


def _dilate(b: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    return cv2.dilate(b.astype(np.uint8), _disk(radius)).astype(bool)


def region_j(pred: np.ndarray, gt: np.ndarray) -> float:
    """J in percent: IoU of two masks; 100 when both are empty."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction is {pred.shape}, ground truth is {gt.shape}")
    union = np.count_nonzero(pred | gt)
    return 100.0 if union == 0 else 100.0 * np.count_nonzero(pred & gt) / union


def boundary_f(pred: np.ndarray, gt: np.ndarray, bound_th: float = BOUND_TH) -> float:
    """F in percent: boundary F-measure with the DAVIS tolerance (see module docstring)."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction is {pred.shape}, ground truth is {gt.shape}")
    r = bound_pixels(pred.shape, bound_th)
    # Work on the bounding box of both masks plus one pixel: every boundary pixel lies inside it, and only
    # boundary pixels are counted, so the result is the same as on the whole image (and much faster).
    rows, cols = np.flatnonzero((pred | gt).any(1)), np.flatnonzero((pred | gt).any(0))
    if rows.size:
        ys = slice(max(0, rows[0] - 1), rows[-1] + 2)
        xs = slice(max(0, cols[0] - 1), cols[-1] + 2)
        pred, gt = pred[ys, xs], gt[ys, xs]
    pb, gb = boundary_map(pred), boundary_map(gt)
    n_p, n_g = int(np.count_nonzero(pb)), int(np.count_nonzero(gb))
    if n_p == 0 and n_g == 0:
        return 100.0
    if n_p == 0:
        return 0.0  # precision 1, recall 0
    if n_g == 0:
        return 0.0  # precision 0, recall 1
    precision = np.count_nonzero(pb & _dilate(gb, r)) / n_p
    recall = np.count_nonzero(gb & _dilate(pb, r)) / n_g
    if precision + recall == 0:
        return 0.0
    return 100.0 * 2 * precision * recall / (precision + recall)


class VideoJF:
    """J and F of one part over one video's frames (fed in order)."""

    def __init__(self, bound_th: float = BOUND_TH):
        self.bound_th = bound_th
        self.j: list[float] = []
        self.f: list[float] = []
        self.seen_gt = False
        self.active = False

    def update(self, pred: np.ndarray, gt: np.ndarray) -> tuple[float, float] | None:
        """Add one frame; returns its (J, F), or None while the part has not appeared yet."""
        pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
        gt_any = bool(gt.any())
        self.seen_gt |= gt_any
        self.active |= gt_any or bool(pred.any())
        if not self.active:
            return None
        jf = region_j(pred, gt), boundary_f(pred, gt, self.bound_th)
        self.j.append(jf[0])
        self.f.append(jf[1])
        return jf

    def result(self) -> dict | None:
        """``{"J", "F", "JF", "frames"}`` (percent), or None when the ground truth never had the part."""
        if not self.seen_gt or not self.j:
            return None
        j, f = float(np.mean(self.j)), float(np.mean(self.f))
        return {"J": j, "F": f, "JF": (j + f) / 2, "frames": len(self.j)}


def summarize(per_video: Iterable[dict | None]) -> dict:
    """Dataset J&F of one part: means over the videos that were scored (None entries are skipped).
    ``{"J", "F", "JF", "videos"}``, the three values None when no video was scored."""
    rows = [r for r in per_video if r is not None]
    if not rows:
        return {"J": None, "F": None, "JF": None, "videos": 0}
    j = float(np.mean([r["J"] for r in rows]))
    f = float(np.mean([r["F"] for r in rows]))
    return {"J": j, "F": f, "JF": (j + f) / 2, "videos": len(rows)}
