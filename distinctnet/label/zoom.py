"""A second, closer look at the small parts: ``distinctnet label --zoom Z``.

At the network's input size a gripper or a grasped object is a few dozen pixels across, too few for the decoder
(stride 4) to draw its outline. With ``--zoom Z``, the labeller takes each frame's gripper and object masks from the
first pass, cuts a box around them (``MARGIN`` times their extent, the network's aspect ratio, at least 1/Z of the
frame's height, so enlarged at most Z times), cuts the same box out of the frame's reference, and runs the network
on that pair of crops at its input size. Inside the box, the crop's object probability replaces the first pass's
and its gripper probability is averaged with it (``BLEND``): the gripper, attached to the arm, also needs the
context the crop cuts off, and so does every other channel, which keeps the first pass (a crop that cuts the arm
off loses what tells arm from background). The choice among these variants: eval/QUALITY.md, rows 30-.

Frames where the first pass finds neither part, or whose box would be nearly the whole frame, keep the first pass.
The cost is two more encodes and one more decode per zoomed frame.
"""
from __future__ import annotations

import numpy as np

from ..errors import UserError

MARGIN = 2.0       # the box spans this many times the parts' extent (in both directions), around their centre
MIN_PIXELS = 10    # fewer pixels of gripper and object than this: nothing to zoom on
MIN_GAIN = 1.25    # a box that would enlarge less than this keeps the first pass
PARTS = ("gripper", "object")  # the channels whose masks place the box
BLEND = {"gripper": 0.5, "object": 1.0}  # inside the box: (1 - b) * first pass + b * crop, per channel


def check_zoom(zoom: float) -> float:
    """``zoom`` as a float; 0 is off, otherwise it must be at least ``MIN_GAIN`` and at most 8."""
    zoom = float(zoom)
    if zoom != 0 and not MIN_GAIN <= zoom <= 8:
        raise UserError(f"--zoom must be 0 (off) or between {MIN_GAIN} and 8, got {zoom:g}")
    return zoom


def zoom_box(mask: np.ndarray, aspect: float, zoom: float, margin: float = MARGIN, min_pixels: int = MIN_PIXELS,
             min_gain: float = MIN_GAIN) -> tuple[int, int, int, int] | None:
    """The box (y0, y1, x0, x1) to look at again for the pixels of ``mask`` (H x W bool), or None.

    The box has the height/width ratio ``aspect`` (the network input's, so the crop is not distorted), is centred
    on the mask's bounding box, spans ``margin`` times its height and width, is at least H / ``zoom`` high, and is
    moved inside the frame. None when the mask has fewer than ``min_pixels`` pixels, or when the box enlarges the
    frame less than ``min_gain`` times (its height above H / min_gain)."""
    ys, xs = np.nonzero(mask)
    if len(ys) < min_pixels:
        return None
    H, W = mask.shape
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    bh = min(max((y1 - y0) * margin, (x1 - x0) * margin * aspect, H / zoom), H)
    bw = bh / aspect
    if bw > W:
        bw, bh = W, W * aspect
    if bh * min_gain > H:
        return None
    bh, bw = max(1, int(round(bh))), max(1, int(round(bw)))
    by0 = int(round(min(max((y0 + y1) / 2 - bh / 2, 0), H - bh)))
    bx0 = int(round(min(max((x0 + x1) / 2 - bw / 2, 0), W - bw)))
    return by0, by0 + bh, bx0, bx0 + bw
