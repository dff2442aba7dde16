"""The robots the ``robots`` generator can render: where their URDFs are and how their grippers work.

Every model names its arm joints (with a "home" pose facing +x and how far samples may stray from it),
its gripper drive joint (value when open and closed, and the jaw gap as a function of the drive value),
its gripper links (everything from ``gripper_root`` down) and the grasp frame (a link + offset, with the
axis along which the jaws close).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import mjcf
from .urdf import Attachment, prepare_urdf, wsg50_urdf


@dataclass(frozen=True)
class RobotModel:
    name: str
    urdf: str                      # relative to pybullet_data; "" for an MJCF robot (``mjcf``)
    arm_joints: tuple[str, ...]
    home: tuple[float, ...]
    spread: tuple[float, ...]      # max deviation from home per arm joint (rad)
    gripper_root: str              # first gripper link: it and its descendants are part "gripper"
    drive_joint: str
    drive_open: float
    drive_closed: float
    gap_open: float                # jaw gap (m) at drive_open; the gap is linear in the drive value
    gap_closed: float
    grasp_link: str
    grasp_offset: tuple[float, float, float]   # grasp centre in grasp_link's frame
    close_axis: int                # axis of grasp_link along which the jaws close (0 x, 1 y, 2 z)
    license: str
    gripper: str = ""              # "wsg50": attach pybullet's WSG50 at ``flange``
    flange: str = ""
    flange_xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    extra_gripper_links: tuple[str, ...] = field(default_factory=tuple)
    # robosuite MJCF robots: (arm xml, gripper xml) relative to robosuite's models/assets, the gripper mounted
    # on the arm's ``right_hand`` body; coupled gripper joints as (joint, drive joint, multiplier)
    mjcf: tuple[str, str] = ()
    mimic: tuple[tuple[str, str, float], ...] = ()
    # gap_* and grasp_offset were measured on the meshes: jaw gap between the finger pads' inner faces
    # (top 3 cm of the fingers) from urchin's visual FK at the open, half-open and closed drive values.

    def drive_for_gap(self, gap: float) -> float:
        t = (gap - self.gap_closed) / (self.gap_open - self.gap_closed)
        return self.drive_closed + t * (self.drive_open - self.drive_closed)

    def prepare(self, pybullet_data: str | Path, out_dir: str | Path) -> Path:
        """Write the load-ready URDF (gripper attached) into ``out_dir``."""
        out_dir = Path(out_dir)
        if self.mjcf:
            root = mjcf.robosuite_assets()
            return mjcf.mjcf_to_urdf(root / self.mjcf[0], out_dir / f"{self.name}.urdf", root / self.mjcf[1],
                                     mimic={j: (d, m) for j, d, m in self.mimic}, name=self.name)
        attach = None
        if self.gripper == "wsg50":
            attach = Attachment(str(wsg50_urdf(pybullet_data, out_dir / "wsg50.urdf")), self.flange,
                                self.flange_xyz)
        return prepare_urdf(Path(pybullet_data) / self.urdf, out_dir / f"{self.name}.urdf", attach)


MODELS: dict[str, RobotModel] = {
    "panda": RobotModel(
        name="panda", urdf="franka_panda/panda.urdf",
        arm_joints=tuple(f"panda_joint{i}" for i in range(1, 8)),
        home=(0.0, 0.2, 0.0, -2.0, 0.0, 2.2, 0.785),
        spread=(1.2, 0.6, 0.6, 0.6, 1.0, 0.5, 1.2),
        gripper_root="panda_hand", drive_joint="panda_finger_joint1",
        drive_open=0.04, drive_closed=0.0, gap_open=0.08, gap_closed=0.0,
        grasp_link="panda_hand", grasp_offset=(0.0, 0.0, 0.092), close_axis=1,
        license="Apache-2.0 (franka_ros Panda meshes, via pybullet_data)"),
    "kuka": RobotModel(
        name="kuka", urdf="kuka_iiwa/model.urdf",
        arm_joints=tuple(f"lbr_iiwa_joint_{i}" for i in range(1, 8)),
        home=(0.0, 0.5, 0.0, -1.4, 0.0, 1.0, 0.0),
        spread=(1.2, 0.5, 0.6, 0.5, 1.0, 0.6, 1.5),
        gripper_root="wsg50_base", drive_joint="wsg50_finger_left",
        drive_open=0.04, drive_closed=0.0, gap_open=0.086, gap_closed=0.006,
        grasp_link="wsg50_base", grasp_offset=(0.0, 0.0, 0.24), close_axis=0,
        gripper="wsg50", flange="lbr_iiwa_link_7", flange_xyz=(0.0, 0.0, 0.045),
        license="BSD (KUKA iiwa and WSG50 models from pybullet_data, zlib)"),
    "xarm": RobotModel(
        name="xarm", urdf="xarm/xarm6_with_gripper.urdf",
        arm_joints=tuple(f"joint{i}" for i in range(1, 7)),
        home=(0.0, 0.0, -0.8, 0.0, 0.8, 0.0),
        spread=(1.2, 0.5, 0.5, 1.0, 0.6, 1.5),
        gripper_root="xarm_gripper_base_link", drive_joint="drive_joint",
        drive_open=0.0, drive_closed=0.85, gap_open=0.089, gap_closed=0.002,
        grasp_link="xarm_gripper_base_link", grasp_offset=(0.0, 0.0, 0.15), close_axis=1,
        license="BSD-3-Clause (UFACTORY xarm_ros description, via pybullet_data)"),
}

# robosuite's arms (MJCF, converted by synth.render.mjcf). Homes: robosuite's initial pose moved (least squares)
# so that the grasp point is at (0.5, 0, 0.27) m with the approach pointing down, as for the models above.
# Robotiq 2F-85: the jaw gap is 0.086 m at drive 0 and 0.002 m at 0.8 (pad faces from urchin's FK; the gap is
# not quite linear in the drive: at 0.4 the linear model is 2.6 mm narrower). Rethink electric gripper (narrow
# fingers): 0.079 m open, 0.014 m closed (it cannot close further).
_ROBOTIQ85 = dict(
    gripper_root="robotiq_85_adapter_link", drive_joint="finger_joint", drive_open=0.0, drive_closed=0.8,
    gap_open=0.086, gap_closed=0.002, grasp_link="robotiq_85_adapter_link", grasp_offset=(0.0, 0.0, 0.14),
    close_axis=1,
    mimic=(("right_outer_knuckle_joint", "finger_joint", 1.0), ("left_inner_knuckle_joint", "finger_joint", 1.0),
           ("right_inner_knuckle_joint", "finger_joint", 1.0), ("left_inner_finger_joint", "finger_joint", -1.0),
           ("right_inner_finger_joint", "finger_joint", -1.0)))
# Robotiq 2F-140 (robosuite's MJCF couples its joints by tendons; here the linkage is made rigid instead: the
# inner knuckle turns with the outer one and the inner finger counter-rotates, so the pads stay parallel):
# finger_joint 0 = open, 0.7 = closed; pad gap 0.1285 m open and 0 closed (pad tips from urchin's FK; at 0.35
# the linear model is 4 mm narrower). The grasp frame is robosuite's ``eef`` body (z along the fingers, x the
# closing axis), 20.75 cm in front of the flange; the pad centres move 1-2 cm along z as the jaws close.
_ROBOTIQ140 = dict(
    gripper_root="right_gripper", drive_joint="finger_joint", drive_open=0.0, drive_closed=0.7,
    gap_open=0.1285, gap_closed=0.0, grasp_link="eef", grasp_offset=(0.0, 0.0, -0.005), close_axis=0,
    mimic=(("left_inner_finger_joint", "finger_joint", 1.0), ("left_inner_knuckle_joint", "finger_joint", -1.0),
           ("right_outer_knuckle_joint", "finger_joint", -1.0), ("right_inner_finger_joint", "finger_joint", 1.0),
           ("right_inner_knuckle_joint", "finger_joint", -1.0)))
_RS_LICENSE = mjcf.ROBOSUITE_LICENSE
MODELS.update({
    "ur5e": RobotModel(
        name="ur5e", urdf="", mjcf=("robots/ur5e/robot.xml", "grippers/robotiq_gripper_85.xml"),
        arm_joints=("shoulder_pan_joint", "shoulder_lift_joint", "elbow_joint", "wrist_1_joint", "wrist_2_joint",
                    "wrist_3_joint"),
        home=(-0.279, -1.607, 1.811, -1.808, -1.565, -1.991), spread=(1.2, 0.5, 0.5, 1.0, 0.6, 1.5),
        license=f"{_RS_LICENSE}: UR5e + Robotiq 2F-85", **_ROBOTIQ85),
    "kinova3": RobotModel(
        name="kinova3", urdf="", mjcf=("robots/kinova3/robot.xml", "grippers/robotiq_gripper_85.xml"),
        arm_joints=tuple(f"Actuator{i}" for i in range(1, 8)),
        home=(-0.048, 0.441, -0.003, 1.406, 0.002, 1.256, -1.571), spread=(1.2, 0.5, 0.6, 0.5, 1.0, 0.6, 1.5),
        license=f"{_RS_LICENSE}: Kinova Gen3 + Robotiq 2F-85", **_ROBOTIQ85),
    "jaco": RobotModel(
        name="jaco", urdf="", mjcf=("robots/jaco/robot.xml", "grippers/robotiq_gripper_85.xml"),
        arm_joints=tuple(f"j2s7s300_joint_{i}" for i in range(1, 8)),
        home=(3.179, 3.643, -0.028, 1.684, 0.015, 4.29, 3.142), spread=(1.2, 0.5, 0.6, 0.5, 1.0, 0.6, 1.5),
        license=f"{_RS_LICENSE}: Kinova Jaco + Robotiq 2F-85", **_ROBOTIQ85),
    "sawyer": RobotModel(
        name="sawyer", urdf="", mjcf=("robots/sawyer/robot.xml", "grippers/rethink_gripper.xml"),
        arm_joints=tuple(f"right_j{i}" for i in range(7)),
        home=(-0.198, -1.405, -0.165, 1.927, 0.037, 1.036, -1.57), spread=(1.2, 0.5, 0.6, 0.5, 1.0, 0.6, 1.5),
        gripper_root="gripper_base", drive_joint="l_finger_joint", drive_open=0.020833, drive_closed=-0.0115,
        gap_open=0.079, gap_closed=0.014, grasp_link="gripper_base", grasp_offset=(0.0, 0.0, 0.10), close_axis=1,
        mimic=(("r_finger_joint", "l_finger_joint", -1.0),),
        license=f"{_RS_LICENSE}: Rethink Sawyer + electric gripper"),
    # iiwa140: in renders the object sits beside the closing jaws rather than between them (grasp frame not yet
    # checked against the meshes); not used in training so far (eval/QUALITY.md)
    "iiwa140": RobotModel(
        name="iiwa140", urdf="", mjcf=("robots/iiwa/robot.xml", "grippers/robotiq_gripper_140.xml"),
        arm_joints=tuple(f"joint_{i}" for i in range(1, 8)),
        home=(0.0, 0.303, 0.0, -1.586, 0.0, 1.251, 0.0), spread=(1.2, 0.5, 0.6, 0.5, 1.0, 0.6, 1.5),
        license=f"{_RS_LICENSE}: KUKA LBR iiwa + Robotiq 2F-140", **_ROBOTIQ140),
    "panda140": RobotModel(
        name="panda140", urdf="", mjcf=("robots/panda/robot.xml", "grippers/robotiq_gripper_140.xml"),
        arm_joints=tuple(f"joint{i}" for i in range(1, 8)),
        home=(0.0, -0.173, 0.0, -2.164, 0.0, 1.993, 0.785), spread=(1.2, 0.5, 0.6, 0.5, 1.0, 0.6, 1.2),
        license=f"{_RS_LICENSE}: Franka Panda + Robotiq 2F-140", **_ROBOTIQ140),
})


def get(names: str | list[str]) -> list[RobotModel]:
    items = names.split(",") if isinstance(names, str) else list(names)
    out = []
    for n in items:
        n = n.strip().lower()
        if n not in MODELS:
            raise KeyError(f"unknown robot {n!r}; known: {', '.join(MODELS)}")
        out.append(MODELS[n])
    return out
