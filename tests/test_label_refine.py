"""``--refine``: a guided filter on the frame's colours, and parts kept inside the foreground mask."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from distinctnet.errors import UserError
from distinctnet.label.refine import GATED, check_refine, filter_size, guided_filter_cpu, refine, subsample_indices
from distinctnet.label.runner import Labeller
from distinctnet.modeling import load_checkpoint
from test_label_support import MODEL_SIZE, frame, motion_ckpt, one_thread, semantic_ckpt  # noqa: F401

CLASSES = ("foreground", "robot", "gripper", "object", "distractor")
TH = {"foreground": 0.5, "robot": 0.5, "gripper": 0.1, "object": 0.3, "distractor": 0.3}


def naive_guided_filter(rgb: np.ndarray, p: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He et al.'s colour guided filter, written out per pixel (windows clipped at the image border)."""
    h, w = p.shape
    a = np.zeros((h, w, 3))
    b = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            win = (slice(max(0, y - r), y + r + 1), slice(max(0, x - r), x + r + 1))
            i, q = rgb[win].reshape(-1, 3), p[win].reshape(-1)
            mu, mq = i.mean(0), q.mean()
            cov = (i - mu).T @ (i - mu) / len(q)
            a[y, x] = np.linalg.solve(cov + eps * np.eye(3), ((i - mu) * (q - mq)[:, None]).mean(0))
            b[y, x] = mq - a[y, x] @ mu
    out = np.zeros((h, w))
    for y in range(h):
        for x in range(w):
            win = (slice(max(0, y - r), y + r + 1), slice(max(0, x - r), x + r + 1))
            out[y, x] = a[win].reshape(-1, 3).mean(0) @ rgb[y, x] + b[win].mean()
    return out


def test_edges_is_the_guided_filter_of_each_channel():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    p = rng.random((2, 20, 24)).astype(np.float32) * 0.5 + 0.25  # stays inside [0, 1] after filtering
    got = refine(torch.from_numpy(p)[None], torch.from_numpy(rgb).permute(2, 0, 1)[None], "edges",
                 ("foreground", "robot"), TH, input_h=20, radius=2, eps=1e-2)[0].numpy()
    size, sub = filter_size(20, 20, 2)
    assert (size, sub) == (5, 1)
    for c in range(2):
        ref = naive_guided_filter(rgb / 255.0, p[c], 2, 1e-2)
        # the window means at the border differ (kornia reflects, the reference clips): compare the inside
        np.testing.assert_allclose(got[c, 4:-4, 4:-4], ref[4:-4, 4:-4], atol=1e-4)


@pytest.mark.parametrize("h, w, size, sub", [(40, 56, 9, 1), (41, 57, 17, 1), (12, 15, 8, 1), (61, 83, 13, 2),
                                              (50, 70, 7, 3), (48, 69, 11, 2), (9, 40, 9, 4)])
def test_the_cpu_filter_is_kornias_guided_blur(h, w, size, sub):
    """Same border (mirrored), same anchor of an even window, same subsampled pixels and upsampling: in float64,
    where the conditioning of small windows does not hide a difference."""
    from kornia.filters import guided_blur

    rng = np.random.default_rng(size * 100 + sub)
    g = torch.from_numpy(rng.random((2, 3, h, w)))
    g[:, :, : h // 2] *= 0.02  # a nearly flat region: the colour covariance is dominated by eps
    p = torch.from_numpy(rng.random((2, 4, h, w)))
    for eps in (1e-2, 3e-5):
        ref = guided_blur(g, p, size, eps, subsample=sub)
        got = guided_filter_cpu(g, p, size, eps, sub)
        assert got.shape == ref.shape and got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), ref.numpy(), atol=1e-8)


def test_subsampled_pixels():
    assert subsample_indices(12, 3).tolist() == [0, 3, 6, 9]  # a multiple: every 3rd pixel
    assert subsample_indices(2, 3).tolist() == [0]  # shorter than the step: the first pixel
    idx = subsample_indices(50, 3)
    assert len(idx) == 16 and idx.min() >= 0 and idx.max() <= 49 and (np.diff(idx) >= 2).all()


