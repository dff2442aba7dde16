"""LightningDataModules over labelled-recording trees: frame pairs (motion and semantic stages) and
lockstep sequences (recurrent stage).

The input size and the label channels come from the model being trained (its ``cfg.input_size``; the
motion head learns "foreground", the semantic head ``cfg.classes``), so a config states them once.
"""
from __future__ import annotations

from typing import Optional

import pytorch_lightning as pl
from torch.utils.data import DataLoader

from distinctnet.errors import UserError

from .augment import AugmentConfig
from .pairs import PairDataset
from .sequences import LockstepSampler, SequenceDataset
from .videos import FrameReader, Video, list_videos, split_videos


def single_threaded_opencv() -> None:
    """OpenCV on one thread in this process and in the loader workers it forks. By default each worker starts one
    OpenCV thread per core, so 12 workers on 16 cores run ~190 threads: on an H200 machine the loader then took
    ~167 ms per 414x736 sample, against ~11 ms on one core of the CPU VM (eval/RESULTS.md). It is set here,
    before the fork: calling it inside a forked worker whose parent had used OpenCV's thread pool hangs.
    Samples do not depend on the number of threads (checked: bit-identical at 1 and 2 threads)."""
    import cv2

    cv2.setNumThreads(1)


class RecordingData(pl.LightningDataModule):
    def __init__(self, roots: list[str], val_roots: Optional[list[str]] = None, val_fraction: float = 0.1,
                 split_seed: int = 0, batch_size: int = 2, num_workers: int = 2,
                 augment: Optional[AugmentConfig] = None, input_size: Optional[tuple[int, int]] = None,
                 classes: Optional[list[str]] = None, pin_memory: bool = False, persistent_workers: bool = False,
                 root_repeats: Optional[list[int]] = None):
        """
        Args:
            roots: labelled-recording trees to train on (videos are split into train/val by video).
            val_roots: trees to validate on instead of a split of ``roots``.
            val_fraction: share of the videos of ``roots`` held out for validation (seeded by split_seed).
            batch_size: pairs per step (per process), or parallel sequences for the recurrent stage.
            augment: augmentation probabilities (see training.augment.AugmentConfig).
            input_size: (H, W) fed to the network; default: the model's cfg.input_size.
            classes: label channels; default: what the model's head predicts.
            persistent_workers: keep the loader processes from epoch to epoch (with many workers, respawning
                them costs seconds per epoch). The sample stream then differs from a run without (still
                seeded and reproducible), so the CPU recipes keep the default, False.
            root_repeats: how many times each root's training videos are drawn per epoch, one count per entry
                of ``roots`` (default 1 each): oversamples a small tree beside a large one, e.g. 24 rendered
                recordings beside 10,000 composites. Validation videos are not repeated.
        """
        super().__init__()
        if batch_size < 2:
            # ASPP's image-pooling branch ends in BatchNorm over 1x1 maps: one sample per batch cannot train
            raise UserError(f"data.batch_size must be at least 2 (got {batch_size})")
        self.roots = list(roots)
        self.val_roots = list(val_roots) if val_roots else None
        self.val_fraction, self.split_seed = val_fraction, split_seed
        self.batch_size, self.num_workers, self.pin_memory = batch_size, num_workers, pin_memory
        self.persistent_workers = bool(persistent_workers) and num_workers > 0
        self.augment = augment or AugmentConfig()
        self.input_size = tuple(input_size) if input_size else None
        self.classes = tuple(classes) if classes else None
        self.root_repeats = list(root_repeats) if root_repeats else None
        if self.root_repeats is not None and (len(self.root_repeats) != len(self.roots) or
                                              any(int(k) != k or k < 1 for k in self.root_repeats)):
            raise UserError(f"data.root_repeats must hold one whole number >= 1 per entry of data.roots "
                            f"({len(self.roots)}), got {self.root_repeats}")
        self.train_videos: list[Video] = []
        self.val_videos: list[Video] = []

    def resolve(self) -> tuple[tuple[int, int], tuple[str, ...]]:
        module = self.trainer.lightning_module if self.trainer is not None else None
        size = self.input_size or (module.net.cfg.input_size if module is not None else None)
        classes = self.classes or (module.label_classes if module is not None else None)
        if size is None or classes is None:
            raise ValueError("RecordingData needs input_size and classes when used without a trainer")
        return size, classes

    def setup(self, stage: str | None = None) -> None:
        if not self.roots:
            raise UserError("data.roots: no training data given")
        videos = list_videos(self.roots)
        if self.val_roots:
            self.train_videos, self.val_videos = videos, list_videos(self.val_roots)
        else:
            self.train_videos, self.val_videos = split_videos(videos, self.val_fraction, self.split_seed)
        if not self.train_videos:
            raise UserError(f"{', '.join(self.roots)}: no finished videos to train on")
        if self.root_repeats:
            repeats = {str(r): int(k) for r, k in zip(self.roots, self.root_repeats)}
            self.train_videos = [v for v in self.train_videos for _ in range(repeats.get(v.root, 1))]
        self.size, self.label_classes = self.resolve()

    def _loader(self, dataset, **kw) -> DataLoader:
        if self.num_workers > 0:
            single_threaded_opencv()
        return DataLoader(dataset, num_workers=self.num_workers, pin_memory=self.pin_memory,
                          persistent_workers=self.persistent_workers, **kw)


