"""From model probabilities to the five layout parts.

Semantic head: each class channel that is a layout part goes to that part; arm = robot & ~gripper when
both robot and gripper are predicted. Motion head (or a semantic model with only a foreground channel):
the moving foreground is written into the robot part (and so arm = robot, the layout's rule robot =
arm | gripper), while ``annotated_parts`` is ``["foreground"]`` so evaluation scores it as foreground
only. That mirrors DistinctNet's own use of stage-1 masks of recordings of the moving robot as robot
cut-outs; on recordings with a grasped object or distractors the robot part then includes them, which the
meta says (``foreground_written_to``).

Per-class thresholds (a calibrated checkpoint's ``meta["thresholds"]``, or ``--threshold``): each channel's
probability p is first mapped onto a scale where its threshold t sits at 0.5, piecewise linearly
(q = p / 2t below t, 0.5 + (p - t) / 2(1 - t) above), so that mask = q > 0.5 = p > t, the arm's probability
min(q_robot, 1 - q_gripper) and the review margins |q - 0.5| * 2 mean the same whatever the thresholds.

Exclusive parts (``--exclusive``): the grasped object and a distractor never share a pixel in the layout's ground
truth, but their channels can both pass their thresholds on the same pixels. ``distractor`` gives such a pixel to
the distractor (the object mask loses it); ``larger`` to the part whose probability lies further above its own
threshold (the rescaled probabilities compared; a tie goes to the distractor). eval/QUALITY.md, rows 41-.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import UserError
from ..layout import PART_NAMES


@dataclass
class PartPlan:
    channels: dict[str, int]            # part -> channel of the probability stack
    derive_arm: bool                    # arm = robot & ~gripper
    annotated: list[str]                # meta annotated_parts
    meta: dict = field(default_factory=dict)

    def split(self, probs: np.ndarray, thresholds: float | Sequence[float] = 0.5, clean: float = 0.0,
              exclusive: str = "none") -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """probs C x H x W -> {part: (bool mask, probability map rescaled so that its threshold is 0.5)} for the
        parts the model gives; ``thresholds``: one for all channels or one per channel; ``clean`` > 0: see
        :func:`drop_small_robot_blobs`; ``exclusive``: see :func:`make_exclusive` (the probability maps are left
        as they are)."""
        th = np.broadcast_to(np.asarray(thresholds, dtype=np.float32), (probs.shape[0],))
        q = {c: rescale(probs[c], float(th[c])) for c in set(self.channels.values())}
        out = {part: (probs[c] > th[c], q[c]) for part, c in self.channels.items()}
        if self.derive_arm:
            p_arm = np.minimum(q[self.channels["robot"]], 1.0 - q[self.channels["gripper"]])
            out["arm"] = (out["robot"][0] & ~out["gripper"][0], p_arm)
        if clean > 0:
            drop_small_robot_blobs(out, clean)
        make_exclusive(out, exclusive)
        return {p: out[p] for p in PART_NAMES if p in out}


#: ``--exclusive`` modes: which part keeps the pixels that the object's and the distractors' masks share
EXCLUSIVE = ("none", "distractor", "larger")


def check_exclusive(mode: str) -> str:
    if mode not in EXCLUSIVE:
        raise UserError(f"--exclusive: {mode!r} is not one of {', '.join(EXCLUSIVE)}")
    return mode


def make_exclusive(parts: dict[str, tuple[np.ndarray, np.ndarray]], mode: str) -> None:
    """In place: where the object and the distractor masks overlap, ``distractor`` takes the pixels out of the
    object mask; ``larger`` takes each out of the mask whose rescaled probability is lower (out of the object on a
    tie); ``none`` (or a model without both parts) leaves the masks as they are."""
    if check_exclusive(mode) == "none" or "object" not in parts or "distractor" not in parts:
        return
    (obj, q_obj), (dis, q_dis) = parts["object"], parts["distractor"]
    both = obj & dis
    if mode == "distractor":
        parts["object"] = (obj & ~both, q_obj)
        return
    object_wins = both & (q_obj > q_dis)
    parts["object"] = (obj & ~(both & ~object_wins), q_obj)
    parts["distractor"] = (dis & ~object_wins, q_dis)


def drop_small_robot_blobs(parts: dict[str, tuple[np.ndarray, np.ndarray]], ratio: float) -> None:
    """In place: the robot's mask (arm | gripper | robot) loses its connected pieces (8-connected) smaller than
    ``ratio`` times its largest piece; a robot seen in two large pieces (an occluder across the arm) keeps both."""
    import cv2

    names = [n for n in ("arm", "gripper", "robot") if n in parts]
    if not names:
        return
    robot = np.logical_or.reduce([parts[n][0] for n in names])
    n, labels, stats, _ = cv2.connectedComponentsWithStats(robot.astype(np.uint8), connectivity=8)
    if n <= 2:  # nothing or one piece
        return
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.isin(labels, 1 + np.flatnonzero(areas >= ratio * areas.max()))
    for name in names:
        mask, prob = parts[name]
        parts[name] = (mask & keep, prob)


def rescale(p: np.ndarray, t: float) -> np.ndarray:
    """Map probabilities piecewise linearly so that threshold ``t`` goes to 0.5 (0 and 1 stay put)."""
    if t == 0.5:
        return p
    return np.where(p > t, 0.5 + (p - t) * (0.5 / (1.0 - t)), p * (0.5 / t)).astype(p.dtype, copy=False)


def class_thresholds(classes: Sequence[str], given: float | Mapping[str, float] | None = None,
                     calibrated: Mapping[str, float] | None = None) -> dict[str, float]:
    """The threshold of each class: ``given`` (one number for all, or per class) before the checkpoint's
    ``calibrated`` ones before 0.5."""
    if isinstance(given, (int, float)):
        out = {c: given for c in classes}
    else:
        out = {c: (given or {}).get(c, (calibrated or {}).get(c, 0.5)) for c in classes}
    check_thresholds(out)
    return {c: float(t) for c, t in out.items()}


def check_thresholds(thresholds) -> None:
    """UserError unless ``thresholds`` maps class names to numbers strictly between 0 and 1."""
    if not isinstance(thresholds, Mapping):
        raise UserError(f"thresholds {thresholds!r} are not a mapping of class to threshold")
    for c, t in thresholds.items():
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0.0 < t < 1.0:
            raise UserError(f"threshold of {c} must be a number between 0 and 1, got {t!r}")


def plan_parts(head: str, classes: tuple[str, ...]) -> PartPlan:
    """How the channels of a model with ``head`` and ``classes`` map onto the layout parts."""
    if head == "motion":
        classes = ("foreground",)
    channels = {c: i for i, c in enumerate(classes) if c in PART_NAMES}
    if not channels:
        if "foreground" not in classes:
            raise ValueError(f"model classes {classes} contain no part and no foreground")
        return PartPlan({"robot": classes.index("foreground")}, False, ["foreground"],
                        {"foreground_written_to": "robot",
                         "note": "motion-only model: the moving foreground (robot + grasped object + distractors) "
                                 "is written into the robot part (arm = robot); only foreground is annotated"})
    derive = "robot" in channels and "gripper" in channels
    annotated = [p for p in PART_NAMES if p in channels or (p == "arm" and derive)]
    return PartPlan(channels, derive, annotated)
