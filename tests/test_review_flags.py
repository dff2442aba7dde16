"""eval.review_flags: per-part margin vs IoU on a tiny hand-made tree with known values."""
import numpy as np
import cv2
import pytest

from distinctnet.layout import PARTS
from eval.review_flags import frame_rows, main, summarise


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
    assert rows == [("robot", 0.9, 100.0), ("robot", 0.3, 50.0)]  # empty predictions are not rows
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
