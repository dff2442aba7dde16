"""What one GPU session checks and times, in one call (GPU time comes in short slots).

    python -m eval.gpu_check --out DIR [--frames DIR] [--budget-s 420] [--only speed,agree,...]

Sections, most important first. Each one's figures go to DIR/gpu_check.json as soon as it is done, so a run
stopped at its time limit keeps what it measured; a section that would start after --budget-s is skipped.

  speed    the paper preset (ResNet-50, global correlation after layer2, 414x736, random weights): pairs/s
           in pair mode (both frames encoded: what training sees) and video mode (each frame encoded once
           and reused: what the labeller does), bf16 + channels_last + cuDNN autotuning, over batch sizes;
           then what bf16, channels_last and autotuning each buy at one batch size
  agree    the shipped default model on the CPU (fp32) and on CUDA (bf16 autocast) through the labeller:
           mask IoU between the two, per class, on real frames (--frames, e.g. the bundled sample's) or
           generated ones
  train    optimiser steps of the real training entry point on the GPU configs (python -m training.bench)
  label    end-to-end labelling on CUDA (python -m eval.bench_label, a JPEG folder as input)
  host     where the labeller's time goes per frame around the network: resizing, upload, the network,
           copying probabilities back (float32, float16, into pinned memory), masks + quality row, file writes
  default  the shipped default network's speed on CUDA over batch sizes
  compile  torch.compile of the paper preset's video-mode step at the best batch size

Timing: CUDA events around each call after warm-up, median of --runs; inputs are random (never zeros).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SECTIONS = ("speed", "agree", "train", "label", "host", "default", "compile")


def cuda_time(fn, runs: int, warmup: int) -> list[float]:
    """Milliseconds per call of fn(), one CUDA-event pair per call, after ``warmup`` untimed calls."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return times


def model_step(model, mode: str, batch: int, size, bf16: bool = True, channels_last: bool = True):
    """eval.bench's step, rotating among three input sets (so repeated runs do not time a cached input)."""
    from eval.bench import make_step

    return make_step(model, mode, batch, size, bf16, channels_last, input_sets=3)


def figures(times: list[float], batch: int) -> dict:
    med = statistics.median(times)
    return {"batch": batch, "ms_per_batch": round(med, 3), "pairs_per_s": round(1000 * batch / med, 1),
            "ms_spread": [round(min(times), 3), round(max(times), 3)]}


def paper_model(channels_last=True):
    import torch

    from distinctnet.modeling import DistinctNet, ModelConfig

    torch.manual_seed(0)
    model = DistinctNet(ModelConfig.preset("paper", head="semantic")).cuda().eval()
    return model.to(memory_format=torch.channels_last) if channels_last else model


def section_speed(args) -> dict:
    import torch

    torch.backends.cudnn.benchmark = True
    model = paper_model()
    size = model.cfg.input_size
    out = {"size": list(size), "params": model.num_parameters(), "sweep": []}
    for mode in ("video", "pair"):
        for batch in args.batches:
            try:
                t = cuda_time(model_step(model, mode, batch, size), args.runs, 3)
            except torch.OutOfMemoryError:
                out["sweep"].append({"mode": mode, "batch": batch, "error": "out of memory"})
                torch.cuda.empty_cache()
                continue
            peak = round(torch.cuda.max_memory_allocated() / 2**30, 1)
            row = {"mode": mode, **figures(t, batch), "peak_mem_gib": peak}
            out["sweep"].append(row)
            print(f"  paper {mode:5s} batch {batch:3d}: {row['pairs_per_s']:8.1f} pairs/s  "
                  f"({row['ms_per_batch']:.1f} ms/batch, peak {row['peak_mem_gib']} GiB)", flush=True)
            torch.cuda.reset_peak_memory_stats()
    # what each setting buys, at one batch size (video mode)
    b = args.ablation_batch
    variants = {}
    for name, kw, bench, cl in (("bf16+channels_last+autotune", {}, True, True),
                                ("no channels_last", {"channels_last": False}, True, False),
                                ("no autotune", {}, False, True),
                                ("fp32 (tf32 convs)", {"bf16": False}, True, True)):
        torch.backends.cudnn.benchmark = bench
        m = paper_model(channels_last=cl)
        t = cuda_time(model_step(m, "video", b, size, **kw), args.runs, 3)
        variants[name] = figures(t, b)
        print(f"  paper video batch {b} {name:28s}: {variants[name]['pairs_per_s']:8.1f} pairs/s", flush=True)
        del m
    torch.backends.cudnn.benchmark = True
    out["ablation_video"] = variants
    return out


