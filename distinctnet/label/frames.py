"""Frame normalisation: every reader yields RGB uint8 HxWx3 frames of one size per video."""
from __future__ import annotations

import logging
import queue
import threading
from typing import Iterable, Iterator, TypeVar

import numpy as np

log = logging.getLogger("distinctnet.label")
T = TypeVar("T")


def to_rgb_uint8(img: np.ndarray, *, bgr: bool = False) -> np.ndarray:
    """Grayscale (HxW, HxWx1), RGB, RGBA, 16-bit and float images -> RGB uint8 HxWx3.

    ``bgr``: the channels are in OpenCV order (BGR / BGRA) and are swapped to RGB.
    16-bit images are scaled by 1/257 (full range to full range); float images are taken as [0, 1].
    """
    img = np.asarray(img)
    if img.dtype == np.uint16:
        img = (img.astype(np.uint32) * 255 + 32767) // 65535
    elif img.dtype.kind == "f":
        img = np.clip(np.nan_to_num(img) * 255.0 + 0.5, 0, 255)
    elif img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    img = img.astype(np.uint8, copy=False)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 2:
        return np.ascontiguousarray(np.repeat(img[:, :, None], 3, axis=2))
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"unsupported image shape {img.shape}")
    img = img[:, :, :3]
    if bgr:
        img = img[:, :, ::-1]
    return np.ascontiguousarray(img)


def uniform_size(frames: Iterable[np.ndarray], name: str) -> Iterator[np.ndarray]:
    """Resize every frame to the first frame's size (warns once per video when sizes vary)."""
    import cv2

    shape = None
    warned = False
    for i, f in enumerate(frames):
        if shape is None:
            shape = f.shape[:2]
        elif f.shape[:2] != shape:
            if not warned:
                log.warning("%s: frame %d is %dx%d, the first frame is %dx%d; frames of another size are "
                            "resized to the first frame's size", name, i, f.shape[1], f.shape[0], shape[1], shape[0])
                warned = True
            f = cv2.resize(f, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
        yield f


def prefetch(items: Iterable[T], depth: int) -> Iterator[T]:
    """The items of ``items`` in order, produced up to ``depth`` ahead by a background thread, so that reading
    and decoding frames overlap the model. An exception of the producer is raised here, after the items
    before it; closing this generator early stops the producer."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    done = object()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for x in items:
                if not put((x, None)):
                    return
            put((done, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            put((done, e))

    t = threading.Thread(target=produce, name="distinctnet-prefetch", daemon=True)
    t.start()
    try:
        while True:
            x, err = q.get()
            if x is done:
                if err is not None:
                    raise err
                return
            yield x
    finally:
        stop.set()
        t.join()
        close = getattr(items, "close", None)  # a generator stopped early: run its cleanup (open files) now
        if close is not None:
            close()
