"""eval.score / motion_stop / report / cli on tiny labelled-recording trees written with VideoWriter."""
import json

import numpy as np
import pytest

from distinctnet.errors import UserError
from distinctnet.layout import VideoWriter
from eval.jf import boundary_f
from eval.motion_stop import curve, motion_stop, video_ratios
from eval.score import SCHEMA_VERSION, score

SHAPE = (48, 64)


def box(y0, y1, x0, x1, shape=SHAPE):
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def scene(dx=0):
    """Robot 10x20 at rows 10-20, cols 8-28 with a 4-px gripper at its right end; a 10x10 object."""
    return {"robot": box(10, 20, 8 + dx, 28 + dx), "gripper": box(10, 20, 24 + dx, 28 + dx),
            "object": box(30, 40, 40 + dx, 50 + dx)}


def rgb(i):
    g = np.zeros(SHAPE + (3,), np.uint8)
    g[..., 0] = np.linspace(0, 200, SHAPE[1], dtype=np.uint8)[None]
    g[..., 1] = 20 * i
    return g


def write_tree(root, pred_shift=0, shrink_after_stop=True, images=True):
    """Video 'a': all parts annotated, 3 static-geometry frames. Video 'm': robot-only, 10 frames, stop at 4;
    in the prediction the robot box loses one row per static frame. Video 'n': robot-only, stop at 2, the
    prediction is half the box throughout."""
    with VideoWriter(root, "a", write_images=images) as w:
        for i in range(3):
            w.write(rgb(i), scene(pred_shift))
    gt_robot = box(5, 15, 5, 15)
    with VideoWriter(root, "m", annotated_parts=["robot"], static_from=4, write_images=images) as w:
        for i in range(10):
            k = max(0, i - 3) if shrink_after_stop else 0
            w.write(rgb(i), {"robot": box(5, 15 - k, 5, 15)})
    with VideoWriter(root, "n", annotated_parts=["robot"], static_from=2, write_images=images) as w:
        for i in range(6):
            w.write(rgb(i), {"robot": box(5, 10, 5, 15) if shrink_after_stop else gt_robot})
    return root


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    base = tmp_path_factory.mktemp("trees")
    gt = write_tree(base / "gt", shrink_after_stop=False)
    perfect = write_tree(base / "perfect", shrink_after_stop=False, images=False)
    shifted = write_tree(base / "shifted", pred_shift=4, images=False)
    return gt, perfect, shifted


def test_perfect_prediction_scores_100(trees):
    gt, perfect, _ = trees
    r = score(gt, perfect, progress=False)
    assert r["schema_version"] == SCHEMA_VERSION
    assert r["summary"]["videos"] == 3 and r["summary"]["frames"] == 19
    for c in ("background", "foreground", "robot", "arm", "gripper", "object"):
        assert r["iou"][c]["iou"] == 100.0, c
    assert r["iou"]["distractor"]["iou"] is None            # never in GT, never predicted
    assert r["iou"]["robot"]["frames"] == 19 and r["iou"]["object"]["frames"] == 3
    for p in ("robot", "arm", "gripper", "object", "foreground"):
        assert r["jf"][p] == {"J": 100.0, "F": 100.0, "JF": 100.0, "videos": 3 if p == "robot" else 1}
    assert r["jf"]["distractor"]["JF"] is None
    assert r["worst_frames"] and all(w["score"] == 100.0 for w in r["worst_frames"])
    json.dumps(r, allow_nan=False)  # JSON-ready, no NaN


