"""distinctnet.io: atomic figure writes, stored with a palette when that is smaller."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from distinctnet.io import atomic_write_figure  # noqa: E402


def _figure():
    fig, ax = plt.subplots(figsize=(6, 3))
    x = np.linspace(0, 10, 400)
    for k in range(5):
        ax.plot(x, np.sin(x + k), label=f"curve {k}")
    ax.bar(np.arange(6), np.arange(6) / 6)
    ax.legend()
    return fig


def test_palette_png_is_smaller_and_looks_the_same(tmp_path):
    plain = atomic_write_figure(tmp_path / "plain.png", _figure(), dpi=80, palette=False)
    small = atomic_write_figure(tmp_path / "small.png", _figure(), dpi=80)
    assert small.stat().st_size < 0.8 * plain.stat().st_size
    assert not list(tmp_path.glob(".*.tmp"))
    a = np.asarray(Image.open(plain).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(small).convert("RGB"), dtype=np.int16)
    assert Image.open(small).mode == "P" and a.shape == b.shape
    diff = np.abs(a - b)
    assert diff.mean() < 2.0 and np.percentile(diff, 99.9) < 40   # lines, text and bars keep their colours


def test_plain_png_is_matplotlibs(tmp_path):
    fig = _figure()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    out = atomic_write_figure(tmp_path / "p.png", fig, dpi=80, palette=False)
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(buf)))
