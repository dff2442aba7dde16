"""``distinctnet synth``: render and composite synthetic training data.

``robots``, ``moving`` and ``objects`` render with BlenderProc in the separate render environment
(``.venv-render``, ``make render-env``): this process checks the options, then runs
``.venv-render/bin/python -m synth.render.<generator>`` with the repository on PYTHONPATH.
``sheet`` draws contact sheets, ``composite`` (synth/composite.py) pastes fine-tuning pairs.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from distinctnet.errors import UserError

from .render import options

REPO = Path(__file__).resolve().parent.parent
HELP = {
    "robots": "render robot recordings (Panda, KUKA iiwa + WSG50, xArm; robosuite UR5e, Kinova Gen3, Jaco, Sawyer, "
              "KUKA iiwa and Panda + Robotiq 2F-140) with grasped objects and distractors",
    "moving": "render stage-1 sequences: a static room with one object moved between frames",
    "objects": "render RGBA object cut-outs (paste sources for composite)",
    "sheet": "contact sheet PNG of a data folder (mask overlays, or object cut-outs)",
    "composite": "composite fine-tuning pairs: robot cut-outs + objects + distractors on photos",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="synth_command", metavar="WHAT")
    sub.required = True
    for gen in options.GENERATORS:
        p = sub.add_parser(gen, help=HELP[gen], description=HELP[gen])
        options.add_arguments(p, gen)
        p.add_argument("--render-python", default=None, metavar="PYTHON",
                       help="python of the render environment (default: $DISTINCTNET_RENDER_PYTHON or "
                            ".venv-render/bin/python in the repository)")
    from . import sheet

    sheet.add_arguments(sub.add_parser("sheet", help=HELP["sheet"], description=HELP["sheet"]))
    p = sub.add_parser("composite", help=HELP["composite"], description=HELP["composite"])
    try:
        from . import composite
    except ImportError as e:  # written in parallel; until it exists the subcommand reports it
        p.add_argument("rest", nargs=argparse.REMAINDER)
        p.set_defaults(_composite_missing=str(e))
    else:
        composite.add_arguments(p)


def render_python(explicit: str | None) -> Path:
    path = Path(explicit or os.environ.get("DISTINCTNET_RENDER_PYTHON") or REPO / ".venv-render" / "bin" / "python")
    if not path.exists():
        raise UserError(f"{path}: render environment missing (run `make render-env`, or pass --render-python)")
    return path


def launch(args: argparse.Namespace) -> int:
    gen = args.synth_command
    problems = options.check(args, gen)
    if problems:
        raise UserError(problems[0])
    from .render import assets

    try:
        assets.user_objects(args.objects)
        if args.no_builtin_objects and not args.objects:
            raise ValueError("--no-builtin-objects needs --objects DIR")
        if getattr(args, "no_builtin_textures", False) and not args.textures:
            raise ValueError("--no-builtin-textures needs --textures DIR")
    except ValueError as e:
        raise UserError(str(e)) from None
    python = render_python(args.render_python)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    payload = options.to_json(argparse.Namespace(**{k: v for k, v in vars(args).items() if k != "render_python"}))
    cmd = [str(python), "-m", f"synth.render.{gen}", "--args-json", payload]
    return subprocess.call(cmd, env=env)


def run(args: argparse.Namespace) -> int:
    what = args.synth_command
    if what in options.GENERATORS:
        return launch(args)
    if what == "sheet":
        from . import sheet

        return sheet.run(args)
    if getattr(args, "_composite_missing", None):
        raise UserError(f"synth composite is not available ({args._composite_missing})")
    from . import composite

    return int(composite.run(args) or 0)


def main(argv: list[str] | None = None) -> int:
    """``python -m synth.cli ...``: the same as ``distinctnet synth ...``."""
    from distinctnet.cli import main as distinctnet_main

    return distinctnet_main(["synth", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
