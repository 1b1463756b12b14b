"""The example data in data/: what make_data.py writes, readable by the commands that the README names."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

DATA = Path(__file__).resolve().parents[1] / "data"


def _make_data():
    spec = importlib.util.spec_from_file_location("make_data", DATA / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_folder_is_small_and_documented():
    files = [p for p in DATA.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 5e6
    readme = (DATA / "README.md").read_text()
    for name in ("lorenz_noisy.csv", "lotka_volterra_noisy.csv", "signal.csv", "scene/"):
        assert f"`{name}`" in readme


def test_regenerated_data_equals_the_shipped_files(tmp_path):
    pytest.importorskip("pysindy")
    written = _make_data().main(tmp_path)
    for path in written:
        shipped = DATA / path.name
        if path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                g = shipped / f.relative_to(path)
                if f.suffix == ".png":
                    import imageio.v3 as iio

                    assert np.abs(iio.imread(f).astype(int) - iio.imread(g).astype(int)).max() <= 1, f
                else:
                    assert f.read_text() == g.read_text(), f
        else:
            a = np.genfromtxt(path, delimiter=",", skip_header=1 if "noisy" in path.name else 0)
            b = np.genfromtxt(shipped, delimiter=",", skip_header=1 if "noisy" in path.name else 0)
            np.testing.assert_allclose(a, b, atol=2e-6)


def test_trajectories_follow_the_noise_convention():
    """The 10% Lorenz file: noise std = 0.10 * std(x_j) of the clean trajectory, per state."""
    pytest.importorskip("pysindy")
    from rankfield.dynamics import get_system

    table = np.genfromtxt(DATA / "lorenz_noisy.csv", delimiter=",", names=True)
    assert table.dtype.names == ("t", "x", "y", "z")
    x = np.column_stack([table[n] for n in "xyz"])
    _, clean = get_system("lorenz").simulate(t=table["t"])
    ratio = (x - clean).std(0) / clean.std(0)
    np.testing.assert_allclose(ratio, 0.10, atol=0.006)  # 1000 samples: the std of a std is ~2.2%


def test_signal_and_scene_load_with_the_library():
    from rankfield.inr import load_signal
    from rankfield.nerf import load_blender

    signal = load_signal(DATA / "signal.csv")
    assert signal.shape == (4096, 1) and float(signal.abs().max()) == pytest.approx(1.0, abs=1e-6)
    train, test = load_blender(DATA / "scene", "train"), load_blender(DATA / "scene", "test")
    assert (len(train), len(test), train.intrinsics.width) == (24, 6, 64)
    centres = train.poses[:, :3, 3]
    torch.testing.assert_close(centres.norm(dim=-1), torch.full((24,), 4.0), atol=1e-5, rtol=0)
