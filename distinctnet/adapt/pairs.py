"""Fine-tuning pairs from the harvested robot cut-outs: the compositor (``synth.composite``) with
``WORK/harvest`` as its robot source and the user's objects and backgrounds (or the compositor's defaults),
into ``WORK/pairs`` with a contact sheet ``WORK/pairs/pairs.png``. Finished pairs are kept on a rerun."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import fail
from ..layout import Recording

DEFAULT_PAIRS = 2000


def composite_step(work: str | Path, num: int = DEFAULT_PAIRS, objects: list[str] | None = None,
                   backgrounds: list[str] | None = None, size: tuple[int, int] | None = None, seed: int = 0,
                   workers: int = 1, progress: bool = True) -> dict:
    """Make ``num`` pairs at ``size`` (H, W; default the compositor's) and their contact sheet."""
    from synth.composite import CompositeConfig, contact_sheet, generate, pair_name

    work = Path(work)
    harvest = work / "harvest"
    if not (harvest / "meta.json").exists():
        raise fail(harvest, "no harvest here: run `distinctnet adapt harvest` first")
    videos = Recording(harvest).meta["videos"]
    if not any("gripper" in v.get("annotated_parts", []) for v in videos.values()):
        raise fail(harvest, "the harvest has no gripper masks yet: run `distinctnet adapt gripper` first")
    cfg = CompositeConfig() if size is None else replace(CompositeConfig(), size=tuple(size))
    out = work / "pairs"
    counts = generate(out, num, [str(harvest)], objects, backgrounds, cfg.check(), seed=seed,
                      workers=max(1, workers), progress=progress)
    sheet = contact_sheet(out, out / "pairs.png", [pair_name(k) for k in range(min(num, 8))])
    return {**counts, "root": str(out), "sheet": str(sheet), "size": list(cfg.size),
            "objects": objects or "procedural", "backgrounds": backgrounds or "default"}
