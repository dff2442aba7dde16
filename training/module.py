"""The LightningModule for all three stages: which stage it is follows from the config (head, recurrent,
init_from, freeze, learning rates), not from separate classes.

- motion head: 2-class cross-entropy on the moving foreground.
- semantic head: channel-weighted multi-label BCE over ``cfg.classes``.
- recurrent network: batches are B x K lockstep sequence chunks; the state is reset where a sequence
  starts and detached between batches (truncated BPTT over K steps).
Frozen parts (``freeze``) get no gradients and stay in eval mode whenever the module is put in train mode,
so their BatchNorm statistics do not drift.
"""
from __future__ import annotations

import math
from functools import partial
from typing import Any, Optional

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info
from torchmetrics.classification import BinaryJaccardIndex

from distinctnet.errors import UserError

from .losses import DEFAULT_CLASS_WEIGHTS, motion_loss, semantic_loss
from .weights import freeze as freeze_modules
from .weights import init_from_checkpoint, submodules

#: the reference's learning rates by parameter role (DistinctNet.param_groups())
DEFAULT_LR = {"encoder": 1e-4, "merge": 1e-4, "aspp": 1e-3, "decoder": 1e-3}


def build_net(preset: str, net: Optional[dict[str, Any]] = None):
    from distinctnet.modeling import DistinctNet, ModelConfig

    changes = dict(net or {})
    for key in ("input_size", "classes", "aspp_rates"):
        if isinstance(changes.get(key), list):
            changes[key] = tuple(changes[key])
    try:
        cfg = ModelConfig.preset(preset, **changes)
    except TypeError as e:
        raise UserError(f"model.net: {e}") from None
    return DistinctNet(cfg)


