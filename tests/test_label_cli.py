"""`distinctnet label` end to end: outputs, motion-only meta, resume after a kill, shards, overwrite, Ray,
and each bad input as a one-line error."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from distinctnet.layout import Recording, validate
from test_label_support import (label, make_bag, make_frames, make_video, motion_ckpt,  # noqa: F401
                                one_thread, save_tiny, semantic_ckpt)


def tree_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != ".meta.lock"}


def one_line_error(rc: int, err: str, *needles: str) -> None:
    assert rc == 1, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("distinctnet label: error: ")
    for n in needles:
        assert n in last, last


def test_label_video_with_all_exports(tmp_path, semantic_ckpt, capsys):
    video = make_video(tmp_path / "pick.mp4", n=6)
    out = tmp_path / "out"
    rc, err = label([video, "--out", out, "--checkpoint", semantic_ckpt, "--batch", "4",
                     "--export", "robotseg,sam2,coco,overlay"], capsys)
    assert rc == 0, err
    assert validate(out) == []
    rec = Recording(out)
    meta = rec.video_meta("pick")
    assert meta["frames"] == 6 and meta["source"] == str(video.resolve())
    assert meta["annotated_parts"] == ["arm", "gripper", "robot", "object", "distractor"]
    assert meta["checkpoint_sha256"] and meta["model_head"] == "semantic"
    with open(out / "quality" / "pick.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["frame"]) for r in rows] == list(range(6))
    assert {"review", "arm_margin", "arm_area", "distractor_margin"} <= set(rows[0])
    assert meta["review_frames"] == sum(int(r["review"]) for r in rows)
    for fmt in ("robotseg", "sam2", "coco", "overlay"):
        assert (out / "exports" / fmt / ".done" / "pick.json").is_file()
    for i in range(6):  # arm = robot & ~gripper
        m = rec.read_masks("pick", i)
        assert np.array_equal(m["arm"], m["robot"] & ~m["gripper"])


def test_motion_only_checkpoint(tmp_path, motion_ckpt, capsys):
    frames = make_frames(tmp_path / "frames", n=4)
    out = tmp_path / "out"
    rc, err = label([frames, "--out", out, "--checkpoint", motion_ckpt, "--export", "coco"], capsys)
    assert rc == 0, err
    rec = Recording(out)
    meta = rec.video_meta("frames")
    assert meta["annotated_parts"] == ["foreground"] and meta["foreground_written_to"] == "robot"
    for i in range(4):
        m = rec.read_masks("frames", i)
        assert np.array_equal(m["arm"], m["robot"]) and not m["gripper"].any() and not m["object"].any()
    header = (out / "quality" / "frames.csv").read_text().splitlines()[0]
    assert "foreground_margin" in header
    coco = json.loads((out / "exports" / "coco" / "frames.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["foreground"]


def test_interrupted_run_resumes_to_identical_files(tmp_path, semantic_ckpt, capsys, monkeypatch):
    inputs = tmp_path / "inputs.txt"
    make_video(tmp_path / "a.mp4", n=5)
    make_bag(tmp_path / "b", n=7, encoding="jpeg")
    inputs.write_text("a.mp4\nb\n")
    args = ["--checkpoint", semantic_ckpt, "--batch", "2", "--export", "robotseg,coco"]
    rc, err = label([inputs, "--out", tmp_path / "ref", *args], capsys)
    assert rc == 0, err

    from distinctnet.label import pipeline

    real_row = pipeline.QualityRecorder.make_row

    def dying_row(self, frame, split):  # a kill in the middle of the second video
        if frame == 4 and "b" in {p.name for p in (tmp_path / "out" / "image").iterdir()}:
            raise KeyboardInterrupt
        return real_row(self, frame, split)

    monkeypatch.setattr(pipeline.QualityRecorder, "make_row", dying_row)
    rc, err = label([inputs, "--out", tmp_path / "out", *args], capsys)
    assert rc == 130
    assert (tmp_path / "out" / "mask" / "b" / "002" / "00003.png").is_file()
    assert not (tmp_path / "out" / "meta.d" / "b.json").exists()
    (tmp_path / "out" / "image" / "b" / "00099.jpg").write_bytes(b"stale")  # leftovers are removed too
    monkeypatch.setattr(pipeline.QualityRecorder, "make_row", real_row)
    a_mtime = (tmp_path / "out" / "mask" / "a" / "000" / "00000.png").stat().st_mtime_ns
    rc, err = label([inputs, "--out", tmp_path / "out", *args], capsys)
    assert rc == 0, err
    assert "1 already done" in err
    assert (tmp_path / "out" / "mask" / "a" / "000" / "00000.png").stat().st_mtime_ns == a_mtime  # skipped
    ref, got = tree_files(tmp_path / "ref"), tree_files(tmp_path / "out")
    assert sorted(ref) == sorted(got)
    assert all(ref[k] == got[k] for k in ref), [k for k in ref if ref[k] != got[k]]


def test_sigkill_and_resume(tmp_path, semantic_ckpt, capsys):
    video = make_video(tmp_path / "long.mp4", n=24)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "distinctnet.cli", "label", str(video), "--out", str(out),
           "--checkpoint", str(semantic_ckpt), "--batch", "1", "-q", "--device", "cpu"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE)
    target = out / "mask" / "long" / "004" / "00003.png"
    deadline = time.time() + 120
    while not target.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if not target.exists():
        pytest.skip("the labeller did not get going before the deadline")
    partial = len(list((out / "image" / "long").glob("*.jpg")))
    assert not (out / "meta.d" / "long.json").exists() and partial < 24
    assert label([video, "--out", out, "--checkpoint", semantic_ckpt], capsys)[0] == 0  # resume
    ref = tmp_path / "ref"
    assert label([video, "--out", ref, "--checkpoint", semantic_ckpt], capsys)[0] == 0
    a, b = tree_files(out), tree_files(ref)
    assert sorted(a) == sorted(b) and all(a[k] == b[k] for k in a)
    assert not list(out.rglob("*.tmp"))


def test_shards_merge_into_one_tree(tmp_path, semantic_ckpt, capsys):
    for k in range(3):
        make_video(tmp_path / f"v{k}.mp4", n=3)
    lst = tmp_path / "all.txt"
    lst.write_text("v0.mp4\nv1.mp4\nv2.mp4\n")
    out = tmp_path / "out"
    for shard in ("0/2", "1/2"):
        rc, err = label([lst, "--out", out, "--checkpoint", semantic_ckpt, "--shard", shard], capsys)
        assert rc == 0, err
    assert Recording(out).videos == ["v0", "v1", "v2"]
    assert json.loads((out / "meta.json").read_text())["videos"].keys() == {"v0", "v1", "v2"}
    rc, err = label([lst, "--out", out, "--checkpoint", semantic_ckpt, "--shard", "2/2"], capsys)
    one_line_error(rc, err, "--shard")


def test_other_checkpoint_needs_overwrite(tmp_path, semantic_ckpt, capsys):
    video = make_video(tmp_path / "clip.mp4", n=3)
    out = tmp_path / "out"
    assert label([video, "--out", out, "--checkpoint", semantic_ckpt], capsys)[0] == 0
    other = save_tiny(tmp_path / "other.safetensors", head="semantic", classes=("robot", "gripper"))
    rc, err = label([video, "--out", out, "--checkpoint", other], capsys)
    one_line_error(rc, err, "another checkpoint", "--overwrite")
    assert Recording(out).video_meta("clip")["annotated_parts"][0] == "arm" and validate(out) == []  # kept
    rc, err = label([video, "--out", out, "--checkpoint", other, "--overwrite", "--export", "sam2"], capsys)
    assert rc == 0, err
    assert Recording(out).video_meta("clip")["annotated_parts"] == ["arm", "gripper", "robot"]
    assert validate(out) == []


def test_tta_and_input_size_recorded_and_other_settings_need_overwrite(tmp_path, semantic_ckpt, capsys):
    video = make_video(tmp_path / "clip.mp4", n=3)
    out = tmp_path / "out"
    rc, err = label([video, "--out", out, "--checkpoint", semantic_ckpt, "--tta", "flip", "--input-size", "64x96"],
                    capsys)
    assert rc == 0, err
    assert Recording(out).video_meta("clip")["labeller"] == {"tta": "flip", "input_size": [64, 96],
                                                             "reference": "motion", "gap": 2,
                                                             "second_size": [80, 128],  # 64x96 x 4/3
                                                             "refine": "both", "small_parts": "larger",
                                                             "unmoved": "drop"}
    flipped = Recording(out).read_masks("clip", 1)
    rc, err = label([video, "--out", out, "--checkpoint", semantic_ckpt], capsys)
    one_line_error(rc, err, "other labeller settings", "--overwrite")
    rc, err = label([video, "--out", out, "--checkpoint", semantic_ckpt, "--tta", "flip", "--input-size", "64x96",
                     "--reference", "previous"], capsys)
    one_line_error(rc, err, "other labeller settings", "--overwrite")
    old = tmp_path / "old"  # an output made before --reference, --gap, --second-scale, --refine: the error says how to resume
    as_before = ["--reference", "previous", "--gap", "1", "--second-scale", "1", "--refine", "none"]
    assert label([video, "--out", old, "--checkpoint", semantic_ckpt] + as_before, capsys)[0] == 0
    assert not {"reference", "gap", "second_size", "refine"} & set(Recording(old).video_meta("clip")["labeller"])
    one_line_error(*label([video, "--out", old, "--checkpoint", semantic_ckpt], capsys),
                   "--reference previous --gap 1 --second-scale 1 --refine none --small-parts first (as it was labelled)")
    assert label([video, "--out", old, "--checkpoint", semantic_ckpt] + as_before, capsys)[0] == 0  # nothing to do
    before = tmp_path / "before"  # labelled before --small-parts larger became the default (2026-12-02)
    assert label([video, "--out", before, "--checkpoint", semantic_ckpt, "--small-parts", "first"], capsys)[0] == 0
    assert "small_parts" not in Recording(before).video_meta("clip")["labeller"]
    one_line_error(*label([video, "--out", before, "--checkpoint", semantic_ckpt], capsys),
                   "--small-parts first (as it was labelled)")
    still = tmp_path / "still"  # labelled before --unmoved drop became the default (2026-12-08)
    assert label([video, "--out", still, "--checkpoint", semantic_ckpt, "--unmoved", "keep"], capsys)[0] == 0
    assert "unmoved" not in Recording(still).video_meta("clip")["labeller"]
    one_line_error(*label([video, "--out", still, "--checkpoint", semantic_ckpt], capsys),
                   "--unmoved keep (as it was labelled)")
    rc, err = label([video, "--out", out, "--checkpoint", semantic_ckpt, "--overwrite"], capsys)
    assert rc == 0, err
    assert Recording(out).video_meta("clip")["labeller"]["tta"] == "none"
    assert set(Recording(out).read_masks("clip", 1)) == set(flipped)
    rc, err = label([video, "--out", tmp_path / "o2", "--checkpoint", semantic_ckpt, "--input-size", "10"], capsys)
    one_line_error(rc, err, "--input-size", "HxW")
    rc, err = label([video, "--out", tmp_path / "z", "--checkpoint", semantic_ckpt, "--zoom", "2"], capsys)
    assert rc == 0, err
    assert Recording(tmp_path / "z").video_meta("clip")["labeller"]["zoom"] == 2.0
    one_line_error(*label([video, "--out", tmp_path / "z", "--checkpoint", semantic_ckpt], capsys),
                   "other labeller settings")
    one_line_error(*label([video, "--out", tmp_path / "z2", "--checkpoint", semantic_ckpt, "--zoom", "1"], capsys),
                   "--zoom")


def test_bad_inputs_are_one_line_errors(tmp_path, semantic_ckpt, capsys):
    ck = ["--checkpoint", semantic_ckpt]
    one_frame = make_frames(tmp_path / "single", n=1)
    one_line_error(*label([one_frame, "--out", tmp_path / "o1", *ck], capsys), "single", "1 frame(s)")
    assert not (tmp_path / "o1" / "image" / "single").exists()  # no half-written video
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(os.urandom(4000))
    one_line_error(*label([bad, "--out", tmp_path / "o2", *ck], capsys), "bad.mp4", "cannot open video")
    nobag = make_bag(tmp_path / "noimg", n=2, encoding=None)
    one_line_error(*label([nobag, "--out", tmp_path / "o3", *ck], capsys), "noimg", "no image topics")
    one_line_error(*label([tmp_path / "missing.mkv", "--out", tmp_path / "o4", *ck], capsys), "no such file")
    one_line_error(*label([bad, "--out", tmp_path / "o5", *ck, "--export", "pdf"], capsys), "pdf")


def test_several_inputs_one_failing(tmp_path, semantic_ckpt, capsys):
    make_video(tmp_path / "good.mp4", n=3)
    make_frames(tmp_path / "short", n=1)
    lst = tmp_path / "l.txt"
    lst.write_text("short\ngood.mp4\n")
    rc, err = label([lst, "--out", tmp_path / "out", "--checkpoint", semantic_ckpt], capsys)
    one_line_error(rc, err, "1 of 2 video(s) failed", "short")
    assert Recording(tmp_path / "out").videos == ["good"]  # the others are still labelled


def test_checkpoint_errors(tmp_path, capsys, monkeypatch):
    video = make_video(tmp_path / "clip.mp4", n=3)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(os.urandom(1000))
    one_line_error(*label([video, "--out", tmp_path / "o", "--checkpoint", junk], capsys), "junk.safetensors")
    import torch
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(foreign))
    one_line_error(*label([video, "--out", tmp_path / "o", "--checkpoint", foreign], capsys), "not a distinctnet")
    newer = tmp_path / "newer.safetensors"
    save_file({"w": torch.zeros(2)}, str(newer), metadata={"format": "distinctnet", "format_version": "99",
                                                           "config": "{}"})
    one_line_error(*label([video, "--out", tmp_path / "o", "--checkpoint", newer], capsys), "version")
    from distinctnet.label import model

    monkeypatch.setattr(model, "DEFAULT_CHECKPOINT", tmp_path / "assets" / "default.safetensors")
    one_line_error(*label([video, "--out", tmp_path / "o"], capsys), "default checkpoint is missing")
    monkeypatch.setattr(model, "SAMPLE_RECORDING", tmp_path / "assets" / "sample.mp4")
    from distinctnet.label import app

    monkeypatch.setattr(app, "SAMPLE_RECORDING", tmp_path / "assets" / "sample.mp4")
    one_line_error(*label(["--out", tmp_path / "o"], capsys), "sample recording is missing")


def test_disk_full_is_one_line_and_leaves_no_partial_files(tmp_path, semantic_ckpt, capsys, monkeypatch):
    import errno

    import distinctnet.io as dio

    video = make_video(tmp_path / "clip.mp4", n=6)
    out = tmp_path / "out"
    real_os, calls = dio.os, {"n": 0}

    class FullDisk:  # os, except that writes fail with ENOSPC after 20 files
        def __getattr__(self, name):
            return getattr(real_os, name)

        def fdopen(self, fd, mode="r", *a, **k):
            f = real_os.fdopen(fd, mode, *a, **k)
            calls["n"] += 1
            if calls["n"] > 20:
                f.write = lambda data: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device"))
            return f

    monkeypatch.setattr(dio, "os", FullDisk())
    rc, err = label([video, "--out", out, "--checkpoint", semantic_ckpt], capsys)
    one_line_error(rc, err, "no space left on device")
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert not (out / "image" / "clip").exists() and not (out / "mask" / "clip").exists()
    monkeypatch.setattr(dio, "os", real_os)
    assert label([video, "--out", out, "--checkpoint", semantic_ckpt], capsys)[0] == 0
    assert validate(out) == []


def test_ray_two_workers(tmp_path, semantic_ckpt, capsys):
    pytest.importorskip("ray")
    for k in range(3):
        make_video(tmp_path / f"r{k}.mp4", n=3)
    lst = tmp_path / "corpus.txt"
    lst.write_text("r0.mp4\nr1.mp4\nr2.mp4\n")
    out = tmp_path / "out"
    rc, err = label([lst, "--out", out, "--checkpoint", semantic_ckpt, "--device", "cpu", "--ray", "2",
                     "--export", "coco"], capsys)
    assert rc == 0, err
    assert Recording(out).videos == ["r0", "r1", "r2"] and validate(out) == []
    assert "3 video(s) labelled" in err
    assert all((out / "exports" / "coco" / f"r{k}.json").is_file() for k in range(3))


def test_python_api_label_recordings(tmp_path, semantic_ckpt):
    from distinctnet.errors import UserError
    from distinctnet.label.runner import label_recordings
    from distinctnet.layout import VideoWriter
    from test_label_support import frame

    for v in ("cam_a", "cam_b"):
        with VideoWriter(tmp_path / "gt", v) as w:
            for i in range(3):
                w.write(frame(i), {})
    info = label_recordings(tmp_path / "gt", tmp_path / "pred", checkpoint=semantic_ckpt, device="cpu")
    assert info["pairs"] == 6 and info["labelled"] == ["cam_a", "cam_b"] and info["parameters"] > 0
    assert Recording(tmp_path / "pred").videos == ["cam_a", "cam_b"]  # names kept: trees can be scored
    with pytest.raises(UserError, match="input tree itself"):
        label_recordings(tmp_path / "gt", tmp_path / "gt", checkpoint=semantic_ckpt, device="cpu")
    assert len(list((tmp_path / "gt" / "image" / "cam_a").glob("*.jpg"))) == 3
    with pytest.raises(UserError, match="checkpoint not found"):
        label_recordings(tmp_path / "gt", tmp_path / "p2", checkpoint=tmp_path / "none.safetensors")


def test_unwritable_output_is_one_line(tmp_path, semantic_ckpt, capsys):
    video = make_video(tmp_path / "clip.mp4", n=3)
    (tmp_path / "file").write_text("x")
    one_line_error(*label([video, "--out", tmp_path / "file", "--checkpoint", semantic_ckpt], capsys),
                   "not a folder")
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        one_line_error(*label([video, "--out", ro, "--checkpoint", semantic_ckpt], capsys), "ermission")
    finally:
        ro.chmod(0o700)


def test_writer_threads_give_the_same_files(tmp_path, semantic_ckpt, capsys):
    from distinctnet.label.pipeline import OrderedPool

    pool = OrderedPool(3)
    got = []
    for k in range(20):
        got += pool.submit(lambda x: (time.sleep(0.001 * (k % 3)), x)[1], k)
    assert got + pool.drain() == list(range(20))  # results in submission order
    pool.close()

    video = make_video(tmp_path / "clip.mp4", n=9)
    for w in ("0", "3"):
        rc, err = label([video, "--out", tmp_path / f"w{w}", "--checkpoint", semantic_ckpt, "--batch", "2",
                         "--write-workers", w], capsys)
        assert rc == 0, err
    a, b = tree_files(tmp_path / "w0"), tree_files(tmp_path / "w3")
    assert sorted(a) == sorted(b) and all(a[k] == b[k] for k in a)
    assert Recording(tmp_path / "w3").num_frames("clip") == 9
