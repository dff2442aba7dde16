"""The network: config -> DistinctNet (encoder, correlation merge, ASPP, (recurrent) decoder) -> checkpoint."""
from .checkpoint import load_checkpoint, read_header, save_checkpoint
from .config import PRESETS, SEMANTIC_CLASSES, ModelConfig
from .distinctnet import DistinctNet

__all__ = ["ModelConfig", "PRESETS", "SEMANTIC_CLASSES", "DistinctNet", "save_checkpoint", "load_checkpoint",
           "read_header"]
