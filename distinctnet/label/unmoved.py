"""Drop the mask pieces where nothing in the video ever moved: ``distinctnet label --unmoved drop``.

From a fixed camera, the robot, the grasped object and the distractors each move at some time in a recording. A
connected piece of their masks that lies where nothing in the video ever changed is scenery the network took for them:
a table edge labelled robot, a still can labelled gripper (eval/QUALITY.md rows 59-61). Pieces closer than ``BRIDGE``
pixels count as one, so that a still link cut off from the moving arm by a hole in its mask stays.

- The moved map (:class:`MovedMap`): each frame resized to the network's input size as the network sees it, box
  blurred ``BLUR`` x ``BLUR`` (sensor noise and compression speckle), and a pixel moved when one of its colour
  channels changed by more than ``PIXEL`` levels (of 255) between two consecutive frames; the union over the whole
  video.
- How near it a piece must lie (``REACH``): the gripper, the object and a distractor move as a whole, so a piece of
  them must touch what moved (up to ``DEFAULT_REACH`` pixels away). The robot is a large articulated body whose base
  never moves and can lie far from its moving links, and the network often finds only a few pixels of it, cut off
  from the rest (row 59: such pieces were dropped and cost a set 0.29 robot IoU); a robot piece goes only when it
  lies further than ``REACH["robot"]`` pixels from anything that moved (the far edge of a table, a shelf).
- The labeller computes the map in a first, cheap pass over the video's frames (decoding only), so a robot that
  starts still keeps its masks before it first moves. Given frames it can read only once, it grows the map as
  the frames come instead: a piece then counts once it is near anything that has changed so far.
- Safe when the assumption fails: a moving camera or a change of exposure moves every pixel, and nothing is
  dropped; a video where nothing moves at all keeps its masks too. What it does drop wrongly: a robot that stands
  still through a whole video while other things move (label such recordings with ``--unmoved keep``).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from ..errors import UserError

MODES = ("keep", "drop")
PARTS = ("robot", "gripper", "object", "distractor")  # the channels whose unmoved pieces are dropped
PIXEL = 12    # levels of 255: a blurred colour channel that changed by more than this between two frames moved
BLUR = 3      # box blur (pixels at the network's input size) before the frames are compared
BRIDGE = 13   # mask pieces closer than this (pixels at the network's input size) count as one
#: how far (pixels at the network's input size, a square's half side) a piece of a part may lie from anything that
#: moved and still stay; the parts not named here (gripper, object, distractor) take ``DEFAULT_REACH``
REACH = {"robot": 45}
DEFAULT_REACH = 2


def check_unmoved(mode: str) -> str:
    if mode not in MODES:
        raise UserError(f"--unmoved: {mode!r} is not one of {', '.join(MODES)}")
    return mode


def gated_channels(classes: Sequence[str]) -> dict[int, int]:
    """{channel: reach} of the channels ``drop`` applies to: the parts of ``PARTS``; for a model with no part channel
    (the moving foreground only, written into the robot part), its foreground channel, with the robot's reach."""
    ch = {i: REACH.get(c, DEFAULT_REACH) for i, c in enumerate(classes) if c in PARTS}
    return ch or {i: REACH["robot"] for i, c in enumerate(classes) if c == "foreground"}


class MovedMap:
    """The pixels that changed anywhere in a video, at ``size`` (H, W), fed one RGB uint8 frame at a time."""

    def __init__(self, size: tuple[int, int]):
        self.size = (int(size[0]), int(size[1]))
        self._prev: np.ndarray | None = None
        self._moved: np.ndarray | None = None

    def add(self, rgb: np.ndarray) -> None:
        import cv2

        h, w = self.size
        if rgb.shape[:2] != (h, w):  # as the labeller resizes the frames for the network
            rgb = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if rgb.shape[0] > h else cv2.INTER_LINEAR)
        g = cv2.blur(rgb, (BLUR, BLUR)).astype(np.int16)
        if self._prev is not None:
            changed = np.abs(g - self._prev).max(axis=2) > PIXEL
            self._moved = changed if self._moved is None else self._moved | changed
        self._prev = g

    def mask(self) -> np.ndarray | None:
        """The moved pixels (bool H x W), or None while nothing has moved."""
        if self._moved is None or not self._moved.any():
            return None
        return self._moved.copy()


def moved_map(frames: Iterable[np.ndarray], size: tuple[int, int]) -> np.ndarray | None:
    """The moved map (``MovedMap.mask``) of a whole video."""
    m = MovedMap(size)
    for f in frames:
        m.add(f)
    return m.mask()


def drop_unmoved(probs: np.ndarray, moved: np.ndarray | None, reach: Mapping[int, int], thresholds: Sequence[float],
                 input_h: int) -> np.ndarray:
    """``probs`` (C x H x W float, one frame at its own size) with the pieces of each channel's mask (probability
    above its threshold, ``thresholds`` per channel) that lie further than ``reach[channel]`` from every pixel of
    ``moved`` (bool, any size; resized to the frame) set to probability 0, in place; ``input_h``: the network input's
    height (``reach`` and ``BRIDGE`` are in its pixels). ``moved`` None (nothing moved): unchanged."""
    import cv2

    if moved is None:
        return probs
    h, w = probs.shape[1:]
    near = {}  # reach -> the moved map dilated by it, at the frame's size
    for r in set(reach.values()):
        k = 2 * int(round(r * moved.shape[0] / input_h)) + 1
        m = cv2.dilate(moved.astype(np.uint8), np.ones((k, k), np.uint8)) if k > 1 else moved.astype(np.uint8)
        near[r] = (m if m.shape == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_NEAREST)) > 0
    b = max(1, int(round(BRIDGE * h / input_h))) | 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (b, b)) if b > 1 else None
    for c, r in reach.items():
        mask = probs[c] > thresholds[c]
        if not mask.any():
            continue
        m8 = mask.astype(np.uint8)
        n, lab = cv2.connectedComponents(cv2.dilate(m8, kernel) if kernel is not None else m8, connectivity=8)
        hit = np.bincount(lab[near[r]], minlength=n) > 0
        probs[c][mask & ~hit[lab]] = 0.0
    return probs
