"""Lengthen motion stops of rendered recordings without rendering: after a stop nothing moves, so the last
frame is repeated with fresh sensor noise per frame (a real camera never gives identical frames), masks kept.

    python -m synth.extend_stop ROOT OUT --static 24 [--noise 2.0] [--seed 0]

Videos with ``static_from`` get ``--static`` frames after their stop in total (those without a stop get a
stop appended at their end). Used to build held-out sets for the motion-stop curve (IoU 20 frames after
the stop) at a fraction of the render cost.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from distinctnet.errors import UserError
from distinctnet.layout import Recording, VideoWriter, is_finished, rebuild_meta


def extend(root: str | Path, out: str | Path, static: int = 24, noise: float = 2.0, seed: int = 0) -> int:
    rec = Recording(root)
    done = 0
    for vi, video in enumerate(rec.videos):
        if is_finished(out, video):
            continue
        meta = dict(rec.video_meta(video))
        n = rec.num_frames(video)
        stop = meta.get("static_from")
        stop = n if stop is None else int(stop)
        total = stop + static
        rng = np.random.default_rng([seed, vi])
        extra = {k: v for k, v in meta.items()
                 if k not in ("frames", "annotated_parts", "static_from", "source", "license")}
        extra["extended_from"] = {"frames": n, "static_from": meta.get("static_from"), "noise": noise}
        w = VideoWriter(out, video, annotated_parts=meta.get("annotated_parts", ()), static_from=stop,
                        source=meta.get("source", ""), license=meta.get("license", ""), extra=extra)
        last = None
        for i in range(total):
            src = min(i, n - 1)
            if i < n:
                last = (rec.read_image(video, src), rec.read_masks(video, src))
            img, masks = last
            if i >= n or i >= stop + 1:  # a repeated still frame: new sensor noise
                img = np.clip(img.astype(np.float32) + rng.normal(0, noise, img.shape), 0, 255).astype(np.uint8)
            w.write(img, masks)
        w.finish(rebuild=False)
        done += 1
    rebuild_meta(out)
    return done


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m synth.extend_stop", description=__doc__.splitlines()[0])
    p.add_argument("root")
    p.add_argument("out")
    p.add_argument("--static", type=int, default=24, help="frames after the stop (default 24)")
    p.add_argument("--noise", type=float, default=2.0, help="sensor noise sigma of repeated frames (0-255 scale)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    try:
        if Path(a.root).resolve() == Path(a.out).resolve():
            raise UserError(f"{a.out}: output must differ from the input tree")
        print(f"extended {extend(a.root, a.out, a.static, a.noise, a.seed)} videos into {a.out}")
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
