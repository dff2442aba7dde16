"""The best Lightning checkpoint -> the project's checkpoint format (``.safetensors`` with the model config).

    python -m training.export runs/x/checkpoints/best.ckpt model.safetensors
    python -m training.export model.safetensors small.safetensors --fp16   # half the file, e.g. to ship it
    python -m training.export a.safetensors soup.safetensors --average b.safetensors   # uniform weight average
    python -m training.export run.safetensors out.safetensors --calibration-from shipped.safetensors

``--average`` makes a uniform "model soup" (Wortsman et al., 2022): the element-wise mean of the weights (and
BatchNorm statistics) of checkpoints of the same network, e.g. two fine-tuning runs that share their start.
``--calibration-from`` copies another checkpoint's label calibration (per-part mask thresholds and review margins,
with where they came from) into the export: a continued run of the shipped model, whose own export has none and
would be labelled at 0.5 everywhere, keeps the thresholds the shipped model was calibrated with.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import torch

from distinctnet.errors import UserError, fail


def read_lightning_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise fail(path, "checkpoint not found")
    try:
        # our own training checkpoint: it holds loop and callback state next to the weights
        return torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable file is reported with its name
        raise fail(path, f"not a Lightning checkpoint ({type(e).__name__})") from None


def _save(net, out_path: str | Path, info: dict, dtype: torch.dtype | None,
          calibration_from: str | Path | None = None) -> Path:
    from distinctnet.modeling import save_checkpoint

    if (info.get("label_input_size") or info.get("second_scale")) and net.cfg.merge != "local":
        raise UserError(f"--label-input-size and --second-scale need a model that takes any input size (merge 'local'); "
                        f"this one's '{net.cfg.merge}' merge is built for one size")
    if calibration_from:   # checked against the classes of the network being saved, whatever it was loaded from
        info = {**info, **calibration_of(calibration_from, list(net.cfg.classes))}
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if dtype is not None:
        info["weights_dtype"] = str(dtype).replace("torch.", "")
    save_checkpoint(net, out_path, meta=info, dtype=dtype)
    return out_path


def export_checkpoint(ckpt_path: str | Path, out_path: str | Path, meta: dict | None = None,
                      dtype: torch.dtype | None = None, average: list[str | Path] = (),
                      calibration_from: str | Path | None = None) -> Path:
    """Rebuild the network from the checkpoint's hyperparameters, load its weights, save_checkpoint.
    ``average``: more of our .safetensors checkpoints to average ``ckpt_path`` with (model soup);
    ``calibration_from``: a checkpoint whose label calibration (:func:`calibration_of`) the export takes."""
    from distinctnet.modeling import load_checkpoint

    from .module import build_net

    if average or str(ckpt_path).endswith(".safetensors"):  # already ours: re-save (e.g. in fp16), meta kept
        net = average_checkpoints([ckpt_path, *average]) if average else load_checkpoint(ckpt_path)
        return _save(net, out_path, {**net.meta, **(meta or {})}, dtype, calibration_from)
    ckpt = read_lightning_checkpoint(ckpt_path)
    hp = ckpt.get("hyper_parameters") or {}
    if "state_dict" not in ckpt or "preset" not in hp:
        raise fail(ckpt_path, "not a checkpoint of `distinctnet train` (no weights or no model settings)")
    net = build_net(hp["preset"], hp.get("net"))
    weights = {k[len("net."):]: v for k, v in ckpt["state_dict"].items() if k.startswith("net.")}
    missing, unexpected = net.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise fail(ckpt_path, f"weights do not fit the network of its settings ({len(missing)} missing, "
                              f"{len(unexpected)} unexpected)")
    info = {"source": str(ckpt_path), "epoch": ckpt.get("epoch"), "global_step": ckpt.get("global_step"),
            "init_from": hp.get("init_from"), "freeze": hp.get("freeze")}
    for cb_key, cb_state in (ckpt.get("callbacks") or {}).items():
        if str(cb_key).startswith("ModelCheckpoint") and cb_state.get("best_model_score") is not None:
            info["monitor"] = cb_state.get("monitor")
            info["best_score"] = float(cb_state["best_model_score"])
            break
    info.update(meta or {})
    return _save(net, out_path, info, dtype, calibration_from)


def average_checkpoints(paths: list[str | Path]):
    """The uniform weight average of checkpoints of the same network: the first one's model, meta extended. Models
    that take any input size (local correlation) average across the sizes they were trained at; the first one's
    native size is kept."""
    from distinctnet.modeling import load_checkpoint

    paths = [Path(x) for x in paths]
    for x in paths:
        if not str(x).endswith(".safetensors"):
            raise fail(x, "--average takes exported .safetensors checkpoints (run the export on it first)")
    nets = [load_checkpoint(x) for x in paths]
    first = nets[0]
    for x, net in zip(paths[1:], nets[1:]):
        cfg = net.cfg
        if cfg.merge == "local" and first.cfg.merge == "local":  # the input size does not shape these weights
            cfg = dataclasses.replace(cfg, input_size=first.cfg.input_size)
        if cfg != first.cfg:
            raise fail(x, f"another network than {paths[0]} (model settings differ): cannot average")
    states = [net.state_dict() for net in nets]
    avg = {}
    for k, v in states[0].items():
        if v.is_floating_point():
            avg[k] = torch.stack([sd[k].float() for sd in states]).mean(0).to(v.dtype)
        else:  # counters such as BatchNorm's num_batches_tracked: the largest
            avg[k] = torch.stack([sd[k] for sd in states]).max(0).values
    first.load_state_dict(avg)
    first.meta = {**first.meta, "averaged": [str(x) for x in paths]}
    return first


CALIBRATION_KEYS = ("thresholds", "thresholds_from", "review_margins", "review_margins_from")


def calibration_of(path: str | Path, classes: list[str] | None = None) -> dict:
    """The label calibration in the meta of checkpoint ``path`` (the keys of CALIBRATION_KEYS it has); with
    ``classes``, its thresholds must name exactly those channels."""
    from distinctnet.modeling.checkpoint import read_header

    header = read_header(path)
    meta = {k: header["meta"][k] for k in CALIBRATION_KEYS if k in header["meta"]}
    if "thresholds" not in meta:
        raise fail(path, "has no calibrated thresholds to copy")
    th = meta["thresholds"]
    if classes is not None and isinstance(th, dict) and sorted(th) != sorted(classes):
        raise fail(path, f"its thresholds are for {sorted(th)}, the exported model predicts {sorted(classes)}")
    return meta


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__.splitlines()[0])
    p.add_argument("ckpt")
    p.add_argument("out")
    p.add_argument("--fp16", action="store_true", help="store the weights in float16 (half the file; loaded back "
                                                       "as float32)")
    p.add_argument("--average", nargs="+", metavar="CKPT", default=[],
                   help="average the weights of CKPT with these checkpoints of the same network (model soup)")
    p.add_argument("--calibration-from", metavar="CKPT",
                   help="copy the mask thresholds and review margins of this checkpoint (same classes)")
    p.add_argument("--second-scale", type=float, default=None, metavar="S",
                   help="the labeller's default --second-scale for this checkpoint (stored in its meta)")
    p.add_argument("--label-input-size", metavar="HxW", default=None,
                   help="the labeller's default first-pass size for this checkpoint (stored in its meta; any-size "
                        "models only)")
    args = p.parse_args(argv)
    from distinctnet.argtypes import parse_size
    from distinctnet.label.runner import check_second_scale

    meta = {}
    try:
        if args.label_input_size is not None:
            h, w = parse_size(args.label_input_size, option="--label-input-size")
            if h % 16 or w % 16:
                raise UserError(f"--label-input-size {args.label_input_size}: each side must be a multiple of 16")
            meta["label_input_size"] = [h, w]
        if args.second_scale is not None:
            meta["second_scale"] = check_second_scale(args.second_scale)
        print(export_checkpoint(args.ckpt, args.out, meta=meta or None, dtype=torch.float16 if args.fp16 else None,
                                average=args.average, calibration_from=args.calibration_from))
    except UserError as e:
        print(f"export: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
