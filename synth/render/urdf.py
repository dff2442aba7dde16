"""URDF preparation and kinematics for the render scripts (stdlib XML + urchin; no Blender).

``prepare_urdf`` writes a load-ready copy of a robot description: ``package://`` mesh paths resolved,
every mesh path absolute and checked, collision/Gazebo/transmission elements dropped (the renderer needs
visuals only), and optionally a gripper description attached to a flange link by a fixed joint.
``Kinematics`` answers forward kinematics (link poses in the robot base frame) with urchin, the same
parser BlenderProc's loader uses, and expands mimic joints.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class URDFError(ValueError):
    """A URDF that cannot be used; the message names the file."""


def _resolve_mesh(filename: str, urdf_dir: Path) -> Path:
    if filename.startswith("package://"):
        package, _, rest = filename[len("package://"):].partition("/")
        candidates = [urdf_dir / package / rest, urdf_dir / rest, urdf_dir.parent / package / rest,
                      urdf_dir.parent / rest]
    elif filename.startswith("file://"):
        candidates = [Path(filename[len("file://"):])]
    else:
        candidates = [urdf_dir / filename]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise URDFError(f"{urdf_dir}: mesh {filename!r} not found")


def _parse(path: Path) -> ET.ElementTree:
    try:
        return ET.parse(path)
    except (ET.ParseError, OSError) as e:
        raise URDFError(f"{path}: cannot read URDF ({e})") from None


def _clean(root: ET.Element, urdf_dir: Path) -> None:
    for tag in ("gazebo", "transmission"):
        for el in root.findall(tag):
            root.remove(el)
    for link in root.findall("link"):
        for el in link.findall("collision"):
            link.remove(el)
        for mesh in link.iter("mesh"):
            mesh.set("filename", str(_resolve_mesh(mesh.get("filename", ""), urdf_dir)))


def prepare_urdf(src: str | Path, out: str | Path, attach: "Attachment | None" = None) -> Path:
    """Write a cleaned copy of ``src`` (and an attached gripper) to ``out``; returns ``out``."""
    src, out = Path(src), Path(out)
    tree = _parse(src)
    root = tree.getroot()
    if root.tag != "robot":
        raise URDFError(f"{src}: not a URDF (root element is <{root.tag}>)")
    _clean(root, src.parent)
    if attach is not None:
        gtree = _parse(Path(attach.urdf))
        groot = gtree.getroot()
        _clean(groot, Path(attach.urdf).parent)
        names = {l.get("name") for l in root.findall("link")}
        if attach.parent_link not in names:
            raise URDFError(f"{src}: no link {attach.parent_link!r} to attach the gripper to")
        children = {j.find("child").get("link") for j in groot.findall("joint")}
        base = [l.get("name") for l in groot.findall("link") if l.get("name") not in children]
        for el in list(groot):
            if el.tag in ("link", "joint", "material"):
                root.append(el)
        joint = ET.SubElement(root, "joint", name="gripper_attach_joint", type="fixed")
        ET.SubElement(joint, "parent", link=attach.parent_link)
        ET.SubElement(joint, "child", link=base[0])
        ET.SubElement(joint, "origin", xyz=" ".join(map(str, attach.xyz)), rpy=" ".join(map(str, attach.rpy)))
    out.parent.mkdir(parents=True, exist_ok=True)
    tree.write(out)
    return out


@dataclass(frozen=True)
class Attachment:
    urdf: str
    parent_link: str
    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)


def wsg50_urdf(pybullet_data: str | Path, out: str | Path) -> Path:
    """A URDF of pybullet's Schunk WSG50 gripper (its SDF's visual links and poses; the internal hinge
    boxes left out) with two prismatic fingers driven by ``wsg50_finger_left``; 0 = closed, 0.05 = open."""
    meshes = Path(pybullet_data) / "gripper" / "meshes"
    for m in ("WSG50_110.stl", "GUIDE_WSG50_110.stl", "WSG-FMF.stl", "l_gripper_tip_scaled.stl"):
        if not (meshes / m).is_file():
            raise URDFError(f"{meshes / m}: WSG50 mesh missing (pybullet_data incomplete?)")

    def finger(side: str, sign: float, yaw: float, tip_yaw: float) -> str:
        mimic = "" if side == "left" else '<mimic joint="wsg50_finger_left" multiplier="1" offset="0"/>'
        return f"""
  <link name="wsg50_{side}">
    <visual><origin xyz="0 0 -0.06" rpy="0 0 0"/>
      <geometry><mesh filename="{meshes / 'GUIDE_WSG50_110.stl'}" scale="0.001 0.001 0.001"/></geometry></visual>
    <visual><origin xyz="0 0 -0.037" rpy="0 0 0"/>
      <geometry><mesh filename="{meshes / 'WSG-FMF.stl'}" scale="0.001 0.001 0.001"/></geometry></visual>
  </link>
  <joint name="wsg50_finger_{side}" type="prismatic">
    <parent link="wsg50_base"/><child link="wsg50_{side}"/>
    <origin xyz="{sign * 0.0045:.4f} 0 0.06" rpy="0 0 {yaw}"/>
    <axis xyz="-1 0 0"/><limit lower="0" upper="0.05" effort="10" velocity="1"/>{mimic}
  </joint>
  <link name="wsg50_{side}_tip">
    <visual><origin xyz="0 0 0" rpy="0 0 0"/>
      <geometry><mesh filename="{meshes / 'l_gripper_tip_scaled.stl'}" scale="1 1 1"/></geometry></visual>
  </link>
  <joint name="wsg50_{side}_tip_joint" type="fixed">
    <parent link="wsg50_{side}"/><child link="wsg50_{side}_tip"/>
    <origin xyz="-0.007 0 0.085" rpy="0 0 {tip_yaw}"/>
  </joint>"""

    text = f"""<?xml version="1.0"?>
