"""eval.gpu_bundle: training data packed for a GPU call, and checkpoints cut into parts and joined again."""
from __future__ import annotations

import subprocess

import cv2
import numpy as np
import pytest

from distinctnet.errors import UserError
from distinctnet.layout import PART_NAMES, Recording, VideoWriter


def make_tree(root, videos=2, frames=3, size=(64, 112)):
    rng = np.random.default_rng(0)
    h, w = size
    for v in range(videos):
        with VideoWriter(root, f"r{v}", static_from=2, source="test", extra={"robot": "panda", "seed": v}) as wr:
            for t in range(frames):
                arm = np.zeros(size, bool)
                arm[10 + 4 * t:30 + 4 * t, 20:50] = True
                grip = np.zeros(size, bool)
                grip[30 + 4 * t:36 + 4 * t, 30:40] = True
                wr.write(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), {"arm": arm, "gripper": grip})
    return root


def test_pack_resizes_frames_and_masks_and_keeps_the_meta(tmp_path):
    from eval.gpu_bundle import main

    src = make_tree(tmp_path / "src")
    obj = tmp_path / "objects" / "mug"
    obj.mkdir(parents=True)
    rgba = np.zeros((300, 200, 4), np.uint8)
    rgba[50:250, 40:160] = (0, 0, 255, 255)
    cv2.imwrite(str(obj / "0000.png"), rgba)
    bg = tmp_path / "bg"
    bg.mkdir()
    cv2.imwrite(str(bg / "room.png"), np.full((800, 1000, 3), 90, np.uint8))
    out = tmp_path / "bundle"
    assert main(["pack", "--robots", str(src), "--objects", str(tmp_path / "objects"), "--backgrounds", str(bg),
                 "--out", str(out), "--size", "32x56", "--object-side", "100", "--background-side", "400",
                 "--quiet"]) == 0
    a, b = Recording(src), Recording(out / "robots")
    assert b.videos == a.videos
    for v in a.videos:
        ma, mb = a.video_meta(v), b.video_meta(v)
        assert mb["size"] == [32, 56] and mb["robot"] == "panda" and mb["seed"] == ma["seed"]
        assert mb["frames"] == ma["frames"] and mb["static_from"] == 2 and mb["annotated_parts"] == list(PART_NAMES)
        for t in range(a.num_frames(v)):
            assert b.read_image(v, t).shape == (32, 56, 3)
            for part in PART_NAMES:   # nearest-neighbour halving keeps every other row and column
                assert np.array_equal(b.read_mask(v, part, t), a.read_mask(v, part, t)[::2, ::2])
    assert max(cv2.imread(str(out / "objects" / "mug" / "0000.png"), cv2.IMREAD_UNCHANGED).shape[:2]) == 100
    assert cv2.imread(str(out / "objects" / "mug" / "0000.png"), cv2.IMREAD_UNCHANGED).shape[2] == 4
    assert cv2.imread(str(out / "backgrounds" / "room.jpg")).shape == (320, 400, 3)
    # packing again skips finished videos; a folder that is not a bundle is refused
    assert main(["pack", "--robots", str(src), "--out", str(out), "--quiet"]) == 0
    assert main(["pack", "--robots", str(src), "--out", str(bg), "--quiet"]) == 1


def test_split_and_join_round_trip_and_catch_a_bad_part(tmp_path):
    from eval.gpu_bundle import join, split

    data = np.random.default_rng(1).integers(0, 256, 2500, dtype=np.uint8).tobytes()
    (tmp_path / "m.safetensors").write_bytes(data)
    (tmp_path / "n.bin").write_bytes(b"other")
    back = tmp_path / "back"
    parts = split(tmp_path / "m.safetensors", back, part_bytes=1000)
    split(tmp_path / "n.bin", back, part_bytes=1000)
    assert [p.name for p in parts] == [f"m.safetensors.part0{k}" for k in range(3)]
    assert [len(p.read_bytes()) for p in parts] == [1000, 1000, 500]
    assert len((back / "SHA256SUMS").read_text().splitlines()) == 2
    join(parts, tmp_path / "joined")
    assert (tmp_path / "joined").read_bytes() == data
    with pytest.raises(UserError, match="missing or misnamed"):
        join([parts[0], parts[2]], tmp_path / "x")
    parts[1].write_bytes(parts[1].read_bytes()[:-1])
    with pytest.raises(UserError, match="SHA-256"):
        join(parts, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_travel_bytes_counts_what_a_call_carries(tmp_path):
    from eval.gpu_bundle import travel_bytes

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_text("/big/\n")
    (repo / "tracked.txt").write_bytes(b"a" * 100)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    (repo / "new.txt").write_bytes(b"b" * 10)          # untracked, not ignored: travels
    (repo / "big").mkdir()
    (repo / "big" / "x.bin").write_bytes(b"c" * 1000)  # ignored: travels only when carried
    tree, carried = travel_bytes(repo, [])
    assert tree == 100 + 10 + len("/big/\n") and carried == 0
    assert travel_bytes(repo, ["big"])[1] == 1000
