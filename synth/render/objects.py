"""Recipe: RGBA cut-outs of objects, the paste source of the compositor (``synth composite --objects``).

Run by ``distinctnet synth objects OUT ...`` (or ``.venv-render/bin/python -m synth.render.objects OUT ...``).
Object k (pybullet_data objects and random shapes, plus every mesh under ``--objects`` folders):

1. an empty scene with a transparent film; the object loaded, centred and scaled to 1 m;
2. ``views`` keyframes, each with a random orientation of the object, the camera at a distance that
   frames the object, and random lights (fresh lights per view: animated light strengths);
3. render all views in one call; alpha is the object's coverage; each view is cropped tight to its alpha
   and written as ``OUT/{object}/{view:04d}.png``; the object's folder appears complete or not at all
   (written under a temporary name, then renamed).
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np

from . import assets, options, runner
from .scene import CATEGORY, camera_pose, keyframe_pose, load_object, new_scene, random_colour, render, set_camera


def plan(args, ctx):
    # the user's meshes first, so that --count N favours them
    objs = assets.user_objects(args.objects) + ([] if args.no_builtin_objects else assets.builtin_objects())
    if not objs:
        raise ValueError("no objects: give --objects DIR or leave out --no-builtin-objects")
    if args.count:
        objs = objs[:args.count]
    ctx["objects"] = {a.name: a for a in objs}
    return list(enumerate(ctx["objects"]))


def done(args, name):
    return (Path(args.out) / name).is_dir()


def cleanup(args, name):
    shutil.rmtree(Path(args.out) / f".{name}.tmp", ignore_errors=True)


def _rotation(rng) -> np.ndarray:
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def render_object(bproc, args, k, name, rng, ctx) -> int:
    from distinctnet.io import atomic_imwrite

    size = options.parse_size(args.size)
    asset = ctx["objects"][name]
    ctx.use(asset)
    new_scene(bproc, args.seed * 100003 + k)
    obj = load_object(bproc, asset, rng, 1.0, name)
    obj.set_cp("category_id", CATEGORY["object"])
    # camera on the -y axis looking at the origin; the object turns instead
    fov = 0.6
    dist = 0.5 / math.tan(fov / 2) * 1.05 + 0.5
    cam = camera_pose([0, -dist, 0], [0, 0, 0])
    set_camera(bproc, cam, args.views, size, fov)
    lights = []
    for _ in range(3):
        light = bproc.types.Light()
        light.set_type("POINT")
        lights.append(light)
    for v in range(args.views):
        m = np.eye(4)
        m[:3, :3] = _rotation(rng)
        keyframe_pose(obj, m, v)
        for i, light in enumerate(lights):
            ang, elev = rng.uniform(0, 2 * math.pi), rng.uniform(-0.3, 1.3)
            r = float(rng.uniform(2.0, 4.0))
            light.set_location([r * math.cos(ang) * math.cos(elev), r * math.sin(ang) * math.cos(elev) - 1.0,
                                r * math.sin(elev)], frame=v)
            light.set_energy(float(rng.uniform(100, 700)) * r * r / 4 * (i == 0 or rng.random() < 0.6), frame=v)
            light.set_color([*np.clip(np.array(random_colour(rng)) * 0.3 + 0.7, 0, 1)], frame=v)
    bproc.renderer.set_world_background([1, 1, 1], strength=float(rng.uniform(0.1, 0.4)))
    colors, segs = render(bproc, args.views)
    tmp = Path(args.out) / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    written = 0
    for v, rgba in enumerate(colors):
        if rgba.shape[-1] != 4:
            raise RuntimeError("renderer returned no alpha channel")
        alpha = rgba[..., 3]
        ys, xs = np.nonzero(alpha > 8)
        if len(xs) < 16:
            continue
        crop = rgba[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        atomic_imwrite(tmp / f"{written:04d}.png", _rgba_for_png(crop))
        written += 1
    if not written:
        raise ValueError(f"{asset.path}: object not visible in any view")
    (tmp / "source.txt").write_text(f"{asset.path}\nlicense: {asset.license}\n")
    tmp.rename(Path(args.out) / name)
    return args.views


def _rgba_for_png(rgba: np.ndarray) -> np.ndarray:
    """RGBA -> what cv2.imencode expects for a 4-channel PNG (BGRA)."""
    return np.ascontiguousarray(rgba[..., [2, 1, 0, 3]])


if __name__ == "__main__":
    runner.run_module("objects", plan=plan, render=render_object, done=done, cleanup=cleanup)
