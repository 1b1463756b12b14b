"""Figures and videos: camera positions (GT / initial / estimated), test-view grids, turntable GIF."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from rankfield._extras import require
from rankfield._io import save_figure, write_image
from rankfield.nerf.camera import look_at
from rankfield.nerf.geometry import SimilarityTransform, apply_sim3_to_poses

__all__ = ["plot_cameras", "save_view_grid", "turntable_poses", "save_turntable"]


def plot_cameras(gt: torch.Tensor, initial: torch.Tensor | None, estimated: torch.Tensor | None, path,
                 title: str = "camera centres") -> Path:
    """3-D scatter of camera centres (all in the GT frame, already aligned) with lines GT->estimate."""
    # pyplot-free: no backend chosen, no global state
    Figure = require("matplotlib.figure", "plot", "pictures").Figure

    fig = Figure(figsize=(5.5, 5))
    ax = fig.add_subplot(projection="3d")
    g = gt[:, :3, 3].double().cpu().numpy()
    ax.scatter(*g.T, c="k", s=18, label="ground truth")
    for arr, col, lab in [(initial, "tab:red", "initial"), (estimated, "tab:blue", "estimated")]:
        if arr is None:
            continue
        e = arr[:, :3, 3].double().cpu().numpy()
        ax.scatter(*e.T, c=col, s=12, label=lab)
        for a, b in zip(g, e):
            ax.plot(*np.stack([a, b]).T, c=col, lw=0.6, alpha=0.6)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    save_figure(fig, path, dpi=110)
    return path


def save_view_grid(renders: torch.Tensor, targets: torch.Tensor, path, max_views: int = 6,
                   labels: tuple[str, str] = ("ground truth", "rendered")) -> Path:
    """Ground truth (top row) over renderings (bottom row), for up to ``max_views`` test views (PNG), rows labelled
    with ``labels`` and columns with the view's index and PSNR.

    Example:
        >>> import tempfile, torch
        >>> from rankfield.nerf.plotting import save_view_grid
        >>> imgs = torch.rand(2, 8, 8, 3, generator=torch.Generator().manual_seed(0))
        >>> save_view_grid(imgs, imgs, tempfile.mkdtemp() + "/views.png").name
        'views.png'
    """
    Figure = require("matplotlib.figure", "plot", "pictures").Figure

    n = min(max_views, renders.shape[0])
    h, w = renders.shape[1], renders.shape[2]
    scale = 1.8 / max(h, w)
    fig = Figure(figsize=(0.6 + n * w * scale, 0.5 + 2 * h * scale + 0.4))
    axes = fig.subplots(2, n, squeeze=False)
    for j in range(n):
        t, r = targets[j].detach().cpu().float().clamp(0, 1), renders[j].detach().cpu().float().clamp(0, 1)
        mse = float(((t - r) ** 2).mean())
        psnr = -10 * math.log10(max(mse, 1e-10))
        for row, img in enumerate((t, r)):
            ax = axes[row][j]
            a = img.numpy()
            ax.imshow(a[..., 0] if a.shape[-1] == 1 else a, cmap="gray" if a.shape[-1] == 1 else None,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0][j].set_title(f"view {j}", fontsize=8)
        axes[1][j].set_xlabel(f"{psnr:.1f} dB", fontsize=8)
    for row, label in enumerate(labels):
        axes[row][0].set_ylabel(label, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    save_figure(fig, path, dpi=110)
    return path


def turntable_poses(gt_c2w: torch.Tensor, n: int = 24, forward_facing: bool = False) -> torch.Tensor:
    """``n`` camera-to-world poses circling the scene (GT frame): an orbit at the mean camera distance and
    elevation for object scenes, a small circle in front of the average camera for forward-facing ones."""
    c = gt_c2w[:, :3, 3].double()
    if forward_facing:
        radius = 0.5 * float(c[:, :2].std(0).mean().clamp(min=0.05))
        poses = []
        for k in range(n):
            a = 2 * math.pi * k / n
            p = torch.eye(4, dtype=torch.float64)[:3]
            p[:, 3] = c.mean(0) + torch.tensor([radius * math.cos(a), radius * math.sin(a), 0.0], dtype=torch.float64)
            poses.append(p)
        return torch.stack(poses)
    dist = float(c.norm(dim=-1).mean())
    elev = float(torch.arcsin((c[:, 2] / c.norm(dim=-1)).clamp(-1, 1)).mean())
    az = torch.linspace(0, 2 * math.pi, n + 1, dtype=torch.float64)[:-1]
    eye = dist * torch.stack([math.cos(elev) * torch.cos(az), math.cos(elev) * torch.sin(az),
                              torch.full_like(az, math.sin(elev))], -1)
    return look_at(eye, torch.tensor([0.0, 0.0, -0.1], dtype=torch.float64))


def save_turntable(field, cam, poses_gt_frame: torch.Tensor, sim: SimilarityTransform | None, render_cfg, near: float,
                   far: float, path, fps: int = 12) -> Path:
    """Render ``poses_gt_frame`` (mapped into the learned frame by ``sim^-1``) into a looping GIF."""
    import imageio.v3 as iio

    from rankfield.nerf.evaluate import render_view

    s = 1.0
    poses = poses_gt_frame.double()
    if sim is not None:
        inv = sim.inverse()
        poses, s = apply_sim3_to_poses(inv, poses), inv.s
    frames = []
    for p in poses.float():
        rgb = render_view(field, p, cam, render_cfg, near * s, far * s)["rgb"].clamp(0, 1).cpu().numpy()
        frames.append((rgb * 255 + 0.5).astype(np.uint8))
    path = Path(path)
    write_image(path, np.stack(frames), duration=1000 / fps, loop=0)
    return path