def test_shifted_prediction_known_values(trees):
    gt, _, shifted = trees
    r = score(gt, shifted, progress=False, kept_after=3, worst_k=4)
    iou = {c: v["iou"] for c, v in r["iou"].items()}
    # video 'a': every box shifted right by 4 px. Robot 20 wide: 16 / 24. Videos m, n add their own counts.
    a = next(v for v in r["videos"] if v["video"] == "a")
    assert a["scored"] == ["background", "foreground", "robot", "arm", "gripper", "object", "distractor"]
    assert a["iou"]["robot"] == pytest.approx(100 * 16 / 24)
    assert a["iou"]["arm"] == pytest.approx(100 * 12 / 20)      # arm 16 wide
    assert a["iou"]["gripper"] == 0.0                           # 4 wide, moved 4
    assert a["iou"]["object"] == pytest.approx(100 * 6 / 14)
    assert a["iou"]["distractor"] is None
    assert a["iou"]["foreground"] == pytest.approx(100 * 220 / 380)
    assert a["iou"]["background"] == pytest.approx(100 * (48 * 64 - 380) / (48 * 64 - 220))
    # dataset-level values for classes only 'a' annotates are the same; robot adds m and n
    assert iou["object"] == pytest.approx(100 * 6 / 14) and iou["arm"] == pytest.approx(60.0)
    tp = 3 * 160 + sum(100 - 10 * max(0, i - 3) for i in range(10)) + 6 * 50
    fn = 3 * 40 + sum(10 * max(0, i - 3) for i in range(10)) + 6 * 50
    assert r["iou"]["robot"]["tp"] == tp and r["iou"]["robot"]["fn"] == fn and r["iou"]["robot"]["fp"] == 3 * 40
    assert iou["robot"] == pytest.approx(100 * tp / (tp + fn + 3 * 40))
    # J&F of 'a' robot: J per frame 66.7; F the boundary F of the two boxes
    g, p = scene(0), scene(4)
    assert a["jf"]["robot"]["J"] == pytest.approx(100 * 16 / 24)
    assert a["jf"]["robot"]["F"] == pytest.approx(boundary_f(p["robot"], g["robot"]))
    assert 0 < a["jf"]["robot"]["F"] < 100
    # worst frames: ascending, 4 of them, all from the shifted video 'a'
    scores = [w["score"] for w in r["worst_frames"]]
    assert len(scores) == 4 and scores == sorted(scores)
    assert r["worst_frames"][0]["video"] == "m" and r["worst_frames"][0]["score"] == pytest.approx(40.0)
    # motion stop: 'm' keeps 100 - 10 t % (a row lost per static frame); 'n' keeps 100 % (base IoU 50);
    # t = 3 -> mean 85, std 15
    rob = r["motion_stop"]["parts"]["robot"]
    assert rob["videos"] == ["m", "n"]
    assert rob["kept"] == pytest.approx(85.0) and rob["kept_std"] == pytest.approx(15.0) and rob["kept_n"] == 2
    t6 = next(c for c in rob["curve"] if c["t"] == 6)
    assert t6["n"] == 1 and t6["mean"] == pytest.approx(40.0)   # only 'm' is that long
    assert r["motion_stop"]["parts"]["foreground"]["videos"] == []   # m, n do not annotate it


def test_workers_give_the_same_result(trees):
    gt, _, shifted = trees
    one = score(gt, shifted, progress=False, worst_k=5)
    two = score(gt, shifted, progress=False, worst_k=5, workers=2)
    assert json.dumps(one) == json.dumps(two)


def test_motion_stop_functions():
    assert video_ratios([50, 40, 20, 10], 2) == [100.0, 50.0, 25.0]
    assert video_ratios([50, 40, None, 10], 2) == [100.0, None, 25.0]
    assert video_ratios([50, 0.0, 20], 2) is None          # nothing to keep
    assert video_ratios([50, 40], None) is None and video_ratios([50, 40], 0) is None
    assert video_ratios([50, 40], 2) is None               # stop at/after the end
    c = curve([[100.0, 50.0], [100.0, 100.0, 80.0]])
    assert [row["n"] for row in c] == [2, 2, 1]
    assert c[1]["mean"] == 75.0 and c[1]["std"] == 25.0 and c[1]["q25"] == 62.5 and c[1]["median"] == 75.0
    s = motion_stop({"x": {"robot": [50, 40, 20]}, "y": {"object": [1, 2]}}, {"x": 1, "y": 1},
                    parts=["robot"], kept_after=1)
    assert s["parts"]["robot"]["kept"] == pytest.approx(80.0) and s["parts"]["robot"]["videos"] == ["x"]


