"""Per-frame quality: for each predicted part the area (fraction of the frame) and the mean sigmoid margin
|p - 0.5| * 2 inside the predicted mask (1 = fully confident, 0 = coin flip). A frame is flagged for human
review when a non-empty part's margin falls below its review margin (reason ``low-margin:PART``), or when a
part's area jumps against both neighbouring frames (flicker: the part appears, vanishes or changes size by
more than half for one frame; reason ``flicker:PART``). ``quality/{video}.csv`` lists them.

The review margins are per part: ``--review-margin`` (one for all parts), else the checkpoint's calibrated ones
(``meta["review_margins"]``, written by ``python -m eval.review_flags --calibrate --write``: per part the margin
that best separates frames with a bad mask from good ones on held-out recordings), else 0.6. Small parts (gripper,
object) have lower margins than the robot even where their masks are good, so one margin for all flags every
frame for them.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..io import atomic_write_bytes

DEFAULT_REVIEW_MARGIN = 0.6

#: flicker: the area differs from both neighbours by more than this fraction of the larger area, and by more
#: than FLICKER_MIN_AREA of the frame
FLICKER_CHANGE = 0.5
FLICKER_MIN_AREA = 0.002


def review_margins(parts: list[str], override: float | None = None, calibrated: dict | None = None
                   ) -> dict[str, float]:
    """Each part's review margin: ``override`` for all, else ``calibrated[part]`` (a checkpoint's
    ``meta["review_margins"]``; parts it lacks get the default), else :data:`DEFAULT_REVIEW_MARGIN`."""
    if override is not None:
        return {p: float(override) for p in parts}
    calibrated = calibrated or {}
    return {p: float(calibrated.get(p, DEFAULT_REVIEW_MARGIN)) for p in parts}


def part_stats(mask: np.ndarray, prob: np.ndarray) -> tuple[float, float]:
    """(area fraction, mean margin inside the mask; nan when the mask is empty)."""
    n = int(mask.sum())
    area = n / mask.size
    margin = float(np.abs(prob[mask] - 0.5).mean() * 2.0) if n else float("nan")
    return area, margin


class QualityRecorder:
    def __init__(self, parts: list[str], review_margin: float | dict[str, float] = DEFAULT_REVIEW_MARGIN,
                 labels: dict[str, str] | None = None):
        """``review_margin``: one for all parts, or per part (see :func:`review_margins`)."""
        self.parts = list(parts)
        self.labels = {p: (labels or {}).get(p, p) for p in self.parts}  # part -> column prefix
        self.review_margin = (review_margins(self.parts, calibrated=review_margin) if isinstance(review_margin, dict)
                              else review_margins(self.parts, float(review_margin)))
        self.rows: list[dict] = []

    def add(self, frame: int, split: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
        row = self.make_row(frame, split)
        self.rows.append(row)
        return row

    def make_row(self, frame: int, split: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
        """The quality row of one frame (pure: safe to call from writer threads)."""
        row: dict = {"frame": frame}
        low = []
        for part in self.parts:
            area, margin = part_stats(*split[part])
            col = self.labels[part]
            row[f"{col}_area"] = round(area, 6)
            row[f"{col}_margin"] = "" if np.isnan(margin) else round(margin, 4)
            if area > 0 and margin < self.review_margin[part]:
                low.append(col)
        row["review"] = int(bool(low))
        row["reason"] = " ".join(f"low-margin:{p}" for p in low)
        return row

    def review_reasons(self) -> dict[str, int]:
        """Frames flagged per part and reason kind, e.g. {"low-margin:object": 38, "flicker:robot": 2}."""
        counts: dict[str, int] = {}
        for r in self.rows:
            for reason in str(r.get("reason") or "").split():
                counts[reason] = counts.get(reason, 0) + 1
        return counts

    @property
    def review_frames(self) -> list[int]:
        return [r["frame"] for r in self.rows if r["review"]]

    def fieldnames(self) -> list[str]:
        return ["frame", "review", "reason"] + [f"{self.labels[p]}_{k}" for p in self.parts for k in ("area", "margin")]

    def flag_flicker(self) -> None:
        """Flag frames whose part area jumps against both neighbours (rows must be complete and in order)."""
        for part in self.parts:
            col = self.labels[part]
            areas = [float(r[f"{col}_area"]) for r in self.rows]
            for i in range(1, len(areas) - 1):
                a, before, after = areas[i], areas[i - 1], areas[i + 1]
                if all(abs(a - n) > max(FLICKER_CHANGE * max(a, n), FLICKER_MIN_AREA) for n in (before, after)) \
                        and (a - before) * (a - after) > 0:  # a spike or a dip, not a steady change
                    row = self.rows[i]
                    row["review"] = 1
                    row["reason"] = " ".join(filter(None, [row["reason"], f"flicker:{col}"]))

    def write(self, path: str | Path) -> None:
        self.flag_flicker()
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=self.fieldnames(), lineterminator="\n")
        w.writeheader()
        w.writerows(self.rows)
        atomic_write_bytes(path, buf.getvalue().encode())


def read_quality(path: str | Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))
