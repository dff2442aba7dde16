"""Per-class mask thresholds: the histogram IoU curve against a direct count, the choice of threshold, the
labeller's use of a calibrated checkpoint and the eval.calibrate command on a tiny tree."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from distinctnet.errors import UserError
from distinctnet.label.parts import class_thresholds, plan_parts, rescale
from distinctnet.layout import VideoWriter
from eval.calibrate import ThresholdHistogram, calibrate, collect, main, parse_grid
from test_label_support import H, W, frame, label, one_thread, semantic_ckpt  # noqa: F401


def test_iou_curve_matches_direct_count():
    rng = np.random.default_rng(0)
    prob = (rng.integers(0, 100, (40, 50)) + 0.5) / 100  # bin centres: no pixel on a bin edge
    gt = rng.random((40, 50)) < prob  # more likely positive where the probability is high
    hist = ThresholdHistogram(["robot"])
    hist.add("robot", prob[:20], gt[:20])
    hist.add("robot", prob[20:], gt[20:])
    curve = hist.iou_curve("robot")
    for k in (0, 7, 30, 50, 63, 99):
        pred = prob >= k / 100
        tp, fp, fn = (pred & gt).sum(), (pred & ~gt).sum(), (~pred & gt).sum()
        assert curve[k] == pytest.approx(100 * tp / (tp + fp + fn))


def test_best_threshold_and_classes_without_ground_truth():
    hist = ThresholdHistogram(["gripper", "object"])
    # the gripper's pixels sit at p = 0.25, background at 0.05: any threshold in (0.05, 0.25] is perfect
    prob = np.full((10, 10), 0.05, np.float32)
    prob[:3] = 0.25
    gt = np.zeros((10, 10), bool)
    gt[:3] = True
    hist.add("gripper", prob, gt)
    hist.add("object", prob, np.zeros_like(gt))
    res = calibrate(hist, parse_grid("0.05"))
    assert res["gripper"]["iou_at_0.5"] == 0.0
    assert res["gripper"]["iou"] == 100.0
    assert res["gripper"]["threshold"] == 0.25  # of the perfect ones, the nearest to 0.5
    assert res["object"] == {"threshold": 0.5, "iou": None, "iou_at_0.5": None, "positives": 0}
    with pytest.raises(UserError, match="--step"):
        parse_grid("0.003")
    assert parse_grid("0.25") == [0.25, 0.5, 0.75]


def test_split_uses_per_channel_thresholds():
    plan = plan_parts("semantic", ("foreground", "robot", "gripper", "object", "distractor"))
    probs = np.zeros((5, 2, 3), np.float32)
    probs[1] = [[0.9, 0.6, 0.3], [0.1, 0.45, 0.0]]
    probs[2] = [[0.0, 0.3, 0.2], [0.0, 0.0, 0.0]]
    probs[3] = [[0.12, 0.0, 0.0], [0.0, 0.0, 0.08]]
    split = plan.split(probs, [0.5, 0.4, 0.25, 0.1, 0.5])
    assert split["robot"][0].tolist() == [[True, True, False], [False, True, False]]
    assert split["gripper"][0].tolist() == [[False, True, False], [False, False, False]]
    assert split["arm"][0].tolist() == [[True, False, False], [False, True, False]]
    assert split["object"][0].tolist() == [[True, False, False], [False, False, False]]
    np.testing.assert_array_equal(split["robot"][0], split["robot"][1] > 0.5)  # the rescaled map agrees
    uniform = plan.split(probs, 0.5)
    for part, (m, p) in plan.split(probs).items():  # the default is 0.5 for all
        np.testing.assert_array_equal(m, uniform[part][0])
        np.testing.assert_array_equal(p, uniform[part][1])


def test_rescale_is_monotone_and_puts_the_threshold_at_half():
    p = np.linspace(0, 1, 101, dtype=np.float32)
    for t in (0.1, 0.3, 0.5, 0.8):
        q = rescale(p, t)
        assert q[0] == 0 and q[-1] == pytest.approx(1) and np.all(np.diff(q) >= 0)
        assert rescale(np.float32([t]), t)[0] == pytest.approx(0.5)
        np.testing.assert_array_equal(q > 0.5, p > np.float32(t))


def test_threshold_precedence():
    classes = ("robot", "gripper")
    assert class_thresholds(classes) == {"robot": 0.5, "gripper": 0.5}
    assert class_thresholds(classes, calibrated={"gripper": 0.2}) == {"robot": 0.5, "gripper": 0.2}
    assert class_thresholds(classes, 0.3, {"gripper": 0.2}) == {"robot": 0.3, "gripper": 0.3}
    assert class_thresholds(classes, {"robot": 0.6}, {"gripper": 0.2}) == {"robot": 0.6, "gripper": 0.2}
    with pytest.raises(UserError, match="gripper"):
        class_thresholds(classes, calibrated={"gripper": 1.5})


class FakeLabeller:
    """Probabilities known in advance: the robot channel is the ground truth blurred to 0.3 at its rim."""
    classes = ("foreground", "robot")

    def __init__(self, probs):
        self.probs = probs

    def predict(self, frames):
        for f, p in zip(frames, self.probs):
            yield f, p


def test_collect_reads_the_tree_and_scores_annotated_classes(tmp_path):
    gts, probs = [], []
    for i in range(3):
        robot = np.zeros((H, W), bool)
        robot[4:12, 4 + i:14 + i] = True
        p = np.where(robot, 0.3, 0.02).astype(np.float32)
        p[6:10, 6 + i:12 + i] = 0.9  # the core is confident, the rim is not
        gts.append(robot)
        probs.append(np.stack([p, p]))
    with VideoWriter(tmp_path / "gt", "cam") as w:
        for i, robot in enumerate(gts):
            w.write(frame(i), {"robot": robot, "object": np.zeros_like(robot), "distractor": np.zeros_like(robot)})
    hist, frames = collect(tmp_path / "gt", FakeLabeller(probs), progress=False)
    assert frames == 3
    res = calibrate(hist, parse_grid("0.05"))
    assert res["robot"]["iou"] == 100.0 and 0.02 < res["robot"]["threshold"] <= 0.3
    assert res["robot"]["iou_at_0.5"] == pytest.approx(100 * 4 * 6 / (8 * 10))
    assert res["foreground"]["positives"] == res["robot"]["positives"] == 3 * 80


def test_calibrated_checkpoint_is_used_by_the_labeller(tmp_path, semantic_ckpt, capsys):
    from distinctnet.label.model import load_model
    from distinctnet.label.runner import Labeller
    from distinctnet.layout import read_meta
    from distinctnet.modeling import load_checkpoint
    from distinctnet.modeling.checkpoint import rewrite_meta

    with VideoWriter(tmp_path / "gt", "cam") as w:
        for i in range(4):
            robot = np.zeros((H, W), bool)
            robot[2:10, 3 + i:13 + i] = True
            w.write(frame(i), {"robot": robot})
    out = tmp_path / "cal.safetensors"
    assert main(["--data", str(tmp_path / "gt"), "--checkpoint", str(semantic_ckpt), "--write", str(out),
                 "--json", str(tmp_path / "t.json"), "--plot", str(tmp_path / "t.png"), "--quiet"]) == 0
    info = json.loads((tmp_path / "t.json").read_text())
    assert info["frames"] == 4 and set(info["thresholds"]) == {"foreground", "robot", "gripper", "object",
                                                               "distractor"}
    assert info["classes"]["gripper"]["positives"] == 0 and info["thresholds"]["gripper"] == 0.5
    assert (tmp_path / "t.png").stat().st_size > 1000
    a, b = load_checkpoint(semantic_ckpt), load_checkpoint(out)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(v, w), k  # weights copied unchanged
    assert b.meta["thresholds"] == info["thresholds"] and b.cfg == a.cfg
    assert info["labeller"]["second_size"] and b.meta["thresholds_from"]["labeller"] == info["labeller"]
    # the labeller it calibrates for is the one given: one pass at another size changes the probabilities
    assert main(["--data", str(tmp_path / "gt"), "--checkpoint", str(semantic_ckpt), "--json", str(tmp_path / "t1.json"),
                 "--input-size", "64x96", "--second-scale", "1", "--refine", "none", "--quiet"]) == 0
    one = json.loads((tmp_path / "t1.json").read_text())
    assert one["labeller"]["input_size"] == [64, 96] and "second_size" not in one["labeller"]
    assert "refine" not in one["labeller"] and info["labeller"]["refine"] == "both"
    assert one["classes"]["robot"]["iou_at_0.5"] != info["classes"]["robot"]["iou_at_0.5"]
    assert main(["--data", str(tmp_path / "gt"), "--checkpoint", str(semantic_ckpt), "--input-size", "64"]) == 1
    assert "--input-size" in capsys.readouterr().err

    assert main(["--data", str(tmp_path / "gt"), "--checkpoint", str(semantic_ckpt), "--json",
                 str(tmp_path / "t2.json"), "--classes", "gripper,object", "--quiet"]) == 0
    only = json.loads((tmp_path / "t2.json").read_text())
    assert only["thresholds"]["robot"] == only["thresholds"]["foreground"] == 0.5
    assert only["classes"]["robot"]["kept_at_half"] and only["classes"]["robot"]["iou"] == \
        info["classes"]["robot"]["iou_at_0.5"]
    assert main(["--data", str(tmp_path / "gt"), "--checkpoint", str(semantic_ckpt), "--classes", "arm"]) == 1
    assert "--classes: arm" in capsys.readouterr().err

    rewrite_meta(semantic_ckpt, out, {"thresholds": {"robot": 0.2, "object": 0.1}})
    lab = Labeller(load_model(out), "cpu")
    assert lab.thresholds == {"foreground": 0.5, "robot": 0.2, "gripper": 0.5, "object": 0.1, "distractor": 0.5}
    assert Labeller(load_model(out), "cpu", thresholds=0.4).thresholds["robot"] == 0.4
    rc, _ = label([str(tmp_path / "gt"), "--out", str(tmp_path / "pred"), "--checkpoint", str(out), "-q"], capsys)
    assert rc == 0
    assert read_meta(tmp_path / "pred")["videos"]["cam"]["thresholds"]["object"] == 0.1
    # the masks are the probabilities at those thresholds: a lower robot threshold gives at least as much robot
    rc, _ = label([str(tmp_path / "gt"), "--out", str(tmp_path / "p5"), "--checkpoint", str(out), "-q",
                   "--threshold", "0.5"], capsys)
    from distinctnet.layout import Recording

    lo, hi = Recording(tmp_path / "pred"), Recording(tmp_path / "p5")
    for i in range(4):
        assert (hi.read_mask("cam", "robot", i) <= lo.read_mask("cam", "robot", i)).all()

    rewrite_meta(semantic_ckpt, out, {"thresholds": {"robot": 2.0}})
    with pytest.raises(UserError, match="cal.safetensors.*thresholds"):
        load_model(out)
