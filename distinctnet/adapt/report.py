"""``WORK/report.md``: what each adapt step found and made, with links to its pictures (relative to WORK).

Built from the steps' summaries (``harvest/harvest.json``, ``gripper/gripper.json``, ``pairs/adapt_pairs.json``,
``train/adapt_finetune.json``); a step that has not run yet is listed as such.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ..io import atomic_write_bytes

SUMMARIES = {"harvest": "harvest/harvest.json", "gripper": "gripper/gripper.json",
             "composite": "pairs/adapt_pairs.json", "finetune": "train/adapt_finetune.json"}


def load_summaries(work: Path) -> dict:
    out = {}
    for step, rel in SUMMARIES.items():
        p = work / rel
        if p.is_file():
            try:
                out[step] = json.loads(p.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                out[step] = None
    return out


def _rel(work: Path, path: str | None) -> str | None:
    if not path:
        return None
    try:
        return os.path.relpath(path, work)
    except ValueError:
        return path


def render(work: Path, s: dict) -> str:
    lines = ["# distinctnet adapt report", "",
             f"Work folder: `{work}`. Nothing here was annotated by hand: the robot masks come from the base model's "
             "moving-foreground output, the gripper from the open/close clip or an estimate.", ""]
    h = s.get("harvest")
    lines += ["## 1. Harvest (robot cut-outs)", ""]
    if not h:
        lines += ["Not run yet.", ""]
    else:
        model = h.get("model", {})
        name = model.get("checkpoint", model.get("predictor", "?"))
        lines += [f"Base model: `{name}` ({model.get('head', '?')} head).",
                  f"**{h['kept']} of {h['frames']} frames kept** as robot cut-outs.", "",
                  "| dropped because | frames | meaning |", "|---|---:|---|"]
        for reason, n in h["dropped"].items():
            lines.append(f"| {reason} | {n} | {h.get('reasons', {}).get(reason, '')} |")
        lines += ["", "| recording | frames | kept |", "|---|---:|---:|"]
        for v, c in h.get("videos", {}).items():
            lines.append(f"| {v} ({c.get('source', '')}) | {c['frames']} | {c['kept'] if c.get('written') else 0} |")
        lines += ["", f"Thresholds: `{json.dumps(h.get('settings', {}))}`", ""]
        if h.get("sheet"):
            lines += [f"![kept and dropped frames]({_rel(work, h['sheet'])})", ""]
        lines += ["Per-frame numbers: `harvest/frames/*.csv`.", ""]
    g = s.get("gripper")
    lines += ["## 2. Gripper and grasp point", ""]
    if not g:
        lines += ["Not run yet.", ""]
    else:
        if g["source"] == "estimated":
            lines += ["**The gripper was ESTIMATED, not observed**: no open/close clip was given, so the gripper is "
                      "the part of each robot mask farthest along the mask from the robot's base (where the robot "
                      "stays while its end moves) and the grasp point is derived from it. Give `--gripper CLIP` "
                      "(the gripper opening and closing at a still pose) for a gripper found from its own motion: "
                      "in the xArm experiment "
                      "(`distinctnet/adapt/README.md`) fine-tuning on the estimate lost the gripper channel, "
                      "with a clip it improved.", ""]
        else:
            lines += [f"From the clip `{g['clip']}`: the fingers are the moving pixels, the grasp point the spot "
                      f"between them ({g['clip_grasp_point'][0]:.1f}, {g['clip_grasp_point'][1]:.1f}).", ""]
            if g.get("clip_picture"):
                pic = _rel(work, g["clip_picture"])
                lines += [f"![clip: swept finger area, gripper region, grasp point]({pic})", ""]
        lines += [f"Method: {g['method']}.", "",
                  f"Frames: {g['frames']}; placed by appearance: {g['appearance']}; by the geometric estimate: "
                  f"{g['geometry']}; no gripper found: {g['no_gripper']}.", ""]
        if g.get("sheet"):
            lines += [f"![gripper on harvested frames]({_rel(work, g['sheet'])})", ""]
    c = s.get("composite")
    lines += ["## 3. Fine-tuning pairs", ""]
    if not c:
        lines += ["Not run yet.", ""]
    else:
        lines += [f"{c['finished']} pairs in `{_rel(work, c['root'])}` ({c.get('static_made', 0)} motion-stop pairs "
                  f"made in the last run), size {c['size'][0]}x{c['size'][1]}; objects: {c['objects']}; "
                  f"backgrounds: {c['backgrounds']}.", ""]
        if c.get("plates"):
            lines += [f"Background plates of your scene (robot removed; {100 * c.get('plate_share', 0):.0f}% of the "
                      "pairs are composited onto them):", ""]
            lines += [f"- `{v}`: from {p['frames']} frames, {100 * p['inpainted']:.1f}% inpainted "
                      f"![{v}]({_rel(work, Path(c['root']).parent / 'plates' / (v + '.jpg'))})"
                      for v, p in c["plates"].items()] + [""]
        if c.get("sheet"):
            lines += [f"![pairs]({_rel(work, c['sheet'])})", ""]
    f = s.get("finetune")
    lines += ["## 4. Fine-tuning", ""]
    if not f:
        lines += ["Not run yet.", ""]
    else:
        lines += [f"Base `{f['base']}` ({f['base_head']} head{', recurrent' if f['base_recurrent'] else ''}) -> "
                  f"**`{f['model']}`** (semantic head: {', '.join(f['classes'])}).", ""]
        lines += [f"Stage configs: {', '.join(f'`{c}`' for c in f.get('configs', []))} (with adapt's overrides).", ""]
        for st in f["stages"]:
            state = "kept from an earlier run" if st.get("skipped") else ("resumed" if st.get("resumed") else "trained")
            lines += [f"- {st['stage']} stage ({state}): `{_rel(work, st['export'])}`"]
            if st.get("curves"):
                lines += ["", f"![{st['stage']} training curves]({_rel(work, st['curves'])})", ""]
            if st.get("preview"):
                lines += [f"![{st['stage']} model on validation pairs]({_rel(work, st['preview'])})", ""]
        lines += ["", f"Label this robot's recordings with `distinctnet label --checkpoint {f['model']} ...`.", ""]
    return "\n".join(lines) + "\n"


def write_report(work: str | Path) -> Path:
    work = Path(work)
    path = work / "report.md"
    atomic_write_bytes(path, render(work, load_summaries(work)).encode())
    return path
