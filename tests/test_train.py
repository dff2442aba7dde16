"""Training: data (split, pairs, lockstep sequences), the three stages through `distinctnet train`, frozen
parts, exact resume, DDP on CPU, export and plots. Tiny data: a moving square and a moving two-part robot
on noise, 64x96, written with VideoWriter into tmp folders."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from distinctnet.layout import VideoWriter

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "training" / "configs"
SIZE = "[64,96]"


def make_tiny_data(root: Path, videos: int = 4, frames: int = 6, size=(64, 96), seed: int = 0) -> Path:
    """Noise background; a coloured square (distractor) moving right; arm + gripper moving down."""
    rng = np.random.default_rng(seed)
    h, w = size
    for v in range(videos):
        bg = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        x0, y0 = int(rng.integers(0, w // 2)), int(rng.integers(8, h - 24))
        colour = rng.integers(0, 256, 3, dtype=np.uint8)
        with VideoWriter(root, f"vid{v:02d}", source="test") as wr:
            for t in range(frames):
                img = bg.copy()
                square = np.zeros((h, w), bool)
                x = (x0 + 5 * t) % (w - 16)
                square[y0:y0 + 16, x:x + 16] = True
                img[square] = colour
                arm, grip = np.zeros((h, w), bool), np.zeros((h, w), bool)
                ry = 2 + (3 * t) % (h // 2)
                arm[ry:ry + 10, w - 20:w - 8] = True
                grip[ry + 10:ry + 16, w - 20:w - 8] = True
                img[arm], img[grip] = (200, 40, 40), (40, 200, 40)
                wr.write(img, {"arm": arm, "gripper": grip, "distractor": square & ~arm & ~grip})
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_tiny_data(tmp_path_factory.mktemp("data") / "tiny")


@pytest.fixture(scope="module")
def seq_data(tmp_path_factory) -> Path:
    return make_tiny_data(tmp_path_factory.mktemp("seq") / "tiny", videos=6, frames=10)


def common_args(root: Path, data_root: Path, **extra) -> list[str]:
    args = {"data.roots": f"[{data_root}]", "model.net.input_size": SIZE, "trainer.default_root_dir": str(root),
            "data.num_workers": "0", "data.val_fraction": "0.25", "trainer.log_every_n_steps": "1",
            "trainer.enable_progress_bar": "false", "export": str(root / "model.safetensors")}
    args.update(extra)
    return [f"--{k}={v}" for k, v in args.items()]


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# -- data -------------------------------------------------------------------------------------------------
def test_split_is_reproducible_and_by_video(data):
    from training.videos import list_videos, split_videos

    videos = list_videos([str(data)])
    a = split_videos(videos, 0.25, seed=3)
    b = split_videos(list(reversed(videos)), 0.25, seed=3)
    assert a == b
    train, val = a
    assert len(val) == 1 and len(train) == 3
    assert not {v.key for v in train} & {v.key for v in val}
    assert {v.key for v in train} | {v.key for v in val} == {v.key for v in videos}


def test_root_repeats_oversample_one_tree_and_leave_validation_alone(data, tmp_path):
    from distinctnet.errors import UserError
    from training.data import PairData

    small = make_tiny_data(tmp_path / "small", videos=2, frames=6, seed=5)
    kw = dict(batch_size=2, num_workers=0, val_fraction=0.25, input_size=(64, 96), classes=["foreground"])
    plain = PairData(roots=[str(data), str(small)], **kw)
    plain.setup("fit")
    more = PairData(roots=[str(data), str(small)], root_repeats=[1, 3], **kw)
    more.setup("fit")
    assert more.val_videos == plain.val_videos
    count = lambda vids, root: sum(v.root == str(root) for v in vids)  # noqa: E731
    assert count(more.train_videos, data) == count(plain.train_videos, data)
    assert count(more.train_videos, small) == 3 * count(plain.train_videos, small) > 0
    assert len(more.train_dataloader().dataset) > len(plain.train_dataloader().dataset)
    for bad in ([1], [1, 0], [1, 1.5]):
        with pytest.raises(UserError, match="root_repeats"):
            PairData(roots=[str(data), str(small)], root_repeats=bad, **kw)


def test_pair_labels_are_the_target_frames_foreground(data):
    from distinctnet.layout import Recording, foreground
    from training.augment import AugmentConfig
    from training.pairs import PairDataset
    from training.videos import FrameReader, list_videos

    videos = list_videos([str(data)])
    reader = FrameReader(videos, ("foreground", "robot", "gripper", "distractor"))
    ds = PairDataset(reader, (64, 96), train=False)
    rec = Recording(data)
    for i in (0, 5, 7):
        vi, t = ds.items[i]
        s = ds[i]
        fg = foreground(rec.read_masks(videos[vi].name, t))
        assert np.array_equal(s["labels"][0].numpy().astype(bool), fg)
        assert s["target"].shape == (3, 64, 96) and 0 <= s["target"].min() and s["target"].max() <= 1
        assert not s["static"] and not np.array_equal(s["target"].numpy(), s["reference"].numpy())
    # static-scene simulation: the reference is the target frame itself, the label stays
    static = PairDataset(reader, (64, 96), AugmentConfig(enabled=False), train=True, static_prob=1.0)
    s = static[3]
    assert s["static"] and np.array_equal(s["target"].numpy(), s["reference"].numpy())
    assert s["labels"][0].sum() > 0


def test_lockstep_sampler_streams_resets_and_motion_stops():
    from training.sequences import NEW, REFERENCE, TARGET, VIDEO, LockstepSampler

    frames = [9, 12, 7, 10, 11, 8]
    kw = dict(batch_size=2, chunk=3, seq_len=4, gap=1, stop_prob=0.5, seed=1, num_replicas=2)
    ranks = [LockstepSampler(frames, rank=r, **kw) for r in range(2)]
    chunks = [list(s) for s in ranks]
    assert len(chunks[0]) == len(chunks[1]) > 0  # DDP needs the same number of batches on every rank
    seen = set()
    for rank_chunks in chunks:
        steps = np.concatenate(rank_chunks, axis=1)  # B x T x 5: each element walks its own stream
        assert steps.shape[0] == 2
        for stream in steps:
            for j, (v, t, r, new, _) in enumerate(stream):
                assert 0 <= r <= t < frames[v]
                if j > 0 and not new:  # inside a window: same video, next frame or a motion stop
                    pv, pt = stream[j - 1, VIDEO], stream[j - 1, TARGET]
                    assert v == pv and (t == pt + 1 or t == r == pt)
                if new:
                    assert r == t - 1  # a window starts with real motion
                seen.add((int(v), int(t), int(r)) if t != r else None)
    seen.discard(None)
    # the two ranks never share a (video, frame) step
    sets = [{(int(v), int(t)) for c in rc for s in c for v, t, r, *_ in s if t != r} for rc in chunks]
    assert not sets[0] & sets[1]
    # motion stops: from the cut on, target == reference == the cut frame
    steps = np.concatenate([np.concatenate(c, axis=1) for c in chunks], axis=0).reshape(-1, 5)
    stopped = steps[steps[:, TARGET] == steps[:, REFERENCE]]
    assert len(stopped) > 0 and not stopped[:, NEW].any()
    # epochs differ, a fixed (validation) sampler does not
    s = LockstepSampler(frames, rank=0, **kw)
    first = np.concatenate(list(s), axis=1)
    s.set_epoch(1)
    assert not np.array_equal(first, np.concatenate(list(s), axis=1)[:, :first.shape[1]])
    fixed = LockstepSampler(frames, rank=0, fixed=True, **kw)
    a = np.concatenate(list(fixed), axis=1)
    fixed.set_epoch(5)
    assert np.array_equal(a, np.concatenate(list(fixed), axis=1))


# -- stages -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def motion_run(tmp_path_factory, data):
    from training.cli import train

    root = tmp_path_factory.mktemp("motion")
    argv = [str(CONFIGS / "cpu-small-motion.yaml"),
            *common_args(root, data, **{"trainer.max_epochs": "4", "data.augment.enabled": "false",
                                        "data.static_prob": "0.0"})]
    assert train(argv) == 0
    return root, argv


def test_motion_training_lowers_the_loss(motion_run):
    root, _ = motion_run
    rows = read_csv(next(root.glob("csv/version_*/metrics.csv")))
    epoch_loss = [float(r["train/loss_epoch"]) for r in rows if r.get("train/loss_epoch")]
    assert len(epoch_loss) == 4
    assert epoch_loss[-1] < 0.8 * epoch_loss[0], epoch_loss
    ious = [float(r["val/iou_foreground"]) for r in rows if r.get("val/iou_foreground")]
    assert len(ious) == 4 and all(0 <= x <= 1 for x in ious)
    assert (next(root.glob("csv/version_*/curves.png"))).stat().st_size > 1000
    sheet = next(root.glob("csv/version_*/preview.png"))
    import cv2

    img = cv2.imread(str(sheet))
    assert img.shape[1] == 3 * 96 and img.shape[0] > 64  # frame | ground truth | prediction, 64x96 rows


def test_export_loads_with_load_checkpoint(motion_run):
    import torch

    from distinctnet.modeling import load_checkpoint

    root, _ = motion_run
    model = load_checkpoint(root / "model.safetensors")
    assert model.cfg.head == "motion" and model.cfg.input_size == (64, 96)
    best = next((root / "checkpoints").glob("best-*.ckpt"))
    sd = torch.load(best, map_location="cpu", weights_only=False)["state_dict"]
    for k, v in model.state_dict().items():
        assert torch.equal(v, sd["net." + k]), k
    assert model.meta["monitor"] == "val/miou" and 0 <= model.meta["best_score"] <= 1
    logits, _ = model(torch.rand(1, 3, 64, 96), torch.rand(1, 3, 64, 96))
    assert logits.shape == (1, 2, 64, 96)


def test_semantic_stage_frozen_parts_and_bn_stats_do_not_move(tmp_path, data):
    import pytorch_lightning as pl
    import torch

    from distinctnet.modeling import DistinctNet, ModelConfig, save_checkpoint
    from training.data import PairData
    from training.module import DistinctNetModule

    pl.seed_everything(0)
    motion = DistinctNet(ModelConfig.preset("fast", input_size=(64, 96)))
    save_checkpoint(motion, tmp_path / "motion.safetensors")
    module = DistinctNetModule(preset="fast", net={"input_size": [64, 96], "head": "semantic"},
                               init_from=str(tmp_path / "motion.safetensors"), init_skip=["decoder.head"],
                               freeze=["siamese"], lr={"aspp": 1e-2, "decoder": 1e-2, "merge": 1e-2})
    net = module.net
    # started from the motion weights, except the last conv
    assert torch.equal(net.merge.reduce[0].weight, motion.merge.reduce[0].weight)
    assert net.decoder.head.weight.shape[0] == 5
    frozen = {k: v.clone() for k, v in net.siamese.state_dict().items()}
    assert any(k.endswith("running_mean") for k in frozen)
    merge_bn = net.merge.reduce[1].running_mean.clone()
    trainable = net.decoder.convs[0][0].weight.clone()

    module.train()
    assert not net.siamese.training and all(not m.training for m in net.siamese.modules())
    assert net.merge.training and net.decoder.training

    dm = PairData(roots=[str(data)], batch_size=2, num_workers=0, val_fraction=0.25)
    trainer = pl.Trainer(max_steps=3, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=1,
                         limit_val_batches=1)
    trainer.fit(module, dm)
    for k, v in net.siamese.state_dict().items():
        assert torch.equal(v, frozen[k]), f"frozen siamese.{k} changed"
    assert all(not p.requires_grad for p in net.siamese.parameters())
    # the same training moves what is not frozen (the check above could fail)
    assert not torch.equal(net.merge.reduce[1].running_mean, merge_bn)
    assert not torch.equal(net.decoder.convs[0][0].weight, trainable)
    groups = trainer.optimizers[0].param_groups
    assert {g["name"]: g["lr"] for g in groups} == {"encoder": 1e-4, "merge": 1e-2, "aspp": 1e-2, "decoder": 1e-2}
    assert sum(len(g["params"]) for g in groups) == sum(p.requires_grad for p in net.parameters())


def test_recurrent_state_is_reset_where_a_sequence_starts():
    import torch

    from training.module import DistinctNetModule

    torch.manual_seed(0)
    module = DistinctNetModule(preset="fast", net={"input_size": [64, 96], "head": "semantic", "recurrent": True})
    module.eval()
    frames = torch.rand(2, 3, 3, 64, 96)  # B x K x 3 x H x W
    batch = {"target": frames, "reference": frames.roll(1, dims=1), "labels": (frames[:, :, :1] > 0.5).float()
             .expand(-1, -1, 5, -1, -1).contiguous(), "valid": torch.ones(2, 3, 5, dtype=torch.bool)}
    calls = []
    reset = module.net.reset_state
    module.net.reset_state = lambda state, new: calls.append(new.clone()) or reset(state, new)
    flags = torch.tensor([[True, False, False], [True, False, True]])
    with torch.no_grad():
        singles = [module.loss(module.net(frames[:, k], batch["reference"][:, k])[0], batch["labels"][:, k],
                               batch["valid"][:, k]) for k in range(3)]
        all_new = module._run({**batch, "new_sequence": torch.ones(2, 3, dtype=torch.bool)}, "train")
        module._state["train"] = None
        calls.clear()
        carried = module._run({**batch, "new_sequence": flags}, "train")
    # the module resets exactly where a sequence starts, step by step
    assert [c.tolist() for c in calls] == flags.T.tolist()
    # a reset state is exactly a fresh one; a carried state changes the result (slightly: the loss is a
    # mean over pixels of a freshly initialised network)
    assert abs(all_new - torch.stack(singles).mean()) < 1e-7
    assert abs(carried - all_new) > 1e-6
    assert module._state["train"] is not None and not module._state["train"][0][0].requires_grad


def test_resume_continues_from_the_same_global_step(tmp_path, data):
    import pytorch_lightning as pl
    import torch

    from training.cli import train

    argv = [str(CONFIGS / "cpu-small-motion.yaml"), *common_args(tmp_path, data, **{"trainer.max_epochs": "1"})]
    assert train(argv) == 0
    last = tmp_path / "checkpoints" / "last.ckpt"
    saved = torch.load(last, map_location="cpu", weights_only=False)
    steps = saved["global_step"]
    assert steps > 0

    class Probe(pl.Callback):
        def on_train_start(self, trainer, module):
            self.start = trainer.global_step
            self.weights_equal = all(torch.equal(v, saved["state_dict"]["net." + k])
                                     for k, v in module.net.state_dict().items())
            self.batches = 0

        def on_train_batch_end(self, *args):
            self.batches += 1

    cli = train(argv + ["--trainer.max_epochs=2"], run=False)
    probe = Probe()
    cli.trainer.callbacks.append(probe)
    cli.trainer.fit(cli.model, cli.datamodule, ckpt_path="last")
    assert probe.start == steps and probe.weights_equal
    assert probe.batches == steps and cli.trainer.global_step == 2 * steps


def test_recurrent_stage_with_ddp_on_two_cpu_processes(tmp_path, seq_data):
    from distinctnet.modeling import load_checkpoint

    args = common_args(tmp_path, seq_data, **{
        "trainer.max_epochs": "1", "trainer.limit_train_batches": "2", "trainer.limit_val_batches": "2",
        "trainer.strategy": "ddp", "trainer.devices": "2", "trainer.accelerator": "cpu",
        "model.init_from": "null", "data.seq_len": "4", "data.tbptt_steps": "2", "data.val_fraction": "0.34"})
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "training.cli", "--config",
                           str(CONFIGS / "cpu-small-recurrent.yaml"), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    model = load_checkpoint(tmp_path / "model.safetensors")
    assert model.cfg.recurrent and model.cfg.head == "semantic"
    assert model.meta["global_step"] == 2
    rows = read_csv(next(tmp_path.glob("csv/version_*/metrics.csv")))
    assert any(r.get("val/iou_robot") for r in rows)


@pytest.mark.parametrize("config", sorted(p.name for p in CONFIGS.glob("*.yaml")))
def test_every_shipped_config_builds(tmp_path, config):
    from training.cli import train

    preset, stage = config[:-len(".yaml")].rsplit("-", 1)
    cli = train([str(CONFIGS / config), "--model.init_from=null", "--trainer.accelerator=cpu",
                 "--trainer.precision=32-true", f"--trainer.default_root_dir={tmp_path}",
                 "--model.net.input_size=[64,96]"], run=False)
    cfg = cli.model.net.cfg
    assert cfg.head == ("motion" if stage == "motion" else "semantic")
    assert cfg.recurrent == (stage == "recurrent")
    assert type(cli.datamodule).__name__ == ("SequenceData" if stage == "recurrent" else "PairData")
    assert cfg.encoder == ("resnet18" if preset in ("cpu-small", "gpu-fast") else "resnet50")
    if stage != "motion":   # gpu-fast continues the shipped network as a whole
        assert cli.model.hparams.freeze == ([] if preset == "gpu-fast" else ["siamese"])
    assert (CONFIGS / config).read_text().count("bf16-mixed") == (1 if preset.startswith("gpu") else 0)


# -- errors and plots -------------------------------------------------------------------------------------
def test_cli_errors_are_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "distinctnet.cli", "train", "--config", str(tmp_path / "no.yaml")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "no.yaml" in proc.stderr and "not found" in proc.stderr


def test_missing_data_root_is_a_user_error(tmp_path):
    from distinctnet.errors import UserError
    from training.cli import train

    cli = train([str(CONFIGS / "cpu-small-motion.yaml"),
                 *common_args(tmp_path, tmp_path / "nowhere")], run=False)
    with pytest.raises(UserError, match="nowhere"):
        cli.datamodule.setup("fit")


def test_plot_curves_from_csv(tmp_path):
    from training.plots import plot_curves, read_metrics

    path = tmp_path / "metrics.csv"
    path.write_text("epoch,step,train/loss_step,train/loss_epoch,val/loss,val/iou_robot,val/miou\n"
                    "0,0,0.9,,,,\n0,1,0.8,,,,\n0,1,,,0.7,0.2,0.2\n0,1,,0.85,,,\n1,3,,,0.5,0.6,0.6\n")
    series = read_metrics(path)
    assert series["val/iou_robot"] == [(1.0, 0.2), (3.0, 0.6)]
    out = plot_curves(path, tmp_path / "curves.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lr_schedule_warmup_then_cosine_to_zero(tmp_path):
    import math

    import pytorch_lightning as pl
    import pytest

    from distinctnet.errors import UserError
    from training.data import PairData
    from training.module import DistinctNetModule, lr_factor

    # the factor against the closed form
    assert lr_factor(0, "cosine", warmup=4, total=20) == pytest.approx(0.25)
    assert lr_factor(3, "cosine", warmup=4, total=20) == pytest.approx(1.0)
    assert lr_factor(12, "cosine", warmup=4, total=20) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_factor(20, "cosine", warmup=4, total=20) == pytest.approx(0.0)
    assert lr_factor(50, "constant", warmup=0, total=-1) == 1.0
    with pytest.raises(UserError, match="model.schedule"):
        DistinctNetModule(preset="fast", net={"input_size": [64, 96]}, schedule="linear")

    # through a Trainer: the optimiser's learning rate follows the schedule step by step
    data = make_tiny_data(tmp_path / "data")
    module = DistinctNetModule(preset="fast", net={"input_size": [64, 96]}, lr={"decoder": 1e-2},
                               schedule="cosine", warmup_steps=1)
    seen = []

    class Record(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append({g["name"]: g["lr"] for g in trainer.optimizers[0].param_groups}["decoder"])

    dm = PairData(roots=[str(data)], batch_size=2, num_workers=0, val_fraction=0.25)
    trainer = pl.Trainer(max_steps=4, accelerator="cpu", logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                         limit_val_batches=0, callbacks=[Record()])
    trainer.fit(module, dm)
    expected = [1e-2 * lr_factor(s, "cosine", 1, 4) for s in range(4)]
    assert seen == pytest.approx(expected)
    assert seen[0] == pytest.approx(1e-2) and seen[-1] < seen[1]


def test_training_bench_runs_a_gpu_config(tmp_path):
    """The speed benchmark on a shipped GPU config (moved to the CPU and shrunk): its LearningRateMonitor
    needs a logger the benchmark does not keep, and the generated data must hold every timed step."""
    from training.bench import bench

    r = bench(str(CONFIGS / "gpu-motion.yaml"), steps=3, data=None, overrides=[
        "--trainer.accelerator=cpu", "--trainer.precision=32-true", "--trainer.benchmark=false",
        "--model.preset=fast", "--model.net.input_size=[64,96]", "--data.init_args.batch_size=8",
        "--data.init_args.num_workers=0"])
    assert r["device"] == "cpu" and r["pairs_per_step"] == 8 and r["steps_timed"] == 3
    assert r["input_size"] == [64, 96] and r["s_per_step"] > 0


class _ThreadsSeen(torch.utils.data.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        import cv2

        img = np.full((600, 800, 3), i, np.uint8)
        return cv2.getNumThreads(), int(cv2.resize(img, (400, 300)).max())


def test_loader_workers_run_opencv_single_threaded(data):
    """RecordingData's loaders set OpenCV to one thread before the workers fork, also after this process has
    used OpenCV's thread pool (calling it inside such a worker would hang)."""
    import cv2

    from training.data import PairData

    before = cv2.getNumThreads()
    try:
        cv2.resize(np.zeros((2000, 2000, 3), np.uint8), (1000, 1000))  # the pool is running
        dm = PairData(roots=[str(data)], batch_size=2, num_workers=1)
        loader = dm._loader(_ThreadsSeen(), batch_size=None)
        assert [(int(n), int(v)) for n, v in loader] == [(1, 0), (1, 1)]
    finally:
        cv2.setNumThreads(before)
