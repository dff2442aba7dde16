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
    for p in ("harvest/harvest.png", "gripper/gripper.png", "pairs/pairs.png", "report.md", "train/semantic/model.safetensors"):
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
