"""Run a DistinctNet model over a stream of frames: pairs (t, t-1), frame 0 paired with frame 1.

Frames are resized to the model's native ``cfg.input_size``; the logits come back at the frame's own size.
Frames are encoded ``batch`` at a time and each frame's siamese features are computed once and used both as
target and as the next frame's reference (``model.encode`` / ``model.decode``). Non-recurrent models decode
the pairs of a batch together; recurrent models decode them one after another, carrying the state through
the whole video (each video starts from an empty state).
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from ..errors import UserError


class TooFewFrames(UserError):
    pass


class Labeller:
    def __init__(self, model, device, batch: int = 4):
        import torch

        self.device = torch.device(device)
        self.model = model.eval().to(self.device)
        self.cfg = model.cfg
        self.batch = max(1, int(batch))
        self.recurrent = bool(self.cfg.recurrent)
        self.head = self.cfg.head
        self.classes = tuple(self.cfg.classes) if self.head == "semantic" else ("foreground",)
        self.input_size = tuple(self.cfg.input_size)

    def _prep(self, rgb: np.ndarray):
        """uint8 HxWx3 -> uint8 3 x H' x W' tensor at the model's input size (CPU)."""
        import cv2
        import torch

        h, w = self.input_size
        if rgb.shape[:2] != (h, w):
            interp = cv2.INTER_AREA if rgb.shape[0] > h else cv2.INTER_LINEAR
            rgb = cv2.resize(rgb, (w, h), interpolation=interp)
        return torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)

    def _chunks(self, frames: Iterable[np.ndarray]) -> Iterator[list[np.ndarray]]:
        """Frames in chunks of ``batch`` (the first holds at least two frames)."""
        it = iter(frames)
        first = [f for _, f in zip(range(max(2, self.batch)), it)]
        if len(first) < 2:
            raise TooFewFrames(f"{len(first)} frame(s) could be read; labelling needs at least 2")
        yield first
        while True:
            chunk = [f for _, f in zip(range(self.batch), it)]
            if not chunk:
                return
            yield chunk

    def _probs(self, logits):
        import torch

        logits = logits.float()
        if self.head == "motion":
            return torch.softmax(logits, dim=1)[:, 1:2]
        return torch.sigmoid(logits)

    def predict(self, frames: Iterable[np.ndarray]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rgb, probabilities C x H x W float32 at the frame's size) per frame, in order."""
        import torch

        from ..device import autocast

        state = None
        prev = None  # features of the last frame of the previous chunk
        for chunk in self._chunks(frames):
            h, w = chunk[0].shape[:2]
            x = torch.stack([self._prep(f) for f in chunk]).to(self.device, non_blocking=True).float().div_(255.0)
            with torch.inference_mode(), autocast(self.device):
                feats = self.model.encode(x)
                n = len(chunk)
                if prev is None:  # first chunk: frame 0 uses frame 1 as reference
                    allf, tgt, ref = feats, list(range(n)), [1] + list(range(n - 1))
                else:
                    allf = {k: torch.cat([prev[k], v]) for k, v in feats.items()}
                    tgt, ref = list(range(1, n + 1)), list(range(n))
                prev = {k: v[-1:] for k, v in feats.items()}
                if self.recurrent:
                    outs = []
                    for t, r in zip(tgt, ref):
                        logits, state = self.model.decode({k: v[t:t + 1] for k, v in allf.items()},
                                                          {k: v[r:r + 1] for k, v in allf.items()}, state, (h, w))
                        outs.append(self._probs(logits))
                    probs = torch.cat(outs)
                else:
                    ti, ri = torch.tensor(tgt, device=self.device), torch.tensor(ref, device=self.device)
                    logits, _ = self.model.decode({k: v[ti] for k, v in allf.items()},
                                                  {k: v[ri] for k, v in allf.items()}, None, (h, w))
                    probs = self._probs(logits)
            probs = probs.cpu().numpy()
            yield from zip(chunk, probs)
