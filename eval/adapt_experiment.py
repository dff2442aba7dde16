"""The adapt experiment: IoU per part on held-out recordings of a robot, before and after `distinctnet adapt`.

    python -m eval.adapt_experiment --root RENDERED --checkpoint BASE --work DIR [--user-fraction 0.5 |
        --user VIDEO ...] [--gripper CLIP] [adapt options: --pairs, --epochs, --max-steps, --device ...]

RENDERED is a labelled-recording tree with ground truth of a robot the base model was not trained on. Its
videos are split into "user recordings" and held-out ones (``--user``, or a seeded share ``--user-fraction``).
The adapt chain sees only the user recordings' images (their frame folders ``RENDERED/image/<video>``; their
masks are never read) and writes ``WORK/adapted.safetensors``; then the base and the adapted model label the
held-out videos' images (``WORK/pred_before_<sha>``, ``WORK/pred_after_<sha>``, named by the checkpoint's
hash) and ``eval.score.score`` compares both
with the ground truth. As a user would, pick user recordings that show the robot moving without a grasped
object (the harvest takes the whole moving foreground as the robot). Prints a table of IoU (and J&F) per part, before / after, and writes
``WORK/adapt_experiment.json``. Rerunning resumes every step.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def split_videos(videos: list[str], user: list[str] | None, fraction: float, seed: int) -> tuple[list[str], list[str]]:
    from distinctnet.errors import UserError

    if user:
        unknown = sorted(set(user) - set(videos))
        if unknown:
            raise UserError(f"--user: no video {unknown[0]!r} in the tree")
        return sorted(user), sorted(v for v in videos if v not in user)
    if len(videos) < 2:
        raise UserError("the tree needs at least 2 videos (user recordings and held-out ones)")
    n = min(len(videos) - 1, max(1, int(round(fraction * len(videos)))))
    order = np.random.default_rng(seed).permutation(len(videos))
    return sorted(videos[i] for i in order[:n]), sorted(videos[i] for i in order[n:])


def table(before: dict, after: dict) -> str:
    rows = [f"{'part':<12}{'IoU before':>12}{'IoU after':>12}{'delta':>9}{'J&F before':>12}{'J&F after':>11}"]

    def f(v):
        return f"{v:.2f}" if v is not None else "-"

    for c in before["iou"]:
        b, a = before["iou"][c]["iou"], after["iou"][c]["iou"]
        jb = (before["jf"].get(c) or {}).get("JF")
        ja = (after["jf"].get(c) or {}).get("JF")
        d = f"{a - b:+.2f}" if a is not None and b is not None else "-"
        rows.append(f"{c:<12}{f(b):>12}{f(a):>12}{d:>9}{f(jb):>12}{f(ja):>11}")
    rows.append(f"{'mean':<12}{f(before['summary']['mean_iou']):>12}{f(after['summary']['mean_iou']):>12}")
    return "\n".join(rows)


def harvest_truth(root: Path, work: Path) -> dict:
    """How good the chain's own labels were, read against the user recordings' ground truth after the chain
    ran (the chain never sees it): IoU of the harvested robot and gripper masks, and the distance of the
    grasp point from the rendered one in gripper lengths (sqrt of the true gripper area), per user video and
    over all kept frames."""
    from distinctnet.layout import Recording

    harvest = Recording(work / "harvest")
    truth = Recording(root)
    parts = ("robot", "gripper")
    acc = {p: [0, 0] for p in parts}
    dists, videos = [], {}
    for video in harvest.videos:
        vm = harvest.video_meta(video)
        name = Path(vm.get("source", video)).name
        if name not in truth.videos or not (truth.root / "mask" / name).is_dir():
            continue                                      # no ground truth for this user recording
        found, true = vm.get("grasp_point") or [], truth.video_meta(name).get("grasp_point") or []
        v = {p: [0, 0] for p in parts}
        vd = []
        for i, src in enumerate(vm.get("source_frames", [])):
            got = {p: harvest.read_mask(video, p, i) for p in parts}
            gt = {p: truth.read_mask(name, p, int(src)) for p in parts}
            for p in parts:
                v[p][0] += int((got[p] & gt[p]).sum())
                v[p][1] += int((got[p] | gt[p]).sum())
            g, t = (found[i] if i < len(found) else None), (true[src] if src < len(true) else None)
            if g is not None and t is not None and gt["gripper"].any():
                vd.append(float(np.hypot(g[0] - t[0], g[1] - t[1]) / np.sqrt(gt["gripper"].sum())))
        for p in parts:
            acc[p] = [acc[p][0] + v[p][0], acc[p][1] + v[p][1]]
        dists += vd
        videos[video] = {"frames": len(vm.get("source_frames", [])), **{f"{p}_iou": _iou(a) for p, a in v.items()},
                         "grasp_error": round(float(np.median(vd)), 2) if vd else None}
    return {**{f"{p}_iou": _iou(a) for p, a in acc.items()},
            "grasp_error": round(float(np.median(dists)), 2) if dists else None, "videos": videos,
            "note": "IoU over the kept frames; grasp_error: median distance of the grasp point from the rendered one, "
                    "in gripper lengths"}


def _iou(acc: list[int]) -> float | None:
    return round(100 * acc[0] / acc[1], 1) if acc[1] else None


def experiment(args) -> dict:
    from distinctnet.adapt.chain import run_chain
    from distinctnet.adapt.cli import options
    from distinctnet.errors import UserError
    from distinctnet.label.model import checkpoint_path
    from distinctnet.label.pipeline import file_sha256
    from distinctnet.label.runner import label_recordings
    from distinctnet.layout import Recording

    from .score import score

    if args.robot:
        raise UserError("--robot: the user recordings come from --root (--user / --user-fraction)")
    root = Path(args.root)
    rec = Recording(root)
    user, held = split_videos(rec.videos, args.user, args.user_fraction, args.seed)
    work = Path(args.work)
    args.out = args.out or str(work / "adapted.safetensors")
    opts = options(args)
    opts.robot = [str(root / "image" / v) for v in user]       # images only: the chain never sees the GT
    progress = not args.quiet
    run_chain(opts)
    chain_labels = harvest_truth(root, work)
    held_inputs = [str(root / "image" / v) for v in held]
    results = {}
    for name, ckpt in (("before", args.checkpoint), ("after", args.out)):
        sha = file_sha256(checkpoint_path(ckpt))
        pred = work / f"pred_{name}_{sha[:10]}"   # a retrained model labels into a new folder
        run = label_recordings(held_inputs, pred, ckpt, device=args.device, batch=args.batch, progress=progress)
        results[name] = score(root, pred, videos=held, progress=progress)
        results[name]["run"] = {"checkpoint": str(ckpt), **{k: run[k] for k in ("pairs", "seconds", "device")}}
    out = {"root": str(root), "user_videos": user, "held_out_videos": held, "base": args.checkpoint or "default",
           "adapted": args.out, "work": str(work), "chain_labels": chain_labels,
           "before": results["before"], "after": results["after"],
           "table": table(results["before"], results["after"])}
    from distinctnet.io import atomic_write_json

    atomic_write_json(Path(args.json) if args.json else work / "adapt_experiment.json", out)
    return out


def build_parser() -> argparse.ArgumentParser:
    from distinctnet.adapt.cli import add_arguments

    p = argparse.ArgumentParser(prog="python -m eval.adapt_experiment", description=__doc__.splitlines()[0])
    p.add_argument("--root", required=True, help="labelled-recording tree with ground truth of the unseen robot")
    p.add_argument("--user", action="append", metavar="VIDEO", help="a video used as a user recording; repeatable")
    p.add_argument("--user-fraction", type=float, default=0.5, help="share of the videos used as user recordings "
                                                                    "when --user is not given (default 0.5)")
    p.add_argument("--json", help="where to write the results (default WORK/adapt_experiment.json)")
    add_arguments(p)  # the adapt options (--work is required here; the step and --robot are not used)
    return p


def main(argv: list[str] | None = None) -> int:
    from distinctnet.errors import UserError

    args = build_parser().parse_args(argv)
    try:
        if not args.work:
            raise UserError("--work: where the experiment's intermediate results go")
        out = experiment(args)
    except UserError as e:
        print(f"adapt experiment: error: {e}", file=sys.stderr)
        return 1
    print(f"user recordings: {', '.join(out['user_videos'])}; held out: {', '.join(out['held_out_videos'])}")
    lab = out["chain_labels"]
    print(f"the chain's own labels vs the user recordings' truth: robot IoU {lab['robot_iou']}, gripper IoU "
          f"{lab['gripper_iou']}, grasp point off by {lab['grasp_error']} gripper lengths (median)")
    print(out["table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
