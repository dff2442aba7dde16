"""Scene pieces shared by the recipes: renderer set-up, rooms, materials, lights, cameras, objects, and the
render call that returns colour frames plus per-pixel categories (BlenderProc's segmentation output).

Categories (the ``category_id`` custom property of every mesh; the world is 0): see :data:`CATEGORY`.
Runs inside the render environment only (imports bpy through BlenderProc).
"""
from __future__ import annotations

import math

import numpy as np

CATEGORY = {"background": 0, "arm": 1, "gripper": 2, "object": 3, "distractor": 4}


def setup_renderer(bproc, size: tuple[int, int], samples: int, threads: int = 0, transparent: bool = False):
    import bpy

    h, w = size
    bproc.camera.set_resolution(w, h)
    bproc.renderer.set_max_amount_of_samples(samples)
    bproc.renderer.set_noise_threshold(0.0)
    bproc.renderer.set_denoiser("INTEL")
    if threads:
        bproc.renderer.set_cpu_threads(threads)
    bproc.renderer.set_output_format(enable_transparency=transparent)
    bpy.context.scene.render.use_persistent_data = True


def new_scene(bproc, seed: int) -> None:
    """Empty the scene (objects, materials, images, keyframes), keep renderer settings and the camera."""
    import bpy

    bproc.clean_up(clean_up_camera=False)
    bpy.context.scene.cycles.seed = int(seed) % (2 ** 31)


def material(bproc, rng: np.random.Generator, textures: list, name: str, texture_p: float = 0.7,
             tiling: float = 1.0):
    """A principled material: an image texture from ``textures`` (chance ``texture_p``) or a plain colour."""
    import bpy

    mat = bproc.material.create(name)
    if textures and rng.random() < texture_p:
        tex = textures[int(rng.integers(len(textures)))]
        image = bpy.data.images.load(tex.path, check_existing=True)
        mat.set_principled_shader_value("Base Color", image)
        mat.blender_obj["texture"] = tex.name
    else:
        mat.set_principled_shader_value("Base Color", [*random_colour(rng), 1.0])
    mat.set_principled_shader_value("Roughness", float(rng.uniform(0.35, 0.95)))
    mat.set_principled_shader_value("Metallic", float(rng.choice([0.0, 0.0, 0.0, rng.uniform(0.2, 0.8)])))
    return mat


def random_colour(rng: np.random.Generator) -> list[float]:
    import colorsys

    return list(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.0, 0.8), rng.uniform(0.15, 0.95)))


def _background_mesh(obj, mat, tiling: float):
    obj.replace_materials(mat)
    if tiling != 1.0 and obj.has_uv_mapping():
        obj.scale_uv_coordinates(tiling)
    obj.set_cp("category_id", CATEGORY["background"])
    return obj


def build_room(bproc, rng: np.random.Generator, textures: list, table_size=None) -> dict:
    """Floor, walls and a table whose top is the plane z = 0, centred at ``table_centre``.

    Returns {"table_centre", "table_size" (x, y), "floor_z", "walls" (distances from the origin)}.
    """
    floor_z = -float(rng.uniform(0.7, 0.9))
    half = float(rng.uniform(2.0, 3.5))
    floor = bproc.object.create_primitive("PLANE", scale=[half + 1, half + 1, 1], location=[0, 0, floor_z])
    _background_mesh(floor, material(bproc, rng, textures, "floor"), float(rng.uniform(1, 6)))
    height = 3.0
    walls = []
    for k in range(4):
        yaw = k * math.pi / 2
        d = half * float(rng.uniform(0.8, 1.2))
        walls.append(d)
        wall = bproc.object.create_primitive(
            "PLANE", scale=[half + 1, height / 2, 1],
            location=[d * math.cos(yaw), d * math.sin(yaw), floor_z + height / 2],
            rotation=[math.pi / 2, 0, yaw + math.pi / 2])
        _background_mesh(wall, material(bproc, rng, textures, f"wall{k}"), float(rng.uniform(1, 3)))
    if table_size is None:
        table_size = (float(rng.uniform(1.2, 2.0)), float(rng.uniform(1.0, 1.6)))
    centre = np.array([float(rng.uniform(0.1, 0.4)), float(rng.uniform(-0.2, 0.2)), 0.0])
    thick = -floor_z
    table = bproc.object.create_primitive("CUBE", scale=[table_size[0] / 2, table_size[1] / 2, thick / 2],
                                          location=[centre[0], centre[1], -thick / 2])
    _background_mesh(table, material(bproc, rng, textures, "table", texture_p=0.6), 1.0)
    # a few furniture boxes around the table
    for k in range(int(rng.integers(0, 3))):
        ang = rng.uniform(0, 2 * math.pi)
        r = float(rng.uniform(1.3, half * 0.8))
        s = rng.uniform([0.2, 0.2, 0.3], [0.6, 0.6, 1.4])
        box = bproc.object.create_primitive("CUBE", scale=(s / 2).tolist(),
                                            location=[r * math.cos(ang), r * math.sin(ang), floor_z + s[2] / 2],
                                            rotation=[0, 0, float(rng.uniform(0, math.pi))])
        _background_mesh(box, material(bproc, rng, textures, f"box{k}"), 1.0)
    return {"table_centre": centre, "table_size": table_size, "floor_z": floor_z, "walls": walls}


