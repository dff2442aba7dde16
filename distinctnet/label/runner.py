"""Run a DistinctNet model over a stream of frames: pairs (t, t-gap), frame 0 paired with frame 1; with
``reference="motion"`` (the default) still frames keep the reference of the last moving frame (``reference.py``).

Frames are resized to the model's native ``cfg.input_size`` (or the labeller's ``input_size``); the logits come back
at the frame's own size.
Frames are encoded ``batch`` at a time and each frame's siamese features are computed once and used both as
target and as the next frame's reference (``model.encode`` / ``model.decode``). Non-recurrent models decode
the pairs of a batch together; recurrent models decode them one after another, carrying the state through
the whole video (each video starts from an empty state).
"""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np

from ..errors import UserError
from .parts import check_exclusive
from .reference import MotionGate, ReferencePicker, check_options, thumbnails
from .refine import can_gate, check_refine
from .refine import refine as refine_probs
from .unmoved import MovedMap, check_unmoved, drop_unmoved, gated_channels
from .unmoved import moved_map as whole_video_moved_map
from .zoom import BLEND as ZOOM_BLEND
from .zoom import PARTS as ZOOM_PARTS
from .zoom import check_zoom, zoom_box

DEFAULT_GAP = 2  # eval/QUALITY.md row 29: pairs two frames apart beat t-1 on a held-out set rendered after the choice


class TooFewFrames(UserError):
    pass


def check_second_scale(scale: float) -> float:
    """``scale`` as a float; 1 is off, otherwise it must be between 0.5 and 3."""
    scale = float(scale)
    if not 0.5 <= scale <= 3:
        raise UserError(f"--second-scale must be between 0.5 and 3 (1 is off), got {scale:g}")
    return scale


def check_small_parts(mode: str) -> str:
    if mode not in SMALL_PARTS:
        raise UserError(f"--small-parts: {mode!r} is not one of {', '.join(SMALL_PARTS)}")
    return mode


TTA_MODES = ("none", "flip", "bidir")
SCALE_CHANNELS = ("foreground", "robot", "distractor")  # the large parts: averaged over the two input sizes
SMALL_CHANNELS = ("gripper", "object")  # the small parts: taken from one of the two passes (``small_parts``)
SMALL_PARTS = ("first", "larger")
DEFAULT_SMALL_PARTS = "larger"  # eval/QUALITY.md row 54: passed its rule on sets 45-46 ("first" until then)
#: eval/QUALITY.md rows 41-: the object/distractor overlap rule, off until judged on fresh sets
DEFAULT_EXCLUSIVE = "none"
DEFAULT_SECOND_SCALE = 4 / 3  # eval/QUALITY.md rows 32-: judged on six sets not used to choose it
DEFAULT_REFINE = "both"  # eval/QUALITY.md rows 34-: judged on three sets rendered after the choice
DEFAULT_UNMOVED = "drop"  # eval/QUALITY.md row 61: passed its rule on sets 55-58 (eval/recipes/unmoved-reach.sh)


