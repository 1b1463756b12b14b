"""Regenerate the example data in this folder (deterministic: fixed seeds; run from the repository root).

    .venv/bin/python data/make_data.py

Writes (see README.md in this folder for what each file is):
  lorenz_noisy.csv          Lorenz-63, 1000 samples, dt = 0.01, 10% noise   -> rankfield discover
  lotka_volterra_noisy.csv  Lotka-Volterra, 5% noise                         -> rankfield discover
  signal.csv                a 1-D "audio-like" signal, 4096 samples          -> rankfield fit-signal
  scene/                    a tiny Blender-format scene (procedural, 24 + 6 views, 64 px) -> rankfield fit-scene
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def write_trajectory(path: Path, system: str, level: float, seed: int, n_samples: int | None = None) -> Path:
    from rankfield.dynamics import add_noise, get_system

    sys_ = get_system(system)
    t, x = sys_.simulate(n_samples=n_samples)
    noisy = add_noise(x, level, seed=seed)  # sigma_j = level * std(x_j)
    header = ",".join(("t",) + tuple(sys_.state_names))
    np.savetxt(path, np.column_stack([t, noisy]), delimiter=",", header=header, comments="", fmt="%.6f")
    return path


def write_signal(path: Path, n: int = 4096, seed: int = 0) -> Path:
    """Two chirps, a decaying tone burst and a little noise: a few octaves of detail, like speech."""
    rng = np.random.default_rng(seed)
    t = (np.arange(n) + 0.5) / n  # [0, 1)
    up = np.sin(2 * math.pi * (5 * t + 0.5 * 120 * t ** 2))
    down = 0.5 * np.sin(2 * math.pi * (200 * t - 0.5 * 150 * t ** 2))
    burst = 0.6 * np.exp(-((t - 0.6) / 0.05) ** 2) * np.sin(2 * math.pi * 300 * t)
    y = up * (0.6 + 0.4 * np.cos(2 * math.pi * 2 * t)) + down + burst + 0.01 * rng.standard_normal(n)
    y = y / np.abs(y).max()
    np.savetxt(path, y, fmt="%.6f")  # one column, no header: what `rankfield fit-signal` reads
    return path


def write_scene(path: Path) -> Path:
    from rankfield.nerf import generate_procedural_scene

    shutil.rmtree(path, ignore_errors=True)
    return generate_procedural_scene(path, n_train=24, n_test=6, size=64, seed=0)


def main(out: Path = HERE) -> list[Path]:
    out = Path(out)
    return [write_trajectory(out / "lorenz_noisy.csv", "lorenz", 0.10, seed=0),
            write_trajectory(out / "lotka_volterra_noisy.csv", "lotka_volterra", 0.05, seed=0),
            write_signal(out / "signal.csv"),
            write_scene(out / "scene")]


if __name__ == "__main__":
    for written in main():
        print(written)
