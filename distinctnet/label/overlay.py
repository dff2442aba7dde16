"""Pictures for review: the predicted parts drawn over the frames (MP4 via PyAV) and a contact sheet PNG
that shows the frames flagged for review first (then evenly spaced ones)."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ..io import atomic_imwrite
from ..layout import Recording

COLOURS = {"arm": (230, 60, 60), "gripper": (60, 200, 60), "robot": (230, 60, 60), "object": (50, 110, 255),
           "distractor": (250, 210, 40), "foreground": (230, 60, 200)}
ALPHA = 0.45


def draw_parts(rgb: np.ndarray, masks: list[tuple[str, np.ndarray]]) -> np.ndarray:
    """Blend each (label, mask) in its colour over ``rgb`` and outline it."""
    import cv2

    out = rgb.astype(np.float32)
    for label, m in masks:
        if m.any():
            out[m] = out[m] * (1 - ALPHA) + np.array(COLOURS[label], np.float32) * ALPHA
    out = out.astype(np.uint8)
    for label, m in masks:
        if m.any():
            contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, COLOURS[label], 1)
    return out


def display_parts(rec: Recording, video: str) -> list[tuple[str, str]]:
    from .exports import annotated_masks

    pairs = annotated_masks(rec, video)
    labels = [label for label, _ in pairs]
    if "arm" in labels or "gripper" in labels:  # robot = arm | gripper, drawn through its parts
        pairs = [p for p in pairs if p[0] != "robot"]
    return pairs


def overlay_frame(rec: Recording, video: str, i: int, parts: list[tuple[str, str]]) -> np.ndarray:
    return draw_parts(rec.read_image(video, i), [(label, rec.read_mask(video, part, i)) for label, part in parts])


def write_overlay_video(rec: Recording, video: str, path: Path, fps: float = 15.0) -> None:
    import av

    from fractions import Fraction

    parts = display_parts(rec, video)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".mp4")
    os.close(fd)
    try:
        with av.open(tmp, "w", format="mp4") as container:
            stream = None
            for i in range(rec.num_frames(video)):
                img = overlay_frame(rec, video, i, parts)
                h, w = img.shape[:2]
                if stream is None:
                    stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
                    stream.width, stream.height = w + w % 2, h + h % 2
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"crf": "23", "preset": "veryfast"}
                if img.shape[:2] != (stream.height, stream.width):
                    img = np.pad(img, ((0, stream.height - h), (0, stream.width - w), (0, 0)), mode="edge")
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def sheet_frames(n: int, review: list[int], tiles: int = 16) -> list[int]:
    """Frames for the contact sheet: flagged frames first (spread over the video), then evenly spaced."""
    chosen: list[int] = []
    if review:
        pick = np.linspace(0, len(review) - 1, min(tiles, len(review))).round().astype(int)
        chosen = sorted({review[k] for k in pick})
    rest = tiles - len(chosen)
    if rest > 0:
        for i in np.linspace(0, n - 1, min(n, tiles)).round().astype(int):
            if len(chosen) >= tiles:
                break
            if int(i) not in chosen:
                chosen.append(int(i))
    return sorted(chosen)


def write_contact_sheet(rec: Recording, video: str, path: Path, tiles: int = 16, tile_width: int = 320,
                        quality_csv: Path | None = None) -> list[int]:
    import cv2

    from .quality import read_quality

    n = rec.num_frames(video)
    qpath = quality_csv or rec.root / "quality" / f"{video}.csv"
    review = [int(r["frame"]) for r in read_quality(qpath) if r["review"] == "1"] if qpath.exists() else []
    frames = sheet_frames(n, review, tiles)
    parts = display_parts(rec, video)
    imgs = []
    for i in frames:
        img = overlay_frame(rec, video, i, parts)
        h, w = img.shape[:2]
        img = cv2.resize(img, (tile_width, max(1, round(h * tile_width / w))), interpolation=cv2.INTER_AREA)
        flagged = i in review
        cv2.putText(img, f"{i}{' REVIEW' if flagged else ''}", (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 40, 40) if flagged else (255, 255, 255), 1, cv2.LINE_AA)
        if flagged:
            cv2.rectangle(img, (0, 0), (img.shape[1] - 1, img.shape[0] - 1), (255, 40, 40), 2)
        imgs.append(img)
    cols = min(4, len(imgs))
    rows = -(-len(imgs) // cols)
    th = imgs[0].shape[0]
    sheet = np.zeros((rows * th, cols * tile_width, 3), np.uint8)
    for k, img in enumerate(imgs):
        r, c = divmod(k, cols)
        sheet[r * th:(r + 1) * th, c * tile_width:(c + 1) * tile_width] = img
    atomic_imwrite(path, np.vstack([sheet, legend(video, [label for label, _ in parts], sheet.shape[1], len(review))]))
    return frames


def legend(video: str, labels: list[str], width: int, n_review: int) -> np.ndarray:
    """A strip under the sheet: the video name, the colour of each part, the number of flagged frames."""
    import cv2

    bar = np.full((24, width, 3), 32, np.uint8)
    x = 6
    text = f"{video}  ({n_review} frame(s) flagged for review)  "
    cv2.putText(bar, text, (x, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    x += cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0]
    for label in labels:
        cv2.rectangle(bar, (x, 6), (x + 12, 18), COLOURS[label], -1)
        cv2.putText(bar, label, (x + 16, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        x += 24 + cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0]
    return bar
