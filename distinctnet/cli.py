"""The ``distinctnet`` command. Each subcommand lives in its own module, imported only when used.

A module listed in SUBCOMMANDS provides ``add_arguments(parser)`` and ``run(args) -> int``; it keeps
heavy imports (torch, cv2) inside ``run`` so that ``distinctnet --help`` stays instant.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from . import __version__
from .errors import UserError

# name -> (module, one-line help). Only subcommands that exist are listed.
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "bench": ("eval.bench", "model and labelling speed (params, ms per pair, pairs/s)"),
    "synth": ("synth.cli", "render and composite synthetic training data"),
    "train": ("training.cli", "fit the motion, semantic and recurrent stages"),
    "eval": ("eval.cli", "score predicted masks against a labelled-recording tree"),
    "label": ("distinctnet.label.cli", "label recordings: masks of arm, gripper, robot, object, distractor"),
    "adapt": ("distinctnet.adapt.cli", "teach the model a new robot from recordings of it, without annotation"),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """All subcommands are listed; only ``command``'s module is imported to add its arguments."""
    parser = argparse.ArgumentParser(
        prog="distinctnet",
        description="Masks of robot, gripper, grasped object and distractors from raw manipulation recordings.",
    )
    parser.add_argument("--version", action="version", version=f"distinctnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        if name == command:
            importlib.import_module(module).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(importlib.import_module(args._module).run(args) or 0)
    except UserError as e:
        print(f"distinctnet {args.command}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"distinctnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
