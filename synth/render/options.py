"""Command-line options of the render generators, shared by the main-venv CLI (``distinctnet synth``) and
the render processes (``python -m synth.render.<generator>``). Standard library only.

The main CLI parses and checks the options (so bad input fails at once, with one line), then hands the
parsed values to the render process as JSON (``--args-json``).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from distinctnet import argtypes

MIN_SIDE, MAX_SIDE = 16, 4096
GENERATORS = ("robots", "moving", "objects")
DEFAULTS = {  # generator -> (count, frames, size)
    "robots": (4, 16, "240x320"),
    "moving": (4, 10, "240x320"),
    "objects": (0, 0, "256x256"),
}


def parse_size(text: str) -> tuple[int, int]:
    return argtypes.parse_size(text, MIN_SIDE, MAX_SIDE)


parse_shard = argtypes.parse_shard


def add_arguments(p: argparse.ArgumentParser, generator: str) -> None:
    count, frames, size = DEFAULTS[generator]
    p.add_argument("out", help="output folder (a labelled-recording tree; for objects a folder of RGBA PNGs)")
    if generator == "objects":
        p.add_argument("--count", type=int, default=0,
                       help="number of objects to render (default 0 = every object found)")
        p.add_argument("--views", type=int, default=8, help="views per object (default 8)")
    else:
        p.add_argument("--count", type=int, default=count, help=f"number of sequences (default {count})")
        p.add_argument("--frames", type=int, default=frames, help=f"frames per sequence (default {frames})")
    p.add_argument("--size", default=size, help=f"HxW of the renders (default {size})")
    p.add_argument("--samples", type=int, default=16, help="Cycles samples per pixel, denoised (default 16)")
    p.add_argument("--seed", type=int, default=0, help="sequence k is drawn from (seed, k) (default 0)")
    p.add_argument("--shard", default="0/1", help="i/N: render sequences k with k %% N == i (default 0/1)")
    p.add_argument("--threads", type=int, default=0, help="render threads (default 0 = all cores)")
    p.add_argument("--objects", action="append", default=[], metavar="DIR",
                   help="extra object meshes (folders of OBJ/PLY with textures, e.g. YCB); repeatable")
    p.add_argument("--textures", action="append", default=[], metavar="DIR",
                   help="extra texture/photo folders for walls, floor and table; repeatable")
    p.add_argument("--no-builtin-objects", action="store_true",
                   help="use only --objects meshes (no pybullet_data objects)")
    if generator != "objects":
        p.add_argument("--no-builtin-textures", action="store_true",
                       help="use only --textures images for walls, floor and table (no pybullet_data textures), "
                            "e.g. to keep held-out renders on held-out photos")
    if generator == "robots":
        p.add_argument("--robots", default="panda,kuka,xarm", help="robots to cycle through (default %(default)s)")
        p.add_argument("--object-p", type=float, default=0.75,
                       help="chance that the gripper holds an object (default 0.75)")
        p.add_argument("--max-distractors", type=int, default=2, help="moving distractors 0..N (default 2)")
        p.add_argument("--stop-p", type=float, default=0.3, help="chance of a motion stop (default 0.3)")
        p.add_argument("--repaint", type=float, default=0.0, metavar="P",
                       help="chance that a sequence's robot is repainted: its materials replaced by a random palette "
                            "(domain randomisation of the robot's look; default 0)")
        p.add_argument("--hold-joints", type=float, default=0.0, metavar="P",
                       help="chance that a sequence's first arm joints hold still (1 to all but the last two, drawn) "
                            "while the rest of the arm moves: still links that are still robot, as in recordings "
                            "where only the wrist moves (default 0)")
        p.add_argument("--scene-seed", type=int, default=None,
                       help="room, camera and lights of sequence k from (SCENE_SEED, k) instead of (seed, k): runs "
                            "with different --seed share scenes and cameras (e.g. a user's recordings of one setup)")
        p.add_argument("--gripper-clip", action="store_true",
                       help="render gripper clips: the arm holds one pose of its trajectory and only the gripper "
                            "opens and closes (no object, no distractor, no stop), as `distinctnet adapt --gripper` "
                            "wants them")
    if generator == "moving":
        p.add_argument("--max-offset", type=float, default=0.25, help="max offset per axis in m (default 0.25)")
        p.add_argument("--max-angle", type=float, default=0.4, help="max rotation per angle in rad (default 0.4)")
        p.add_argument("--min-objects", type=int, default=4, help="objects in the room, at least (default 4)")
        p.add_argument("--max-objects", type=int, default=8, help="objects in the room, at most (default 8)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def check(args: argparse.Namespace, generator: str) -> list[str]:
    """Problems with the arguments, each a one-line message (empty when fine)."""
    problems = []
    for fn, value in ((parse_size, args.size), (parse_shard, args.shard)):
        try:
            fn(value)
        except ValueError as e:
            problems.append(str(e))
    if args.samples < 1:
        problems.append(f"--samples {args.samples}: must be >= 1")
    if args.count < 0:
        problems.append(f"--count {args.count}: must be >= 0")
    if generator != "objects" and args.frames < 2:
        problems.append(f"--frames {args.frames}: need at least 2 frames")
    if generator == "objects" and args.views < 1:
        problems.append(f"--views {args.views}: must be >= 1")
    for flag, folders in (("--objects", args.objects), ("--textures", args.textures)):
        for d in folders:
            if not Path(d).is_dir():
                problems.append(f"{d}: {flag} folder does not exist")
    if generator == "robots":
        from .robot_models import MODELS

        for name in args.robots.split(","):
            if name.strip().lower() not in MODELS:
                problems.append(f"--robots: unknown robot {name!r} (known: {', '.join(MODELS)})")
    if generator == "robots" and not 0.0 <= args.repaint <= 1.0:
        problems.append(f"--repaint {args.repaint}: must be in 0..1")
    if generator == "robots" and not 0.0 <= args.hold_joints <= 1.0:
        problems.append(f"--hold-joints {args.hold_joints}: must be in 0..1")
    if generator == "moving" and not 1 <= args.min_objects <= args.max_objects:
        problems.append("--min-objects/--max-objects: need 1 <= min <= max")
    return problems


def to_json(args: argparse.Namespace) -> str:
    return json.dumps({k: v for k, v in vars(args).items() if not k.startswith("_") and k != "command"
                       and k != "synth_command"})


def parse(argv: list[str], generator: str) -> argparse.Namespace:
    """Render-process side: ``--args-json JSON`` (from the CLI) or ordinary options."""
    if argv[:1] == ["--args-json"]:
        p = argparse.ArgumentParser(prog=f"synth.render.{generator}")
        add_arguments(p, generator)
        defaults = vars(p.parse_args([json.loads(argv[1])["out"]]))
        defaults.update(json.loads(argv[1]))
        return argparse.Namespace(**defaults)
    p = argparse.ArgumentParser(prog=f"python -m synth.render.{generator}")
    add_arguments(p, generator)
    return p.parse_args(argv)