def test_bad_input_is_a_user_error(trees, tmp_path):
    gt, perfect, _ = trees
    with VideoWriter(tmp_path / "few", "a", write_images=False) as w:
        w.write(None, scene())
    with pytest.raises(UserError, match="no prediction for video 'm'"):
        score(gt, tmp_path / "few", progress=False, videos=["m", "a"])
    with pytest.raises(UserError, match="prediction has 1 frames, ground truth has 3"):
        score(gt, tmp_path / "few", progress=False, videos=["a"])
    small = tmp_path / "small"
    with VideoWriter(small, "a", write_images=False) as w:
        for _ in range(3):
            w.write(None, {"robot": np.zeros((24, 32), bool)})
    with pytest.raises(UserError, match=r"mask/a/000/00000.png: mask is 32x24, ground truth is 64x48"):
        score(gt, small, progress=False, videos=["a"])
    with pytest.raises(UserError, match="unknown class 'hand'"):
        score(gt, perfect, ["robot", "hand"], progress=False)
    with pytest.raises(UserError, match="not a folder"):
        score(tmp_path / "nope", perfect, progress=False)


def test_report_files(trees, tmp_path):
    import cv2

    from eval.report import write_report

    gt, _, shifted = trees
    r = score(gt, shifted, progress=False, kept_after=3, worst_k=5)
    md = write_report(r, tmp_path / "rep", overlays=3)
    text = md.read_text()
    assert "| robot |" in text and "## J&F per part" in text and "![motion stop](motion_stop.png)" in text
    assert "| a | 3 |" in text
    for name in ("scores.png", "motion_stop.png"):
        img = cv2.imread(str(tmp_path / "rep" / name))
        assert img is not None and img.shape[0] > 100
    worst = sorted((tmp_path / "rep" / "worst").glob("*.jpg"))
    assert len(worst) == 3
    first = r["worst_frames"][0]
    assert worst[0].name == f"01_{first['video']}_{first['frame']:05d}.jpg"
    assert f"![](worst/{worst[0].name})" in text
    # worst: m frame 9 (robot IoU 40), then the three frames of 'a' (mean IoU 45.5): one panel per class
    assert [(w["video"], w["frame"]) for w in r["worst_frames"][:4]] == [("m", 9), ("a", 0), ("a", 1), ("a", 2)]
    assert cv2.imread(str(worst[0])).shape == (22 + SHAPE[0], SHAPE[1], 3)
    sheet = cv2.imread(str(worst[1]))[..., ::-1]
    assert sheet.shape == (2 * (22 + SHAPE[0]), 3 * SHAPE[1], 3)   # 6 panels (background left out), 3 a row
    # the overlay shows errors: red (false positive) and blue (missed) pixels are there for the shifted robot
    red = (sheet[..., 0] > 150) & (sheet[..., 1] < 90) & (sheet[..., 2] < 90)
    blue = (sheet[..., 2] > 150) & (sheet[..., 0] < 90)
    assert red.sum() > 20 and blue.sum() > 20


def test_cli_scores_a_prediction(trees, tmp_path, capsys):
    from distinctnet.cli import main

    gt, _, shifted = trees
    out_json = tmp_path / "s.json"
    rc = main(["eval", "--data", str(gt), "--pred", str(shifted), "--json", str(out_json),
               "--report", str(tmp_path / "rep"), "--quiet", "--worst", "3", "--overlays", "1"])
    assert rc == 0
    r = json.loads(out_json.read_text())
    assert r["schema_version"] == SCHEMA_VERSION and r["run"] is None and len(r["worst_frames"]) == 3
    assert r["iou"]["object"]["iou"] == pytest.approx(100 * 6 / 14)
    assert (tmp_path / "rep" / "report.md").exists()
    assert "J&F" in capsys.readouterr().out
    assert main(["eval", "--data", str(gt)]) == 1
    assert "give --pred" in capsys.readouterr().err


