"""``--unmoved drop``: mask pieces that touch no pixel that changed anywhere in the video are dropped."""
from __future__ import annotations

import json

import numpy as np
import pytest

from distinctnet.errors import UserError
from distinctnet.label import unmoved
from distinctnet.label.runner import Labeller
from distinctnet.label.unmoved import MovedMap, check_unmoved, drop_unmoved, gated_channels, moved_map
from distinctnet.modeling import load_checkpoint
from test_label_support import MODEL_SIZE, frame, make_frames, semantic_ckpt  # noqa: F401


def scene(n: int, moving: bool = True, noise: int = 0, h: int = 96, w: int = 128, seed: int = 1):
    """A static textured scene with a white square moving right 4 px per frame (or still), plus noise."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(40, 200, (h, w, 3)).astype(np.int16)
    out = []
    for i in range(n):
        img = bg.copy()
        x = 10 + (4 * i if moving else 0)
        img[20:40, x:x + 16] = 255
        if noise:
            img += rng.integers(-noise, noise + 1, img.shape)
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return out


def test_moved_map_covers_the_path_of_what_moved_and_not_the_still_scene():
    m = moved_map(scene(6, noise=4), (96, 128))
    assert m.shape == (96, 128) and m.dtype == bool
    assert m[22:38, 12:44].all()  # the square's path (its leading and trailing edges swept over it)
    assert not m[45:, :].any() and not m[:, 50:].any()  # the scene away from it: noise of +-4 levels is no motion
    assert moved_map(scene(6, moving=False, noise=4), (96, 128)) is None  # nothing moved at all
    assert moved_map(scene(1), (96, 128)) is None  # one frame: no change to see


def test_moved_map_is_computed_at_the_input_size():
    frames = scene(5, h=192, w=256)
    m = MovedMap((48, 64))
    for f in frames:
        m.add(f)
    small = m.mask()
    assert small.shape == (48, 64)
    full = moved_map(frames, (192, 256))
    # the same area, a quarter of the resolution (up to the blur and dilation at each size)
    assert abs(small.mean() - full.mean()) < 0.05


def blob_probs(h=96, w=128):
    """Channel 1 with three pieces: A (10..20 x 10..30), B 4 px right of A, C far away; channel 0 one piece."""
    p = np.zeros((2, h, w), np.float32)
    p[1, 10:20, 10:30] = 0.9   # A
    p[1, 10:20, 34:44] = 0.8   # B: a 4 px gap from A
    p[1, 70:80, 100:120] = 0.7  # C
    p[1, 50:52, 0:2] = 0.2     # below the threshold: not a piece, left alone
    p[0, 70:80, 100:120] = 0.9  # not a gated channel
    return p


def test_drop_unmoved_zeroes_the_pieces_that_never_moved(monkeypatch):
    p = blob_probs()
    moved = np.zeros((96, 128), bool)
    moved[12:14, 12:14] = True  # touches A only
    got = drop_unmoved(p.copy(), moved, {1: 2}, thresholds=[0.5, 0.5], input_h=96)
    ref = p.copy()
    ref[1, 70:80, 100:120] = 0  # C dropped; B is bridged to A (4 px < BRIDGE) and stays
    np.testing.assert_array_equal(got, ref)
    # with no gap tolerance B is its own piece, and it never moved either
    monkeypatch.setattr(unmoved, "BRIDGE", 1)
    got = drop_unmoved(p.copy(), moved, {1: 2}, thresholds=[0.5, 0.5], input_h=96)
    ref[1, 10:20, 34:44] = 0
    np.testing.assert_array_equal(got, ref)


def test_drop_unmoved_scales_the_gap_with_the_frame_and_takes_the_map_at_any_size():
    p = blob_probs()
    moved = np.zeros((48, 64), bool)  # half the frame's size
    moved[6, 6] = True  # frame pixels 12-13: inside A
    # the network input is 1/4 of the frame's height: a gap of 4 frame px is 1 input px, far under BRIDGE
    got = drop_unmoved(p.copy(), moved, {1: 2}, thresholds=[0.5, 0.5], input_h=24)
    assert got[1, 10:20, 34:44].min() == pytest.approx(0.8) and got[1, 70:80, 100:120].max() == 0
    # a frame four times smaller than the input: the tolerance is 13 / 4 -> 3 px, and B (4 px away) is its own piece
    got = drop_unmoved(p.copy(), moved, {1: 0}, thresholds=[0.5, 0.5], input_h=384)
    assert got[1, 10:20, 34:44].max() == 0 and got[1, 10:20, 10:30].min() == pytest.approx(0.9)


def test_a_piece_stays_within_its_reach_of_what_moved():
    p = blob_probs()
    moved = np.zeros((96, 128), bool)
    moved[12, 12] = True  # inside A; C (rows 70-80, columns 100-120) lies 58 px below and 88 px right of it
    for reach, c_stays in ((2, False), (60, False), (90, True)):  # a square's half side: C is 88 px away sideways
        got = drop_unmoved(p.copy(), moved, {1: reach}, [0.5, 0.5], input_h=96)
        assert (got[1, 70:80, 100:120].min() > 0) == c_stays, reach
        assert got[1, 10:20, 10:30].min() > 0  # A always
    # the reach is in input pixels: at an input half the frame's height, 45 input px are 90 frame px
    got = drop_unmoved(p.copy(), moved, {1: 45}, [0.5, 0.5], input_h=48)
    assert got[1, 70:80, 100:120].min() > 0


def test_nothing_moved_keeps_everything_and_thresholds_are_per_channel():
    p = blob_probs()
    np.testing.assert_array_equal(drop_unmoved(p.copy(), None, {1: 2}, [0.5, 0.5], 96), p)
    moved = np.zeros((96, 128), bool)
    moved[12, 12] = True
    # at threshold 0.85 only A (0.9) is a piece; B (0.8) and C (0.7) are below it and stay as they are
    got = drop_unmoved(p.copy(), moved, {1: 2}, [0.5, 0.85], 96)
    np.testing.assert_array_equal(got, p)


def test_options_and_channels():
    assert check_unmoved("drop") == "drop"
    with pytest.raises(UserError, match="--unmoved"):
        check_unmoved("sometimes")
    r, d = unmoved.REACH["robot"], unmoved.DEFAULT_REACH
    assert r > 10 * d  # the robot's still base may lie far from its moving links; the small parts move as a whole
    assert gated_channels(("foreground", "robot", "gripper", "object", "distractor")) == {1: r, 2: d, 3: d, 4: d}
    assert gated_channels(("foreground",)) == {0: r}  # a motion-only model: its foreground is written as the robot


def video(n=8):
    pos = [0, 1, 2, 3, 4, 4, 4, 4][:n]  # moves, then stops
    return [frame(p, 2 * MODEL_SIZE[0], 2 * MODEL_SIZE[1]) for p in pos]


def test_labeller_drop_is_keep_with_the_unmoved_pieces_dropped(semantic_ckpt, monkeypatch):
    monkeypatch.setattr(unmoved, "BRIDGE", 1)  # 13 px of a 32 px high input would join every piece of these frames
    model = load_checkpoint(semantic_ckpt)
    frames = video()
    plain = np.stack([p for _, p in Labeller(model, "cpu", batch=3, refine="none").predict(iter(frames))])
    # the random model's probabilities are nearly flat: thresholds at each channel's median make pieces all over
    th = {c: float(np.median(plain[:, i])) for i, c in enumerate(model.cfg.classes)}
    keep = Labeller(model, "cpu", batch=3, refine="none", unmoved="keep", thresholds=th)
    drop = Labeller(model, "cpu", batch=3, refine="none", unmoved="drop", thresholds=th)
    assert not keep.needs_moved_map and drop.needs_moved_map
    assert "unmoved" not in keep.settings() and drop.settings()["unmoved"] == "drop"
    base = np.stack([p for _, p in keep.predict(iter(frames))])
    moved = drop.moved_map(frames)
    assert moved.shape == tuple(drop.input_size) and moved.any() and not moved.all()
    got = np.stack([p for _, p in drop.predict(iter(frames), moved=moved)])
    ref = np.stack([drop_unmoved(p.copy(), moved, gated_channels(drop.classes), drop.channel_thresholds,
                                 drop.input_size[0]) for p in base])
    np.testing.assert_array_equal(got, ref)
    assert 0 < (got != base).mean() < 0.5  # some pieces went, not all
    assert (got[:, 0] == base[:, 0]).all()  # the foreground channel is not gated
    # without a map the labeller grows one chunk by chunk; in one chunk it has seen the whole video
    one = Labeller(model, "cpu", batch=len(frames), refine="none", unmoved="drop", thresholds=th)
    np.testing.assert_array_equal(np.stack([p for _, p in one.predict(iter(frames))]), got)
    # in chunks of 3 the first chunk's map is smaller: it may drop more there, never less
    grown = np.stack([p for _, p in drop.predict(iter(frames))])
    assert ((grown == 0) | (grown == got)).all()


def test_label_cli_records_unmoved_and_its_masks_are_a_subset_of_keep(tmp_path, semantic_ckpt):
    from distinctnet.cli import main
    from distinctnet.layout import Recording

    src = make_frames(tmp_path / "clip", n=6)
    for mode in ("keep", "drop"):
        assert main(["label", str(src), "--out", str(tmp_path / mode), "--checkpoint", str(semantic_ckpt),
                     "--unmoved", mode, "--quiet"]) == 0
    meta = json.loads((tmp_path / "drop" / "meta.json").read_text())
    assert meta["videos"]["clip"]["labeller"]["unmoved"] == "drop"
    a, b = Recording(tmp_path / "keep"), Recording(tmp_path / "drop")
    for i in range(6):
        for part in ("robot", "gripper", "object", "distractor"):
            k, d = a.read_mask("clip", part, i) > 0, b.read_mask("clip", part, i) > 0
            assert not (d & ~k).any()  # dropping only removes pixels
