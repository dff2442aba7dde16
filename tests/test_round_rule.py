"""The default-model rounds' rule (eval/recipes/round_rule.py) on made-up eval reports."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval" / "recipes"))
from round_rule import judge  # noqa: E402


def report(fg, robot, grip, obj, kept=99.0, speed=3.8):
    iou = {"foreground": fg, "robot": robot, "gripper": grip, "object": obj}
    return {"iou": {k: {"iou": v} for k, v in iou.items()}, "motion_stop": {"parts": {"robot": {"kept": kept}}},
            "run": {"pairs_per_s": speed}}


def test_judge_each_clause():
    base = report(70, 70, 40, 30)
    d, mean4, kept, speed, ok = judge(base, report(71, 72, 39.5, 30))
    assert ok and d["robot"] == 2 and abs(mean4 - (1 + 2 - 0.5) / 4) < 1e-9
    assert not judge(base, report(71, 70, 41, 31))[-1]            # (a) robot must rise
    assert not judge(base, report(70.5, 70.5, 39, 30))[-1]        # (b) mean of four must rise: +0.5+0.5-1 = 0
    assert not judge(base, report(73, 73, 38.9, 32))[-1]          # (c) gripper falls 1.1
    assert judge(base, report(73, 73, 39.0, 32))[-1]              # (c) a fall of exactly 1.0 is allowed
    assert not judge(base, report(71, 72, 40, 30, kept=94.9))[-1]  # (d)
    assert not judge(base, report(71, 72, 40, 30, speed=2.9))[-1]  # (e)


def test_cli_reads_the_reports_and_exits_with_the_verdict(tmp_path):
    for k, cand in ((1, report(71, 72, 40, 30)), (2, report(69, 72, 40, 30))):
        (tmp_path / f"ship-heldout{k}_ext.json").write_text(json.dumps(report(70, 70, 40, 30)))
        (tmp_path / f"cand-heldout{k}_ext.json").write_text(json.dumps(cand))
    run = lambda *sets: subprocess.run([sys.executable, str(REPO / "eval/recipes/round_rule.py"), str(tmp_path),
                                        "ship", "cand", *sets], capture_output=True, text=True)
    one = run("1")
    assert one.returncode == 0 and "rule (sets 1): passed" in one.stdout
    both = run("1", "2")
    assert both.returncode == 1 and "FAIL" in both.stdout and "failed" in both.stdout


def test_relative_speed_compares_with_the_shipped_model(tmp_path):
    slow_day = report(70, 70, 40, 30, speed=2.7)
    assert not judge(slow_day, report(71, 72, 40, 30, speed=2.6))[-1]                   # absolute (e): under 3
    assert judge(slow_day, report(71, 72, 40, 30, speed=2.6), relative_speed=0.9)[-1]   # 2.6 >= 0.9 * 2.7
    assert not judge(slow_day, report(71, 72, 40, 30, speed=2.4), relative_speed=0.9)[-1]
    assert not judge(slow_day, report(69, 72, 40, 30, speed=2.7), relative_speed=0.9)[-1]  # IoU clauses still hold
    (tmp_path / "ship-heldout1_ext.json").write_text(json.dumps(slow_day))
    (tmp_path / "cand-heldout1_ext.json").write_text(json.dumps(report(71, 72, 40, 30, speed=2.6)))
    run = lambda *extra: subprocess.run([sys.executable, str(REPO / "eval/recipes/round_rule.py"), str(tmp_path),
                                         "ship", "cand", "1", *extra], capture_output=True, text=True)
    assert run().returncode == 1
    rel = run("--relative-speed", "0.9")
    assert rel.returncode == 0 and "0.9 x the shipped" in rel.stdout
    bad = run("--relative-speed")
    assert bad.returncode == 2 and "needs a number" in bad.stderr