def test_cli_runs_the_labeller(trees, tmp_path, monkeypatch):
    """Without --pred the labeller writes a tree that is then scored; the run section is filled in."""
    import distinctnet.label.runner as runner
    import eval.cli as ecli
    from distinctnet.cli import main

    gt, _, _ = trees
    calls = []

    def fake_label(data, out, checkpoint=None, device=None, tta="none", input_size=None, threshold=None, clean=0.0,
                   reference=None, gap=1, zoom=0.0, second_scale=1.0, refine=None, exclusive=None, small_parts=None,
                   unmoved=None):
        calls.append((data, out, checkpoint, device, tta, input_size, threshold, clean, reference, gap, zoom,
                      second_scale, refine, exclusive, small_parts, unmoved))
        write_tree(out, shrink_after_stop=False, images=False)
        return {"thresholds": {"robot": threshold}}

    monkeypatch.setattr(runner, "label_recordings", fake_label, raising=False)
    monkeypatch.setattr(ecli, "parameter_count", lambda c: 1234)
    ckpt = tmp_path / "m.safetensors"
    ckpt.write_bytes(b"x")
    out_json = tmp_path / "s.json"
    assert main(["eval", "--data", str(gt), "--checkpoint", str(ckpt), "--json", str(out_json),
                 "--device", "cpu", "--quiet", "--out", str(tmp_path / "pred"), "--tta", "flip",
                 "--input-size", "64x96", "--threshold", "0.3", "--clean", "0.2",
                 "--reference", "motion", "--gap", "2", "--zoom", "2.5", "--second-scale", "1.5",
                 "--refine", "edges", "--exclusive", "distractor", "--small-parts", "larger",
                 "--unmoved", "drop"]) == 0
    r = json.loads(out_json.read_text())
    assert calls and calls[0][2:] == (str(ckpt), "cpu", "flip", (64, 96), 0.3, 0.2, "motion", 2, 2.5, 1.5, "edges",
                                       "distractor", "larger", "drop")
    assert r["run"]["refine"] == "edges" and r["run"]["exclusive"] == "distractor" and r["run"]["small_parts"] == "larger"
    assert r["run"]["unmoved"] == "drop"
    assert r["run"]["tta"] == "flip" and r["run"]["input_size"] == [64, 96] and r["run"]["clean"] == 0.2
    assert r["run"]["reference"] == "motion" and r["run"]["gap"] == 2 and r["run"]["zoom"] == 2.5
    assert r["run"]["thresholds"] == {"robot": 0.3}
    assert r["iou"]["robot"]["iou"] == 100.0
    assert r["run"]["pairs"] == 19 and r["run"]["parameters"] == 1234 and r["run"]["pairs_per_s"] > 0
    assert (tmp_path / "pred" / "meta.json").exists()   # --out keeps the predictions


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    torch = pytest.importorskip("torch")
    modeling = pytest.importorskip("distinctnet.modeling")
    cfg = modeling.ModelConfig.preset("fast").replace(head="semantic", input_size=(48, 64))
    torch.manual_seed(0)
    model = modeling.DistinctNet(cfg)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.safetensors"
    modeling.save_checkpoint(model, path, meta={"note": "untrained test model"})
    return path, sum(p.numel() for p in model.parameters())


def test_scores_what_distinctnet_label_writes(trees, tmp_path, tiny_checkpoint):
    """The labeller's real output tree (untrained model) is a valid prediction for score()."""
    from distinctnet.cli import main

    gt, _, _ = trees
    ckpt, _ = tiny_checkpoint
    assert main(["label", str(gt), "--out", str(tmp_path / "lab"), "--checkpoint", str(ckpt),
                 "--device", "cpu", "-q"]) == 0
    r = score(gt, tmp_path / "lab", progress=False)
    assert (r["summary"]["videos"], r["summary"]["frames"], r["summary"]["pred_extra_videos"]) == (3, 19, [])
    assert all(v is None or 0 <= v <= 100 for v in (c["iou"] for c in r["iou"].values()))


