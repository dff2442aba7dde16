"""The adapt steps in order, each leaving its summary in the work folder, and the report after every step."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..io import atomic_write_json
from .harvest import HarvestConfig
from .pairs import DEFAULT_PLATE_SHARE

log = logging.getLogger("distinctnet.adapt")

STEPS = ("harvest", "gripper", "composite", "finetune")


@dataclass
class AdaptOptions:
    work: Path
    robot: list[str] = field(default_factory=list)
    gripper: str | None = None
    objects: list[str] | None = None
    backgrounds: list[str] | None = None
    checkpoint: str | None = None
    out: str | None = None
    topic: str | None = None
    device: str = "auto"
    batch: int = 4
    harvest: HarvestConfig = field(default_factory=HarvestConfig)
    pairs: int = 2000
    plate_share: float = DEFAULT_PLATE_SHARE
    size: tuple[int, int] | None = None
    seed: int = 0
    workers: int = 1
    epochs: int | None = None
    max_steps: int | None = None
    train_batch: int | None = None
    train_workers: int | None = None
    semantic_config: str | None = None
    recurrent_config: str | None = None
    overrides: list[str] = field(default_factory=list)
    progress: bool = True
    predict: object = None          # a Predictor replacing the base model in the harvest (Python API)


def pair_size(opts: AdaptOptions) -> tuple[int, int] | None:
    """--size, else the base model's native input size (the size it will be fine-tuned at)."""
    if opts.size:
        return opts.size
    try:
        from ..label.model import checkpoint_path
        from ..modeling import read_header

        return tuple(read_header(checkpoint_path(opts.checkpoint))["config"]["input_size"])
    except UserError:
        return None


def run_step(step: str, opts: AdaptOptions) -> dict:
    from .report import write_report

    work = Path(opts.work)
    if step == "harvest":
        from .harvest import harvest

        if not opts.robot:
            raise UserError("--robot: name the recording(s) of the robot moving (harvest needs them)")
        res = harvest(opts.robot, work, predict=opts.predict, checkpoint=opts.checkpoint, device=opts.device,
                      batch=opts.batch, cfg=opts.harvest, topic=opts.topic, progress=opts.progress)
    elif step == "gripper":
        from .gripper import gripper_step

        res = gripper_step(work, opts.gripper, opts.topic, progress=opts.progress)
    elif step == "composite":
        from .pairs import composite_step

        res = composite_step(work, opts.pairs, opts.objects, opts.backgrounds, pair_size(opts), opts.seed,
                             opts.workers, opts.progress, plate_share=opts.plate_share)
        atomic_write_json(work / "pairs" / "adapt_pairs.json", res)
    elif step == "finetune":
        from .finetune import finetune_step

        if not opts.out:
            raise UserError("--out: name the model file to write (finetune needs it)")
        res = finetune_step(work, opts.checkpoint, opts.out, epochs=opts.epochs, max_steps=opts.max_steps,
                            device=opts.device, batch_size=opts.train_batch, num_workers=opts.train_workers,
                            semantic_config=opts.semantic_config, recurrent_config=opts.recurrent_config,
                            overrides=opts.overrides,
                            progress=opts.progress, extra_meta={"gripper": _gripper_source(work)})
        atomic_write_json(work / "train" / "adapt_finetune.json", res)
    else:
        raise UserError(f"unknown adapt step {step!r}; steps: {', '.join(STEPS)}")
    write_report(work)
    return res


def _gripper_source(work: Path) -> str | None:
    import json

    p = work / "gripper" / "gripper.json"
    return json.loads(p.read_text()).get("source") if p.is_file() else None


def run_chain(opts: AdaptOptions, steps: tuple[str, ...] = STEPS) -> dict:
    return {step: run_step(step, opts) for step in steps}
