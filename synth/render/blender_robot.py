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
        self.gripper_links = gripper_links

    def repaint(self, bproc, rng) -> dict:
        """Domain randomisation of the robot's look: every material of the arm, and separately of the gripper,
        is replaced by one of a small random palette (1-3 colours, from black to white, grey or saturated, with
        random roughness and metalness). Visuals that shared a material share its replacement, so the design's
        structure (links, joint rings, covers) stays. Returns the palettes (for the video's meta)."""
        import colorsys

        def colour():  # a quarter near-black, a quarter white/light grey, half coloured or mid grey
            u = rng.random()
            if u < 0.25:
                hsv = (rng.random(), rng.uniform(0.0, 0.3), rng.uniform(0.02, 0.12))
            elif u < 0.5:
                hsv = (rng.random(), rng.uniform(0.0, 0.1), rng.uniform(0.7, 0.95))
            else:
                hsv = (rng.random(), rng.uniform(0.0, 0.12) if rng.random() < 0.3 else rng.uniform(0.35, 0.95),
                       rng.uniform(0.2, 0.9))
            return [float(c) for c in colorsys.hsv_to_rgb(*hsv)]

        palettes, done = {}, {}
        for part in ("arm", "gripper"):
            palettes[part] = []
            for k in range(int(rng.integers(1, 4))):
                mat = bproc.material.create(f"robot_paint_{part}{k}")
                rgb = colour()
                mat.set_principled_shader_value("Base Color", [*rgb, 1.0])
                mat.set_principled_shader_value("Roughness", float(rng.uniform(0.15, 0.85)))
                mat.set_principled_shader_value("Metallic", float(rng.uniform(0.3, 0.9) if rng.random() < 0.25 else 0.0))
                palettes[part].append((mat, [round(c, 3) for c in rgb]))
        for link in self.obj.links:
            part = "gripper" if link.get_name() in self.gripper_links else "arm"
            for vis in link.get_visuals():
                mats = [m for m in vis.get_materials() if m is not None]
                key = (part, mats[0].get_name() if mats else "")
                if key not in done:  # the first region of a material keeps the main colour more often
                    pal = palettes[part]
                    done[key] = pal[0][0] if rng.random() < 0.6 else pal[int(rng.integers(len(pal)))][0]
                vis.replace_materials(done[key])
        return {part: [rgb for _, rgb in pal] for part, pal in palettes.items()}

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