def lr_factor(step: int, schedule: str, warmup: int, total: int) -> float:
    """Multiplier of the base learning rate at optimiser step ``step``: linear warm-up, then constant or cosine."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    span = max(1, total - warmup)
    t = min(1.0, (step - warmup) / span)
    return 0.5 * (1.0 + math.cos(math.pi * t))


class DistinctNetModule(pl.LightningModule):
    def __init__(self, preset: str = "fast", net: Optional[dict[str, Any]] = None, init_from: Optional[str] = None,
                 init_skip: Optional[list[str]] = None, freeze: Optional[list[str]] = None,
                 lr: Optional[dict[str, float]] = None, weight_decay: float = 0.01,
                 class_weights: Optional[dict[str, float]] = None, schedule: str = "constant",
                 warmup_steps: int = 0, dice_weight: float = 0.0):
        """
        Args:
            preset: network preset (distinctnet.modeling.PRESETS: fast, paper).
            net: ModelConfig fields to change, e.g. {input_size: [192, 320], head: semantic, recurrent: true}.
            init_from: a project checkpoint (.safetensors) to start from (the previous stage's export);
                tensors whose name and shape match are copied.
            init_skip: parameter-name prefixes NOT copied from init_from (e.g. decoder.head, the last conv).
            freeze: parts of the network to freeze (e.g. siamese: everything before the merge).
            lr: learning rate per parameter role: encoder, merge, aspp, decoder (missing roles: 1e-3).
            weight_decay: AdamW weight decay.
            class_weights: semantic-loss weight per class (defaults: the reference's).
            schedule: learning-rate schedule over trainer.max_steps: constant, or cosine (decays to 0 at max_steps).
            warmup_steps: linear warm-up from 0 over this many steps (both schedules).
            dice_weight: semantic head: add this times a soft-Dice loss per class to the weighted BCE (0 = the
                reference's BCE only); helps the small parts (gripper, object).
        """
        super().__init__()
        self.save_hyperparameters()
        self.net = build_net(preset, net)
        self.lr = {**DEFAULT_LR, **(lr or {})}
        unknown = set(self.lr) - set(self.net.param_groups())
        if unknown:
            raise UserError(f"model.lr: unknown parameter roles {sorted(unknown)}; roles: "
                            f"{sorted(self.net.param_groups())}")
        self.weight_decay = weight_decay
        if schedule not in ("constant", "cosine"):
            raise UserError(f"model.schedule: {schedule!r} is not one of constant, cosine")
        if warmup_steps < 0:
            raise UserError(f"model.warmup_steps must be >= 0 (got {warmup_steps})")
        self.schedule, self.warmup_steps = schedule, warmup_steps
        if dice_weight < 0:
            raise UserError(f"model.dice_weight must be >= 0 (got {dice_weight})")
        self.dice_weight = float(dice_weight)
        if init_from:
            report = init_from_checkpoint(self.net, init_from, list(init_skip or []))
            rank_zero_info(f"initialised from {init_from}: {len(report['loaded'])} tensors copied, "
                           f"{len(report['fresh'])} fresh ({', '.join(report['fresh'][:6])}"
                           f"{' ...' if len(report['fresh']) > 6 else ''})")
        self._frozen = submodules(self.net, list(freeze or []))
        freeze_modules(self._frozen)

        cfg = self.net.cfg
        self.label_classes: tuple[str, ...] = ("foreground",) if cfg.head == "motion" else tuple(cfg.classes)
        weights = {**DEFAULT_CLASS_WEIGHTS, **(class_weights or {})}
        if set(weights) - set(DEFAULT_CLASS_WEIGHTS):
            raise UserError(f"model.class_weights: unknown classes {sorted(set(weights) - set(DEFAULT_CLASS_WEIGHTS))}; "
                            f"classes: {sorted(DEFAULT_CLASS_WEIGHTS)}")
        self.register_buffer("class_weights", torch.tensor([float(weights[c]) for c in self.label_classes]),
                             persistent=False)
        # IoU = TP / (TP + FP + FN) summed over the epoch; a class absent from labels and predictions gives NaN
        # (left out of val/miou) rather than a misleading 0 or 1
        self.val_iou = torch.nn.ModuleList([BinaryJaccardIndex(zero_division=float("nan"))
                                            for _ in self.label_classes])
        self._state: dict[str, Any] = {"train": None, "val": None}

    # -- frozen means frozen -------------------------------------------------------------------------------
    def train(self, mode: bool = True):
        super().train(mode)
        for m in getattr(self, "_frozen", []):
            m.eval()
        return self

    # -- steps ---------------------------------------------------------------------------------------------
    def loss(self, logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        if self.net.cfg.head == "motion":
            return motion_loss(logits, labels, valid)
        return semantic_loss(logits, labels, valid, self.class_weights, self.dice_weight)

    def predict_labels(self, logits: torch.Tensor) -> torch.Tensor:
        """B x C bool masks in label-channel order."""
        if self.net.cfg.head == "motion":
            return (logits.argmax(1) == 1).unsqueeze(1)
        return logits > 0

    def _update_iou(self, logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor) -> None:
        pred = self.predict_labels(logits.detach())
        for c, metric in enumerate(self.val_iou):
            keep = valid[:, c]
            if keep.any():
                metric.update(pred[keep, c].long(), labels[keep, c].long())

    def _run(self, batch: dict[str, torch.Tensor], split: str) -> torch.Tensor:
        if not self.net.cfg.recurrent:
            logits, _ = self.net(batch["target"], batch["reference"])
            if split == "val":
                self._update_iou(logits, batch["labels"], batch["valid"])
            return self.loss(logits, batch["labels"], batch["valid"])
        if batch["target"].dim() != 5:
            raise UserError("a recurrent model trains on sequences: use data.class_path: training.data.SequenceData")
        state = self._state[split]
        if state is not None and state[0] is not None and state[0][0].shape[0] != batch["target"].shape[0]:
            state = None
        total = 0.0
        steps = batch["target"].shape[1]
        for k in range(steps):
            state = self.net.reset_state(state, batch["new_sequence"][:, k])
            logits, state = self.net(batch["target"][:, k], batch["reference"][:, k], state)
            total = total + self.loss(logits, batch["labels"][:, k], batch["valid"][:, k])
            if split == "val":
                self._update_iou(logits, batch["labels"][:, k], batch["valid"][:, k])
        self._state[split] = self.net.detach_state(state)
        return total / steps

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._run(batch, "train")
        self.log("train/loss", loss, on_step=True, on_epoch=True, prog_bar=True,
                 batch_size=batch["target"].shape[0], sync_dist=True)
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        loss = self._run(batch, "val")
        self.log("val/loss", loss, on_epoch=True, prog_bar=True, batch_size=batch["target"].shape[0],
                 sync_dist=True)

    def on_train_epoch_start(self) -> None:
        self._state["train"] = None

    def on_validation_epoch_start(self) -> None:
        self._state["val"] = None

    def on_validation_epoch_end(self) -> None:
        ious = []
        for name, metric in zip(self.label_classes, self.val_iou):
            iou = metric.compute()  # summed over the epoch and all processes; identical on every rank
            self.log(f"val/iou_{name}", iou, sync_dist=True)
            ious.append(iou)
            metric.reset()
        ious = torch.stack(ious)
        miou = ious.nanmean() if not ious.isnan().all() else ious.new_zeros(())
        self.log("val/miou", miou, prog_bar=True, sync_dist=True)

    # -- optimiser -----------------------------------------------------------------------------------------
    def configure_optimizers(self):
        groups = []
        for role, params in self.net.param_groups().items():
            params = [p for p in params if p.requires_grad]
            if params:
                groups.append({"params": params, "lr": self.lr.get(role, 1e-3), "name": role})
        optimizer = torch.optim.AdamW(groups, weight_decay=self.weight_decay)
        if self.schedule == "constant" and not self.warmup_steps:
            return optimizer
        total = self.trainer.max_steps if self.trainer is not None else -1
        if self.schedule == "cosine" and (total is None or total <= 0):
            raise UserError("model.schedule=cosine needs trainer.max_steps (the step budget it decays over)")
        factor = partial(lr_factor, schedule=self.schedule, warmup=self.warmup_steps, total=total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
