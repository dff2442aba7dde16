"""``distinctnet adapt [STEP] --robot REC [--gripper CLIP] [--objects DIR] [--backgrounds DIR]
[--checkpoint BASE] --out MODEL [--work DIR]``: teach the model a new robot from recordings of it.

STEP is ``all`` (default: harvest, gripper, composite, finetune), or one of them on its own (the work folder
holds each step's results, so steps can be rerun or inspected one at a time), or ``report``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from .pairs import DEFAULT_PLATE_SHARE

STEP_CHOICES = ("all", "harvest", "gripper", "composite", "finetune", "report")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .checks import MIN_FRAMES

    parser.add_argument("step", nargs="?", default="all", choices=STEP_CHOICES,
                        help="which step to run (default: all of them in order)")
    io = parser.add_argument_group("inputs and outputs")
    io.add_argument("--robot", action="append", default=[], metavar="REC",
                    help="recording of the robot moving without an object, fixed camera, static background "
                         f"(any input `distinctnet label` reads; at least {MIN_FRAMES} frames); repeatable")
    io.add_argument("--gripper", metavar="REC", help="optional clip of the gripper opening and closing at a still pose "
                                                     "(camera and arm still); without it the gripper is estimated")
    io.add_argument("--objects", action="append", metavar="DIR",
                    help="folder of RGBA object cut-outs to paste as grasped objects (default: procedural)")
    io.add_argument("--backgrounds", action="append", metavar="DIR",
                    help="folder of background photos (default: the compositor's)")
    io.add_argument("--checkpoint", metavar="BASE", help="base model (default: the shipped checkpoint)")
    io.add_argument("--out", metavar="MODEL", help="the adapted model to write (.safetensors)")
    io.add_argument("--work", metavar="DIR", help="work folder for intermediate results (default: MODEL's name + "
                                                  "'-adapt' beside it)")
    io.add_argument("--topic", help="image topic, for ROS bags with several")
    h = parser.add_argument_group("harvest: which masks become robot cut-outs")
    from .harvest import HarvestConfig

    d = HarvestConfig()
    h.add_argument("--min-area", type=float, default=d.min_area, help="fraction of the frame (default %(default)s)")
    h.add_argument("--max-area", type=float, default=d.max_area, help="fraction of the frame (default %(default)s)")
    h.add_argument("--min-margin", type=float, default=d.min_margin,
                   help="mean |2p-1| inside the mask (default %(default)s)")
    h.add_argument("--min-iou", type=float, default=d.min_iou,
                   help="best IoU with the masks of the frames +-2 around (default %(default)s)")
    h.add_argument("--max-area-change", type=float, default=d.max_area_change,
                   help="area factor to the closest neighbour (default %(default)s)")
    h.add_argument("--max-outside-motion", type=float, default=d.max_outside_motion,
                   help="changed fraction of the pixels far from the masks (default %(default)s)")
    h.add_argument("--no-border-rule", action="store_true",
                   help="keep masks that do not touch the image border (robot base inside the picture)")
    h.add_argument("--min-frames", type=int, default=d.min_frames,
                   help="shortest usable recording (default %(default)s)")
    c = parser.add_argument_group("composite")
    c.add_argument("--pairs", type=int, default=2000, help="fine-tuning pairs to make (default %(default)s)")
    c.add_argument("--plate-share", type=float, default=DEFAULT_PLATE_SHARE,
                   help="share of the pairs composited onto background plates of your own scene (the robot "
                        "recordings with the robot removed, WORK/plates) instead of photos; 0: photos only "
                        "(default %(default)s)")
    c.add_argument("--size", help="pair size HxW (default: the base model's input size)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--workers", type=int, default=1, help="compositing processes (default 1)")
    t = parser.add_argument_group("finetune (the training package's stage configs, with overrides)")
    t.add_argument("--epochs", type=int, help="trainer.max_epochs (default: the stage config's)")
    t.add_argument("--max-steps", type=int, help="trainer.max_steps (default: no limit)")
    t.add_argument("--train-batch", type=int, help="data.init_args.batch_size (default: the stage config's)")
    t.add_argument("--train-workers", type=int, help="data loader workers (default: the stage config's)")
    t.add_argument("--train-config",
                   help="semantic stage config (default: training/configs/<family>-semantic.yaml, the family the "
                        "base was trained with, else gpu on CUDA, cpu-small on the CPU)")
    t.add_argument("--recurrent-config",
                   help="recurrent stage config, for a recurrent base (default: <family>-recurrent.yaml)")
    t.add_argument("--train-override", action="append", default=[], metavar="--KEY=VALUE",
                   help="one more `distinctnet train` override, e.g. --train-override=--trainer.precision=bf16-mixed")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    parser.add_argument("--batch", type=int, default=4, help="frames per model call in the harvest (default 4)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def parse_size(text: str | None):
    if not text:
        return None
    from synth.composite import parse_size as parse

    return parse(text)


def options(args):
    from .chain import AdaptOptions
    from .harvest import HarvestConfig

    if args.work:
        work = Path(args.work)
    elif args.out:
        out = Path(args.out)
        work = out.with_name(out.stem + "-adapt")
    else:
        raise UserError("--work or --out: say where the intermediate results go")
    cfg = HarvestConfig(min_area=args.min_area, max_area=args.max_area, require_border=not args.no_border_rule,
                        min_margin=args.min_margin, max_outside_motion=args.max_outside_motion, min_iou=args.min_iou,
                        max_area_change=args.max_area_change, min_frames=args.min_frames).check()
    return AdaptOptions(work=work, robot=list(args.robot), gripper=args.gripper, objects=args.objects,
                        backgrounds=args.backgrounds, checkpoint=args.checkpoint, out=args.out, topic=args.topic,
                        device=args.device, batch=args.batch, harvest=cfg, pairs=args.pairs,
                        plate_share=args.plate_share, size=parse_size(args.size),
                        seed=args.seed, workers=args.workers, epochs=args.epochs, max_steps=args.max_steps,
                        train_batch=args.train_batch, train_workers=args.train_workers,
                        semantic_config=args.train_config, recurrent_config=args.recurrent_config,
                        overrides=list(args.train_override), progress=not args.quiet)


def describe(step: str, res: dict) -> str:
    if step == "harvest":
        why = ", ".join(f"{n} {r}" for r, n in res["dropped"].items() if n) or "none dropped"
        return f"harvest: {res['kept']} of {res['frames']} frames kept ({why}); sheet {res.get('sheet')}"
    if step == "gripper":
        src = "from the clip" if res["source"] == "clip" else "ESTIMATED (no --gripper clip)"
        return (f"gripper {src}: {res['appearance']} frames by appearance, {res['geometry']} by the geometric "
                f"estimate, {res['no_gripper']} without; sheet {res.get('sheet')}")
    if step == "composite":
        return f"composite: {res['finished']} pairs in {res['root']}; sheet {res['sheet']}"
    if step == "finetune":
        return f"finetune: {' + '.join(s['stage'] for s in res['stages'])} stage(s) -> {res['model']}"
    return f"{step}: done"


def run(args) -> int:
    from .chain import STEPS, run_step
    from .report import write_report

    opts = options(args)
    opts.work.mkdir(parents=True, exist_ok=True)
    if args.step == "report":
        print(f"report: {write_report(opts.work)}", file=sys.stderr)
        return 0
    steps = STEPS if args.step == "all" else (args.step,)
    if args.step == "all" and not args.out:
        raise UserError("--out: name the model file to write")
    for step in steps:
        res = run_step(step, opts)
        print(describe(step, res), file=sys.stderr)
    print(f"report: {opts.work / 'report.md'}", file=sys.stderr)
    return 0
