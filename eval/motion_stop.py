"""What a motion-based segmenter keeps when the scene stops moving (the paper's motion-stop experiment).

For every video with ``static_from = K`` (first frame from which nothing moves) and every chosen part
(default robot and foreground) that the video annotates, the per-frame IoU is divided by the IoU at the
last moving frame K-1::

    ratio[t] = IoU(frame K-1+t) / IoU(frame K-1),   t = 0 .. frames-K   (t = frames since the stop)

so t = 0 is the last moving frame (ratio 1), t = 1 the first static frame, and t = 20 the 20th static frame:
"IoU kept after 20 static frames" is the mean ratio at t = 20 (in percent). A video is left out for a part
when K is 0 or None, K >= frames, or the IoU at K-1 is undefined or 0 (nothing to keep); later frames with
an undefined IoU (GT and prediction both empty) are left out of that t.

Curves are reported per part and t as n (videos), mean, std, q25, median, q75 of the ratio in percent.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

DEFAULT_PARTS = ("robot", "foreground")
KEPT_AFTER = 20


def video_ratios(per_frame_iou: Sequence[float | None], static_from: int | None) -> list[float | None] | None:
    """Ratio (percent) of each frame's IoU since the stop to the IoU at the last moving frame, t = 0, 1, ...;
    None when the video has no usable stop (see module docstring)."""
    n = len(per_frame_iou)
    if static_from is None or static_from <= 0 or static_from >= n:
        return None
    base = per_frame_iou[static_from - 1]
    if base is None or base <= 0:
        return None
    return [None if v is None else 100.0 * v / base for v in per_frame_iou[static_from - 1:]]


def curve(ratios: Iterable[Sequence[float | None]]) -> list[dict]:
    """Per t: ``{"t", "n", "mean", "std", "q25", "median", "q75"}`` over the videos that reach t."""
    ratios = list(ratios)
    length = max((len(r) for r in ratios), default=0)
    out = []
    for t in range(length):
        v = np.array([r[t] for r in ratios if t < len(r) and r[t] is not None], float)
        if v.size == 0:
            continue
        q25, med, q75 = np.percentile(v, [25, 50, 75])
        out.append({"t": t, "n": int(v.size), "mean": float(v.mean()), "std": float(v.std()),
                    "q25": float(q25), "median": float(med), "q75": float(q75)})
    return out


def motion_stop(per_frame_iou: Mapping[str, Mapping[str, Sequence[float | None]]],
                static_from: Mapping[str, int | None], parts: Iterable[str] = DEFAULT_PARTS,
                kept_after: int = KEPT_AFTER) -> dict:
    """The motion-stop section of the score JSON.

    ``per_frame_iou[video][part]`` is the list of per-frame IoUs (percent or None) of a video, for the parts
    it is scored on; ``static_from[video]`` its stop frame. Returns::

        {"kept_after": 20, "parts": {part: {"videos": [names], "curve": [...], "kept": mean ratio at
         t = kept_after or None, "kept_std": ..., "kept_n": n}}}
    """
    out: dict = {"kept_after": kept_after, "parts": {}}
    for part in parts:
        names, rs = [], []
        for video in sorted(per_frame_iou):
            series = per_frame_iou[video].get(part)
            if series is None:
                continue
            r = video_ratios(series, static_from.get(video))
            if r is not None:
                names.append(video)
                rs.append(r)
        c = curve(rs)
        at = next((row for row in c if row["t"] == kept_after), None)
        out["parts"][part] = {"videos": names, "curve": c, "kept": at["mean"] if at else None,
                              "kept_std": at["std"] if at else None, "kept_n": at["n"] if at else 0}
    return out


def plot(section: dict, path: str | Path) -> Path | None:
    """PNG of the curves (mean with a std band and the quartiles) versus frames since the stop; None when
    there is nothing to plot. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from distinctnet.io import atomic_write_figure

    parts = {p: s for p, s in section["parts"].items() if s["curve"]}
    if not parts:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for i, (part, s) in enumerate(parts.items()):
        color = f"C{i}"
        t = np.array([r["t"] for r in s["curve"]])
        mean = np.array([r["mean"] for r in s["curve"]])
        std = np.array([r["std"] for r in s["curve"]])
        ax.plot(t, mean, color=color, label=f"{part} mean (n={len(s['videos'])})")
        ax.fill_between(t, mean - std, mean + std, color=color, alpha=0.15, linewidth=0)
        ax.plot(t, [r["q25"] for r in s["curve"]], color=color, linestyle=":", linewidth=1)
        ax.plot(t, [r["q75"] for r in s["curve"]], color=color, linestyle=":", linewidth=1)
    k = section.get("kept_after")
    if k is not None:
        ax.axvline(k, color="grey", linewidth=0.8, linestyle="--")
    ax.axhline(100, color="grey", linewidth=0.5)
    ax.set_xlabel("frames since the motion stop (0 = last moving frame)")
    ax.set_ylabel("IoU / IoU at last moving frame (%)")
    ax.set_title("Motion stop: mask kept (mean, ±std band, quartiles dotted)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return atomic_write_figure(path, fig)
