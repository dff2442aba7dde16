"""eval/bench_label.py runs end to end and reports consistent figures (no timing asserted)."""
from __future__ import annotations

import json

from test_label_support import one_thread, semantic_ckpt  # noqa: F401


def test_bench_label_reports(tmp_path, semantic_ckpt, capsys):
    from eval.bench_label import main

    out = tmp_path / "b.json"
    assert main(["--checkpoint", str(semantic_ckpt), "--frames", "5", "--runs", "2", "--size", "48x64",
                 "--device", "cpu", "--batch", "2", "--export", "coco", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["frames"] == 5 and r["runs"] == 2 and r["video_size"] == [48, 64] and r["exports"] == "coco"
    assert 0 < r["pairs_per_s"] <= r["pairs_per_s_best"]
    assert abs(r["ms_per_pair"] - 1000 / r["pairs_per_s"]) < 0.05 * r["ms_per_pair"] + 0.01
    assert "pairs/s" in capsys.readouterr().out
