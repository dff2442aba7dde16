"""The network: correlations against naive loops, sizes, merge points, recurrence, checkpoints, weights."""
import json

import pytest
import torch
import torch.nn.functional as F

from distinctnet.errors import UserError
from distinctnet.modeling import DistinctNet, ModelConfig, load_checkpoint, read_header, save_checkpoint
from distinctnet.modeling.corr import CoAttention, GlobalCorrelation, LocalCorrelation

torch.manual_seed(0)
TINY = dict(encoder="resnet18", aspp_channels=32, decoder_channels=32)


def tiny(**kw) -> ModelConfig:
    return ModelConfig(**{**TINY, "input_size": (64, 96), **kw})


def _l2(v):
    return v / v.norm().clamp_min(1e-12)


def test_global_correlation_matches_naive_loop():
    f1, f2 = torch.randn(2, 5, 3, 4), torch.randn(2, 5, 3, 4)
    out = GlobalCorrelation((3, 4))(f1, f2)
    ref = torch.zeros(2, 12, 3, 4)
    for b in range(2):
        for y in range(3):
            for x in range(4):
                for j in range(12):  # channel j = reference position (j // 4, j % 4)
                    ref[b, j, y, x] = max(0.0, float(_l2(f1[b, :, y, x]) @ _l2(f2[b, :, j // 4, j % 4])))
                ref[b, :, y, x] = _l2(ref[b, :, y, x])
    assert out.shape == (2, 12, 3, 4)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_local_correlation_matches_naive_loop():
    r = 2
    f1, f2 = torch.randn(1, 4, 5, 6), torch.randn(1, 4, 5, 6)
    out = LocalCorrelation(r)(f1, f2)
    ref = torch.zeros(1, (2 * r + 1) ** 2, 5, 6)
    for y in range(5):
        for x in range(6):
            k = 0
            for dy in range(-r, r + 1):
                for dx in range(-r, r + 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < 5 and 0 <= xx < 6:  # outside the frame: zero padding
                        ref[0, k, y, x] = max(0.0, float(_l2(f1[0, :, y, x]) @ _l2(f2[0, :, yy, xx])))
                    k += 1
            ref[0, :, y, x] = _l2(ref[0, :, y, x])
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_local_correlation_peaks_at_the_true_displacement():
    f2 = torch.randn(1, 16, 12, 12)
    f1 = torch.roll(f2, shifts=(1, -2), dims=(2, 3))  # target(y, x) = reference(y - 1, x + 2)
    out = LocalCorrelation(3)(f1, f2)
    best = out[0, :, 5, 5].argmax().item()
    assert divmod(best, 7) == (3 - 1, 3 + 2)


def test_coattention_is_a_weighted_average_of_reference_features():
    op = CoAttention(8)
    f1, f2 = torch.randn(1, 8, 3, 3), torch.randn(1, 8, 3, 3)
    out = op(f1, f2)
    assert out.shape == (1, 8, 3, 3)
    # with W = 0 the attention is uniform: every position gets the reference mean
    torch.nn.init.zeros_(op.weight.weight)
    torch.testing.assert_close(op(f1, f2), f2.mean((2, 3), keepdim=True).expand(1, 8, 3, 3), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("size", [(64, 96), (96, 160), (128, 80)])
def test_local_correlation_model_runs_at_any_size(size):
    model = DistinctNet(tiny(merge="local", corr_radius=2, output_stride=16)).eval()
    x = torch.rand(2, 3, *size)
    with torch.no_grad():
        logits, state = model(x, x.flip(0))
    assert logits.shape == (2, 2, *size) and state is None


@pytest.mark.parametrize("merge_after", ["layer1", "layer2", "layer3", "layer4", "aspp"])
@pytest.mark.parametrize("merge", ["global", "local", "coattention"])
def test_every_merge_point_and_op_builds_and_runs(merge, merge_after):
    cfg = tiny(merge=merge, merge_after=merge_after, output_stride=8, head="semantic")
    model = DistinctNet(cfg).eval()
    with torch.no_grad():
        logits, _ = model(torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96))
    assert logits.shape == (1, 5, 64, 96)


def test_global_correlation_channels_follow_the_reference_arithmetic():
    model = DistinctNet(ModelConfig.preset("paper"))
    assert model.merge.op.out_channels == 52 * 92 == 4784
    assert model.merge.reduce[0].in_channels == 5808


def test_paper_preset_parameter_count_matches_reference():
    motion = DistinctNet(ModelConfig.preset("paper")).num_parameters()
    recurrent = DistinctNet(ModelConfig.preset("paper", recurrent=True)).num_parameters()
    assert abs(motion - 67.1e6) / 67.1e6 < 0.01
    assert abs(recurrent - 80.4e6) / 80.4e6 < 0.01


def test_recurrent_state_carries_within_and_resets_between_sequences():
    model = DistinctNet(tiny(merge="local", head="semantic", recurrent=True)).eval()
    a, b = torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        first, state = model(a, b)
        fresh, _ = model(b, a)                      # second pair, no history
        carried, state2 = model(b, a, state)        # second pair, with history
        assert not torch.allclose(fresh, carried, atol=1e-4), "state has no effect"
        # reset sample 0 only: it behaves like a new sequence, sample 1 keeps its history
        reset = model.reset_state(state, torch.tensor([True, False]))
        mixed, _ = model(b, a, reset)
    torch.testing.assert_close(mixed[0], fresh[0], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mixed[1], carried[1], atol=1e-5, rtol=1e-4)
    detached = model.detach_state(state2)
    assert all(not t.requires_grad for s in detached for t in s)


def test_recurrent_state_backpropagates_through_time_until_detached():
    model = DistinctNet(tiny(merge="local", head="semantic", recurrent=True))
    x = torch.rand(2, 3, 64, 96)  # batch > 1: ASPP's pooling branch has BatchNorm on 1x1 maps
    _, s = model(x, x)
    logits, _ = model(x, x, s)
    logits.sum().backward()
    g_through = model.decoder.aspp_cell.gates.weight.grad.clone()
    model.zero_grad()
    _, s = model(x, x)
    logits, _ = model(x, x, model.detach_state(s))
    logits.sum().backward()
    assert not torch.allclose(g_through, model.decoder.aspp_cell.gates.weight.grad)


def test_save_load_gives_identical_outputs(tmp_path):
    model = DistinctNet(tiny(merge="global", head="semantic", recurrent=True, classes=("robot", "gripper"))).eval()
    # make BN statistics non-trivial so that they must round-trip too
    model.train()
    with torch.no_grad():
        model(torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96))
    model.eval()
    path = tmp_path / "m.safetensors"
    save_checkpoint(model, path, meta={"stage": "test"})
    loaded = load_checkpoint(path)
    assert loaded.cfg == model.cfg and loaded.meta["stage"] == "test"
    x, y = torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        a, sa = model(x, y)
        b, sb = loaded(x, y)
        a2, _ = model(y, x, sa)
        b2, _ = loaded(y, x, sb)
    assert torch.equal(a, b) and torch.equal(a2, b2)
    # half-precision files load back close to the original
    save_checkpoint(model, tmp_path / "h.safetensors", dtype=torch.float16)
    with torch.no_grad():
        c, _ = load_checkpoint(tmp_path / "h.safetensors")(x, y)
    assert (tmp_path / "h.safetensors").stat().st_size < 0.6 * path.stat().st_size
    torch.testing.assert_close(c, a, atol=0.05, rtol=0.05)
    # the export CLI does the same to one of our files, keeping its meta
    from training.export import main as export_main

    assert export_main([str(path), str(tmp_path / "e.safetensors"), "--fp16"]) == 0
    e = load_checkpoint(tmp_path / "e.safetensors")
    assert e.cfg == model.cfg and e.meta["stage"] == "test" and e.meta["weights_dtype"] == "float16"
    assert (tmp_path / "e.safetensors").stat().st_size < 0.6 * path.stat().st_size
    with torch.no_grad():
        torch.testing.assert_close(e(x, y)[0], a, atol=0.05, rtol=0.05)


def test_export_average_is_the_mean_of_the_weights(tmp_path):
    from training.export import main as export_main

    torch.manual_seed(0)
    a, b = DistinctNet(tiny()), DistinctNet(tiny())
    with torch.no_grad():  # BatchNorm statistics too, not only the parameters
        for m in (a, b):
            for buf in m.buffers():
                if buf.is_floating_point():
                    buf.uniform_(0.5, 2.0)
    save_checkpoint(a, tmp_path / "a.safetensors", meta={"stage": "a"})
    save_checkpoint(b, tmp_path / "b.safetensors", meta={"stage": "b"})
    out = tmp_path / "soup" / "s.safetensors"
    assert export_main([str(tmp_path / "a.safetensors"), str(out), "--average", str(tmp_path / "b.safetensors")]) == 0
    s = load_checkpoint(out)
    sa, sb, ss = a.state_dict(), b.state_dict(), s.state_dict()
    for k, v in ss.items():
        if v.is_floating_point():
            torch.testing.assert_close(v, (sa[k] + sb[k]) / 2)
    assert any(not torch.equal(ss[k], sa[k]) for k in ss if ss[k].is_floating_point())
    assert s.meta["stage"] == "a" and s.meta["averaged"] == [str(tmp_path / "a.safetensors"),
                                                             str(tmp_path / "b.safetensors")]
    # --calibration-from: the thresholds and review margins of another checkpoint, same classes only
    cal = {"thresholds": {c: 0.1 * (k + 1) for k, c in enumerate(a.cfg.classes)}, "thresholds_from": "set x",
           "review_margins": {a.cfg.classes[0]: 0.2}}
    save_checkpoint(b, tmp_path / "cal.safetensors", meta={"stage": "b", **cal})
    assert export_main([str(tmp_path / "a.safetensors"), str(tmp_path / "t.safetensors"),
                        "--calibration-from", str(tmp_path / "cal.safetensors")]) == 0
    t = load_checkpoint(tmp_path / "t.safetensors")
    assert {k: t.meta.get(k) for k in cal} == cal and t.meta["stage"] == "a"
    torch.testing.assert_close(t.state_dict(), a.state_dict())
    assert export_main([str(tmp_path / "a.safetensors"), str(tmp_path / "y.safetensors"),   # no thresholds there
                        "--calibration-from", str(tmp_path / "b.safetensors")]) == 1
    other = DistinctNet(tiny(classes=["foreground", "robot"]))
    save_checkpoint(other, tmp_path / "o.safetensors", meta={"thresholds": {"foreground": 0.5, "robot": 0.4}})
    assert export_main([str(tmp_path / "a.safetensors"), str(tmp_path / "y.safetensors"),
                        "--calibration-from", str(tmp_path / "o.safetensors")]) == 1
    assert not (tmp_path / "y.safetensors").exists()
    # another network cannot be averaged in: a one-line error naming the file
    save_checkpoint(DistinctNet(tiny(decoder_channels=16)), tmp_path / "c.safetensors")
    assert export_main([str(tmp_path / "a.safetensors"), str(tmp_path / "x.safetensors"),
                        "--average", str(tmp_path / "c.safetensors")]) == 1
    assert not (tmp_path / "x.safetensors").exists()


def test_export_averages_local_models_across_input_sizes_and_stores_the_second_scale(tmp_path):
    from training.export import main as export_main

    torch.manual_seed(0)
    big = DistinctNet(tiny(merge="local", input_size=(96, 128)))  # local merge: any input size
    small = DistinctNet(tiny(merge="local"))
    save_checkpoint(big, tmp_path / "big.safetensors", meta={"stage": "big"})
    save_checkpoint(small, tmp_path / "small.safetensors", meta={"stage": "small"})
    out = tmp_path / "s.safetensors"
    assert export_main([str(tmp_path / "big.safetensors"), str(out), "--average", str(tmp_path / "small.safetensors"),
                        "--second-scale", "0.75"]) == 0
    s = load_checkpoint(out)
    assert s.cfg.input_size == (96, 128) and s.meta["second_scale"] == 0.75 and s.meta["stage"] == "big"
    sb, sm = big.state_dict(), small.state_dict()
    for k, v in s.state_dict().items():
        if v.is_floating_point():
            torch.testing.assert_close(v, (sb[k] + sm[k]) / 2)
    assert export_main([str(out), str(tmp_path / "bad.safetensors"), "--second-scale", "5"]) == 1
    assert export_main([str(out), str(tmp_path / "bad.safetensors"), "--label-input-size", "100x96"]) == 1
    assert not (tmp_path / "bad.safetensors").exists()
    assert export_main([str(out), str(tmp_path / "l.safetensors"), "--label-input-size", "128x160"]) == 0
    lab = load_checkpoint(tmp_path / "l.safetensors")
    assert lab.meta["label_input_size"] == [128, 160] and lab.meta["second_scale"] == 0.75  # the rest of meta kept
    # a global correlation is built for one input size: two sizes cannot be averaged
    save_checkpoint(DistinctNet(tiny(merge="global")), tmp_path / "g1.safetensors")
    save_checkpoint(DistinctNet(tiny(merge="global", input_size=(96, 128))), tmp_path / "g2.safetensors")
    assert export_main([str(tmp_path / "g1.safetensors"), str(tmp_path / "g.safetensors"),
                        "--average", str(tmp_path / "g2.safetensors")]) == 1
    assert export_main([str(tmp_path / "g1.safetensors"), str(tmp_path / "g.safetensors"), "--second-scale", "2"]) == 1
    assert not (tmp_path / "g.safetensors").exists()


def test_bad_checkpoints_give_one_line_errors(tmp_path):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00not a checkpoint at all" * 10)
    with pytest.raises(UserError, match="not a distinctnet checkpoint"):
        load_checkpoint(junk)
    with pytest.raises(UserError, match="not found"):
        load_checkpoint(tmp_path / "missing.safetensors")
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(UserError, match="without a distinctnet header"):
        read_header(other)
    future = tmp_path / "future.safetensors"
    save_file({"w": torch.zeros(2)}, str(future),
              metadata={"format": "distinctnet", "format_version": "99", "config": tiny().to_json()})
    with pytest.raises(UserError, match="version 99"):
        load_checkpoint(future)


def test_encoder_weights_load_from_a_local_file(tmp_path):
    import torchvision

    tv = torchvision.models.resnet18(weights=None)  # stands in for an ImageNet file: same keys, incl. fc.*
    path = tmp_path / "resnet18.pth"
    torch.save(tv.state_dict(), path)
    model = DistinctNet(tiny(encoder_weights=str(path)))
    assert torch.equal(model.siamese["stem"][0].weight, tv.conv1.weight)
    assert torch.equal(model.trunk["layer4"][1].conv2.weight, tv.layer4[1].conv2.weight)
    with pytest.raises(UserError, match="not found"):
        DistinctNet(tiny(encoder_weights=str(tmp_path / "nope.pth")))
    torch.save({"conv1.weight": torch.zeros(3)}, tmp_path / "bad.pth")
    with pytest.raises(UserError, match="not weights for this encoder"):
        DistinctNet(tiny(encoder_weights=str(tmp_path / "bad.pth")))


def test_config_rejects_nonsense_and_roundtrips():
    with pytest.raises(UserError):
        ModelConfig(encoder="vgg16")
    with pytest.raises(UserError):
        ModelConfig(merge_after="layer5")
    with pytest.raises(UserError):
        ModelConfig(head="semantic", classes=("robot", "cat"))
    with pytest.raises(UserError, match="unknown preset"):
        ModelConfig.preset("huge")
    cfg = ModelConfig.preset("fast", head="semantic", recurrent=True)
    assert ModelConfig.from_dict(json.loads(cfg.to_json())) == cfg


def test_frozen_siamese_encoder_gets_no_gradient_but_the_rest_does():
    model = DistinctNet(tiny(merge="local", head="semantic"))
    for p in model.siamese.parameters():
        p.requires_grad_(False)
    logits, _ = model(torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96))
    F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits)).backward()
    assert all(p.grad is None for p in model.siamese.parameters())
    assert model.merge.reduce[0].weight.grad is not None


def test_bench_cli_prints_and_writes_json(tmp_path, capsys):
    from distinctnet.cli import main

    out = tmp_path / "b.json"
    assert main(["bench", "--preset", "fast", "--size", "64x96", "--runs", "2", "--warmup", "1",
                 "--mode", "video", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ms per pair" in printed and "pairs/s" in printed
    res = json.loads(out.read_text())
    assert res["params"] > 1e6 and res["pairs_per_s"] > 0 and res["size"] == [64, 96]
    # the network's count, not that of the CPU copy with folded batch norms
    assert res["params"] == DistinctNet(ModelConfig.preset("fast")).num_parameters()
    with pytest.raises(SystemExit) as e:
        main(["bench", "--size", "12x9"])
    assert e.value.code == 2 and "between 32 and 8192" in capsys.readouterr().err


def test_bench_label_mode_runs_the_labelling_benchmark(tmp_path, capsys):
    from distinctnet.cli import main
    from distinctnet.modeling import DistinctNet

    ckpt = tmp_path / "m.safetensors"
    save_checkpoint(DistinctNet(tiny(merge="local", head="semantic")).eval(), ckpt)
    out = tmp_path / "l.json"
    assert main(["bench", "--label", "--checkpoint", str(ckpt), "--runs", "1", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["pairs_per_s"] > 0


@pytest.mark.parametrize("encoder", ["resnet18", "resnet50"])
def test_folding_batch_norms_keeps_the_outputs(encoder):
    from distinctnet.device import prepare_for_inference
    from distinctnet.modeling.fold import count_batchnorms, fold_batchnorm

    model = DistinctNet(tiny(encoder=encoder, head="semantic", output_stride=16)).eval()
    g = torch.Generator().manual_seed(1)
    for m in model.modules():  # statistics far from the identity, so that a missed or wrong fold shows
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=g) * 0.2)
    n_bn = count_batchnorms(model)
    x, r = torch.rand(2, 3, 64, 96), torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        ref, _ = model(x, r)
        folded = fold_batchnorm(model)
        assert count_batchnorms(folded) == 0 and count_batchnorms(model) == n_bn > 20
        got, _ = folded(x, r)
        ready = prepare_for_inference(model, torch.device("cpu"))
        lay, _ = ready(x.contiguous(memory_format=torch.channels_last), r)
        again, _ = model(x, r)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(lay, ref, atol=1e-4, rtol=1e-4)
    assert torch.equal(again, ref) and count_batchnorms(ready) == 0  # the model itself is left alone
