"""Sequences stepped in lockstep for the recurrent stage.

Each of the B batch elements (per process) walks its own stream: a concatenation of sequence windows
(``seq_len`` consecutive target frames of one video, reference = target - ``gap``). A step that starts a
window carries ``new_sequence = True`` so the model resets that element's state. One loader item is a
chunk of ``chunk`` consecutive steps (B x K), and the state is detached between chunks: truncated
backpropagation through time with K steps.

Simulated motion stops: in a window chosen with probability ``stop_prob``, from a random cut index c on
both inputs are frame c and the label stays (frame c's masks), as if everything stopped moving.

The sampler is a DistributedSampler: it builds ``world_size * B`` streams from the same seeded shuffle on
every rank and hands this rank its B, all ranks getting the same number of chunks.
"""
from __future__ import annotations

import heapq

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from distinctnet.errors import UserError

from .augment import AugmentConfig, PairAugment
from .pairs import fresh_seed, load_sample
from .videos import FrameReader

#: columns of a step descriptor
VIDEO, TARGET, REFERENCE, NEW, WINDOW_SEED = range(5)


class LockstepSampler(DistributedSampler):
    """Yields int64 arrays B x K x 5 (video, target frame, reference frame, new-sequence flag, window seed)."""

    def __init__(self, frames: list[int], batch_size: int, chunk: int, seq_len: int, gap: int = 1,
                 stop_prob: float = 0.0, shuffle: bool = True, seed: int = 0, num_replicas: int = 1,
                 rank: int = 0, fixed: bool = False):
        # no super().__init__: it would ask torch.distributed for the world size; we are told it
        self.frames = list(frames)
        self.batch_size, self.chunk, self.seq_len, self.gap = batch_size, chunk, seq_len, gap
        self.stop_prob, self.shuffle, self.seed = stop_prob, shuffle, seed
        self.num_replicas, self.rank, self.fixed = num_replicas, rank, fixed
        self.epoch = 0
        self.drop_last = True
        self._cache: tuple[int, list[np.ndarray]] | None = None

    def set_epoch(self, epoch: int) -> None:
        if not self.fixed:
            self.epoch = epoch

    def _windows(self, rng: np.random.Generator) -> list[np.ndarray]:
        windows = []
        for vi, n in enumerate(self.frames):
            first = self.gap
            if n <= first:
                continue
            phase = int(rng.integers(0, self.seq_len)) if self.shuffle else 0
            bounds = sorted({first, *range(first + phase, n, self.seq_len), n})
            for a, b in zip(bounds[:-1], bounds[1:]):
                steps = np.zeros((b - a, 5), np.int64)
                steps[:, VIDEO] = vi
                steps[:, TARGET] = np.arange(a, b)
                steps[:, REFERENCE] = np.arange(a, b) - self.gap
                steps[0, NEW] = 1
                steps[:, WINDOW_SEED] = rng.integers(0, 2**31 - 1)
                if b - a >= 2 and rng.random() < self.stop_prob:
                    c = int(rng.integers(a + 1, b))
                    steps[c - a:, TARGET] = c
                    steps[c - a:, REFERENCE] = c
                windows.append(steps)
        if self.shuffle:
            windows = [windows[i] for i in rng.permutation(len(windows))]
        return windows

    def streams(self) -> list[np.ndarray]:
        """This rank's B streams for the current epoch, cut to a whole number of chunks."""
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        rng = np.random.default_rng((self.seed, self.epoch))
        n_streams = self.num_replicas * self.batch_size
        heap = [(0, s) for s in range(n_streams)]
        parts: list[list[np.ndarray]] = [[] for _ in range(n_streams)]
        for w in self._windows(rng):  # longest-first would balance better, but the order is the shuffle
            length, s = heapq.heappop(heap)
            parts[s].append(w)
            heapq.heappush(heap, (length + len(w), s))
        lengths = [sum(len(w) for w in p) for p in parts]
        n_steps = min(lengths) // self.chunk * self.chunk
        if n_steps == 0:
            raise UserError(f"sequence data: {sum(lengths)} steps cannot fill {n_streams} streams "
                            f"(batch_size x processes) with chunks of {self.chunk} steps: use more videos, "
                            "a smaller data.batch_size or a smaller data.tbptt_steps")
        mine = [np.concatenate(parts[s])[:n_steps] for s in range(self.rank * self.batch_size,
                                                                 (self.rank + 1) * self.batch_size)]
        self._cache = (self.epoch, mine)
        return mine

    def __len__(self) -> int:
        return len(self.streams()[0]) // self.chunk

    def __iter__(self):
        streams = self.streams()
        for j in range(len(self)):
            yield np.stack([s[j * self.chunk:(j + 1) * self.chunk] for s in streams])


class SequenceDataset(Dataset):
    """Indexed by a B x K x 5 step descriptor from :class:`LockstepSampler`; returns B x K x ... tensors.
    Geometric augmentation is shared by all frames of a window (its seed is the window's), photometric
    augmentation is drawn per step."""

    def __init__(self, reader: FrameReader, size: tuple[int, int], augment: AugmentConfig | None = None,
                 train: bool = True):
        self.reader = reader
        self.train = train
        self.augment = PairAugment(size, augment, train=train)

    def __len__(self) -> int:  # only used by tools that ask; the sampler decides what is read
        return sum(v.frames for v in self.reader.videos)

    def __getitem__(self, desc) -> dict[str, torch.Tensor]:
        desc = np.asarray(desc)
        b, k, _ = desc.shape
        samples = []
        for step in desc.reshape(-1, 5):
            vi, t, r, _, wseed = (int(x) for x in step)
            photo = fresh_seed() if self.train else 0
            s = load_sample(self.reader, self.augment, vi, t, r, wseed, photo)
            s["static"] = torch.tensor(r == t)
            samples.append(s)
        out = {key: torch.stack([s[key] for s in samples]).view(b, k, *samples[0][key].shape) for key in samples[0]}
        out["new_sequence"] = torch.from_numpy(desc[:, :, NEW].astype(bool))
        return out
