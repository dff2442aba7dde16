"""Is a recording usable for adapting? Refuse, with one line, recordings that are too short, where nothing
moves, or where the camera moves.

Measured on small grey frames (``ANALYSIS_WIDTH`` pixels wide, lightly blurred), for consecutive frames and
for frames ``LONG_GAP`` apart (a slow pan shows over several frames):

- changed fraction: share of pixels whose grey value changes by more than ``DIFF_LEVEL``;
- global shift: the median displacement of a grid of points tracked from one frame to the other (OpenCV's
  pyramidal Lucas-Kanade; points in flat areas, which cannot be tracked, are left out). With a fixed camera
  most points lie on the static background and the median is ~0 even while the robot moves; a moving camera
  moves all of them.

Nothing moves: no pair (consecutive, or ``LONG_GAP`` apart: a slow robot filmed at a high frame rate) changes
more than ``STATIC_CHANGED`` of the pixels.
The camera moves: in more than ``CAMERA_PAIRS`` of the pairs, the picture shifts by more than ``CAMERA_SHIFT``
analysis pixels as a whole (median over at least ``MIN_TRACKED`` tracked points) or more than ``CAMERA_CHANGED`` of the
pixels change (a zoom, a shake, a cut).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from ..errors import fail

MIN_FRAMES = 10           # robot recordings: at least this many frames
MIN_CLIP_FRAMES = 6       # gripper open/close clip
ANALYSIS_WIDTH = 160
DIFF_LEVEL = 20           # grey levels (0..255)
STATIC_CHANGED = 0.002    # largest changed fraction of a recording where "nothing moves"
CAMERA_SHIFT = 1.0        # analysis pixels
MIN_TRACKED = 12          # grid points that must track for a shift to count
GRID_STEP = 6             # analysis pixels between tracked grid points
CAMERA_CHANGED = 0.6
CAMERA_PAIRS = 0.3
LONG_GAP = 5


def small_grey(rgb: np.ndarray, width: int = ANALYSIS_WIDTH) -> np.ndarray:
    """A float32 grey image ``width`` wide (aspect kept), blurred against sensor noise."""
    import cv2

    h, w = rgb.shape[:2]
    g = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if rgb.ndim == 3 else rgb
    if w != width:
        g = cv2.resize(g, (width, max(8, round(h * width / w))), interpolation=cv2.INTER_AREA)
    return cv2.GaussianBlur(g.astype(np.float32), (3, 3), 0)


def changed_fraction(a: np.ndarray, b: np.ndarray, level: float = DIFF_LEVEL) -> float:
    return float((np.abs(a - b) > level).mean())


def global_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, int]:
    """(median displacement in pixels, number of tracked grid points) from grey image ``a`` to ``b``."""
    import cv2

    h, w = a.shape
    ys, xs = np.mgrid[GRID_STEP // 2:h:GRID_STEP, GRID_STEP // 2:w:GRID_STEP]
    pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)[:, None]
    a8, b8 = np.clip(a, 0, 255).astype(np.uint8), np.clip(b, 0, 255).astype(np.uint8)
    new, status, _ = cv2.calcOpticalFlowPyrLK(a8, b8, pts, None, winSize=(11, 11), maxLevel=3,
                                              minEigThreshold=5e-3)
    ok = status.ravel() == 1
    if ok.sum() < MIN_TRACKED:
        return 0.0, int(ok.sum())
    d = np.linalg.norm((new - pts)[ok, 0], axis=1)
    return float(np.median(d)), int(ok.sum())


@dataclass
class MotionStats:
    frames: int = 0
    changed: list[float] = field(default_factory=list)   # consecutive pairs
    changed_far: list[float] = field(default_factory=list)  # pairs LONG_GAP frames apart
    shifts: list[tuple[float, int]] = field(default_factory=list)  # (median shift, tracked), all pairs tested
    big_change: list[bool] = field(default_factory=list)  # all pairs tested: changed > CAMERA_CHANGED

    def camera_pairs(self) -> int:
        return sum(1 for (s, n), big in zip(self.shifts, self.big_change)
                   if (s > CAMERA_SHIFT and n >= MIN_TRACKED) or big)


def motion_stats(frames: Iterable[np.ndarray]) -> MotionStats:
    """Changed fractions and global shifts of a stream of RGB frames (one pass, small memory)."""
    st = MotionStats()
    recent: deque = deque(maxlen=LONG_GAP + 1)
    for rgb in frames:
        g = small_grey(rgb)
        if recent:
            far_back = recent[-LONG_GAP] if len(recent) >= LONG_GAP else None
            for prev, consecutive in ((recent[-1], True), (far_back, False)):
                if prev is None:
                    continue
                c = changed_fraction(prev, g)
                (st.changed if consecutive else st.changed_far).append(c)
                st.shifts.append(global_shift(prev, g))
                st.big_change.append(c > CAMERA_CHANGED)
        recent.append(g)
        st.frames += 1
    return st


def check_recording(st: MotionStats, where, *, min_frames: int = MIN_FRAMES, what: str = "robot recording") -> None:
    """Raise a one-line UserError naming ``where`` when the recording cannot be used."""
    if st.frames < min_frames:
        raise fail(where, f"{what} is too short: {st.frames} frame(s), adapt needs at least {min_frames}")
    most = max(st.changed + st.changed_far, default=0.0)
    if most < STATIC_CHANGED:
        raise fail(where, f"nothing moves in this {what}: at most {100 * most:.2f}% of the pixels change between "
                          f"frames up to {LONG_GAP} apart (record the robot while it moves)")
    cam = st.camera_pairs()
    if st.shifts and cam > CAMERA_PAIRS * len(st.shifts):
        moved = [s for s, n in st.shifts if n >= MIN_TRACKED]
        typical = float(np.median(moved)) if moved else 0.0
        raise fail(where, f"the camera moves in this {what}: {cam} of {len(st.shifts)} frame pairs shift as a whole "
                          f"(median {typical:.1f} px at {ANALYSIS_WIDTH} px width) or change almost everywhere; "
                          "adapt needs a fixed camera")
