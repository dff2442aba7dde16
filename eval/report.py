"""A Markdown report of a :func:`eval.score.score` result: tables, plots and worst-frame overlays.

``write_report(result, out_dir)`` writes::

    out_dir/report.md
    out_dir/scores.png                   per-class IoU and per-part J&F bars
    out_dir/motion_stop.png              mask kept after the motion stop (when any video has a stop)
    out_dir/worst/NN_{video}_{frame}.jpg worst frames: one panel per scored class (JPEG, half a PNG's size)

Overlay colours: true positive green, false positive (predicted, not in GT) red, false negative (in GT,
missed) blue; GT contour white, predicted contour yellow. The image comes from the GT tree.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from distinctnet.io import atomic_imwrite, atomic_write_bytes, atomic_write_figure

TP_COLOR, FP_COLOR, FN_COLOR = (40, 200, 40), (230, 40, 40), (40, 90, 255)
GT_CONTOUR, PRED_CONTOUR = (255, 255, 255), (255, 230, 0)
PANEL_WIDTH = 420
OVERLAY_QUALITY = 85   # JPEG quality of the worst-frame overlays


def _fmt(v, digits=1) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def overlay_panel(rgb: np.ndarray, pred: np.ndarray, gt: np.ndarray, title: str,
                  width: int = PANEL_WIDTH) -> np.ndarray:
    """One class on one frame: image with TP/FP/FN colouring, GT and prediction contours, a title bar."""
    import cv2

    h, w = gt.shape
    scale = min(1.0, width / w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    img = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale != 1 else rgb.copy()
    p = cv2.resize(pred.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    g = cv2.resize(gt.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    out = (img.astype(np.float32) * 0.6).astype(np.float32)
    for m, c in ((p & g, TP_COLOR), (p & ~g, FP_COLOR), (~p & g, FN_COLOR)):
        out[m] = 0.45 * out[m] + 0.55 * np.array(c, np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    for m, c in ((g, GT_CONTOUR), (p, PRED_CONTOUR)):
        contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, c, 1, lineType=cv2.LINE_AA)
    bar = np.full((22, out.shape[1], 3), 30, np.uint8)
    cv2.putText(bar, title, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return np.concatenate([bar, out], axis=0)


def tile(panels: list[np.ndarray], columns: int = 3) -> np.ndarray:
    """Panels of one size in a grid (row-major), grey filler for the empty cells."""
    h, w = panels[0].shape[:2]
    rows = -(-len(panels) // columns)
    cols = min(columns, len(panels))
    sheet = np.full((rows * h, cols * w, 3), 60, np.uint8)
    for k, p in enumerate(panels):
        r, c = divmod(k, cols)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = p
    return sheet


def frame_overlay(gt_root, pred_root, video: str, frame: int, classes: list[str],
                  frame_iou: dict | None = None) -> np.ndarray:
    """Contact sheet of one frame: a panel per class (background left out)."""
    from distinctnet.layout import Recording

    from .metrics import class_masks

    gt, pred = Recording(gt_root), Recording(pred_root)
    g, p = class_masks(gt.read_masks(video, frame)), class_masks(pred.read_masks(video, frame))
    path = gt.image_path(video, frame)
    rgb = gt.read_image(video, frame) if path.exists() else np.full(g["robot"].shape + (3,), 128, np.uint8)
    frame_iou = frame_iou or {}
    panels = [overlay_panel(rgb, p[c], g[c], f"{video} #{frame}  {c}  IoU {_fmt(frame_iou.get(c))}")
              for c in classes if c != "background"]
    return tile(panels)


def scores_plot(result: dict, path: str | Path) -> Path | None:
    """Bar charts of the per-class IoU and per-part J&F (PNG, atomic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .metrics import CLASSES

    iou = {c: r["iou"] for c, r in result["iou"].items() if r["iou"] is not None}
    jf = {p: r["JF"] for p, r in result["jf"].items() if r["JF"] is not None}
    if not iou and not jf:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=100)
    for ax, data, title in ((axes[0], iou, "IoU per class (dataset TP/(TP+FP+FN))"),
                            (axes[1], jf, "J&F per part (mean over videos)")):
        names = list(data)
        colors = [f"C{CLASSES.index(n) % 10}" for n in names]  # one colour per class in both charts
        bars = ax.bar(names, [data[n] for n in names], color=colors)
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_title(title, fontsize=10)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return atomic_write_figure(path, fig)