def test_cli_without_pred_runs_the_real_labeller(trees, tmp_path, tiny_checkpoint, capsys):
    """With distinctnet.label.runner.label_recordings present the model runs; until then: a clear error."""
    import distinctnet.label.runner as runner
    from distinctnet.cli import main

    gt, _, _ = trees
    ckpt, n_params = tiny_checkpoint
    out_json = tmp_path / "s.json"
    rc = main(["eval", "--data", str(gt), "--checkpoint", str(ckpt), "--device", "cpu", "--json", str(out_json),
               "--quiet"])
    if not hasattr(runner, "label_recordings"):
        assert rc == 1 and "labeller not available" in capsys.readouterr().err
        return
    assert rc == 0
    r = json.loads(out_json.read_text())
    assert r["run"]["pairs"] == 19 and r["run"]["parameters"] == n_params and r["run"]["pairs_per_s"] > 0
    assert r["run"]["pred_root"] is None   # temporary predictions are removed


def test_meta_without_annotated_parts_scores_all_parts(tmp_path):
    from distinctnet.layout import rebuild_meta

    for root in ("gt", "pred"):
        with VideoWriter(tmp_path / root, "a", write_images=False) as w:
            w.write(None, scene())
    frag = tmp_path / "gt" / "meta.d" / "a.json"
    meta = json.loads(frag.read_text())
    del meta["annotated_parts"]
    frag.write_text(json.dumps(meta))
    (tmp_path / "gt" / "meta.json").unlink()
    rebuild_meta(tmp_path / "gt")
    r = score(tmp_path / "gt", tmp_path / "pred", progress=False)
    assert r["videos"][0]["annotated_parts"] == ["arm", "gripper", "robot", "object", "distractor"]
    assert r["iou"]["foreground"]["iou"] == 100.0


def test_eval_reports_how_the_review_flags_find_bad_frames(trees, tmp_path, tiny_checkpoint, capsys):
    """eval's review section against a naive count over the labeller's quality files and the GT masks."""
    import csv

    import cv2

    from distinctnet.cli import main
    from distinctnet.layout import PARTS

    gt, _, _ = trees
    ckpt, _ = tiny_checkpoint
    out_json, pred = tmp_path / "s.json", tmp_path / "pred"
    assert main(["eval", "--data", str(gt), "--checkpoint", str(ckpt), "--device", "cpu", "--json", str(out_json),
                 "--out", str(pred), "--quiet", "--report", str(tmp_path / "rep")]) == 0
    rv = json.loads(out_json.read_text())["review"]
    assert rv["margins_from"] == "prediction meta" and rv["bad_iou"] == 50  # the labeller records the margins used
    assert {r["margin"] for k, r in rv["parts"].items() if k != "frame"} == {0.6}  # no calibrated ones: default
    frames = {}  # (video, frame) -> (flagged, bad)
    for q in sorted((pred / "quality").glob("*.csv")):
        for row in csv.DictReader(open(q)):
            for pid, name in PARTS.items():
                if row.get(f"{name}_margin", "") == "":
                    continue
                p = cv2.imread(str(pred / "mask" / q.stem / pid / f"{int(row['frame']):05d}.png"), 0) > 0
                g = cv2.imread(str(gt / "mask" / q.stem / pid / f"{int(row['frame']):05d}.png"), 0) > 0
                union = (p | g).sum()
                iou = 100.0 * (p & g).sum() / union if union else 100.0
                k = (q.stem, int(row["frame"]))
                f, b = frames.get(k, (False, False))
                frames[k] = (f or float(row[f"{name}_margin"]) < 0.6, b or iou < 50)
    fr = rv["parts"]["frame"]
    assert fr["frames"] == len(frames)
    assert fr["flagged_pct"] == pytest.approx(100 * np.mean([f for f, _ in frames.values()]))
    assert fr["bad_pct"] == pytest.approx(100 * np.mean([b for _, b in frames.values()]))
    assert "review flags:" in capsys.readouterr().out
    assert "## Review flags" in (tmp_path / "rep" / "report.md").read_text()
    # --videos: the review section counts the scored videos' frames only
    first = sorted({v for v, _ in frames})[0]
    assert main(["eval", "--data", str(gt), "--pred", str(pred), "--videos", first, "--json", str(out_json),
                 "--quiet"]) == 0
    fr = json.loads(out_json.read_text())["review"]["parts"]["frame"]
    assert fr["frames"] == sum(v == first for v, _ in frames)