def add_lights(bproc, rng: np.random.Generator, centre) -> None:
    """1-3 point lights of random colour temperature and strength, plus a dim ambient world."""
    centre = np.asarray(centre, float)
    for _ in range(int(rng.integers(1, 4))):
        light = bproc.types.Light()
        light.set_type("POINT")
        ang, elev = rng.uniform(0, 2 * math.pi), rng.uniform(0.5, 1.3)
        r = float(rng.uniform(1.5, 3.5))
        light.set_location((centre + r * np.array([math.cos(ang) * math.cos(elev), math.sin(ang) * math.cos(elev),
                                                   math.sin(elev)])).tolist())
        light.set_energy(float(rng.uniform(100, 600)) * r * r / 4)
        warm = rng.uniform(0, 0.3)
        light.set_color([1.0, 1.0 - warm * 0.4, 1.0 - warm])
        light.set_radius(float(rng.uniform(0.05, 0.5)))
    bproc.renderer.set_world_background([*(np.full(3, rng.uniform(0.8, 1.0)) * rng.uniform(0.6, 1.0)).tolist()],
                                        strength=float(rng.uniform(0.05, 0.4)))


def camera_pose(position, target, roll: float = 0.0) -> np.ndarray:
    """4x4 camera-to-world matrix of a camera at ``position`` looking at ``target`` (Blender convention)."""
    position, target = np.asarray(position, float), np.asarray(target, float)
    forward = target - position
    forward /= np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, forward)
    rot = np.stack([right, cam_up, -forward], axis=1)  # columns: camera x, y, z (camera looks along -z)
    if roll:
        c, s = math.cos(roll), math.sin(roll)
        rot = rot @ np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rot, position
    return m


def set_camera(bproc, cam2world: np.ndarray, frames: int, size: tuple[int, int], fov: float) -> np.ndarray:
    """Static camera for ``frames`` keyframes; returns the 3x3 intrinsics K."""
    h, w = size
    bproc.camera.set_intrinsics_from_blender_params(lens=fov, image_width=w, image_height=h, lens_unit="FOV")
    for f in range(frames):
        bproc.camera.add_camera_pose(cam2world, frame=f)
    return np.asarray(bproc.camera.get_intrinsics_as_K_matrix(), float)


