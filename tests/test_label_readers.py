"""Every input kind of `distinctnet label` read back as frames, and each bad input as a one-line error."""
from __future__ import annotations

import logging

import cv2
import numpy as np
import pytest

from distinctnet.errors import UserError
from distinctnet.label.frames import to_rgb_uint8
from distinctnet.label.readers import expand_inputs, natural_key
from test_label_support import H, W, frame, make_bag, make_frames, make_video, one_thread  # noqa: F401


def frames_of(path, topic=None):
    (src,) = expand_inputs([path], topic)
    skipped: list[int] = []
    return src, list(src.frames(skipped)), skipped


def close(a, b, tol=12):  # lossy codecs: mean absolute difference
    return np.abs(a.astype(int) - b.astype(int)).mean() < tol


@pytest.mark.parametrize("ext", [".mp4", ".mkv", ".avi", ".mov", ".webm"])
def test_video_files(tmp_path, ext):
    codec = {".webm": "libvpx-vp9", ".avi": "mpeg4"}.get(ext, "libx264")
    try:
        path = make_video(tmp_path / f"my.clip{ext}", n=5, codec=codec)
    except Exception as e:  # an encoder missing from this PyAV build
        pytest.skip(f"cannot write {ext}: {e}")
    src, frames, skipped = frames_of(path)
    assert src.kind == "video" and src.name == "my_clip"  # no dots in video names
    assert len(frames) == 5 and not skipped
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    assert close(frames[3], frame(3), tol=20)


