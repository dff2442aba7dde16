"""Label a corpus on several Ray workers (the optional ``ray`` extra: ``pip install 'distinctnet[ray]'``).

Worker k of N runs the ordinary labeller on shard k/N of the inputs (``--shard k/N``); all workers write
into the same output tree, which merges them (one meta fragment per video, meta.json rebuilt under a lock).
Inputs and output must be on a file system every worker sees (one machine, or a shared mount).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import UserError


def _label_shard(args_dict: dict, k: int, n: int) -> dict:
    import dataclasses

    from .app import run_label

    summary = run_label(argparse.Namespace(**args_dict), shard=(k, n))
    return dataclasses.asdict(summary)


def run_ray(args, workers: int, address: str | None = None) -> list:
    try:
        import ray
    except ImportError:
        raise UserError("--ray needs Ray: pip install 'distinctnet[ray]'") from None
    from .pipeline import Summary

    if workers < 1:
        raise UserError("--ray WORKERS must be at least 1")
    gpus = getattr(args, "ray_gpus", None)
    if gpus is None:
        gpus = 0.0
        if args.device != "cpu":
            import torch

            gpus = 1.0 if (args.device == "cuda" or torch.cuda.is_available()) else 0.0
    started = False
    if not ray.is_initialized():
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=True,
                 include_dashboard=False, configure_logging=False)
        started = True
    try:
        task = ray.remote(num_cpus=1, num_gpus=gpus)(_label_shard)
        args_dict = {k: v for k, v in vars(args).items() if not k.startswith("_")}
        args_dict.update(ray=0, shard=None, quiet=True)
        # workers may start in another folder: hand them absolute paths
        args_dict["inputs"] = [str(Path(p).resolve()) for p in (args.inputs or [])]
        args_dict["out"] = str(Path(args.out).resolve())
        if args.checkpoint:
            args_dict["checkpoint"] = str(Path(args.checkpoint).resolve())
        results = ray.get([task.remote(args_dict, k, workers) for k in range(workers)])
    finally:
        if started:
            ray.shutdown()
    out = []
    for r in results:
        r["failed"] = [tuple(f) for f in r["failed"]]
        out.append(Summary(**r))
    return out
