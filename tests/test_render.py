"""The BlenderProc renderer, through the real render environment (tiny renders), plus its pure helpers.

Render tests need ``.venv-render`` (``make render-env``): without it they are skipped, except under CI
(env CI set), where a missing render environment is a failure.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from distinctnet import layout
from synth import manifest
from synth.render import options
from synth.render.trajectory import apply_stop, catmull_rom
from synth.render.urdf import URDFError, prepare_urdf

REPO = Path(__file__).resolve().parent.parent
RENDER_PY = Path(os.environ.get("DISTINCTNET_RENDER_PYTHON", REPO / ".venv-render" / "bin" / "python"))
SIZE = (72, 96)


def need_render_env():
    if not RENDER_PY.exists():
        msg = f"{RENDER_PY} missing: run `make render-env`"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def synth(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *argv, "--render-python", str(RENDER_PY)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)


def tiny(gen: str, out: Path, *extra: str) -> list[str]:
    return [gen, str(out), "--size", f"{SIZE[0]}x{SIZE[1]}", "--samples", "4", "--frames", "3", "--quiet",
            "--threads", "2", *extra]


@pytest.fixture(scope="module")
def robots_root(tmp_path_factory):
    need_render_env()
    out = tmp_path_factory.mktemp("render") / "robots"
    r = synth(*tiny("robots", out, "--count", "3", "--robots", "panda,kuka,xarm", "--object-p", "1",
                    "--max-distractors", "1", "--stop-p", "0", "--seed", "3"))
    assert r.returncode == 0, r.stderr[-3000:]
    return out, r


@pytest.fixture(scope="module")
def moving_root(tmp_path_factory):
    need_render_env()
    out = tmp_path_factory.mktemp("render") / "moving"
    r = synth(*tiny("moving", out, "--count", "1", "--min-objects", "2", "--max-objects", "3", "--seed", "1"))
    assert r.returncode == 0, r.stderr[-3000:]
    return out, r


def check_robot_recordings(root, robots: list[str], run) -> None:
    """Every video: all parts for every frame, a real picture, arm and gripper visible and disjoint, the
    grasped object inside the image, at the gripper and at the stored grasp point."""
    assert layout.validate(root) == []
    rec = layout.Recording(root)
    assert sorted(rec.meta["videos"][v]["robot"] for v in rec.videos) == sorted(robots), run.stderr
    for v in rec.videos:
        vm = rec.video_meta(v)
        assert vm["frames"] == 3 and vm["static_from"] is None and vm["holding"]
        assert set(vm["annotated_parts"]) == set(layout.PART_NAMES)
        assert vm["source"] and vm["license"]
        for i in range(3):
            for pid in layout.PARTS:
                assert rec.mask_path(v, pid, i).exists()
            img = rec.read_image(v, i)
            assert img.shape == (*SIZE, 3) and img.std() > 5  # a real picture, not a blank frame
            m = rec.read_masks(v, i)
            assert np.array_equal(m["robot"], m["arm"] | m["gripper"])
            assert m["arm"].any() and m["gripper"].any(), (v, i)
            assert not (m["arm"] & m["gripper"]).any()
            obj = m["object"]
            if obj.any():
                ys, xs = np.nonzero(obj)
                assert ys.min() > 0 and xs.min() > 0 and ys.max() < SIZE[0] - 1 and xs.max() < SIZE[1] - 1
                gy, gx = np.nonzero(m["gripper"])
                d = np.hypot(gx - xs.mean(), gy - ys.mean()).min()
                assert d < 8, f"{v} frame {i}: object centroid {d:.1f} px from the gripper"
                # the stored grasp point (projected grasp frame) is on the object
                gxp, gyp = vm["grasp_point"][i]
                assert np.hypot(xs.mean() - gxp, ys.mean() - gyp) < 8
        assert sum(rec.read_mask(v, "object", i).any() for i in range(3)) >= 2



def test_robot_recordings(robots_root):
    root, run = robots_root
    check_robot_recordings(root, ["kuka", "panda", "xarm"], run)


def test_robosuite_robots_render(tmp_path):
    """The MJCF arms converted from robosuite (synth/render/mjcf.py), each holding an object."""
    need_render_env()
    out = tmp_path / "robosuite"
    robots = ["ur5e", "kinova3", "jaco", "sawyer", "iiwa140", "panda140"]
    r = synth(*tiny("robots", out, "--count", str(len(robots)), "--robots", ",".join(robots), "--object-p", "1",
                    "--max-distractors", "0", "--stop-p", "0", "--seed", "3"))
    assert r.returncode == 0, r.stderr[-3000:]
    check_robot_recordings(out, robots, r)
    assert all("robosuite" in layout.Recording(out).video_meta(v)["license"] for v in layout.Recording(out).videos)


def test_repaint_changes_the_look_not_the_scene(tmp_path):
    """--repaint draws from its own generator: the same seed gives the same scene, motion and masks, with
    the robot in other colours."""
    need_render_env()
    roots = {}
    for p in ("0", "1"):
        roots[p] = tmp_path / f"paint{p}"
        r = synth(*tiny("robots", roots[p], "--count", "1", "--robots", "ur5e", "--stop-p", "0", "--seed", "5",
                        "--repaint", p))
        assert r.returncode == 0, r.stderr[-3000:]
    plain, painted = layout.Recording(roots["0"]), layout.Recording(roots["1"])
    (video,) = plain.videos
    assert "paint" not in plain.video_meta(video)
    paint = painted.video_meta(video)["paint"]
    assert 1 <= len(paint["arm"]) <= 3 and 1 <= len(paint["gripper"]) <= 3
    for i in range(3):
        a, b = plain.read_masks(video, i), painted.read_masks(video, i)
        for part in ("robot", "gripper", "object", "distractor"):
            assert np.array_equal(a[part], b[part]), (part, i)
        robot = a["robot"]
        diff = np.abs(plain.read_image(video, i).astype(int) - painted.read_image(video, i).astype(int)).mean(-1)
        assert diff[robot].mean() > 3 * max(diff[~robot].mean(), 1.0), (diff[robot].mean(), diff[~robot].mean())


def test_hold_joints_keeps_the_links_near_the_base_still(tmp_path):
    """--hold-joints 1: the first arm joints keep their start value, so more of the robot stays where it was in
    every frame than when every joint moves; the held joints are named in the video's meta."""
    need_render_env()
    still = {}
    for p in ("0", "1"):
        root = tmp_path / f"hold{p}"
        r = synth(*tiny("robots", root, "--count", "1", "--robots", "ur5e", "--stop-p", "0", "--seed", "6",
                        "--frames", "4", "--max-distractors", "0", "--hold-joints", p))
        assert r.returncode == 0, r.stderr[-3000:]
        rec = layout.Recording(root)
        (video,) = rec.videos
        meta = rec.video_meta(video)
        robot = np.stack([rec.read_masks(video, i)["robot"] for i in range(4)])
        still[p] = robot.all(0).sum() / robot.any(0).sum()   # robot pixels in every frame / in any frame
        if p == "0":
            assert "held_joints" not in meta
        else:
            held = meta["held_joints"]
            assert 1 <= len(held) <= 4 and held[0] == "shoulder_pan_joint", held   # UR5e: 6 arm joints
    assert still["1"] > still["0"] + 0.05, still


