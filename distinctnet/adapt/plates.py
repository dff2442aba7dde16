"""Background plates: the user's own static scene without the robot, from the harvested frames.

The robot recordings show the scene the user will label (table, floor, clutter, shadows) from a fixed camera.
Per harvested video, each pixel's plate value is the median over the kept frames in which that pixel is
free of the (dilated) robot mask; pixels the robot covers in every kept frame are inpainted (OpenCV Telea).
The compositor then pastes cut-outs onto these plates as well as onto photos, so fine-tuning sees the
user's own background labelled as background (composites on photos alone taught the model that anything
unlike a photo, e.g. a rendered table or a box, is robot).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..errors import fail
from ..io import atomic_write_bytes
from ..layout import Recording

DILATE = 0.02      # robot mask dilation, fraction of the image diagonal (soft edges, shadows close to the arm)
MIN_FRAMES = 3     # fewer kept frames than this: no plate for that video


def plate(frames: list[np.ndarray], robot: list[np.ndarray], dilate: float = DILATE) -> tuple[np.ndarray, float]:
    """(plate HxWx3 uint8, share of pixels inpainted) from frames and their robot masks."""
    import cv2

    h, w = frames[0].shape[:2]
    r = max(1, int(round(dilate * np.hypot(h, w))))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    stack = np.stack(frames).astype(np.float32)
    free = np.stack([cv2.dilate(m.astype(np.uint8), kernel) == 0 for m in robot])
    stack[~free] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels: inpainted below
        med = np.nanmedian(stack, axis=0)
    hole = ~free.any(0)
    out = np.nan_to_num(med, nan=0.0).clip(0, 255).astype(np.uint8)
    if hole.any():
        out = cv2.inpaint(out, hole.astype(np.uint8), max(3, r), cv2.INPAINT_TELEA)
    return out, float(hole.mean())


def plates_step(work: str | Path, progress: bool = True) -> dict:
    """Write ``WORK/plates/<video>.jpg`` for every harvested video; returns what was written."""
    import cv2
    from tqdm import tqdm

    work = Path(work)
    harvest = work / "harvest"
    if not (harvest / "meta.json").exists():
        raise fail(harvest, "no harvest here: run `distinctnet adapt harvest` first")
    rec = Recording(harvest)
    out = work / "plates"
    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, dict] = {}
    for video in tqdm(rec.videos, desc="plates", unit="video", disable=not progress, leave=False):
        n = rec.num_frames(video)
        if n < MIN_FRAMES:
            continue
        frames = [rec.read_image(video, i) for i in range(n)]
        robot = [rec.read_masks(video, i)["robot"] for i in range(n)]
        img, inpainted = plate(frames, robot)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise fail(out / f"{video}.jpg", "could not encode the plate")
        atomic_write_bytes(out / f"{video}.jpg", buf.tobytes())
        made[video] = {"frames": n, "inpainted": round(inpainted, 4)}
    for stale in out.glob("*.jpg"):
        if stale.stem not in made:
            stale.unlink()
    return {"root": str(out), "plates": made}
