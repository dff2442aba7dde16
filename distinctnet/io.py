"""Atomic file writes: write to a temporary name in the same folder, then rename."""
from __future__ import annotations

import json
import os
import tempfile

_UMASK = os.umask(0)
os.umask(_UMASK)
from pathlib import Path

import numpy as np


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_figure(path: str | os.PathLike, fig, dpi: float | None = None, palette: bool = True) -> Path:
    """Save a matplotlib figure as PNG atomically and close it.

    ``palette``: store it with 256 colours (median cut) when that is smaller, as it is for plots (about 2.5x,
    the lines and text unchanged to the eye); reports and training curves are committed and carried, so their
    size counts. The figure's background must be opaque (matplotlib's default).
    """
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **({"dpi": dpi} if dpi is not None else {}))
    plt.close(fig)
    data = buf.getvalue()
    if palette:
        from PIL import Image

        small = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(
            small, format="PNG", optimize=True)
        if small.tell() < len(data):
            data = small.getvalue()
    atomic_write_bytes(path, data)
    return Path(path)


def atomic_write_json(path: str | os.PathLike, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


def encode_image(img: np.ndarray, ext: str, quality: int = 95, full_chroma: bool = False) -> bytes:
    """Encode an RGB (HxWx3) or single-channel image; ``ext`` is '.jpg' or '.png'.

    ``full_chroma`` keeps a JPEG's colour at full resolution (4:4:4) instead of halving it: small coloured
    regions (a few false-positive pixels in an overlay) keep their colour.
    """
    import cv2

    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, quality]
        if full_chroma:
            params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    else:
        params = [cv2.IMWRITE_PNG_COMPRESSION, 3]
    ok, buf = cv2.imencode(ext, img, params)
    if not ok:
        raise ValueError(f"could not encode image as {ext}")
    return buf.tobytes()


def atomic_imwrite(path: str | os.PathLike, img: np.ndarray, quality: int = 95, full_chroma: bool = False) -> None:
    atomic_write_bytes(path, encode_image(img, Path(path).suffix.lower(), quality, full_chroma))


def imread_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as RGB uint8; raises UserError naming the file when it cannot be read."""
    import cv2

    from .errors import fail

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise fail(path, "cannot read image (missing, truncated or not an image)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