def read_frames(folder: str | None, n: int, size=(240, 416)) -> list[np.ndarray]:
    import cv2

    if folder:
        files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:n]
        frames = [cv2.imread(str(p))[:, :, ::-1].copy() for p in files]
        if len(frames) >= 2:
            return frames
    from eval.bench_label import scene

    return list(scene(n, *size))


def agreement(frames: list[np.ndarray], a: tuple[str, int], b: tuple[str, int], checkpoint=None) -> dict:
    """Label ``frames`` with the same checkpoint on two (device, batch) settings: per class, the IoU between
    the two runs' masks (over all frames) and how far their probabilities differ."""
    import torch

    from distinctnet.label.model import load_model
    from distinctnet.label.runner import Labeller

    probs = []
    for dev, batch in (a, b):
        lab = Labeller(load_model(checkpoint), torch.device(dev), batch=batch)
        probs.append(np.stack([p for _, p in lab.predict(frames)]))
    pa, pb = probs
    th = np.array(lab.channel_thresholds, np.float32).reshape(1, -1, 1, 1)
    ma, mb = pa > th, pb > th
    per = {}
    for i, c in enumerate(lab.classes):
        union = np.logical_or(ma[:, i], mb[:, i]).sum()
        inter = np.logical_and(ma[:, i], mb[:, i]).sum()
        diff = np.abs(pa[:, i] - pb[:, i])
        per[c] = {"mask_iou": round(float(inter / union), 4) if union else None, "mask_px": int(ma[:, i].sum()),
                  "max_abs_prob_diff": round(float(diff.max()), 4), "mean_abs_prob_diff": round(float(diff.mean()), 5)}
    return per


def section_agree(args) -> dict:
    frames = read_frames(args.frames, args.agree_frames)
    per = agreement(frames, ("cpu", 4), ("cuda", 16))
    for c, r in per.items():
        print(f"  {c:10s} mask IoU cpu fp32 vs cuda bf16: {r['mask_iou']}  (mean |dp| {r['mean_abs_prob_diff']})",
              flush=True)
    return {"frames": len(frames), "source": args.frames or "generated", "frame_size": list(frames[0].shape[:2]),
            "per_class": per}


