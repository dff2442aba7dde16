"""Training data for a lent GPU machine, small enough to travel, and the trained weights back in parts.

A lent GPU machine (``run``) has no Blender and no network. Each call carries the working tree and a few
ignored folders, 64 MiB in all. It returns at most 8 files of 16 MiB. ``eval/recipes/gpu-train.sh`` trains
there on what this module packs here:

    python -m eval.gpu_bundle pack --robots data/v10/robots --objects data/v10/objects \\
        --backgrounds data/v3/bg_train --out .gpu-train        # renders at the training size, photos shrunk
    python -m eval.gpu_bundle size --carry .whl .gpu-train     # what a call would carry, against 64 MiB
    python -m eval.gpu_bundle join FILES_AT/candidate.safetensors.part* --out runs/gpu/candidate.safetensors

``pack`` writes ``OUT/robots`` (a labelled-recording tree: frames and masks resized to the network's input,
so nothing is carried that training would throw away), ``OUT/objects`` (RGBA cut-outs, longest side capped)
and ``OUT/backgrounds`` (photos, longest side capped). The composites are made on the GPU machine's cores.
``split`` (there) and ``join`` (here) cut a checkpoint into parts under the size limit; ``join`` checks the
SHA-256 that ``split`` wrote beside the parts (``SHA256SUMS``).
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from distinctnet.argtypes import parse_size
from distinctnet.errors import UserError, fail

CALL_LIMIT = 64 * 2**20     # bytes a `run` call may carry: working tree + carried folders
PART_LIMIT = 15 * 2**20     # bytes per part, under the 16 MiB a returned file may have
DIGESTS = "SHA256SUMS"      # written by split beside the parts, checked by join
VIDEO_KEYS = ("frames", "annotated_parts", "static_from", "source", "license")


def _resize(img: np.ndarray, size: tuple[int, int], nearest: bool = False) -> np.ndarray:
    import cv2

    h, w = size
    if img.shape[:2] == (h, w):
        return img
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_AREA)


def _shrink(img: np.ndarray, side: int) -> np.ndarray:
    import cv2

    scale = side / max(img.shape[:2])
    if scale >= 1:
        return img
    w, h = max(1, round(img.shape[1] * scale)), max(1, round(img.shape[0] * scale))
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def pack_robots(src: Path, dst: Path, size: tuple[int, int], quality: int, progress: bool = True) -> int:
    """Copy every finished video of the recording tree ``src`` to ``dst`` at ``size``; returns the videos."""
    from tqdm import tqdm

    from distinctnet.layout import PART_NAMES, Recording, VideoWriter, is_finished, rebuild_meta

    rec = Recording(src)
    if not rec.videos:
        raise fail(src, "no finished videos to pack")
    for video in tqdm(rec.videos, desc="robots", unit="video", disable=not progress):
        if is_finished(dst, video):
            continue
        meta = dict(rec.video_meta(video))
        extra = {k: v for k, v in meta.items() if k not in VIDEO_KEYS}
        extra["size"] = list(size)
        parts = meta.get("annotated_parts") or list(PART_NAMES)
        wr = VideoWriter(dst, video, annotated_parts=parts, static_from=meta.get("static_from"),
                         source=meta.get("source", ""), license=meta.get("license", ""), extra=extra,
                         quality=quality)
        for t in range(rec.num_frames(video)):
            masks = {p: _resize(m.astype(np.uint8), size, nearest=True) > 0
                     for p, m in rec.read_masks(video, t).items()}
            wr.write(_resize(rec.read_image(video, t), size), masks)
        wr.finish(rebuild=False)
    rebuild_meta(dst)
    return len(rec.videos)


def pack_objects(src: Path, dst: Path, side: int) -> int:
    """RGBA cut-outs of ``src`` (one folder per object) to ``dst``, longest side at most ``side``."""
    import cv2

    from distinctnet.io import atomic_write_bytes
    from synth.assets import find_objects

    n = 0
    for obj in find_objects([src]):
        for view in obj.views:
            img = cv2.imread(str(view), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise fail(view, "cannot read the object cut-out")
            ok, buf = cv2.imencode(".png", _shrink(img, side), [cv2.IMWRITE_PNG_COMPRESSION, 9])
            atomic_write_bytes(dst / view.relative_to(src), buf.tobytes())
            n += 1
    for lic in src.glob("LICENSE*"):
        shutil.copy(lic, dst / lic.name)
    return n


def pack_backgrounds(src: Path, dst: Path, side: int, quality: int) -> int:
    """Background photos of ``src`` to ``dst`` as JPEGs, longest side at most ``side``."""
    from distinctnet.io import atomic_imwrite, imread_rgb
    from synth.assets import find_backgrounds

    photos = find_backgrounds([src])
    for p in photos:
        atomic_imwrite(dst / (p.relative_to(src).with_suffix(".jpg") if p.is_relative_to(src) else p.stem + ".jpg"),
                       _shrink(imread_rgb(p), side), quality)
    for lic in src.glob("LICENSE*"):
        shutil.copy(lic, dst / lic.name)
    return len(photos)


def folder_bytes(path: Path) -> int:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def travel_bytes(repo: Path, carry: list[Path]) -> tuple[int, int]:
    """(working tree, carried) bytes of a `run` call from ``repo``: tracked files and untracked files git does
    not ignore, then the carried paths."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo,
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise fail(repo, f"cannot list the working tree with git ({e})") from None
    tree = 0
    for name in {n for n in out.decode().split("\0") if n}:
        p = repo / name
        if p.is_file() and not p.is_symlink():
            tree += p.stat().st_size
    return tree, sum(folder_bytes(repo / c) for c in carry)


