"""Recipe: a robot arm moving in a room, optionally holding an object, with moving distractors.

Run by ``distinctnet synth robots OUT ...`` (or ``.venv-render/bin/python -m synth.render.robots OUT ...``).
Sequence k, from its own random generator:

1. a room: textured floor and walls, a table whose top is z = 0, furniture boxes; 1-3 lights;
2. robot ``robots[k % len(robots)]`` (URDF from pybullet_data, or robosuite's MJCF converted) standing at the
   origin on the table; with ``--repaint P`` its materials are replaced by a random palette in a share P;
3. an arm trajectory: a spline through 2-4 random configurations near a home pose, rejected until the whole
   arm stays above the table and the hand in front of the camera; with ``--hold-joints P``, in a share P, the
   first joints (1 to all but the last two) keep their start value, so the links near the base stand still;
4. either an object held between the jaws (jaws closed on its width; it moves with the hand: its pose is
   the grasp frame's forward kinematics every frame), or the gripper opening and closing;
5. 0..max moving distractor objects sliding or flying over the table;
6. an optional motion stop: from ``static_from`` on, nothing moves;
7. a static camera at a random place looking at the arm, checked so that arm and hand stay in view (with
   ``--scene-seed``, room, camera and lights come from (scene_seed, k): sequences of different ``--seed``
   then share the scene and the camera, as a user's recordings of one setup do);
   with ``--gripper-clip`` the sequence is a gripper clip instead: the arm holds one pose of its
   trajectory and only the gripper opens and closes (no object, distractor or stop);
8. render all frames as keyframes in one call, segmentation by category -> arm / gripper / object /
   distractor masks; checks (object inside the image and at the gripper); write the video.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from distinctnet.layout import VideoWriter

from . import assets, options, robot_models, runner
from .scene import (CATEGORY, add_lights, build_room, camera_pose, half_extents, in_view, keyframe_pose,
                    load_object, new_scene, part_masks, project, render, set_camera)
from .trajectory import apply_stop, catmull_rom

SOURCE = "distinctnet synth robots (BlenderProc 2.8 + Cycles)"


def plan(args, ctx):
    models = robot_models.get(args.robots)
    ctx["models"] = models
    ctx["objects"] = assets.objects(args.objects, builtin=not args.no_builtin_objects)
    ctx["textures"] = assets.textures(args.textures, builtin=not args.no_builtin_textures)
    return [(k, f"{models[k % len(models)].name}_s{args.seed}_{k:05d}") for k in range(args.count)]


def _rotation(axis: int, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    i, j = [a for a in range(3) if a != axis]
    r = np.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
    return r


def _axis_to_axis(a: int, b: int) -> np.ndarray:
    """A rotation taking unit axis a to unit axis b (90 degrees about the third axis, or identity)."""
    if a == b:
        return np.eye(3)
    third = 3 - a - b
    r = _rotation(third, math.pi / 2)
    return r if np.allclose(r[:, a], np.eye(3)[b]) else _rotation(third, -math.pi / 2)


def _translation(xyz) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = xyz
    return m


def arm_trajectory(model, kin, rng, frames: int) -> np.ndarray:
    """frames x len(arm_joints): a spline through random configurations near home, within limits."""
    lo, hi = np.array([kin.limits(j) for j in model.arm_joints]).T
    home, spread = np.array(model.home), np.array(model.spread)
    reach = rng.uniform(0.4, 1.0)
    way = [np.clip(home + rng.uniform(-1, 1, len(home)) * spread * reach, lo + 0.05, hi - 0.05)
           for _ in range(int(rng.integers(2, 5)))]
    return catmull_rom(np.stack(way), frames)


def _link_points(kin, values: dict) -> np.ndarray:
    fk = kin.urdf.link_fk(cfg=kin.expand(values))
    return np.array([np.asarray(t)[:3, 3] for t in fk.values()])


def render_sequence(bproc, args, k, name, rng, ctx) -> int:
    size = options.parse_size(args.size)
    h, w = size
    n = args.frames
    model = ctx["models"][k % len(ctx["models"])]
    new_scene(bproc, args.seed * 100003 + k)
    if model.name not in ctx.setdefault("urdf", {}):
        ctx["urdf"][model.name] = model.prepare(assets.pybullet_data_dir(), Path(ctx["work"]) / "urdf" / model.name)
    textures = ctx["textures"]
    # --scene-seed: room, camera and lights come from (scene_seed, k), so that sequences of different --seed
    # share a scene and a fixed camera (a user's setup); the motions, objects and distractors still differ
    srng = rng if getattr(args, "scene_seed", None) is None else np.random.default_rng([args.scene_seed, k])

    # 1. room and lights
    room = build_room(bproc, srng, textures)
    # 2. robot
    from .blender_robot import BlenderRobot

    robot = BlenderRobot(bproc, model, ctx["urdf"][model.name])
    kin = robot.kin
    # --repaint: the paint comes from its own generator, so that everything else about sequence k is the same
    # with or without it
    prng = np.random.default_rng([args.seed, k, 7])
    paint = robot.repaint(bproc, prng) if prng.random() < getattr(args, "repaint", 0.0) else None
    scene_camera = None
    if srng is not rng:  # the scene's camera, placed for a reference motion of the scene
        _, ref_cfgs, ref_grasp = _trajectory(model, kin, srng, n)
        ref_pts = np.concatenate([_link_points(kin, c) for c in ref_cfgs])
        ref_centre = 0.5 * ref_pts.mean(0) + 0.5 * ref_grasp[:, :3, 3].mean(0)
        scene_camera = _place_camera(srng, ref_pts, ref_grasp, ref_centre, room, size)
        if scene_camera is None:
            raise RuntimeError("no camera placement keeps the arm and hand in view")

    # 3. arm trajectory that keeps the arm above the table (link origins) and the hand reachable (and, with a
    # scene camera, in its view); --hold-joints draws from its own generator, like --repaint
    hrng = np.random.default_rng([args.seed, k, 13])
    joints = len(model.arm_joints)
    hold = (int(hrng.integers(1, joints - 1)) if joints > 2 and hrng.random() < getattr(args, "hold_joints", 0.0)
            else 0)
    for _ in range(40):
        q, cfgs, grasp_T = _trajectory(model, kin, rng, n, hold)
        if scene_camera is None or _sees(scene_camera, np.concatenate([_link_points(kin, c) for c in cfgs]),
                                         grasp_T, size):
            break
    else:
        raise RuntimeError("no arm trajectory in view of the scene camera found")

    clip = getattr(args, "gripper_clip", False)
    if clip:  # a gripper clip: one pose of the trajectory, held still (configurations follow in step 6)
        q = np.repeat(q[int(rng.integers(n))][None], n, axis=0)

    # 4. grasped object or an opening/closing gripper
    holding = not clip and rng.random() < args.object_p
    obj = obj_asset = None
    if holding:
        obj_asset = assets.pick(rng, ctx["objects"])
        ctx.use(obj_asset)
        obj = load_object(bproc, obj_asset, rng, 1.0, "grasped_object")
        e = half_extents(obj)
        narrow = int(np.argmin(e))
        gap_max = rng.uniform(0.45, 0.9) * model.gap_open
        scale = min(rng.uniform(0.05, 0.14), gap_max / (2 * e[narrow]))
        obj.set_scale([scale] * 3)
        obj.persist_transformation_into_mesh(location=False, rotation=False, scale=True)
        obj.set_cp("category_id", CATEGORY["object"])
        gap = 2 * e[narrow] * scale
        drive = np.full(n, model.drive_for_gap(max(gap - 0.004, model.gap_closed)))
        rot = np.eye(4)
        rot[:3, :3] = _rotation(model.close_axis, rng.uniform(0, 2 * math.pi)) @ _axis_to_axis(narrow, model.close_axis)
        grip_offset = _translation([0, 0, rng.uniform(-0.01, 0.01)]) @ rot
    elif clip:  # open and close fully, about every 12 frames, starting at a random phase
        cycles = max(1.0, n / 12)
        phase = rng.uniform(0, 2 * math.pi)
        t = 0.5 - 0.5 * np.cos(phase + 2 * math.pi * cycles * np.arange(n) / max(n - 1, 1))
        drive = model.drive_closed + t * (model.drive_open - model.drive_closed)
    else:
        levels = rng.uniform(0, 1, int(rng.integers(2, 5)))
        levels[int(rng.integers(len(levels)))] = rng.choice([0.0, 1.0])
        t = np.clip(catmull_rom(levels, n)[:, 0], 0, 1)
        drive = model.drive_closed + t * (model.drive_open - model.drive_closed)

    # 5. distractors: objects sliding over the table or flying across it
    distractors = []
    for d in range(0 if clip else int(rng.integers(0, args.max_distractors + 1))):
        a = assets.pick(rng, ctx["objects"])
        ctx.use(a)
        dobj = load_object(bproc, a, rng, float(rng.uniform(0.06, 0.18)), f"distractor{d}")
        dobj.set_cp("category_id", CATEGORY["distractor"])
        lift = half_extents(dobj)[2]
        way = []
        fly = rng.random() < 0.25
        for _ in range(int(rng.integers(2, 4))):
            r, ang = rng.uniform(0.35, 0.8), rng.uniform(-1.4, 1.4)
            z = lift + (rng.uniform(0.05, 0.4) if fly else 0.0)
            way.append([r * math.cos(ang), r * math.sin(ang), z, rng.uniform(-math.pi, math.pi)])
        path = catmull_rom(np.array(way), n)
        distractors.append((a, dobj, path))

    # 6. motion stop
    static_from = (int(rng.integers(max(1, n // 2), n)) if not clip and n >= 3 and rng.random() < args.stop_p
                   else None)
    q, drive = apply_stop(q, static_from), apply_stop(drive, static_from)
    cfgs = [dict(zip(model.arm_joints, qi)) for qi in q]
    grasp_T = _grasp_frames(model, kin, cfgs)
    distractors = [(a, o, apply_stop(p, static_from)) for a, o, p in distractors]

    # 7. camera: looks at the arm from the front half, keeps hand and links in view
    pts = np.concatenate([_link_points(kin, c) for c in cfgs])
    centre = 0.5 * pts.mean(0) + 0.5 * grasp_T[:, :3, 3].mean(0)
    if scene_camera is None:
        placed = _place_camera(rng, pts, grasp_T, centre, room, size)
        if placed is None:
            raise RuntimeError("no camera placement keeps the arm and hand in view")
        cam, fov = placed
    else:
        (cam, fov), centre = scene_camera, ref_centre
    K = set_camera(bproc, cam, n, size, fov)
    add_lights(bproc, srng, centre)

    # keyframes
    for f in range(n):
        robot.set_joints({**cfgs[f], model.drive_joint: float(drive[f])}, f)
        if holding:
            keyframe_pose(obj, grasp_T[f] @ grip_offset, f)
        for _, dobj, path in distractors:
            m = np.eye(4)
            m[:3, :3] = _rotation(2, path[f, 3])
            m[:3, 3] = path[f, :3]
            keyframe_pose(dobj, m, f)

    # 8. render, check, write
    colors, segs = render(bproc, n)
    masks = [part_masks(s) for s in segs]
    grasp_px, _ = project(grasp_T[:, :3, 3], cam, K)
    check_sequence(masks, holding, size)
    meta = {
        "robot": model.name, "seed": args.seed, "index": k, "generator": "robots",
        **({"scene_seed": args.scene_seed} if srng is not rng else {}),
        **({"gripper_clip": True} if clip else {}),
        **({"paint": paint} if paint else {}),
        **({"held_joints": list(model.arm_joints[:hold])} if hold else {}),
        "size": [h, w], "samples": args.samples, "holding": bool(holding),
        "object": obj_asset.name if holding else None,
        "distractors": [a.name for a, _, _ in distractors],
        "grasp_point": [[round(float(x), 1), round(float(y), 1)] for x, y in grasp_px],
        "camera": {"cam2world": np.round(cam, 5).tolist(), "K": np.round(K, 3).tolist()},
    }
    lic = f"renders CC0; robot {model.license}"
    if holding or distractors:
        lic += "; objects: " + ", ".join(sorted({a.license for a in [obj_asset] * holding + [d[0] for d in distractors]}))
    with VideoWriter(args.out, name, static_from=static_from, source=SOURCE, license=lic, extra=meta) as wr:
        for f in range(n):
            wr.write(colors[f][..., :3], masks[f])
    return n


def _trajectory(model, kin, rng, n: int, hold: int = 0):
    """(joint values n x J, joint configurations, grasp frames) of an arm trajectory that keeps the link
    origins (except those at the base origin) and the grasp point well above the table top; the first
    ``hold`` joints keep their start value."""
    for _ in range(40):
        q = arm_trajectory(model, kin, rng, n)
        q[:, :hold] = q[0, :hold]
        cfgs = [dict(zip(model.arm_joints, qi)) for qi in q]
        grasp_T = _grasp_frames(model, kin, cfgs)
        pts = [_link_points(kin, c) for c in cfgs]
        lowest = min(p[np.linalg.norm(p, axis=1) > 1e-6, 2].min() for p in pts)
        if lowest > 0.04 and grasp_T[:, 2, 3].min() > 0.15:
            return q, cfgs, grasp_T
    raise RuntimeError("no arm trajectory above the table found")


def _grasp_frames(model, kin, cfgs: list[dict]) -> np.ndarray:
    """n x 4 x 4 world poses of the grasp point (between the fingertips) for joint configurations."""
    return np.stack([kin.link_pose(c, model.grasp_link) @ _translation(model.grasp_offset) for c in cfgs])


def _sees(camera, pts: np.ndarray, grasp_T: np.ndarray, size: tuple[int, int]) -> bool:
    """Does the camera (cam2world, fov) keep 90% of the link points and every grasp point in view?"""
    cam, fov = camera
    K = _intrinsics(fov, size)
    return bool(in_view(*project(pts, cam, K), size).mean() > 0.9
                and in_view(*project(grasp_T[:, :3, 3], cam, K), size, margin=0.12).all())


def _place_camera(rng, pts: np.ndarray, grasp_T: np.ndarray, centre: np.ndarray, room: dict,
                  size: tuple[int, int]):
    """A static camera in the front half looking at ``centre`` that sees the arm and hand: (cam2world, fov),
    or None after 60 tries."""
    max_r = 0.85 * float(np.min(np.abs(np.array(room["walls"]))))
    for _ in range(60):
        az, el = rng.uniform(-1.9, 1.9), rng.uniform(0.15, 0.8)
        r = rng.uniform(1.1, max(1.2, min(2.4, max_r)))
        target = centre + rng.normal(0, 0.05, 3)
        pos = target + r * np.array([math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])
        cam = camera_pose(pos, target, roll=float(rng.normal(0, 0.05)))
        fov = float(rng.uniform(0.75, 1.05))
        if _sees((cam, fov), pts, grasp_T, size):
            return cam, fov
    return None


def _intrinsics(fov: float, size: tuple[int, int]) -> np.ndarray:
    """K of a camera with horizontal field of view ``fov`` (Blender's FOV applies to the longer side)."""
    h, w = size
    f = (max(w, h) / 2) / math.tan(fov / 2)
    return np.array([[f, 0, (w - 1) / 2], [0, f, (h - 1) / 2], [0, 0, 1]])


def check_sequence(masks: list[dict], holding: bool, size: tuple[int, int]) -> None:
    """Reject sequences a labeller should not learn from: arm or gripper missing, object away from the hand
    or cut by the image border."""
    h, w = size
    n = len(masks)
    if sum(m["arm"].any() for m in masks) < n:
        raise ValueError("arm not visible in every frame")
    if sum(m["gripper"].sum() >= 4 for m in masks) < 0.8 * n:
        raise ValueError("gripper hidden in too many frames")
    if not holding:
        return
    seen = 0
    tol = max(6.0, 0.06 * max(h, w))
    for i, m in enumerate(masks):
        o = m["object"]
        if not o.any():
            continue
        seen += 1
        if o[0].any() or o[-1].any() or o[:, 0].any() or o[:, -1].any():
            raise ValueError(f"frame {i}: grasped object touches the image border")
        gy, gx = np.nonzero(m["gripper"])
        if len(gx):
            oy, ox = np.nonzero(o)
            d = np.min(np.hypot(gx - ox.mean(), gy - oy.mean()))
            if d > tol:
                raise ValueError(f"frame {i}: grasped object centroid {d:.0f} px from the gripper")
    if seen < 0.5 * n:
        raise ValueError("grasped object hidden in too many frames")


if __name__ == "__main__":
    runner.run_module("robots", plan=plan, render=render_sequence, done=runner.video_done,
                      cleanup=runner.remove_unfinished_video)
