"""Loading the labelling model: ``--checkpoint`` or the shipped default, with one-line errors."""
from __future__ import annotations

from pathlib import Path

from ..errors import UserError, fail

ASSETS = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_CHECKPOINT = ASSETS / "default.safetensors"
SAMPLE_RECORDING = ASSETS / "sample.mp4"


def checkpoint_path(checkpoint: str | Path | None) -> Path:
    if checkpoint is None:
        if not DEFAULT_CHECKPOINT.is_file():
            raise fail(DEFAULT_CHECKPOINT, "the default checkpoint is missing from this installation; "
                                           "pass --checkpoint FILE (a model trained with `distinctnet train`)")
        return DEFAULT_CHECKPOINT
    path = Path(checkpoint)
    if not path.is_file():
        raise fail(path, "checkpoint not found")
    return path


def load_model(checkpoint: str | Path | None):
    """The model of ``checkpoint`` (default: the shipped one) on the CPU, in eval mode."""
    path = checkpoint_path(checkpoint)
    try:
        from ..modeling import load_checkpoint

        model = load_checkpoint(path, map_location="cpu")
    except UserError:
        raise
    except Exception as e:  # noqa: BLE001 - anything else means the file is not one of ours
        raise fail(path, f"cannot load checkpoint: from another version or not a distinctnet checkpoint "
                         f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from None
    th = (model.meta or {}).get("thresholds")
    if th is not None:
        from .parts import check_thresholds

        try:
            check_thresholds(th)
        except UserError as e:
            raise fail(path, f"meta thresholds: {e}") from None
    return model
