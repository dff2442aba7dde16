"""MJCF -> URDF conversion (synth/render/mjcf.py): frames, joints, defaults, geoms and the gripper mount,
checked by forward kinematics of the written URDF against a naive MJCF forward kinematics.

The converter needs only numpy and the standard library, so these run in the main environment; the robosuite
models themselves are checked in the render environment (tests/test_render.py).
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from synth.render.mjcf import _quat_matrix, _rpy_matrix, mjcf_to_urdf, rpy
from synth.render.urdf import URDFError

ARM = """<mujoco model="toy">
  <compiler angle="{angle}" meshdir="parts"/>
  <asset>
    <mesh name="link" file="link.obj" scale="0.5 0.5 0.5"/>
    <mesh name="ghost" file="missing.obj"/>
    <material name="red" rgba="0.8 0.1 0.1 1"/>
  </asset>
  <default>
    <default class="visual"><geom type="mesh" group="1" contype="0" conaffinity="0"/></default>
  </default>
  <worldbody>
    <body name="base" pos="0 0 0.1">
      <geom mesh="link" class="visual" material="red"/>
      <geom type="box" size="0.2 0.2 0.05" name="collision_only"/>
      <body name="upper" pos="0 0 0.3" quat="0.9238795 0 0.3826834 0">
        <joint name="j1" axis="0 0 1" range="-{lim} {lim}" limited="true"/>
        <geom type="box" size="0.05 0.02 0.1" pos="0 0 0.1" group="1" rgba="0 0 1 1"/>
        <body name="fore" pos="0 0 0.4" euler="{euler}">
          <joint name="j2" axis="0 1 0" pos="0 0 0.05"/>
          <geom type="cylinder" fromto="0 0 0 0 0 0.3" size="0.03" group="1"/>
          <body name="right_hand" pos="0 0 0.3"/>
        </body>
      </body>
    </body>
  </worldbody>
</mujoco>
"""
GRIPPER = """<mujoco model="claw">
  <worldbody>
    <body name="claw_base" pos="0 0 0.02">
      <geom type="sphere" size="0.03" group="1" rgba="0.2 0.2 0.2 1"/>
      <body name="finger_l" pos="0 0.02 0.05">
        <joint name="fl" type="slide" axis="0 1 0" range="0 0.04"/>
        <geom type="box" size="0.005 0.005 0.02" group="1"/>
      </body>
      <body name="finger_r" pos="0 -0.02 0.05">
        <joint name="fr" type="slide" axis="0 -1 0" range="0 0.04"/>
        <geom type="box" size="0.005 0.005 0.02" group="1"/>
      </body>
    </body>
  </worldbody>
