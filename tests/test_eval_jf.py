"""eval.jf: J&F by hand on tiny masks and against the reference implementation (vos-benchmark)."""
import numpy as np
import pytest

from eval.jf import VideoJF, bound_pixels, boundary_f, boundary_map, region_j, summarize


def band(shape, y0, y1):
    m = np.zeros(shape, bool)
    m[y0:y1] = True
    return m


def test_boundary_map_by_hand():
    m = np.zeros((4, 4), bool)
    m[1:3, 1:3] = True
    expected = np.array([[1, 1, 1, 0],
                         [1, 0, 1, 0],
                         [1, 1, 1, 0],
                         [0, 0, 0, 0]], bool)
    np.testing.assert_array_equal(boundary_map(m), expected)
    assert not boundary_map(np.ones((5, 3), bool)).any()     # image borders are not boundaries
    assert not boundary_map(np.zeros((5, 3), bool)).any()


def test_disk_matches_skimage():
    from skimage.morphology import disk

    from eval.jf import _disk

    for r in (1, 2, 5, 8, 12):
        np.testing.assert_array_equal(_disk(r), disk(r))


def test_bound_pixels():
    assert bound_pixels((40, 40)) == 1           # 0.008 * 56.6 = 0.45 -> 1
    assert bound_pixels((480, 854)) == 8         # 0.008 * 979.6 = 7.8 -> 8
    assert bound_pixels((10, 10), 3) == 3


def test_region_j_by_hand():
    s = (4, 4)
    assert region_j(np.zeros(s), np.zeros(s)) == 100.0
    assert region_j(np.zeros(s), band(s, 0, 1)) == 0.0
    assert region_j(band(s, 0, 1), np.zeros(s)) == 0.0
    assert region_j(band(s, 0, 2), band(s, 1, 3)) == pytest.approx(100 / 3)


def test_boundary_f_by_hand():
    s = (40, 40)                                   # tolerance 1 px (disk(1) = a cross)
    gt = band(s, 10, 20)                           # boundary rows 9 and 19 (40 px each)
    assert boundary_f(gt, gt) == 100.0
    assert boundary_f(band(s, 10, 21), gt) == 100.0   # rows 9, 20: within 1 px
    # rows 9 and 22: half of each boundary matches -> precision = recall = 0.5
    assert boundary_f(band(s, 10, 23), gt) == pytest.approx(50.0)
    assert boundary_f(band(s, 25, 35), gt) == 0.0
    empty = np.zeros(s, bool)
    assert boundary_f(empty, empty) == 100.0
    assert boundary_f(empty, gt) == 0.0          # empty prediction
    assert boundary_f(gt, empty) == 0.0          # empty GT
    assert boundary_f(np.ones(s, bool), np.ones(s, bool)) == 100.0   # no boundary on either side


def test_video_jf_rules():
    s = (40, 40)
    v = VideoJF()
    empty = np.zeros(s, bool)
    assert v.update(empty, empty) is None          # part not there yet: not counted
    assert v.update(band(s, 10, 20), band(s, 10, 20)) == (100.0, 100.0)
    assert v.update(empty, band(s, 10, 20)) == (0.0, 0.0)
    assert v.update(empty, empty) == (100.0, 100.0)   # counted once the part has appeared
    r = v.result()
    third = pytest.approx(200 / 3)
    assert r == {"J": third, "F": third, "JF": third, "frames": 3}
    # a part never in the GT is not scored, even if predicted
    fp_only = VideoJF()
    fp_only.update(band(s, 0, 5), empty)
    assert fp_only.result() is None
    assert summarize([r, None, {"J": 50.0, "F": 0.0, "JF": 25.0, "frames": 1}]) == {
        "J": pytest.approx((200 / 3 + 50) / 2), "F": pytest.approx(100 / 3),
        "JF": pytest.approx(((200 / 3 + 50) / 2 + 100 / 3) / 2), "videos": 2}
    assert summarize([None]) == {"J": None, "F": None, "JF": None, "videos": 0}


def random_sequence(rng, n, shape, p_empty=0.2):
    """Blobby random masks (thresholded smoothed noise), some frames empty."""
    import cv2

    out = []
    for _ in range(n):
        if rng.random() < p_empty:
            out.append(np.zeros(shape, bool))
            continue
        noise = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), rng.uniform(2, 6))
        out.append(noise > np.quantile(noise, rng.uniform(0.4, 0.9)))
    return out


def test_against_vos_benchmark_evaluator():
    ev_mod = pytest.importorskip("vos_benchmark.evaluator")
    rng = np.random.default_rng(0)
    for k, shape in enumerate([(48, 64), (120, 90), (37, 53)]):
        gt = random_sequence(rng, 6, shape)
        pred = random_sequence(rng, 6, shape)
        if k == 0:
            gt[0] = pred[0] = np.zeros(shape, bool)      # leading empty frame
            gt[1], pred[1] = np.zeros(shape, bool), gt[2]  # prediction first
        if k == 2:  # small shapes away from the borders of a bigger frame (the bounding-box crop path)
            big = (200, 300)
            pad = lambda m, y, x: np.pad(m, ((y, big[0] - y - m.shape[0]), (x, big[1] - x - m.shape[1])))
            gt = [pad(m, 20, 30) for m in gt]
            pred = [pad(m, 24 + i, 25) for i, m in enumerate(pred)]
        ref = ev_mod.Evaluator()
        ours = VideoJF()
        for p, g in zip(pred, gt):
            ref.feed_frame(p.astype(np.uint8), g.astype(np.uint8))
            ours.update(p, g)
        j_ref, f_ref = ref.conclude()
        r = ours.result()
        assert r["J"] == pytest.approx(j_ref[1], abs=1e-9)
        assert r["F"] == pytest.approx(f_ref[1], abs=1e-9)
        assert len(ours.j) == len(ref.object_iou[1])


def test_against_vos_benchmark_dataset(tmp_path):
    bm = pytest.importorskip("vos_benchmark.benchmark")
    from PIL import Image

    rng = np.random.default_rng(1)
    rows = []
    for v in range(3):
        gt, pred = random_sequence(rng, 5, (50, 70), 0.1), random_sequence(rng, 5, (50, 70), 0.1)
        ours = VideoJF()
        for i, (p, g) in enumerate(zip(pred, gt)):
            for root, m in (("gt", g), ("pred", p)):
                d = tmp_path / root / f"v{v}"
                d.mkdir(parents=True, exist_ok=True)
                Image.fromarray(m.astype(np.uint8)).save(d / f"{i:05d}.png")
            ours.update(p, g)
        rows.append(ours.result())
    jf, j, f, _ = bm.benchmark([str(tmp_path / "gt")], [str(tmp_path / "pred")], num_processes=1,
                               verbose=False, skip_first_and_last=False)
    s = summarize(rows)
    assert s["J"] == pytest.approx(j[0]) and s["F"] == pytest.approx(f[0]) and s["JF"] == pytest.approx(jf[0])
