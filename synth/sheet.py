"""Contact sheets: a PNG grid to look at what a data folder holds.

- a labelled-recording tree: one row per video, evenly spaced frames, part masks overlaid in colour with
  outlines (arm red, gripper green, object blue, distractor yellow), a legend, video names and ``static``
  marks on frames at or after the motion stop;
- a folder of RGBA object renders (``{object}/{k:04d}.png``): the cut-outs on a checkerboard.

``distinctnet synth sheet ROOT --out sheet.png``
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from distinctnet.errors import fail
from distinctnet.io import atomic_imwrite

COLOURS = {"arm": (230, 50, 50), "gripper": (40, 200, 60), "object": (40, 90, 240), "distractor": (250, 210, 0)}


def overlay(rgb: np.ndarray, masks: dict[str, np.ndarray], alpha: float = 0.45) -> np.ndarray:
    """RGB frame with coloured, outlined part masks (arm, gripper, object, distractor)."""
    import cv2

    out = rgb.astype(np.float32)
    for name, colour in COLOURS.items():
        m = masks.get(name)
        if m is None or not m.any():
            continue
        out[m] = (1 - alpha) * out[m] + alpha * np.array(colour, np.float32)
    out = out.clip(0, 255).astype(np.uint8)
    for name, colour in COLOURS.items():
        m = masks.get(name)
        if m is not None and m.any():
            contours, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(out, contours, -1, colour, 1)
    return out


def _label(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.4, colour=(0, 0, 0)) -> None:
    import cv2

    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def _grid(cells: list[list[np.ndarray]], row_names: list[str], legend: bool, cell_w: int) -> np.ndarray:
    import cv2

    pad, head = 4, 16
    rows = []
    for cs, name in zip(cells, row_names):
        cs = [cv2.resize(c, (cell_w, round(c.shape[0] * cell_w / c.shape[1])), interpolation=cv2.INTER_AREA)
              for c in cs]
        h = max(c.shape[0] for c in cs)
        row = np.full((h + head, len(cs) * (cell_w + pad) + pad, 3), 255, np.uint8)
        _label(row, name, (pad, 12))
        for i, c in enumerate(cs):
            row[head:head + c.shape[0], pad + i * (cell_w + pad):pad + i * (cell_w + pad) + cell_w] = c
        rows.append(row)
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    sheet = np.concatenate(rows, 0)
    if legend:
        bar = np.full((22, width, 3), 255, np.uint8)
        x = pad
        for name, colour in COLOURS.items():
            bar[5:17, x:x + 12] = colour
            _label(bar, name, (x + 16, 15))
            x += 24 + 8 * len(name)
        sheet = np.concatenate([bar, sheet], 0)
    return sheet


def recording_sheet(root: str | Path, videos: int = 8, frames: int = 6, cell_w: int = 200) -> np.ndarray:
    from distinctnet.layout import Recording

    rec = Recording(root)
    names = rec.videos
    if not names:
        raise fail(root, "no finished videos to show")
    if len(names) > videos:
        names = [names[i] for i in np.linspace(0, len(names) - 1, videos).round().astype(int)]
    cells, labels = [], []
    for v in names:
        n = rec.num_frames(v)
        vm = rec.video_meta(v)
        idx = sorted(set(np.linspace(0, n - 1, min(frames, n)).round().astype(int).tolist()))
        row = []
        for i in idx:
            cell = overlay(rec.read_image(v, i), rec.read_masks(v, i))
            tag = f"{i}" + (" static" if vm.get("static_from") is not None and i >= vm["static_from"] else "")
            _label(cell, tag, (3, cell.shape[0] - 4), 0.35 * cell.shape[1] / cell_w + 0.05, (255, 255, 255))
            row.append(cell)
        cells.append(row)
        extra = [vm[k] for k in ("robot", "object") if isinstance(vm.get(k), str)]
        labels.append(f"{v} ({n} frames{', ' + ', '.join(extra) if extra else ''}"
                      f"{', static_from ' + str(vm['static_from']) if vm.get('static_from') is not None else ''})")
    return _grid(cells, labels, True, cell_w)


def objects_sheet(root: str | Path, objects: int = 12, views: int = 8, cell_w: int = 96) -> np.ndarray:
    import cv2

    folders = sorted(d for d in Path(root).iterdir() if d.is_dir() and any(d.glob("*.png")))
    if not folders:
        raise fail(root, "no object folders with PNG renders")
    if len(folders) > objects:
        folders = [folders[i] for i in np.linspace(0, len(folders) - 1, objects).round().astype(int)]
    cells, labels = [], []
    for d in folders:
        row = []
        for p in sorted(d.glob("*.png"))[:views]:
            img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
            if img is None or img.ndim != 3 or img.shape[2] != 4:
                raise fail(p, "not an RGBA PNG")
            rgb = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB).astype(np.float32)
            a = img[..., 3:].astype(np.float32) / 255
            yy, xx = np.mgrid[:img.shape[0], :img.shape[1]]
            checker = np.where(((yy // 8 + xx // 8) % 2)[..., None] == 0, 200.0, 240.0)
            sq = max(img.shape[:2])
            cell = np.full((sq, sq, 3), 255, np.uint8)
            y0, x0 = (sq - img.shape[0]) // 2, (sq - img.shape[1]) // 2
            cell[y0:y0 + img.shape[0], x0:x0 + img.shape[1]] = (a * rgb + (1 - a) * checker).astype(np.uint8)
            row.append(cell)
        cells.append(row)
        labels.append(f"{d.name} ({len(list(d.glob('*.png')))} views)")
    return _grid(cells, labels, False, cell_w)


def write_sheet(root: str | Path, out: str | Path, videos: int = 8, frames: int = 6) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise fail(root, "not a folder")
    if (root / "image").is_dir() or (root / "meta.json").exists():
        sheet = recording_sheet(root, videos, frames)
    else:
        sheet = objects_sheet(root, videos, frames)
    atomic_imwrite(out, sheet)
    return Path(out)


def add_arguments(parser) -> None:
    parser.add_argument("root", help="a labelled-recording tree, or a folder of RGBA object renders")
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--videos", type=int, default=8, help="rows: videos (or objects) shown (default 8)")
    parser.add_argument("--frames", type=int, default=6, help="columns: frames (or views) per row (default 6)")


def run(args) -> int:
    path = write_sheet(args.root, args.out, args.videos, args.frames)
    print(path)
    return 0
