"""From model probabilities to the five layout parts.

Semantic head: each class channel that is a layout part goes to that part; arm = robot & ~gripper when
both robot and gripper are predicted. Motion head (or a semantic model with only a foreground channel):
the moving foreground is written into the robot part (and so arm = robot, the layout's rule robot =
arm | gripper), while ``annotated_parts`` is ``["foreground"]`` so evaluation scores it as foreground
only. That mirrors DistinctNet's own use of stage-1 masks of recordings of the moving robot as robot
cut-outs; on recordings with a grasped object or distractors the robot part then includes them, which the
meta says (``foreground_written_to``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..layout import PART_NAMES


@dataclass
class PartPlan:
    channels: dict[str, int]            # part -> channel of the probability stack
    derive_arm: bool                    # arm = robot & ~gripper
    annotated: list[str]                # meta annotated_parts
    meta: dict = field(default_factory=dict)

    def split(self, probs: np.ndarray, threshold: float = 0.5) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """probs C x H x W -> {part: (bool mask, probability map)} for the parts the model gives."""
        out = {part: (probs[c] > threshold, probs[c]) for part, c in self.channels.items()}
        if self.derive_arm:
            p_arm = np.minimum(probs[self.channels["robot"]], 1.0 - probs[self.channels["gripper"]])
            out["arm"] = (out["robot"][0] & ~out["gripper"][0], p_arm)
        return {p: out[p] for p in PART_NAMES if p in out}


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
