"""The pooled rule of the labeller changes that leave most videos alone (eval/recipes/pooled_rule.py)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "eval" / "recipes"))
from pooled_rule import judge  # noqa: E402


def report(fg=70.0, robot=70.0, grip=40.0, obj=30.0, dis=20.0, kept=99.0, pairs=100, seconds=20.0):
    iou = {"foreground": fg, "robot": robot, "gripper": grip, "object": obj, "distractor": dis}
    return {"iou": {k: {"iou": v} for k, v in iou.items()}, "motion_stop": {"parts": {"robot": {"kept": kept}}},
            "run": {"pairs": pairs, "seconds": seconds}}


def write(tmp_path, sets):
    for k, (base, cand) in sets.items():
        (tmp_path / f"heldout{k}_ext-keep.json").write_text(json.dumps(base))
        (tmp_path / f"heldout{k}_ext-drop.json").write_text(json.dumps(cand))
    return [str(k) for k in sets]


def test_gain_is_pooled_and_harm_is_per_set(tmp_path):
    # one set gains, one is untouched, one loses a little: +0.5 / 0 / -0.05 -> mean positive, every fall <= 0.25
    sets = write(tmp_path, {1: (report(), report(fg=71, robot=71)), 2: (report(), report()),
                            3: (report(), report(fg=69.8))})
    assert judge(tmp_path, "keep", "drop", sets)
    assert not judge(tmp_path, "keep", "drop", ["2"])  # (a): no change at all is no gain
    write(tmp_path, {3: (report(), report(dis=19.7))})
    assert not judge(tmp_path, "keep", "drop", sets)  # (b): the distractor fell 0.3 on set 3
    write(tmp_path, {3: (report(), report(kept=94))})
    assert not judge(tmp_path, "keep", "drop", sets)  # (c)


def test_speed_is_pooled_over_the_sets(tmp_path):
    # 0.8x and 0.89x: 400 pairs in 462.5 s against 400 in 400 s, 0.86x pooled: fails
    sets = write(tmp_path, {1: (report(pairs=100, seconds=100), report(fg=71, pairs=100, seconds=125)),
                            2: (report(pairs=300, seconds=300), report(pairs=300, seconds=337.5))})
    assert not judge(tmp_path, "keep", "drop", sets)
    # 0.8x and 1.0x: 0.94x pooled passes, though one set alone ran at 0.8x
    write(tmp_path, {2: (report(pairs=300, seconds=300), report(pairs=300, seconds=300))})
    assert judge(tmp_path, "keep", "drop", sets)


def test_cli_exit_codes(tmp_path):
    write(tmp_path, {1: (report(), report(robot=70.5)), 2: (report(), report(robot=69.5))})
    run = lambda *sets: subprocess.run([sys.executable, str(REPO / "eval/recipes/pooled_rule.py"), str(tmp_path),
                                        "keep", "drop", *sets], capture_output=True, text=True)
    one = run("1")
    assert one.returncode == 0 and "passed" in one.stdout
    both = run("1", "2")
    assert both.returncode == 1 and "FAIL" in both.stdout
    assert run().returncode == 2