class Labeller:
    def __init__(self, model, device, batch: int = 4, tta: str = "none", input_size: tuple[int, int] | None = None,
                 thresholds: float | dict[str, float] | None = None, compile: bool = False, clean: float = 0.0,
                 reference: str | None = None, gate: MotionGate | None = None, gap: int | None = None,
                 zoom: float = 0.0, second_scale: float | None = None, refine: str | None = None,
                 exclusive: str | None = None, small_parts: str | None = None, unmoved: str | None = None):
        """
        Args:
            tta: test-time augmentation: ``none``; ``flip`` (the mirrored video is labelled too and the
                probabilities of both are averaged; twice the compute); or ``bidir`` (frame t is decoded
                against frame t-1 and against frame t+1 and the two are averaged; the first and last frames
                have one neighbour; the decoder runs twice per frame, the encoder once (twice for the first
                frame of each chunk, read ahead); not for recurrent models, whose state runs forward in time).
            input_size: (H, W) the frames are resized to for the network (the first pass); default: the checkpoint's
                ``meta["label_input_size"]`` (``python -m training.export --label-input-size``), else the model's native
                size. Not for models built for one input size.
            thresholds: mask threshold, one for all classes or per class; default: the checkpoint's calibrated
                ones (``meta["thresholds"]``, written by ``python -m eval.calibrate``), else 0.5.
            compile: run the network through ``torch.compile`` (a minute or two of compiling at the start, and
                again for a new frame size; the same masks). Where compiling fails, it runs uncompiled.
            clean: > 0 drops the pieces of each frame's robot mask smaller than this share of its largest piece
                (``parts.drop_small_robot_blobs``); 0 keeps the masks as thresholded.
            reference: which earlier frame each frame is paired with: ``previous`` (t-1) or ``motion`` (through a
                motion stop, the last frame that still differs; ``reference.py``); default (None): ``motion``, or
                ``previous`` with ``tta="bidir"``. ``gate`` tunes ``motion``.
            gap: a moving frame t is paired with frame t - gap; default (None): 2, or 1 with ``tta="bidir"``
                (which pairs t with t-1 and t+1 and takes no other gap).
            zoom: > 0 looks again at the gripper and the object on a crop around them, enlarged up to this many
                times (``zoom.py``); 0 is off. Not with ``tta="bidir"`` or a recurrent model; with ``tta="flip"``
                the crops are looked at once, unmirrored, on the averaged first pass.
            second_scale: != 1 runs the network a second time on the frames resized to this many times the input
                size (rounded to multiples of 16) and averages the two passes' foreground, robot and distractor
                probabilities; gripper and object keep the first pass (about three times the compute at 4/3).
                Not with ``tta="bidir"`` or a model built for one input size (global correlation, co-attention).
                Default (None): the checkpoint's ``meta["second_scale"]`` (``python -m training.export --second-scale``),
                else 4/3 (for a 192x336 model, 256x448); 1 where it does not apply. Below 1 the second pass is the
                smaller one, and gripper and object still come from the native size.
            refine: after the passes, refine the probabilities with the frame (``refine.py``): ``edges`` (a guided
                filter that snaps outlines to colour edges), ``gate`` (parts only inside the foreground mask),
                ``both`` or ``none``. Default (None): ``both``, or ``edges`` for a model without a foreground channel.
            exclusive: where the grasped object's and a distractor's masks overlap, ``distractor`` gives the pixel
                to the distractor, ``larger`` to the part further above its threshold (``parts.make_exclusive``);
                ``none`` lets them overlap. Default (None): ``DEFAULT_EXCLUSIVE``.
            small_parts: with two passes, which one the gripper and the object come from: ``first`` (the input size's)
                or ``larger`` (the larger of the two sizes; the other parts are unchanged). Default (None):
                ``DEFAULT_SMALL_PARTS``.
            unmoved: ``drop`` sets to 0 the pieces of the gripper, object and distractor masks that touch no pixel that
                changed anywhere in the video, and the robot pieces that lie far from any (scenery taken for them, from a
                fixed camera; ``unmoved.py``); ``keep`` leaves them. Default (None): ``DEFAULT_UNMOVED``.
        """
        import torch

        from ..device import prepare_for_inference
        from .parts import class_thresholds

        if not 0.0 <= clean < 1.0:
            raise UserError(f"--clean must be at least 0 and below 1, got {clean}")
        if tta not in TTA_MODES:
            raise UserError(f"--tta: {tta!r} is not one of {', '.join(TTA_MODES)}")
        if tta == "bidir" and model.cfg.recurrent:
            raise UserError("--tta bidir needs a non-recurrent model (a recurrent model's state runs forward in time)")
        if reference is None:
            reference = "previous" if tta == "bidir" else "motion"
        gap = int(gap) if gap is not None else (1 if tta == "bidir" else DEFAULT_GAP)
        check_options(reference, gap)
        if tta == "bidir" and reference != "previous":
            raise UserError("--reference motion cannot be combined with --tta bidir (which pairs t with t-1 and t+1); "
                            "leave --reference out")
        if tta == "bidir" and gap != 1:
            raise UserError("--gap cannot be combined with --tta bidir (which pairs t with t-1 and t+1)")
        zoom = check_zoom(zoom)
        any_size = model.cfg.merge == "local"  # global correlation and co-attention are built for one input size
        meta = getattr(model, "meta", None) or {}
        second_scale = check_second_scale(second_scale if second_scale is not None else (
            meta.get("second_scale", DEFAULT_SECOND_SCALE) if any_size and tta != "bidir" else 1.0))
        if second_scale != 1 and tta == "bidir":
            raise UserError("--second-scale cannot be combined with --tta bidir")
        if second_scale != 1 and not any_size:
            raise UserError(f"--second-scale needs a model that takes any input size (merge 'local'); this one's "
                            f"'{model.cfg.merge}' merge is built for {model.cfg.input_size[0]}x{model.cfg.input_size[1]} only")
        if zoom and tta == "bidir":
            raise UserError("--zoom cannot be combined with --tta bidir")
        if zoom and model.cfg.recurrent:
            raise UserError("--zoom needs a non-recurrent model (a crop has no recurrent state of its own)")
        self.tta = tta
        self.reference = reference
        self.gate = gate or MotionGate()
        self.gap = gap
        self.device = torch.device(device)
        self.model = prepare_for_inference(model, self.device)
        self.cfg = model.cfg
        self.batch = max(1, int(batch))
        self.recurrent = bool(self.cfg.recurrent)
        self.head = self.cfg.head
        self.classes = tuple(self.cfg.classes) if self.head == "semantic" else ("foreground",)
        self.input_size = tuple(input_size or meta.get("label_input_size") or self.cfg.input_size)
        if len(self.input_size) != 2 or min(self.input_size) < 32:
            raise UserError(f"--input-size: {self.input_size} is not a size HxW of at least 32x32")
        self.thresholds = class_thresholds(self.classes, thresholds, meta.get("thresholds"))
        #: the checkpoint's calibrated review margins per part (``python -m eval.review_flags --calibrate``)
        self.review_margins: dict[str, float] = dict(meta.get("review_margins") or {})
        self.clean = float(clean)
        self.exclusive = check_exclusive(DEFAULT_EXCLUSIVE if exclusive is None else exclusive)
        self.zoom = zoom
        self.second_scale = second_scale
        self.second_size = tuple(max(32, int(round(v * second_scale / 16)) * 16) for v in self.input_size)
        self._scale_channels = [i for i, c in enumerate(self.classes) if c in SCALE_CHANNELS]
        self.small_parts = check_small_parts(DEFAULT_SMALL_PARTS if small_parts is None else small_parts)
        #: the gripper and object channels that the second pass gives (``small_parts="larger"`` with a larger second size)
        self._small_from_second = ([i for i, c in enumerate(self.classes) if c in SMALL_CHANNELS]
                                   if self.small_parts == "larger" and second_scale > 1 else [])
        self._zoom_channels = [self.classes.index(p) for p in ZOOM_PARTS if p in self.classes]
        if zoom and not self._zoom_channels:
            raise UserError(f"--zoom needs a model with a gripper or object channel; this one has {', '.join(self.classes)}")
        if refine is None:
            refine = DEFAULT_REFINE if can_gate(self.classes) else "edges"
        self.refine = check_refine(refine, self.classes)
        self.unmoved = check_unmoved(DEFAULT_UNMOVED if unmoved is None else unmoved)
        self._unmoved_channels = gated_channels(self.classes)
        self._encode = _compiled(self.model.encode) if compile else self.model.encode
        self._decode = _compiled(self.model.decode) if compile else self.model.decode

    def _prep(self, rgb: np.ndarray, size: tuple[int, int] | None = None):
        """uint8 HxWx3 -> uint8 3 x H' x W' tensor at the model's input size, or ``size`` (CPU)."""
        import cv2
        import torch

        h, w = size or self.input_size
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

    def _step(self, x, stream: dict, size: tuple[int, int], t0: int = 0, refs: list[int] | None = None,
              keep: Iterable[int] = ()):
        """Probabilities of the frames ``x`` (B x 3 x H' x W', one chunk, frames t0.. of the video) of one stream,
        frame t0 + j paired with frame ``refs[j]``; ``stream`` carries the features of the frames ``keep`` (those
        the next chunk may be paired with: ``ReferencePicker.keep``) and the recurrent state from chunk to chunk.
        Without ``refs``: a video's first chunk, paired as ``previous``."""
        import torch

        feats = self._encode(x)
        n = x.shape[0]
        refs = refs if refs is not None else ReferencePicker().pick(n)
        bank = stream.get("bank", {})
        before = sorted(bank)  # the earlier frames this chunk or later ones may be paired with
        rows = {a: i for i, a in enumerate(before)}
        rows.update({t0 + j: len(before) + j for j in range(n)})
        allf = {k: torch.cat([bank[a][k] for a in before] + [v]) if before else v for k, v in feats.items()}
        stream["bank"] = {a: {k: v[rows[a]:rows[a] + 1].clone() for k, v in allf.items()}
                          for a in keep}
        tgt, ref = [rows[t0 + j] for j in range(n)], [rows[r] for r in refs]
        if self.recurrent:
            outs, state = [], stream.get("state")
            for t, r in zip(tgt, ref):
                logits, state = self._decode({k: v[t:t + 1] for k, v in allf.items()},
                                             {k: v[r:r + 1] for k, v in allf.items()}, state, size)
                outs.append(self._probs(logits))
            stream["state"] = state
            return torch.cat(outs)
        ti, ri = torch.tensor(tgt, device=self.device), torch.tensor(ref, device=self.device)
        logits, _ = self._decode({k: v[ti] for k, v in allf.items()},
                                 {k: v[ri] for k, v in allf.items()}, None, size)
        return self._probs(logits)

    def _pass(self, x, streams: list[dict], size, t0: int, refs: list[int], keep):
        """The probabilities of one chunk, averaged with its mirror image's with ``tta="flip"``."""
        probs = self._step(x, streams[0], size, t0, refs, keep)
        if self.tta == "flip":
            probs = 0.5 * (probs + self._step(x.flip(-1), streams[1], size, t0, refs, keep).flip(-1))
        return probs

    def _step_bidir(self, x, x_next, stream: dict, size: tuple[int, int]):
        """``tta="bidir"``: probabilities of the frames ``x`` (one chunk), each the mean of its decodings against the
        frame before and the frame after. ``x_next`` is the first frame of the next chunk (None at the end)."""
        import torch

        n = x.shape[0]
        feats = self._encode(x if x_next is None else torch.cat([x, x_next]))
        prev = stream.get("prev")
        allf = feats if prev is None else {k: torch.cat([prev[k], v]) for k, v in feats.items()}
        first = 0 if prev is None else 1  # index of the chunk's first frame in allf
        stream["prev"] = {k: v[first + n - 1:first + n] for k, v in allf.items()}  # the chunk's last frame
        last = allf["merge"].shape[0] - 1
        pairs = [(first + j, r, j) for j in range(n) for r in (first + j - 1, first + j + 1) if 0 <= r <= last]
        ti, ri, si = (torch.tensor(col, device=self.device) for col in zip(*pairs))  # target, reference, chunk slot
        logits, _ = self._decode({k: v[ti] for k, v in allf.items()}, {k: v[ri] for k, v in allf.items()},
                                 None, size)
        p = self._probs(logits)
        total = torch.zeros((n, *p.shape[1:]), dtype=p.dtype, device=p.device).index_add_(0, si, p)
        count = torch.zeros(n, dtype=p.dtype, device=p.device).index_add_(0, si, torch.ones_like(si, dtype=p.dtype))
        return total / count.view(-1, 1, 1, 1)

    def _refine_zoom(self, probs, frames: list[np.ndarray], refs: list[int], t0: int, raw: dict):
        """``zoom``: the gripper and object channels of ``probs`` (one chunk, frames t0.. at their own size) redone
        on a crop around them (``zoom.py``); frame t0 + j's crop is paired with the same box of frame ``refs[j]``
        (from ``frames`` or ``raw``, the earlier frames kept for pairing)."""
        import torch
        import torch.nn.functional as F

        from ..device import to_device_layout

        ch = self._zoom_channels
        th = torch.tensor([self.thresholds[self.classes[c]] for c in ch], device=probs.device).view(1, -1, 1, 1)
        masks = (probs[:, ch] > th).any(dim=1).cpu().numpy()
        h, w = self.input_size
        boxes = [(j, zoom_box(m, h / w, self.zoom)) for j, m in enumerate(masks)]
        boxes = [(j, b) for j, b in boxes if b is not None]
        if not boxes:
            return probs

        def frame(t):
            return frames[t - t0] if t >= t0 else raw[t]

        crops = [self._prep(frames[j][y0:y1, x0:x1]) for j, (y0, y1, x0, x1) in boxes]
        crops += [self._prep(frame(refs[j])[y0:y1, x0:x1]) for j, (y0, y1, x0, x1) in boxes]
        x = to_device_layout(torch.stack(crops).to(self.device).float().div_(255.0))
        feats = self._encode(x)
        k = len(boxes)
        logits, _ = self._decode({n: v[:k] for n, v in feats.items()}, {n: v[k:] for n, v in feats.items()},
                                 None, None)
        b = torch.tensor([ZOOM_BLEND[self.classes[c]] for c in ch], device=probs.device).view(-1, 1, 1)
        probs = probs.clone()
        for i, (j, (y0, y1, x0, x1)) in enumerate(boxes):
            z = F.interpolate(logits[i:i + 1, ch].float(), size=(y1 - y0, x1 - x0), mode="bilinear",
                              align_corners=False)
            first = probs[j, ch, y0:y1, x0:x1].float()
            probs[j, ch, y0:y1, x0:x1] = ((1 - b) * first + b * self._probs(z)[0]).to(probs.dtype)
        return probs

    @property
    def channel_thresholds(self) -> list[float]:
        """The mask threshold of each output channel, in channel order."""
        return [self.thresholds[c] for c in self.classes]

    def settings(self) -> dict:
        """What decides the masks besides the checkpoint and the thresholds (recorded in the output's meta)."""
        out = {"tta": self.tta, "input_size": list(self.input_size)}
        if self.clean:  # absent when off: older outputs still resume
            out["clean"] = self.clean
        if self.reference != "previous":
            out["reference"] = self.reference
        if self.gap != 1:
            out["gap"] = self.gap
        if self.zoom:
            out["zoom"] = self.zoom
        if self.second_scale != 1:
            out["second_size"] = list(self.second_size)
        if self.refine != "none":
            out["refine"] = self.refine
        if self.exclusive != "none":
            out["exclusive"] = self.exclusive
        if self._small_from_second:
            out["small_parts"] = self.small_parts
        if self.unmoved != "keep":
            out["unmoved"] = self.unmoved
        return out

    @property
    def needs_moved_map(self) -> bool:
        """Whether :meth:`predict` uses a moved map (``unmoved="drop"``): pass it one of the whole video
        (:meth:`moved_map`) where the frames can be read twice."""
        return self.unmoved == "drop"

    def moved_map(self, frames: Iterable[np.ndarray]) -> np.ndarray | None:
        """The pixels that changed anywhere in ``frames`` (a whole video), for :meth:`predict`'s ``moved``."""
        return whole_video_moved_map(frames, self.input_size)

    def predict(self, frames: Iterable[np.ndarray], moved: np.ndarray | None = None
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rgb, probabilities C x H x W float32 at the frame's size) per frame, in order. ``moved``: with
        ``unmoved="drop"``, the video's moved map (:meth:`moved_map`); without it the map grows as the frames come."""
        import torch

        from ..device import autocast, to_device_layout

        def tensor(batch: list[np.ndarray], size=None):
            x = torch.stack([self._prep(f, size) for f in batch]).to(self.device, non_blocking=True).float()
            return to_device_layout(x.div_(255.0))

        streams = [{} for _ in range(2 if self.tta == "flip" else 1)]  # the video, and its mirror image
        second = [{} for _ in streams]  # the same at the second input size
        picker = ReferencePicker(self.reference, self.gate, self.gap)  # the mirror is paired as the video
        chunks = self._chunks(frames)
        raw: dict[int, np.ndarray] = {}  # ``zoom``: the earlier frames that later frames may be paired with
        growing = MovedMap(self.input_size) if self.needs_moved_map and moved is None else None
        for chunk, after in _with_next(chunks) if self.tta == "bidir" else ((c, None) for c in chunks):
            size = chunk[0].shape[:2]
            x = tensor(chunk)
            with torch.inference_mode(), autocast(self.device):
                if self.tta == "bidir":
                    probs = self._step_bidir(x, None if after is None else tensor([after]), streams[0], size)
                else:
                    t0 = picker.t
                    thumbs = thumbnails(x, self.gate.pool) if picker.needs_thumbnails else None
                    refs = picker.pick(x.shape[0], thumbs)
                    probs = self._pass(x, streams, size, t0, refs, picker.keep)
                    if self.second_scale != 1:
                        ch = self._scale_channels
                        p2 = self._pass(tensor(chunk, self.second_size), second, size, t0, refs, picker.keep)
                        probs[:, ch] = 0.5 * (probs[:, ch] + p2[:, ch])
                        if self._small_from_second:
                            probs[:, self._small_from_second] = p2[:, self._small_from_second]
                    if self.zoom:
                        probs = self._refine_zoom(probs, chunk, refs, t0, raw)
                        raw = {a: raw[a] if a < t0 else chunk[a - t0] for a in picker.keep}
                if self.refine != "none":
                    rgb = torch.from_numpy(np.stack(chunk)).to(self.device, non_blocking=True).permute(0, 3, 1, 2)
                    probs = refine_probs(probs, rgb, self.refine, self.classes, self.thresholds, self.input_size[0])
            probs = probs.cpu().numpy()
            if self.needs_moved_map:
                if growing is not None:
                    for f in chunk:
                        growing.add(f)
                    moved = growing.mask()
                th = self.channel_thresholds
                for p in probs:
                    drop_unmoved(p, moved, self._unmoved_channels, th, self.input_size[0])
            yield from zip(chunk, probs)


def _compiled(fn):
    """``torch.compile(fn)``, falling back to ``fn`` (with a warning) when compiling fails on this machine."""
    import logging

    import torch

    state = {"fn": torch.compile(fn)}

    def call(*args, **kwargs):
        try:
            return state["fn"](*args, **kwargs)
        except Exception as e:  # noqa: BLE001 - a compiler or backend missing here; fn itself may still fail below
            if state["fn"] is fn:
                raise
            logging.getLogger("distinctnet.label").warning(
                "--compile: torch.compile failed here (%s: %s); running uncompiled", type(e).__name__,
                str(e).splitlines()[0] if str(e) else "")
            state["fn"] = fn
            return fn(*args, **kwargs)

    return call


def _with_next(chunks: Iterator[list[np.ndarray]]) -> Iterator[tuple[list[np.ndarray], np.ndarray | None]]:
    """(chunk, the next chunk's first frame or None): one chunk read ahead."""
    cur = next(chunks, None)
    while cur is not None:
        nxt = next(chunks, None)
        yield cur, None if nxt is None else nxt[0]
        cur = nxt


def label_recordings(inputs, out, checkpoint=None, device: str = "auto", batch: int = 4, exports=(),
                     topic: str | None = None, overwrite: bool = False, progress: bool = False,
                     write_workers: int | None = None, tta: str = "none",
                     input_size: tuple[int, int] | None = None, threshold: float | None = None,
                     clean: float = 0.0, reference: str | None = None, gap: int | None = None,
                     zoom: float = 0.0, second_scale: float | None = None, refine: str | None = None,
                     review_margin: float | None = None, exclusive: str | None = None,
                     small_parts: str | None = None, unmoved: str | None = None) -> dict:
    """Python API of ``distinctnet label``: label ``inputs`` (a path or a list of paths of any input kind)
    into the labelled-recording tree ``out``. Returns ``{"pairs", "seconds", "device", "parameters",
    "labelled", "skipped", "thresholds", "reference", "gap", "zoom", "second_size", "refine", "exclusive",
    "small_parts", "unmoved"}`` (``second_size`` None
    with one pass); raises UserError when a video fails (the others are labelled). ``review_margin``: one review
    margin for all parts (default: the checkpoint's calibrated ones, else 0.6)."""
    import time
    from pathlib import Path

    from ..device import resolve_device
    from .app import default_write_workers
    from .model import checkpoint_path, load_model
    from .pipeline import LabelOptions, file_sha256, label_sources
    from .readers import expand_inputs

    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    sources = expand_inputs(paths, topic)
    ckpt = checkpoint_path(checkpoint)
    dev = resolve_device(device)
    model = load_model(ckpt)
    labeller = Labeller(model, dev, batch=batch, tta=tta, input_size=input_size, thresholds=threshold, clean=clean,
                        reference=reference, gap=gap, zoom=zoom, second_scale=second_scale, refine=refine,
                        exclusive=exclusive, small_parts=small_parts, unmoved=unmoved)
    opts = LabelOptions(out=Path(out), exports=list(exports), overwrite=overwrite, progress=progress,
                        checkpoint=str(ckpt), checkpoint_sha256=file_sha256(ckpt), settings=labeller.settings(),
                        write_workers=default_write_workers(write_workers), review_margin=review_margin)
    t0 = time.perf_counter()
    summary = label_sources(sources, labeller, opts)
    seconds = time.perf_counter() - t0
    if summary.failed:
        n = len(summary.failed)
        raise UserError(summary.failed[0][1] if n == 1 and len(sources) == 1 else
                        f"{n} of {len(sources)} video(s) failed, first: {summary.failed[0][1]}")
    return {"pairs": summary.frames, "seconds": seconds, "device": str(dev),
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "labelled": summary.labelled, "skipped": summary.skipped, "thresholds": dict(labeller.thresholds),
            "reference": labeller.reference, "gap": labeller.gap, "zoom": labeller.zoom,
            "second_size": opts.settings.get("second_size"), "refine": labeller.refine,
            "exclusive": labeller.exclusive, "small_parts": labeller.small_parts, "unmoved": labeller.unmoved}
