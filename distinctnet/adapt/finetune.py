"""Fine-tune the base model on the adapt pairs with the training package (``training``).

The stage configs shipped with the training package (``training/configs/<family>-semantic.yaml`` and
``-recurrent.yaml``; the family the base was trained with, else ``gpu`` on CUDA and ``cpu-small`` on the CPU)
are used as they are, with overrides for what adapt decides (``training.cli.train`` takes
``[CONFIG, OVERRIDE ...]`` like ``distinctnet train``):

- ``model.net``: the base checkpoint's own network (encoder, merge, input size ...), with a semantic head
  (the base's classes when it has a semantic head, else all five) -- the architecture never changes;
- ``model.init_from``: the base checkpoint (all matching tensors; the last conv is re-initialised only when
  the base's outputs differ); the stage config's frozen parts stay frozen;
- ``data.init_args.roots``: ``WORK/pairs`` and ``WORK/harvest`` (the user's frames with the harvested robot
  masks: the user's scene, its shadows and clutter, labelled as background);
- ``trainer.default_root_dir`` / ``export``: ``WORK/train/<stage>``; ``trainer.max_epochs`` / ``max_steps``
  / ``accelerator`` from the adapt options; any ``--train-override`` last.

A recurrent base gets the semantic stage (feed-forward, from the base's matching tensors) and then the
recurrent stage started from it. A stage whose export exists with the same settings and the same data
(fingerprints of the trees' meta) is skipped; an interrupted one resumes from its ``last.ckpt``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import UserError, fail
from ..io import atomic_write_json

FAMILIES = ("cpu-small", "gpu", "paper")


def config_family(base_meta: dict, device: str) -> str:
    """Which shipped stage configs to fine-tune with: those of the family the base was trained with (its
    export records the stage config, e.g. .../gpu-recurrent.yaml), else ``gpu`` on a CUDA device and
    ``cpu-small`` on the CPU."""
    name = Path(str(base_meta.get("stage_config") or "")).name
    for fam in FAMILIES:
        if name.startswith(fam + "-"):
            return fam
    from ..device import resolve_device

    return "gpu" if resolve_device(device).type == "cuda" else "cpu-small"


def shipped_config(name: str) -> Path:
    """A stage config shipped with the training package (or a path)."""
    p = Path(name)
    if p.is_file():
        return p
    import training

    q = Path(training.__file__).resolve().parent / "configs" / name
    if not q.is_file():
        raise fail(name, "training config not found (neither a file nor one of training/configs/)")
    return q


def semantic_net(base_config: dict, recurrent: bool) -> dict:
    """The network to fine-tune: the base's, with a semantic head."""
    from ..modeling import SEMANTIC_CLASSES

    net = dict(base_config)
    classes = tuple(net.get("classes") or SEMANTIC_CLASSES) if net.get("head") == "semantic" else SEMANTIC_CLASSES
    net.update(head="semantic", classes=list(classes), recurrent=recurrent, encoder_weights=None)
    for k in ("input_size", "aspp_rates"):
        if net.get(k) is not None:
            net[k] = list(net[k])
    return net


def stage_argv(config: Path, net: dict, init_from: str, init_skip: list[str], roots: list[str], root: Path,
               export: Path, *, epochs: int | None, max_steps: int | None, accelerator: str, batch_size: int | None,
               num_workers: int | None, progress: bool, overrides: list[str]) -> list[str]:
    argv = [str(config), f"--model.net={json.dumps(net)}", f"--model.init_from={init_from}",
            f"--model.init_skip={json.dumps(init_skip)}", f"--data.init_args.roots={json.dumps(roots)}",
            f"--trainer.default_root_dir={root}", f"--export={export}", f"--trainer.accelerator={accelerator}",
            f"--trainer.enable_progress_bar={'true' if progress else 'false'}"]
    if epochs is not None:
        argv.append(f"--trainer.max_epochs={epochs}")
    if max_steps is not None:
        argv.append(f"--trainer.max_steps={max_steps}")
    if batch_size is not None:
        argv.append(f"--data.init_args.batch_size={batch_size}")
    if num_workers is not None:
        argv.append(f"--data.init_args.num_workers={num_workers}")
    return argv + list(overrides)


