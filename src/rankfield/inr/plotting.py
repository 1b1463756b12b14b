"""Pictures of fits: images, error maps, training curves, 1-D fits (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from rankfield._extras import require
from rankfield._io import save_figure, write_image

__all__ = ["save_image", "save_error_map", "save_curves", "save_signal_plot", "save_comparison"]


class _Figures:
    """``subplots``/``figure`` on a pyplot-free :class:`matplotlib.figure.Figure`: no backend is chosen and
    no global state is touched, so notebooks keep their inline plots."""

    @staticmethod
    def subplots(*args, figsize=None, **kwargs):
        Figure = require("matplotlib.figure", "plot", "pictures").Figure

        fig = Figure(figsize=figsize)
        return fig, fig.subplots(*args, **kwargs)

    @staticmethod
    def close(fig):
        pass


def _plt():
    return _Figures


def _as_uint8(img: torch.Tensor) -> np.ndarray:
    a = img.detach().float().clamp(0, 1).cpu().numpy()
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 3 and a.shape[-1] == 2:  # gray + alpha -> gray
        a = a[..., 0]
    return (a * 255 + 0.5).astype(np.uint8)


def save_image(path: str | Path, img: torch.Tensor) -> Path:
    """Write an ``(H, W[, C])`` tensor in ``[0, 1]`` as an 8-bit PNG."""
    import imageio.v3 as iio

    path = Path(path)
    write_image(path, _as_uint8(img))
    return path


def save_error_map(path: str | Path, pred: torch.Tensor, target: torch.Tensor) -> Path:
    """Per-pixel absolute error (mean over channels) as a heat map with a colour bar."""
    plt = _plt()
    err = (pred - target).abs().float().mean(-1).cpu().numpy()
    fig, ax = plt.subplots(figsize=(5, 4.2))
    im = ax.imshow(err, cmap="inferno", vmin=0, vmax=_error_vmax(err))
    ax.set_title("absolute error")
    ax.axis("off")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return Path(path)


def _error_vmax(err: np.ndarray) -> float:
    """The top of the error colour scale shared by every error picture: the 99.5th percentile."""
    return max(float(np.percentile(err, 99.5)), 1e-6)


def save_comparison(path: str | Path, target: torch.Tensor, pred: torch.Tensor, title: str = "") -> Path:
    """Target, reconstruction and error side by side."""
    plt = _plt()
    err = (pred - target).abs().float().mean(-1).cpu().numpy()
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
    names = ("target", f"reconstruction ({title})" if title else "reconstruction")
    for ax, img, name in zip(axes[:2], (target, pred), names):
        a = _as_uint8(img)
        ax.imshow(a, cmap="gray" if a.ndim == 2 else None)
        ax.set_title(name)
        ax.axis("off")
    im = axes[2].imshow(err, cmap="inferno", vmin=0, vmax=_error_vmax(err))  # the scale of save_error_map
    axes[2].set_title("absolute error")
    axes[2].axis("off")
    fig.colorbar(im, ax=axes[2], fraction=0.046)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)


def save_curves(path: str | Path, history: dict, key: str = "psnr", label: str = "PSNR (dB)", series: dict | None = None) -> Path:
    """Plot ``history[key]`` against ``history['step']`` (or several named histories via ``series``)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, h in (series or {"": history}).items():
        ax.plot(h["step"], h[key], label=name or None)
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)
    if series:
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return Path(path)


def save_signal_plot(path: str | Path, t: torch.Tensor, target: torch.Tensor, pred: torch.Tensor) -> Path:
    """Target and fitted 1-D signal (first channel), with the residual below."""
    plt = _plt()
    t = t.reshape(-1).cpu().numpy()
    y, p = target[:, 0].cpu().numpy(), pred[:, 0].cpu().numpy()
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    a.plot(t, y, lw=1.2, label="target")
    a.plot(t, p, lw=1.0, ls="--", label="fit")
    a.legend()
    b.plot(t, p - y, lw=0.8, color="C3")
    b.set_ylabel("residual")
    b.set_xlabel("t")
    fig.tight_layout()
    save_figure(fig, path, dpi=120)
    plt.close(fig)
    return Path(path)


def save_image_grid(path: str | Path, targets: torch.Tensor, preds: torch.Tensor, titles: list[str]) -> Path:
    """Targets (top row, labelled "target") above their reconstructions (bottom row, "reconstruction"), each
    column titled with ``titles[j] = (top title, bottom title)``, for up to 8 images."""
    plt = _plt()
    k = min(8, targets.shape[0])
    fig, axes = plt.subplots(2, k, figsize=(2.2 * k, 4.8), squeeze=False)
    for j in range(k):
        for row, img in enumerate((targets[j], preds[j])):
            a = _as_uint8(img)
            axes[row][j].imshow(a, cmap="gray" if a.ndim == 2 else None)
            axes[row][j].axis("off")
        axes[0][j].set_title(titles[j][0], fontsize=8)
        axes[1][j].set_title(titles[j][1], fontsize=8)
    for row, label in enumerate(("target", "reconstruction")):
        axes[row][0].text(-0.06, 0.5, label, transform=axes[row][0].transAxes, rotation=90, ha="right", va="center",
                          fontsize=9)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)