def split(path: Path, out_dir: Path, part_bytes: int = PART_LIMIT) -> list[Path]:
    """Cut ``path`` into ``out_dir/NAME.partNN`` files of at most ``part_bytes`` and record the whole file's
    digest in ``out_dir/SHA256SUMS`` (one line per file, as sha256sum writes them)."""
    data = Path(path).read_bytes()
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = []
    for k, start in enumerate(range(0, max(len(data), 1), part_bytes)):
        p = out_dir / f"{path.name}.part{k:02d}"
        p.write_bytes(data[start:start + part_bytes])
        parts.append(p)
    sums = out_dir / DIGESTS
    lines = [ln for ln in (sums.read_text().splitlines() if sums.exists() else []) if not ln.endswith(f"  {path.name}")]
    sums.write_text("".join(f"{ln}\n" for ln in lines + [f"{hashlib.sha256(data).hexdigest()}  {path.name}"]))
    return parts


def join(parts: list[Path], out: Path) -> str:
    """Concatenate ``parts`` (sorted by name) into ``out`` and check the digest that :func:`split` wrote."""
    from distinctnet.io import atomic_write_bytes

    parts = sorted(Path(p) for p in parts)
    if not parts:
        raise UserError("join: no parts given")
    for p in parts:
        if not p.is_file():
            raise fail(p, "join: no such part")
    name = parts[0].name.rsplit(".part", 1)[0]
    if any(p.name.rsplit(".part", 1)[0] != name for p in parts):
        raise fail(parts[0].parent, f"join: the parts are not all of {name}")
    numbers = [p.name.rsplit(".part", 1)[1] for p in parts]
    if numbers != [f"{k:02d}" for k in range(len(parts))]:
        raise fail(parts[0].parent, f"join: parts of {name} missing or misnamed (have {', '.join(numbers)})")
    digest_file = parts[0].parent / DIGESTS
    want = {ln.split("  ", 1)[1]: ln.split("  ", 1)[0] for ln in
            (digest_file.read_text().splitlines() if digest_file.exists() else []) if "  " in ln}.get(name)
    if want is None:
        raise fail(digest_file, f"join: no digest of {name} beside the parts")
    data = b"".join(p.read_bytes() for p in parts)
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise fail(digest_file, f"join: the joined file's SHA-256 is {got[:12]}..., the parts were cut from "
                                f"{want[:12]}... (a part is missing, truncated or from another run)")
    atomic_write_bytes(out, data)
    return got


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.gpu_bundle", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack", help="training data for a GPU call, at the training size")
    p.add_argument("--robots", required=True, type=Path, help="rendered robot recordings (synth robots)")
    p.add_argument("--objects", type=Path, help="object cut-outs (synth objects)")
    p.add_argument("--backgrounds", type=Path, help="background photos")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--size", type=parse_size, default=(192, 336), help="HxW of the packed frames (default 192x336)")
    p.add_argument("--object-side", type=int, default=96, help="longest side of an object cut-out (default 96)")
    p.add_argument("--background-side", type=int, default=384, help="longest side of a photo (default 384)")
    p.add_argument("--quality", type=int, default=92, help="JPEG quality (default 92)")
    p.add_argument("--quiet", action="store_true")
    s = sub.add_parser("size", help="bytes a `run` call would carry from this checkout")
    s.add_argument("--carry", nargs="*", type=Path, default=[], help="ignored paths the call carries")
    s.add_argument("--repo", type=Path, default=Path("."))
    c = sub.add_parser("split", help="cut a file into parts under the 16 MiB a returned file may have")
    c.add_argument("file", type=Path)
    c.add_argument("--out", required=True, type=Path)
    j = sub.add_parser("join", help="join parts made by split and check their digest")
    j.add_argument("parts", nargs="+", type=Path)
    j.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    try:
        if args.cmd == "pack":
            if args.out.exists() and any(args.out.iterdir()) and not (args.out / "robots").is_dir():
                raise fail(args.out, "exists and is not a bundle; give an empty or new folder")
            n = pack_robots(args.robots, args.out / "robots", args.size, args.quality, not args.quiet)
            line = f"{n} videos"
            if args.objects:
                line += f", {pack_objects(args.objects, args.out / 'objects', args.object_side)} object views"
            if args.backgrounds:
                line += (f", {pack_backgrounds(args.backgrounds, args.out / 'backgrounds', args.background_side, args.quality)}"
                         f" photos")
            print(f"{args.out}: {line}, {folder_bytes(args.out) / 2**20:.1f} MiB")
        elif args.cmd == "size":
            for c_ in args.carry:
                if not (args.repo / c_).exists():
                    raise fail(args.repo / c_, "carried path does not exist")
            tree, carried = travel_bytes(args.repo, args.carry)
            total = tree + carried
            print(f"working tree {tree / 2**20:.1f} MiB + carried {carried / 2**20:.1f} MiB = "
                  f"{total / 2**20:.1f} MiB of {CALL_LIMIT / 2**20:.0f} MiB")
            if total > CALL_LIMIT:
                print(f"too large by {(total - CALL_LIMIT) / 2**20:.1f} MiB: carry less", file=sys.stderr)
                return 1
        elif args.cmd == "split":
            if not args.file.is_file():
                raise fail(args.file, "no such file")
            for part in split(args.file, args.out):
                print(part)
        else:
            digest = join(args.parts, args.out)
            print(f"{args.out}: {os.path.getsize(args.out)} bytes, SHA-256 {digest} (matches)")
    except UserError as e:
        print(f"gpu_bundle: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
