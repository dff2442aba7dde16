"""Paste sources for the compositing generator: background photos, object cut-outs, procedural objects.

Backgrounds: the user's folders (COCO-style folders of JPG/PNG, searched recursively) or, when none are
given, the real photos among scikit-image's sample data plus ``backgrounds/`` of the optional shared asset
folder (``$DISTINCTNET_ASSETS`` or ``../shared/assets`` beside the repository).

Objects: folders of RGBA PNGs (alpha = mask), grouped by the folder that holds them (one folder = one
object, its PNGs = its views, as the renderer writes ``{object}/{k:04d}.png``). With no folders, objects
are drawn procedurally (shaded, textured ellipsoids, boxes and cylinders), so the generator needs no assets.
"""
from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from distinctnet.errors import fail

IMAGE_EXTS = (".jpg", ".jpeg", ".png")
#: Real photographs among skimage.data (the rest are tiny, synthetic, microscopy or line art).
SKIMAGE_PHOTOS = ("astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
                  "grass.png", "gravel.png", "motorcycle_left.png", "motorcycle_right.png", "rocket.jpg")
#: Smallest side (pixels) a default background photo must have.
MIN_DEFAULT_SIDE = 256
ASSETS_ENV = "DISTINCTNET_ASSETS"


# ----------------------------------------------------------------------------------------------- finding
def shared_assets_dir() -> Path | None:
    """The optional asset folder: ``$DISTINCTNET_ASSETS`` if set, else ``../shared/assets`` beside the repo."""
    env = os.environ.get(ASSETS_ENV)
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = Path(__file__).resolve().parents[1] / ".." / "shared" / "assets"
    return here.resolve() if here.is_dir() else None


def skimage_photos() -> list[Path]:
    import skimage.data

    folder = Path(skimage.data.__file__).parent
    return [folder / name for name in SKIMAGE_PHOTOS if (folder / name).is_file()]


