"""Plots of a discovery run: noisy vs denoised (vs clean), derivatives, simulated model vs data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rankfield._extras import require
from rankfield._io import save_figure

__all__ = ["plot_states", "plot_derivatives", "plot_simulation"]


def _figure(n):
    # pyplot-free: no backend chosen, no global state
    Figure = require("matplotlib.figure", "plot", "pictures").Figure

    fig = Figure(figsize=(9, 1.9 * n + 0.6))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)
    return None, fig, axes[:, 0]


def _save(plt, fig, path):
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    return Path(path)


def plot_states(path, t, noisy, denoised, names, clean=None, title="noisy vs denoised"):
    """One panel per state: noisy samples (dots), RKTV-INR reconstruction, clean signal when known."""
    plt, fig, axes = _figure(noisy.shape[1])
    for j, ax in enumerate(axes):
        ax.plot(t, noisy[:, j], ".", ms=2, color="0.6", label="noisy")
        if clean is not None:
            ax.plot(t, clean[:, j], color="k", lw=1.0, label="clean")
        ax.plot(t, denoised[:, j], color="C1", lw=1.2, ls="--" if clean is not None else "-", label="denoised")
        ax.set_ylabel(names[j])
    axes[0].legend(loc="upper right", fontsize=8, ncol=3)
    axes[0].set_title(title)
    axes[-1].set_xlabel("t")
    return _save(plt, fig, path)


def plot_derivatives(path, t, estimates: dict, names, clean=None):
    """One panel per state: derivative estimates (``{label: array}``) and the clean derivative when known."""
    plt, fig, axes = _figure(next(iter(estimates.values())).shape[1])
    for j, ax in enumerate(axes):
        for k, (label, d) in enumerate(estimates.items()):
            ax.plot(t, d[:, j], lw=0.8 if k else 1.4, alpha=0.6 if k else 1.0, color=f"C{k + 1}", label=label,
                    zorder=3 if k == 0 else 1)
        if clean is not None:
            ax.plot(t, clean[:, j], color="k", lw=1.0, ls="--", label="clean")
        ax.set_ylabel(f"d{names[j]}/dt")
    axes[0].legend(loc="upper right", fontsize=8, ncol=3)
    axes[0].set_title("derivatives")
    axes[-1].set_xlabel("t")
    return _save(plt, fig, path)


def plot_simulation(path, t, data, simulated, names, clean=None):
    """The discovered model integrated from the first sample, against the data (and the clean signal)."""
    plt, fig, axes = _figure(data.shape[1])
    for j, ax in enumerate(axes):
        ax.plot(t, data[:, j], ".", ms=2, color="0.6", label="data")
        if clean is not None:
            ax.plot(t, clean[:, j], color="k", lw=1.0, label="clean")
        ax.plot(t, simulated[:, j], color="C3", lw=1.2, label="discovered model")
        ax.set_ylabel(names[j])
        finite = np.isfinite(simulated[:, j])
        if not finite.all():
            ax.text(0.01, 0.05, "simulation blew up", transform=ax.transAxes, color="C3", fontsize=8)
    axes[0].legend(loc="upper right", fontsize=8, ncol=3)
    axes[0].set_title("discovered model (torchdiffeq) vs data")
    axes[-1].set_xlabel("t")
    return _save(plt, fig, path)