def test_robosuite_homes_and_grippers():
    """Each converted robosuite model: at its home pose the grasp point is in front of the robot at table
    height + 27 cm with the approach pointing down (as the pybullet robots), and the jaw gap that
    ``drive_for_gap`` assumes is the gap of the finger joints' motion (both jaws move symmetrically)."""
    need_render_env()
    script = """
import json, numpy as np
from pathlib import Path
import tempfile
from synth.render import robot_models
from synth.render.urdf import Kinematics
out = {}
tmp = Path(tempfile.mkdtemp())
for m in robot_models.MODELS.values():
    if not m.mjcf:
        continue
    k = Kinematics(m.prepare("", tmp / m.name))
    home = dict(zip(m.arm_joints, m.home))
    T = k.link_pose(home, m.grasp_link)
    g = T @ np.r_[m.grasp_offset, 1]
    tips = []
    for drive in (m.drive_open, m.drive_closed):
        cfg = {**home, m.drive_joint: drive}
        base = np.linalg.inv(k.link_pose(cfg, m.grasp_link))
        leaves = [l.name for l in k.urdf.links if l.name in k.descendants(m.gripper_root)
                  and not any(j.parent == l.name for j in k.urdf.joints) and k.urdf.link_map[l.name].visuals]
        pts = [(base @ k.link_pose(cfg, l))[:3, 3] for l in leaves]
        tips.append([float(np.ptp([p[m.close_axis] for p in pts]))])
    out[m.name] = {"grasp": g[:3].tolist(), "approach": T[:3, 2].tolist(), "spread": tips,
                   "gap": [m.gap_open, m.gap_closed], "drive": [m.drive_open, m.drive_closed],
                   "limits": list(k.limits(m.drive_joint))}
print(json.dumps(out))
"""
    r = subprocess.run([str(RENDER_PY), "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(REPO)})
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(res) >= {"ur5e", "kinova3", "jaco", "sawyer", "iiwa140", "panda140"}
    for name, v in res.items():
        assert np.allclose(v["grasp"], [0.5, 0.0, 0.27], atol=0.03), (name, v)
        assert v["approach"][2] < -0.95, (name, v)
        # the renderer (BlenderProc) turns URDF limits into bone limits: the drive's travel must lie inside them
        lo, hi = v["limits"]
        assert lo - 1e-6 <= min(v["drive"]) and max(v["drive"]) <= hi + 1e-6, (name, v)
        (opened,), (closed,) = v["spread"]
        # the finger links spread apart when open and come together when closed, by about the jaw gap's change
        assert opened > closed, (name, v)
        assert abs((opened - closed) - (v["gap"][0] - v["gap"][1])) < 0.025, (name, v)


def test_robot_motion_between_frames(robots_root):
    rec = layout.Recording(robots_root[0])
    moved = [(rec.read_mask(v, "robot", 0) != rec.read_mask(v, "robot", 2)).sum() for v in rec.videos]
    assert max(moved) > 20  # the arms follow a trajectory


def test_manifest_and_timing(robots_root):
    root, run = robots_root
    man = manifest.read(root)
    g = man["generators"]["robots"]
    assert g["counts"]["rendered"] == 3 and g["counts"]["frames"] == 9
    assert g["settings"]["seed"] == 3 and g["settings"]["size"] == f"{SIZE[0]}x{SIZE[1]}"
    assert any(a["source"] == "pybullet_data" or a["source"].startswith("pybullet_data") for a in g["assets"])
    assert all(a["license"] for a in g["assets"])
    assert "s/frame" in run.stderr


def test_resume_skips_finished(robots_root):
    root, _ = robots_root
    before = {p: p.stat().st_mtime_ns for p in (root / "image").rglob("*.jpg")}
    r = synth(*tiny("robots", root, "--count", "3", "--robots", "panda,kuka,xarm", "--object-p", "1",
                    "--max-distractors", "1", "--stop-p", "0", "--seed", "3"))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "3 already done" in r.stderr
    assert {p: p.stat().st_mtime_ns for p in (root / "image").rglob("*.jpg")} == before


def test_scene_seed_shares_room_and_camera_across_seeds(tmp_path):
    need_render_env()
    out = tmp_path / "scene"
    for seed, extra in (("1", ("--object-p", "0", "--max-distractors", "0")), ("2", ("--object-p", "1"))):
        r = synth(*tiny("robots", out, "--count", "1", "--robots", "xarm", "--stop-p", "0", "--seed", seed,
                        "--scene-seed", "7", *extra))
        assert r.returncode == 0, r.stderr[-3000:]
    rec = layout.Recording(out)
    a, b = (rec.video_meta(v) for v in ("xarm_s1_00000", "xarm_s2_00000"))
    assert a["scene_seed"] == b["scene_seed"] == 7
    assert a["camera"] == b["camera"]                       # the same fixed camera ...
    assert not a["holding"] and b["holding"]                # ... while the content differs
    assert a["grasp_point"] != b["grasp_point"]
    img_a, img_b = rec.read_image("xarm_s1_00000", 0), rec.read_image("xarm_s2_00000", 0)
    free = ~(rec.read_masks("xarm_s1_00000", 0)["robot"] | rec.read_masks("xarm_s2_00000", 0)["robot"]
             | rec.read_masks("xarm_s2_00000", 0)["object"])
    # the same room: pixels away from both robots agree (Cycles noise and shadows aside)
    diff = np.abs(img_a.astype(int) - img_b.astype(int)).max(-1)[free]
    assert np.median(diff) < 12, np.median(diff)


def test_gripper_clip_holds_the_arm_still_and_moves_the_fingers(tmp_path):
    need_render_env()
    out = tmp_path / "clip"
    r = synth("robots", str(out), "--size", f"{SIZE[0]}x{SIZE[1]}", "--samples", "4", "--frames", "6", "--quiet",
              "--threads", "2", "--count", "1", "--robots", "panda", "--seed", "4", "--gripper-clip")
    assert r.returncode == 0, r.stderr[-3000:]
    rec = layout.Recording(out)
    (video,) = rec.videos
    meta = rec.video_meta(video)
    assert meta["gripper_clip"] and not meta["holding"] and not meta["distractors"]
    assert meta.get("static_from") is None
    masks = [rec.read_masks(video, i) for i in range(6)]
    assert not any(m["object"].any() or m["distractor"].any() for m in masks)
    arm = [m["arm"] & ~m["gripper"] for m in masks]
    grip = [m["gripper"] for m in masks]
    # the arm does not move (a few pixels where the fingers cover it aside); the fingers do
    arm_change = max((a ^ b).sum() / max(a.sum(), 1) for a, b in zip(arm, arm[1:]))
    grip_change = max((a ^ b).sum() / max(a.sum(), 1) for a, b in zip(grip, grip[1:]))
    assert arm_change < 0.1, arm_change
    assert grip_change > 0.1, grip_change
    assert np.ptp(np.array(meta["grasp_point"]), axis=0).max() < 1          # the hand stays put


def test_moving_sequence(moving_root):
    root, _ = moving_root
    assert layout.validate(root) == []
    rec = layout.Recording(root)
    (v,) = rec.videos
    vm = rec.video_meta(v)
    assert set(vm["annotated_parts"]) == set(layout.PART_NAMES) and vm["static_from"] is None
    d = [rec.read_mask(v, "distractor", i) for i in range(3)]
    assert all(m.any() for m in d)
    assert (d[0] != d[1]).any() and (d[1] != d[2]).any()  # the object moves every frame
    for i in range(3):
        m = rec.read_masks(v, i)
        assert not (m["robot"].any() or m["arm"].any() or m["gripper"].any() or m["object"].any())


def test_sheet_of_rendered_tree(robots_root, tmp_path):
    import cv2

    out = tmp_path / "sheet.png"
    r = subprocess.run([sys.executable, "-m", "synth.cli", "sheet", str(robots_root[0]), "--out", str(out)],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 3 * SIZE[0] and img.shape[1] > 3 * SIZE[1]


# --- bad input: one line, exit code 1, nothing rendered (no render environment needed) ---

@pytest.mark.parametrize("argv, words", [
    (["robots", "OUT", "--size", "8x8"], "impossible size"),
    (["robots", "OUT", "--size", "big"], "expected HxW"),
    (["robots", "OUT", "--robots", "ur5"], "unknown robot"),
    (["moving", "OUT", "--objects", "/no/such/folder"], "does not exist"),
    (["robots", "OUT", "--shard", "3/2"], "0 <= i < N"),
])
def test_bad_input_is_one_line(tmp_path, argv, words):
    argv = [a.replace("OUT", str(tmp_path / "out")) for a in argv]
    r = subprocess.run([sys.executable, "-m", "synth.cli", *argv], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr
    assert not (tmp_path / "out").exists()


def test_objects_folder_without_meshes(tmp_path):
    (tmp_path / "empty").mkdir()
    r = subprocess.run([sys.executable, "-m", "synth.cli", "moving", str(tmp_path / "out"), "--objects",
                        str(tmp_path / "empty"), "--render-python", sys.executable],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 1 and "no OBJ or PLY meshes" in r.stderr


def test_unreadable_mesh_is_one_line(tmp_path):
    (tmp_path / "objs" / "thing").mkdir(parents=True)
    (tmp_path / "objs" / "thing" / "mesh.obj").write_bytes(b"\x00\x01 garbage")
    r = subprocess.run([sys.executable, "-m", "synth.cli", "objects", str(tmp_path / "out"), "--objects",
                        str(tmp_path / "objs"), "--render-python", sys.executable],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 1 and "mesh.obj: not a readable OBJ mesh" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_missing_render_env_is_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "synth.cli", "robots", str(tmp_path / "o"), "--render-python",
                        str(tmp_path / "nope" / "python")], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 1 and "make render-env" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# --- pure helpers ---

def test_catmull_rom_passes_waypoints_and_stops_smoothly():
    way = np.array([[0.0, 1.0], [1.0, -1.0], [3.0, 0.5]])
    path = catmull_rom(way, 9)  # waypoints land on samples 0, 4, 8
    assert np.allclose(path[[0, 4, 8]], way)
    step = np.abs(np.diff(path, axis=0))
    assert step[0].max() < step[1].max() and step[-1].max() < step[-2].max()  # eases in and out
    assert np.abs(np.diff(path, 2, axis=0)).max() < 1.0


def test_apply_stop_freezes_from_static_from():
    v = np.arange(6.0)
    assert apply_stop(v, None).tolist() == v.tolist()
    assert apply_stop(v, 3).tolist() == [0, 1, 2, 2, 2, 2]
    with pytest.raises(ValueError):
        apply_stop(v, 0)


def test_options_size_and_shard():
    assert options.parse_size("240x320") == (240, 320)
    for bad in ("0x10", "240", "5000x100", "axb"):
        with pytest.raises(ValueError):
            options.parse_size(bad)
    assert options.parse_shard("1/4") == (1, 4)
    with pytest.raises(ValueError):
        options.parse_shard("4/4")


def test_prepare_urdf_resolves_package_paths_and_drops_collisions(tmp_path):
    pkg = tmp_path / "robot" / "my_pkg" / "meshes"
    pkg.mkdir(parents=True)
    (pkg / "a.obj").write_text("v 0 0 0\n")
    src = tmp_path / "robot" / "r.urdf"
    src.write_text("""<robot name="r"><link name="base">
      <visual><geometry><mesh filename="package://my_pkg/meshes/a.obj"/></geometry></visual>
      <collision><geometry><mesh filename="package://my_pkg/meshes/missing.obj"/></geometry></collision>
    </link><gazebo/></robot>""")
    out = prepare_urdf(src, tmp_path / "out" / "r.urdf")
    text = out.read_text()
    assert str((pkg / "a.obj").resolve()) in text and "collision" not in text and "gazebo" not in text
    src.write_text('<robot name="r"><link name="b"><visual><geometry><mesh filename="gone.obj"/></geometry>'
                   '</visual></link></robot>')
    with pytest.raises(URDFError, match="gone.obj"):
        prepare_urdf(src, tmp_path / "out" / "r2.urdf")


def test_manifest_merges_shards(tmp_path):
    for i in range(2):
        manifest.write(tmp_path, "robots", (i, 2), settings={"seed": 5}, counts={"rendered": 2 + i, "frames": 10},
                       assets=[{"name": "duck", "path": "/a/duck.obj", "source": "pybullet_data", "license": "zlib"}])
    m = json.loads((tmp_path / "manifest.json").read_text())["generators"]["robots"]
    assert m["counts"] == {"rendered": 5, "frames": 20} and set(m["shards"]) == {"0/2", "1/2"}
    assert len(m["assets"]) == 1 and m["seed"] == 5


def test_sheet_on_tiny_tree(tmp_path):
    from synth.sheet import write_sheet

    rng = np.random.default_rng(0)
    with layout.VideoWriter(tmp_path / "t", "vid", static_from=2) as w:
        for i in range(4):
            arm = np.zeros((40, 60), bool)
            arm[5:20, 10 + i:30 + i] = True
            w.write(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8), {"arm": arm})
    import cv2

    out = write_sheet(tmp_path / "t", tmp_path / "s.png", frames=4)
    img = cv2.imread(str(out))
    assert img.shape[1] >= 4 * 100
    # the arm overlay is red-tinted somewhere
    assert ((img[..., 2].astype(int) - img[..., 1]) > 60).any()
