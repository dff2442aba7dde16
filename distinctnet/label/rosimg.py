"""Decode sensor_msgs/Image and sensor_msgs/CompressedImage messages (as deserialised by rosbags)."""
from __future__ import annotations

import numpy as np

from .frames import to_rgb_uint8

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")

# encoding -> (dtype, channels, channel order is BGR)
_RAW = {
    "rgb8": (np.uint8, 3, False), "bgr8": (np.uint8, 3, True),
    "rgba8": (np.uint8, 4, False), "bgra8": (np.uint8, 4, True),
    "rgb16": (np.uint16, 3, False), "bgr16": (np.uint16, 3, True),
    "rgba16": (np.uint16, 4, False), "bgra16": (np.uint16, 4, True),
    "mono8": (np.uint8, 1, False), "mono16": (np.uint16, 1, False),
    "8uc1": (np.uint8, 1, False), "8uc3": (np.uint8, 3, True), "8uc4": (np.uint8, 4, True),
    "16uc1": (np.uint16, 1, False), "16uc3": (np.uint16, 3, True),
}
_BAYER = {"bayer_rggb8": "COLOR_BayerBG2RGB", "bayer_bggr8": "COLOR_BayerRG2RGB",
          "bayer_gbrg8": "COLOR_BayerGR2RGB", "bayer_grbg8": "COLOR_BayerGB2RGB"}
_YUV = {"yuv422": "COLOR_YUV2RGB_UYVY", "uyvy": "COLOR_YUV2RGB_UYVY",
        "yuv422_yuy2": "COLOR_YUV2RGB_YUY2", "yuyv": "COLOR_YUV2RGB_YUY2"}

SUPPORTED_ENCODINGS = tuple(_RAW) + tuple(_BAYER) + tuple(_YUV)


def decode_raw(msg) -> np.ndarray:
    """sensor_msgs/Image -> RGB uint8. Raises ValueError for unknown encodings or a short buffer."""
    import cv2

    enc = str(msg.encoding).lower()
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    data = np.asarray(msg.data, dtype=np.uint8)
    if h <= 0 or w <= 0 or data.size < h * step:
        raise ValueError(f"image buffer holds {data.size} bytes, {h} rows x {step} bytes expected")
    rows = data[: h * step].reshape(h, step)
    if enc in _RAW:
        dtype, ch, bgr = _RAW[enc]
        size = np.dtype(dtype).itemsize
        px = rows[:, : w * ch * size].copy()
        if size == 2:
            px = px.view(">u2" if msg.is_bigendian else "<u2").astype(np.uint16)
        img = px.reshape(h, w, ch)
        return to_rgb_uint8(img, bgr=bgr)
    if enc in _BAYER:
        return cv2.cvtColor(np.ascontiguousarray(rows[:, :w]), getattr(cv2, _BAYER[enc]))
    if enc in _YUV:
        return cv2.cvtColor(np.ascontiguousarray(rows[:, : 2 * w]).reshape(h, w, 2), getattr(cv2, _YUV[enc]))
    raise ValueError(f"unsupported image encoding {msg.encoding!r} (supported: {', '.join(SUPPORTED_ENCODINGS)})")


def decode_compressed(msg) -> np.ndarray:
    """sensor_msgs/CompressedImage (jpeg, png, ...) -> RGB uint8. Raises ValueError when it does not decode."""
    import cv2

    img = cv2.imdecode(np.asarray(msg.data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"compressed image ({msg.format!r}) does not decode")
    return to_rgb_uint8(img, bgr=img.ndim == 3)


def decode(msgtype: str, msg) -> np.ndarray:
    return decode_compressed(msg) if msgtype.endswith("CompressedImage") else decode_raw(msg)
