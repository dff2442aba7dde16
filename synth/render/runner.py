"""The loop every generator shares: options, BlenderProc start-up, shards, resume, progress, failures,
timing and the manifest. A generator supplies ``plan(args)`` -> [(k, name)] and
``render(bproc, args, k, name, rng, ctx)`` -> frames rendered (it writes its own output, atomically).

- item k belongs to shard k % N; its random generator is seeded with (seed, k, generator), so shards and
  resumed runs draw exactly the same items;
- finished items (``done(args, name)``) are skipped;
- an item that fails is logged (``ROOT/logs/{name}.log``), its partial output removed, and the loop goes on;
- Blender's own chatter goes to the item's log, not the terminal; tqdm shows progress on stderr.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from . import options


def video_done(args, name: str) -> bool:
    """A video of a labelled-recording tree counts once its meta.d fragment exists."""
    from distinctnet.layout import is_finished

    return is_finished(args.out, name)


def remove_unfinished_video(args, name: str) -> None:
    """Drop what a failed or killed render of ``name`` left behind (never a finished video)."""
    if not video_done(args, name):
        for sub in ("image", "mask"):
            shutil.rmtree(Path(args.out) / sub / name, ignore_errors=True)

GENERATOR_IDS = {"robots": 1, "moving": 2, "objects": 3}


class Context(dict):
    """Per-process state a generator may keep between items (caches, asset lists, assets used)."""

    def use(self, asset) -> None:
        self.setdefault("used", {})[asset.path] = asset.to_json()


@contextmanager
def _output_to(path: Path):
    """Send fds 1 and 2 (Blender, BlenderProc and warnings print there) to ``path`` for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(path, "ab") as f:
        os.dup2(f.fileno(), 1)
        os.dup2(f.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, old in zip((1, 2), saved):
                os.dup2(old, fd)
                os.close(old)


def _one_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def main(generator: str, argv: list[str], plan: Callable, render: Callable, done: Callable,
         cleanup: Callable) -> int:
    from .bproc_boot import boot, init, set_exit_code

    args = options.parse(argv, generator)
    problems = options.check(args, generator)
    if problems:
        print(f"synth {generator}: error: {problems[0]}", file=sys.stderr)
        set_exit_code(1)
        return 1
    root = Path(args.out)
    shard = options.parse_shard(args.shard)
    work = Path(tempfile.mkdtemp(prefix=f"synth-{generator}-"))
    try:
        ctx = Context(work=work)
        try:
            items = plan(args, ctx)
        except (ValueError, OSError) as e:  # bad input found while listing assets
            print(f"synth {generator}: error: {e}", file=sys.stderr)
            set_exit_code(1)
            return 1
        mine = [(k, name) for k, name in items if k % shard[1] == shard[0]]
        todo = [(k, name) for k, name in mine if not done(args, name)]
        skipped = len(mine) - len(todo)
        root.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        with _output_to(work / "blender.log"):
            bproc = boot(str(work / "bproc"))
            init(bproc, threads=args.threads or None)
            from .scene import setup_renderer

            setup_renderer(bproc, options.parse_size(args.size), args.samples, args.threads,
                           transparent=generator == "objects")
        start_s = time.time() - t0
        import numpy as np
        from tqdm import tqdm

        frames = ok = failed = 0
        item_s = 0.0
        term = os.fdopen(os.dup(2), "w")  # the terminal, while fds 1 and 2 go to an item's log
        bar = tqdm(todo, desc=f"synth {generator} {args.shard}", unit="seq" if generator != "objects" else "obj",
                   disable=args.quiet, file=term)
        for k, name in bar:
            rng = np.random.default_rng([args.seed, k, GENERATOR_IDS[generator]])
            log = work / f"{name}.log"
            t = time.time()
            try:
                with _output_to(log):
                    n = render(bproc, args, k, name, rng, ctx)
                frames += n
                ok += 1
                item_s += time.time() - t
            except Exception as e:  # one bad item never kills the shard
                failed += 1
                cleanup(args, name)
                (root / "logs").mkdir(exist_ok=True)
                with open(log, "a") as f:
                    f.write(traceback.format_exc())
                shutil.copy(log, root / "logs" / f"{name}.log")
                bar.write(f"synth {generator}: {name} failed and was skipped ({_one_line(e)}); "
                          f"log: {root / 'logs' / (name + '.log')}", file=term)
        bar.close()
        per_frame = item_s / frames if frames else float("nan")
        print(f"synth {generator}: {ok} rendered, {failed} failed, {skipped} already done; {frames} frames in "
              f"{item_s:.1f} s = {per_frame:.2f} s/frame (start-up {start_s:.1f} s, "
              f"{args.size} @ {args.samples} samples)", file=sys.stderr)
        from synth import manifest

        settings = {k: v for k, v in vars(args).items() if k not in ("quiet",)}
        manifest.write(root, generator, shard, settings=settings,
                       counts={"rendered": ok, "failed": failed, "skipped": skipped, "frames": frames},
                       assets=sorted(ctx.get("used", {}).values(), key=lambda a: a["path"]),
                       timing={"seconds_per_frame": None if not frames else round(per_frame, 3),
                               "startup_s": round(start_s, 2), "render_s": round(item_s, 1)})
        code = 1 if failed and not ok else 0
        set_exit_code(code)
        return code
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_module(generator: str, **kw) -> None:
    """``python -m synth.render.<generator>`` entry point (leaves through os._exit, see bproc_boot)."""
    code = main(generator, sys.argv[1:], **kw)
    sys.exit(code)
