"""MJCF (MuJoCo) robot descriptions -> URDF for the renderer: robosuite's arms and grippers.

The ``robosuite`` wheel ships MJCF models with meshes of many arms (UR5e, Kinova Gen3, Jaco, Sawyer, ...) and
grippers (Robotiq 2F-85/140, Rethink, Panda, ...); the render environment installs it for these assets only
(``pip install --no-deps robosuite``: its simulator is never imported). ``mjcf_to_urdf`` writes a URDF with the
arm's body tree (bodies -> links, hinge/slide joints -> revolute/continuous/prismatic joints), the visual
geoms (robosuite's group 1: meshes, boxes, cylinders, spheres) with their materials' colours, and optionally a
gripper MJCF mounted on one of the arm's bodies by a fixed joint, as robosuite mounts it on ``right_hand``.

MJCF details handled: ``<default>`` classes (nested, ``class`` and ``childclass``), ``<compiler angle meshdir>``,
body/geom frames given as ``quat``, ``axisangle`` or ``euler`` (xyz), joint ``pos`` offsets inside a body, mesh
``scale``, ``fromto`` cylinders/capsules (capsules rendered as cylinders). Coupled gripper joints (MuJoCo
tendons and equalities) become URDF ``<mimic>`` joints given by the caller.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from .urdf import URDFError

ROBOSUITE_LICENSE = "MIT (robosuite models and meshes)"


def robosuite_assets() -> Path:
    """robosuite's ``models/assets`` folder, found without importing robosuite (or its simulator)."""
    import importlib.util

    spec = importlib.util.find_spec("robosuite")
    if spec is None or not spec.submodule_search_locations:
        raise URDFError("robosuite is not installed in the render environment (its MJCF robots need it: "
                        "`make render-env`, or `pip install --no-deps robosuite==1.5.2`)")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "assets"
    if not path.is_dir():
        raise URDFError(f"{path}: robosuite has no model assets here")
    return path


# ---- small rigid-transform helpers (4x4 matrices) ----

def _vec(text: str | None, n: int, default) -> np.ndarray:
    if text is None:
        return np.asarray(default, float)
    vals = [float(x) for x in text.split()]
    if len(vals) != n:
        raise ValueError(f"expected {n} numbers, got {text!r}")
    return np.asarray(vals, float)


def _quat_matrix(q) -> np.ndarray:
    w, x, y, z = np.asarray(q, float) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _axis_angle_matrix(axis, angle: float) -> np.ndarray:
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    return _quat_matrix([math.cos(angle / 2), *(math.sin(angle / 2) * a)])


def rpy(r: np.ndarray) -> tuple[float, float, float]:
    """URDF roll-pitch-yaw (R = Rz(yaw) Ry(pitch) Rx(roll)) of a rotation matrix."""
    pitch = math.asin(-max(-1.0, min(1.0, r[2, 0])))
    if abs(r[2, 0]) < 1 - 1e-9:
        roll, yaw = math.atan2(r[2, 1], r[2, 2]), math.atan2(r[1, 0], r[0, 0])
    else:  # gimbal lock: put everything into yaw
        roll, yaw = 0.0, math.atan2(-r[0, 1], r[1, 1])
    return roll, pitch, yaw


def _rpy_matrix(roll: float, pitch: float, yaw: float) -> np.ndarray:
    cr, sr, cp, sp, cy, sy = (math.cos(roll), math.sin(roll), math.cos(pitch), math.sin(pitch),
                              math.cos(yaw), math.sin(yaw))
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _pose(pos=(0, 0, 0), rot=None) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = pos
    if rot is not None:
        m[:3, :3] = rot
    return m


