"""What the render scripts can put in a scene: object meshes and textures, with where they come from.

Built-in: the objects and textures that ship in the ``pybullet`` wheel's ``pybullet_data`` (zlib licence,
Bullet Physics). User folders (``--objects``, ``--textures``): any tree of OBJ/PLY meshes (YCB/ShapeNet
style, with their MTL and texture files) or of images. A folder's licence is taken from a LICENSE* or
README* file in it or above it, else recorded as unknown.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

MESH_EXTS = (".obj", ".ply")
IMAGE_EXTS = (".jpg", ".jpeg", ".png")
PYBULLET_LICENSE = "zlib (Bullet Physics pybullet_data)"
GENERIC_STEMS = {"mesh", "model", "textured", "model_normalized", "textured_simple", "google_16k", "nontextured"}

# pybullet_data textures that look like surfaces (the rest are robot texture atlases and the like)
_PYBULLET_TEXTURES = ("checker_blue.png", "checker_grid.jpg", "tex256.png", "table/table.png", "tray/tray.jpg",
                      "jenga/jenga.png", "domino/domino.jpg", "roboschool/models_outdoor/stadium/stadium_grass.jpg",
                      "uvmap.png", "laikago/laikago_tex.jpg")
_PYBULLET_OBJECTS = ("duck.obj", "teddy2_VHACD_CHs.obj", "objects/mug.obj", "lego/lego.obj", "jenga/jenga.obj",
                     "toys/cube.obj", "toys/cylinder.obj", "toys/prism.obj", "toys/shape_sorter.obj",
                     "toys/concave_box.obj", "soccerball.obj", "bunny.obj", "tray/tray_textured.obj",
                     "sphere_smooth.obj", "cube.obj")


@dataclass(frozen=True)
class Asset:
    name: str
    path: str
    source: str
    license: str

    def to_json(self) -> dict:
        return asdict(self)


def pybullet_data_dir() -> Path:
    import pybullet_data

    return Path(pybullet_data.getDataPath())


def _license_of(folder: Path) -> str:
    for d in [folder, *folder.parents][:4]:
        for pattern in ("LICENSE*", "LICENCE*", "README*"):
            found = sorted(d.glob(pattern))
            if found:
                return f"see {found[0]}"
    return "unknown (user folder; no LICENSE file found)"


def _object_name(path: Path, root: Path) -> str:
    stem = path.stem
    if stem.lower() in GENERIC_STEMS or path.parent != root:
        stem = path.parent.name if path.parent != root else stem
        if stem.lower() in GENERIC_STEMS and path.parent.parent != root:
            stem = path.parent.parent.name
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "object"


def check_mesh(path: Path) -> None:
    """Cheap readability check of a mesh file (the start of it); raises ValueError naming the file."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError as e:
        raise ValueError(f"{path}: cannot read mesh ({e.strerror})") from None
    if path.suffix.lower() == ".ply":
        if not head.startswith(b"ply"):
            raise ValueError(f"{path}: not a PLY mesh (no 'ply' header)")
    elif not any(line.startswith(b"v ") for line in head.splitlines()):
        raise ValueError(f"{path}: not a readable OBJ mesh (no vertex lines)")


def user_objects(folders: list[str]) -> list[Asset]:
    """Meshes below each folder; raises ValueError naming a folder that holds none."""
    out = []
    for folder in folders:
        root = Path(folder)
        if not root.is_dir():
            raise ValueError(f"{root}: object folder does not exist")
        meshes = sorted(p for p in root.rglob("*") if p.suffix.lower() in MESH_EXTS and p.is_file())
        if not meshes:
            raise ValueError(f"{root}: no OBJ or PLY meshes in this folder")
        lic = _license_of(root)
        names = set()
        for m in meshes:
            check_mesh(m)
            name = _object_name(m, root)
            while name in names:
                name += "_"
            names.add(name)
            out.append(Asset(name, str(m), f"user:{root}", lic))
    return out


def builtin_objects(random_shapes: int = 200) -> list[Asset]:
    root = pybullet_data_dir()
    out = []
    for rel in _PYBULLET_OBJECTS:
        p = root / rel
        if p.is_file():
            out.append(Asset(f"pb_{p.stem}", str(p), "pybullet_data", PYBULLET_LICENSE))
    for p in sorted((root / "random_urdfs").glob("*/*.obj"))[:random_shapes]:
        out.append(Asset(f"pb_random_{p.stem}", str(p), "pybullet_data/random_urdfs", PYBULLET_LICENSE))
    return out


def objects(user_folders: list[str], builtin: bool = True) -> list[Asset]:
    out = (builtin_objects() if builtin else []) + user_objects(user_folders)
    if not out:
        raise ValueError("no objects: give --objects DIR or leave out --no-builtin-objects")
    return out


def pick(rng, objs: list[Asset], user_p: float = 0.5) -> Asset:
    """A random object; the user's own meshes (``--objects``) are drawn with chance ``user_p`` however few
    they are next to the hundreds of built-in shapes."""
    user = [a for a in objs if a.source.startswith("user:")]
    pool = user if user and (len(user) == len(objs) or rng.random() < user_p) else \
        [a for a in objs if not a.source.startswith("user:")]
    return pool[int(rng.integers(len(pool)))]


def textures(user_folders: list[str], builtin: bool = True) -> list[Asset]:
    root = pybullet_data_dir()
    out = [Asset(f"pb_{Path(rel).stem}", str(root / rel), "pybullet_data", PYBULLET_LICENSE)
           for rel in _PYBULLET_TEXTURES if builtin and (root / rel).is_file()]
    for folder in user_folders:
        d = Path(folder)
        if not d.is_dir():
            raise ValueError(f"{d}: texture folder does not exist")
        images = sorted(p for p in d.rglob("*") if p.suffix.lower() in IMAGE_EXTS and p.is_file())
        if not images:
            raise ValueError(f"{d}: no JPEG/PNG images in this texture folder")
        lic = _license_of(d)
        out += [Asset(p.stem, str(p), f"user:{d}", lic) for p in images]
    if not out:
        raise ValueError("no textures: give --textures DIR or leave out --no-builtin-textures")
    return out
