"""``--second-scale``: a second pass at a larger input size, averaged into the large parts; the small parts from the
larger pass (``--small-parts``)."""
from __future__ import annotations

import numpy as np
import pytest

from distinctnet.errors import UserError
from distinctnet.label.runner import Labeller
from distinctnet.modeling import load_checkpoint
from test_label_support import MODEL_SIZE, frame, motion_ckpt, one_thread, semantic_ckpt  # noqa: F401


def video(n=9):
    pos = [0, 1, 2, 3, 3, 3, 4, 5, 6][:n]  # with a stop: the motion references reach into earlier chunks
    return [frame(p, 2 * MODEL_SIZE[0], 2 * MODEL_SIZE[1]) for p in pos]


@pytest.mark.parametrize("batch,tta", [(1, "none"), (4, "none"), (3, "flip")])
def test_second_pass_averages_large_parts_with_a_labeller_at_the_larger_size(semantic_ckpt, batch, tta):
    model = load_checkpoint(semantic_ckpt)
    frames = video()
    lab = Labeller(model, "cpu", batch=batch, tta=tta, second_scale=2, refine="none")
    assert lab.second_size == (64, 96)  # 32x48 x 2
    got = np.stack([p for _, p in lab.predict(iter(frames))])
    first = np.stack([p for _, p in Labeller(model, "cpu", batch=batch, tta=tta, second_scale=1, refine="none").predict(iter(frames))])
    big = np.stack([p for _, p in Labeller(model, "cpu", batch=batch, tta=tta, input_size=(64, 96), second_scale=1, refine="none").predict(
        iter(frames))])
    large = [model.cfg.classes.index(c) for c in ("foreground", "robot", "distractor")]
    small = [model.cfg.classes.index(c) for c in ("gripper", "object")]
    np.testing.assert_allclose(got[:, large], 0.5 * (first[:, large] + big[:, large]), atol=2e-5)
    np.testing.assert_allclose(got[:, small], big[:, small], atol=2e-5)  # by default from the larger pass (row 54)
    assert np.abs(big[:, large] - first[:, large]).max() > 1e-3  # the second size does change them


def test_second_scale_with_a_recurrent_motion_model(motion_ckpt):
    model = load_checkpoint(motion_ckpt)
    frames = video()
    got = np.stack([p for _, p in Labeller(model, "cpu", second_scale=2, batch=2, refine="none").predict(iter(frames))])
    first = np.stack([p for _, p in Labeller(model, "cpu", batch=2, second_scale=1, refine="none").predict(iter(frames))])
    big = np.stack([p for _, p in Labeller(model, "cpu", input_size=(64, 96), batch=2, second_scale=1, refine="none").predict(iter(frames))])
    np.testing.assert_allclose(got, 0.5 * (first + big), atol=2e-5)  # each pass carries its own state


def test_second_scale_errors_and_settings(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    for bad in (0.2, 4):
        with pytest.raises(UserError, match="--second-scale"):
            Labeller(model, "cpu", second_scale=bad, refine="none")
    with pytest.raises(UserError, match="bidir"):
        Labeller(model, "cpu", second_scale=2, tta="bidir", refine="none")
    assert "second_size" not in Labeller(model, "cpu", second_scale=1, refine="none").settings()
    assert Labeller(model, "cpu", second_scale=2, refine="none").settings()["second_size"] == [64, 96]


def test_the_default_labeller_adds_a_pass_at_four_thirds_of_the_input_size(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    lab = Labeller(model, "cpu", refine="none")
    assert lab.second_size == (48, 64)  # 32x48 x 4/3 = 42.7x64, rounded to multiples of 16
    assert lab.settings()["second_size"] == [48, 64]
    assert Labeller(model, "cpu", tta="bidir", refine="none").second_scale == 1  # bidir: one pass


def test_models_built_for_one_input_size_get_one_pass(tmp_path):
    from test_label_support import save_tiny

    model = load_checkpoint(save_tiny(tmp_path / "g.safetensors", head="semantic", merge="global"))
    assert Labeller(model, "cpu", refine="none").second_scale == 1
    with pytest.raises(UserError, match="any input size"):
        Labeller(model, "cpu", second_scale=2, refine="none")


def test_the_checkpoint_can_choose_its_second_scale(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    model.meta = {**(model.meta or {}), "second_scale": 0.75}
    lab = Labeller(model, "cpu", input_size=(64, 96), refine="none")
    assert lab.second_scale == 0.75 and lab.second_size == (48, 64)  # 64x96 x 3/4, rounded to multiples of 16
    assert Labeller(model, "cpu", second_scale=1, refine="none").second_scale == 1  # the caller's choice wins
    assert Labeller(model, "cpu", tta="bidir", refine="none").second_scale == 1
    # ... and its first-pass size: the checkpoint's label_input_size, unless the caller gives one
    model.meta = {**model.meta, "label_input_size": [64, 96]}
    lab = Labeller(model, "cpu", refine="none")
    assert lab.input_size == (64, 96) and lab.second_size == (48, 64)
    assert Labeller(model, "cpu", input_size=(32, 48), refine="none").input_size == (32, 48)
    frames = video()
    got = np.stack([p for _, p in lab.predict(iter(frames))])
    same = np.stack([p for _, p in Labeller(load_checkpoint(semantic_ckpt), "cpu", input_size=(64, 96), second_scale=0.75,
                                             refine="none").predict(iter(frames))])
    np.testing.assert_allclose(got, same, atol=1e-6)


def test_small_parts_from_the_larger_pass(semantic_ckpt, tmp_path):
    model = load_checkpoint(semantic_ckpt)
    frames = video()
    run = lambda **kw: np.stack([p for _, p in Labeller(model, "cpu", batch=3, refine="none", **kw).predict(iter(frames))])
    first, larger = run(second_scale=2, small_parts="first"), run(second_scale=2, small_parts="larger")
    big = run(input_size=(64, 96), second_scale=1)
    small = [model.cfg.classes.index(c) for c in ("gripper", "object")]
    rest = [i for i in range(len(model.cfg.classes)) if i not in small]
    np.testing.assert_allclose(larger[:, small], big[:, small], atol=2e-5)   # from the 64x96 pass
    np.testing.assert_array_equal(larger[:, rest], first[:, rest])            # the other parts: as with "first"
    assert np.abs(larger[:, small] - first[:, small]).max() > 1e-3
    np.testing.assert_array_equal(run(second_scale=2), larger)                 # the default since row 54
    # the second pass is the smaller one: the small parts stay with the first pass
    np.testing.assert_array_equal(run(second_scale=0.75, small_parts="larger"), run(second_scale=0.75))
    assert Labeller(model, "cpu", second_scale=2, small_parts="larger", refine="none").settings()["small_parts"] == "larger"
    assert Labeller(model, "cpu", second_scale=2, refine="none").settings()["small_parts"] == "larger"
    # "first" is what every output made before the option existed was labelled with: it is not recorded
    assert "small_parts" not in Labeller(model, "cpu", second_scale=2, small_parts="first", refine="none").settings()
    with pytest.raises(UserError, match="--small-parts"):
        Labeller(model, "cpu", small_parts="biggest", refine="none")
