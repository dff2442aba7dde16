"""Reference selection of the labeller (``--reference motion``): still frames keep the last frame that differs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from distinctnet.errors import UserError
from distinctnet.label.reference import MotionGate, ReferencePicker, thumbnails
from distinctnet.label.runner import Labeller
from distinctnet.modeling import load_checkpoint
from test_label_support import MODEL_SIZE, frame, motion_ckpt, naive_pairs, one_thread, semantic_ckpt  # noqa: F401


def noisy(img: np.ndarray, rng, sigma: float = 2.0) -> np.ndarray:
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def video_with_stop(moving: int = 6, still: int = 7, again: int = 3, h: int = MODEL_SIZE[0], w: int = MODEL_SIZE[1]):
    """Frames of a square moving right, stopping at frame ``moving - 1`` for ``still`` frames (fresh sensor noise
    each), then moving on."""
    rng = np.random.default_rng(1)
    pos = list(range(moving)) + [moving - 1] * still + list(range(moving, moving + again))
    return [noisy(frame(p, h, w), rng) for p in pos]


def thumbs_of(frames, pool=4):
    x = torch.stack([torch.from_numpy(f).permute(2, 0, 1) for f in frames]).float() / 255
    return thumbnails(x, pool)


def expected_refs(moving=6, still=7, again=3):
    last_moving = moving - 1
    refs = [1] + list(range(0, moving - 1))                  # frames 0..moving-1: 1, then t-1
    refs += [last_moving - 1] * still                        # the stop: the frame before the last moving one
    refs += [t - 1 for t in range(moving + still, moving + still + again)]
    return refs


@pytest.mark.parametrize("chunk", [2, 3, 5, 100])
def test_still_frames_keep_the_reference_of_the_last_moving_frame(chunk):
    frames = video_with_stop()
    th = thumbs_of(frames)
    picker = ReferencePicker("motion")
    refs = []
    for i in range(0, len(frames), chunk):
        refs += picker.pick(len(th[i:i + chunk]), th[i:i + chunk])
        assert set(picker.thumbs) == picker.keep and max(picker.keep) == picker.t - 1  # only what is needed
    assert refs == expected_refs()
    plain = ReferencePicker("previous")
    assert plain.pick(len(frames)) == [1] + list(range(len(frames) - 1))


def test_gap_limit_and_still_start_fall_back_to_the_previous_frame():
    frames = video_with_stop(still=7)
    th = thumbs_of(frames)
    refs = ReferencePicker("motion", MotionGate(max_gap=4)).pick(len(frames), th)
    want = expected_refs()
    # frame t may go back at most 4 frames to frame 4: frames 6, 7, 8 do; 9..12 fall back to t-1
    want[9:13] = [8, 9, 10, 11]
    # falling back breaks the chain: after it, a still frame's reference (t-2) is itself still, so t-1 stays
    assert refs == want
    rng = np.random.default_rng(2)
    still = [noisy(frame(0, *MODEL_SIZE), rng) for _ in range(6)]
    assert ReferencePicker("motion").pick(6, thumbs_of(still)) == [1, 0, 1, 2, 3, 4]


def test_a_global_brightness_change_counts_as_motion_and_sensor_noise_does_not():
    rng = np.random.default_rng(3)
    a = frame(2, *MODEL_SIZE)
    brighter = np.clip(a.astype(int) + 40, 0, 255).astype(np.uint8)
    th = thumbs_of([noisy(a, rng), noisy(a, rng), brighter])
    assert not MotionGate().differ(th[1], th[0])
    assert MotionGate().differ(th[2], th[0])


@pytest.mark.parametrize("ckpt,recurrent", [("semantic_ckpt", False), ("motion_ckpt", True)])
@pytest.mark.parametrize("batch,tta", [(1, "none"), (3, "none"), (16, "none"), (4, "flip")])
def test_labeller_decodes_each_frame_against_its_picked_reference(ckpt, recurrent, batch, tta, request):
    model = load_checkpoint(request.getfixturevalue(ckpt))
    frames = video_with_stop()
    refs = expected_refs()
    got = [p for _, p in Labeller(model, "cpu", batch=batch, tta=tta, reference="motion", gap=1, second_scale=1, refine="none").predict(iter(frames))]
    want = naive_pairs(model, frames, refs, recurrent)
    if tta == "flip":
        mirrored = naive_pairs(model, [np.ascontiguousarray(f[:, ::-1]) for f in frames], refs, recurrent)
        want = [0.5 * (a + b[:, :, ::-1]) for a, b in zip(want, mirrored)]
    assert len(got) == len(frames)
    err = max(np.abs(p - q).max() for p, q in zip(got, want))
    assert err < 2e-5
    plain = [p for _, p in Labeller(model, "cpu", batch=batch, tta=tta, reference="previous", gap=1, second_scale=1, refine="none").predict(
        iter(frames))]
    moving = 6
    assert max(np.abs(a - b).max() for a, b in zip(got[:moving], plain[:moving])) < 2e-5  # same pairs while moving
    # the stop's pairs differ (the tiny test models are not very sensitive to their reference: compare with the
    # error; the mirrored recurrent motion model averages the difference down to ~1e-6, too small to tell)
    if not (recurrent and tta == "flip"):
        assert max(np.abs(a - b).max() for a, b in zip(got[moving:13], plain[moving:13])) > 10 * err + 1e-6


def test_reference_option_errors_and_settings(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    with pytest.raises(UserError, match="--reference"):
        Labeller(model, "cpu", reference="keyframe", second_scale=1, refine="none")
    with pytest.raises(UserError, match="bidir"):
        Labeller(model, "cpu", reference="motion", tta="bidir", second_scale=1, refine="none")
    assert "reference" not in Labeller(model, "cpu", reference="previous", second_scale=1, refine="none").settings()  # as outputs before the option
    assert Labeller(model, "cpu", second_scale=1, refine="none").settings()["reference"] == "motion"  # the default
    assert Labeller(model, "cpu", tta="bidir", second_scale=1, refine="none").reference == "previous"  # bidir pairs with both neighbours


@pytest.mark.parametrize("chunk", [1, 2, 4, 100])
def test_gap_pairs_moving_frames_further_back_and_still_frames_as_before(chunk):
    frames = video_with_stop()
    th = thumbs_of(frames)
    picker = ReferencePicker("motion", gap=3)
    refs = picker.pick(2, th[:2]) + sum((picker.pick(len(th[i:i + chunk]), th[i:i + chunk])
                                         for i in range(2, len(frames), chunk)), [])
    # moving frames: t-3 (0 before that); the stop (frames 6-12): the last moving frame's reference, 5 - 3 = 2
    assert refs == [1, 0, 0, 0, 1, 2] + [2] * 7 + [10, 11, 12]
    plain = ReferencePicker("previous", gap=2)
    assert plain.pick(2) + plain.pick(3) == [1, 0, 0, 1, 2]
    with pytest.raises(UserError, match="--gap"):
        ReferencePicker(gap=0)


@pytest.mark.parametrize("batch", [1, 3, 16])
def test_labeller_with_a_gap_matches_naive_pairs(semantic_ckpt, batch):
    model = load_checkpoint(semantic_ckpt)
    frames = video_with_stop()
    got = [p for _, p in Labeller(model, "cpu", batch=batch, gap=3, second_scale=1, refine="none").predict(iter(frames))]
    want = naive_pairs(model, frames, [1, 0, 0, 0, 1, 2] + [2] * 7 + [10, 11, 12], recurrent=False)
    for p, q in zip(got, want):
        np.testing.assert_allclose(p, q, atol=2e-5)
    assert Labeller(model, "cpu", gap=3, second_scale=1, refine="none").settings()["gap"] == 3
    assert "gap" not in Labeller(model, "cpu", gap=1, second_scale=1, refine="none").settings()  # as outputs before the option
    assert Labeller(model, "cpu", second_scale=1, refine="none").settings()["gap"] == 2  # the default
    assert Labeller(model, "cpu", tta="bidir", second_scale=1, refine="none").gap == 1
    with pytest.raises(UserError, match="--gap"):
        Labeller(model, "cpu", gap=2, tta="bidir", second_scale=1, refine="none")


def test_the_default_labeller_pairs_by_motion_two_frames_back(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    frames = video_with_stop()
    refs = ReferencePicker("motion", gap=2).pick(len(frames), thumbs_of(frames))
    assert refs == [1, 0, 0, 1, 2, 3] + [3] * 7 + [11, 12, 13]
    got = [p for _, p in Labeller(model, "cpu", batch=4, second_scale=1, refine="none").predict(iter(frames))]
    for p, q in zip(got, naive_pairs(model, frames, refs, recurrent=False)):
        np.testing.assert_allclose(p, q, atol=2e-5)
