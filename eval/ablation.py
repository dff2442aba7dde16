"""The merge-position ablation (the paper's Table II) plus our variants, each trained with the same budget.

    python -m eval.ablation --train TREE [TREE ...] --test TREE --work DIR [--variants global-layer2,local-layer2]
        [--budget-steps 30] [--size 96x128] [--encoder resnet18] [--config training/configs/cpu-small-motion.yaml]
        [--json FILE] [--override=--trainer.accelerator=gpu ...]

Every variant is one `distinctnet train` run of the motion-stage config (``--config``) with ``--model.net``
overrides for the merge op and position; everything else is identical: training trees, ``--seed``, input
size, encoder, batch size and ``--budget-steps`` optimiser steps (validation every ``--val-every`` steps; the
checkpoint with the best validation foreground IoU is exported, by default the final one). Then each export

- labels the held-out ``--test`` tree (``distinctnet.label.runner.label_recordings``) and is scored against
  its ground truth with ``eval.score.score``: IoU of background and of foreground, and their mean, the
  paper's "mIoU" of Table II (test columns);
- reports the training module's own best validation foreground IoU (``val/miou`` of the motion head, on the
  videos the training split held out of ``--train``; the paper's "val" column is a bg/fg mean, ours is the
  foreground IoU alone);
- is counted (parameters) and timed (``eval.bench.measure``: median ms per pair, batch 1, at the input size,
  on the machine named in the output).

Resumable: a variant whose export ``WORK/<variant>/model.safetensors`` exists is not retrained while its
training settings (``WORK/<variant>/train_settings.json``: the arguments and the config's text) are unchanged;
a stopped training resumes from its last checkpoint; changed settings train the variant again. Labels go to
a folder named by the export's hash, and scores and timings are kept in ``WORK/<variant>/result.json``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = REPO / "training" / "configs" / "cpu-small-motion.yaml"

#: the paper's names of the merge positions (Table II)
POSITION_NAMES = {"layer1": "ResBlock-1", "layer2": "ResBlock-2", "layer3": "ResBlock-3", "layer4": "ResBlock-4",
                  "aspp": "ASPP"}
OP_NAMES = {"global": "global correlation", "local": "local correlation", "coattention": "co-attention"}
#: the table's columns, in order
COLUMNS = ("variant", "merge", "after", "params (M)", "val fg IoU", "test bg IoU", "test fg IoU", "test mIoU",
           "ms/pair")


@dataclass(frozen=True)
class Variant:
    name: str
    merge: str
    merge_after: str

    @property
    def net(self) -> dict:
        return {"merge": self.merge, "merge_after": self.merge_after}


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("global-layer1", "global", "layer1"),
    Variant("global-layer2", "global", "layer2"),     # the paper's choice
    Variant("global-layer3", "global", "layer3"),
    Variant("global-layer4", "global", "layer4"),
    Variant("global-aspp", "global", "aspp"),
    Variant("coattention-layer2", "coattention", "layer2"),
    Variant("local-layer2", "local", "layer2"),       # ours (the fast preset's merge)
)}


def parse_variants(text: str | None) -> list[Variant]:
    from distinctnet.errors import UserError

    if not text:
        return list(VARIANTS.values())
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise UserError(f"--variants: unknown variant {unknown[0]!r}; variants: {', '.join(VARIANTS)}")
    return [VARIANTS[n] for n in dict.fromkeys(names)]


def train_argv(variant: Variant, args, run_dir: Path, export: Path) -> list[str]:
    """The `distinctnet train` arguments of one variant: the same for all variants but the merge."""
    h, w = args.size
    every = min(args.val_every or args.budget_steps, args.budget_steps)
    argv = [str(args.config),
            f"--seed_everything={args.seed}",
            f"--model.net.merge={variant.merge}", f"--model.net.merge_after={variant.merge_after}",
            f"--model.net.encoder={args.encoder}", f"--model.net.input_size=[{h},{w}]",
            f"--data.roots=[{','.join(str(Path(r).resolve()) for r in args.train)}]",
            f"--trainer.max_steps={args.budget_steps}", "--trainer.max_epochs=-1",
            f"--trainer.val_check_interval={every}", "--trainer.check_val_every_n_epoch=null",
            "--trainer.num_sanity_val_steps=0",
            f"--trainer.default_root_dir={run_dir}", f"--export={export}"]
    if args.val:
        argv.append(f"--data.val_roots=[{','.join(str(Path(r).resolve()) for r in args.val)}]")
    if args.batch_size:
        argv.append(f"--data.batch_size={args.batch_size}")
    if args.num_workers is not None:
        argv.append(f"--data.num_workers={args.num_workers}")
    if args.quiet:
        argv.append("--trainer.enable_progress_bar=false")
    return argv + list(args.override or [])


def _stamp(argv: list[str]) -> str:
    return json.dumps(argv[1:] + [Path(argv[0]).read_text()], sort_keys=True)


def train_variant(variant: Variant, args, vdir: Path) -> tuple[Path, bool]:
    """Train unless the export exists. Returns (export, trained_now)."""
    from distinctnet.io import atomic_write_bytes

    from training.cli import train

    export = vdir / "model.safetensors"
    run_dir = vdir / "run"
    argv = train_argv(variant, args, run_dir, export)
    stamp_path = vdir / "train_settings.json"
    stamp = _stamp(argv)
    same = stamp_path.is_file() and stamp_path.read_text() == stamp
    if export.is_file() and same:
        return export, False
    if not same:  # trained (or started) with other settings (budget, size, data, config): start again
        if export.is_file():
            print(f"{variant.name}: settings changed since {export} was trained; training again", file=sys.stderr)
            export.unlink()
        if run_dir.exists():
            shutil.rmtree(run_dir)
    vdir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(stamp_path, stamp.encode())
    last = run_dir / "checkpoints" / "last.ckpt"
    train(argv + (["--ckpt_path=last"] if last.is_file() else []))
    if not export.is_file():
        from distinctnet.errors import fail

        raise fail(export, f"training of {variant.name} finished without an export")
    return export, True


def evaluate_variant(variant: Variant, export: Path, args, vdir: Path, device) -> dict:
    """Parameters, ms/pair, validation and test IoUs of one trained export (cached per export hash)."""
    from distinctnet.io import atomic_write_json
    from distinctnet.label.pipeline import file_sha256
    from distinctnet.label.runner import label_recordings
    from distinctnet.modeling import load_checkpoint

    from .bench import machine_name, measure
    from .score import score

    sha = file_sha256(export)
    test = str(Path(args.test).resolve())
    key = {"sha256": sha, "test": test, "test_videos": args.test_videos, "bench_runs": args.bench_runs,
           "device": str(device)}
    cache = vdir / "result.json"
    if cache.is_file():
        old = json.loads(cache.read_text())
        if old.get("key") == key:
            return old
    model = load_checkpoint(export, map_location="cpu")
    cfg = model.cfg
    pred = vdir / f"pred_{sha[:10]}"
    inputs = [str(Path(test) / "image" / v) for v in args.test_videos]
    label_recordings(inputs, pred, export, device=str(device), batch=args.label_batch, progress=not args.quiet)
    sc = score(test, pred, parts=("background", "foreground"), videos=args.test_videos, progress=not args.quiet)
    model = model.to(device).eval()
    speed = measure(model, cfg.input_size, 1, device, "pair", runs=args.bench_runs, warmup=args.bench_warmup)
    best = (model.meta or {}).get("best_score")
    res = {
        "key": key,
        "variant": variant.name, "merge": variant.merge, "merge_after": variant.merge_after,
        "encoder": cfg.encoder, "input_size": list(cfg.input_size), "params": model.num_parameters(),
        "val_fg_iou": None if best is None else 100.0 * float(best),
        "val_monitor": (model.meta or {}).get("monitor"),
        "global_step": (model.meta or {}).get("global_step"),
        "test_bg_iou": sc["iou"]["background"]["iou"], "test_fg_iou": sc["iou"]["foreground"]["iou"],
        "test_miou": sc["summary"]["mean_iou"], "test_frames": sc["summary"]["frames"],
        "ms_per_pair": speed["ms_per_pair"], "ms_range": speed["spread_ms_per_pair"],
        "device": machine_name(device), "export": str(export), "pred_root": str(pred),
    }
    atomic_write_json(cache, res)
    return res


def _f(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def table(rows: list[dict]) -> str:
    """The Markdown table (COLUMNS) of the variants' results."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = [r["variant"], OP_NAMES[r["merge"]], POSITION_NAMES[r["merge_after"]], f"{r['params'] / 1e6:.2f}",
                 _f(r["val_fg_iou"]), _f(r["test_bg_iou"]), _f(r["test_fg_iou"]), _f(r["test_miou"]),
                 _f(r["ms_per_pair"], 1)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_ablation(args) -> dict:
    """Train, label, score and time every chosen variant; returns the JSON-ready results."""
    import torch

    from distinctnet.device import resolve_device
    from distinctnet.errors import fail
    from distinctnet.layout import Recording

    from .bench import machine_name

    variants = parse_variants(args.variants)
    if not Path(args.config).is_file():
        raise fail(args.config, "training config not found (see training/configs/)")
    for root in list(args.train) + list(args.val or []):
        Recording(root)  # a clear error for a missing tree before any training
    test = Recording(args.test)
    args.test_videos = list(args.test_videos or test.videos)
    unknown = [v for v in args.test_videos if v not in test.meta["videos"]]
    if unknown:
        raise fail(args.test, f"no video {unknown[0]!r}")
    if not args.test_videos:
        raise fail(args.test, "no videos to test on")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    work = Path(args.work)
    rows = []
    for variant in variants:
        vdir = work / variant.name
        export, trained = train_variant(variant, args, vdir)
        res = evaluate_variant(variant, export, args, vdir, device)
        rows.append({**res, "trained_now": trained})
        if not args.quiet:
            print(f"{variant.name}: test mIoU {_f(res['test_miou'])}, {res['params'] / 1e6:.2f}M params, "
                  f"{res['ms_per_pair']:.1f} ms/pair", file=sys.stderr)
    out = {
        "settings": {"config": str(args.config), "train": [str(r) for r in args.train], "val": args.val,
                     "test": str(args.test), "test_videos": args.test_videos, "budget_steps": args.budget_steps,
                     "val_every": args.val_every or args.budget_steps, "size": list(args.size),
                     "encoder": args.encoder, "seed": args.seed, "batch_size": args.batch_size,
                     "override": list(args.override or [])},
        "machine": machine_name(device), "torch": torch.__version__,
        "columns": list(COLUMNS), "variants": rows, "table": table(rows),
    }
    if args.json:
        from distinctnet.io import atomic_write_json

        atomic_write_json(args.json, out)
    return out