def _refine_text(mode: str | None) -> str:
    """The report's words for the labeller's ``--refine`` mode ('' for none)."""
    edges = "outlines snapped to the frame's colour edges (guided filter)"
    gate = "parts kept inside the foreground mask only"
    return {"edges": edges, "gate": gate, "both": f"{edges}, then {gate}"}.get(mode or "", "")


def write_report(result: dict, out_dir: str | Path, gt_root=None, pred_root=None, overlays: int = 12) -> Path:
    """Write ``report.md`` with its pictures into ``out_dir``; returns the Markdown path."""
    from .motion_stop import plot as motion_plot

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    gt_root = gt_root or result["gt_root"]
    pred_root = pred_root or result["pred_root"]
    s, settings = result["summary"], result["settings"]
    lines = [
        "# Evaluation report", "",
        f"- ground truth: `{result['gt_root']}`", f"- prediction: `{result['pred_root']}`",
        f"- {s['videos']} videos, {s['frames']} frames; mean IoU over classes {_fmt(s['mean_iou'])}",
        f"- schema version {result['schema_version']}; J&F boundary tolerance {settings['bound_th']} x diagonal"
        + ("; first and last frame skipped" if settings["skip_first_and_last"] else ""),
    ]
    if s.get("pred_extra_videos"):
        lines.append(f"- videos only in the prediction (ignored): {', '.join(s['pred_extra_videos'])}")
    run = result.get("run")
    if run:
        lines.append(f"- model run: `{run.get('checkpoint')}` on {run.get('device')}: {run.get('pairs')} pairs in "
                     f"{_fmt(run.get('seconds'), 1)} s = {_fmt(run.get('pairs_per_s'), 2)} pairs/s; "
                     f"{run.get('parameters') or '?'} parameters")
        settings_run = [f"test-time augmentation {run['tta']}" if run.get("tta") not in (None, "none") else "",
                        f"input size {run['input_size'][0]}x{run['input_size'][1]}" if run.get("input_size") else "",
                        "mask thresholds " + ", ".join(f"{c} {t:g}" for c, t in run["thresholds"].items())
                        if run.get("thresholds") else "",
                        f"robot pieces under {run['clean']:g} x the largest dropped" if run.get("clean") else "",
                        {"motion": "reference motion (still frames paired with the last frame that differs)",
                         "previous": "reference previous (each frame paired with the one before)"}.get(
                            run.get("reference") or "", ""),
                        f"moving frames paired with the frame {run['gap']} before" if (run.get("gap") or 1) > 1 else "",
                        f"gripper and object looked at again on crops enlarged up to {run['zoom']:g}x"
                        if run.get("zoom") else "",
                        f"foreground, robot and distractor averaged with a second pass at {run['second_size'][0]}x"
                        f"{run['second_size'][1]}" if run.get("second_size") else "",
                        "gripper and object from the larger pass" if run.get("small_parts") == "larger" else "",
                        "mask pieces where nothing moved dropped" if run.get("unmoved") == "drop" else "",
                        _refine_text(run.get("refine"))]
        if any(settings_run):
            lines.append("- labeller settings: " + "; ".join(x for x in settings_run if x))
    if scores_plot(result, out / "scores.png"):
        lines += ["", "![scores](scores.png)"]

    lines += ["", "## IoU per class", "",
              "Dataset IoU, TP / (TP + FP + FN) with pixel counts summed over all scored frames (percent; "
              "– = undefined: never in the ground truth and never predicted).", "",
              "| class | IoU | TP | FP | FN | frames |", "|---|---:|---:|---:|---:|---:|"]
    for c, r in result["iou"].items():
        lines.append(f"| {c} | {_fmt(r['iou'])} | {r['tp']} | {r['fp']} | {r['fn']} | {r['frames']} |")

    lines += ["", "## J&F per part", "",
              "DAVIS / vos-benchmark J&F as RobotSeg reports it: per video the mean over frames, then the mean "
              "over the videos whose ground truth contains the part.", "",
              "| part | J&F | J | F | videos |", "|---|---:|---:|---:|---:|"]
    for p, r in result["jf"].items():
        lines.append(f"| {p} | {_fmt(r['JF'])} | {_fmt(r['J'])} | {_fmt(r['F'])} | {r['videos']} |")

    classes, jf_parts = settings["classes"], settings["jf_parts"]
    lines += ["", "## Per video", "", "IoU per class and J&F per part over each video's frames.", "",
              "| video | frames | stop | " + " | ".join(f"IoU {c}" for c in classes) + " | "
              + " | ".join(f"J&F {p}" for p in jf_parts) + " |",
              "|---|---:|---:|" + "---:|" * (len(classes) + len(jf_parts))]
    for row in result["videos"]:
        cells = [_fmt(row["iou"].get(c)) for c in classes]
        cells += [_fmt((row["jf"].get(p) or {}).get("JF")) for p in jf_parts]
        stop = "" if row["static_from"] is None else str(row["static_from"])
        lines.append(f"| {row['video']} | {row['frames']} | {stop} | " + " | ".join(cells) + " |")

    ms = result["motion_stop"]
    lines += ["", "## Motion stop", ""]
    if any(p["videos"] for p in ms["parts"].values()):
        lines += [f"IoU at each frame since the stop divided by the IoU at the last moving frame (t = 0); "
                  f"kept after {ms['kept_after']} static frames = mean ratio at t = {ms['kept_after']}.", "",
                  f"| part | videos with a stop | kept after {ms['kept_after']} static frames | std | "
                  f"videos that long |", "|---|---:|---:|---:|---:|"]
        for p, r in ms["parts"].items():
            lines.append(f"| {p} | {len(r['videos'])} | {_fmt(r['kept'])} | {_fmt(r['kept_std'])} | "
                         f"{r['kept_n']} |")
        if motion_plot(ms, out / "motion_stop.png"):
            lines += ["", "![motion stop](motion_stop.png)"]
    else:
        lines.append("No video with a usable motion stop (`static_from`).")

    if rv := result.get("review"):
        from .review_flags import pct

        lines += ["", "## Review flags", "",
                  f"How the labeller's review flag (a part's mean confidence margin below its review margin, "
                  f"margins from the {rv['margins_from']}) finds the frames whose mask is bad (IoU < "
                  f"{rv['bad_iou']:g}); frames where a part is predicted non-empty. Precision: share of flagged "
                  f"frames that are bad; recall: share of bad frames flagged; frame: flagged when any part is, bad "
                  f"when any part is.", "",
                  "| part | margin | frames | bad | flagged | precision | recall |", "|---|---:|---:|---:|---:|---:|---:|"]
        for p, r in rv["parts"].items():
            m = "any part" if r["margin"] is None else f"{r['margin']:.2f}"
            lines.append(f"| {p} | {m} | {r['frames']} | {r['bad_pct']:.0f}% | {r['flagged_pct']:.0f}% | "
                         f"{pct(r['precision'])} | {pct(r['recall'])} |")

    lines += ["", "## Worst frames", "",
              "Frame score = mean of the frame's own IoUs over its scored classes (background left out). "
              "Overlays: green = correct, red = false positive, blue = missed; white = GT contour, "
              "yellow = predicted contour.", "",
              "| # | video | frame | score | " + " | ".join(c for c in classes if c != "background") + " |",
              "|---:|---|---:|---:|" + "---:|" * len([c for c in classes if c != "background"])]
    pictures = []
    for k, w in enumerate(result["worst_frames"]):
        cells = [_fmt(w["iou"].get(c)) for c in classes if c != "background"]
        lines.append(f"| {k + 1} | {w['video']} | {w['frame']} | {_fmt(w['score'])} | " + " | ".join(cells) + " |")
        if k < overlays:
            name = f"worst/{k + 1:02d}_{w['video']}_{w['frame']:05d}.jpg"
            scored = [c for c in classes if c in w["iou"]]
            atomic_imwrite(out / name, frame_overlay(gt_root, pred_root, w["video"], w["frame"], scored, w["iou"]),
                           OVERLAY_QUALITY, full_chroma=True)
            pictures.append(f"**{k + 1}. {w['video']} frame {w['frame']}** (score {_fmt(w['score'])})"
                            f"\n\n![]({name})")
    if pictures:
        lines += [""] + [p + "\n" for p in pictures]
    md = out / "report.md"
    atomic_write_bytes(md, ("\n".join(lines) + "\n").encode())
    return md
