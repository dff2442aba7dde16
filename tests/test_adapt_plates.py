"""adapt background plates: the user's static scene recovered from frames with a moving robot."""
from __future__ import annotations

import numpy as np
import pytest

from test_adapt_support import background, robot_frames


def test_plate_recovers_the_background_behind_a_moving_robot():
    from distinctnet.adapt.plates import plate

    bg = background(3)
    frames = robot_frames(16, seed=3)
    rgb = [f[0] for f in frames]
    robot = [f[1] for f in frames]
    got, inpainted = plate(rgb, robot, dilate=0.01)
    always = np.logical_and.reduce(robot)           # under the robot in every frame: inpainted
    seen = ~np.logical_or.reduce(robot)              # never under the robot: exactly the background
    assert 0 < inpainted < 0.2 and inpainted >= always.mean()
    err = np.abs(got.astype(int) - bg.astype(int)).max(-1)
    assert err[seen].mean() < 1.0
    sometimes = ~always & ~seen                      # uncovered in some frames: recovered from those
    assert err[sometimes].mean() < 12
    # the naive alternative (the median of all frames, robot included) is visibly worse where it moved
    naive = np.median(np.stack(rgb), 0)
    assert np.abs(naive - bg).max(-1)[sometimes].mean() > err[sometimes].mean()


def test_plates_step_writes_one_jpg_per_video_and_composite_draws_them(tmp_path):
    import json

    from distinctnet.adapt.harvest import harvest
    from distinctnet.adapt.gripper import gripper_step
    from distinctnet.adapt.pairs import composite_step
    from distinctnet.errors import UserError
    from test_adapt_support import gt_predictor, write_frames

    frames = robot_frames(12)
    rec = write_frames(tmp_path / "rec" / "arm_a", [f[0] for f in frames])
    work = tmp_path / "work"
    harvest([str(rec)], work, predict=gt_predictor([f[1] for f in frames]), progress=False)
    gripper_step(work, None, progress=False)
    res = composite_step(work, 4, size=(48, 64), progress=False, plate_share=0.5)
    assert list(res["plates"]) == ["arm_a"] and (work / "plates" / "arm_a.jpg").is_file()
    manifest = json.loads((work / "pairs" / "adapt_settings.json").read_text())
    assert manifest["plate_share"] == 0.5 and "arm_a" in manifest["plates"]
    none = composite_step(work, 4, size=(48, 64), progress=False, plate_share=0.0)
    assert none["plates"] == {} and none["plate_share"] == 0.0
    with pytest.raises(UserError, match="plate-share"):
        composite_step(work, 4, size=(48, 64), progress=False, plate_share=1.0)