def project(points, cam2world: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World points (N x 3) -> pixel (x, y) (N x 2) and a mask of points in front of the camera."""
    p = np.atleast_2d(np.asarray(points, float))
    world2cam = np.linalg.inv(cam2world)
    pc = p @ world2cam[:3, :3].T + world2cam[:3, 3]
    z = -pc[:, 2]  # Blender cameras look along -z
    x = K[0, 0] * pc[:, 0] / np.maximum(z, 1e-6) + K[0, 2]
    y = -K[1, 1] * pc[:, 1] / np.maximum(z, 1e-6) + K[1, 2]
    return np.stack([x, y], 1), z > 0.05


def in_view(px: np.ndarray, front: np.ndarray, size: tuple[int, int], margin: float = 0.0) -> np.ndarray:
    h, w = size
    mx, my = margin * w, margin * h
    return front & (px[:, 0] >= mx) & (px[:, 0] < w - mx) & (px[:, 1] >= my) & (px[:, 1] < h - my)


def load_object(bproc, asset, rng: np.random.Generator, size: float, name: str):
    """A mesh asset as one object, centred on its bounding box, scaled so its longest side is ``size`` m;
    untextured meshes get a random material."""
    objs = bproc.loader.load_obj(asset.path)
    if not objs:
        raise ValueError(f"{asset.path}: no mesh in this file")
    obj = objs[0]
    if len(objs) > 1:
        obj.join_with_other_objects(objs[1:])
    obj.set_name(name)
    bb = np.asarray(obj.get_bound_box(local_coords=True))
    extent = float((bb.max(0) - bb.min(0)).max())
    if not np.isfinite(extent) or extent <= 0:
        raise ValueError(f"{asset.path}: empty or degenerate mesh")
    obj.set_origin(mode="CENTER_OF_VOLUME")
    obj.set_location([0, 0, 0])
    obj.set_scale([size / extent] * 3)
    obj.persist_transformation_into_mesh(location=True, rotation=False, scale=True)
    bb = np.asarray(obj.get_bound_box(local_coords=True))
    centre = (bb.max(0) + bb.min(0)) / 2
    obj.set_origin(point=centre.tolist())
    obj.set_location([0, 0, 0])
    obj.persist_transformation_into_mesh(location=True, rotation=False, scale=False)
    mats = [m for m in obj.get_materials() if m is not None]
    textured = any(m.get_nodes_with_type("TexImage") for m in mats)
    if not textured and (not mats or rng.random() < 0.5):
        mat = bproc.material.create(f"{name}_mat")
        mat.set_principled_shader_value("Base Color", [*random_colour(rng), 1.0])
        mat.set_principled_shader_value("Roughness", float(rng.uniform(0.2, 0.9)))
        obj.replace_materials(mat)
    return obj


def half_extents(obj) -> np.ndarray:
    bb = np.asarray(obj.get_bound_box(local_coords=True))
    return (bb.max(0) - bb.min(0)) / 2


def keyframe_pose(obj, mat: np.ndarray, frame: int) -> None:
    from mathutils import Matrix

    m = Matrix(np.asarray(mat, float).tolist())
    loc, rot, _ = m.decompose()
    obj.set_location(list(loc), frame=frame)
    obj.set_rotation_euler(list(rot.to_euler("XYZ")), frame=frame)


def render(bproc, frames: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Render keyframes 0..frames-1; returns RGB(A) uint8 frames and category maps (H x W int)."""
    import bpy

    tree = bpy.context.scene.node_tree
    if tree is not None:  # drop the segmentation nodes of the previous scene before adding fresh ones
        for node in list(tree.nodes):
            if node.bl_idname in ("CompositorNodeOutputFile", "CompositorNodeCombineColor"):
                tree.nodes.remove(node)
    bproc.utility.set_keyframe_render_interval(frame_start=0, frame_end=frames)
    bproc.renderer.enable_segmentation_output(map_by=["category_id"], default_values={"category_id": 0})
    data = bproc.renderer.render(verbose=False)
    colors = [np.asarray(c) for c in data["colors"]]
    segs = [np.asarray(s).astype(np.int32) for s in data["category_id_segmaps"]]
    if len(colors) != frames or len(segs) != frames:
        raise RuntimeError(f"renderer returned {len(colors)} frames, expected {frames}")
    return colors, segs


def part_masks(seg: np.ndarray) -> dict[str, np.ndarray]:
    """Category map -> the layout's part masks (robot = arm | gripper)."""
    arm, gripper = seg == CATEGORY["arm"], seg == CATEGORY["gripper"]
    return {"arm": arm, "gripper": gripper, "robot": arm | gripper,
            "object": seg == CATEGORY["object"], "distractor": seg == CATEGORY["distractor"]}