def run_module(argv: list[str], timeout: float, json_path: Path) -> dict:
    """Run ``python -m ...`` with a time limit; its JSON result, or the tail of its output on failure."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-m", *argv, "--json", str(json_path)], capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"argv": argv, "error": f"timed out after {timeout:.0f} s"}
    wall = round(time.perf_counter() - t0, 1)
    if proc.returncode != 0 or not json_path.is_file():
        return {"argv": argv, "error": f"exit {proc.returncode}", "output_tail": (proc.stdout + proc.stderr)[-3000:]}
    res = json.loads(json_path.read_text())
    return {"argv": argv, "wall_s": wall, **res}


def section_train(args) -> dict:
    out = {}
    jobs = {
        "paper-motion (gpu-motion.yaml, batch 16)": ["training.bench", "--config", "training/configs/gpu-motion.yaml",
                                                    "--steps", "12"],
        "paper-semantic (gpu-semantic.yaml, batch 16)": ["training.bench", "--config",
                                                        "training/configs/gpu-semantic.yaml", "--steps", "12"],
        "paper-recurrent (gpu-recurrent.yaml)": ["training.bench", "--config",
                                                "training/configs/gpu-recurrent.yaml", "--steps", "8"],
        "fast-semantic 192x336 batch 32": ["training.bench", "--config", "training/configs/cpu-small-semantic.yaml",
                                           "--steps", "12", "--trainer.accelerator=gpu",
                                           "--trainer.precision=bf16-mixed", "--trainer.benchmark=true",
                                           "--model.net.input_size=[192,336]", "--model.freeze=[]",
                                           "--data.init_args.batch_size=32", "--data.init_args.num_workers=12"],
    }
    for i, (name, argv) in enumerate(jobs.items()):
        out[name] = r = run_module(argv, args.sub_timeout, args.out / f"train{i}.json")
        print(f"  train {name}: " + (f"{r['s_per_step']} s/step, {r['pairs_per_s']} pairs/s"
                                     if "error" not in r else r["error"]), flush=True)
    return out


def section_label(args) -> dict:
    out = {}
    jobs = {
        "paper preset, batch 16, 414x736": ["eval.bench_label", "--preset", "paper", "--device", "cuda", "--batch",
                                           "16", "--frames", "240", "--runs", "2", "--input", "frames"],
        "shipped default, batch 32, 414x736 frames": ["eval.bench_label", "--checkpoint",
                                                     "distinctnet/assets/default.safetensors", "--device", "cuda",
                                                     "--batch", "32", "--frames", "240", "--runs", "2",
                                                     "--size", "414x736", "--input", "frames"],
    }
    for i, (name, argv) in enumerate(jobs.items()):
        out[name] = r = run_module(argv, args.sub_timeout, args.out / f"label{i}.json")
        print(f"  label {name}: " + (f"{r['pairs_per_s']} pairs/s end to end (decode {r['decode_frames_per_s']} "
                                     f"frames/s, labeller alone {r.get('labeller_only_pairs_per_s')} pairs/s)"
                                     if "error" not in r else r["error"]), flush=True)
    return out


def labeller_stages(device: str = "cuda", batch: int = 32, size=(414, 736), repeats: int = 3) -> dict:
    """Milliseconds per frame of each stage of the labeller around the network (shipped default, one chunk of
    ``batch`` frames of ``size``, median of ``repeats``)."""
    import tempfile

    import torch

    from distinctnet.device import autocast, to_device_layout
    from distinctnet.label.model import load_model
    from distinctnet.label.parts import plan_parts
    from distinctnet.label.quality import QualityRecorder
    from distinctnet.label.runner import Labeller
    from distinctnet.layout import VideoWriter
    from eval.bench_label import scene

    dev = torch.device(device)
    lab = Labeller(load_model(None), dev, batch=batch)
    plan = plan_parts(lab.head, lab.classes)
    frames = list(scene(batch, *size))
    cuda = dev.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def timed(fn):
        out, times = None, []
        for _ in range(repeats + 1):  # the first is a warm-up
            sync()
            t0 = time.perf_counter()
            out = fn()
            sync()
            times.append(time.perf_counter() - t0)
        return out, 1000 * statistics.median(times[1:]) / batch

    ms = {}
    xs, ms["resize (CPU)"] = timed(lambda: torch.stack([lab._prep(f) for f in frames]))
    x, ms["upload"] = timed(lambda: to_device_layout(xs.to(dev).float().div_(255.0)))

    def network():
        with torch.inference_mode(), autocast(dev):
            return lab._step(x, {}, size)

    probs, ms["network + probabilities at frame size"] = timed(network)
    _, ms["copy back, float32"] = timed(lambda: probs.cpu().numpy())
    _, ms["copy back, float16"] = timed(lambda: probs.half().cpu().numpy())
    if cuda:
        pinned = torch.empty(probs.shape, dtype=probs.dtype, pin_memory=True)
        _, ms["copy back, float32 into pinned memory"] = timed(lambda: pinned.copy_(probs))
    host = probs.cpu().numpy()
    quality = QualityRecorder(plan.annotated, 0.6, None)
    _, ms["masks + quality row"] = timed(
        lambda: [quality.make_row(i, plan.split(p, lab.channel_thresholds)) for i, p in enumerate(host)])
    with tempfile.TemporaryDirectory() as tmp:
        writer = VideoWriter(tmp, "v", annotated_parts=plan.annotated)
        split = [plan.split(p, lab.channel_thresholds) for p in host]
        _, ms["write image + masks (one thread)"] = timed(
            lambda: [writer.write(f, {k: m for k, (m, _) in sp.items()}, frame=i)
                     for i, (f, sp) in enumerate(zip(frames, split))])
    return {"device": device, "batch": batch, "size": list(size),
            "ms_per_frame": {k: round(v, 3) for k, v in ms.items()}}


def section_host(args) -> dict:
    r = labeller_stages("cuda")
    for k, v in r["ms_per_frame"].items():
        print(f"  {k:42s} {v:8.3f} ms/frame", flush=True)
    return r


def section_default(args) -> dict:
    import torch

    from distinctnet.device import prepare_for_inference
    from distinctnet.label.model import load_model

    model = prepare_for_inference(load_model(None), torch.device("cuda"))
    size = model.cfg.input_size
    rows = []
    for batch in args.batches:
        t = cuda_time(model_step(model, "video", batch, size), args.runs, 3)
        rows.append(figures(t, batch))
        print(f"  default video batch {batch:3d}: {rows[-1]['pairs_per_s']:8.1f} pairs/s", flush=True)
    return {"size": list(size), "encoder": model.cfg.encoder, "sweep": rows}


def section_compile(args, best_batch: int) -> dict:
    import torch

    model = paper_model()
    size = model.cfg.input_size

    class VideoStep(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            f = self.m.encode(x)
            return self.m.decode(f, f, None, size)[0]

    t0 = time.perf_counter()
    step = torch.compile(VideoStep(model))
    x = torch.rand(best_batch, 3, *size, device="cuda").contiguous(memory_format=torch.channels_last)

    def run():
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16):
            return step(x)

    run()
    torch.cuda.synchronize()
    compile_s = time.perf_counter() - t0
    t = cuda_time(run, args.runs, 2)
    r = {"compile_s": round(compile_s, 1), **figures(t, best_batch)}
    print(f"  compiled paper video batch {best_batch}: {r['pairs_per_s']} pairs/s (compile {r['compile_s']} s)",
          flush=True)
    return r


def env() -> dict:
    import torch

    p = torch.cuda.get_device_properties(0)
    return {"gpu": torch.cuda.get_device_name(0), "sm_count": p.multi_processor_count,
            "memory_gib": round(p.total_memory / 2**30, 1), "torch": torch.__version__,
            "cudnn": torch.backends.cudnn.version(), "cpu_cores": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.gpu_check", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--frames", help="a folder of real frames for the agreement check (default: generated)")
    p.add_argument("--only", help=f"comma-separated sections (default all: {','.join(SECTIONS)})")
    p.add_argument("--budget-s", type=float, default=420, help="start no section after this many seconds")
    p.add_argument("--batches", default="1,8,16,32,64", help="batch sizes of the speed sweeps")
    p.add_argument("--ablation-batch", type=int, default=32)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--agree-frames", type=int, default=40)
    p.add_argument("--sub-timeout", type=float, default=120, help="time limit of each sub-benchmark (s)")
    args = p.parse_args(argv)
    args.batches = [int(b) for b in args.batches.split(",")]
    only = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(only) - set(SECTIONS)
    if unknown:
        p.error(f"--only: unknown sections {sorted(unknown)}; sections: {', '.join(SECTIONS)}")

    import torch

    from distinctnet.io import atomic_write_json

    if not torch.cuda.is_available():
        print("gpu_check: error: no CUDA device on this machine", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    result = {"env": env(), "sections": {}, "skipped": [], "errors": {}}
    print(json.dumps(result["env"]), flush=True)
    for name in only:
        if time.perf_counter() - start > args.budget_s:
            result["skipped"].append(name)
            continue
        print(f"[{name}] at {time.perf_counter() - start:.0f} s", flush=True)
        t0 = time.perf_counter()
        try:
            if name == "compile":
                sweep = result["sections"].get("speed", {}).get("sweep", [])
                video = [r for r in sweep if r.get("mode") == "video" and "pairs_per_s" in r]
                best = max(video, key=lambda r: r["pairs_per_s"])["batch"] if video else 32
                res = section_compile(args, best)
            else:
                res = globals()[f"section_{name}"](args)
            res["section_s"] = round(time.perf_counter() - t0, 1)
            result["sections"][name] = res
        except Exception as e:  # noqa: BLE001 - record it and go on to the next section
            result["errors"][name] = f"{type(e).__name__}: {e}"[:2000]
            print(f"  [{name}] failed: {result['errors'][name][:300]}", flush=True)
        torch.cuda.empty_cache()
        atomic_write_json(args.out / "gpu_check.json", result)
    print(f"done in {time.perf_counter() - start:.0f} s; skipped: {result['skipped'] or 'none'}; "
          f"errors: {list(result['errors']) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
