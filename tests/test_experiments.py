"""The paper's experiments as scripts: the merge-position ablation (eval/ablation.py) and the downstream
segmenter comparison (eval/downstream.py), end to end on tiny generated trees (64x96, a moving square and a
two-part robot on noise), a few training steps each."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from distinctnet.layout import VideoWriter

SIZE = (64, 96)


def make_tree(root: Path, videos: int, frames: int = 5, seed: int = 0, prefix: str = "vid") -> Path:
    """Noise background; a coloured square (distractor) moving right; arm + gripper moving down, holding
    a small object below the gripper."""
    rng = np.random.default_rng(seed)
    h, w = SIZE
    for v in range(videos):
        bg = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(8, h - 24))
        colour = rng.integers(0, 256, 3, dtype=np.uint8)
        with VideoWriter(root, f"{prefix}{v:02d}", source="test") as wr:
            for t in range(frames):
                img = bg.copy()
                square = np.zeros((h, w), bool)
                x = (x0 + 5 * t) % (w - 16)
                square[y0:y0 + 14, x:x + 14] = True
                img[square] = colour
                arm, grip, obj = (np.zeros((h, w), bool) for _ in range(3))
                ry = 2 + (3 * t) % (h // 2)
                arm[ry:ry + 10, w - 20:w - 8] = True
                grip[ry + 10:ry + 15, w - 20:w - 8] = True
                obj[ry + 15:ry + 20, w - 18:w - 10] = True
                img[arm], img[grip], img[obj] = (200, 40, 40), (40, 200, 40), (40, 40, 220)
                wr.write(img, {"arm": arm, "gripper": grip, "object": obj,
                               "distractor": square & ~arm & ~grip & ~obj})
    return root


@pytest.fixture(scope="module")
def trees(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("trees")
    return {"train": make_tree(base / "train", videos=4, seed=0),
            "test": make_tree(base / "test", videos=2, seed=1, prefix="held")}


# -- ablation ---------------------------------------------------------------------------------------------
def ablation_args(trees, work: Path, variants: str, *extra: str) -> list[str]:
    return ["--train", str(trees["train"]), "--test", str(trees["test"]), "--work", str(work),
            "--variants", variants, "--budget-steps", "2", "--size", f"{SIZE[0]}x{SIZE[1]}",
            "--batch-size", "2", "--num-workers", "0", "--bench-runs", "2", "--bench-warmup", "1",
            "--override=--trainer.logger=false", "--override=--plot=false", "--quiet", *extra]


def test_ablation_trains_two_variants_and_prints_the_table(trees, tmp_path, capsys, monkeypatch):
    from distinctnet.modeling import DistinctNet, ModelConfig, load_checkpoint
    from eval import ablation

    work = tmp_path / "work"
    out_json = tmp_path / "ablation.json"
    assert ablation.main(ablation_args(trees, work, "global-layer3,local-layer2", "--json", str(out_json))) == 0
    printed = capsys.readouterr().out
    header = "| " + " | ".join(ablation.COLUMNS) + " |"
    assert header in printed
    assert "| global-layer3 | global correlation | ResBlock-3 |" in printed
    assert "| local-layer2 | local correlation | ResBlock-2 |" in printed

    res = json.loads(out_json.read_text())
    assert [r["variant"] for r in res["variants"]] == ["global-layer3", "local-layer2"]
    assert res["settings"]["budget_steps"] == 2 and res["machine"]
    for r in res["variants"]:
        # the parameter count is the count of the network the variant's settings build
        cfg = ModelConfig.preset("fast", merge=r["merge"], merge_after=r["merge_after"], encoder="resnet18",
                                 input_size=SIZE)
        assert r["params"] == DistinctNet(cfg).num_parameters()
        model = load_checkpoint(r["export"])
        assert model.cfg.merge == r["merge"] and model.cfg.merge_after == r["merge_after"]
        assert model.cfg.input_size == SIZE
        assert model.meta["global_step"] == 2  # the same budget for every variant
        assert f"| {r['params'] / 1e6:.2f} |" in printed
        for k in ("test_bg_iou", "test_fg_iou", "test_miou", "val_fg_iou"):
            assert r[k] is not None and 0.0 <= r[k] <= 100.0, (k, r[k])
        assert r["test_miou"] == pytest.approx((r["test_bg_iou"] + r["test_fg_iou"]) / 2)
        assert r["ms_per_pair"] > 0 and r["test_frames"] == 2 * 5
        # the labeller wrote a layout tree of the held-out videos
        assert sorted(p.name for p in (Path(r["pred_root"]) / "mask").iterdir()) == ["held00", "held01"]
    # the two variants differ in what the table is about
    assert res["variants"][0]["params"] != res["variants"][1]["params"]

    # resume: both exports exist, so nothing is trained again and the cached results are reused
    import training.cli

    def no_training(argv, run=True):
        raise AssertionError(f"retrained: {argv[:4]}")

    monkeypatch.setattr(training.cli, "train", no_training)
    mtimes = {r["variant"]: Path(r["export"]).stat().st_mtime_ns for r in res["variants"]}
    again = ablation.run_ablation(ablation.build_parser().parse_args(
        ablation_args(trees, work, "local-layer2,global-layer3")))
    assert [r["variant"] for r in again["variants"]] == ["local-layer2", "global-layer3"]
    assert not any(r["trained_now"] for r in again["variants"])
    assert {r["variant"]: Path(r["export"]).stat().st_mtime_ns for r in again["variants"]} == mtimes
    by_name = {r["variant"]: r for r in res["variants"]}
    for r in again["variants"]:
        assert r["test_miou"] == by_name[r["variant"]]["test_miou"]


def test_ablation_resume_trains_only_the_missing_variant(trees, tmp_path, monkeypatch):
    from distinctnet.modeling import load_checkpoint
    from eval import ablation

    work = tmp_path / "work"
    # a finished variant: its export exists (here, a copy of a network with the variant's settings)
    from distinctnet.modeling import DistinctNet, ModelConfig, save_checkpoint

    done = ablation.VARIANTS["coattention-layer2"]
    cfg = ModelConfig.preset("fast", merge=done.merge, merge_after=done.merge_after, input_size=SIZE)
    export = work / done.name / "model.safetensors"
    save_checkpoint(DistinctNet(cfg), export, meta={"global_step": 2})
    args = ablation.build_parser().parse_args(ablation_args(trees, work, "coattention-layer2,global-aspp"))
    stamp = ablation._stamp(ablation.train_argv(done, args, work / done.name / "run", export))
    (work / done.name / "train_settings.json").write_text(stamp)
    import training.cli

    calls = []
    real = training.cli.train

    def counting(argv, run=True):
        calls.append(argv)
        return real(argv, run)

    monkeypatch.setattr(training.cli, "train", counting)
    out = ablation.run_ablation(args)
    assert len(calls) == 1 and "--model.net.merge_after=aspp" in calls[0]
    trained = {r["variant"]: r["trained_now"] for r in out["variants"]}
    assert trained == {"coattention-layer2": False, "global-aspp": True}
    # another budget: the finished variant's export no longer fits, so it is trained again
    calls.clear()
    args = ablation.build_parser().parse_args(ablation_args(trees, work, "coattention-layer2", "--budget-steps", "1"))
    out = ablation.run_ablation(args)
    assert len(calls) == 1 and out["variants"][0]["trained_now"]
    assert load_checkpoint(export).meta["global_step"] == 1


def test_ablation_bad_variant_is_one_line(trees, tmp_path, capsys):
    from eval import ablation

    assert ablation.main(ablation_args(trees, tmp_path / "w", "global-layer9")) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("ablation: error: --variants: unknown variant 'global-layer9'") and "\n" not in err


# -- downstream -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def labeller(tmp_path_factory) -> Path:
    """A semantic DistinctNet (random weights) that labels robot, gripper and object."""
    import torch

    from distinctnet.modeling import DistinctNet, ModelConfig, save_checkpoint

    torch.manual_seed(0)
    cfg = ModelConfig.preset("fast", head="semantic", classes=("foreground", "robot", "gripper", "object"),
                             input_size=SIZE)
    path = tmp_path_factory.mktemp("ckpt") / "sem.safetensors"
    save_checkpoint(DistinctNet(cfg), path)
    return path


def downstream_args(trees, work: Path, ckpt: Path, *extra: str) -> list[str]:
    return ["--train", str(trees["train"]), "--test", str(trees["test"]), "--work", str(work),
            "--checkpoint", str(ckpt), "--steps", "3", "--batch-size", "2", "--size", "64x96", "--quiet", *extra]


def test_downstream_runs_both_arms_and_scores_them(trees, labeller, tmp_path, capsys, monkeypatch):
    from distinctnet.layout import Recording
    from eval import downstream

    work = tmp_path / "work"
    assert downstream.main(downstream_args(trees, work, labeller)) == 0
    printed = capsys.readouterr().out
    assert "| single-frame DeepLabV3+ trained on | robot IoU | arm IoU | gripper IoU | object IoU | mIoU |" in printed
    out = json.loads((work / "downstream.json").read_text())
    assert set(out["arms"]) == {"auto", "gt"}
    assert out["settings"]["scored"] == ["robot", "arm", "gripper", "object"]
    for arm, r in out["arms"].items():
        assert r["mean_iou"] is not None and math.isfinite(r["mean_iou"])
        for c, v in r["iou"].items():
            assert v is not None and 0.0 <= v <= 100.0, (arm, c, v)
        assert r["frames"] == 2 * 5 and math.isfinite(r["final_loss"])
        pred = Recording(r["pred_root"])  # the single-frame model's masks, in the layout
        assert pred.videos == ["held00", "held01"] and pred.num_frames("held00") == 5
        assert pred.read_mask("held00", "robot", 0).shape == SIZE
    # the two arms learnt from different labels: the auto-labels of a random labeller are not the GT
    assert out["arms"]["auto"]["labels"] != out["arms"]["gt"]["labels"]
    assert out["autolabels"]["iou_vs_gt"]["robot"] < 90.0
    assert out["arms"]["auto"]["final_loss"] != out["arms"]["gt"]["final_loss"]

    # rerun: labels, weights and predictions are reused, nothing is trained again
    def no_training(*a, **k):
        raise AssertionError("retrained")

    monkeypatch.setattr(downstream, "train_segmenter", no_training)
    assert downstream.main(downstream_args(trees, work, labeller)) == 0
    again = json.loads((work / "downstream.json").read_text())
    assert {a: r["iou"] for a, r in again["arms"].items()} == {a: r["iou"] for a, r in out["arms"].items()}


def test_downstream_segmenter_learns_the_robot_from_gt(trees, tmp_path):
    """The training loop is real: 30 steps on the clean synthetic task and the held-out robot is found."""
    from distinctnet.device import resolve_device
    from distinctnet.layout import Recording
    from eval import downstream
    from eval.score import score

    args = downstream.build_parser().parse_args(["--train", "x", "--test", "y", "--work", "z", "--steps", "30",
                                                 "--batch-size", "4", "--size", "64x96", "--lr", "3e-3", "--quiet"])
    cpu = resolve_device("cpu")
    videos = Recording(trees["train"]).videos
    model, losses = downstream.train_segmenter(trees["train"], trees["train"], videos, ("robot",), args, cpu, "t")
    assert len(losses) == 30 and np.mean(losses[-5:]) < np.mean(losses[:5])
    pred = downstream.predict_tree(model, trees["test"], ["held00", "held01"], ("robot",), args.size,
                                   tmp_path / "pred", cpu, 4, True)
    iou = score(trees["test"], pred, parts=("robot",), progress=False)["iou"]["robot"]["iou"]
    assert iou > 50.0  # ~79 here after 30 steps


def test_downstream_motion_labeller_is_a_clear_error(trees, tmp_path, capsys):
    from distinctnet.modeling import DistinctNet, ModelConfig, save_checkpoint
    from eval import downstream

    ckpt = tmp_path / "motion.safetensors"
    save_checkpoint(DistinctNet(ModelConfig.preset("fast", input_size=SIZE)), ckpt)
    assert downstream.main(downstream_args(trees, tmp_path / "w", ckpt)) == 1
    err = capsys.readouterr().err.strip()
    assert "gives no robot, gripper, object masks" in err and "\n" not in err