class _Model:
    """One MJCF file: its defaults, assets and angle convention."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.root = ET.parse(path).getroot()
        except (ET.ParseError, OSError) as e:
            raise URDFError(f"{path}: cannot read MJCF ({e})") from None
        if self.root.tag != "mujoco":
            raise URDFError(f"{path}: not an MJCF file (root element is <{self.root.tag}>)")
        comp = self.root.find("compiler")
        self.degrees = (comp.get("angle", "degree") if comp is not None else "degree") == "degree"  # MuJoCo's default
        meshdir = comp.get("meshdir", "") if comp is not None else ""
        self.defaults: dict[str, dict[str, str]] = {}
        for d in self.root.findall("default"):
            self._read_defaults(d, {}, "main")
        self.meshes: dict[str, tuple[Path, str]] = {}
        self.materials: dict[str, tuple[float, ...]] = {}
        for asset in self.root.findall("asset"):
            for m in asset.findall("mesh"):
                f = m.get("file")
                if not f:
                    continue
                name = m.get("name") or Path(f).stem
                file = (path.parent / meshdir / f).resolve()
                if name not in self.meshes or file.is_file():  # a repeated name: the one whose file exists
                    self.meshes[name] = (file, m.get("scale", "1 1 1"))
            for m in asset.findall("material"):
                self.materials[m.get("name", "")] = tuple(_vec(m.get("rgba"), 4, (1, 1, 1, 1)))

    def _read_defaults(self, el: ET.Element, inherited: dict, name: str) -> None:
        geom = dict(inherited)
        g = el.find("geom")
        if g is not None:
            geom.update(g.attrib)
        self.defaults[el.get("class", name)] = geom
        for child in el.findall("default"):
            self._read_defaults(child, geom, child.get("class", name))

    def geom_attrs(self, geom: ET.Element, childclass: str | None) -> dict[str, str]:
        cls = geom.get("class") or childclass or "main"
        attrs = dict(self.defaults.get("main", {}))
        attrs.update(self.defaults.get(cls, {}))
        attrs.update(geom.attrib)
        return attrs

    def angle(self, value: float) -> float:
        return math.radians(value) if self.degrees else value

    def frame(self, attrs: dict[str, str]) -> np.ndarray:
        """4x4 pose of a body or geom from pos + quat | axisangle | euler (xyz, intrinsic)."""
        rot = np.eye(3)
        if "quat" in attrs:
            rot = _quat_matrix(_vec(attrs["quat"], 4, None))
        elif "axisangle" in attrs:
            a = _vec(attrs["axisangle"], 4, None)
            rot = _axis_angle_matrix(a[:3], self.angle(a[3]))
        elif "euler" in attrs:
            e = [self.angle(v) for v in _vec(attrs["euler"], 3, None)]
            rot = _axis_angle_matrix([1, 0, 0], e[0]) @ _axis_angle_matrix([0, 1, 0], e[1]) @ \
                _axis_angle_matrix([0, 0, 1], e[2])
        return _pose(_vec(attrs.get("pos"), 3, (0, 0, 0)), rot)


def _origin(parent: ET.Element, m: np.ndarray) -> None:
    ET.SubElement(parent, "origin", xyz=" ".join(f"{v:.6g}" for v in m[:3, 3]),
                  rpy=" ".join(f"{v:.6g}" for v in rpy(m[:3, :3])))


class _Writer:
    def __init__(self, name: str):
        self.robot = ET.Element("robot", name=name)
        self.links: set[str] = set()
        self.colours: dict[tuple, str] = {}

    def material(self, rgba) -> str:
        key = tuple(round(float(c), 4) for c in rgba)
        if key not in self.colours:
            self.colours[key] = f"{self.robot.get('name')}_rgba_{len(self.colours)}"
        return self.colours[key]

    def link_name(self, wanted: str) -> str:
        name, k = wanted, 1
        while name in self.links:
            name, k = f"{wanted}_{k}", k + 1
        self.links.add(name)
        return name

    def visual(self, link: ET.Element, model: _Model, attrs: dict[str, str], shift: np.ndarray) -> None:
        kind = attrs.get("type", "mesh" if "mesh" in attrs else "sphere")
        pose = shift @ model.frame(attrs)
        geometry = ET.Element("geometry")
        size = _vec(attrs.get("size"), len(attrs.get("size", "0").split()), (0,))
        if kind == "mesh":
            mesh = attrs.get("mesh")
            if mesh not in model.meshes:
                raise URDFError(f"{model.path}: geom uses unknown mesh {mesh!r}")
            file, scale = model.meshes[mesh]
            if not file.is_file():
                raise URDFError(f"{model.path}: mesh file {str(file)!r} not found")
            ET.SubElement(geometry, "mesh", filename=str(file), scale=scale)
        elif kind in ("cylinder", "capsule"):
            if "fromto" in attrs:
                ft = _vec(attrs["fromto"], 6, None)
                a, b = ft[:3], ft[3:]
                axis = b - a
                length = float(np.linalg.norm(axis))
                z = np.array([0.0, 0.0, 1.0])
                v = np.cross(z, axis / length)
                rot = np.eye(3) if np.linalg.norm(v) < 1e-9 else _axis_angle_matrix(
                    v, math.acos(float(np.clip(axis[2] / length, -1, 1))))
                pose = shift @ _pose((a + b) / 2, rot)
            else:
                length = 2 * float(size[1])
            ET.SubElement(geometry, "cylinder", radius=f"{float(size[0]):.6g}", length=f"{length:.6g}")
        elif kind == "box":
            ET.SubElement(geometry, "box", size=" ".join(f"{2 * float(s):.6g}" for s in size[:3]))
        elif kind == "sphere":
            ET.SubElement(geometry, "sphere", radius=f"{float(size[0]):.6g}")
        else:  # planes, ellipsoids, height fields: not part of a robot's look
            return
        mat = attrs.get("material")
        rgba = model.materials.get(mat) if mat else None
        if rgba is None:
            rgba = tuple(_vec(attrs.get("rgba"), 4, (0.5, 0.5, 0.5, 1)))
        if rgba[3] < 0.05:  # invisible helper geoms
            return
        vis = ET.SubElement(link, "visual")
        _origin(vis, pose)
        vis.append(geometry)
        material = ET.SubElement(vis, "material", name=self.material(rgba))
        ET.SubElement(material, "color", rgba=" ".join(f"{c:.4g}" for c in rgba))

    def body(self, model: _Model, body: ET.Element, parent: str | None, parent_shift: np.ndarray,
             childclass: str | None, mount: dict, mimic: dict) -> str:
        """Write ``body`` (and its subtree) as links; returns its link name."""
        name = self.link_name(body.get("name") or f"body{len(self.links)}")
        childclass = body.get("childclass") or childclass
        joints = [j for j in body.findall("joint") if j.get("type", "hinge") in ("hinge", "slide")]
        if len([j for j in body if j.tag in ("joint", "freejoint")]) > len(joints) or len(joints) > 1:
            raise URDFError(f"{model.path}: body {name!r} has a joint the renderer cannot pose "
                            "(only one hinge or slide joint per body)")
        jpos = _vec(joints[0].get("pos"), 3, (0, 0, 0)) if joints else np.zeros(3)
        shift = _pose(-jpos)  # this link's frame sits at the joint; its contents move by -jpos
        link = ET.SubElement(self.robot, "link", name=name)
        for g in body.findall("geom"):
            attrs = model.geom_attrs(g, childclass)
            if attrs.get("group", "0") == "1":
                self.visual(link, model, attrs, shift)
        if parent is not None:
            origin = parent_shift @ model.frame(body.attrib) @ _pose(jpos)
            if joints:
                j = joints[0]
                limited = j.get("limited", "auto") == "true" or (j.get("limited", "auto") == "auto"
                                                                   and "range" in j.attrib)
                if j.get("type", "hinge") == "slide":
                    kind = "prismatic"
                else:
                    kind = "revolute" if limited else "continuous"
                el = ET.SubElement(self.robot, "joint", name=j.get("name") or f"{name}_joint", type=kind)
                ET.SubElement(el, "axis", xyz=" ".join(f"{v:.6g}" for v in _vec(j.get("axis"), 3, (0, 0, 1))))
                lo, hi = _vec(j.get("range"), 2, (-math.pi, math.pi))
                if kind == "revolute":
                    lo, hi = model.angle(lo), model.angle(hi)
                if kind != "continuous":
                    ET.SubElement(el, "limit", lower=f"{lo:.6g}", upper=f"{hi:.6g}", effort="10", velocity="1")
                if el.get("name") in mimic:
                    drive, mult = mimic[el.get("name")]
                    ET.SubElement(el, "mimic", joint=drive, multiplier=f"{mult:g}", offset="0")
            else:
                el = ET.SubElement(self.robot, "joint", name=f"{name}_fixed", type="fixed")
            ET.SubElement(el, "parent", link=parent)
            ET.SubElement(el, "child", link=name)
            _origin(el, origin)
        for child in body.findall("body"):
            self.body(model, child, name, shift, childclass, mount, mimic)
        if body.get("name") in mount:  # the gripper's root bodies hang here (robosuite's add_gripper)
            gmodel, groots = mount.pop(body.get("name"))
            for groot in groots:
                self.body(gmodel, groot, name, shift, None, mount, mimic)
        return name

    def write(self, out: Path) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(self.robot).write(out)
        return out


def mjcf_to_urdf(robot_xml: str | Path, out: str | Path, gripper_xml: str | Path | None = None,
                 mount: str = "right_hand", mimic: dict[str, tuple[str, float]] | None = None,
                 name: str | None = None) -> Path:
    """Write a URDF of ``robot_xml`` (with ``gripper_xml`` fixed under body ``mount``) to ``out``.

    ``mimic`` maps a joint name to (drive joint, multiplier): coupled gripper joints follow their drive.
    """
    robot_xml, out = Path(robot_xml), Path(out)
    model = _Model(robot_xml)
    world = model.root.find("worldbody")
    roots = world.findall("body") if world is not None else []
    if not roots:
        raise URDFError(f"{robot_xml}: no body in <worldbody>")
    mounts = {}
    if gripper_xml is not None:
        gmodel = _Model(Path(gripper_xml))
        if gmodel.root.find("compiler") is None:  # robosuite merges the gripper into the arm's model: its units
            gmodel.degrees = model.degrees
        gworld = gmodel.root.find("worldbody")
        groots = gworld.findall("body") if gworld is not None else []
        if not groots:
            raise URDFError(f"{gripper_xml}: no body in <worldbody>")
        mounts[mount] = (gmodel, groots)
    writer = _Writer(name or model.root.get("model", robot_xml.stem))
    base = writer.link_name("world_base")
    ET.SubElement(writer.robot, "link", name=base)
    for body in roots:
        writer.body(model, body, base, np.eye(4), None, mounts, dict(mimic or {}))
    if mounts:
        raise URDFError(f"{robot_xml}: no body {mount!r} to mount the gripper on")
    if not any(l.find("visual") is not None for l in writer.robot.findall("link")):
        raise URDFError(f"{robot_xml}: no visual geoms (group 1) found")
    return writer.write(out)
