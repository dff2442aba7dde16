"""`distinctnet train --config FILE [OVERRIDES ...]`: one stage (motion, semantic or recurrent) with
Lightning, configured by a LightningCLI YAML (training/configs/<preset>-<stage>.yaml).

Overrides follow the YAML's structure, e.g. ``--trainer.max_epochs=2 --data.init_args.roots=[data/x]
--model.init_from=runs/motion.safetensors --ckpt_path=last`` (exact resume of a stopped run). At the end of
the fit the best checkpoint is exported in the project's format (``--export``, default
``<trainer.default_root_dir>/model.safetensors``), the loss/IoU curves are drawn from the CSV log
(``curves.png``) and the exported model is shown on validation videos (``preview.png``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

USAGE_HELP = ("a training config (training/configs/*.yaml), then overrides such as --trainer.max_epochs=2 "
              "--ckpt_path=PATH; `--config FILE --help` lists every setting")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", nargs=argparse.REMAINDER, required=True, metavar="FILE [OVERRIDE]",
                        help=USAGE_HELP)


def run(args: argparse.Namespace) -> int:
    return train(list(args.config))


def _make_cli_class():
    from jsonargparse import Namespace
    from pytorch_lightning.callbacks import ModelCheckpoint
    from pytorch_lightning.cli import LightningCLI
    from pytorch_lightning.utilities import rank_zero_info

    class TrainCLI(LightningCLI):
        def add_arguments_to_parser(self, parser) -> None:
            parser.add_lightning_class_args(ModelCheckpoint, "checkpoint")
            parser.set_defaults({"checkpoint.monitor": "val/miou", "checkpoint.mode": "max",
                                 "checkpoint.save_last": True, "checkpoint.filename": "best-{epoch:03d}-{step}"})
            parser.add_argument("--export", type=str | None, default=None,
                                help="where to write the best weights as a project checkpoint (.safetensors); "
                                     "default <trainer.default_root_dir>/model.safetensors")
            parser.add_argument("--plot", type=bool, default=True, help="draw curves.png from the CSV log")

        def before_instantiate_classes(self) -> None:
            cfg = self.config[self.subcommand] if self.subcommand else self.config
            if not cfg.checkpoint.dirpath:  # a fixed place, so `--ckpt_path=last` finds the run's last.ckpt
                cfg.checkpoint.dirpath = str(Path(cfg.trainer.default_root_dir or "runs") / "checkpoints")
            if cfg.trainer.logger in (None, True):  # default: TensorBoard + CSV in the run folder
                root = cfg.trainer.default_root_dir or "runs"
                cfg.trainer.logger = [
                    Namespace(class_path="pytorch_lightning.loggers.TensorBoardLogger",
                              init_args=Namespace(save_dir=root, name="tensorboard")),
                    Namespace(class_path="pytorch_lightning.loggers.CSVLogger",
                              init_args=Namespace(save_dir=root, name="csv")),
                ]

        def after_fit(self) -> None:
            trainer, cfg = self.trainer, self.config[self.subcommand]
            log_dir = Path(trainer.log_dir or trainer.default_root_dir)
            ckpt = trainer.checkpoint_callback
            best = (ckpt.best_model_path or ckpt.last_model_path) if ckpt is not None else ""
            if not best:  # no validation and no checkpoint written: the current weights (collective call)
                best = str(log_dir / "final.ckpt")
                trainer.save_checkpoint(best)
            if not trainer.is_global_zero:
                return
            from .export import export_checkpoint

            out = cfg.export or str(Path(trainer.default_root_dir) / "model.safetensors")
            export_checkpoint(best, out, meta={"stage_config": str(cfg.get("config", [""])[0] or "")})
            rank_zero_info(f"exported {best} -> {out}")
            if cfg.plot:
                self.draw(out, log_dir)

        def draw(self, exported: str, log_dir: Path) -> None:
            """curves.png from the CSV log and preview.png (the exported model on validation videos), both
            in the CSV log's folder."""
            from pytorch_lightning.loggers import CSVLogger

            from distinctnet.modeling import load_checkpoint

            from .plots import plot_curves
            from .preview import preview_sheet
            from .videos import FrameReader

            for logger in self.trainer.loggers:
                if isinstance(logger, CSVLogger) and Path(logger.log_dir, "metrics.csv").exists():
                    log_dir = Path(logger.log_dir)
                    rank_zero_info(f"curves: {plot_curves(log_dir / 'metrics.csv', log_dir / 'curves.png')}")
            dm = self.datamodule
            if getattr(dm, "val_videos", None):
                model = load_checkpoint(exported, map_location=self.model.device)
                sheet = preview_sheet(model, FrameReader(dm.val_videos, dm.label_classes), log_dir / "preview.png")
                if sheet:
                    rank_zero_info(f"preview: {sheet}")

    return TrainCLI


def train(argv: list[str], run: bool = True):
    """Parse ``[FILE, OVERRIDE ...]`` and fit. Returns 0 (or the CLI object when ``run`` is False)."""
    from distinctnet.errors import fail

    if not argv:
        from distinctnet.errors import UserError

        raise UserError("--config: a training config file is required")
    path = Path(argv[0])
    if not path.is_file():
        raise fail(path, "training config not found (see training/configs/)")
    from jsonargparse import ArgumentError

    from .data import RecordingData
    from .module import DistinctNetModule

    import warnings

    # `distinctnet train` hands its own argv over; Lightning warns when sys.argv is also set
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
    # frozen parts are in eval mode on purpose (their BatchNorm statistics must not move)
    warnings.filterwarnings("ignore", message=r"Found \d+ module\(s\) in eval mode")
    TrainCLI = _make_cli_class()
    args = (["fit"] if run else []) + ["--config", str(path), *argv[1:]]
    own = {"default_env": False, "exit_on_error": False}
    try:
        cli = TrainCLI(DistinctNetModule, RecordingData, subclass_mode_data=True, args=args, run=run,
                       save_config_kwargs={"overwrite": True}, auto_configure_optimizers=False,
                       parser_kwargs={"exit_on_error": False, "fit": own} if run else own)
    except ArgumentError as e:  # a bad setting in the file or an override: one line naming both
        problem = " ".join(str(e).split())
        raise fail(path, f"bad training config or override: {problem}") from None
    return 0 if run else cli


def main(argv: list[str] | None = None) -> int:
    """``python -m training.cli ...``: the same as ``distinctnet train ...``."""
    from distinctnet.cli import main as distinctnet_main

    return distinctnet_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
