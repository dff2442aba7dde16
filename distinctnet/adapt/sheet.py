"""Contact sheets for the adapt steps: rows of example tiles under a title, kept small and readable."""
from __future__ import annotations

from pathlib import Path

import numpy as np

TILE_WIDTH = 192
KEPT = (40, 200, 70)
DROPPED = (230, 50, 50)
GRIPPER = (255, 200, 0)


def text(img: np.ndarray, s: str, org: tuple[int, int], scale: float = 0.4) -> None:
    import cv2

    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, s, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def tint(rgb: np.ndarray, mask: np.ndarray, colour, alpha: float = 0.45) -> np.ndarray:
    """``mask`` tinted in ``colour`` with its outline."""
    import cv2

    out = rgb.astype(np.float32)
    if mask.any():
        out[mask] = out[mask] * (1 - alpha) + np.array(colour, np.float32) * alpha
    out = out.astype(np.uint8)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, colour, 1)
    return out


def tile(img: np.ndarray, caption: str, width: int = TILE_WIDTH) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    t = cv2.resize(img, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    text(t, caption, (3, 12), 0.35)
    return t


class Examples:
    """A fixed-size random sample of tiles per row (reservoir sampling, seeded), for streams of any length."""

    def __init__(self, per_row: int = 6, seed: int = 0):
        self.per_row = per_row
        self.rng = np.random.default_rng(seed)
        self.rows: dict[str, list] = {}
        self.seen: dict[str, int] = {}

    def offer(self, row: str, make) -> None:
        """Maybe keep the tile ``make()`` (called only when kept) in ``row``."""
        n = self.seen.get(row, 0)
        self.seen[row] = n + 1
        items = self.rows.setdefault(row, [])
        if len(items) < self.per_row:
            items.append((n, make()))
        else:
            j = int(self.rng.integers(0, n + 1))
            if j < self.per_row:
                items[j] = (n, make())

    def write(self, path: str | Path, title: str, order: list[str] | None = None) -> Path | None:
        rows = [r for r in (order or []) if r in self.rows] + [r for r in self.rows if r not in (order or [])]
        if not rows:
            return None
        return write_sheet(path, title, [(f"{r} ({self.seen[r]})", [t for _, t in sorted(self.rows[r])])
                                         for r in rows])


def write_sheet(path: str | Path, title: str, rows: list[tuple[str, list[np.ndarray]]], pad: int = 4) -> Path:
    """Rows of tiles (each row under its label) into one PNG."""
    from ..io import atomic_imwrite

    th = max(t.shape[0] for _, tiles in rows for t in tiles) if any(t for _, t in rows) else 32
    tw = max(t.shape[1] for _, tiles in rows for t in tiles) if any(t for _, t in rows) else TILE_WIDTH
    cols = max(1, max(len(t) for _, t in rows))
    label_h, title_h = 16, 22
    H = title_h + len(rows) * (label_h + th + pad)
    W = max(cols * (tw + pad), 400)
    sheet = np.full((H, W, 3), 255, np.uint8)
    text(sheet, title, (4, 15), 0.45)
    y = title_h
    for label, tiles in rows:
        text(sheet, label, (4, y + 12), 0.4)
        y += label_h
        for j, t in enumerate(tiles):
            sheet[y:y + t.shape[0], j * (tw + pad):j * (tw + pad) + t.shape[1]] = t
        y += th + pad
    path = Path(path)
    atomic_imwrite(path, sheet)
    return path
