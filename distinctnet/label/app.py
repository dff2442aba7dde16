"""``distinctnet label``: what one process (or one Ray worker) does with the parsed arguments."""
from __future__ import annotations

import logging
from pathlib import Path

from ..errors import UserError
from .exports import parse_formats
from .model import SAMPLE_RECORDING, load_model
from .pipeline import LabelOptions, Summary, file_sha256, label_sources, parse_shard, select_shard
from .readers import expand_inputs

log = logging.getLogger("distinctnet.label")


def default_write_workers(n: int | None) -> int:
    import os

    return max(0, n) if n is not None else min(8, os.cpu_count() or 1)


def input_paths(inputs: list[str] | None) -> list[str]:
    if inputs:
        return list(inputs)
    if not SAMPLE_RECORDING.is_file():
        raise UserError(f"{SAMPLE_RECORDING}: the bundled sample recording is missing; name an INPUT to label")
    return [str(SAMPLE_RECORDING)]


def run_label(args, shard: tuple[int, int] | None = None) -> Summary:
    from ..device import resolve_device
    from .cli import pass_options
    from .model import checkpoint_path
    from .runner import Labeller

    formats = parse_formats(args.export)
    shard = shard or parse_shard(args.shard)
    sources = select_shard(expand_inputs(input_paths(args.inputs), args.topic), shard)
    ckpt = checkpoint_path(args.checkpoint)
    if not sources:
        log.info("shard %d/%d has no videos", *shard)
        return Summary()
    device = resolve_device(args.device)
    labeller = Labeller(load_model(ckpt), device, batch=args.batch, tta=getattr(args, "tta", "none"),
                        input_size=getattr(args, "input_size", None), thresholds=args.threshold,
                        compile=getattr(args, "compile", False), clean=getattr(args, "clean", 0.0),
                        **pass_options(args))
    opts = LabelOptions(out=Path(args.out), exports=formats, overwrite=args.overwrite,
                        review_margin=args.review_margin, jpeg_quality=args.jpeg_quality, fps=args.fps,
                        settings=labeller.settings(), progress=not args.quiet, checkpoint=str(ckpt),
                        checkpoint_sha256=file_sha256(ckpt),
                        write_workers=default_write_workers(getattr(args, "write_workers", None)))
    return label_sources(sources, labeller, opts)
