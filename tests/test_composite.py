"""The compositing generator of fine-tuning pairs (synth/composite.py, synth/augment.py, synth/assets.py)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from distinctnet.errors import UserError
from distinctnet.layout import Recording, VideoWriter, validate
from synth import assets, composite
from synth.augment import AugmentConfig, PairAugmenter, blend_edges, cast_shadow, edge_band, repaint, shadow_light
from synth.composite import CompositeConfig, generate, grasp_point, pair_name

SIZE = (64, 96)


def make_robot_tree(root: Path, frames: int = 6, h: int = 60, w: int = 80, extra: dict | None = None,
                    parts=None) -> Path:
    """A moving rectangle 'arm' entering from the bottom border with a small 'gripper' rectangle on top."""
    rng = np.random.default_rng(0)
    kw = {} if parts is None else {"annotated_parts": parts}
    with VideoWriter(root, "arm_0000", source="test", extra=extra, **kw) as wr:
        for f in range(frames):
            img = (rng.random((h, w, 3)) * 60 + 40).astype(np.uint8)
            arm, gripper = np.zeros((h, w), bool), np.zeros((h, w), bool)
            x = 10 + 5 * f
            arm[h // 2:, x:x + 10] = True
            gripper[h // 2 - 8:h // 2, x - 1:x + 11] = True
            img[arm], img[gripper] = (200, 80, 80), (220, 220, 60)
            wr.write(img, {"arm": arm, "gripper": gripper})
    return root


@pytest.fixture(scope="module")
def robots(tmp_path_factory) -> Path:
    return make_robot_tree(tmp_path_factory.mktemp("robots"))


@pytest.fixture(scope="module")
def backgrounds(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("bg")
    rng = np.random.default_rng(1)
    for i in range(3):
        img = cv2.GaussianBlur((rng.random((90 + 10 * i, 130, 3)) * 255).astype(np.uint8), (7, 7), 0)
        (d / "sub").mkdir(exist_ok=True)
        cv2.imwrite(str(d / ("sub" if i else ".") / f"bg{i}.jpg"), img)
    return d


def run_gen(out, robots, backgrounds, num=6, seed=0, **cfg_kw):
    kw = {k: cfg_kw.pop(k) for k in ("shard", "workers", "objects", "aug") if k in cfg_kw}
    cfg = CompositeConfig(size=SIZE, **cfg_kw)
    return generate(out, num, [robots], kw.get("objects"), [backgrounds], cfg, kw.get("aug", AugmentConfig()), seed=seed,
                    shard=kw.get("shard", (0, 1)), workers=kw.get("workers", 1), progress=False)


def read_pair(root: Path, k: int):
    rec = Recording(root)
    v = pair_name(k)
    return rec, v, [rec.read_image(v, f) for f in (0, 1)], [rec.read_masks(v, f) for f in (0, 1)]


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.parts[len(root.parts)] in ("image", "mask", "meta.d")}


@pytest.fixture(scope="module")
def moving(tmp_path_factory, robots, backgrounds) -> Path:
    out = tmp_path_factory.mktemp("moving")
    run_gen(out, robots, backgrounds, num=6, static_fraction=0.0, min_distractors=1, max_distractors=2,
            distractor_behind_p=0.0)
    return out


# ------------------------------------------------------------------------------------------ layout/labels
def test_pairs_follow_the_layout(moving):
    assert validate(moving) == []
    rec = Recording(moving)
    assert rec.videos == [pair_name(k) for k in range(6)]
    for v in rec.videos:
        vm = rec.video_meta(v)
        assert vm["frames"] == 2 and vm["kind"] == "pair" and vm["static_from"] is None and vm["seed"] == 0
        for f in (0, 1):
            assert rec.image_path(v, f).exists()
            assert rec.read_image(v, f).shape == (*SIZE, 3)
            m = rec.read_masks(v, f)
            np.testing.assert_array_equal(m["robot"], m["arm"] | m["gripper"])
            assert not (m["arm"] & m["gripper"]).any() and not (m["object"] & m["distractor"]).any()
            assert m["robot"].any()
    manifest = json.loads((moving / "manifest.json").read_text())["generators"]["composite"]
    assert manifest["counts"]["made"] == 6 and manifest["counts"]["static_made"] == 0
    assert manifest["shards"]["0/1"]["timing"]["status"] == "done"
    assert manifest["settings"]["config"]["size"] == list(SIZE) and manifest["seed"] == 0
    sources = {a["source"] for a in manifest["assets"]}
    assert sources == {"background", "robot", "object"}


def test_robot_moves_and_object_sits_on_the_gripper(moving):
    k = np.ones((3, 3), np.uint8)
    for i in range(6):
        _, _, imgs, masks = read_pair(moving, i)
        assert not np.array_equal(masks[0]["robot"], masks[1]["robot"])  # frame t vs t+k
        for m in masks:
            obj = m["object"] | m["distractor"]  # a distractor in front may hide part of the object
            assert m["object"].any()
            if m["gripper"].any():  # else the object covers the whole gripper
                assert (cv2.dilate(obj.astype(np.uint8), k, iterations=2).astype(bool) & m["gripper"]).any()


def test_distractors_move_between_frames(moving):
    seen = 0
    for i in range(6):
        _, _, _, masks = read_pair(moving, i)
        a, b = masks[0]["distractor"], masks[1]["distractor"]
        if a.any() and b.any():
            assert (a ^ b).sum() > 0.2 * (a | b).sum()  # displaced by >= 5% of the frame, not jitter
            seen += 1
    assert seen >= 3


def test_static_pairs_are_identical_frames_with_labels(tmp_path, robots, backgrounds):
    m = run_gen(tmp_path, robots, backgrounds, num=3, static_fraction=1.0, min_distractors=1)
    assert m["static_made"] == 3
    assert validate(tmp_path) == []
    for i in range(3):
        rec, v, imgs, masks = read_pair(tmp_path, i)
        assert rec.video_meta(v)["kind"] == "static" and rec.video_meta(v)["static_from"] == 1
        assert rec.image_path(v, 0).read_bytes() == rec.image_path(v, 1).read_bytes()
        for part in masks[0]:
            np.testing.assert_array_equal(masks[0][part], masks[1][part])
        assert masks[0]["robot"].any() and masks[0]["object"].any()


# --------------------------------------------------------------------------------- determinism / resume
def test_same_seed_same_output_and_shards_match(tmp_path, robots, backgrounds, moving):
    again = tmp_path / "again"
    run_gen(again, robots, backgrounds, num=6, static_fraction=0.0, min_distractors=1, max_distractors=2,
            distractor_behind_p=0.0)
    assert tree_bytes(again) == tree_bytes(moving)
    sharded = tmp_path / "sharded"
    for i in range(2):
        m = run_gen(sharded, robots, backgrounds, num=6, static_fraction=0.0, min_distractors=1,
                    max_distractors=2, distractor_behind_p=0.0, shard=(i, 2))
        assert m["made"] == 3
    assert tree_bytes(sharded) == tree_bytes(moving)
    assert Recording(sharded).videos == [pair_name(k) for k in range(6)]
    other = tmp_path / "other"
    run_gen(other, robots, backgrounds, num=6, seed=1, static_fraction=0.0, min_distractors=1,
            max_distractors=2, distractor_behind_p=0.0)
    assert tree_bytes(other) != tree_bytes(moving)


def test_workers_give_the_same_pairs(tmp_path, robots, backgrounds, moving):
    m = run_gen(tmp_path, robots, backgrounds, num=6, static_fraction=0.0, min_distractors=1, max_distractors=2,
                distractor_behind_p=0.0, workers=2)
    assert m["made"] == 6
    assert tree_bytes(tmp_path) == tree_bytes(moving)


def test_resume_skips_finished_pairs(tmp_path, robots, backgrounds):
    run_gen(tmp_path, robots, backgrounds, num=3)
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.png")}
    first = tree_bytes(tmp_path)
    (tmp_path / "meta.d" / f"{pair_name(1)}.json").unlink()  # pair 1 "killed" before it finished
    m = run_gen(tmp_path, robots, backgrounds, num=5)
    assert (m["skipped"], m["made"], m["finished"]) == (2, 3, 5)
    assert Recording(tmp_path).videos == [pair_name(k) for k in range(5)]
    for p, t in stamps.items():
        if pair_name(1) not in str(p):
            assert p.stat().st_mtime_ns == t, p
    after = tree_bytes(tmp_path)
    assert all(after[k] == v for k, v in first.items())  # the redone pair 1 is the same pair
    assert run_gen(tmp_path, robots, backgrounds, num=5)["made"] == 0
    with pytest.raises(UserError, match="other settings"):
        run_gen(tmp_path, robots, backgrounds, num=5, seed=7)


# ----------------------------------------------------------------------------------------------- sources
def test_grasp_point_from_masks():
    robot = np.zeros((100, 100), bool)
    gripper = np.zeros_like(robot)
    robot[40:, 45:55] = True              # arm comes up from the bottom border
    gripper[20:40, 40:60] = True
    robot |= gripper
    x, y = grasp_point(robot, gripper, push=0.6)
    assert 48 <= x <= 51 and 20 <= y < 30  # between the gripper centre (y 29.5) and its tip (y ~21)
    # robot mask only: the end farthest from where the robot enters the image (bottom border)
    x, y = grasp_point(robot, np.zeros_like(robot))
    assert y < 25 and 40 <= x <= 60
    # sideways arm from the left border, gripper at its right end
    robot2, gripper2 = np.zeros((60, 100), bool), np.zeros((60, 100), bool)
    robot2[25:35, :70] = True
    gripper2[20:40, 70:85] = True
    x, y = grasp_point(robot2 | gripper2, gripper2)
    assert 77 < x < 85 and 27 < y < 33
    assert grasp_point(np.zeros((5, 5), bool), np.zeros((5, 5), bool)) is None


def test_grasped_object_turns_with_the_gripper():
    bar = np.zeros((5, 21, 4), np.uint8)
    bar[..., 3] = 255                                   # a horizontal bar
    turned = assets.rotate_sprite(bar, -90.0)            # clockwise on screen
    assert turned.shape[0] > turned.shape[1]
    ys, xs = np.nonzero(turned[..., 3] > 127)
    assert np.ptp(ys) > 3 * np.ptp(xs)
    fa = composite.RobotFrame(None, None, None, None, (1.0, 0.0))   # pointing right in frame A
    fb = composite.RobotFrame(None, None, None, None, (0.0, 1.0))   # pointing down in frame B
    ident = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    flip = np.array([[-1.0, 0, 0], [0, 1.0, 0]])
    assert composite.CompositeGenerator._turn(fa, fb, ident) == pytest.approx(-90.0)   # clockwise
    assert composite.CompositeGenerator._turn(fa, fb, flip) == pytest.approx(90.0)     # mirrored
    fb.direction = None
    assert composite.CompositeGenerator._turn(fa, fb, ident) == 0.0
    _, d = composite.grasp_pose(*_l_robot())
    assert d == pytest.approx((0.0, -1.0), abs=0.05)    # arm below the gripper: pointing up


def _l_robot():
    robot = np.zeros((100, 100), bool)
    gripper = np.zeros_like(robot)
    robot[40:, 45:55] = True
    gripper[20:40, 40:60] = True
    return robot | gripper, gripper


def test_grasp_point_from_recording_meta(tmp_path):
    n = 4
    make_robot_tree(tmp_path / "bad", frames=n, extra={"grasp_point": [[5.0, 7.0], None, {"0": 1}, [9, 9]]})
    with pytest.raises(UserError, match="grasp_point of frame 2"):
        composite.RobotSource([tmp_path / "bad"])
    make_robot_tree(tmp_path, frames=n, extra={"grasp_point": [[5.0, 7.0], None, [1, 2], [9, 9]]})
    src = composite.RobotSource([tmp_path])
    clip = src.clips[0]
    assert src.load(clip, 0, 0.6).grasp == (5.0, 7.0)
    assert src.load(clip, 1, 0.6).grasp == grasp_point(src.load(clip, 1, 0.6).robot,
                                                       src.load(clip, 1, 0.6).gripper, 0.6)  # null -> from masks
    assert src.load(clip, 3, 0.6).grasp == (9.0, 9.0)


def test_robot_only_source(tmp_path, backgrounds):
    """Stage-1 predictions give a robot mask only: the object goes to the robot's far end and the pairs
    claim no arm/gripper split."""
    src = make_robot_tree(tmp_path / "robot_only", parts=["robot"])
    out = tmp_path / "out"
    run_gen(out, src, backgrounds, num=3, static_fraction=0.0, max_distractors=0)
    assert validate(out) == []
    rec = Recording(out)
    for v in rec.videos:
        assert rec.video_meta(v)["annotated_parts"] == ["robot", "object", "distractor"]
        for f in (0, 1):
            m = rec.read_masks(v, f)
            assert not m["gripper"].any() and m["object"].any()
            near = cv2.dilate(m["object"].astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2) > 0
            assert (near & m["robot"]).any()
            # the far end: the object is above the robot's middle (the robot comes up from the bottom)
            ys_o, ys_r = np.nonzero(m["object"])[0], np.nonzero(m["robot"])[0]
            assert ys_o.mean() < ys_r.mean()


def test_large_sources_are_decoded_reduced(tmp_path, backgrounds):
    src = make_robot_tree(tmp_path / "big", frames=3, h=256, w=320,
                          extra={"grasp_point": [[100.0, 40.0], None, None]})
    robots = composite.RobotSource([src])
    robots.configure((32, 48), 1.3)  # fits at 1/8 scale, x1.3 at most: 1/4 keeps every pixel needed
    clip = robots.clips[0]
    assert robots.reduce_factor(clip) == 4
    fr = robots.load(clip, 0, 0.6)
    assert fr.rgb.shape == (64, 80, 3) and fr.robot.shape == (64, 80) and fr.robot.any() and fr.gripper.any()
    assert fr.grasp == (25.0, 10.0)
    robots.configure((240, 416), 1.3)
    assert robots.reduce_factor(clip) == 1
    out = tmp_path / "out"
    run_gen(out, src, backgrounds, num=2)
    assert validate(out) == []


def test_object_folders_are_used(tmp_path, robots, backgrounds):
    objs = tmp_path / "objects"
    for name, colour in (("mug", (0, 0, 255)), ("can", (0, 255, 0))):
        for k in range(2):
            rgba = np.zeros((30, 20, 4), np.uint8)
            cv2.circle(rgba, (10, 15), 8, (*colour, 255), -1)
            (objs / name).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(objs / name / f"{k:04d}.png"), rgba)
    cv2.imwrite(str(objs / "not_rgba.png"), np.zeros((5, 5, 3), np.uint8))  # ignored: no alpha
    found = assets.find_objects([objs])
    assert [o.name for o in found] == ["objects/can", "objects/mug"] and all(len(o.views) == 2 for o in found)
    out = tmp_path / "out"
    run_gen(out, robots, backgrounds, num=3, static_fraction=0.0, objects=[objs])
    rec = Recording(out)
    assert {rec.video_meta(v)["object"] for v in rec.videos} <= {"objects/can", "objects/mug"}
    assert validate(out) == []


def test_default_backgrounds(tmp_path, monkeypatch):
    extra = tmp_path / "assets" / "backgrounds"
    extra.mkdir(parents=True)
    cv2.imwrite(str(extra / "room.jpg"), np.zeros((300, 300, 3), np.uint8))
    monkeypatch.setenv(assets.ASSETS_ENV, str(tmp_path / "assets"))
    found = assets.find_backgrounds(None)
    names = {p.name for p in found}
    assert {"astronaut.png", "chelsea.png", "room.jpg"} <= names
    assert not names & {"microaneurysms.png", "chessboard_RGB.png", "logo.png", "horse.png"}


@pytest.mark.parametrize("shape", assets.SHAPES)
def test_procedural_objects(shape):
    rng = np.random.default_rng(3)
    rgba = assets.procedural_object(rng, 40, shape)
    assert rgba.dtype == np.uint8 and rgba.shape[2] == 4
    assert 25 <= max(rgba.shape[:2]) <= 58  # longer side ~40, rotated
    opaque = rgba[..., 3] >= 128
    assert opaque.mean() > 0.3 and rgba[..., :3][opaque].std() > 1  # shaded, not flat
    np.testing.assert_array_equal(rgba, assets.procedural_object(np.random.default_rng(3), 40, shape))


# ---------------------------------------------------------------------------------------- augment/paste
def test_augment_shared_and_region_shifts():
    rng = np.random.default_rng(0)
    img = (rng.random((32, 48, 3)) * 255).astype(np.uint8)
    aug = PairAugmenter(AugmentConfig(noise_p=0, blur_p=0, exposure=0, jitter_p=1.0))
    a, b = aug.frames(5, img, img.copy())
    np.testing.assert_array_equal(a, b)      # shared draws only: identical in both frames
    assert not np.array_equal(a, img)
    a2, _ = aug.frames(5, img, img.copy())
    np.testing.assert_array_equal(a, a2)    # seeded
    aug = PairAugmenter(AugmentConfig(region_p=1.0))
    ra, rb = aug.region_shift(9, img, img.copy())
    np.testing.assert_array_equal(ra, rb)
    assert not np.array_equal(ra, img)
    noisy = PairAugmenter(AugmentConfig(noise_p=1.0, jitter_p=0, channel_shuffle_p=0))
    a, b = noisy.frames(1, img, img.copy())
    assert not np.array_equal(a, b)          # per-frame noise differs


def test_repaint_keeps_shading_changes_colour():
    h, w = 20, 30
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = 90                                      # background, must stay
    ramp = np.linspace(40, 230, w).astype(np.uint8)       # the arm's shading: dark left, bright right
    lab = np.zeros((h, w), np.uint8)
    lab[5:15] = 1
    lab[15:18] = 2
    img[5:18] = np.stack([ramp, ramp, ramp], -1)[None]
    luminance = img.astype(float) @ [0.299, 0.587, 0.114]
    colours = []
    for seed in range(12):
        a, b = repaint(seed, [img, img.copy()], [lab, lab.copy()])
        np.testing.assert_array_equal(a, b)                # one draw for both frames
        np.testing.assert_array_equal(a[lab == 0], img[lab == 0])
        arm = a[5:15].astype(float) @ [0.299, 0.587, 0.114]
        r = np.corrcoef(arm.ravel(), luminance[5:15].ravel())[0, 1]
        assert abs(r) > 0.9                                # shading survives (maybe inverted)
        colours.append(a[lab == 1].reshape(-1, 3).mean(0))
        np.testing.assert_array_equal(repaint(seed, [img], [lab])[0], a)   # seeded
    assert np.ptp(np.array(colours), axis=0).max() > 60    # the paint varies between draws


def test_composite_repaint_only_changes_the_robot(tmp_path, robots, backgrounds, moving):
    run_gen(tmp_path, robots, backgrounds, num=6, static_fraction=0.0, min_distractors=1, max_distractors=2,
            distractor_behind_p=0.0, aug=AugmentConfig(repaint_p=1.0, edge_blend_p=0.0))
    plain = tmp_path / "plain"
    run_gen(plain, robots, backgrounds, num=6, static_fraction=0.0, min_distractors=1, max_distractors=2,
            distractor_behind_p=0.0, aug=AugmentConfig(edge_blend_p=0.0))
    changed = 0
    for i in range(6):
        _, _, imgs, masks = read_pair(tmp_path, i)
        _, _, imgs0, masks0 = read_pair(plain, i)
        for f in (0, 1):
            for part in masks[f]:
                np.testing.assert_array_equal(masks[f][part], masks0[f][part])
            robot = cv2.dilate(masks[f]["robot"].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            diff = np.abs(imgs[f].astype(int) - imgs0[f].astype(int)).max(-1)
            assert np.percentile(diff[~robot], 99) <= 12    # JPEG noise only outside the robot
            changed += np.median(diff[masks[f]["arm"]]) > 20
    assert changed >= 8


def test_cast_shadow_darkens_the_shifted_silhouette_on_the_background_only():
    h, w = 40, 60
    img = np.full((h, w, 3), 200, np.uint8)
    lab = np.zeros((h, w), np.uint8)
    lab[10:20, 10:20] = 1
    shift = np.array([[1.0, 0.0, 7.0], [0.0, 1.0, 5.0]])      # no shear, no squash: the silhouette moved by (7, 5)
    out = cast_shadow(img, lab, (shift, 0.0, 0.5))
    expect = np.zeros((h, w), bool)
    expect[15:25, 17:27] = True
    expect &= lab == 0                                      # a thing casts no shadow on itself
    np.testing.assert_array_equal(out[..., 0] < 200, expect)
    assert (out[expect] == 100).all()                         # strength 0.5 halves the light
    np.testing.assert_array_equal(out[~expect], img[~expect])
    # the shadow moves with its caster
    lab2 = np.roll(lab, 12, axis=1)
    out2 = cast_shadow(img, lab2, (shift, 0.0, 0.5))
    np.testing.assert_array_equal(out2[..., 0] < 200, np.roll(expect, 12, axis=1))
    # a soft shadow never brightens and is darkest in its core
    soft = cast_shadow(img, lab, (shift, 2.0, 0.5))
    assert soft.max() <= 200 and soft[22, 24, 0] < soft[25, 27, 0] < 200
    # one light per pair, drawn from the config's ranges
    M, sigma, strength = shadow_light(np.random.default_rng(3), (h, w), AugmentConfig())
    assert M.shape == (2, 3) and 0.5 <= sigma <= 4.0 and 0.25 <= strength <= 0.7 and 0.3 <= M[1, 1] <= 1.0


def test_composite_shadows_darken_the_background_and_keep_the_labels(tmp_path, robots, backgrounds):
    plain_aug = dict(edge_blend_p=0.0, jitter_p=0.0, channel_shuffle_p=0.0, noise_p=0.0, blur_p=0.0, exposure=0.0)
    kw = dict(num=6, static_fraction=0.0, min_distractors=1, max_distractors=2, distractor_behind_p=0.0)
    run_gen(tmp_path / "shadow", robots, backgrounds, aug=AugmentConfig(shadow_p=1.0, **plain_aug), **kw)
    run_gen(tmp_path / "plain", robots, backgrounds, aug=AugmentConfig(**plain_aug), **kw)
    moved = 0
    for i in range(6):
        _, _, imgs, masks = read_pair(tmp_path / "shadow", i)
        _, _, imgs0, masks0 = read_pair(tmp_path / "plain", i)
        dark = []
        for f in (0, 1):
            for part in masks[f]:
                np.testing.assert_array_equal(masks[f][part], masks0[f][part])
            lum, lum0 = (x.astype(float) @ [0.299, 0.587, 0.114] for x in (imgs[f], imgs0[f]))
            fg = np.zeros(lum.shape, bool)
            for m in masks[f].values():
                fg |= m
            near = cv2.dilate(fg.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            assert np.percentile(np.abs(lum - lum0)[fg & ~cv2.dilate((~fg).astype(np.uint8),
                                 np.ones((5, 5), np.uint8)).astype(bool)], 99) <= 8   # things keep their look
            assert np.percentile(lum[~near] - lum0[~near], 99.5) <= 8     # a shadow never lights (JPEG noise)
            dark.append((lum0 - lum > 15) & ~near)
            assert dark[-1].sum() > 20                                    # and it is there
        moved += not np.array_equal(dark[0], dark[1])
    assert moved >= 4                                                     # it moves with the robot


def test_shadow_settings_and_bad_value(tmp_path, robots, backgrounds, capsys):
    from types import SimpleNamespace

    def settings(aug):
        gen = SimpleNamespace(aug_cfg=aug, seed=0, cfg=CompositeConfig(size=SIZE))
        return composite._settings(gen, [robots], [], [backgrounds])["augment"]

    assert not any(k.startswith("shadow") for k in settings(AugmentConfig()))   # older folders still resume
    assert settings(AugmentConfig(shadow_p=0.5))["shadow_p"] == 0.5
    rc = composite.main([str(tmp_path / "out"), "--robots", str(robots), "--backgrounds", str(backgrounds),
                         "--num", "1", "--shadow", "2"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and "--shadow" in err[0] and "not in [0, 1]" in err[0]
    assert not (tmp_path / "out").exists()


def test_blend_edges_only_touches_the_band():
    labels = np.zeros((20, 20), np.uint8)
    labels[5:15, 5:15] = 1
    img = np.zeros((20, 20, 3), np.uint8)
    img[labels == 1] = 200
    img[10, 10] = 0                       # inner detail away from the edge stays
    out = blend_edges(img, labels, ksize=3, width=1)
    band = edge_band(labels, 1)
    np.testing.assert_array_equal(out[~band], img[~band])
    assert band[5, 10] and band[4, 10] and not band[10, 10]
    assert out[5, 5].max() < 200 or out[4, 5].max() > 0  # the corner got smoothed


def test_paste_alpha_and_clipping():
    img = np.zeros((10, 10, 3), np.uint8)
    lab = np.zeros((10, 10), np.uint8)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = 100
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 64
    composite.paste(img, lab, rgba, 1.0, 1.0, 3)   # top-left corner goes out of the frame
    assert (lab == 3).sum() == 9 and img[0, 0, 0] == 100 and img[3, 3, 0] == 0
    composite.paste(img, lab, rgba, 20.0, 20.0, 4)  # fully outside: no-op
    assert (lab == 4).sum() == 0


# ------------------------------------------------------------------------------------------- bad input
def test_bad_inputs(tmp_path, robots, backgrounds):
    with pytest.raises(UserError, match="not a folder"):
        run_gen(tmp_path / "o1", tmp_path / "missing", backgrounds)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no background images"):
        run_gen(tmp_path / "o2", robots, empty)
    with pytest.raises(UserError, match="no such folder"):
        run_gen(tmp_path / "o3", robots, tmp_path / "nobg")
    no_robot = make_robot_tree(tmp_path / "norobot", frames=2, parts=["object"])
    with pytest.raises(UserError, match="no video with robot masks"):
        run_gen(tmp_path / "o4", no_robot, backgrounds)
    (tmp_path / "rgbonly").mkdir()
    cv2.imwrite(str(tmp_path / "rgbonly" / "a.png"), np.zeros((5, 5, 3), np.uint8))
    with pytest.raises(UserError, match="no RGBA PNGs"):
        run_gen(tmp_path / "o5", robots, backgrounds, objects=[tmp_path / "rgbonly"])
    for bad in ("0x10", "abc", "16x16", "240x416x3", "100000x64"):
        with pytest.raises(UserError, match="--size"):
            composite.parse_size(bad)
    assert composite.parse_size("240x416") == (240, 416)
    for bad in ("2/2", "x", "-1/3"):
        with pytest.raises(UserError, match="--shard"):
            composite.parse_shard(bad)
    with pytest.raises(UserError, match="impossible"):
        CompositeConfig(size=(8, 400)).check()


def test_cli_run_with_sheet(tmp_path, robots, backgrounds, capsys):
    parser = argparse.ArgumentParser()
    composite.add_arguments(parser)
    out, sheet = tmp_path / "out", tmp_path / "sheet.png"
    args = parser.parse_args([str(out), "--robots", str(robots), "--backgrounds", str(backgrounds), "--num", "3",
                              "--size", "48x64", "--quiet", "--sheet", str(sheet), "--static-fraction", "0.5"])
    assert composite.run(args) == 0
    assert "pairs/s" in capsys.readouterr().err
    assert validate(out) == [] and len(Recording(out).videos) == 3
    img = cv2.imread(str(sheet))
    assert img is not None and img.shape[0] > 48 and img.shape[1] > 2 * 64
    args = parser.parse_args([str(tmp_path / "o"), "--robots", str(robots), "--size", "10x10"])
    with pytest.raises(UserError, match="--size"):
        composite.run(args)


def test_distractors_beside_the_gripper(tmp_path, robots, backgrounds):
    """--distractor-near 1: every distractor starts touching or nearly touching the gripper (in frame A, where it is
    pasted in front), and still moves on its own; with 0 the pairs are byte for byte those made before the option."""
    kw = dict(num=8, static_fraction=0.0, min_distractors=1, max_distractors=1, distractor_behind_p=0.0)
    run_gen(tmp_path / "near", robots, backgrounds, distractor_near_p=1.0, **kw)
    run_gen(tmp_path / "far", robots, backgrounds, **kw)
    run_gen(tmp_path / "far0", robots, backgrounds, distractor_near_p=0.0, **kw)
    assert tree_bytes(tmp_path / "far") == tree_bytes(tmp_path / "far0")

    def gap(m):  # pixels between the distractor (or the object it hides) and the gripper, frame A
        gy, gx = np.nonzero(m["gripper"] | m["object"])
        dy, dx = np.nonzero(m["distractor"])
        if not len(dx) or not len(gx):
            return None
        return float(np.sqrt(((gy[:, None] - dy[None]) ** 2 + (gx[:, None] - dx[None]) ** 2).min()))

    near, far = [], []
    for i in range(8):
        for root, out in ((tmp_path / "near", near), (tmp_path / "far", far)):
            _, _, _, masks = read_pair(root, i)
            d = gap(masks[0])
            if d is not None:
                out.append(d)
            if root.name == "near":
                a, b = masks[0]["distractor"], masks[1]["distractor"]
                assert not np.array_equal(a, b)                  # it moves
                assert masks[0]["object"].any()                  # the grasped object is still there
    assert len(near) >= 6 and max(near) <= 3.0                    # beside the gripper (or the object at it)
    assert np.median(far) > np.median(near) + 3                   # which random placement is not


def test_distractor_near_settings_and_bad_value(tmp_path, robots, backgrounds, capsys):
    from types import SimpleNamespace

    def config(cfg):
        gen = SimpleNamespace(aug_cfg=AugmentConfig(), seed=0, cfg=cfg)
        return composite._settings(gen, [robots], [], [backgrounds])["config"]

    assert not any(k.startswith("distractor_near") for k in config(CompositeConfig(size=SIZE)))  # old folders resume
    assert config(CompositeConfig(size=SIZE, distractor_near_p=0.5))["distractor_near_p"] == 0.5
    rc = composite.main([str(tmp_path / "out"), "--robots", str(robots), "--backgrounds", str(backgrounds),
                         "--num", "1", "--distractor-near", "-0.1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and "--distractor-near" in err[0] and "not in [0, 1]" in err[0]
    assert not (tmp_path / "out").exists()
