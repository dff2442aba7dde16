"""Fine-tuning pairs from the harvested robot cut-outs: the compositor (``synth.composite``) with
``WORK/harvest`` as its robot source and the user's objects and backgrounds (or the compositor's defaults),
into ``WORK/pairs`` with a contact sheet ``WORK/pairs/pairs.png``. Besides the photos, the background
plates of the user's own scene (``WORK/plates``, see ``plates.py``) are drawn for ``plate_share`` of the
pairs. Finished pairs are kept on a rerun with the same harvest and settings; a changed harvest (other cut-outs, grippers or grasp points) or other settings
make the pairs anew (the compositor would otherwise keep pairs cut from the old harvest)."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from ..errors import fail
from ..io import atomic_write_json
from ..layout import Recording, read_meta

DEFAULT_PAIRS = 2000
DEFAULT_PLATE_SHARE = 0.5


def tree_fingerprint(root: str | Path) -> str:
    """A hash of a labelled-recording tree's meta (videos, frame counts, grasp points, ...)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(read_meta(root)["videos"], sort_keys=True).encode()).hexdigest()


def composite_step(work: str | Path, num: int = DEFAULT_PAIRS, objects: list[str] | None = None,
                   backgrounds: list[str] | None = None, size: tuple[int, int] | None = None, seed: int = 0,
                   workers: int = 1, progress: bool = True, plate_share: float = DEFAULT_PLATE_SHARE) -> dict:
    """Make ``num`` pairs at ``size`` (H, W; default the compositor's) and their contact sheet."""
    from synth.assets import find_backgrounds
    from synth.composite import CompositeConfig, contact_sheet, generate, pair_name

    from .plates import plates_step

    work = Path(work)
    harvest = work / "harvest"
    if not (harvest / "meta.json").exists():
        raise fail(harvest, "no harvest here: run `distinctnet adapt harvest` first")
    videos = Recording(harvest).meta["videos"]
    if not any("gripper" in v.get("annotated_parts", []) for v in videos.values()):
        raise fail(harvest, "the harvest has no gripper masks yet: run `distinctnet adapt gripper` first")
    if not 0.0 <= plate_share < 1.0:
        raise fail("--plate-share", f"{plate_share} is not in [0, 1)")
    cfg = CompositeConfig() if size is None else replace(CompositeConfig(), size=tuple(size))
    photos = [str(p) for p in find_backgrounds(backgrounds)]
    plates = plates_step(work, progress=progress) if plate_share > 0 else {"plates": {}, "root": None}
    plate_files = [str(Path(plates["root"]) / f"{v}.jpg") for v in sorted(plates["plates"])]
    pool = photos
    if plate_files:  # each plate repeated so that the plates make up plate_share of the draws
        repeat = max(1, round(plate_share / (1 - plate_share) * len(photos) / len(plate_files)))
        pool = photos + plate_files * repeat
    out = work / "pairs"
    stamp = out / "adapt_settings.json"
    settings = {"harvest": tree_fingerprint(harvest), "objects": objects, "backgrounds": backgrounds,
                "size": list(cfg.size), "seed": seed, "plate_share": plate_share,
                "plates": plates["plates"]}
    if out.exists() and (not stamp.is_file() or json.loads(stamp.read_text()) != settings):
        shutil.rmtree(out)  # pairs of another harvest or other settings
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(stamp, settings)
    counts = generate(out, num, [str(harvest)], objects, pool, cfg.check(), seed=seed,
                      workers=max(1, workers), progress=progress)
    sheet = contact_sheet(out, out / "pairs.png", [pair_name(k) for k in range(min(num, 8))])
    return {**counts, "root": str(out), "sheet": str(sheet), "size": list(cfg.size),
            "objects": objects or "procedural", "backgrounds": backgrounds or "default",
            "plates": plates["plates"], "plate_share": plate_share if plate_files else 0.0}
