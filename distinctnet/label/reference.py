"""Which earlier frame each frame is paired with.

``previous``: frame t with frame t-1, frame 0 with frame 1, as the network was trained. With ``gap`` K > 1, frame t
with frame t-K (frames before K with frame 0): a longer baseline, a stronger motion cue (the composites are made
with gaps of 1-5 frames). The labeller's default is K = 2 (eval/QUALITY.md rows 29-).

``motion`` (the labeller's default): a frame that looks the same as the frame before it (nothing moved: a motion
stop) is paired instead with the reference of that frame, provided that one still differs from it and is at most
``max_gap`` frames back. Through a stop, every still frame is thus paired with the reference of the last moving
frame, and the network sees the same motion cue as at the last moving frame, for free (one decode per frame, as
before). Where nothing earlier differs (a video that starts still, or a stop longer than ``max_gap``), a frame
falls back to ``previous``.

"Looks the same" is measured on grey thumbnails (the network's input, average-pooled by ``pool``): two frames
differ when more than ``share`` of the thumbnail pixels changed by more than ``pixel`` (0-1 scale). Pooling
averages sensor noise away; a global change (auto-exposure, a light switched on) counts as motion, which
falls back to the plain pairs (t - gap).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError

REFERENCE_MODES = ("previous", "motion")


def check_options(mode: str, gap: int) -> None:
    """One-line errors for a ``--reference`` or ``--gap`` the picker cannot use."""
    if mode not in REFERENCE_MODES:
        raise UserError(f"--reference: {mode!r} is not one of {', '.join(REFERENCE_MODES)}")
    if not 1 <= gap <= 30:
        raise UserError(f"--gap must be between 1 and 30 frames, got {gap}")


@dataclass
class MotionGate:
    pixel: float = 0.03     # a thumbnail pixel changed when its grey value moved by more than this
    share: float = 0.002    # two frames differ when more than this share of thumbnail pixels changed
    max_gap: int = 150      # frames; a still frame is never paired with a frame further back (10 s at 15 fps)
    pool: int = 4           # thumbnail = the network input average-pooled by this factor

    def differ(self, a: np.ndarray, b: np.ndarray) -> bool:
        return float((np.abs(a - b) > self.pixel).mean()) > self.share


def thumbnails(x, pool: int) -> np.ndarray:
    """Grey thumbnails (B x h x w float32, CPU) of frames ``x`` (B x 3 x H x W in [0, 1], any device)."""
    import torch.nn.functional as F

    grey = x.float().mean(dim=1, keepdim=True)
    if pool > 1 and min(grey.shape[-2:]) >= pool:
        grey = F.avg_pool2d(grey, pool)
    return grey[:, 0].cpu().numpy()


@dataclass
class ReferencePicker:
    """Picks the reference of each frame of a video, chunk by chunk (absolute frame indices)."""

    mode: str = "previous"
    gate: MotionGate = field(default_factory=MotionGate)
    gap: int = 1                                          # a moving frame t is paired with t - gap
    t: int = 0                                            # index of the next frame
    last_ref: int | None = None                           # reference of frame t-1
    thumbs: dict[int, np.ndarray] = field(default_factory=dict)  # of the frames in ``keep``

    def __post_init__(self):
        check_options(self.mode, self.gap)

    @property
    def needs_thumbnails(self) -> bool:
        return self.mode == "motion"

    def pick(self, n: int, thumbs: np.ndarray | None = None) -> list[int]:
        """References of the next ``n`` frames (the first call needs n >= 2); ``thumbs`` (n x h x w) in mode motion."""
        t0 = self.t
        if t0 == 0 and n < 2:
            raise ValueError("the first chunk needs at least two frames")
        known = dict(self.thumbs)
        if thumbs is not None:
            known.update({t0 + j: thumbs[j] for j in range(n)})
        refs = []
        for t in range(t0, t0 + n):
            if t == 0:
                r = 1
            elif self.mode == "previous" or self.gate.differ(known[t], known[t - 1]):
                r = max(t - self.gap, 0)
            else:  # t looks like t-1: keep t-1's reference if it still shows a difference and is not too old
                c = self.last_ref
                r = c if (c is not None and c < t - 1 and t - c <= self.gate.max_gap
                          and self.gate.differ(known[t], known[c])) else max(t - self.gap, 0)
            refs.append(r)
            self.last_ref = r
        self.t = t0 + n
        if thumbs is not None:
            self.thumbs = {k: known[k] for k in self.keep}
        return refs

    @property
    def keep(self) -> set[int]:
        """Frames before the next chunk that the next chunk may be paired with (their features must be kept)."""
        if self.t == 0:
            return set()
        back = set(range(max(self.t - self.gap, 0), self.t))
        return back if self.mode == "previous" else back | {self.last_ref}
