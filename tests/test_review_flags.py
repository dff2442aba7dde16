"""eval.review_flags: per-part margin vs IoU on a tiny hand-made tree with known values."""
import numpy as np
import cv2
import pytest

from distinctnet.layout import PARTS
from eval.review_flags import assess, calibrate, frame_rows, main, summarise


def _write(root, video, pid, frame, mask):
    p = root / "mask" / video / pid
    p.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(p / f"{frame:05d}.png"), mask.astype(np.uint8) * 255)


def _tree(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    for root in (gt, pred):
        (root / "image").mkdir(parents=True)  # a labelled-recording tree (no meta.json needed)
    full = np.zeros((8, 8), bool)
    full[:4] = True  # 32 px
    half = np.zeros((8, 8), bool)
    half[:2] = True  # 16 px inside full: IoU 0.5
    for f, pm in enumerate([full, half]):  # frame 0: perfect robot, frame 1: half of it
        for pid in PARTS:
            _write(gt, "v", pid, f, full if PARTS[pid] == "robot" else np.zeros((8, 8), bool))
            _write(pred, "v", pid, f, pm if PARTS[pid] == "robot" else np.zeros((8, 8), bool))
    (pred / "quality").mkdir(parents=True)
    cols = [f"{n}_{k}" for n in PARTS.values() for k in ("area", "margin")]
    lines = ["frame,review,reason," + ",".join(cols)]
    for f, margin in [(0, 0.9), (1, 0.3)]:
        vals = {c: "" for c in cols}
        vals["robot_area"], vals["robot_margin"] = "0.5", str(margin)
        lines.append(f"{f},0,," + ",".join(vals[c] for c in cols))
    (pred / "quality" / "v.csv").write_text("\n".join(lines) + "\n")
    return gt, pred


def test_margin_and_iou_per_frame(tmp_path):
    gt, pred = _tree(tmp_path)
    rows = frame_rows(gt, pred)
    assert rows == [("robot", 0.9, 100.0, "v", 0), ("robot", 0.3, 50.0, "v", 1)]  # empty predictions are not rows
    res = summarise(rows, [0.5, 0.95])
    assert list(res) == ["robot"] and res["robot"]["frames"] == 2
    assert res["robot"]["corr_margin_iou"] == pytest.approx(1.0)
    t05, t095 = res["robot"]["thresholds"]
    assert t05 == {"threshold": 0.5, "flagged_pct": 50.0, "iou_flagged": 50.0, "iou_unflagged": 100.0}
    assert t095["flagged_pct"] == 100.0 and t095["iou_unflagged"] is None


def test_cli_errors_are_one_line(tmp_path, capsys):
    gt, pred = _tree(tmp_path)
    assert main(["--data", str(gt), "--pred", str(tmp_path / "none")]) == 1
    assert "no quality/*.csv" in capsys.readouterr().err
    (gt / "mask" / "v" / "002" / "00001.png").unlink()
    assert main(["--data", str(gt), "--pred", str(pred)]) == 1
    err = capsys.readouterr().err.strip()
    assert "00001.png" in err and "missing" in err and "\n" not in err
    assert main(["--data", str(gt), "--pred", str(pred), "--thresholds", "a,b"]) == 1


def test_calibrate_picks_the_margin_that_separates_bad_frames():
    # robot: bad frames (IoU < 50) have margins 0.2-0.4, good ones 0.5-0.9 -> the best margin lies in (0.4, 0.5]
    rows = [("robot", m, iou, "v", i) for i, (m, iou) in enumerate(
        [(0.2, 10.0), (0.3, 30.0), (0.4, 45.0), (0.5, 60.0), (0.7, 80.0), (0.9, 95.0)])]
    # object: all bad -> no margin separates anything, left out (the labeller keeps its default)
    rows += [("object", 0.5, 10.0, "v", i) for i in range(3)]
    res = calibrate(rows, bad_iou=50.0, grid=[0.1, 0.3, 0.45, 0.5, 0.8])
    assert list(res) == ["robot"]
    assert calibrate(rows, bad_iou=50.0, grid=[0.1, 0.45], parts=["object"]) == {}  # only the parts asked for
    r = res["robot"]
    assert r["margin"] == 0.45  # ties with 0.5 (both flag exactly the 3 bad frames): the smaller margin
    assert r["recall"] == 1.0 and r["precision"] == 1.0 and r["youden"] == 1.0 and r["flagged_pct"] == 50.0
    # the naive count for another margin: at 0.8, 5 of 6 flagged, 3 bad among them
    a = assess(rows, {"robot": 0.8, "object": 0.6}, bad_iou=50.0)
    assert a["robot"]["flagged_pct"] == pytest.approx(500 / 6) and a["robot"]["precision"] == pytest.approx(0.6)
    assert a["robot"]["youden"] == pytest.approx(1.0 - 2 / 3)
    assert a["object"]["flagged_pct"] == 100.0 and a["object"]["youden"] is None  # no good frame
    # per frame: frames 0-2 carry a bad object and frames 0-2 a bad robot; flagged: robot < 0.8 on 0-4, object 0-2
    f = a["frame"]
    assert f["frames"] == 6 and f["bad_pct"] == 50.0 and f["flagged_pct"] == pytest.approx(500 / 6)
    assert f["recall"] == 1.0


def test_cli_calibrate_writes_margins_the_labeller_reads(tmp_path, capsys):
    from distinctnet.label.runner import Labeller
    from distinctnet.modeling import DistinctNet, ModelConfig, load_checkpoint, save_checkpoint

    gt, pred = _tree(tmp_path)
    ckpt = tmp_path / "m.safetensors"
    save_checkpoint(DistinctNet(ModelConfig(encoder="resnet18", input_size=(64, 64), head="semantic")), ckpt)
    out = tmp_path / "cal.safetensors"
    assert main(["--data", str(gt), "--pred", str(pred), "--calibrate", "--bad-iou", "60", "--checkpoint", str(ckpt),
                 "--write", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    margins = Labeller(load_checkpoint(out), "cpu").review_margins
    # frame 1 (IoU 50, margin 0.3) is bad, frame 0 (100, 0.9) good: the smallest grid margin above 0.3 flags it alone
    assert margins == {"robot": 0.35}
    assert main(["--data", str(gt), "--pred", str(pred), "--margins", str(out)]) == 0
    assert "robot" in capsys.readouterr().out
    assert main(["--data", str(gt), "--pred", str(pred), "--margins", str(ckpt)]) == 1
    assert "no review margins" in capsys.readouterr().err
    assert main(["--data", str(gt), "--pred", str(pred), "--write", str(out)]) == 1  # --write needs --calibrate
    assert main(["--data", str(gt), "--data", str(gt), "--pred", str(pred)]) == 1
    assert "in pairs" in capsys.readouterr().err
