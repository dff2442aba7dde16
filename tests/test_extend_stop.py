"""synth.extend_stop: a motion stop lengthened by still frames with fresh noise, masks kept."""
import numpy as np

from distinctnet.layout import Recording, VideoWriter, validate
from synth.extend_stop import extend


def test_extend_stop_appends_still_noisy_frames(tmp_path):
    with VideoWriter(tmp_path / "a", "v", static_from=3) as w:
        for i in range(5):
            img = np.full((32, 48, 3), 60 + 10 * min(i, 3), np.uint8)
            m = np.zeros((32, 48), bool)
            m[5:10, 5 + 2 * min(i, 3):15 + 2 * min(i, 3)] = True
            w.write(img, {"robot": m})
    assert extend(tmp_path / "a", tmp_path / "b", static=10, noise=2.0) == 1
    rec = Recording(tmp_path / "b")
    assert rec.num_frames("v") == 13 and rec.video_meta("v")["static_from"] == 3
    assert rec.video_meta("v")["extended_from"]["frames"] == 5
    still = [rec.read_image("v", i).astype(int) for i in range(3, 13)]
    assert all(abs(s.mean() - still[0].mean()) < 2 for s in still)          # nothing moves
    assert not np.array_equal(still[-1], still[-2])                         # but the sensor is noisy
    assert all(np.array_equal(rec.read_mask("v", "robot", i), rec.read_mask("v", "robot", 3)) for i in range(3, 13))
    assert validate(tmp_path / "b") == []
    assert extend(tmp_path / "a", tmp_path / "b", static=10) == 0           # resume: nothing left to do
