"""``--zoom``: a second look at the gripper and the object on a crop around them."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from distinctnet.errors import UserError
from distinctnet.label.reference import ReferencePicker, thumbnails
from distinctnet.label.runner import Labeller
from distinctnet.label.zoom import check_zoom, zoom_box
from distinctnet.modeling import load_checkpoint
from test_label_support import MODEL_SIZE, frame, motion_ckpt, one_thread, semantic_ckpt  # noqa: F401

ASPECT = MODEL_SIZE[0] / MODEL_SIZE[1]
BIG = (3 * MODEL_SIZE[0], 3 * MODEL_SIZE[1])  # frames three times the network's input size


def blob(h, w, y0, y1, x0, x1):
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_zoom_box_is_centred_on_the_parts_with_the_input_aspect_and_inside_the_frame():
    m = blob(240, 416, 100, 110, 200, 230)              # 10 x 30 px
    y0, y1, x0, x1 = zoom_box(m, aspect=192 / 336, zoom=2.0)
    assert (y1 - y0) == 120                             # at least H / zoom (2 x extent would be smaller)
    assert abs((y1 - y0) / (x1 - x0) - 192 / 336) < 0.01
    assert y0 <= 100 and y1 >= 110 and x0 <= 200 and x1 >= 230
    assert abs((y0 + y1) / 2 - 105) <= 1 and abs((x0 + x1) / 2 - 215) <= 1
    # a larger part: the box spans MARGIN (2) x its extent
    y0, y1, x0, x1 = zoom_box(blob(240, 416, 60, 130, 150, 200), aspect=192 / 336, zoom=4.0)
    assert y1 - y0 == 140
    # in a corner, the box is moved inside the frame, the same size
    y0, y1, x0, x1 = zoom_box(blob(240, 416, 0, 8, 400, 416), aspect=192 / 336, zoom=2.0)
    assert (y0, y1) == (0, 120) and x1 == 416 and x1 - x0 == 210


def test_zoom_box_none_when_nothing_to_zoom_on():
    assert zoom_box(np.zeros((240, 416), bool), 0.57, 2.0) is None
    assert zoom_box(blob(240, 416, 10, 12, 10, 14), 0.57, 2.0) is None          # 8 pixels: below MIN_PIXELS
    assert zoom_box(blob(240, 416, 20, 220, 100, 150), 0.57, 2.0) is None       # 2 x 200 px: the whole frame
    assert zoom_box(blob(240, 416, 100, 110, 200, 230), 0.57, 1.0) is None      # no enlargement asked


def test_check_zoom():
    assert check_zoom(0) == 0 and check_zoom("2") == 2.0
    for bad in (1.0, -2, 9):
        with pytest.raises(UserError, match="--zoom"):
            check_zoom(bad)


def naive_zoom(model, probs, frames, refs, zoom, thresholds):
    """One forward per zoomed frame: the crop of frame t against the same crop of its reference; inside the box it
    replaces the object channel and is averaged into the gripper channel."""
    h, w = model.cfg.input_size
    out = probs.copy()
    for t, r in enumerate(refs):
        mask = (probs[t, 2] > thresholds[0]) | (probs[t, 3] > thresholds[1])
        box = zoom_box(mask, h / w, zoom)
        if box is None:
            continue
        y0, y1, x0, x1 = box
        interp = cv2.INTER_AREA if y1 - y0 > h else cv2.INTER_LINEAR  # as the labeller shrinks or enlarges frames
        crops = [cv2.resize(f[y0:y1, x0:x1], (w, h), interpolation=interp) for f in (frames[t], frames[r])]
        x = [torch.from_numpy(c).permute(2, 0, 1).float()[None] / 255 for c in crops]
        with torch.no_grad():
            logits, _ = model.decode(model.encode(x[0]), model.encode(x[1]), None, (y1 - y0, x1 - x0))
        z = torch.sigmoid(logits)[0].numpy()
        out[t, 2, y0:y1, x0:x1] = 0.5 * (probs[t, 2, y0:y1, x0:x1] + z[2])
        out[t, 3, y0:y1, x0:x1] = z[3]
    return out


def test_refine_matches_a_naive_crop_forward_and_reads_earlier_references(semantic_ckpt):
    model = load_checkpoint(semantic_ckpt)
    frames = [frame(i, *BIG) for i in range(12)]
    probs = np.zeros((4, 5, *BIG), np.float32)
    probs[:, 1] = 0.7                                   # robot: left alone
    probs[0, 2, 40:48, 60:72] = 0.9                     # a gripper in the middle
    probs[1, 3, 0:6, 130:144] = 0.8                     # an object in the corner
    probs[2, 2, 10:90, 10:130] = 0.9                    # too large to zoom on
    lab = Labeller(model, "cpu", zoom=3, thresholds=0.5, second_scale=1, refine="none")
    t0, refs = 8, [6, 7, 8, 9]                          # frames 8-11; two references in earlier chunks
    with torch.inference_mode():  # as in Labeller.predict
        got = lab._refine_zoom(torch.from_numpy(probs), frames[8:], refs, t0, {6: frames[6], 7: frames[7]}).numpy()
    full = np.zeros((12, 5, *BIG), np.float32)
    full[8:] = probs
    want = naive_zoom(model, full, frames, [0] * 8 + refs, 3, (0.5, 0.5))[8:]
    np.testing.assert_allclose(got, want, atol=2e-5)
    assert np.abs(got[0] - probs[0]).max() > 0.01 and np.abs(got[1] - probs[1]).max() > 0.01  # both were zoomed
    np.testing.assert_array_equal(got[2:], probs[2:])   # too large, nothing: as they were
    np.testing.assert_array_equal(got[:, [0, 1, 4]], probs[:, [0, 1, 4]])


@pytest.mark.parametrize("batch", [1, 3, 16])
def test_labeller_zoom_equals_the_first_pass_refined_frame_by_frame(semantic_ckpt, batch):
    model = load_checkpoint(semantic_ckpt)
    rng = np.random.default_rng(2)
    pos = [0, 1, 2, 3, 3, 3, 3, 4, 5, 6]               # moving, a stop, moving: motion references reach back
    frames = [np.clip(frame(p, *BIG) + rng.normal(0, 2, (*BIG, 3)), 0, 255).astype(np.uint8) for p in pos]
    base = np.stack([p for _, p in Labeller(model, "cpu", second_scale=1, refine="none", unmoved="keep").predict(
        iter(frames))])
    # thresholds that leave a few pixels per frame (the random tiny model's output has no real parts)
    th = {c: float(np.quantile(base[:, i], 0.999)) for i, c in enumerate(model.cfg.classes)}
    lab = Labeller(model, "cpu", zoom=3, thresholds=th, batch=batch, second_scale=1, refine="none", unmoved="keep")
    got = np.stack([p for _, p in lab.predict(iter(frames))])
    x = torch.stack([lab._prep(f) for f in frames]).float() / 255
    refs = ReferencePicker("motion", gap=2).pick(len(frames), thumbnails(x, 4))
    assert refs[4:7] == [1, 1, 1]                       # the stop pairs with frame 1, read from an earlier chunk
    want = naive_zoom(model, base, frames, refs, 3, (th["gripper"], th["object"]))
    np.testing.assert_allclose(got, want, atol=5e-5)
    changed = [t for t in range(len(frames)) if np.abs(got[t] - base[t]).max() > 1e-3]
    assert len(changed) >= 3
    np.testing.assert_allclose(got[:, [0, 1, 4]], base[:, [0, 1, 4]], atol=2e-5)


def test_zoom_option_errors_and_settings(semantic_ckpt, motion_ckpt):
    model = load_checkpoint(semantic_ckpt)
    with pytest.raises(UserError, match="--zoom"):
        Labeller(model, "cpu", zoom=0.5, second_scale=1, refine="none")
    with pytest.raises(UserError, match="bidir"):
        Labeller(model, "cpu", zoom=2, tta="bidir", second_scale=1, refine="none")
    with pytest.raises(UserError, match="non-recurrent"):
        Labeller(load_checkpoint(motion_ckpt), "cpu", zoom=2, second_scale=1, refine="none")
    assert "zoom" not in Labeller(model, "cpu", second_scale=1, refine="none").settings()
    assert Labeller(model, "cpu", zoom=2, second_scale=1, refine="none").settings()["zoom"] == 2.0