def run_stage(name: str, argv: list[str], root: Path, export: Path) -> dict:
    """Train one stage unless its export exists with the same settings; resume an interrupted one."""
    from training.cli import train

    from .pairs import tree_fingerprint

    stamp = root / "adapt_stage.json"
    data = [a.split("=", 1)[1] for a in argv if a.startswith("--data.init_args.roots=")]
    settings = {"argv": argv, "data": [tree_fingerprint(r) for r in json.loads(data[0])] if data else []}
    if export.is_file() and stamp.is_file() and json.loads(stamp.read_text()).get("settings") == settings:
        return {"stage": name, "export": str(export), "skipped": True, "curves": _latest(root, "curves.png"),
                "preview": _latest(root, "preview.png")}
    last = root / "checkpoints" / "last.ckpt"
    resumed = False
    if last.is_file() and stamp.is_file() and json.loads(stamp.read_text()).get("settings") == settings:
        argv = argv + ["--ckpt_path=last"] if not any(a.startswith("--ckpt_path") for a in argv) else argv
        resumed = True
    elif root.exists():
        shutil.rmtree(root)  # other settings: start this stage afresh
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(stamp, {"settings": settings, "status": "running"})
    train(argv)
    if not export.is_file():
        raise fail(export, f"the {name} stage finished without exporting a checkpoint")
    atomic_write_json(stamp, {"settings": settings, "status": "done"})
    return {"stage": name, "export": str(export), "skipped": False, "resumed": resumed,
            "curves": _latest(root, "curves.png"), "preview": _latest(root, "preview.png")}


def _latest(root: Path, name: str) -> str | None:
    """The newest ``name`` the training package drew into the run's CSV log folders."""
    found = sorted(root.glob(f"csv/version_*/{name}"), key=lambda p: p.stat().st_mtime)
    return str(found[-1]) if found else None


def plan_stages(base_cfg: dict, base_path: str, work: Path, semantic_config: Path, recurrent_config: Path | None,
                **common) -> list[tuple[str, list[str], Path, Path]]:
    """(stage, training argv, run folder, export) for each stage to run, in order."""
    pairs = work / "pairs"
    net = semantic_net(base_cfg, recurrent=False)
    same_outputs = (base_cfg.get("head") == "semantic" and not base_cfg.get("recurrent")
                    and net["classes"] == list(base_cfg.get("classes", [])))
    root = work / "train" / "semantic"
    export = root / "model.safetensors"
    plan = [("semantic", stage_argv(semantic_config, net, base_path, [] if same_outputs else ["decoder.head"],
                                    [str(pairs), str(work / "harvest")], root, export, **common), root, export)]
    if base_cfg.get("recurrent"):
        rroot = work / "train" / "recurrent"
        rexport = rroot / "model.safetensors"
        plan.append(("recurrent", stage_argv(recurrent_config, semantic_net(base_cfg, recurrent=True), str(export), [],
                                             [str(pairs), str(work / "harvest")], rroot, rexport, **common),
                     rroot, rexport))
    return plan


def finetune_step(work: str | Path, base: str | Path | None, out: str | Path, *, epochs: int | None = None,
                  max_steps: int | None = None, device: str = "auto", batch_size: int | None = None,
                  num_workers: int | None = None, semantic_config: str | None = None,
                  recurrent_config: str | None = None, overrides: list[str] | None = None,
                  progress: bool = True, extra_meta: dict | None = None) -> dict:
    """Fine-tune from ``base`` (default: the shipped checkpoint) on ``WORK/pairs``; write MODEL ``out``."""
    from ..label.model import checkpoint_path
    from ..modeling import load_checkpoint, read_header, save_checkpoint

    work = Path(work)
    if not (work / "pairs" / "meta.json").exists():
        raise fail(work / "pairs", "no pairs here: run `distinctnet adapt composite` first")
    base_path = checkpoint_path(base)
    header = read_header(base_path)
    base_cfg = header["config"]
    accelerator = {"auto": "auto", "cpu": "cpu", "cuda": "gpu"}.get(device)
    if accelerator is None:
        raise UserError(f"--device {device}: use auto, cpu or cuda")
    family = config_family(header["meta"], device)
    semantic_config = semantic_config or f"{family}-semantic.yaml"
    recurrent_config = recurrent_config or f"{family}-recurrent.yaml"
    common = dict(epochs=epochs, max_steps=max_steps, accelerator=accelerator, batch_size=batch_size,
                  num_workers=num_workers, progress=progress, overrides=list(overrides or []))
    plan = plan_stages(base_cfg, str(base_path), work, shipped_config(semantic_config),
                       shipped_config(recurrent_config) if base_cfg.get("recurrent") else None, **common)
    stages = [run_stage(name, argv, root, export) for name, argv, root, export in plan]
    final = plan[-1][3]
    model = load_checkpoint(final, map_location="cpu")
    meta = dict(getattr(model, "meta", {}) or {})
    meta.pop("distinctnet_version", None)
    meta["adapt"] = {"base_checkpoint": str(base_path), "work": str(work), "stages": [s["stage"] for s in stages],
                     **(extra_meta or {})}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(model, out, meta=meta)
    configs = [str(shipped_config(semantic_config))]
    if base_cfg.get("recurrent"):
        configs.append(str(shipped_config(recurrent_config)))
    return {"model": str(out), "base": str(base_path), "configs": configs, "base_head": base_cfg.get("head"),
            "base_recurrent": bool(base_cfg.get("recurrent")), "classes": semantic_net(base_cfg, False)["classes"],
            "stages": stages}