</mujoco>
"""


def _write(tmp_path, angle="radian", euler="0 0.5 0", lim="1.5"):
    (tmp_path / "parts").mkdir(exist_ok=True)
    (tmp_path / "parts" / "link.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    arm = tmp_path / "arm.xml"
    arm.write_text(ARM.format(angle=angle, euler=euler, lim=lim))
    grip = tmp_path / "claw.xml"
    grip.write_text(GRIPPER)
    return arm, grip


def _pose(origin: ET.Element | None) -> np.ndarray:
    m = np.eye(4)
    if origin is not None:
        m[:3, 3] = [float(v) for v in origin.get("xyz", "0 0 0").split()]
        m[:3, :3] = _rpy_matrix(*[float(v) for v in origin.get("rpy", "0 0 0").split()])
    return m


def _axis_rotation(axis, angle) -> np.ndarray:
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * k @ k


def urdf_fk(path, values: dict[str, float]) -> dict[str, np.ndarray]:
    """Link poses of a URDF (naive: origin, then the joint's motion about/along its axis; mimic joints)."""
    root = ET.parse(path).getroot()
    joints = {j.find("child").get("link"): j for j in root.findall("joint")}
    values = dict(values)
    for j in root.findall("joint"):
        m = j.find("mimic")
        if m is not None:
            values[j.get("name")] = float(m.get("multiplier")) * values.get(m.get("joint"), 0.0)
    poses = {}

    def pose(link):
        if link in poses:
            return poses[link]
        j = joints.get(link)
        if j is None:
            poses[link] = np.eye(4)
            return poses[link]
        m = pose(j.find("parent").get("link")) @ _pose(j.find("origin"))
        q = values.get(j.get("name"), 0.0)
        axis = [float(v) for v in j.find("axis").get("xyz").split()] if j.find("axis") is not None else [1, 0, 0]
        motion = np.eye(4)
        if j.get("type") in ("revolute", "continuous"):
            motion[:3, :3] = _axis_rotation(axis, q)
        elif j.get("type") == "prismatic":
            motion[:3, 3] = np.asarray(axis, float) * q
        poses[link] = m @ motion
        return poses[link]

    for link in root.findall("link"):
        pose(link.get("name"))
    return poses


def mjcf_point(q1: float, q2: float, euler_y: float, local) -> np.ndarray:
    """World position of a point given in body 'fore's frame, by MuJoCo's rules written out by hand."""
    def tr(p):
        m = np.eye(4)
        m[:3, 3] = p
        return m

    def rot(r):
        m = np.eye(4)
        m[:3, :3] = r
        return m

    base = tr([0, 0, 0.1])
    upper = base @ tr([0, 0, 0.3]) @ rot(_quat_matrix([0.9238795, 0, 0.3826834, 0])) @ rot(_axis_rotation([0, 0, 1], q1))
    # a hinge at pos p inside the body rotates the body about the axis through p
    joint = tr([0, 0, 0.05]) @ rot(_axis_rotation([0, 1, 0], q2)) @ tr([0, 0, -0.05])
    fore = upper @ tr([0, 0, 0.4]) @ rot(_axis_rotation([0, 1, 0], euler_y)) @ joint
    return (fore @ np.r_[local, 1])[:3]


def test_rpy_round_trip():
    rng = np.random.default_rng(0)
    for _ in range(50):
        q = rng.normal(size=4)
        r = _quat_matrix(q)
        assert np.allclose(_rpy_matrix(*rpy(r)), r, atol=1e-9)
    r = _axis_rotation([0, 1, 0], math.pi / 2)  # gimbal lock
    assert np.allclose(_rpy_matrix(*rpy(r)), r, atol=1e-9)


@pytest.mark.parametrize("angle,euler,lim", [("radian", "0 0.5 0", "1.5"), ("degree", "0 28.64789 0", "85.94367")])
def test_arm_kinematics_match_mujoco(tmp_path, angle, euler, lim):
    arm, grip = _write(tmp_path, angle, euler, lim)
    out = mjcf_to_urdf(arm, tmp_path / "toy.urdf", grip, mimic={"fr": ("fl", 1.0)})
    root = ET.parse(out).getroot()
    joints = {j.get("name"): j for j in root.findall("joint")}
    assert joints["j1"].get("type") == "revolute"
    lo, hi = float(joints["j1"].find("limit").get("lower")), float(joints["j1"].find("limit").get("upper"))
    assert lo == pytest.approx(-1.5, abs=1e-4) and hi == pytest.approx(1.5, abs=1e-4)
    assert joints["j2"].get("type") == "continuous"  # no range: unlimited hinge
    assert joints["fl"].get("type") == "prismatic" and joints["fr"].find("mimic").get("joint") == "fl"
    for q1, q2 in [(0.0, 0.0), (0.7, -1.1), (-1.2, 2.5)]:
        poses = urdf_fk(out, {"j1": q1, "j2": q2})
        for local in ([0, 0, 0], [0.1, -0.2, 0.3], [0, 0, 0.3]):
            # the URDF link frame sits at the joint (pos 0 0 0.05 in the body): body points move by -pos
            got = (poses["fore"] @ np.r_[np.asarray(local) - [0, 0, 0.05], 1])[:3]
            assert np.allclose(got, mjcf_point(q1, q2, 0.5, local), atol=1e-5), (q1, q2, local)
    # the gripper hangs under right_hand, 2 cm down its z axis; the fingers open symmetrically
    poses = urdf_fk(out, {"j1": 0.3, "j2": 0.4, "fl": 0.03})
    assert np.allclose(poses["claw_base"], poses["right_hand"] @ _pose(ET.fromstring('<o xyz="0 0 0.02"/>')))
    left = np.linalg.inv(poses["claw_base"]) @ poses["finger_l"]
    right = np.linalg.inv(poses["claw_base"]) @ poses["finger_r"]
    assert left[1, 3] == pytest.approx(0.05) and right[1, 3] == pytest.approx(-0.05)


@pytest.mark.parametrize("angle", ["radian", "degree"])
def test_gripper_without_compiler_takes_the_arms_angle_unit(tmp_path, angle):
    """robosuite's gripper files have no <compiler>: merged into the arm's model they use its angle unit."""
    arm, _ = _write(tmp_path, angle, "0 0 0", "1.5" if angle == "radian" else "85.94367")
    grip = tmp_path / "hinge_claw.xml"
    grip.write_text('<mujoco><worldbody><body name="claw_base"><geom type="sphere" size="0.03" group="1"/>'
                    '<body name="finger"><joint name="f" axis="1 0 0" range="0 0.8" limited="true"/>'
                    '<geom type="box" size="0.01 0.01 0.02" group="1"/></body></body></worldbody></mujoco>')
    out = mjcf_to_urdf(arm, tmp_path / "toy.urdf", grip)
    (f,) = [j for j in ET.parse(out).getroot().findall("joint") if j.get("name") == "f"]
    upper = float(f.find("limit").get("upper"))
    assert upper == pytest.approx(0.8 if angle == "radian" else math.radians(0.8), abs=1e-6)


def test_visual_geoms(tmp_path):
    arm, grip = _write(tmp_path)
    out = mjcf_to_urdf(arm, tmp_path / "toy.urdf")
    root = ET.parse(out).getroot()
    links = {l.get("name"): l for l in root.findall("link")}
    base = links["base"].findall("visual")
    assert len(base) == 1  # the collision box (group 0) is left out
    mesh = base[0].find("geometry/mesh")
    assert mesh.get("filename").endswith("parts/link.obj") and mesh.get("scale") == "0.5 0.5 0.5"
    assert base[0].find("material/color").get("rgba").startswith("0.8 0.1 0.1")
    box = links["upper"].find("visual/geometry/box")
    assert [float(v) for v in box.get("size").split()] == pytest.approx([0.1, 0.04, 0.2])
    # fromto cylinder: length 0.3, centred half-way, shifted by the joint's pos (the link frame sits at the joint)
    cyl = links["fore"].find("visual")
    assert float(cyl.find("geometry/cylinder").get("length")) == pytest.approx(0.3)
    assert [float(v) for v in cyl.find("origin").get("xyz").split()] == pytest.approx([0, 0, 0.1], abs=1e-6)


def test_bad_files(tmp_path):
    arm, grip = _write(tmp_path)
    with pytest.raises(URDFError, match="no body 'nowhere'"):
        mjcf_to_urdf(arm, tmp_path / "a.urdf", grip, mount="nowhere")
    bad = tmp_path / "bad.xml"
    bad.write_text("<mujoco><worldbody><body name='b'><geom mesh='ghost' group='1'/></body></worldbody></mujoco>")
    with pytest.raises(URDFError, match="unknown mesh 'ghost'"):
        mjcf_to_urdf(bad, tmp_path / "b.urdf")
    ball = tmp_path / "ball.xml"
    ball.write_text("<mujoco><worldbody><body name='a'><geom type='sphere' size='0.1' group='1'/>"
                    "<body name='b'><joint type='ball'/></body></body></worldbody></mujoco>")
    with pytest.raises(URDFError, match="body 'b' has a joint the renderer cannot pose"):
        mjcf_to_urdf(ball, tmp_path / "c.urdf")
    (tmp_path / "robot.urdf").write_text("<robot/>")
    with pytest.raises(URDFError, match="not an MJCF file"):
        mjcf_to_urdf(tmp_path / "robot.urdf", tmp_path / "d.urdf")
    (tmp_path / "broken.xml").write_text("<mujoco><worldbody>")
    with pytest.raises(URDFError, match="broken.xml: cannot read MJCF"):
        mjcf_to_urdf(tmp_path / "broken.xml", tmp_path / "e.urdf")
