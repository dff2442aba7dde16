"""A URDF robot in the Blender scene: load it, label its links, pose its joints per keyframe.

Joint values are written straight onto the armature's pose bones (bone Y = joint axis, as BlenderProc's
loader builds them): revolute joints on the FK bone, which the deform bone copies; prismatic and
continuous joints (which the 2.8 loader leaves unconstrained) on both bones. This handles all joint types
and mimic joints, which ``URDFObject.set_rotation_euler_fk`` does not.
"""
from __future__ import annotations

from pathlib import Path

from .robot_models import RobotModel
from .urdf import Kinematics

ARM, GRIPPER = 1, 2  # category ids (see synth.render.scene.CATEGORY)


class BlenderRobot:
    def __init__(self, bproc, model: RobotModel, urdf_path: str | Path):
        self.model = model
        self.kin = Kinematics(urdf_path)
        self.obj = bproc.loader.load_urdf(str(urdf_path))
        gripper_links = self.kin.descendants(model.gripper_root) | set(model.extra_gripper_links)
        self.visuals = []
        for link in self.obj.links:
            for vis in link.get_visuals():
                vis.set_cp("category_id", GRIPPER if link.get_name() in gripper_links else ARM)
                self.visuals.append(vis)
        if not self.visuals:
            raise ValueError(f"{urdf_path}: robot has no visual meshes")
        self.links = {link.get_name(): link for link in self.obj.links}

    def set_joints(self, values: dict[str, float], frame: int) -> None:
        """Pose the robot at keyframe ``frame`` (mimic joints follow their drive joint)."""
        for name, value in self.kin.expand(values).items():
            joint = self.kin.joints[name]
            link = self.links.get(joint.child)
            if link is None or link.bone is None:
                continue
            value = float(value)
            if joint.joint_type == "prismatic":
                for bone in (link.bone, link.fk_bone):
                    bone.location = (0.0, value, 0.0)
                    bone.keyframe_insert(data_path="location", frame=frame)
            elif joint.joint_type in ("revolute", "continuous"):
                bones = (link.fk_bone,) if joint.joint_type == "revolute" else (link.bone, link.fk_bone)
                for bone in bones:
                    bone.rotation_mode = "XYZ"
                    bone.rotation_euler = (0.0, value, 0.0)
                    bone.keyframe_insert(data_path="rotation_euler", frame=frame)
