"""A contact sheet of the trained model on validation videos: frame | ground truth | prediction.

Frames of a video are fed in order (reference = previous frame, recurrent state carried), so the sheet
shows what the labeller will see. Written next to the curves at the end of a fit (``preview.png``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

#: overlay colours (RGB) per label channel; "foreground" is drawn only for the motion head
COLOURS = {"foreground": (255, 215, 0), "background": (80, 80, 80), "arm": (230, 60, 60),
           "robot": (230, 60, 60), "gripper": (60, 200, 60), "object": (60, 120, 255), "distractor": (230, 60, 230)}


def overlay(rgb: np.ndarray, masks: np.ndarray, classes: tuple[str, ...], alpha: float = 0.5) -> np.ndarray:
    """Paint bool masks (C x H x W) over an RGB uint8 frame; later classes win (gripper over robot)."""
    out = rgb.astype(np.float32)
    for c, name in enumerate(classes):
        if name == "foreground" and len(classes) > 1:
            continue
        m = masks[c].astype(bool)
        out[m] = (1 - alpha) * out[m] + alpha * np.array(COLOURS.get(name, (255, 255, 255)), np.float32)
    return out.clip(0, 255).astype(np.uint8)


@torch.no_grad()
def preview_sheet(model, reader, out_path: str | Path, max_videos: int = 2, frames_per_video: int = 4) -> Path | None:
    """``model``: a DistinctNet (eval mode is set here); ``reader``: training.videos.FrameReader over the
    validation videos with the label channels of the model's head. Returns the PNG path, or None when
    there is nothing to show."""
    import cv2

    from distinctnet.io import atomic_imwrite

    from .augment import PairAugment
    from .pairs import load_sample

    model.eval()
    device = next(model.parameters()).device
    size = model.cfg.input_size
    resize = PairAugment(size, train=False)
    classes = reader.classes
    motion = model.cfg.head == "motion"
    rows = []
    for vi, video in enumerate(reader.videos[:max_videos]):
        state = None
        n = video.frames
        shown = set(np.linspace(1, n - 1, min(frames_per_video, max(n - 1, 1))).round().astype(int).tolist()) if n > 1 else set()
        for t in range(1, n):
            s = load_sample(reader, resize, vi, t, t - 1, 0, 0)
            logits, state = model(s["target"][None].to(device), s["reference"][None].to(device), state)
            if t not in shown:
                continue
            pred = (logits.argmax(1) == 1)[:, None] if motion else logits > 0
            frame = (s["target"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            gt = s["labels"].numpy() > 0.5
            rows.append(np.concatenate([frame, overlay(frame, gt, classes),
                                        overlay(frame, pred[0].cpu().numpy(), classes)], axis=1))
    if not rows:
        return None
    sheet = np.concatenate(rows, axis=0)
    header = np.full((34, sheet.shape[1], 3), 255, np.uint8)
    w = sheet.shape[1] // 3
    for i, title in enumerate(("frame", "ground truth", "prediction")):
        cv2.putText(header, title, (i * w + 4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    x = 4
    for name in classes:
        if name == "foreground" and len(classes) > 1:
            continue
        cv2.putText(header, name, (x, 29), cv2.FONT_HERSHEY_SIMPLEX, 0.4, COLOURS.get(name, (0, 0, 0)), 1, cv2.LINE_AA)
        x += 9 * len(name) + 8
    out_path = Path(out_path)
    atomic_imwrite(out_path, np.concatenate([header, sheet], axis=0))
    return out_path
