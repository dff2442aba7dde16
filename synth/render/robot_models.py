"""The robots the ``robots`` generator can render: where their URDFs are and how their grippers work.

Every model names its arm joints (with a "home" pose facing +x and how far samples may stray from it),
its gripper drive joint (value when open and closed, and the jaw gap as a function of the drive value),
its gripper links (everything from ``gripper_root`` down) and the grasp frame (a link + offset, with the
axis along which the jaws close).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .urdf import Attachment, prepare_urdf, wsg50_urdf


@dataclass(frozen=True)
class RobotModel:
    name: str
    urdf: str                      # relative to pybullet_data
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
    # gap_* and grasp_offset were measured on the meshes: jaw gap between the finger pads' inner faces
    # (top 3 cm of the fingers) from urchin's visual FK at the open, half-open and closed drive values.

    def drive_for_gap(self, gap: float) -> float:
        t = (gap - self.gap_closed) / (self.gap_open - self.gap_closed)
        return self.drive_closed + t * (self.drive_open - self.drive_closed)

    def prepare(self, pybullet_data: str | Path, out_dir: str | Path) -> Path:
        """Write the load-ready URDF (gripper attached) into ``out_dir``."""
        out_dir = Path(out_dir)
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


def get(names: str | list[str]) -> list[RobotModel]:
    items = names.split(",") if isinstance(names, str) else list(names)
    out = []
    for n in items:
        n = n.strip().lower()
        if n not in MODELS:
            raise KeyError(f"unknown robot {n!r}; known: {', '.join(MODELS)}")
        out.append(MODELS[n])
    return out