class PairData(RecordingData):
    """Pairs (frame t, frame t +- k, k <= max_gap) of one video; the label is frame t's."""

    def __init__(self, *args, max_gap: int = 1, static_prob: float = 0.1, frame_stride: int = 1,
                 val_frame_stride: int = 1, **kwargs):
        """
        Args:
            max_gap: largest frame distance between target and reference.
            static_prob: share of training pairs whose reference is the target itself (label kept).
            frame_stride: use every n-th frame as a training target (long recordings).
            val_frame_stride: the same for validation.
        """
        super().__init__(*args, **kwargs)
        self.max_gap, self.static_prob = max_gap, static_prob
        self.frame_stride, self.val_frame_stride = frame_stride, val_frame_stride

    def train_dataloader(self) -> DataLoader:
        ds = PairDataset(FrameReader(self.train_videos, self.label_classes), self.size, self.augment, train=True,
                         max_gap=self.max_gap, static_prob=self.static_prob, frame_stride=self.frame_stride)
        return self._loader(ds, batch_size=self.batch_size, shuffle=True, drop_last=len(ds) > self.batch_size)

    def val_dataloader(self) -> DataLoader | list:
        if not self.val_videos:
            return []
        ds = PairDataset(FrameReader(self.val_videos, self.label_classes), self.size, train=False,
                         max_gap=1, frame_stride=self.val_frame_stride)
        return self._loader(ds, batch_size=self.batch_size, shuffle=False)


class SequenceData(RecordingData):
    """Lockstep sequence chunks B x K for the recurrent stage (see training.sequences)."""

    def __init__(self, *args, seq_len: int = 8, tbptt_steps: int = 4, gap: int = 1, stop_prob: float = 0.3,
                 val_stop_prob: float = 0.5, seed: int = 0, **kwargs):
        """
        Args:
            seq_len: target frames per sequence window; a new window resets that element's state.
            tbptt_steps: steps per batch; gradients flow through them, the state is detached between
                batches (truncated backpropagation through time; 1 = the reference's detach every step).
            gap: reference frame = target frame - gap.
            stop_prob: share of training windows with a simulated motion stop.
            val_stop_prob: the same for validation (drawn once, identical every epoch).
            seed: seed of the window shuffle (combined with the epoch).
        """
        super().__init__(*args, **kwargs)
        self.seq_len, self.tbptt_steps, self.gap = seq_len, tbptt_steps, gap
        self.stop_prob, self.val_stop_prob, self.seed = stop_prob, val_stop_prob, seed

    def _sampler(self, videos: list[Video], train: bool) -> LockstepSampler:
        world = self.trainer.world_size if self.trainer is not None else 1
        rank = self.trainer.global_rank if self.trainer is not None else 0
        # validation needs no gradient through time: one step per batch, the state simply carries on
        return LockstepSampler([v.frames for v in videos], self.batch_size, self.tbptt_steps if train else 1,
                               self.seq_len,
                               self.gap, self.stop_prob if train else self.val_stop_prob, shuffle=train,
                               seed=self.seed if train else self.seed + 1, num_replicas=world, rank=rank,
                               fixed=not train)

    def train_dataloader(self) -> DataLoader:
        ds = SequenceDataset(FrameReader(self.train_videos, self.label_classes), self.size, self.augment, train=True)
        return self._loader(ds, batch_size=None, sampler=self._sampler(self.train_videos, True))

    def val_dataloader(self) -> DataLoader | list:
        if not self.val_videos:
            return []
        ds = SequenceDataset(FrameReader(self.val_videos, self.label_classes), self.size, train=False)
        return self._loader(ds, batch_size=None, sampler=self._sampler(self.val_videos, False))
