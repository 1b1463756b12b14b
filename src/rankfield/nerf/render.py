"""Stratified sampling along rays, volume rendering, chunked full-image rendering.

Depths ``t`` are measured along the (unnormalised) ray direction whose camera-frame ``z`` is ``-1``,
so ``t`` is depth along the optical axis and ``[near, far]`` is a depth range. Forward-facing scenes
sample uniformly in inverse depth (disparity).

Examples:
    >>> from rankfield.nerf.field import RadianceField, FieldConfig
    >>> f = RadianceField(FieldConfig(width=16, depth=1))
    >>> o, d = torch.zeros(5, 3), torch.tensor([[0., 0., -1.]]).expand(5, 3)
    >>> out = render_rays(f, o, d, RenderConfig(n_samples=8), near=2., far=6.)
    >>> out["rgb"].shape
    torch.Size([5, 3])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rankfield._config import Config
from rankfield.errors import InputError

__all__ = ["RenderConfig", "sample_depths", "sample_importance", "volume_render", "render_rays", "render_image"]


@dataclass
class RenderConfig(Config):
    """Ray sampling and compositing.

    Attributes:
        n_samples: samples per ray (BARF uses 128).
        n_importance: further samples per ray drawn from the weights of the first ``n_samples`` (NeRF's
            hierarchical sampling with one field): a pass without gradients at the ``n_samples`` depths gives the
            weights, ``n_importance`` depths are drawn from them (:func:`sample_importance`), and the field is
            rendered with gradients at all of them. 0: off.
        stratified: jitter samples within their bins during training (evaluation is always deterministic).
        inverse_depth: sample uniformly in ``1/t`` (forward-facing scenes).
        white_background: composite remaining transmittance on white (True) or black (False).
        opaque_far: with ``inverse_depth``, sample disparity from ``1/near`` down to 0 (depth to infinity,
            ``far`` is ignored) and give the last sample an interval of ``1e10``: an opaque backdrop at
            infinity instead of the background colour (BARF's LLFF model).
        chunk: rays per forward pass in :func:`render_image`.

    Example:
        >>> from rankfield.nerf import RenderConfig
        >>> cfg = RenderConfig(n_samples=16, stratified=False)
        >>> cfg.n_samples, cfg.white_background, cfg.validate() is cfg
        (16, True, True)
    """

    n_samples: int = 48
    n_importance: int = 0
    stratified: bool = True
    inverse_depth: bool = False
    white_background: bool = True
    opaque_far: bool = False
    chunk: int = 4096

    def validate(self) -> "RenderConfig":
        super().validate()
        if self.opaque_far and not self.inverse_depth:
            raise InputError("opaque_far samples disparity down to 0: it needs inverse_depth=True")
        if self.n_samples < 2 or self.chunk < 1:
            raise InputError(f"n_samples must be >= 2 and chunk >= 1, got {self.n_samples}, {self.chunk}")
        if self.n_importance < 0 or (self.n_importance and self.n_samples < 3):
            raise InputError(f"n_importance must be >= 0 (and needs n_samples >= 3), got {self.n_importance}")
        return self


def sample_depths(n_rays: int, near: float, far: float, n_samples: int, stratified: bool = True,
                  inverse_depth: bool = False, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
    """``(n_rays, n_samples)`` increasing depths in ``[near, far]``; one sample per equal bin (jittered when
    ``stratified``), bins uniform in depth or in inverse depth (``far=math.inf``: disparity down to 0).

    Examples:
        >>> from rankfield.nerf.render import sample_depths
        >>> sample_depths(1, 2.0, 6.0, 4, stratified=False).tolist()
        [[2.5, 3.5, 4.5, 5.5]]
        >>> d = sample_depths(3, 1.0, float("inf"), 8, inverse_depth=True)
        >>> d.shape, bool((d[:, 1:] > d[:, :-1]).all() and (d >= 1).all())
        (torch.Size([3, 8]), True)
    """
    edges = torch.linspace(0, 1, n_samples + 1, device=device)
    if stratified:
        u = torch.rand(n_rays, n_samples, generator=generator).to(device)  # CPU generator: same draws everywhere
    else:
        u = torch.full((n_rays, n_samples), 0.5, device=device)
    s = edges[:-1] + (edges[1:] - edges[:-1]) * u
    if inverse_depth:
        return 1.0 / (1.0 / near * (1 - s) + 1.0 / far * s).clamp(min=1e-6 / near)  # s -> 1 with far = inf
    return near + (far - near) * s


def sample_importance(t: torch.Tensor, weights: torch.Tensor, n: int, stratified: bool = True,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """``(R, n)`` increasing depths drawn from the piecewise-constant density that ``weights`` put on the bins
    between neighbouring depths ``t`` (NeRF's ``sample_pdf``: the bins are the midpoints of ``t``, the first
    and last weights are left out, a small floor keeps empty rays sampled evenly).

    Args:
        t: ``(R, S)`` increasing depths, S >= 3; weights: ``(R, S)`` their compositing weights.
        n: depths per ray; stratified: one uniform draw in each of ``n`` equal slices of the CDF (training),
            else the slices' centres (deterministic).

    Example:
        >>> import torch
        >>> from rankfield.nerf.render import sample_importance
        >>> t = torch.linspace(2.0, 6.0, 9)[None]
        >>> w = torch.tensor([[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]])  # all weight at depth 4
        >>> d = sample_importance(t, w, 4, stratified=False)
        >>> bool(((d > 3.7) & (d < 4.3)).all())
        True
    """
    mids = 0.5 * (t[:, 1:] + t[:, :-1])  # (R, S-1) bin edges
    w = weights[:, 1:-1].detach() + 1e-5
    cdf = torch.cat([torch.zeros_like(w[:, :1]), torch.cumsum(w / w.sum(-1, keepdim=True), -1)], -1)
    R = t.shape[0]
    base = torch.arange(n, dtype=t.dtype, device=t.device) / n
    if stratified:
        u = base + torch.rand(R, n, generator=generator).to(device=t.device, dtype=t.dtype) / n
    else:
        u = (base + 0.5 / n).expand(R, n)
    u = u.contiguous()
    above = torch.searchsorted(cdf.contiguous(), u, right=True).clamp(1, cdf.shape[-1] - 1)
    below = above - 1
    c0, c1 = cdf.gather(-1, below), cdf.gather(-1, above)
    b0, b1 = mids.gather(-1, below), mids.gather(-1, above)
    frac = ((u - c0) / (c1 - c0).clamp(min=1e-8)).clamp(0, 1)
    return (b0 + frac * (b1 - b0)).detach()


def volume_render(sigma: torch.Tensor, rgb: torch.Tensor, t: torch.Tensor, dirs: torch.Tensor,
                  white_background: bool = True, opaque_last: bool = False) -> dict:
    """Alpha-composite samples.

    Args:
        sigma: ``(R, S)`` densities; rgb: ``(R, S, 3)``; t: ``(R, S)`` depths; dirs: ``(R, 3)`` ray directions.
        opaque_last: the last sample's interval is ``1e10`` (NeRF's): any density there makes it opaque.
    Returns:
        dict of ``rgb (R, 3)``, ``depth (R,)``, ``opacity (R,)``, ``weights (R, S)``.

    Example:
        >>> import torch
        >>> from rankfield.nerf.render import volume_render
        >>> t = torch.linspace(1.0, 2.0, 4).expand(2, 4)
        >>> sigma = torch.tensor([[0.0, 0.0, 0.0, 0.0], [0.0, 1e4, 0.0, 0.0]])
        >>> rgb = torch.tensor([1.0, 0.0, 0.0]).expand(2, 4, 3)
        >>> out = volume_render(sigma, rgb, t, torch.tensor([[0.0, 0.0, -1.0]]).expand(2, 3))
        >>> out["opacity"].round(decimals=3), out["rgb"].round(decimals=3)
        (tensor([0., 1.]), tensor([[1., 1., 1.],
                [1., 0., 0.]]))
    """
    # by default the last sample's interval repeats the previous one (not NeRF's 1e10), so empty space shows the
    # background colour instead of the colour of the farthest sample; opaque_last restores NeRF's
    dt = t[:, 1:] - t[:, :-1]
    last = torch.full_like(dt[:, -1:], 1e10) if opaque_last else dt[:, -1:]
    delta = torch.cat([dt, last], -1) * dirs.norm(dim=-1, keepdim=True)
    alpha = 1 - torch.exp(-sigma * delta)
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1 - alpha[:, :-1] + 1e-10], -1), -1)
    weights = alpha * trans
    opacity = weights.sum(-1)
    color = (weights[..., None] * rgb).sum(-2)
    depth = (weights * t).sum(-1)
    if white_background:
        color = color + (1 - opacity[..., None])
    return {"rgb": color, "depth": depth, "opacity": opacity, "weights": weights}


def render_rays(field, origins: torch.Tensor, dirs: torch.Tensor, config: RenderConfig, near: float, far: float,
                train: bool = False, generator: torch.Generator | None = None) -> dict:
    """Sample, query ``field`` and composite ``(R, 3)`` rays; see :func:`volume_render` for the outputs.

    Example:
        >>> import torch
        >>> from rankfield.nerf import FieldConfig, RadianceField, RenderConfig
        >>> from rankfield.nerf.render import render_rays
        >>> field = RadianceField(FieldConfig(width=16, depth=1))
        >>> origins = torch.zeros(8, 3)
        >>> dirs = torch.tensor([0.0, 0.0, -1.0]).expand(8, 3)
        >>> out = render_rays(field, origins, dirs, RenderConfig(n_samples=8), near=0.5, far=2.0)
        >>> sorted(out), out["rgb"].shape, out["depth"].shape
        (['depth', 'opacity', 'rgb', 'weights'], torch.Size([8, 3]), torch.Size([8]))
    """
    R = origins.shape[0]
    t = sample_depths(R, near, math.inf if config.opaque_far else far, config.n_samples,
                      stratified=train and config.stratified, inverse_depth=config.inverse_depth,
                      device=origins.device, generator=generator)
    if config.n_importance:
        with torch.no_grad():
            pts = origins[:, None, :] + t[..., None] * dirs[:, None, :]
            sigma, rgb = field(pts, dirs[:, None, :].expand_as(pts))
            w = volume_render(sigma, rgb, t, dirs, config.white_background, opaque_last=config.opaque_far)["weights"]
            fine = sample_importance(t, w, config.n_importance, stratified=train and config.stratified,
                                     generator=generator)
        t = torch.sort(torch.cat([t, fine], -1), -1).values
    pts = origins[:, None, :] + t[..., None] * dirs[:, None, :]
    sigma, rgb = field(pts, dirs[:, None, :].expand_as(pts))
    return volume_render(sigma, rgb, t, dirs, config.white_background, opaque_last=config.opaque_far)


@torch.no_grad()
def render_image(field, origins: torch.Tensor, dirs: torch.Tensor, config: RenderConfig, near: float, far: float,
                 height: int, width: int) -> dict:
    """Render ``H*W`` rays in chunks of ``config.chunk``; returns ``rgb (H, W, 3)``, ``depth (H, W)``,
    ``opacity (H, W)``.

    Example:
        >>> import torch
        >>> from rankfield.nerf import FieldConfig, RadianceField, RenderConfig
        >>> from rankfield.nerf.render import render_image
        >>> field = RadianceField(FieldConfig(width=16, depth=1))
        >>> origins = torch.zeros(6 * 4, 3)
        >>> dirs = torch.tensor([0.0, 0.0, -1.0]).expand(6 * 4, 3)
        >>> out = render_image(field, origins, dirs, RenderConfig(n_samples=8, chunk=10), 0.5, 2.0, height=6, width=4)
        >>> out["rgb"].shape, out["depth"].shape
        (torch.Size([6, 4, 3]), torch.Size([6, 4]))
    """
    was_training = field.training
    field.eval()
    outs = {"rgb": [], "depth": [], "opacity": []}
    for i in range(0, origins.shape[0], config.chunk):
        o = render_rays(field, origins[i:i + config.chunk], dirs[i:i + config.chunk], config, near, far, train=False)
        for k in outs:
            outs[k].append(o[k])
    field.train(was_training)
    return {k: torch.cat(v, 0).reshape(height, width, *v[0].shape[1:]) for k, v in outs.items()}