<robot name="wsg50">
  <link name="wsg50_base">
    <visual><origin xyz="0 0 0" rpy="0 0 0"/>
      <geometry><mesh filename="{meshes / 'WSG50_110.stl'}" scale="1 1 1"/></geometry></visual>
  </link>{finger("left", -1.0, 0.0, 4.71239)}{finger("right", 1.0, math.pi, 4.71239)}
</robot>
"""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return out


class Kinematics:
    """Forward kinematics of a prepared URDF (poses in the robot base frame)."""

    def __init__(self, urdf_path: str | Path):
        import urchin

        try:
            self.urdf = urchin.URDF.load(str(urdf_path), lazy_load_meshes=True)
        except Exception as e:  # urchin raises assorted errors for bad files
            raise URDFError(f"{urdf_path}: cannot parse URDF ({e})") from None
        self.joints = {j.name: j for j in self.urdf.joints}

    def limits(self, joint: str) -> tuple[float, float]:
        j = self.joints[joint]
        if j.limit is None or j.joint_type == "continuous":
            return -math.pi, math.pi
        return float(j.limit.lower), float(j.limit.upper)

    def expand(self, values: dict[str, float]) -> dict[str, float]:
        """Joint values with mimic joints filled in."""
        out = {k: float(v) for k, v in values.items()}
        for j in self.urdf.joints:
            if j.mimic is not None and j.mimic.joint in out:
                out[j.name] = float(j.mimic.multiplier * out[j.mimic.joint] + j.mimic.offset)
        return out

    def link_pose(self, values: dict[str, float], link: str) -> np.ndarray:
        return np.asarray(self.urdf.link_fk(cfg=self.expand(values), link=link), dtype=float)

    def child_joint(self, link: str):
        for j in self.urdf.joints:
            if j.child == link:
                return j
        return None

    def descendants(self, link: str) -> set[str]:
        out, todo = {link}, [link]
        while todo:
            cur = todo.pop()
            for j in self.urdf.joints:
                if j.parent == cur and j.child not in out:
                    out.add(j.child)
                    todo.append(j.child)
        return out
