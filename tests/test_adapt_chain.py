"""adapt end to end: the `distinctnet adapt` command with a tiny real model and a tiny training budget."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from distinctnet.cli import main
from distinctnet.modeling import DistinctNet, ModelConfig, load_checkpoint, read_header, save_checkpoint
from test_adapt_support import robot_frames, write_frames, write_mp4

TINY = dict(input_size=(64, 96), aspp_channels=16, decoder_channels=16)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A tiny motion model whose foreground probability is 0.9 everywhere (decoder head: zero weights, biases
    0 and 2.2): the harvest keeps every frame when the area and border rules are relaxed."""
    torch.manual_seed(0)
    model = DistinctNet(ModelConfig.preset("fast", **TINY))
    with torch.no_grad():
        model.decoder.head.weight.zero_()
        model.decoder.head.bias.copy_(torch.tensor([0.0, 2.2]))
    path = tmp_path_factory.mktemp("base") / "base.safetensors"
    save_checkpoint(model, path)
    return path


def test_model_predictor_gives_the_models_foreground(base):
    from distinctnet.adapt.harvest import model_predictor

    predict, info = model_predictor(base, "cpu", batch=2)
    frames = [f[0] for f in robot_frames(3)]
    out = list(predict(iter(frames)))
    assert len(out) == 3 and info["head"] == "motion"
    for (rgb, p), f in zip(out, frames):
        assert rgb is f and p.shape == f.shape[:2]
        np.testing.assert_allclose(p, 1 / (1 + np.exp(-2.2)), atol=1e-4)


def test_whole_chain_writes_a_model_that_loads(tmp_path, base, capsys):
    frames = [f[0] for f in robot_frames(12)]
    rec = write_mp4(tmp_path / "my robot.mp4", frames)
    out = tmp_path / "adapted.safetensors"
    argv = ["adapt", "--robot", str(rec), "--checkpoint", str(base), "--out", str(out), "--pairs", "6",
            "--max-area", "1", "--no-border-rule", "--epochs", "1", "--max-steps", "2", "--train-batch", "2",
            "--train-workers", "0", "--device", "cpu", "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "harvest: 12 of 12 frames kept" in err and "gripper ESTIMATED" in err and "-> " + str(out) in err
    model = load_checkpoint(out)
    base_cfg = read_header(base)["config"]
    assert model.cfg.head == "semantic" and model.cfg.classes == ("foreground", "robot", "gripper", "object",
                                                                     "distractor")
    assert model.cfg.input_size == tuple(base_cfg["input_size"]) and model.cfg.encoder == base_cfg["encoder"]
    assert model.meta["adapt"]["base_checkpoint"] == str(base) and model.meta["adapt"]["gripper"] == "estimated"
    work = tmp_path / "adapted-adapt"
    for p in ("harvest/harvest.png", "gripper/gripper.png", "pairs/pairs.png", "report.md",
              "train/semantic/model.safetensors"):
        assert (work / p).is_file(), p
    report = (work / "report.md").read_text()
    assert "12 of 12 frames kept" in report and "ESTIMATED" in report and "semantic stage (trained)" in report
    # fine-tuned weights differ from the base's where they were copied and trained (the frozen siamese part is equal)
    base_sd, sd = load_checkpoint(base).state_dict(), model.state_dict()
    assert torch.equal(sd["siamese.layer1.0.conv1.weight"], base_sd["siamese.layer1.0.conv1.weight"])
    changed = [k for k in sd if k.startswith("trunk.") and sd[k].is_floating_point() and k in base_sd
               and not torch.equal(sd[k], base_sd[k])]
    assert changed
    # a rerun of the finetune step keeps the finished stage
    assert main(argv[:1] + ["finetune"] + argv[1:]) == 0
    assert "semantic stage (kept from an earlier run)" in (work / "report.md").read_text()
    with torch.no_grad():
        logits, _ = model(torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96))
    assert logits.shape == (1, 5, 64, 96)


