"""The labeller's model runner (pairs, batching, recurrent state, resizing), part mapping and quality."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from distinctnet.errors import UserError
from distinctnet.label.parts import plan_parts
from distinctnet.label.quality import DEFAULT_REVIEW_MARGIN, QualityRecorder, part_stats, read_quality, review_margins
from distinctnet.label.runner import Labeller, TooFewFrames, label_recordings
from distinctnet.layout import VideoWriter
from distinctnet.modeling import load_checkpoint
from test_label_support import H, MODEL_SIZE, W, frame, motion_ckpt, one_thread, semantic_ckpt  # noqa: F401
from test_label_support import naive_pairs


def naive(model, frames, recurrent):
    """Reference: one forward per pair (t, t-1), frame 0 against frame 1, state carried when recurrent."""
    return naive_pairs(model, frames, [1] + list(range(len(frames) - 1)), recurrent)


@pytest.mark.parametrize("batch", [1, 3, 16])
def test_pairs_match_naive_forward(semantic_ckpt, batch):
    model = load_checkpoint(semantic_ckpt)
    h, w = MODEL_SIZE
    frames = [frame(i, h, w) for i in range(7)]
    got = list(Labeller(model, "cpu", gap=1, batch=batch, second_scale=1, refine="none").predict(iter(frames)))
    want = naive(model, frames, recurrent=False)
    assert len(got) == 7
    for (rgb, p), q, f in zip(got, want, frames):
        assert rgb is f or np.array_equal(rgb, f)
        assert p.shape == (5, h, w) and p.dtype == np.float32
        np.testing.assert_allclose(p, q, atol=2e-5)


def test_recurrent_state_carried_and_reset_per_video(motion_ckpt):
    model = load_checkpoint(motion_ckpt)
    h, w = MODEL_SIZE
    frames = [frame(i, h, w) for i in range(6)]
    lab = Labeller(model, "cpu", gap=1, batch=4, second_scale=1, refine="none")
    first = [p for _, p in lab.predict(iter(frames))]
    want = naive(model, frames, recurrent=True)
    for p, q in zip(first, want):
        assert p.shape == (1, h, w)
        np.testing.assert_allclose(p, q, atol=2e-5)
    stateless = naive(model, frames, recurrent=False)
    assert max(np.abs(p - q).max() for p, q in zip(first, stateless)) > 1e-4  # the state does matter
    again = [p for _, p in lab.predict(iter(frames))]  # a new video starts from an empty state
    for p, q in zip(again, first):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("ckpt,recurrent", [("semantic_ckpt", False), ("motion_ckpt", True)])
def test_flip_tta_averages_the_mirrored_video(ckpt, recurrent, request):
    model = load_checkpoint(request.getfixturevalue(ckpt))
    h, w = MODEL_SIZE
    frames = [frame(i, h, w) for i in range(5)]
    got = [p for _, p in Labeller(model, "cpu", gap=1, batch=2, tta="flip", second_scale=1, refine="none").predict(iter(frames))]
    plain = naive(model, frames, recurrent)
    mirrored = naive(model, [np.ascontiguousarray(f[:, ::-1]) for f in frames], recurrent)
    for p, a, b in zip(got, plain, mirrored):
        np.testing.assert_allclose(p, 0.5 * (a + b[:, :, ::-1]), atol=2e-5)
    assert max(np.abs(p - a).max() for p, a in zip(got, plain)) > 1e-4  # the mirror does change the result
    with pytest.raises(UserError, match="--tta"):
        Labeller(model, "cpu", tta="rotate", second_scale=1, refine="none")


def naive_bidir(model, frames):
    """Reference for tta="bidir": frame t against t-1 and against t+1, sigmoids averaged (one neighbour at the ends)."""
    x = [torch.from_numpy(f).permute(2, 0, 1).float()[None] / 255 for f in frames]
    out = []
    with torch.no_grad():
        for t in range(len(frames)):
            ps = [torch.sigmoid(model(x[t], x[r])[0])[0].numpy() for r in (t - 1, t + 1) if 0 <= r < len(frames)]
            out.append(sum(ps) / len(ps))
    return out


@pytest.mark.parametrize("batch,n", [(1, 2), (2, 7), (3, 7), (16, 9), (4, 8)])
def test_bidir_tta_averages_both_neighbours_across_chunks(semantic_ckpt, motion_ckpt, batch, n):
    model = load_checkpoint(semantic_ckpt)
    h, w = MODEL_SIZE
    frames = [frame(i, h, w) for i in range(n)]
    got = list(Labeller(model, "cpu", batch=batch, tta="bidir", second_scale=1, refine="none").predict(iter(frames)))
    want = naive_bidir(model, frames)
    assert len(got) == n
    for (rgb, p), q, f in zip(got, want, frames):
        assert np.array_equal(rgb, f) and p.shape == (5, h, w)
        np.testing.assert_allclose(p, q, atol=2e-6)
    if n > 2:  # with two frames each one has a single neighbour: the same pairs as without bidir
        plain = naive(model, frames, recurrent=False)
        assert max(np.abs(p - a).max() for (_, p), a in zip(got, plain)) > 2e-5  # the second neighbour counts
    with pytest.raises(UserError, match="recurrent"):
        Labeller(load_checkpoint(motion_ckpt), "cpu", tta="bidir", second_scale=1, refine="none")


def test_input_size_resizes_for_the_network_and_returns_frame_size(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    frames = [frame(i) for i in range(3)]
    size = (MODEL_SIZE[0] * 2, MODEL_SIZE[1] * 2)
    lab = Labeller(model, "cpu", gap=1, batch=2, input_size=size, second_scale=1, refine="none")
    assert lab.settings() == {"tta": "none", "input_size": list(size), "reference": "motion", "unmoved": "drop"}
    got = [p for _, p in lab.predict(iter(frames))]
    assert [p.shape for p in got] == [(5, H, W)] * 3
    native = [p for _, p in Labeller(model, "cpu", gap=1, batch=2, second_scale=1, refine="none").predict(iter(frames))]
    assert max(np.abs(p - q).max() for p, q in zip(got, native)) > 1e-4
    with pytest.raises(UserError, match="--input-size"):
        Labeller(model, "cpu", input_size=(8, 8), second_scale=1, refine="none")


def test_probabilities_at_frame_size_and_too_few_frames(semantic_ckpt):
    lab = Labeller(load_checkpoint(semantic_ckpt), "cpu", batch=2, second_scale=1, refine="none")
    out = list(lab.predict(frame(i) for i in range(3)))
    assert [p.shape for _, p in out] == [(5, H, W)] * 3
    assert all(0 <= p.min() and p.max() <= 1 for _, p in out)
    with pytest.raises(TooFewFrames, match="1 frame"):
        list(lab.predict(iter([frame(0)])))
    with pytest.raises(TooFewFrames, match="0 frame"):
        list(lab.predict(iter([])))


def test_part_plans():
    full = plan_parts("semantic", ("foreground", "robot", "gripper", "object", "distractor"))
    assert full.annotated == ["arm", "gripper", "robot", "object", "distractor"]
    probs = np.zeros((5, 2, 3), np.float32)
    probs[1, 0, :] = 0.9   # robot: top row
    probs[2, 0, 2] = 0.8   # gripper: top right pixel
    probs[3, 1, 0] = 0.7   # object
    split = full.split(probs)
    assert split["arm"][0].tolist() == [[True, True, False], [False, False, False]]
    assert split["gripper"][0].sum() == 1 and split["object"][0][1, 0] and not split["distractor"][0].any()
    np.testing.assert_allclose(split["arm"][1][0], [0.9, 0.9, 0.2])  # min(p_robot, 1 - p_gripper)

    robot_only = plan_parts("semantic", ("robot",))
    assert robot_only.annotated == ["robot"] and not robot_only.derive_arm
    motion = plan_parts("motion", ("foreground", "robot"))
    assert motion.annotated == ["foreground"] and motion.channels == {"robot": 0}
    assert motion.meta["foreground_written_to"] == "robot"


def test_quality_margins_and_review_flags():
    prob = np.array([[0.95, 0.55, 0.1], [0.2, 0.99, 0.0]], np.float32)
    mask = prob > 0.5
    area, margin = part_stats(mask, prob)
    assert area == pytest.approx(3 / 6)
    assert margin == pytest.approx(np.mean([0.9, 0.1, 0.98]))
    assert np.isnan(part_stats(np.zeros_like(mask), prob)[1])
    q = QualityRecorder(["robot", "object"], review_margin=0.7)
    confident = np.where(mask, 0.99, 0.01).astype(np.float32)
    q.add(0, {"robot": (mask, confident), "object": (np.zeros_like(mask), confident)})
    q.add(1, {"robot": (mask, prob), "object": (np.zeros_like(mask), confident)})
    assert q.review_frames == [1]
    assert q.rows[1]["reason"] == "low-margin:robot" and q.rows[0]["object_margin"] == ""


def test_review_margins_per_part():
    # one margin for all parts overrides the checkpoint's; the checkpoint's per-part margins otherwise, default else
    assert review_margins(["robot", "object"], 0.3, {"robot": 0.7}) == {"robot": 0.3, "object": 0.3}
    assert review_margins(["robot", "object"], None, {"object": 0.2}) == {"robot": DEFAULT_REVIEW_MARGIN,
                                                                          "object": 0.2}
    assert review_margins(["robot"]) == {"robot": DEFAULT_REVIEW_MARGIN}
    mask = np.ones((2, 2), bool)
    weak = np.full((2, 2), 0.7, np.float32)  # margin 0.4
    q = QualityRecorder(["robot", "object"], review_margin={"robot": 0.6, "object": 0.3})
    q.add(0, {"robot": (mask, np.full((2, 2), 0.9, np.float32)), "object": (mask, weak)})  # 0.8 >= 0.6, 0.4 >= 0.3
    q.add(1, {"robot": (mask, weak), "object": (mask, weak)})  # robot 0.4 < 0.6
    assert q.review_frames == [1] and q.rows[1]["reason"] == "low-margin:robot"
    assert q.review_reasons() == {"low-margin:robot": 1}


def test_labeller_uses_the_checkpoints_review_margins(semantic_ckpt, tmp_path):
    from distinctnet.modeling.checkpoint import rewrite_meta

    calibrated = tmp_path / "calibrated.safetensors"
    rewrite_meta(semantic_ckpt, calibrated, {"review_margins": {"robot": 0.0, "arm": 0.0, "gripper": 0.0,
                                                                "object": 0.0, "distractor": 0.0}})
    with VideoWriter(tmp_path / "src", "rec") as w:
        for i in range(3):
            w.write(frame(i), {})
    for ckpt, margin, expect in [(calibrated, None, 0.0), (calibrated, 1.0, 1.0), (semantic_ckpt, None, 0.6)]:
        out = tmp_path / f"out-{expect}-{margin}"
        label_recordings(tmp_path / "src", out, checkpoint=ckpt, device="cpu", review_margin=margin,
                         second_scale=1, refine="none")
        meta = json.loads((out / "meta.json").read_text())["videos"]["rec"]
        assert set(meta["review_margins"].values()) == {expect}
        rows = read_quality(out / "quality" / "rec.csv")
        margins = [float(r[k]) for r in rows for k in r if k.endswith("_margin") and r[k] != ""]
        low = any(m < expect for m in margins)
        assert (meta["review_frames"] > 0) == (low or any("flicker" in r["reason"] for r in rows))
        if expect == 0.0:
            assert not any("low-margin" in r["reason"] for r in rows)
        if expect == 1.0:
            assert meta["review_frames"] == len(rows)  # every margin is below 1
        counted = {}
        for r in rows:
            for reason in r["reason"].split():
                counted[reason] = counted.get(reason, 0) + 1
        assert meta["review_reasons"] == counted


def test_quality_flags_flicker():
    q = QualityRecorder(["robot"], review_margin=0.1)
    prob = np.full((10, 10), 0.99, np.float32)
    areas = [20, 22, 0, 24, 26, 27, 80, 29, 30, 31]  # vanishes at 2, spikes at 6; grows steadily otherwise
    for i, a in enumerate(areas):
        m = np.zeros((10, 10), bool)
        m.flat[:a] = True
        q.add(i, {"robot": (m, prob)})
    q.flag_flicker()
    assert q.review_frames == [2, 6]
    assert q.rows[6]["reason"] == "flicker:robot"
    assert q.review_reasons() == {"flicker:robot": 2}


def test_compiled_labeller_gives_the_same_probabilities(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    h, w = MODEL_SIZE
    frames = [frame(i, h, w) for i in range(5)]
    plain = [p for _, p in Labeller(model, "cpu", gap=1, batch=2, second_scale=1, refine="none").predict(iter(frames))]
    lab = Labeller(load_checkpoint(semantic_ckpt), "cpu", gap=1, batch=2, compile=True, second_scale=1, refine="none")
    got = [p for _, p in lab.predict(iter(frames))]
    for p, q in zip(got, plain):
        np.testing.assert_allclose(p, q, atol=1e-5)


def test_compile_falls_back_to_uncompiled_when_compiling_fails(semantic_ckpt, monkeypatch, caplog):
    def broken(fn, **kw):
        def run(*a, **k):
            raise RuntimeError("no C compiler here")
        return run

    monkeypatch.setattr(torch, "compile", broken)
    model = load_checkpoint(semantic_ckpt)
    h, w = MODEL_SIZE
    frames = [frame(i, h, w) for i in range(4)]
    with caplog.at_level("WARNING", logger="distinctnet.label"):
        got = [p for _, p in Labeller(model, "cpu", gap=1, batch=2, compile=True, second_scale=1, refine="none").predict(iter(frames))]
    want = naive(model, frames, recurrent=False)
    for p, q in zip(got, want):
        np.testing.assert_allclose(p, q, atol=2e-5)
    assert sum("torch.compile failed" in r.message for r in caplog.records) == 2  # encode and decode, once each


def test_clean_drops_small_robot_pieces_only():
    plan = plan_parts("semantic", ("foreground", "robot", "gripper", "object", "distractor"))
    p = np.zeros((5, 40, 60), np.float32)
    p[1, 5:25, 5:25] = 0.9    # the arm: 400 px
    p[2, 20:25, 10:20] = 0.9  # its gripper, inside the arm's piece
    p[1, 30:34, 50:54] = 0.9  # a speck: 16 px (4% of the largest piece)
    p[2, 36:38, 2:4] = 0.9    # a gripper speck on its own: 4 px
    p[1, 5:15, 40:54] = 0.9   # a second large piece: 140 px (35%)
    p[3, 30:34, 30:34] = 0.9  # an object far away: not the robot's, kept
    raw = plan.split(p, 0.5)
    got = plan.split(p, 0.5, clean=0.2)
    robot = lambda parts: parts["arm"][0] | parts["gripper"][0]  # noqa: E731
    assert robot(raw).sum() == 400 + 16 + 4 + 140
    assert robot(got).sum() == 400 + 140
    assert not got["arm"][0][30:34, 50:54].any() and not got["gripper"][0][36:38, 2:4].any()
    assert got["gripper"][0][20:25, 10:20].all()
    assert np.array_equal(got["object"][0], raw["object"][0])
    for part in got:  # probability maps (review margins) are left as they are
        assert np.array_equal(got[part][1], raw[part][1])
    assert robot(plan.split(p, 0.5, clean=0.5)).sum() == 400  # the 35% piece goes at 0.5
    with pytest.raises(UserError, match="--clean"):
        Labeller(torch.nn.Linear(1, 1), "cpu", clean=1.0, second_scale=1, refine="none")


def test_exclusive_gives_shared_object_distractor_pixels_to_the_distractor():
    from distinctnet.label.parts import make_exclusive

    plan = plan_parts("semantic", ("foreground", "robot", "gripper", "object", "distractor"))
    p = np.zeros((5, 30, 40), np.float32)
    p[3, 5:15, 5:15] = 0.9     # the object: 100 px
    p[4, 10:20, 10:30] = 0.9   # a distractor: 200 px, 25 of them shared with the object
    p[1, 0:5, 0:40] = 0.9      # the robot, untouched
    raw = plan.split(p, 0.5)
    got = plan.split(p, 0.5, exclusive="distractor")
    assert raw["object"][0].sum() == 100 and got["object"][0].sum() == 75
    assert not (got["object"][0] & got["distractor"][0]).any()
    assert np.array_equal(got["object"][0], raw["object"][0] & ~raw["distractor"][0])
    for part in ("arm", "gripper", "robot", "distractor"):
        assert np.array_equal(got[part][0], raw[part][0])
    for part in got:  # probability maps (review margins) are left as they are
        assert np.array_equal(got[part][1], raw[part][1])
    assert np.array_equal(plan.split(p, 0.5, exclusive="none")["object"][0], raw["object"][0])
    only_object = {"object": raw["object"]}  # a model without a distractor channel: nothing to do
    make_exclusive(only_object, "distractor")
    assert only_object["object"][0].sum() == 100
    with pytest.raises(UserError, match="--exclusive"):
        plan.split(p, 0.5, exclusive="object")


def test_exclusive_option_settings_and_resume_hint(semantic_ckpt):
    from distinctnet.label.pipeline import resume_hint

    model = load_checkpoint(semantic_ckpt)
    assert Labeller(model, "cpu", exclusive="distractor", second_scale=1, refine="none").settings()["exclusive"] == \
        "distractor"
    plain = Labeller(model, "cpu", exclusive="none", second_scale=1, refine="none").settings()
    assert "exclusive" not in plain
    with pytest.raises(UserError, match="--exclusive"):
        Labeller(model, "cpu", exclusive="both", second_scale=1, refine="none")
    # an output labelled before the option existed resumes with --exclusive none
    assert "--exclusive none" in resume_hint(plain, {**plain, "exclusive": "distractor"})


def test_exclusive_larger_gives_each_shared_pixel_to_the_part_further_above_its_threshold():
    plan = plan_parts("semantic", ("foreground", "robot", "gripper", "object", "distractor"))
    p = np.zeros((5, 20, 20), np.float32)
    p[3, 0:10, 0:20] = 0.6     # the object, 200 px; threshold 0.3 -> rescaled 0.5 + 0.3 / 1.4 = 0.714
    p[4, 5:15, 0:10] = 0.9     # a sure distractor (rescaled 0.857 at 0.3) over 50 object pixels
    p[4, 5:15, 10:20] = 0.4    # an unsure one (rescaled 0.571) over the other 50
    th = [0.5, 0.5, 0.5, 0.3, 0.3]
    raw = plan.split(p, th)
    got = plan.split(p, th, exclusive="larger")
    assert not (got["object"][0] & got["distractor"][0]).any()
    assert got["object"][0].sum() == 200 - 50 and got["object"][0][5:10, 10:20].all()
    assert got["distractor"][0].sum() == 200 - 50 and not got["distractor"][0][5:10, 10:20].any()
    assert (got["object"][0] | got["distractor"][0]).sum() == (raw["object"][0] | raw["distractor"][0]).sum()
    p[4, 5:15, 10:20] = 0.6    # a tie of the rescaled probabilities goes to the distractor
    assert plan.split(p, th, exclusive="larger")["object"][0].sum() == 100
