"""Recipe: stage-1 motion data (DistinctNet's first training stage): a static room, one object moved.

Run by ``distinctnet synth moving OUT ...`` (or ``.venv-render/bin/python -m synth.render.moving OUT ...``).
Sequence k, from its own random generator:

1. a room: textured floor and walls, a table (top at z = 0), furniture boxes; 1-3 lights;
2. ``min_objects..max_objects`` objects (pybullet_data objects and random shapes, ``--objects`` meshes)
   resting on the table at random places and headings;
3. a static camera looking at the table; one object whose centre is in view is picked to move;
4. frame 0 shows it at its start pose, every later frame at an independent random offset from the start
   pose (up to ``max_offset`` m per axis, never below the table top, and ``max_angle`` rad per Euler angle),
   re-drawn until its centre stays in view;
5. render all frames in one call; the moving object's visible pixels are part ``distractor`` (004), every
   other part is empty (all five annotated); write the video.
"""
from __future__ import annotations

import math

import numpy as np

from distinctnet.layout import VideoWriter

from . import assets, options, runner
from .scene import (CATEGORY, add_lights, build_room, camera_pose, half_extents, in_view, keyframe_pose,
                    load_object, new_scene, part_masks, project, render, set_camera)

SOURCE = "distinctnet synth moving (BlenderProc 2.8 + Cycles)"


def plan(args, ctx):
    ctx["objects"] = assets.objects(args.objects, builtin=not args.no_builtin_objects)
    ctx["textures"] = assets.textures(args.textures, builtin=not args.no_builtin_textures)
    return [(k, f"moving_s{args.seed}_{k:05d}") for k in range(args.count)]


def _pose(xyz, euler) -> np.ndarray:
    from mathutils import Euler

    m = np.eye(4)
    m[:3, :3] = np.array(Euler([float(a) for a in euler], "XYZ").to_matrix())
    m[:3, 3] = xyz
    return m


def render_sequence(bproc, args, k, name, rng, ctx) -> int:
    size = options.parse_size(args.size)
    n = args.frames
    new_scene(bproc, args.seed * 100003 + k)

    # 1. room
    room = build_room(bproc, rng, ctx["textures"])
    centre, (tx, ty) = room["table_centre"], room["table_size"]

    # 2. objects resting on the table
    placed = []
    for i in range(int(rng.integers(args.min_objects, args.max_objects + 1))):
        a = assets.pick(rng, ctx["objects"])
        ctx.use(a)
        obj = load_object(bproc, a, rng, float(rng.uniform(0.08, 0.25)), f"object{i}")
        e = half_extents(obj)
        for _ in range(20):
            xy = centre[:2] + rng.uniform(-1, 1, 2) * (np.array([tx, ty]) / 2 - 0.1)
            if all(np.linalg.norm(xy - p[:2]) > 0.08 + r for p, r in [(q["start"][:3, 3], q["r"]) for q in placed]):
                break
        start = _pose([xy[0], xy[1], e[2]], [0, 0, rng.uniform(-math.pi, math.pi)])
        obj.set_cp("category_id", CATEGORY["background"])
        placed.append({"asset": a, "obj": obj, "start": start, "r": float(np.linalg.norm(e[:2]))})

    # 3. camera looking at the table from one side, and the object to move (its centre in view)
    for _ in range(60):
        target = centre + np.array([*rng.uniform(-0.15, 0.15, 2), 0.0])
        az, el, r = rng.uniform(-math.pi, math.pi), rng.uniform(0.35, 1.1), rng.uniform(0.9, 1.8)
        pos = target + r * np.array([math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])
        if np.max(np.abs(pos[:2])) > 0.85 * min(room["walls"]):
            continue
        cam = camera_pose(pos, target, roll=float(rng.normal(0, 0.05)))
        fov = float(rng.uniform(0.8, 1.1))
        K = set_camera(bproc, cam, 0, size, fov)
        ok = in_view(*project(np.array([p["start"][:3, 3] for p in placed]), cam, K), size, margin=0.15)
        if ok.any():
            break
    else:
        raise RuntimeError("no camera placement sees any object")
    K = set_camera(bproc, cam, n, size, fov)
    mover = placed[int(rng.choice(np.flatnonzero(ok)))]
    mover["obj"].set_cp("category_id", CATEGORY["distractor"])
    add_lights(bproc, rng, centre)

    # 4. independent offsets from the start pose, kept in view and above the table
    start = mover["start"]
    lift = half_extents(mover["obj"])[2]
    poses = [start]
    for _ in range(1, n):
        for _ in range(50):
            off = rng.uniform(-args.max_offset, args.max_offset, 3)
            off[2] = abs(off[2])
            xyz = start[:3, 3] + off
            xyz[2] = max(xyz[2], lift)
            if in_view(*project(xyz, cam, K), size, margin=0.1).all():
                break
        rot = _pose([0, 0, 0], rng.uniform(-args.max_angle, args.max_angle, 3))
        m = start.copy()
        m[:3, :3] = start[:3, :3] @ rot[:3, :3]
        m[:3, 3] = xyz
        poses.append(m)
    for p in placed:
        for f in range(n):
            keyframe_pose(p["obj"], poses[f] if p is mover else p["start"], f)

    # 5. render, check, write
    colors, segs = render(bproc, n)
    masks = [part_masks(s) for s in segs]
    seen = [m["distractor"].sum() for m in masks]
    if min(seen) < 4:
        raise ValueError(f"moving object not visible in frame {int(np.argmin(seen))}")
    meta = {"seed": args.seed, "index": k, "generator": "moving", "size": list(size), "samples": args.samples,
            "moving_object": mover["asset"].name, "objects": [p["asset"].name for p in placed],
            "camera": {"cam2world": np.round(cam, 5).tolist(), "K": np.round(K, 3).tolist()}}
    with VideoWriter(args.out, name, source=SOURCE, license=f"renders CC0; object {mover['asset'].license}",
                     extra=meta) as wr:
        for f in range(n):
            wr.write(colors[f][..., :3], {"distractor": masks[f]["distractor"]})
    return n


if __name__ == "__main__":
    runner.run_module("moving", plan=plan, render=render_sequence, done=runner.video_done,
                      cleanup=runner.remove_unfinished_video)
