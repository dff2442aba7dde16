"""eval.where_missed: per-embodiment, per-phase IoU and the missed pixels in parts that never move, on a hand-made
pair of trees checked against a naive per-pixel count."""
import json

import numpy as np
import pytest

from distinctnet.layout import VideoWriter
from eval.where_missed import analyse, main, phase

H, W, N = 12, 32, 6


def _gt_mask(f):
    m = np.zeros((H, W), bool)
    m[8:12, 2:6] = True  # a base that never moves: 16 px
    m[2:6, 2 + 4 * f:6 + 4 * f] = True  # a link that moves right 4 px (its width) per frame: 16 px
    return m


def _pred_mask(f, miss_base):
    m = np.zeros((H, W), bool)
    if not miss_base:
        m[8:12, 2:6] = True
    m[2:6, 2 + 4 * f:6 + 4 * f] = True
    m[0, 0] = True  # one false positive per frame
    return m


def _trees(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for video, miss_base in (("jaco_s1_00000", True), ("xarm_s1_00000", False)):
        with VideoWriter(gt, video, static_from=4) as w:
            for f in range(N):
                w.write(None, {"robot": _gt_mask(min(f, 3))})
        with VideoWriter(pred, video) as w:
            for f in range(N):
                w.write(None, {"robot": _pred_mask(min(f, 3), miss_base)})
    return gt, pred


def _naive_iou(pairs):
    tp = sum((g & p).sum() for g, p in pairs)
    un = sum((g | p).sum() for g, p in pairs)
    return 100.0 * tp / un


def test_phase():
    assert [phase(f, 4, 2) for f in range(6)] == ["start", "start", "moving", "moving", "still", "still"]
    assert phase(10, None, 2) == "moving"


def test_figures_match_a_naive_count(tmp_path):
    gt, pred = _trees(tmp_path)
    res = analyse([(gt, pred)], "robot", start=2)
    assert set(res) == {"jaco", "xarm", "all"}
    for emb, miss_base in (("jaco", True), ("xarm", False)):
        frames = {f: (_gt_mask(min(f, 3)), _pred_mask(min(f, 3), miss_base)) for f in range(N)}
        r = res[emb]
        assert r["videos"] == 1
        assert r["iou"]["start"] == pytest.approx(_naive_iou([frames[0], frames[1]]), abs=0.01)
        assert r["iou"]["moving"] == pytest.approx(_naive_iou([frames[2], frames[3]]), abs=0.01)
        assert r["iou"]["still"] == pytest.approx(_naive_iou([frames[4], frames[5]]), abs=0.01)
        assert r["iou"]["all"] == pytest.approx(_naive_iou(list(frames.values())), abs=0.01)
        # the base (16 px) is the only part in the GT in every frame; the link moves until frame 3
        assert r["never_moving_share"] == pytest.approx(100 * 16 / 32, abs=0.01)
        assert r["never_moving_missed"] == (100.0 if miss_base else 0.0)
        assert r["missed"] == (50.0 if miss_base else 0.0)
    assert res["jaco"]["missed_share_never_moving"] == 100.0
    assert res["xarm"]["missed_share_never_moving"] is None  # nothing missed
    assert res["all"]["videos"] == 2 and res["all"]["never_moving_missed"] == 50.0


def test_cli_writes_json_and_rejects_unpaired_args(tmp_path, capsys):
    gt, pred = _trees(tmp_path)
    out = tmp_path / "w.json"
    assert main(["--data", str(gt), "--pred", str(pred), "--json", str(out)]) == 0
    assert "jaco" in capsys.readouterr().out
    assert json.loads(out.read_text())["embodiments"]["jaco"]["missed"] == 50.0
    assert main(["--data", str(gt), "--data", str(gt), "--pred", str(pred)]) == 2
    assert "pass them in pairs" in capsys.readouterr().err


def test_missing_prediction_is_a_one_line_error(tmp_path, capsys):
    gt, _ = _trees(tmp_path)
    other = tmp_path / "other"
    with VideoWriter(other, "panda_s1_00000") as w:
        w.write(None, {"robot": _gt_mask(0)})
    assert main(["--data", str(gt), "--pred", str(other)]) == 2
    err = capsys.readouterr().err
    assert "no video jaco_s1_00000" in err and str(other) in err


def test_confusion_matrix_against_a_naive_count(tmp_path):
    from eval.where_missed import CONF_NAMES, confusion_matrix

    rng = np.random.default_rng(0)
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    parts = ("arm", "gripper", "object", "distractor")
    naive = np.zeros((5, 5), np.int64)
    with VideoWriter(gt, "jaco_s1_00000") as wg, VideoWriter(pred, "jaco_s1_00000") as wp:
        for f in range(3):
            lg = rng.integers(0, 5, (H, W))  # 0..3 = parts, 4 = background; GT parts disjoint
            g = {p: lg == i for i, p in enumerate(parts)}
            g["robot"] = g["arm"] | g["gripper"]
            # prediction: random, overlapping masks; the pixel's label is the first of gripper, object, arm,
            # distractor that covers it
            q = {p: rng.random((H, W)) < 0.3 for p in ("robot", "gripper", "object", "distractor")}
            wg.write(None, g)
            wp.write(None, {"robot": q["robot"] | q["gripper"], "arm": q["robot"] & ~q["gripper"],
                            "gripper": q["gripper"], "object": q["object"], "distractor": q["distractor"]})
            arm_p = q["robot"] & ~q["gripper"]
            for y in range(H):
                for x in range(W):
                    gi = CONF_NAMES.index(parts[lg[y, x]]) if lg[y, x] < 4 else 4
                    pi = next((CONF_NAMES.index(n) for n, m in (("gripper", q["gripper"]), ("object", q["object"]),
                               ("arm", arm_p), ("distractor", q["distractor"])) if m[y, x]), 4)
                    naive[gi, pi] += 1
    res = confusion_matrix([(gt, pred)])
    assert set(res) == {"jaco", "all"}
    assert np.array_equal(np.array(res["all"]["pixels"]), naive)
    rows = np.array(res["all"]["gt_to_pred"])
    assert np.allclose(rows.sum(1), 100, atol=0.1)
    assert np.allclose(np.array(res["all"]["pred_from_gt"]).sum(0), 100, atol=0.1)


def _naive_bands(g, p, b1, b2):
    """Brute-force Euclidean distances: outside pixels to the nearest ground-truth pixel, inside ones to the nearest
    pixel outside it."""
    yy, xx = np.mgrid[:g.shape[0], :g.shape[1]]

    def dist_to(mask):
        ys, xs = np.nonzero(mask)
        return np.sqrt((yy[..., None] - ys) ** 2 + (xx[..., None] - xs) ** 2).min(-1)

    out, ins = dist_to(g), dist_to(~g)
    fp, fn = p & ~g, g & ~p
    return {"tp": (g & p).sum(), "fp_edge": (fp & (out <= b1)).sum(), "fp_near": (fp & (out > b1) & (out <= b2)).sum(),
            "fp_far": (fp & (out > b2)).sum(), "fn_edge": (fn & (ins <= b1)).sum(), "fn_deep": (fn & (ins > b1)).sum()}


def test_errors_by_distance_match_a_brute_force_count(tmp_path, capsys):
    from eval.where_missed import ERROR_KINDS, error_bands, error_distance

    h, w = 40, 64
    g = np.zeros((h, w), bool)
    g[10:30, 10:30] = True
    p = g.copy()
    p[8:10, 10:30] = True          # 2 px too wide on top: edge false positives
    p[12:16, 36:40] = True         # a blob 7-10 px beside it: near
    p[2:6, 52:60] = True           # 23+ px away: far
    p[29, 10:30] = False           # the bottom row missed: edge miss
    p[18:22, 18:22] = False        # a hole in the middle: deep miss
    bands = (3.0, 15.0)
    got = error_bands(g, p, bands)
    want = _naive_bands(g, p, *bands)
    assert got == {k: int(v) for k, v in want.items()}
    assert all(got[k] > 0 for k in ERROR_KINDS)
    # through the trees: foreground of arm + gripper, two embodiments pooled
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for video in ("jaco_s1_00000", "xarm_s1_00000"):
        with VideoWriter(gt, video) as wr:
            wr.write(None, {"arm": g, "gripper": np.zeros_like(g)})
        with VideoWriter(pred, video) as wr:
            wr.write(None, {"arm": p & (np.arange(w) < 35), "gripper": p & (np.arange(w) >= 35)})
    res = error_distance([(gt, pred)], "foreground", bands)
    union = got["tp"] + sum(got[k] for k in ERROR_KINDS)
    assert res["all"]["videos"] == 2 and res["all"]["iou"] == round(100 * got["tp"] / union, 2)
    for k in ERROR_KINDS:
        assert res["jaco"]["share"][k] == round(100 * got[k] / union, 2)
        assert res["all"]["iou_without"][k] == round(100 * got["tp"] / (union - got[k]), 2)
    assert main(["--data", str(gt), "--pred", str(pred), "--distance", "--json", str(tmp_path / "d.json")]) == 0
    assert "fp_near" in capsys.readouterr().out
    assert json.loads((tmp_path / "d.json").read_text())["distance"]["embodiments"]["all"]["iou"] == res["all"]["iou"]
    assert main(["--data", str(gt), "--pred", str(pred), "--distance", "15,3"]) == 2
    assert "--distance 15,3" in capsys.readouterr().err