def test_frame_folder_natural_sort_and_pixel_formats(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    f = [frame(i) for i in range(4)]
    cv2.imwrite(str(folder / "img2.png"), cv2.cvtColor(f[1], cv2.COLOR_RGB2GRAY))           # grayscale
    cv2.imwrite(str(folder / "img1.png"), cv2.cvtColor(f[0], cv2.COLOR_RGB2BGRA))           # RGBA
    cv2.imwrite(str(folder / "img10.png"), cv2.cvtColor(f[3], cv2.COLOR_RGB2BGR).astype(np.uint16) * 257)  # 16 bit
    cv2.imwrite(str(folder / "img3.jpg"), cv2.cvtColor(f[2], cv2.COLOR_RGB2BGR))
    src, frames, skipped = frames_of(folder)
    assert src.kind == "frames" and len(frames) == 4
    assert np.array_equal(frames[0], f[0])                     # alpha dropped, colours kept
    gray = cv2.cvtColor(f[1], cv2.COLOR_RGB2GRAY)
    assert np.array_equal(frames[1], np.repeat(gray[:, :, None], 3, 2))
    assert close(frames[2], f[2])
    assert np.array_equal(frames[3], f[3])                     # 16-bit scaled back to 8 bit
    assert sorted(["a10", "a2", "a1"], key=natural_key) == ["a1", "a2", "a10"]


def test_to_rgb_uint8_conversions():
    assert to_rgb_uint8(np.full((2, 2), 65535, np.uint16)).tolist() == np.full((2, 2, 3), 255).tolist()
    assert to_rgb_uint8(np.full((2, 2, 1), 0.5, np.float32))[0, 0].tolist() == [128, 128, 128]
    bgr = np.zeros((1, 1, 3), np.uint8)
    bgr[..., 0] = 7
    assert to_rgb_uint8(bgr, bgr=True)[0, 0].tolist() == [0, 0, 7]


def test_corrupted_frame_in_folder_is_skipped_with_warning(tmp_path, caplog):
    folder = make_frames(tmp_path / "clip", n=5)
    (folder / "f3.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    with caplog.at_level(logging.WARNING, logger="distinctnet.label"):
        src, frames, skipped = frames_of(folder)
    assert len(frames) == 4 and skipped == [2]
    assert "f3.png" in caplog.text and "skipped" in caplog.text
    assert np.array_equal(frames[2], frame(3))


def test_frames_of_varying_size_resized_with_one_warning(tmp_path, caplog):
    folder = make_frames(tmp_path / "clip", n=4)
    cv2.imwrite(str(folder / "f2.png"), cv2.resize(frame(1), (W * 2, H * 2)))
    cv2.imwrite(str(folder / "f3.png"), cv2.resize(frame(2), (W // 2, H // 2)))
    with caplog.at_level(logging.WARNING, logger="distinctnet.label"):
        _, frames, _ = frames_of(folder)
    assert [f.shape for f in frames] == [(H, W, 3)] * 4
    assert caplog.text.count("resized to the first frame's size") == 1


@pytest.mark.parametrize("encoding", ["rgb8", "bgr8", "mono8", "mono16", "jpeg", "png"])
def test_ros2_bag_raw_and_compressed(tmp_path, encoding):
    bag = make_bag(tmp_path / "run_1", n=4, encoding=encoding)
    src, frames, skipped = frames_of(bag)
    assert src.kind == "bag" and src.topic == "/camera/image" and src.name == "run_1"
    assert len(frames) == 4 and not skipped
    want = frame(2)
    if encoding.startswith("mono"):
        g = want.mean(axis=2).astype(np.uint8)
        want = np.repeat(g[:, :, None], 3, 2)
    if encoding == "jpeg":
        assert close(frames[2], want)
    else:
        assert np.array_equal(frames[2], want)


def test_ros1_bag(tmp_path):
    bag = make_bag(tmp_path / "old.bag", n=3, encoding="rgb8", ros1=True)
    src, frames, _ = frames_of(bag)
    assert src.name == "old" and len(frames) == 3
    assert np.array_equal(frames[1], frame(1))


def test_bag_topic_choice_and_errors(tmp_path):
    bag = make_bag(tmp_path / "two", n=3, encoding="rgb8", extra_topics={"/wrist/image/compressed": "jpeg"})
    with pytest.raises(UserError, match="several image topics.*--topic.*/camera/image.*/wrist/image/compressed"):
        expand_inputs([bag])
    with pytest.raises(UserError, match=r"no image topic '/nope'.*image topics: /camera/image \(Image\), "
                                        r"/wrist/image/compressed \(CompressedImage\)"):
        expand_inputs([bag], "/nope")
    src, frames, _ = frames_of(bag, "/wrist/image/compressed")
    assert len(frames) == 3
    none = make_bag(tmp_path / "none", n=2, topic="/camera/image", encoding=None)
    with pytest.raises(UserError, match="no image topics"):
        expand_inputs([none])


def test_bag_corrupted_messages_skipped(tmp_path, caplog):
    bag = make_bag(tmp_path / "bad", n=5, encoding="jpeg", corrupt=(2,))
    with caplog.at_level(logging.WARNING, logger="distinctnet.label"):
        _, frames, skipped = frames_of(bag)
    assert len(frames) == 4 and skipped == [2] and "message 2 is corrupted" in caplog.text
    raw = make_bag(tmp_path / "short", n=4, encoding="rgb8", corrupt=(1,))
    _, frames, skipped = frames_of(raw)
    assert len(frames) == 3 and skipped == [1]


def test_layout_tree_and_list_file(tmp_path):
    from distinctnet.layout import VideoWriter

    for v in ("a", "b"):
        with VideoWriter(tmp_path / "tree", v) as w:
            for i in range(3):
                w.write(frame(i), {})
    sources = expand_inputs([tmp_path / "tree"])
    assert [(s.kind, s.name, s.video) for s in sources] == [("layout", "a", "a"), ("layout", "b", "b")]
    frames = list(sources[1].frames())
    assert len(frames) == 3 and close(frames[2], frame(2))

    make_video(tmp_path / "clip.mp4", n=3)
    make_frames(tmp_path / "frames", n=3)
    lst = tmp_path / "inputs.txt"
    lst.write_text("# corpus\nclip.mp4\n\nframes\n" + str(tmp_path / "tree") + "\nclip.mp4\n")
    names = [s.name for s in expand_inputs([lst])]
    assert names == ["clip", "frames", "a", "b", "clip-2"]  # duplicates get unique names


@pytest.mark.parametrize("content,problem", [
    (b"", "cannot open video"),
    (b"\x00\x01garbage" * 300, "cannot open video"),
])
def test_unreadable_video(tmp_path, content, problem):
    p = tmp_path / "broken.mp4"
    p.write_bytes(content)
    with pytest.raises(UserError, match=f"broken.mp4: {problem}"):
        frames_of(p)


@pytest.mark.parametrize("ext,keep", [(".mkv", 0.5), (".mkv", 0.9), (".mp4", 0.9)])
def test_truncated_video(tmp_path, ext, keep):
    path = tmp_path / f"cut{ext}"
    make_video(path, n=30, h=96, w=128)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(UserError, match=f"cut{ext}: (video is truncated|cannot open video)"):
        frames_of(path)


def test_missing_and_unsupported_inputs(tmp_path):
    with pytest.raises(UserError, match="nope.mp4: no such file or folder"):
        expand_inputs([tmp_path / "nope.mp4"])
    (tmp_path / "x.xyz").write_text("?")
    with pytest.raises(UserError, match="x.xyz: unsupported input"):
        expand_inputs([tmp_path / "x.xyz"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="empty: no frames, videos, bags"):
        expand_inputs([tmp_path / "empty"])
    (tmp_path / "blank.txt").write_text("\n# nothing\n")
    with pytest.raises(UserError, match="blank.txt: list file names no inputs"):
        expand_inputs([tmp_path / "blank.txt"])


def test_prefetch_keeps_order_raises_where_the_reader_failed_and_stops_when_closed():
    import threading

    from distinctnet.label.frames import prefetch

    assert list(prefetch(iter(range(50)), depth=3)) == list(range(50))

    def failing():
        yield from range(5)
        raise ValueError("bad frame 5")

    got = []
    with pytest.raises(ValueError, match="bad frame 5"):
        for x in prefetch(failing(), depth=2):
            got.append(x)
    assert got == [0, 1, 2, 3, 4]

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    closed = []

    def endless_with_cleanup():
        try:
            yield from endless()
        finally:
            closed.append(True)

    gen = prefetch(endless_with_cleanup(), depth=4)
    assert [next(gen) for _ in range(3)] == [0, 1, 2]
    gen.close()  # joins the producer thread and closes its generator
    assert closed == [True]
    n = len(produced)
    assert n <= 3 + 4 + 2  # taken, queued, one being put
    assert not any(t.name == "distinctnet-prefetch" for t in threading.enumerate())
    assert len(produced) == n
