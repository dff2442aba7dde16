"""The dataset manifest: what a synthetic data folder holds and how it was made.

Every generator run (every shard) writes ``ROOT/manifest.d/{generator}-{i}of{N}.json`` (settings, seed,
counts, the assets it used with paths and licences, timing); ``ROOT/manifest.json`` is rebuilt from the
fragments under a file lock, so shards rendering into the same ROOT merge into one manifest.
"""
from __future__ import annotations

import fcntl
import json
import platform
import time
from pathlib import Path

from distinctnet.io import atomic_write_json


def write(root: str | Path, generator: str, shard: tuple[int, int], *, settings: dict, counts: dict,
          assets: list[dict], timing: dict | None = None) -> dict:
    """Write this run's fragment and rebuild ``manifest.json``; returns the merged manifest."""
    root = Path(root)
    i, n = shard
    fragment = {
        "generator": generator,
        "shard": f"{i}/{n}",
        "seed": settings.get("seed"),
        "settings": settings,
        "counts": counts,
        "timing": timing or {},
        "assets": assets,
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": platform.node(),
    }
    atomic_write_json(root / "manifest.d" / f"{generator}-{i}of{n}.json", fragment)
    return rebuild(root)


def rebuild(root: str | Path) -> dict:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".manifest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            merged = merge(sorted((root / "manifest.d").glob("*.json")))
            atomic_write_json(root / "manifest.json", merged)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return merged


def merge(paths: list[Path]) -> dict:
    out: dict = {"generators": {}}
    for p in paths:
        frag = json.loads(Path(p).read_text())
        g = out["generators"].setdefault(frag["generator"], {"settings": frag["settings"], "seed": frag["seed"],
                                                             "shards": {}, "counts": {}, "assets": {}})
        g["shards"][frag["shard"]] = {"counts": frag["counts"], "timing": frag["timing"], "written": frag["written"]}
        for k, v in frag["counts"].items():
            if isinstance(v, (int, float)):
                g["counts"][k] = g["counts"].get(k, 0) + v
        for a in frag["assets"]:
            g["assets"][a["path"]] = a
    for g in out["generators"].values():
        g["assets"] = sorted(g["assets"].values(), key=lambda a: (a.get("source", ""), a.get("name", "")))
    return out


def read(root: str | Path) -> dict:
    path = Path(root) / "manifest.json"
    return json.loads(path.read_text()) if path.exists() else {"generators": {}}
