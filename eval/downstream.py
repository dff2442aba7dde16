"""Downstream use of the auto-labels (the paper's Table III): a single-frame segmenter trained on
`distinctnet label` output versus the same segmenter trained on the ground truth of the same recordings.

    python -m eval.downstream --train TREE --test TREE --work DIR [--checkpoint LABELLER.safetensors]
        [--classes robot,gripper,object] [--steps 200] [--size 96x128] [--encoder resnet18] [--json FILE]

1. ``distinctnet label`` (``label_recordings``) labels the images of ``--train`` with ``--checkpoint`` (a
   semantic DistinctNet; default: the shipped one) into ``WORK/autolabels_<sha>``; these auto-labels are
   also scored against the tree's own ground truth (how good the training labels of arm "auto" are).
2. Two smp DeepLabV3+ models (``--encoder``, no pretrained weights, one sigmoid per class) are trained the
   same way (same frames, seed, steps, batch, augmentation: ``training.augment.PairAugment`` drawn once per
   frame), arm "auto" on the auto-labels and arm "gt" on the ground truth. A class a video's labels do not
   annotate is left out of the loss (``training.losses.semantic_loss`` with unit weights).
3. Each model segments every frame of the held-out ``--test`` videos on its own (no second frame), the masks
   are written as a labelled-recording tree, and ``eval.score.score`` compares both with the ground truth
   (IoU per class, summed over frames; arm = robot & ~gripper when both are predicted).

Resumable: labels are kept per labeller hash, trained weights (``WORK/<arm>/segmenter.safetensors``) are
reused while the settings are unchanged, and predictions go to a folder named by the weights' hash.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from distinctnet.layout import PART_NAMES

DEFAULT_CLASSES = ("robot", "gripper", "object")
ARMS = ("auto", "gt")
ARM_NAMES = {"auto": "auto-labels (distinctnet label)", "gt": "ground truth"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def parse_classes(text: str | None) -> tuple[str, ...]:
    from distinctnet.errors import UserError

    classes = tuple(dict.fromkeys(c.strip() for c in (text or ",".join(DEFAULT_CLASSES)).split(",") if c.strip()))
    bad = [c for c in classes if c not in PART_NAMES]
    if bad or not classes:
        raise UserError(f"--classes: {bad[0] if bad else '(none)'!r} is not a part; parts: {', '.join(PART_NAMES)}")
    return classes


def scored_parts(classes: tuple[str, ...]) -> tuple[str, ...]:
    """The classes to score: the predicted ones, plus arm (= robot & ~gripper) when robot and gripper are."""
    extra = ("arm",) if {"robot", "gripper"} <= set(classes) and "arm" not in classes else ()
    order = ("robot", "arm", "gripper", "object", "distractor")
    return tuple(c for c in order if c in classes or c in extra)


# -- the single-frame segmenter ----------------------------------------------------------------------------
def build_segmenter(encoder: str, classes: int):
    """smp DeepLabV3+ (no pretrained weights) that takes RGB in [0, 1] and normalises it itself."""
    import segmentation_models_pytorch as smp
    import torch
    from torch import nn

    class Segmenter(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = smp.DeepLabV3Plus(encoder_name=encoder, encoder_weights=None, classes=classes)
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

        def forward(self, x):
            return self.net((x - self.mean) / self.std)

    return Segmenter()


class FrameDataset:
    """Single frames and their label channels (``training.videos.FrameReader``), augmented and resized with
    the training package's pair augmentation (geometry and photometry drawn once, applied to the frame)."""

    def __init__(self, reader, size: tuple[int, int], train: bool):
        from training.augment import AugmentConfig, PairAugment

        self.reader, self.train = reader, train
        self.augment = PairAugment(size, AugmentConfig(per_frame=False), train=train)
        self.items = [(vi, t) for vi, v in enumerate(reader.videos) for t in range(v.frames)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        import torch

        from training.pairs import fresh_seed, to_tensor

        vi, t = self.items[i]
        img = self.reader.image(vi, t)
        seeds = np.random.default_rng(fresh_seed()).integers(0, 2**31 - 1, 2) if self.train else (0, 0)
        img, _, labels = self.augment(img, img, self.reader.labels(vi, t), int(seeds[0]), int(seeds[1]))
        return {"image": to_tensor(img), "labels": torch.from_numpy(np.stack(labels)).float(),
                "valid": torch.from_numpy(self.reader.valid[vi].copy())}


def train_segmenter(root: Path, image_root: Path, videos: list[str], classes: tuple[str, ...], args, device,
                    desc: str):
    """Labels from ``root``, frames from ``image_root``: a plain loop of ``args.steps`` AdamW steps over
    shuffled frames (seeded). Returns (model in eval mode, loss per step)."""
    import torch
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from distinctnet.device import autocast
    from training.losses import semantic_loss
    from training.videos import FrameReader, list_videos

    class Reader(FrameReader):  # labels from ``root``, frames always from the recordings themselves
        def image(self, vi: int, frame: int) -> np.ndarray:
            return self._rec(str(image_root)).read_image(self.videos[vi].name, frame)

    wanted = set(videos)
    vids = [v for v in list_videos([str(root)]) if v.name in wanted]
    reader = Reader(vids, classes)
    ds = FrameDataset(reader, args.size, train=True)
    torch.manual_seed(args.seed)  # same initial weights, frame order and augmentation in both arms
    model = build_segmenter(args.encoder, len(classes)).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(args.seed)
    loader = DataLoader(ds, batch_size=args.batch_size, shuffle=True, drop_last=len(ds) >= args.batch_size,
                        num_workers=args.num_workers, generator=gen)
    weights = torch.ones(len(classes), device=device)
    step, losses = 0, []
    bar = tqdm(total=args.steps, desc=desc, unit="step", disable=args.quiet)
    while step < args.steps:
        for batch in loader:
            if batch["image"].shape[0] < 2:  # BatchNorm needs two samples
                continue
            x, y, valid = (batch[k].to(device) for k in ("image", "labels", "valid"))
            with autocast(device):
                logits = model(x)
            loss = semantic_loss(logits, y, valid, weights)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            step += 1
            bar.update()
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
            if step >= args.steps:
                break
    bar.close()
    return model.eval(), losses


def save_segmenter(model, path: Path, settings: dict) -> None:
    from safetensors.torch import save

    from distinctnet.io import atomic_write_bytes

    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save(tensors, metadata={"settings": json.dumps(settings, sort_keys=True)}))