def test_command_errors_are_one_line(tmp_path, base, capsys):
    frames = [f[0] for f in robot_frames(12)]
    static = write_frames(tmp_path / "static", [frames[0]] * 12)
    assert main(["adapt", "--robot", str(static), "--checkpoint", str(base), "--out", str(tmp_path / "m.safetensors"),
                 "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("distinctnet adapt: error:") and "nothing moves" in err and len(err.splitlines()) == 1
    assert main(["adapt", "harvest", "--checkpoint", str(base), "--work", str(tmp_path / "w")]) == 1
    assert "--robot" in capsys.readouterr().err
    assert main(["adapt", "composite", "--work", str(tmp_path / "empty")]) == 1
    assert "run `distinctnet adapt harvest` first" in capsys.readouterr().err


def test_adapt_experiment_before_and_after(tmp_path, base, capsys):
    import json
    import shutil

    from distinctnet.layout import VideoWriter
    from eval.adapt_experiment import main as experiment
    from test_adapt_support import background, render

    root = tmp_path / "rendered"
    for k, name in enumerate(("robot_a", "robot_b", "robot_c")):
        bg = background(k)
        with VideoWriter(root, name, source="test") as w:
            for t in range(12):
                rgb, arm, grip, _ = render(-0.4 + 0.05 * t + 0.1 * k, 0.3 * np.sin(t / 4), 6.0, bg)
                w.write(rgb, {"arm": arm, "gripper": grip})
    shutil.rmtree(root / "mask" / "robot_a")  # the user recording's ground truth must never be needed
    argv = ["--root", str(root), "--user", "robot_a", "--work", str(tmp_path / "work"), "--checkpoint", str(base),
            "--pairs", "4", "--max-area", "1", "--no-border-rule", "--epochs", "1", "--max-steps", "1",
            "--train-batch", "2", "--train-workers", "0", "--device", "cpu", "--quiet"]
    assert experiment(argv) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "held out: robot_b, robot_c" in printed and "IoU before" in printed and "gripper" in printed
    res = json.loads((tmp_path / "work" / "adapt_experiment.json").read_text())
    assert res["user_videos"] == ["robot_a"] and res["held_out_videos"] == ["robot_b", "robot_c"]
    # the base model says "foreground everywhere": its robot IoU is the robot's share of the frame
    assert 0 < res["before"]["iou"]["robot"]["iou"] < 20
    assert set(res["after"]["iou"]) == set(res["before"]["iou"]) and res["after"]["summary"]["videos"] == 2
    # the chain's own labels are scored against the user recordings' truth only where there is one
    assert res["chain_labels"]["videos"] == {} and res["chain_labels"]["robot_iou"] is None


@pytest.mark.parametrize("head,recurrent", [("motion", True), ("semantic", False)])
def test_stage_plan_follows_the_base(tmp_path, head, recurrent):
    """A recurrent base gets the semantic stage and then the recurrent stage from its export; the training
    package's CLI accepts the overrides and builds the base's network with a semantic head."""
    from distinctnet.adapt.finetune import config_family, plan_stages, shipped_config
    from training.cli import train

    cfg = ModelConfig.preset("fast", head=head, recurrent=recurrent, classes=("foreground", "robot"), **TINY)
    path = tmp_path / "base.safetensors"
    save_checkpoint(DistinctNet(cfg), path, meta={"stage_config": "training/configs/paper-recurrent.yaml"})
    header = read_header(path)
    assert config_family(header["meta"], "cpu") == "paper" and config_family({}, "cpu") == "cpu-small"
    plan = plan_stages(header["config"], str(path), tmp_path, shipped_config("cpu-small-semantic.yaml"),
                       shipped_config("cpu-small-recurrent.yaml"), epochs=1, max_steps=1, accelerator="cpu",
                       batch_size=2, num_workers=0, progress=False, overrides=[])
    assert [p[0] for p in plan] == (["semantic", "recurrent"] if recurrent else ["semantic"])
    if recurrent:
        assert f"--model.init_from={plan[0][3]}" in plan[1][1]
    assert ("--model.init_skip=[]" in plan[0][1]) == (head == "semantic" and not recurrent)
    (tmp_path / "pairs").mkdir()
    cli = train(plan[0][1], run=False)
    net = cli.model.net
    assert net.cfg.head == "semantic" and not net.cfg.recurrent and net.cfg.input_size == TINY["input_size"]
    assert net.cfg.classes == (("foreground", "robot") if head == "semantic" else
                               ("foreground", "robot", "gripper", "object", "distractor"))
    assert cli.trainer.max_steps == 1 and cli.datamodule.roots == [str(tmp_path / "pairs"), str(tmp_path / "harvest")]


def test_pairs_are_made_anew_when_the_harvest_changes(tmp_path):
    from distinctnet.adapt.gripper import gripper_step
    from distinctnet.adapt.harvest import harvest
    from distinctnet.adapt.pairs import composite_step
    from distinctnet.layout import Recording
    from test_adapt_support import clip_frames, gt_predictor

    robot = robot_frames(12)
    rec = write_frames(tmp_path / "rec" / "arm_a", [f[0] for f in robot])
    work = tmp_path / "work"
    harvest([str(rec)], work, predict=gt_predictor([f[1] for f in robot]), progress=False)
    with pytest.raises(Exception, match="run `distinctnet adapt gripper` first"):
        composite_step(work, 3, size=(48, 64), progress=False)
    gripper_step(work, None, progress=False)
    first = composite_step(work, 3, size=(48, 64), progress=False)
    assert first["made"] == 3 and (work / "pairs" / "pairs.png").is_file()
    pairs = Recording(work / "pairs")
    assert any(pairs.read_mask(v, "gripper", 0).any() for v in pairs.videos)  # the harvested gripper is pasted
    again = composite_step(work, 3, size=(48, 64), progress=False)
    assert again["made"] == 0 and again["skipped"] == 3                        # same harvest: kept
    gripper_step(work, str(write_frames(tmp_path / "clip", [f[0] for f in clip_frames()])), progress=False)
    changed = composite_step(work, 3, size=(48, 64), progress=False)
    assert changed["made"] == 3                                                # new grippers: made anew


def test_harvest_truth_scores_the_chains_labels(tmp_path):
    from distinctnet.layout import VideoWriter
    from eval.adapt_experiment import harvest_truth

    rgb = np.zeros((20, 30, 3), np.uint8)
    arm = np.zeros((20, 30), bool)
    arm[5:20, 10:14] = True
    grip = np.zeros_like(arm)
    grip[1:5, 10:14] = True                                  # 16 px: a gripper length of 4
    with VideoWriter(tmp_path / "truth", "robot_a", source="test",
                     extra={"grasp_point": [[12.0, 2.0]] * 3}) as w:
        for _ in range(3):
            w.write(rgb, {"arm": arm, "gripper": grip})
    half = np.zeros_like(grip)
    half[3:5, 10:14] = True                                  # the chain found half the gripper ...
    with VideoWriter(tmp_path / "work" / "harvest", "robot_a", source=str(tmp_path / "truth" / "image" / "robot_a"),
                     annotated_parts=["arm", "gripper", "robot"],
                     extra={"source_frames": [0, 2], "grasp_point": [[12.0, 6.0], [12.0, 6.0]]}) as w:
        for _ in range(2):
            w.write(rgb, {"robot": arm | grip, "gripper": half})
    res = harvest_truth(tmp_path / "truth", tmp_path / "work")
    assert res["robot_iou"] == 100.0 and res["gripper_iou"] == 50.0
    assert res["grasp_error"] == 1.0                         # ... and put the grasp point 4 px = 1 length off
    assert res["videos"]["robot_a"]["frames"] == 2
