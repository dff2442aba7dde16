"""End-to-end labelling throughput: decode + model + writing the labelled-recording tree (+ exports).

    python -m eval.bench_label --preset fast                       # CPU, the preset's native size
    python -m eval.bench_label --preset paper --device cuda --batch 16 --frames 200 --json label_paper.json
    python -m eval.bench_label --checkpoint model.safetensors --size 480x640 --export robotseg

A video of ``--frames`` frames (a textured background with moving squares, H.264; with ``--input frames``
a folder of JPEGs instead) is generated at ``--size`` (default: the model's native size), then
``distinctnet label``'s pipeline runs on it exactly as the command does. Reported: pairs/s end to end (each
frame is one pair), the decode-only rate of the same video, the labeller alone on the decoded frames, the
model load time and the warm-up time (neither included in pairs/s). Random weights when a preset is given
(speed does not depend on them; the output then marks many frames for review, which costs the same).
"""
from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def scene(n: int, h: int, w: int):
    """n RGB frames (uint8 h x w x 3): a textured background with two moving squares."""
    rng = np.random.default_rng(0)
    bg = rng.integers(30, 120, (h, w, 3), dtype=np.uint8)
    for i in range(n):
        img = bg.copy()
        x = int((w // 3) * (1 + np.sin(i / 6)))
        img[h // 4: h // 2, x: x + w // 5] = (220, 70, 40)
        img[h // 2: 3 * h // 4, w - x - w // 6: w - x] = (40, 90, 220)
        yield img


def make_video(path: Path, n: int, h: int, w: int, fps: int = 15) -> None:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        s.options = {"crf": "20", "preset": "veryfast"}
        for img in scene(n, h, w):
            frame = av.VideoFrame.from_ndarray(img[: s.height, : s.width], format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def make_frames(path: Path, n: int, h: int, w: int) -> None:
    """The same scene as a folder of JPEG frames (no PyAV needed)."""
    import cv2

    path.mkdir(parents=True)
    for i, img in enumerate(scene(n, h, w)):
        cv2.imwrite(str(path / f"{i:06d}.jpg"), img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 92])


def main(argv: list[str] | None = None) -> int:
    from eval.bench import parse_size

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="fast", help="network preset (fast, paper); ignored with --checkpoint")
    p.add_argument("--head", default="semantic", choices=("semantic", "motion"), help="head of the preset model")
    p.add_argument("--recurrent", action="store_true", help="recurrent variant of the preset model")
    p.add_argument("--checkpoint", help="benchmark this checkpoint instead of a preset")
    p.add_argument("--size", type=parse_size, help="video HxW (default: the model's native input size)")
    p.add_argument("--frames", type=int, default=40, help="frames of the generated video (40)")
    p.add_argument("--input", choices=("video", "frames"), default="video",
                   help="the generated recording: an H.264 video (PyAV) or a folder of JPEG frames (OpenCV)")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--write-workers", type=int, default=None, help="writer threads (default: min(8, cores))")
    p.add_argument("--runs", type=int, default=3, help="timed runs; median and best reported (3)")
    p.add_argument("--export", default="", help="exports to include (robotseg,sam2,coco,overlay)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--compile", action="store_true", help="torch.compile the network (compiling happens in the "
                                                          "untimed warm-up)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    args = p.parse_args(argv)

    import torch

    from distinctnet.device import resolve_device
    from distinctnet.io import atomic_write_json
    from distinctnet.label.app import default_write_workers
    from distinctnet.label.exports import parse_formats
    from distinctnet.label.model import load_model
    from distinctnet.label.pipeline import LabelOptions, label_sources
    from distinctnet.label.readers import expand_inputs
    from distinctnet.label.runner import Labeller
    from distinctnet.modeling import DistinctNet, ModelConfig, save_checkpoint

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    with tempfile.TemporaryDirectory(prefix="bench_label_") as tmp:
        tmp = Path(tmp)
        ckpt = Path(args.checkpoint) if args.checkpoint else tmp / "model.safetensors"
        if not args.checkpoint:
            torch.manual_seed(0)
            cfg = ModelConfig.preset(args.preset, head=args.head, recurrent=args.recurrent)
            save_checkpoint(DistinctNet(cfg), ckpt)
        t0 = time.perf_counter()
        model = load_model(ckpt)
        labeller = Labeller(model, device, batch=args.batch, compile=args.compile)
        load_s = time.perf_counter() - t0
        h, w = args.size or model.cfg.input_size
        make = make_video if args.input == "video" else make_frames
        ext = ".mp4" if args.input == "video" else ""
        video = tmp / f"bench{ext}"
        make(video, args.frames, h, w)
        (src,) = expand_inputs([video])

        t0 = time.perf_counter()
        decoded = list(src.frames())
        decode_s = time.perf_counter() - t0
        n_decoded = len(decoded)

        # warm-up, not timed: a clip with a first, a middle and a shorter last chunk (allocations; with --compile,
        # compiling for each of their shapes)
        warm = tmp / f"warm{ext}"
        make(warm, 2 * args.batch + 1, h, w)
        opts = LabelOptions(out=tmp / "warm_out", progress=False)
        t0 = time.perf_counter()
        label_sources(expand_inputs([warm]), labeller, opts)
        warmup_s = time.perf_counter() - t0

        # the labeller alone (model, transfers, probabilities at frame size) on frames already in memory
        sync()
        t0 = time.perf_counter()
        for _ in labeller.predict(decoded):
            pass
        sync()
        predict_s = time.perf_counter() - t0
        del decoded

        times = []
        for k in range(max(1, args.runs)):
            opts = LabelOptions(out=tmp / f"out{k}", exports=parse_formats(args.export), progress=False,
                                write_workers=default_write_workers(args.write_workers))
            sync()
            t0 = time.perf_counter()
            summary = label_sources([src], labeller, opts)
            sync()
            times.append(time.perf_counter() - t0)
            if summary.failed:
                break
    if summary.failed:
        print(f"bench_label: labelling failed: {summary.failed[0][1]}", file=sys.stderr)
        return 1
    cfg = model.cfg
    result = {
        "what": "end-to-end labelling: decode + model + write (+ exports)",
        "model": {"preset": None if args.checkpoint else args.preset, "checkpoint": args.checkpoint,
                  "encoder": cfg.encoder, "merge": cfg.merge, "head": cfg.head, "recurrent": cfg.recurrent,
                  "input_size": list(cfg.input_size)},
        "input": args.input, "video_size": [h, w], "frames": summary.frames, "batch": args.batch,
        "write_workers": default_write_workers(args.write_workers), "exports": args.export or None,
        "device": str(device), "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "gpu": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "compile": args.compile, "runs": len(times), "pairs_per_s": round(summary.frames / statistics.median(times), 3),
        "pairs_per_s_best": round(summary.frames / min(times), 3),
        "ms_per_pair": round(1000 * statistics.median(times) / summary.frames, 2),
        "decode_frames_per_s": round(n_decoded / decode_s, 1),
        "labeller_only_pairs_per_s": round(n_decoded / predict_s, 1), "model_load_s": round(load_s, 2),
        "warmup_s": round(warmup_s, 1),
    }
    print(f"labelling {summary.frames} frames {h}x{w} on {device} ({result['model']['encoder']}, "
          f"{cfg.merge} correlation, {cfg.head} head, batch {args.batch}, {torch.get_num_threads()} threads): "
          f"{result['pairs_per_s']} pairs/s median of {len(times)} runs (best {result['pairs_per_s_best']}; "
          f"{result['ms_per_pair']} ms/pair end to end; decoding alone {result['decode_frames_per_s']} frames/s, "
          f"the labeller alone on decoded frames {result['labeller_only_pairs_per_s']} pairs/s)")
    if args.json:
        atomic_write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