def list_images(folder: str | Path, exts: tuple[str, ...] = IMAGE_EXTS, what: str = "images") -> list[Path]:
    """All files with ``exts`` under ``folder`` (recursive, sorted, hidden files skipped); UserError when the
    folder is missing or holds none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise fail(folder, "no such folder")
    found = sorted(p for p in folder.rglob("*")
                   if p.suffix.lower() in exts and p.is_file() and not p.name.startswith("."))
    if not found:
        raise fail(folder, f"no {what} ({', '.join(exts)}) in this folder or below")
    return found


def find_backgrounds(folders: list[str | Path] | None = None) -> list[Path]:
    """Background photo files: from ``folders`` (folders, or image files: a file named twice is drawn twice
    as often) if given, else the default set."""
    if folders:
        out: list[Path] = []
        for f in folders:
            if Path(f).is_file() and Path(f).suffix.lower() in IMAGE_EXTS:
                out.append(Path(f))
            else:
                out.extend(list_images(f, what="background images"))
        return out
    return default_backgrounds()


def default_backgrounds() -> list[Path]:
    import cv2

    out = []
    for p in skimage_photos():
        img = cv2.imread(str(p), cv2.IMREAD_UNCHANGED)
        if img is not None and min(img.shape[:2]) >= MIN_DEFAULT_SIDE:
            out.append(p)
    assets = shared_assets_dir()
    if assets is not None and (assets / "backgrounds").is_dir():
        out.extend(p for p in sorted((assets / "backgrounds").rglob("*"))
                   if p.suffix.lower() in IMAGE_EXTS and not p.name.startswith("."))
    if not out:
        raise fail("--backgrounds", "no default background photos found (scikit-image data missing); "
                                    "give --backgrounds DIR")
    return out


def _png_has_alpha(path: Path) -> bool:
    """Read the PNG header: colour type 4 (grey+alpha) or 6 (RGBA)."""
    try:
        with open(path, "rb") as f:
            head = f.read(26)
    except OSError:
        return False
    return len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and head[25] in (4, 6)


@dataclass(frozen=True)
class ObjectAsset:
    name: str               # folder of the object relative to the --objects folder
    views: tuple[Path, ...]  # its RGBA PNGs


def find_objects(folders: list[str | Path] | None) -> list[ObjectAsset]:
    """Objects in ``folders`` (RGBA PNGs grouped by their folder). Empty list when ``folders`` is empty
    (the generator then draws procedural objects)."""
    objects: list[ObjectAsset] = []
    for folder in folders or []:
        folder = Path(folder)
        pngs = [p for p in list_images(folder, (".png",), "PNG images") if _png_has_alpha(p)]
        if not pngs:
            raise fail(folder, "no RGBA PNGs (object cut-outs need an alpha channel as mask)")
        groups: dict[Path, list[Path]] = {}
        for p in pngs:
            groups.setdefault(p.parent, []).append(p)
        for parent, views in sorted(groups.items()):
            rel = parent.relative_to(folder).as_posix()
            name = f"{folder.name}/{rel}" if rel != "." else folder.name
            objects.append(ObjectAsset(name, tuple(views)))
    return objects


# ----------------------------------------------------------------------------------------------- loading
class LRU:
    """A small byte-budgeted cache of decoded images (one per process)."""

    def __init__(self, max_bytes: int):
        self.max_bytes, self.bytes = max_bytes, 0
        self.items: OrderedDict = OrderedDict()

    def get(self, key, make):
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = make()
        size = sum(getattr(v, "nbytes", 0) for v in (value if isinstance(value, tuple) else (value,)))
        self.items[key] = value
        self.bytes += size
        while self.bytes > self.max_bytes and len(self.items) > 1:
            _, old = self.items.popitem(last=False)
            self.bytes -= sum(getattr(v, "nbytes", 0) for v in (old if isinstance(old, tuple) else (old,)))
        return value


def load_background(path: Path, max_side: int) -> np.ndarray:
    """RGB uint8 (grey photos become 3 grey channels), downscaled so its longer side is <= ``max_side``."""
    import cv2

    from distinctnet.io import imread_rgb

    img = imread_rgb(path)
    scale = max_side / max(img.shape[:2])
    if scale < 1:
        img = cv2.resize(img, (max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale))),
                         interpolation=cv2.INTER_AREA)
    return img


def load_rgba(path: Path) -> np.ndarray:
    """An RGBA cut-out cropped to its alpha's bounding box (UserError when unreadable or without alpha;
    a fully transparent PNG gives a 0x0 array)."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise fail(path, "cannot read image (missing, truncated or not an image)")
    if img.dtype != np.uint8:
        img = (img / 257).astype(np.uint8) if img.dtype == np.uint16 else img.astype(np.uint8)
    if img.ndim != 3 or img.shape[2] not in (2, 4):
        raise fail(path, "object cut-out has no alpha channel")
    if img.shape[2] == 2:
        rgba = np.dstack([img[..., 0]] * 3 + [img[..., 1]])
    else:
        rgba = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    if len(ys) == 0:
        return rgba[:0, :0]
    return np.ascontiguousarray(rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1])


