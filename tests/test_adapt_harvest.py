"""adapt harvest: which masks become robot cut-outs (and why the others do not), and refused recordings."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from distinctnet.adapt.checks import MIN_FRAMES, check_recording, motion_stats
from distinctnet.adapt.harvest import HarvestConfig, foreground_channel, harvest, judge, make_item
from distinctnet.errors import UserError
from distinctnet.layout import Recording, validate
from test_adapt_support import gt_predictor, robot_frames, shifted, write_frames, write_mp4

CORRUPT = {3: "empty", 6: "blob", 9: "unsure", 12: "big", 15: "shrink"}
EXPECTED = {3: "too_small", 6: "not_at_border", 9: "low_confidence", 12: "too_large", 15: "flicker",
            17: "moving_outside_mask", 18: "moving_outside_mask"}


@pytest.fixture(scope="module")
def robot():
    return robot_frames(20)


@pytest.fixture(scope="module")
def harvested(tmp_path_factory, robot):
    tmp = tmp_path_factory.mktemp("harvest")
    frames = [f[0].copy() for f in robot]
    frames[17][2:14, 100:124] = 255  # a light flashes far from the robot: frames 17 and 18 (paired with 17)
    rec = write_frames(tmp / "rec" / "arm_a", frames)
    summary = harvest([str(rec)], tmp / "work", predict=gt_predictor([f[1] for f in robot], CORRUPT), progress=False)
    return tmp, summary


def test_keeps_consistent_masks_and_drops_corrupted_ones_with_the_right_reason(harvested, robot):
    tmp, s = harvested
    rows = list(csv.DictReader(open(tmp / "work" / "harvest" / "frames" / "arm_a.csv")))
    got = {int(r["frame"]): r["reason"] for r in rows if r["reason"]}
    assert got == EXPECTED
    assert s["frames"] == 20 and s["kept"] == 20 - len(EXPECTED)
    want = {r: list(EXPECTED.values()).count(r) for r in set(EXPECTED.values())}
    assert {r: n for r, n in s["dropped"].items() if n} == want
    root = tmp / "work" / "harvest"
    assert validate(root) == []
    rec = Recording(root)
    vm = rec.video_meta("arm_a")
    kept = [i for i in range(20) if i not in EXPECTED]
    assert vm["source_frames"] == kept and vm["frames"] == len(kept) and vm["annotated_parts"] == ["robot"]
    for k, i in enumerate(kept):  # the cut-outs are the (uncorrupted) masks of those frames, and their images
        np.testing.assert_array_equal(rec.read_mask("arm_a", "robot", k), robot[i][1])
        assert np.abs(rec.read_image("arm_a", k).astype(int) - robot[i][0]).mean() < 4  # JPEG
    assert (root / "harvest.png").stat().st_size > 1000 and (root / "harvest.json").is_file()


def test_resume_keeps_a_finished_video_and_new_settings_redo_it(harvested, robot):
    tmp, first = harvested
    rec = str(tmp / "rec" / "arm_a")
    calls = []

    def counting(frames):
        calls.append(1)
        return gt_predictor([f[1] for f in robot], CORRUPT)(frames)

    again = harvest([rec], tmp / "work", predict=counting, progress=False)
    assert not calls and again["videos"]["arm_a"]["resumed"] and again["kept"] == first["kept"]
    strict = harvest([rec], tmp / "work2", predict=counting, cfg=HarvestConfig(min_iou=0.6), progress=False)
    assert calls and strict["dropped"]["flicker"] > first["dropped"]["flicker"]
    other = write_frames(tmp / "rec" / "arm_b", [f[0] for f in robot])
    harvest([str(other)], tmp / "work2", predict=gt_predictor([f[1] for f in robot]), progress=False)
    assert Recording(tmp / "work2" / "harvest").videos == ["arm_b"]  # arm_a is no longer an input


def test_area_jump():
    rgb = np.zeros((40, 60, 3), np.uint8)
    p_small = np.full((40, 60), 0.05, np.float32)
    p_small[20:40, 10:30] = 0.95
    p_big = p_small.copy()
    p_big[0:20, 10:30] = 0.95  # twice the area, IoU 0.5 with its neighbours
    cfg = HarvestConfig()
    a, b, c = (make_item(i, rgb, p, cfg) for i, p in enumerate((p_small, p_big, p_small)))
    assert judge(b, [a, c], a, cfg)[0] == "area_jump"
    assert judge(a, [b, c], None, cfg)[0] == ""  # c matches a exactly
    assert judge(b, [a, c], a, HarvestConfig(max_area_change=2.5))[0] == ""


def test_foreground_channel():
    p = np.random.default_rng(0).random((5, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(foreground_channel("motion", ("foreground",))(p[:1]), p[0])
    np.testing.assert_array_equal(foreground_channel("semantic", ("robot", "foreground"))(p[:2]), p[1])
    np.testing.assert_array_equal(foreground_channel("semantic", ("robot", "gripper", "object"))(p[:3]),
                                  p[:3].max(0))
    with pytest.raises(UserError):
        foreground_channel("semantic", ("arm",))


def test_static_camera_and_short_recordings_are_refused(tmp_path, robot):
    frames = [f[0] for f in robot]
    pred = gt_predictor([f[1] for f in robot])
    cases = {
        "static": (write_frames(tmp_path / "static", [frames[0]] * 12), "nothing moves"),
        "short": (write_frames(tmp_path / "short", frames[:MIN_FRAMES - 1]), f"at least {MIN_FRAMES}"),
        "pan": (write_mp4(tmp_path / "pan.mp4", shifted(frames, 1.5)), "the camera moves"),
        "slow_pan": (write_frames(tmp_path / "slow_pan", shifted(frames, 0.4)), "the camera moves"),
    }
    for name, (path, words) in cases.items():
        with pytest.raises(UserError) as e:
            harvest([str(path)], tmp_path / f"work_{name}", predict=pred, progress=False)
        msg = str(e.value)
        assert words in msg and str(path) in msg and "\n" not in msg, (name, msg)
    check_recording(motion_stats(frames), "ok")  # the fixed-camera recording passes


def test_slow_robot_at_a_high_frame_rate_is_not_static():
    # a square moving 1 px per frame: consecutive frames change less than STATIC_CHANGED, 5 frames apart more
    from distinctnet.adapt.checks import LONG_GAP, STATIC_CHANGED

    frames = []
    for t in range(12):
        f = np.full((120, 160, 3), 90, np.uint8)
        f[0:5, 40 + t:70 + t] = 230
        frames.append(f)
    st = motion_stats(frames)
    assert max(st.changed) < STATIC_CHANGED < max(st.changed_far)
    assert len(st.changed_far) == len(frames) - LONG_GAP
    check_recording(st, "slow")  # accepted
    with pytest.raises(UserError, match="nothing moves"):
        check_recording(motion_stats([frames[0]] * 12), "still")


def test_nothing_kept_is_an_error(tmp_path, robot):
    rec = write_frames(tmp_path / "rec", [f[0] for f in robot])
    with pytest.raises(UserError, match="no usable robot cut-outs: 0 of 20 frames kept \\(20 too_small\\)"):
        harvest([str(rec)], tmp_path / "work", progress=False,
                predict=gt_predictor([f[1] for f in robot], {i: "empty" for i in range(20)}))


def test_mask_cleaning():
    from distinctnet.adapt.harvest import clean_mask, fill_holes

    m = np.zeros((40, 60), bool)
    m[10:40, 10:40] = True
    m[20:24, 20:24] = False          # a small hole: filled
    m[2:4, 50:52] = True             # a speck: removed
    open_gap = m.copy()
    open_gap[30:40, 25:28] = False   # a notch open to the border: kept
    out = fill_holes(clean_mask(open_gap), 0.1)
    assert out[20:24, 20:24].all() and not out[2:4, 50:52].any() and not out[30:40, 25:28].any()
    big = np.zeros((40, 60), bool)
    big[5:35, 5:35] = True
    big[8:32, 8:32] = False          # a hole larger than 10% of the mask: a real gap, kept
    assert not fill_holes(big, 0.1)[15, 15]
