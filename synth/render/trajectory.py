"""Smooth trajectories (numpy only): Catmull-Rom splines through waypoints, and motion stops."""
from __future__ import annotations

import numpy as np


def catmull_rom(waypoints: np.ndarray, frames: int) -> np.ndarray:
    """``frames`` samples of a C1 spline through ``waypoints`` (K x D, K >= 2); the first and last samples
    are the first and last waypoints, the curve passes through every waypoint, zero velocity at the ends."""
    w = np.asarray(waypoints, float)
    if w.ndim == 1:
        w = w[:, None]
    k = len(w)
    if k < 2:
        raise ValueError("need at least 2 waypoints")
    if frames < 2:
        return w[:1].repeat(frames, 0)
    # tangents: central differences inside, zero at the ends (smooth start and stop)
    m = np.zeros_like(w)
    m[1:-1] = (w[2:] - w[:-2]) / 2
    t = np.linspace(0, k - 1, frames)
    i = np.minimum(t.astype(int), k - 2)
    s = (t - i)[:, None]
    h00, h10 = 2 * s ** 3 - 3 * s ** 2 + 1, s ** 3 - 2 * s ** 2 + s
    h01, h11 = -2 * s ** 3 + 3 * s ** 2, s ** 3 - s ** 2
    return h00 * w[i] + h10 * m[i] + h01 * w[i + 1] + h11 * m[i + 1]


def apply_stop(values: np.ndarray, static_from: int | None) -> np.ndarray:
    """Freeze a per-frame array from ``static_from`` on: frames >= static_from repeat frame static_from - 1,
    so nothing moves between any two frames from static_from - 1 on."""
    out = np.array(values, copy=True)
    if static_from is not None:
        if not 1 <= static_from < len(out):
            raise ValueError(f"static_from {static_from} outside 1..{len(out) - 1}")
        out[static_from:] = out[static_from - 1]
    return out