def rotate_sprite(rgba: np.ndarray, degrees: float) -> np.ndarray:
    """``rgba`` turned by ``degrees`` (counter-clockwise on screen) about its centre, on a canvas that
    holds all of it, with the centre kept at the canvas centre."""
    import cv2

    if abs(degrees) < 0.5:
        return rgba
    h, w = rgba.shape[:2]
    M = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    c, s = abs(M[0, 0]), abs(M[0, 1])
    nw, nh = int(np.ceil(h * s + w * c)), int(np.ceil(h * c + w * s))
    M[0, 2] += nw / 2 - w / 2
    M[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(np.ascontiguousarray(rgba), M, (nw, nh), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


# ------------------------------------------------------------------------------------- procedural objects
SHAPES = ("ellipsoid", "box", "cylinder")


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    import cv2

    hsv = np.array([[[rng.integers(0, 180), rng.integers(60, 256), rng.integers(90, 256)]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32) / 255


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An RGB float texture HxWx3 in [0, 1]: a base colour with blotchy noise, sometimes stripes or checks."""
    import cv2

    base, second = _random_colour(rng), _random_colour(rng)
    g = int(rng.integers(3, 9))
    noise = cv2.resize(rng.random((g, g), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    tex = base[None, None, :] * (0.75 + 0.5 * noise[..., None])
    pattern = rng.integers(0, 3)  # 0 plain, 1 stripes, 2 checks
    if pattern:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        period = max(4.0, float(rng.uniform(0.15, 0.4)) * max(h, w))
        ang = rng.uniform(0, np.pi)
        u = (xx * np.cos(ang) + yy * np.sin(ang)) / period
        if pattern == 1:
            m = (np.sin(2 * np.pi * u) > 0).astype(np.float32)
        else:
            v = (-xx * np.sin(ang) + yy * np.cos(ang)) / period
            m = ((np.floor(u) + np.floor(v)) % 2).astype(np.float32)
        m = cv2.GaussianBlur(m, (3, 3), 0)[..., None]
        tex = tex * (1 - m) + second[None, None, :] * (0.75 + 0.5 * noise[..., None]) * m
    # fine grain
    tex = tex * (1 + 0.06 * rng.standard_normal((h, w, 1), dtype=np.float32))
    return tex


def _light(rng: np.random.Generator) -> np.ndarray:
    v = np.array([rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.6, 1.5)], np.float32)
    return v / np.linalg.norm(v)


def procedural_object(rng: np.random.Generator, size: int, shape: str | None = None) -> np.ndarray:
    """A random shaded, textured object as RGBA uint8 whose longer side is about ``size`` pixels."""
    import cv2

    size = max(8, int(size))
    shape = shape or SHAPES[int(rng.integers(len(SHAPES)))]
    aspect = float(rng.uniform(0.45, 1.0))
    h, w = (size, max(4, round(size * aspect))) if rng.random() < 0.5 else (max(4, round(size * aspect)), size)
    amb, L = float(rng.uniform(0.25, 0.45)), _light(rng)
    alpha = np.zeros((h, w), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    if shape == "ellipsoid":
        cx, cy, a, b = w / 2, h / 2, w / 2 - 0.5, h / 2 - 0.5
        cv2.ellipse(alpha, ((cx, cy), (2 * a, 2 * b), 0), 255, -1, cv2.LINE_AA)
        nx, ny = (xx - cx) / a, (yy - cy) / b
        nz = np.sqrt(np.clip(1 - nx ** 2 - ny ** 2, 0, 1))
        shade = amb + (1 - amb) * np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0, 1)
        shade += 0.35 * np.clip(nx * L[0] + ny * L[1] + nz * L[2], 0, 1) ** 20  # highlight
    elif shape == "cylinder":
        e = max(2.0, h * float(rng.uniform(0.08, 0.18)))
        cx = w / 2
        pts = np.array([[0, e], [w, e], [w, h - e], [0, h - e]], np.float32)
        cv2.fillPoly(alpha, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
        cv2.ellipse(alpha, ((cx, h - e), (w - 1, 2 * e), 0), 255, -1, cv2.LINE_AA)
        top = np.zeros_like(alpha)
        cv2.ellipse(top, ((cx, e), (w - 1, 2 * e), 0), 255, -1, cv2.LINE_AA)
        alpha = np.maximum(alpha, top)
        nx = np.clip((xx - cx) / (w / 2), -1, 1)
        body = amb + (1 - amb) * np.clip(nx * L[0] + np.sqrt(1 - nx ** 2) * L[2], 0, 1)
        lid = amb + (1 - amb) * np.clip(-L[1] * 0.8 + L[2] * 0.6, 0, 1) * 1.1
        shade = np.where(top > 0, lid, body)
    else:  # box: a front face and two visible sides of a cuboid
        d = max(2, round(min(h, w) * float(rng.uniform(0.15, 0.35))))
        fw, fh = max(2, w - d), max(2, h - d)
        faces = [np.array(p, np.float32) for p in (
            [[0, d], [fw, d], [fw, h], [0, h]],                  # front
            [[0, d], [d, 0], [w, 0], [fw, d]],                   # top
            [[fw, d], [w, 0], [w, fh], [fw, h]],                 # side
        )]
        normals = np.array([[0, 0, 1], [0, -0.7, 0.7], [0.7, 0, 0.7]], np.float32)
        shade = np.full((h, w), amb, np.float32)
        for pts, n in zip(faces, normals):
            face = np.zeros_like(alpha)
            cv2.fillPoly(face, [np.round(pts * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
            shade = np.where(face > 127, amb + (1 - amb) * max(0.0, float(n @ L)), shade)
            alpha = np.maximum(alpha, face)
    rgb = _texture(rng, h, w) * shade[..., None]
    rgba = np.dstack([np.clip(rgb * 255, 0, 255).astype(np.uint8), alpha])
    if rng.random() < 0.5:
        rgba = rgba[:, ::-1]
    rgba = rotate_sprite(rgba, float(rng.uniform(-180, 180)))  # random in-plane rotation
    ys, xs = np.nonzero(rgba[..., 3] > 0)
    return np.ascontiguousarray(rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1])
