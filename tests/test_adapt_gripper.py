"""adapt gripper: the fingers and grasp point from an open/close clip, mapped onto the harvested frames; the
estimate without a clip; refused clips."""
from __future__ import annotations

import json

import numpy as np
import pytest

from distinctnet.adapt.chain import AdaptOptions, run_step
from distinctnet.adapt.gripper import analyse_clip, estimate, gripper_step
from distinctnet.adapt.harvest import harvest
from distinctnet.errors import UserError
from distinctnet.layout import Recording, validate
from test_adapt_support import clip_frames, gt_predictor, robot_frames, shifted, write_frames


@pytest.fixture(scope="module")
def robot():
    return robot_frames(16)


def harvested(tmp, robot):
    rec = write_frames(tmp / "rec" / "arm_a", [f[0] for f in robot])
    harvest([str(rec)], tmp / "work", predict=gt_predictor([f[1] for f in robot]), progress=False)
    return tmp / "work"


def errors(work, robot):
    """Per harvested frame: grasp-point error (px) and gripper-mask IoU against the truth."""
    rec = Recording(work / "harvest")
    vm = rec.video_meta("arm_a")
    errs, ious = [], []
    for k, i in enumerate(vm["source_frames"]):
        g, true = rec.read_mask("arm_a", "gripper", k), robot[i][2]
        ious.append((g & true).sum() / (g | true).sum())
        gp, tg = vm["grasp_point"][k], robot[i][3]
        errs.append(np.hypot(gp[0] - tg[0], gp[1] - tg[1]))
    return np.array(errs), np.array(ious), vm


def test_clip_fingers_and_grasp_point():
    clip = clip_frames()
    c = analyse_clip([f[0] for f in clip], "clip")
    true = clip[0][3]
    assert np.hypot(c.grasp[0] - true[0], c.grasp[1] - true[1]) < 2.5
    fingers = np.logical_or.reduce([f[2] for f in clip])       # every pixel a finger or the palm covers
    assert (c.moving & fingers).sum() > 0.8 * c.moving.sum()    # what moves is the gripper
    assert c.region[int(round(true[1])), int(round(true[0]))]
    assert c.region.sum() < 0.15 * c.region.size


@pytest.mark.parametrize("seed,pose", [(0, (0.3, 0.4)), (2, (-0.2, 0.1))])
def test_gripper_from_the_clip_lands_on_the_fingers(tmp_path, robot, seed, pose):
    """The clip may show the gripper at another pose, over another background."""
    work = harvested(tmp_path, robot)
    clip = write_frames(tmp_path / "clip", [f[0] for f in clip_frames(seed=seed, pose_=pose)])
    s = gripper_step(work, str(clip), progress=False)
    errs, ious, vm = errors(work, robot)
    assert s["source"] == "clip" and s["frames"] == len(errs) == vm["frames"]
    assert np.mean(errs < 8) >= 0.8 and np.median(errs) < 5, errs
    assert np.median(ious) > 0.7, ious
    assert len(vm["grasp_point"]) == vm["frames"] and vm["annotated_parts"] == ["arm", "gripper", "robot"]
    assert vm["source_frames"] and vm["harvest"]["kept"] == vm["frames"]   # the harvest's meta is kept
    assert validate(work / "harvest") == []
    assert (work / "gripper" / "clip.png").is_file() and (work / "gripper" / "gripper.png").is_file()


def test_without_a_clip_the_gripper_is_estimated_and_the_report_says_so(tmp_path, robot):
    work = harvested(tmp_path, robot)
    run_step("gripper", AdaptOptions(work=work, progress=False))
    errs, ious, _ = errors(work, robot)
    assert np.median(errs) < 4 and np.median(ious) > 0.6
    assert json.loads((work / "gripper" / "gripper.json").read_text())["source"] == "estimated"
    assert "The gripper was ESTIMATED" in (work / "report.md").read_text()


def test_estimate_on_a_simple_mask():
    robot = np.zeros((50, 40), bool)
    robot[10:50, 18:22] = True  # a vertical bar entering from the bottom
    grip, g = estimate(robot)
    ys, _ = np.nonzero(grip)
    assert ys.max() <= 18 and ys.min() == 10
    assert 18 <= g[0] <= 22 and g[1] < 18


def test_a_clip_in_which_the_arm_moves_is_refused(tmp_path, robot):
    work = harvested(tmp_path, robot)
    arm_moving = write_frames(tmp_path / "arm", [f[0] for f in robot])       # the robot recording as a "clip"
    with pytest.raises(UserError, match="of the robot's size in the harvest: only the fingers may move"):
        gripper_step(work, str(arm_moving), progress=False)
    assert gripper_step(work, str(write_frames(tmp_path / "clip", [f[0] for f in clip_frames()])),
                        progress=False)["source"] == "clip"


def test_bad_clips(tmp_path):
    frames = [f[0] for f in clip_frames()]
    still = write_frames(tmp_path / "still", [frames[0]] * 8)
    moving_camera = write_frames(tmp_path / "pan", shifted(frames, 1.5))
    short = write_frames(tmp_path / "short", frames[:3])
    for path, words in ((still, "nothing moves"), (moving_camera, "camera moves"), (short, "too short")):
        with pytest.raises(UserError, match=words):
            from distinctnet.adapt.gripper import load_clip

            analyse_clip(*load_clip(str(path)))


def _standing_robot(t: int) -> tuple[np.ndarray, np.ndarray]:
    """A robot standing in full view (base column, not touching the border), its upper arm leaving the picture
    at the top, a link hanging down from there, swinging with t; returns (robot mask, true gripper)."""
    robot = np.zeros((60, 80), bool)
    robot[0:50, 10:16] = True                 # base column and shoulder, up to the top border
    x = 34 + 3 * t
    robot[0:5, 10:x + 6] = True               # upper arm along the top border
    robot[0:36, x:x + 6] = True               # the hanging link; its lower end is the gripper
    grip = np.zeros_like(robot)
    grip[28:36, x:x + 6] = True
    return robot, grip


def test_estimate_finds_the_end_of_the_chain_not_the_far_side_of_the_border():
    """The mask touches the border at the top (the upper arm), but the base is the part that stays: the gripper
    is the hanging link's end, not the bottom of the base column (which is farthest from the border)."""
    from distinctnet.adapt.gripper import base_seeds, presence

    frames = [_standing_robot(t) for t in range(6)]
    present = presence(r for r, _ in frames)
    for robot, true in frames:
        seeds = base_seeds(robot, present)
        assert seeds[40:50, 10:16].any() and not seeds[10:, 30:].any()    # the base column, not the moving link
        grip, g = estimate(robot, present=present)
        assert (grip & true).sum() > 0.6 * grip.sum(), "the estimate is on the hanging link's end"
        assert not grip[40:50].any()
        assert abs(g[1] - 32) < 6
    # without the recording's presence, the border is all there is to go by: the base column's foot is
    # farthest from it and is (wrongly) taken
    grip, _ = estimate(frames[0][0])
    assert grip[45:50, 10:16].any()
