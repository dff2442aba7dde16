"""Refine the network's probabilities with the frame itself: ``distinctnet label --refine MODE``.

The decoder draws its masks on a grid of 4 x 4 input pixels (a 48 x 84 grid at 192x336), which the labeller
upsamples to the frame: outlines come out soft and a few pixels off, and half of the robot's wrong pixels lie within
3 pixels of its outline (eval/QUALITY.md, rows 34-). Two cheap steps on the full-size frame, after the passes:

- ``edges``: a guided filter (He et al. 2010) of every channel, guided by the frame's colours: inside a window of
  ``RADIUS`` input pixels each probability becomes a linear function of the colour, so the soft outline snaps to
  the colour edges nearby. ``EPS`` (squared colour units of [0, 1] RGB) sets
  how small a colour step counts as an edge. Large frames are filtered on every ``s``-th pixel (the fast guided
  filter) so that the cost stays that of a frame about the network's size. On the GPU the filter is
  ``kornia.filters.guided_blur``; on the CPU it is :func:`guided_filter_cpu`, the same filter with OpenCV's
  running-sum box filter and a closed-form 3x3 inverse, four to six times faster there (``eval/RESULTS.md``).
- ``gate``: the robot, gripper and distractor are kept only where the foreground channel is above its threshold.
  The foreground channel, trained on everything that moves, is cleaner than the part channels, whose low
  calibrated thresholds (gripper 0.1) let in specks far from the robot. The grasped object is left alone: gating it
  too cost object IoU on the sets it was chosen on (eval/QUALITY.md, rows 34-).

``both`` runs ``edges`` then ``gate``. A model without a foreground channel can take ``edges`` only.
"""
from __future__ import annotations

import numpy as np

from ..errors import UserError

MODES = ("none", "edges", "gate", "both")
RADIUS = 6.5   # guided-filter window radius, in network-input pixels (8 pixels of a 240x416 frame at 192x336)
EPS = 3e-5     # guided-filter regularisation, squared [0, 1] colour units
GATED = ("robot", "gripper", "distractor")  # the channels ``gate`` keeps inside the foreground only


def can_gate(classes: tuple[str, ...]) -> bool:
    """Whether a model with these output channels has a foreground channel and parts to gate with it."""
    return "foreground" in classes and any(c in GATED for c in classes)


def check_refine(mode: str, classes: tuple[str, ...]) -> str:
    """``mode`` if this model can take it, else a UserError."""
    if mode not in MODES:
        raise UserError(f"--refine: {mode!r} is not one of {', '.join(MODES)}")
    if mode in ("gate", "both") and not can_gate(classes):
        raise UserError(f"--refine {mode} needs a model with a foreground channel and part channels; this one has "
                        f"{', '.join(classes)} (use --refine edges)")
    return mode


def filter_size(frame_h: int, input_h: int, radius: float = RADIUS) -> tuple[int, int]:
    """(window size 2r + 1 in frame pixels, subsample step) for frames ``frame_h`` high labelled at ``input_h``."""
    scale = frame_h / input_h
    r = max(1, int(radius * scale + 0.5))
    return 2 * r + 1, max(1, int(scale / 1.25))


