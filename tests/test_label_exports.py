"""Exports re-read the way their consumers read them: RobotSeg tree, SAM 2 palette PNGs, COCO RLE, overlays."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from distinctnet.layout import PART_NAMES, Recording, VideoWriter
from distinctnet.label.exports import export_video, parse_formats
from distinctnet.errors import UserError
from test_label_support import H, W, frame, one_thread  # noqa: F401

N = 6


def masks_for(i: int) -> dict[str, np.ndarray]:
    """Robot absent in frames 0-1 (leading empty frames), then arm + gripper; object from frame 3; a
    distractor in every frame (partly overlapping the object in frame 4)."""
    m = {p: np.zeros((H, W), bool) for p in ("arm", "gripper", "object", "distractor")}
    if i >= 2:
        m["arm"][5:20, 5 + i:25 + i] = True
        m["gripper"][20:28, 10 + i:20 + i] = True
    if i >= 3:
        m["object"][28:36, 12 + i:18 + i] = True
    m["distractor"][38:46, 40:50 - (4 if i != 4 else -2)] = True
    if i == 4:
        m["distractor"][30:36, 14 + i:17 + i] = True  # under the object: object wins in SAM 2
    return m


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "out"
    with VideoWriter(root, "clip_1", source="test") as w:
        for i in range(N):
            w.write(frame(i), masks_for(i))
    (root / "quality").mkdir()
    (root / "quality" / "clip_1.csv").write_text("frame,review,reason\n" + "".join(
        f"{i},{int(i == 3)},\n" for i in range(N)))
    return root


def test_robotseg_tree(tree, caplog):
    assert export_video(tree, "clip_1", ["robotseg"]) == ["robotseg"]
    dest = tree / "exports" / "robotseg"
    assert "frames 0-1" in caplog.text  # leading empty frames dropped, with a warning
    kept = N - 2
    images = sorted(p.name for p in (dest / "image" / "clip_1").iterdir())
    assert images == [f"{j:05d}.jpg" for j in range(kept)]
    rec = Recording(tree)
    for part, pid in (("arm", "000"), ("gripper", "001"), ("robot", "002")):
        pngs = sorted(p.name for p in (dest / "mask_gt" / "clip_1" / pid).iterdir())
        assert pngs == [n.replace(".jpg", ".png") for n in images]
        for j in range(kept):
            m = cv2.imread(str(dest / "mask_gt" / "clip_1" / pid / f"{j:05d}.png"), cv2.IMREAD_UNCHANGED)
            assert m.ndim == 2 and set(np.unique(m)) <= {0, 255}
            assert np.array_equal(m > 127, rec.read_mask("clip_1", part, j + 2))
    first = cv2.imread(str(dest / "mask_gt" / "clip_1" / "002" / "00000.png"), cv2.IMREAD_GRAYSCALE)
    assert first.any()  # RobotSeg's first frame is not empty
    assert json.loads((dest / ".done" / "clip_1.json").read_text())["first_frame"] == 2


def test_sam2_palette(tree):
    from PIL import Image

    export_video(tree, "clip_1", ["sam2"])
    dest = tree / "exports" / "sam2"
    for i in range(N):
        im = Image.open(dest / "Annotations" / "clip_1" / f"{i:05d}.png")
        assert im.mode == "P"
        idx = np.array(im)
        m = masks_for(i)
        want = np.zeros((H, W), np.uint8)
        want[m["arm"]] = 1
        want[m["gripper"]] = 2
        want[m["distractor"]] = 4
        want[m["object"]] = 3
        assert np.array_equal(idx, want)
        assert (dest / "JPEGImages" / "clip_1" / f"{i:05d}.jpg").is_file()
    assert im.getpalette()[3:6] == [128, 0, 0]


def test_coco_rle_round_trip(tree):
    from pycocotools import mask as mask_utils

    export_video(tree, "clip_1", ["coco"])
    coco = json.loads((tree / "exports" / "coco" / "clip_1.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert sorted(names.values()) == sorted(PART_NAMES)
    assert len(coco["images"]) == N and len(coco["annotations"]) == N * 5
    assert coco["images"][3]["file_name"] == "clip_1/00003.jpg"
    rec = Recording(tree)
    for ann in coco["annotations"]:
        img = next(im for im in coco["images"] if im["id"] == ann["image_id"])
        rle = dict(ann["segmentation"], counts=ann["segmentation"]["counts"].encode())
        got = mask_utils.decode(rle).astype(bool)
        want = rec.read_mask("clip_1", names[ann["category_id"]], img["frame_index"])
        assert np.array_equal(got, want) and ann["area"] == int(want.sum())


def test_overlay_video_and_contact_sheet(tree):
    import av

    export_video(tree, "clip_1", ["overlay"])
    dest = tree / "exports" / "overlay"
    with av.open(str(dest / "clip_1.mp4")) as c:
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    assert len(frames) == N and frames[0].shape == (H, W, 3)
    # the gripper is drawn in green over frame 3
    g = masks_for(3)["gripper"]
    assert frames[3][g][:, 1].mean() > frames[3][g][:, 0].mean()
    sheet = cv2.imread(str(dest / "clip_1_sheet.png"))
    assert sheet is not None and sheet.shape[1] == 4 * 320


def test_export_resume_and_format_errors(tree):
    assert export_video(tree, "clip_1", ["coco", "sam2"]) == ["coco", "sam2"]
    assert export_video(tree, "clip_1", ["coco", "sam2"]) == []  # done markers: skipped on resume
    assert export_video(tree, "clip_1", ["coco"], redo=True) == ["coco"]
    assert parse_formats("robotseg, SAM2,coco") == ["robotseg", "sam2", "coco"]
    with pytest.raises(UserError, match="unknown format.*davis"):
        parse_formats("sam2,davis")