def load_segmenter(path: Path, settings: dict, encoder: str, classes: int):
    """The saved model when it was trained with exactly ``settings``, else None."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if not path.is_file():
        return None
    with safe_open(str(path), framework="pt") as f:
        saved = json.loads((f.metadata() or {}).get("settings", "{}"))
    if saved != json.loads(json.dumps(settings, sort_keys=True)):
        return None
    model = build_segmenter(encoder, classes)
    model.load_state_dict(load_file(str(path)))
    return model.eval()


def predict_tree(model, test_root: Path, videos: list[str], classes: tuple[str, ...], size, out: Path, device,
                 batch: int, quiet: bool) -> Path:
    """Segment every frame of ``videos`` on its own and write the masks as a labelled-recording tree."""
    import cv2
    import torch
    import torch.nn.functional as F
    from tqdm import tqdm

    from distinctnet.device import autocast
    from distinctnet.layout import Recording, VideoWriter, is_finished, rebuild_meta
    from training.pairs import to_tensor

    rec = Recording(test_root)
    h, w = size
    model = model.to(device).eval()
    for v in tqdm(videos, desc="segmenting", unit="video", disable=quiet):
        if is_finished(out, v):
            continue
        writer = VideoWriter(out, v, annotated_parts=list(classes), source=str(test_root), write_images=False,
                             extra={"model": "smp DeepLabV3Plus single-frame"})
        n = rec.num_frames(v)
        for s in range(0, n, batch):
            frames = [rec.read_image(v, i) for i in range(s, min(n, s + batch))]
            fh, fw = frames[0].shape[:2]
            x = torch.stack([to_tensor(cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA if fh > h else
                                                  cv2.INTER_LINEAR)) for f in frames]).to(device)
            with torch.inference_mode(), autocast(device):
                logits = model(x)
            masks = (F.interpolate(logits.float(), size=(fh, fw), mode="bilinear", align_corners=False) > 0).cpu()
            for k in range(len(frames)):
                writer.write(None, {c: masks[k, j].numpy() for j, c in enumerate(classes)}, frame=s + k)
        writer.finish(rebuild=False)
    rebuild_meta(out)
    return out


# -- the experiment ----------------------------------------------------------------------------------------
def _check_labels(auto_root: Path, videos: list[str], classes: tuple[str, ...], checkpoint: str) -> None:
    from distinctnet.errors import UserError
    from distinctnet.layout import Recording
    from training.videos import Video, label_valid

    rec = Recording(auto_root)
    covered = set()
    for v in videos:
        vid = Video(str(auto_root), v, rec.num_frames(v), tuple(rec.video_meta(v).get("annotated_parts", ())))
        covered |= {c for c, ok in zip(classes, label_valid(vid, classes)) if ok}
    missing = [c for c in classes if c not in covered]
    if missing:
        raise UserError(f"{checkpoint}: the labelling model gives no {', '.join(missing)} masks (its labels "
                        f"annotate {sorted(rec.video_meta(videos[0]).get('annotated_parts', []))}); use a "
                        f"semantic model or --classes without them")


def experiment(args) -> dict:
    import torch

    from distinctnet.device import resolve_device
    from distinctnet.errors import fail
    from distinctnet.io import atomic_write_json
    from distinctnet.label.model import checkpoint_path
    from distinctnet.label.pipeline import file_sha256
    from distinctnet.label.runner import label_recordings
    from distinctnet.layout import Recording

    from .bench import machine_name
    from .score import score

    classes = parse_classes(args.classes)
    parts = scored_parts(classes)
    train_root, test_root, work = Path(args.train).resolve(), Path(args.test).resolve(), Path(args.work)
    if train_root == test_root:
        raise fail(test_root, "--test is the --train tree: the comparison needs held-out recordings")
    train_rec, test_rec = Recording(train_root), Recording(test_root)
    train_videos, test_videos = train_rec.videos, list(args.test_videos or test_rec.videos)
    if not train_videos:
        raise fail(train_root, "no videos to train on")
    for v in test_videos:
        if v not in test_rec.meta["videos"]:
            raise fail(test_root, f"no video {v!r}")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    progress = not args.quiet

    ckpt = checkpoint_path(args.checkpoint)
    ckpt_sha = file_sha256(ckpt)
    auto_root = work / f"autolabels_{ckpt_sha[:10]}"
    label_run = label_recordings(str(train_root), auto_root, ckpt, device=str(device), batch=args.label_batch,
                                 progress=progress)
    _check_labels(auto_root, train_videos, classes, str(ckpt))
    auto_quality = score(train_root, auto_root, parts=parts, progress=progress)

    label_roots = {"auto": auto_root, "gt": train_root}
    arms = {}
    for arm in ARMS:
        settings = {"labels": str(label_roots[arm]), "labeller_sha256": ckpt_sha if arm == "auto" else None,
                    "videos": train_videos, "classes": list(classes), "encoder": args.encoder,
                    "size": list(args.size), "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
                    "seed": args.seed}
        wpath = work / arm / "segmenter.safetensors"
        model = load_segmenter(wpath, settings, args.encoder, len(classes))
        losses = None
        if model is None:
            model, losses = train_segmenter(label_roots[arm], train_root, train_videos, classes, args, device,
                                            f"train {arm}")
            save_segmenter(model, wpath, settings)
        pred = work / arm / f"pred_{file_sha256(wpath)[:10]}"
        predict_tree(model, test_root, test_videos, classes, args.size, pred, device, args.label_batch, args.quiet)
        sc = score(test_root, pred, parts=parts, videos=test_videos, progress=progress)
        arms[arm] = {"labels": str(label_roots[arm]), "weights": str(wpath), "pred_root": str(pred),
                     "iou": {c: sc["iou"][c]["iou"] for c in parts}, "mean_iou": sc["summary"]["mean_iou"],
                     "frames": sc["summary"]["frames"],
                     "final_loss": None if not losses else float(np.mean(losses[-10:]))}
    out = {
        "settings": {"train": str(train_root), "test": str(test_root), "train_videos": train_videos,
                     "test_videos": test_videos, "checkpoint": str(ckpt), "classes": list(classes),
                     "scored": list(parts), "encoder": args.encoder, "size": list(args.size), "steps": args.steps,
                     "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed},
        "machine": machine_name(device), "torch": torch.__version__,
        "train_frames": sum(train_rec.num_frames(v) for v in train_videos),
        "autolabels": {"root": str(auto_root), "pairs": label_run["pairs"],
                       "iou_vs_gt": {c: auto_quality["iou"][c]["iou"] for c in parts},
                       "mean_iou": auto_quality["summary"]["mean_iou"]},
        "arms": arms,
    }
    out["table"] = table(out)
    atomic_write_json(Path(args.json) if args.json else work / "downstream.json", out)
    return out


def _f(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def table(out: dict) -> str:
    parts = out["settings"]["scored"]
    head = ["single-frame DeepLabV3+ trained on", *[f"{c} IoU" for c in parts], "mIoU"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for arm in ARMS:
        r = out["arms"][arm]
        lines.append("| " + " | ".join([ARM_NAMES[arm], *[_f(r["iou"][c]) for c in parts], _f(r["mean_iou"])]) + " |")
    a = out["autolabels"]
    lines.append("| " + " | ".join(["(the auto-labels themselves, vs GT of the training recordings)",
                                    *[_f(a["iou_vs_gt"][c]) for c in parts], _f(a["mean_iou"])]) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from .bench import parse_size

    p = argparse.ArgumentParser(prog="python -m eval.downstream", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, metavar="TREE",
                   help="rendered recordings with ground truth: labelled automatically (arm auto) and used "
                        "with their ground truth (arm gt)")
    p.add_argument("--test", required=True, metavar="TREE", help="held-out recordings with ground truth")
    p.add_argument("--test-videos", nargs="+", metavar="VIDEO", help="a subset of the test tree's videos")
    p.add_argument("--work", required=True, help="folder for labels, weights, predictions and downstream.json")
    p.add_argument("--checkpoint", help="labelling model (semantic DistinctNet .safetensors; default: shipped)")
    p.add_argument("--classes", default=",".join(DEFAULT_CLASSES),
                   help=f"segmenter classes, layout parts (default {','.join(DEFAULT_CLASSES)})")
    p.add_argument("--encoder", default="resnet18", help="smp encoder of the segmenter (default resnet18)")
    p.add_argument("--size", type=parse_size, default=(96, 128), help="training/inference HxW, multiples of 16 "
                                                                      "(default 96x128)")
    p.add_argument("--steps", type=int, default=200, help="optimiser steps per arm (default 200)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-workers", type=int, default=0, help="data loader workers (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda")
    p.add_argument("--label-batch", type=int, default=4, help="frames per labelling/segmenting batch")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--json", help="where to write the results (default WORK/downstream.json)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: list[str] | None = None) -> int:
    from distinctnet.errors import UserError

    args = build_parser().parse_args(argv)
    try:
        if args.steps < 1 or args.batch_size < 2:
            raise UserError("--steps must be at least 1 and --batch-size at least 2")
        if args.size[0] % 16 or args.size[1] % 16:
            raise UserError(f"--size {args.size[0]}x{args.size[1]}: both sides must be multiples of 16 (DeepLabV3+)")
        out = experiment(args)
    except UserError as e:
        print(f"downstream: error: {e}", file=sys.stderr)
        return 1
    s = out["settings"]
    print(f"downstream (Table III): {len(s['train_videos'])} training recordings ({out['train_frames']} frames), "
          f"{len(s['test_videos'])} held-out; {s['steps']} steps, {s['encoder']} at {s['size'][0]}x{s['size'][1]}, "
          f"on {out['machine']}")
    print(out["table"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