def build_parser() -> argparse.ArgumentParser:
    from .bench import parse_size

    p = argparse.ArgumentParser(prog="python -m eval.ablation", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="variants: " + ", ".join(VARIANTS))
    p.add_argument("--train", nargs="+", required=True, metavar="TREE",
                   help="labelled-recording trees to train on (moving-object sequences, robot recordings, "
                        "composite pairs); a share of their videos validates (the config's data.val_fraction)")
    p.add_argument("--val", nargs="+", metavar="TREE", help="validate on these trees instead")
    p.add_argument("--test", required=True, metavar="TREE",
                   help="held-out labelled-recording tree with ground truth (robot, object, distractor annotated)")
    p.add_argument("--test-videos", nargs="+", metavar="VIDEO", help="a subset of the test tree's videos")
    p.add_argument("--work", required=True, help="folder for the runs, exports, labels and results")
    p.add_argument("--variants", help="comma-separated subset (default: all)")
    p.add_argument("--budget-steps", type=int, default=30, help="optimiser steps per variant (default 30)")
    p.add_argument("--val-every", type=int, help="validate every N steps (default: once, at the end)")
    p.add_argument("--size", type=parse_size, default=(96, 128), help="input HxW of every variant (default 96x128)")
    p.add_argument("--encoder", default="resnet18", help="ResNet encoder (default resnet18; resnet50 on a GPU)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="motion-stage training config "
                                                                 "(default training/configs/cpu-small-motion.yaml)")
    p.add_argument("--batch-size", type=int, help="pairs per step (default: the config's)")
    p.add_argument("--num-workers", type=int, help="data loader workers (default: the config's)")
    p.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    p.add_argument("--override", action="append", metavar="--KEY=VALUE",
                   help="extra `distinctnet train` override for every variant, "
                        "e.g. --override=--trainer.precision=bf16-mixed")
    p.add_argument("--device", default="auto", help="device for labelling and timing: auto, cpu, cuda")
    p.add_argument("--label-batch", type=int, default=4, help="frames per labelling batch")
    p.add_argument("--bench-runs", type=int, default=10, help="timed forward passes (median reported)")
    p.add_argument("--bench-warmup", type=int, default=3)
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    from distinctnet.errors import UserError

    args = build_parser().parse_args(argv)
    try:
        if args.budget_steps < 1:
            raise UserError("--budget-steps must be at least 1")
        out = run_ablation(args)
    except UserError as e:
        print(f"ablation: error: {e}", file=sys.stderr)
        return 1
    print(f"merge-position ablation: {out['settings']['budget_steps']} steps per variant at "
          f"{args.size[0]}x{args.size[1]}, {args.encoder}; timings on {out['machine']}")
    print(out["table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