def subsample_indices(size: int, step: int) -> np.ndarray:
    """The pixels an axis of ``size`` keeps when the fast guided filter takes every ``step``-th one: ``size // step``
    of them (at least one), each the nearest to where the bilinear upsample of the coefficients puts it back (the
    convention of ``kornia.filters.guided_blur``'s ``subsample``, so both filters give the same masks)."""
    rows = max(size // step, 1)
    i = np.arange(rows)
    return np.clip(((2 * i + 1) * size + rows * (1 - step)) // (2 * rows), 0, size - 1)


def box_filter_cv2(x, size: int):
    """The mean of every ``size`` x ``size`` window of each plane of ``x`` (N x H x W float32, CPU), mirrored at the
    border (``cv2.BORDER_REFLECT_101``, torch's ``reflect``); an even window is anchored as kornia's box blur's, one
    more pixel before the centre than after it. OpenCV's running sums: the cost does not grow with the window."""
    import cv2
    import torch

    x = x.contiguous()
    out = torch.empty_like(x)
    anchor = (size // 2 - 1, size // 2 - 1) if size % 2 == 0 else (-1, -1)
    for src, dst in zip(x.numpy(), out.numpy()):
        cv2.boxFilter(src, -1, (size, size), dst=dst, anchor=anchor, normalize=True, borderType=cv2.BORDER_REFLECT_101)
    return out


def guided_filter_cpu(guide, p, size: int, eps: float, sub: int = 1):
    """He et al.'s guided filter with colour guidance on the CPU: ``p`` (B x C x H x W float32) filtered in windows of
    ``size`` x ``size`` pixels, guided by ``guide`` (B x 3 x H x W float32 in [0, 1]); with ``sub`` > 1 on every
    ``sub``-th pixel (``subsample_indices``), the coefficients upsampled bilinearly (the fast guided filter). The
    same filter as ``kornia.filters.guided_blur`` (same border, anchor and subsampling), written plane by plane with
    :func:`box_filter_cv2` and the closed-form inverse of the symmetric 3x3 colour covariance."""
    import torch
    import torch.nn.functional as F

    guide, p = guide.contiguous(), p.contiguous()
    b, c, h, w = p.shape
    g, q, k = guide, p, size
    if sub > 1:
        rows = torch.from_numpy(subsample_indices(h, sub))
        cols = torch.from_numpy(subsample_indices(w, sub))
        g, q = (t.index_select(-2, rows).index_select(-1, cols) for t in (g, q))
        k = (size - 1) // sub + 1
    hs, ws = g.shape[-2:]

    def box(x):
        return box_filter_cv2(x.view(-1, hs, ws), k).view(x.shape)

    pairs = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))
    x = torch.empty((b, 9 + 4 * c, hs, ws), dtype=p.dtype)  # I, p, I_i I_j, I_i p: their window means
    x[:, :3], x[:, 3:3 + c] = g, q
    for n, (i, j) in enumerate(pairs):
        torch.mul(g[:, i], g[:, j], out=x[:, 3 + c + n])
    torch.mul(g[:, :, None], q[:, None], out=x[:, 9 + c:].view(b, 3, c, hs, ws))
    m = box(x)
    mi, mq = m[:, :3], m[:, 3:3 + c]
    s00, s01, s02, s11, s12, s22 = (m[:, 3 + c + n] - mi[:, i] * mi[:, j] for n, (i, j) in enumerate(pairs))
    s00 += eps
    s11 += eps
    s22 += eps
    cov = m[:, 9 + c:].view(b, 3, c, hs, ws).sub_(mi[:, :, None] * mq[:, None])
    i00, i01, i02 = s11 * s22 - s12 * s12, s02 * s12 - s01 * s22, s01 * s12 - s02 * s11  # the adjugate
    i11, i12, i22 = s00 * s22 - s02 * s02, s01 * s02 - s00 * s12, s00 * s11 - s01 * s01
    rdet = (s00 * i00 + s01 * i01 + s02 * i02).reciprocal_().unsqueeze(1)
    y = torch.empty((b, 4 * c, hs, ws), dtype=p.dtype)  # a (3 x C) and b (C): their window means
    coef, off = y[:, :3 * c].view(b, 3, c, hs, ws), y[:, 3 * c:]
    for n, row in enumerate(((i00, i01, i02), (i01, i11, i12), (i02, i12, i22))):
        a = coef[:, n]
        torch.mul(cov[:, 0], row[0].unsqueeze(1), out=a)
        a.addcmul_(cov[:, 1], row[1].unsqueeze(1)).addcmul_(cov[:, 2], row[2].unsqueeze(1)).mul_(rdet)
    off.copy_(mq)
    for n in range(3):
        off.addcmul_(coef[:, n], mi[:, n:n + 1], value=-1)
    mean = box(y)
    if sub > 1:
        mean = F.interpolate(mean, size=(h, w), mode="bilinear", align_corners=False)
    ma, out = mean[:, :3 * c].view(b, 3, c, h, w), mean[:, 3 * c:].clone()
    for n in range(3):
        out.addcmul_(ma[:, n], guide[:, n:n + 1])
    return out


def refine(probs, frames, mode: str, classes: tuple[str, ...], thresholds: dict[str, float], input_h: int,
           radius: float = RADIUS, eps: float = EPS):
    """``probs`` (B x C x H x W, on any device) refined by ``mode`` using ``frames`` (B x 3 x H x W uint8 RGB, same
    device); returns a new float tensor (probabilities stay in [0, 1])."""
    import torch

    probs = probs.float()
    if mode in ("edges", "both"):
        size, sub = filter_size(probs.shape[-2], input_h, radius)
        guide = frames.float().div(255.0)
        if probs.device.type == "cpu":
            probs = guided_filter_cpu(guide, probs, size, eps, sub)
        else:
            from kornia.filters import guided_blur

            with torch.autocast(probs.device.type, enabled=False):  # eps is far below bf16/fp16 resolution
                probs = guided_blur(guide, probs, size, eps, subsample=sub)
        probs = probs.clamp_(0.0, 1.0)
    if mode in ("gate", "both"):
        fg = probs[:, classes.index("foreground")] > thresholds["foreground"]
        ch = [i for i, c in enumerate(classes) if c in GATED]
        probs = probs.clone() if mode == "gate" else probs
        probs[:, ch] *= fg.unsqueeze(1).to(probs.dtype)
    return probs
