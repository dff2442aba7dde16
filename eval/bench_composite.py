"""Speed and disk use of the compositing generator (synth/composite.py): pairs per hour and MB per 1,000
pairs at the default output size.

    python -m eval.bench_composite                          # stand-in robot recording, default backgrounds
    python -m eval.bench_composite --robots data/render_panda --num 1000 --workers 1 2 --json composite.json

Without ``--robots`` a stand-in robot recording (a textured two-link arm with a two-finger gripper,
480x640, 30 frames) is made in a temp folder, so the figures include decoding source frames of a
realistic size. Reported: pairs/s and pairs/hour of the whole job (generation + encoding + writing),
the split between making a pair in memory and writing it, and disk use per 1,000 pairs (file bytes and
allocated blocks).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def stand_in_robot(root: Path, frames: int = 30, h: int = 480, w: int = 640, seed: int = 0) -> Path:
    """A labelled recording of a moving textured two-link arm with a two-finger gripper."""
    import cv2

    from distinctnet.layout import VideoWriter

    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur((rng.random((h, w, 3)) * 255).astype(np.uint8), (0, 0), 3)
    with VideoWriter(root, "standin_0000", source="eval.bench_composite stand-in") as wr:
        for f in range(frames):
            a1, a2 = -np.pi / 2 + 0.5 * np.sin(f / 6), 0.9 * np.cos(f / 5)
            base = np.array([w * 0.45, h - 1.0])
            elbow = base + 0.45 * h * np.array([np.cos(a1), np.sin(a1)])
            wrist = elbow + 0.35 * h * np.array([np.cos(a1 + a2), np.sin(a1 + a2)])
            d = (wrist - elbow) / np.linalg.norm(wrist - elbow)
            n = np.array([-d[1], d[0]])
            arm = np.zeros((h, w), np.uint8)
            for p, q, r in ((base, elbow, 28), (elbow, wrist, 20)):
                cv2.line(arm, tuple(map(int, p)), tuple(map(int, q)), 1, 2 * r)
                cv2.circle(arm, tuple(map(int, q)), r, 1, -1)
            gripper = np.zeros((h, w), np.uint8)
            palm = [wrist + 26 * n, wrist - 26 * n, wrist - 26 * n + 14 * d, wrist + 26 * n + 14 * d]
            cv2.fillPoly(gripper, [np.int32(palm)], 1)
            for side in (1, -1):
                root_pt = wrist + 14 * d + side * 18 * n
                finger = [root_pt, root_pt - side * 8 * n, root_pt - side * 8 * n + 34 * d, root_pt + 34 * d]
                cv2.fillPoly(gripper, [np.int32(finger)], 1)
            img = np.full((h, w, 3), 90, np.uint8)
            shade = (0.6 + 0.4 * texture[..., :1] / 255)
            img[arm > 0] = (np.array([235, 235, 240]) * shade[arm > 0]).astype(np.uint8)
            img[gripper > 0] = (np.array([60, 60, 70]) * shade[gripper > 0]).astype(np.uint8)
            wr.write(img, {"arm": (arm > 0) & (gripper == 0), "gripper": gripper > 0})
    return root


def disk_use(root: Path) -> tuple[int, int, int]:
    """(file bytes, allocated bytes, files) of the pairs (image/, mask/, meta.d/)."""
    size = blocks = files = 0
    for sub in ("image", "mask", "meta.d"):
        for p in (root / sub).rglob("*"):
            if p.is_file():
                st = p.stat()
                size += st.st_size
                blocks += st.st_blocks * 512
                files += 1
    return size, blocks, files


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes)."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def split_timing(robots: list[str], size: tuple[int, int], n: int) -> dict:
    """ms per pair spent making pairs in memory vs encoding and writing them (one process)."""
    from synth.assets import find_backgrounds, find_objects
    from synth.composite import CompositeConfig, CompositeGenerator, RobotSource

    gen = CompositeGenerator(RobotSource(robots), find_backgrounds(None), find_objects(None),
                             CompositeConfig(size=size), seed=123)
    gen.make_pair(10 ** 6)  # warm caches/imports
    t = time.perf_counter()
    pairs = [gen.make_pair(k) for k in range(n)]
    make_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory(prefix="bench_composite_") as d:
        t = time.perf_counter()
        for p in pairs:
            gen.write_pair(Path(d), p)
        write_s = time.perf_counter() - t
    return {"make_ms": round(1000 * make_s / n, 2), "write_ms": round(1000 * write_s / n, 2)}


def main(argv: list[str] | None = None) -> int:
    from synth.composite import CompositeConfig, generate, parse_size

    ap = argparse.ArgumentParser(prog="python -m eval.bench_composite", description=__doc__.split("\n\n")[0])
    ap.add_argument("--robots", action="append", help="robot recording tree(s) (default: a stand-in)")
    ap.add_argument("--num", type=int, default=300, help="pairs per timed run (default 300)")
    ap.add_argument("--size", default="240x416")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to time (default 1 2)")
    ap.add_argument("--json", help="also write the figures here")
    args = ap.parse_args(argv)
    size = parse_size(args.size)
    tmp = Path(tempfile.mkdtemp(prefix="bench_composite_"))
    try:
        robots = args.robots or [str(stand_in_robot(tmp / "robots"))]
        results = {"size": list(size), "num": args.num, "cpus": os.cpu_count(), "host": platform.node(),
                   "python": platform.python_version(), "runs": []}
        results["split"] = split_timing(robots, size, min(args.num, 100))
        for w in args.workers:
            out = tmp / f"out_w{w}"
            cpu0 = cpu_seconds()
            t = time.perf_counter()
            m = generate(out, args.num, robots, cfg=CompositeConfig(size=size), seed=0, workers=w, progress=False)
            wall = time.perf_counter() - t  # includes start-up (asset listing, worker start, meta rebuild)
            cpu = cpu_seconds() - cpu0
            nbytes, nalloc, nfiles = disk_use(out)
            run = {"workers": w, "pairs": m["made"], "wall_s": round(wall, 2),
                   "pairs_per_s": round(m["made"] / wall, 2), "pairs_per_hour": round(3600 * m["made"] / wall),
                   "cpu_ms_per_pair": round(1000 * cpu / m["made"], 1),
                   "mb_per_1000": round(nbytes / m["made"] * 1000 / 1e6, 1),
                   "mb_allocated_per_1000": round(nalloc / m["made"] * 1000 / 1e6, 1),
                   "files_per_pair": round(nfiles / m["made"], 2)}
            results["runs"].append(run)
            shutil.rmtree(out, ignore_errors=True)
        print(f"composite pairs at {size[0]}x{size[1]}, {args.num} pairs per run, {os.cpu_count()} CPUs; "
              f"in one process {results['split']['make_ms']} ms making + {results['split']['write_ms']} ms "
              "writing per pair")
        print(f"{'workers':>7} {'pairs/s':>8} {'pairs/hour':>11} {'CPU ms/pair':>12} {'MB/1000 pairs':>14} "
              f"{'allocated':>10}")
        for r in results["runs"]:
            print(f"{r['workers']:>7} {r['pairs_per_s']:>8.1f} {r['pairs_per_hour']:>11,} "
                  f"{r['cpu_ms_per_pair']:>12.1f} {r['mb_per_1000']:>14.1f} {r['mb_allocated_per_1000']:>10.1f}")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        results["load_average_1min"] = round(load, 2)
        print(f"(1-min load average {load:.1f} on {os.cpu_count()} CPUs: pairs/s falls when other jobs share them; "
              "CPU ms/pair includes worker start-up)")
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
