"""Helpers for the labeller tests: tiny recordings of every input kind and tiny random-weight checkpoints.
(No tests here; the test_label_* modules import from it.)"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

H, W = 48, 64          # frame size of the generated recordings
MODEL_SIZE = (32, 48)  # native input size of the tiny test models


def frame(i: int, h: int = H, w: int = W) -> np.ndarray:
    """A textured background with a bright square that moves right by 3 px per frame."""
    rng = np.random.default_rng(0)
    img = rng.integers(40, 90, (h, w, 3), dtype=np.uint8)
    x = 4 + 3 * i
    img[10:26, x:x + 14] = (220, 60, 40)
    return img


def make_video(path: Path, n: int = 8, h: int = H, w: int = W, codec: str = "libx264") -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=10)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for i in range(n):
            for p in s.encode(av.VideoFrame.from_ndarray(frame(i, h, w), format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def make_frames(folder: Path, n: int = 6, ext: str = ".png") -> Path:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"f{i + 1}{ext}"), cv2.cvtColor(frame(i), cv2.COLOR_RGB2BGR))
    return folder


def image_msg(typestore, img: np.ndarray, encoding: str, k: int):
    T = typestore.types
    stamp = T["builtin_interfaces/msg/Time"](sec=k, nanosec=0)
    ros1 = "seq" in T["std_msgs/msg/Header"].__dataclass_fields__
    header = T["std_msgs/msg/Header"](**({"seq": k} if ros1 else {}), stamp=stamp, frame_id="cam")
    if encoding in ("jpeg", "png"):
        import cv2

        ok, buf = cv2.imencode("." + ("jpg" if encoding == "jpeg" else "png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        return T["sensor_msgs/msg/CompressedImage"](header=header, format=encoding, data=buf.ravel()), \
            "sensor_msgs/msg/CompressedImage"
    if encoding == "bgr8":
        img = img[:, :, ::-1]
    elif encoding == "mono16":
        img = (img.mean(axis=2).astype(np.uint16) * 257)
    elif encoding == "mono8":
        img = img.mean(axis=2).astype(np.uint8)
    img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    data = img.view(np.uint8).reshape(-1)
    return T["sensor_msgs/msg/Image"](header=header, height=h, width=w, encoding=encoding, is_bigendian=0,
                                      step=data.size // h, data=data), "sensor_msgs/msg/Image"


def make_bag(path: Path, n: int = 6, encoding: str = "rgb8", topic: str = "/camera/image",
             ros1: bool = False, corrupt: tuple[int, ...] = (), extra_topics: dict | None = None) -> Path:
    """A ROS2 (folder) or ROS1 (.bag) recording with ``n`` images on ``topic`` (+ ``extra_topics``:
    topic -> encoding, and a non-image /joint_states-like String topic)."""
    from rosbags.typesys import Stores, get_typestore

    typestore = get_typestore(Stores.ROS1_NOETIC if ros1 else Stores.ROS2_HUMBLE)
    if ros1:
        from rosbags.rosbag1 import Writer

        writer = Writer(path)
    else:
        from rosbags.rosbag2 import Writer

        writer = Writer(path, version=9)
    topics = {topic: encoding, **(extra_topics or {})}
    with writer:
        string = writer.add_connection("/status", "std_msgs/msg/String", typestore=typestore)
        conns = {}
        for t, enc in topics.items():
            if enc is None:
                continue
            _, msgtype = image_msg(typestore, frame(0), enc, 0)
            conns[t] = writer.add_connection(t, msgtype, typestore=typestore)
        ser = typestore.serialize_ros1 if ros1 else typestore.serialize_cdr
        for k in range(n):
            ts = (k + 1) * 100_000_000
            writer.write(string, ts, ser(typestore.types["std_msgs/msg/String"](data=f"step {k}"), "std_msgs/msg/String"))
            for t, conn in conns.items():
                msg, msgtype = image_msg(typestore, frame(k), topics[t], k)
                if t == topic and k in corrupt:
                    msg.data = np.frombuffer(b"not an image at all", np.uint8).copy() if msgtype.endswith(
                        "CompressedImage") else msg.data[:10]
                writer.write(conn, ts, ser(msg, msgtype))
    return path


def save_tiny(path: Path, **changes) -> Path:
    import torch

    from distinctnet.modeling import DistinctNet, ModelConfig, save_checkpoint

    torch.manual_seed(0)
    cfg = ModelConfig.preset("fast", input_size=MODEL_SIZE, aspp_channels=32, decoder_channels=32, **changes)
    save_checkpoint(DistinctNet(cfg), path)
    return path


def naive_pairs(model, frames, refs, recurrent: bool) -> list[np.ndarray]:
    """Reference for the labeller: one forward per pair (frame t, frame refs[t]), state carried when recurrent."""
    import torch

    x = [torch.from_numpy(f).permute(2, 0, 1).float()[None] / 255 for f in frames]
    out, state = [], None
    with torch.no_grad():
        for t, r in enumerate(refs):
            logits, state = model(x[t], x[r], state=state if recurrent else None)
            p = torch.softmax(logits, 1)[:, 1:2] if model.cfg.head == "motion" else torch.sigmoid(logits)
            out.append(p[0].numpy())
    return out


@pytest.fixture(scope="session")
def semantic_ckpt(tmp_path_factory) -> Path:
    return save_tiny(tmp_path_factory.mktemp("ckpt") / "semantic.safetensors", head="semantic")


@pytest.fixture(scope="session")
def motion_ckpt(tmp_path_factory) -> Path:
    return save_tiny(tmp_path_factory.mktemp("ckpt") / "motion.safetensors", head="motion", recurrent=True)


def label(argv: list[str], capsys=None) -> tuple[int, str]:
    """Run ``distinctnet label`` in-process; returns (exit code, stderr lines that are not progress)."""
    from distinctnet.cli import main

    rc = main(["label", "-q", *map(str, argv)])
    err = capsys.readouterr().err if capsys is not None else ""
    return rc, err


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run faster single-threaded on the shared 2-core machines; restored afterwards."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
