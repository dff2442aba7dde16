"""Training speed of a stage config on this machine: seconds per optimiser step (median after warm-up),
pairs per second and the time of an epoch of a given size, with data loading included. CPU seconds per
step (this process) and the load average are reported too: on a shared machine wall time lies.

    python -m training.bench --config training/configs/cpu-small-motion.yaml [--steps 8] [--data DIR]
        [--epoch-pairs 1000] [--json out.json] [OVERRIDES ...]

Without --data it writes a small generated dataset (moving squares on noise, 240x320) to a temp folder.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_bench_data(root: Path, videos: int = 6, frames: int = 12, size=(240, 320), seed: int = 0) -> Path:
    from distinctnet.layout import VideoWriter

    rng = np.random.default_rng(seed)
    h, w = size
    for v in range(videos):
        bg = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        with VideoWriter(root, f"bench{v:02d}", source="training.bench") as wr:
            for t in range(frames):
                img = bg.copy()
                obj, arm, grip = (np.zeros((h, w), bool) for _ in range(3))
                x = (20 + 9 * t + 30 * v) % (w - 60)
                obj[h // 2:h // 2 + 50, x:x + 50] = True
                arm[10 + 4 * t:60 + 4 * t, w - 80:w - 40] = True
                grip[60 + 4 * t:80 + 4 * t, w - 80:w - 40] = True
                img[obj], img[arm], img[grip] = (30, 30, 220), (200, 40, 40), (40, 200, 40)
                wr.write(img, {"arm": arm, "gripper": grip, "distractor": obj & ~arm & ~grip})
    return root


def bench(config: str, steps: int, data: str | None, overrides: list[str], warmup: int = 2) -> dict:
    import pytorch_lightning as pl
    import torch
    from pytorch_lightning.callbacks import EarlyStopping, LearningRateMonitor

    from .cli import train

    class StepTimer(pl.Callback):
        def __init__(self):
            self.ends: list[float] = []
            self.compute: list[float] = []
            self.cpu: list[float] = []  # CPU seconds of this process: robust to other jobs on the machine

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            self._t = time.perf_counter()
            self._cpu = time.process_time()

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            now = time.perf_counter()
            self.compute.append(now - self._t)
            self.cpu.append(time.process_time() - self._cpu)
            self.ends.append(now)
            self.batch = batch["target"].shape[0] * (batch["target"].shape[1] if batch["target"].dim() == 5 else 1)

    with tempfile.TemporaryDirectory(prefix="train-bench-") as tmp:
        root = data or str(Path(tmp) / "data")
        cli = train([config, f"--data.roots=[{root}]", "--model.init_from=null", f"--trainer.max_steps={steps + warmup}",
                     "--trainer.limit_val_batches=0", "--trainer.logger=false", "--checkpoint.monitor=null",
                     "--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={tmp}", *overrides],
                    run=False)
        if not data:  # one epoch holds every step: no loader restarts inside the timed steps
            frames = 12
            dm = cli.datamodule  # recurrent: sized for whole sequences (seq_len frames each), more than a step takes
            pairs = (steps + warmup + 1) * dm.batch_size * getattr(dm, "seq_len", 1) * cli.trainer.num_devices
            make_bench_data(Path(root), videos=max(6, int(pairs / (frames - 1) / 0.85) + 2), frames=frames)
        # no logger and no validation here: nothing to log learning rates into, no metric to stop early on
        cli.trainer.callbacks[:] = [c for c in cli.trainer.callbacks
                                    if not isinstance(c, (LearningRateMonitor, EarlyStopping))]
        timer = StepTimer()
        cli.trainer.callbacks.append(timer)
        cli.trainer.fit(cli.model, cli.datamodule)
        cfg = cli.model.net.cfg
        dm = cli.datamodule
    if len(timer.ends) <= warmup:
        raise SystemExit(f"only {len(timer.ends)} steps ran: use more data or fewer --steps")
    step = statistics.median(np.diff(timer.ends[warmup - 1:]))
    compute = statistics.median(timer.compute[warmup:])
    return {"config": config, "encoder": cfg.encoder, "merge": cfg.merge, "input_size": list(cfg.input_size),
            "recurrent": cfg.recurrent, "batch_size": dm.batch_size, "pairs_per_step": timer.batch,
            "device": str(cli.trainer.strategy.root_device), "precision": str(cli.trainer.precision),
            "steps_timed": len(timer.ends) - warmup, "s_per_step": round(step, 3),
            "s_per_step_compute_only": round(compute, 3), "pairs_per_s": round(timer.batch / step, 2),
            "cpu_s_per_step": round(statistics.median(timer.cpu[warmup:]), 3), "torch_threads": torch.get_num_threads(),
            "load_average": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.bench", description=__doc__.splitlines()[0])
    p.add_argument("--config", required=True)
    p.add_argument("--steps", type=int, default=8, help="timed steps (after 2 warm-up steps)")
    p.add_argument("--data", default=None, help="a labelled-recording tree (default: generated)")
    p.add_argument("--epoch-pairs", type=int, default=1000, help="report the time of an epoch of this many pairs")
    p.add_argument("--json", default=None, help="also write the result here")
    args, overrides = p.parse_known_args(argv)
    from distinctnet.errors import UserError

    try:
        r = bench(args.config, args.steps, args.data, overrides)
    except UserError as e:
        print(f"training.bench: error: {e}", file=sys.stderr)
        return 1
    r["epoch_pairs"] = args.epoch_pairs
    r["min_per_epoch"] = round(args.epoch_pairs / r["pairs_per_s"] / 60, 1)
    for k, v in r.items():
        print(f"{k:>24}: {v}")
    if args.json:
        from distinctnet.io import atomic_write_json

        atomic_write_json(args.json, r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
