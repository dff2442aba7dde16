"""eval.gpu_check's device-independent parts, run on the CPU (the GPU sections run on a lent GPU only)."""
from __future__ import annotations

import pytest

from eval import gpu_check
from eval.bench_label import scene


def test_labelling_does_not_depend_on_the_batch_size():
    """The agreement check compares two labelling runs; on one device and in fp32, batches of 2 and 5 must
    give the same masks (frame 0 pairs with frame 1, each later frame with the one before, across chunks)."""
    frames = list(scene(7, 96, 160))
    per = gpu_check.agreement(frames, ("cpu", 2), ("cpu", 5))
    assert set(per) == {"foreground", "robot", "gripper", "object", "distractor"}
    for c, r in per.items():
        assert r["max_abs_prob_diff"] < 1e-4, c
        if r["mask_px"]:
            assert r["mask_iou"] >= 0.999, c


def test_unknown_section_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        gpu_check.main(["--out", "x", "--only", "speed,nosuch"])
    assert e.value.code == 2
    assert "nosuch" in capsys.readouterr().err


def test_labeller_stage_timings_run_on_the_cpu():
    r = gpu_check.labeller_stages("cpu", batch=2, size=(48, 64), repeats=1)
    stages = r["ms_per_frame"]
    assert {"resize (CPU)", "upload", "network + probabilities at frame size", "copy back, float32",
            "masks + quality row", "write image + masks (one thread)"} <= set(stages)
    assert all(v >= 0 for v in stages.values())