def test_edges_sharpens_a_soft_outline_at_the_colour_edge():
    h, w = 32, 64
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, 30:] = (200, 180, 60)  # the object starts at column 30
    x = np.arange(w, dtype=np.float32)
    for lo in (22, 26):  # blurred outlines whose 0.5 crossing lies left (column 27) or right (31) of the edge
        p = np.broadcast_to(np.clip((x - lo) / 10.0, 0, 1), (h, w)).copy()
        probs = torch.from_numpy(np.stack([p, p]))[None]
        got = refine(probs, torch.from_numpy(rgb).permute(2, 0, 1)[None], "edges", ("foreground", "robot"), TH,
                     input_h=h, radius=4, eps=1e-4)[0, 1].numpy()
        assert got.min() >= 0 and got.max() <= 1
        step, plain = got[:, 30] - got[:, 29], p[:, 30] - p[:, 29]
        assert (step > 2.5 * plain).all()  # the outline's rise is concentrated on the edge
        before, after = (p > 0.5).argmax(1), (got > 0.5).argmax(1)
        assert (np.abs(after - 30) < np.abs(before - 30)).all()  # and the mask's outline moves towards it


def test_gate_keeps_parts_inside_the_foreground_only():
    rng = np.random.default_rng(1)
    probs = torch.from_numpy(rng.random((2, 5, 8, 8)).astype(np.float32))
    before = probs.clone()
    rgb = torch.zeros((2, 3, 8, 8), dtype=torch.uint8)
    got = refine(probs, rgb, "gate", CLASSES, TH, input_h=8)
    assert torch.equal(probs, before)  # the input is left alone
    fg = before[:, 0] > 0.5
    assert torch.equal(got[:, 0], before[:, 0])
    assert GATED == ("robot", "gripper", "distractor")
    for c in (1, 2, 4):
        assert torch.equal(got[:, c], torch.where(fg, before[:, c], torch.zeros(())))
    assert torch.equal(got[:, 3], before[:, 3])  # the grasped object is not gated


def test_filter_size_follows_the_frame_and_subsamples_large_frames():
    assert filter_size(240, 192) == (17, 1)   # 6.5 input pixels = 8 frame pixels
    assert filter_size(192, 192) == (15, 1)
    assert filter_size(720, 192) == (49, 3)   # 24 frame pixels, filtered on every 3rd pixel
    assert filter_size(1080, 192) == (75, 4)


def test_check_refine_errors():
    with pytest.raises(UserError, match="--refine: 'sharp'"):
        check_refine("sharp", CLASSES)
    with pytest.raises(UserError, match="foreground channel"):
        check_refine("gate", ("foreground",))
    assert check_refine("edges", ("foreground",)) == "edges"


def test_labeller_refines_after_the_passes_and_records_it(semantic_ckpt, motion_ckpt):
    model = load_checkpoint(semantic_ckpt)
    frames = [frame(p, 2 * MODEL_SIZE[0], 2 * MODEL_SIZE[1]) for p in range(6)]
    plain = Labeller(model, "cpu", batch=4, refine="none")
    both = Labeller(model, "cpu", batch=4, refine="both")
    assert "refine" not in plain.settings() and both.settings()["refine"] == "both"
    a = np.stack([p for _, p in plain.predict(iter(frames))])
    b = np.stack([p for _, p in both.predict(iter(frames))])
    rgb = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
    ref = refine(torch.from_numpy(a), rgb, "both", tuple(model.cfg.classes), both.thresholds, MODEL_SIZE[0]).numpy()
    np.testing.assert_allclose(b, ref, atol=1e-5)
    assert np.abs(b - a).max() > 1e-3
    motion = load_checkpoint(motion_ckpt)
    assert Labeller(motion, "cpu", refine="edges").refine == "edges"
    with pytest.raises(UserError, match="foreground channel"):
        Labeller(motion, "cpu", refine="both")


def test_the_default_labeller_refines_with_both_or_edges_without_a_foreground_channel(semantic_ckpt, motion_ckpt):
    assert Labeller(load_checkpoint(semantic_ckpt), "cpu").refine == "both"
    assert Labeller(load_checkpoint(motion_ckpt), "cpu").refine == "edges"  # one channel: nothing to gate
