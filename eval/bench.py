"""Model speed: parameters, ms per pair and pairs per second (warm-up excluded, median of several runs).

    distinctnet bench --preset fast                      # this CPU
    distinctnet bench --preset paper --device cuda --batch 32 --json paper.json   # bf16 on by default on CUDA
    distinctnet bench --label --checkpoint distinctnet/assets/default.safetensors  # labelling, end to end
    python -m eval.bench --preset fast --set merge_after=layer3 --size 256x448

Two modes: ``pair`` runs the model on independent pairs (both frames encoded: what training sees);
``video`` encodes each frame once and reuses it as target and then as reference (what the labeller does).
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time


def parse_size(text: str) -> tuple[int, int]:
    """'HxW' -> (H, W); an argparse type, so a bad value is a one-line usage error."""
    from distinctnet.argtypes import parse_size as parse

    try:
        return parse(text, 32, 8192)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def parse_overrides(items: list[str]) -> dict:
    """--set key=value pairs (values parsed as JSON when possible) -> dict."""
    from distinctnet.errors import UserError

    out = {}
    for item in items or []:
        if "=" not in item:
            raise UserError(f"--set {item!r}: expected key=value")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="fast", help="network preset (fast, paper)")
    p.add_argument("--checkpoint", help="benchmark this checkpoint's network instead of a preset")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a model config field")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda (default auto)")
    p.add_argument("--size", type=parse_size, help="input HxW (default: the preset's native size)")
    p.add_argument("--batch", type=int, default=1, help="pairs per forward pass")
    p.add_argument("--mode", choices=("pair", "video"), default="pair")
    p.add_argument("--runs", type=int, default=10, help="timed runs (median reported)")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--no-bf16", dest="bf16", action="store_false", help="disable bf16 autocast on CUDA")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--json", help="also write the figures to this JSON file")
    p.add_argument("--label", action="store_true",
                   help="end-to-end labelling throughput instead (decode + model + write; eval/bench_label.py)")


def make_step(model, mode: str, batch: int, size, bf16: bool = True, channels_last: bool = True,
              input_sets: int = 1):
    """A closure running one batch of ``mode`` on random frames on the model's device: ``pair`` encodes both
    frames, ``video`` one new frame per pair with the other one's features reused. ``channels_last``: inputs in
    the layout ``prepare_for_inference`` gives CUDA models; ``input_sets`` > 1 rotates among that many inputs."""
    import torch

    from distinctnet.device import autocast, to_device_layout

    device = next(model.parameters()).device
    h, w = size
    sets = [torch.rand(batch + 1, 3, h, w, device=device) for _ in range(max(1, input_sets))]
    if channels_last:
        sets = [to_device_layout(x) for x in sets]
    calls = [0]

    def step():
        x = sets[calls[0] % len(sets)]
        calls[0] += 1
        with torch.inference_mode(), autocast(device, bf16):
            if mode == "pair":
                return model(x[:batch], x[1:])[0]
            f = model.encode(x[:batch])
            return model.decode(f, f, None, size)[0]

    return step


def measure(model, size, batch, device, mode="pair", runs=10, warmup=3, bf16=True) -> dict:
    import torch

    step = make_step(model, mode, batch, size, bf16)

    times = []
    for i in range(warmup + runs):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    out = {"ms_per_batch": med * 1e3, "ms_per_pair": med * 1e3 / batch, "pairs_per_s": batch / med,
           "runs": runs, "spread_ms_per_pair": [min(times) * 1e3 / batch, max(times) * 1e3 / batch]}
    if device.type == "cuda":
        out["peak_mem_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return out


def machine_name(device) -> str:
    import os

    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {torch.get_num_threads()} threads of {os.cpu_count()} cores"


def run_label(args) -> int:
    """``--label``: the labeller's end-to-end benchmark with the same model and device choices."""
    from eval import bench_label

    if args.set:
        from distinctnet.errors import UserError

        raise UserError("--set applies to the model benchmark only; use --checkpoint with --label")
    argv = ["--device", args.device, "--batch", str(args.batch), "--runs", str(args.runs)]
    argv += ["--checkpoint", args.checkpoint] if args.checkpoint else ["--preset", args.preset]
    if args.size:
        argv += ["--size", f"{args.size[0]}x{args.size[1]}"]
    for flag, value in (("--threads", args.threads), ("--json", args.json)):
        if value:
            argv += [flag, str(value)]
    return bench_label.main(argv)


def run(args) -> int:
    import torch

    if args.label:
        return run_label(args)

    from distinctnet.device import prepare_for_inference, resolve_device
    from distinctnet.io import atomic_write_json
    from distinctnet.modeling import DistinctNet, ModelConfig, load_checkpoint

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.checkpoint:
        model = load_checkpoint(args.checkpoint)
        name = args.checkpoint
    else:
        cfg = ModelConfig.preset(args.preset, **parse_overrides(args.set))
        if args.size and cfg.merge != "local":  # global correlation / co-attention are tied to the size
            cfg = cfg.replace(input_size=args.size)
        model = DistinctNet(cfg)
        name = args.preset
    cfg = model.cfg
    size = args.size or cfg.input_size
    params = model.num_parameters()  # the network's, before prepare_for_inference folds its batch norms on the CPU
    model = prepare_for_inference(model, device)
    res = measure(model, size, args.batch, device, args.mode, args.runs, args.warmup, args.bf16)
    res = {"model": name, "config": cfg.to_dict(), "params": params, "size": list(size),
           "batch": args.batch, "mode": args.mode, "device": machine_name(device),
           "bf16": bool(args.bf16 and device.type == "cuda"), "torch": torch.__version__, **res}
    print(f"{name}: {res['params'] / 1e6:.2f}M params, {size[0]}x{size[1]}, batch {args.batch}, {args.mode} mode, "
          f"{'bf16' if res['bf16'] else 'fp32'} on {res['device']}")
    print(f"  {res['ms_per_pair']:.1f} ms per pair, {res['pairs_per_s']:.2f} pairs/s "
          f"(median of {args.runs}, range {res['spread_ms_per_pair'][0]:.1f}-{res['spread_ms_per_pair'][1]:.1f} ms)")
    if args.json:
        atomic_write_json(args.json, res)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m eval.bench ...``: the same as ``distinctnet bench ...``."""
    from distinctnet.cli import main as distinctnet_main

    return distinctnet_main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
