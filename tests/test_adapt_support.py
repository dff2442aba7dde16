"""Synthetic data for the adapt tests: a two-link "robot" with a two-finger gripper over a static textured
background (ground truth known exactly), an open/close clip of its gripper, and bad recordings."""
from __future__ import annotations

from pathlib import Path

import numpy as np

H, W = 96, 128
BASE = (64.0, 97.0)          # where the robot enters the picture (bottom border)
L1, L2 = 42.0, 26.0
PALM, FINGER = 18.0, 11.0    # palm width, finger length


def background(seed: int = 0, h: int = H, w: int = W) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (h // 8 + 1, w // 8 + 1, 3), dtype=np.uint8)
    bg = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    fine = rng.integers(0, 60, (h // 3 + 1, w // 3 + 1, 1)).astype(np.float32)
    bg += cv2.resize(fine, (w, h), interpolation=cv2.INTER_NEAREST)[..., None]
    yy, xx = np.mgrid[0:h, 0:w]
    bg += 25 * np.sin(xx / 5.0 + yy / 9.0)[..., None]
    return np.clip(0.5 * bg + 40, 0, 255).astype(np.uint8)


def _bar(p, q, width):
    p, q = np.asarray(p, float), np.asarray(q, float)
    d = (q - p) / max(np.linalg.norm(q - p), 1e-9)
    n = np.array([-d[1], d[0]]) * width / 2
    return np.array([p + n, q + n, q - n, p - n])


def pose(t1: float, t2: float):
    """Joint, wrist and the unit direction of the last link for joint angles (radians from vertical)."""
    b = np.array(BASE)
    d1 = np.array([np.sin(t1), -np.cos(t1)])
    j = b + L1 * d1
    d2 = np.array([np.sin(t1 + t2), -np.cos(t1 + t2)])
    return b, j, j + L2 * d2, d2


def render(t1: float, t2: float, opening: float, bg: np.ndarray):
    """(rgb, arm mask, gripper mask, grasp point (x, y)) of the robot at a pose; ``opening`` in pixels."""
    import cv2

    b, j, wr, d = pose(t1, t2)
    n = np.array([-d[1], d[0]])
    img = bg.copy()
    lab = np.zeros(bg.shape[:2], np.uint8)
    polys = [(_bar(b, j, 11), 1, (200, 70, 60)), (_bar(j, wr, 8), 1, (180, 90, 70))]
    palm_c = wr + 2.0 * d
    polys.append((_bar(palm_c - n * PALM / 2, palm_c + n * PALM / 2, 5), 2, (40, 40, 40)))
    for s in (-1, 1):
        root = palm_c + d * 2.5 + s * n * (opening / 2 + 1.5)
        polys.append((_bar(root, root + d * FINGER, 3.5), 2, (235, 225, 40)))
    for poly, label, colour in polys:
        pts = np.round(poly * 4).astype(np.int32)  # subpixel drawing
        cv2.fillConvexPoly(img, pts, colour, lineType=cv2.LINE_AA, shift=2)
        cv2.fillConvexPoly(lab, pts, label, shift=2)
    grasp = palm_c + d * (2.5 + FINGER / 2)
    return img, lab == 1, lab == 2, (float(grasp[0]), float(grasp[1]))


def robot_frames(n: int = 16, seed: int = 0):
    """(rgb, robot, gripper, grasp) per frame of a robot sweeping its two joints, fingers half open."""
    bg = background(seed)
    out = []
    for t in range(n):
        t1 = -0.45 + 0.05 * t
        t2 = 0.4 * np.sin(t / 5.0)
        rgb, arm, grip, g = render(t1, t2, 7.0, bg)
        out.append((rgb, arm | grip, grip, g))
    return out


def clip_frames(n: int = 12, seed: int = 0, pose_=(0.3, 0.4)):
    """The open/close clip: robot still, only the fingers move."""
    bg = background(seed)
    return [render(*pose_, 3.0 + 9.0 * (0.5 - 0.5 * np.cos(2 * np.pi * t / 6)), bg) for t in range(n)]


def write_frames(folder: Path, frames) -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i:05d}.png"), cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    return folder


def write_mp4(path: Path, frames, fps: int = 10) -> Path:
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"crf": "12"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def shifted(frames, step: float = 2.0):
    """The same frames seen by a panning camera (the whole picture shifts by ``step`` px a frame)."""
    import cv2

    out = []
    for t, f in enumerate(frames):
        m = np.float32([[1, 0, -step * t], [0, 1, 0.5 * step * t]])
        out.append(cv2.warpAffine(f, m, (f.shape[1], f.shape[0]), borderMode=cv2.BORDER_REFLECT))
    return out


def gt_predictor(masks, corrupt: dict | None = None):
    """A stand-in for the base model: probability 0.95 inside the true robot mask, 0.05 outside, with
    corruptions per frame: 'empty', 'blob' (a floating blob), 'unsure' (p 0.6 inside), 'big' (almost all),
    'shrink' (a third of the mask)."""
    corrupt = corrupt or {}

    def predict(frames):
        for i, rgb in enumerate(frames):
            m = masks[i].copy()
            p = np.where(m, 0.95, 0.05).astype(np.float32)
            kind = corrupt.get(i)
            if kind == "empty":
                p[:] = 0.05
            elif kind == "blob":
                p[:] = 0.05
                p[10:30, 90:115] = 0.95
            elif kind == "unsure":
                p[m] = 0.6
            elif kind == "big":
                p[:] = 0.95
                p[:5] = 0.05
            elif kind == "shrink":
                ys, xs = np.nonzero(m)
                cut = np.quantile(ys, 0.66)
                p[m & (np.arange(m.shape[0])[:, None] < cut)] = 0.05
            yield rgb, p
    return predict
