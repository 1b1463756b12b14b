"""Rank-expanding initialization of the first layer of a ReLU coordinate MLP.

The paper that names it (Zheng, Saratchandran, Lucey 2026) does not publish the formula; the one
here is ours, derived below and verified with :mod:`rankfield.inr.diagnostics`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rankfield.errors import InputError

__all__ = ["rank_expanding_init_"]


@torch.no_grad()
def rank_expanding_init_(layer: nn.Module, domain: tuple[float, float] = (-1.0, 1.0), feature_rms: float = 1.0,
                         margin: float = 0.05, n_samples: int = 4096, seed: int = 0) -> nn.Module:
    """Initialize the first ReLU layer so its feature matrix over the domain has rank close to its width.

    **Derivation (ours).** Neuron ``i`` of the first layer computes ``phi_i(x) = relu(w_i . x + b_i)``
    on inputs ``x`` in the box ``[lo, hi]^p``. Write ``w_i = s_i u_i`` with ``|u_i| = 1``: the kink of
    ``phi_i`` is the hyperplane ``u_i . x = t_i`` with ``t_i = -b_i / s_i``. The feature matrix
    ``Z0[n, i] = phi_i(x_n)`` over a dense grid loses rank in three ways, each of which the default
    init allows:

    1. a kink outside the box makes ``phi_i`` either identically zero or affine on the box, and all
       affine features together span only ``p + 1`` dimensions;
    2. kinks that nearly coincide (same direction and offset) give nearly collinear columns;
    3. columns of very different norms let a few features dominate the spectrum (a diagonal
       column scaling changes the singular values, not the span; the best one for conditioning is
       column equilibration, by Van der Sluis' theorem).

    The init removes each cause: (1) every offset ``t_i`` is placed inside the range that
    ``u_i . x`` takes on the box, ``[c_i - h_i, c_i + h_i]`` with ``c_i = u_i . centre`` and
    ``h_i = (hi - lo)/2 * ||u_i||_1``, shrunk by ``margin`` at both ends so each neuron is active on a
    sizeable part of the box; (2) directions are spread evenly (stratified angles for ``p = 2``,
    alternating signs for ``p = 1``, normalized Gaussians otherwise) and offsets are stratified
    quantiles in a random order, so no two kinks coincide; (3) ``s_i`` equalizes the root-mean-square
    of every feature over the box to ``feature_rms`` (estimated on ``n_samples`` scrambled Sobol
    points), so no column dominates. Layers after the first keep their default init.
    Measured on a 200x200 grid of ``[-1, 1]^2``, width 256 (float64 features; ``tests/inr/test_init.py``):
    numerical rank of ``Z0`` at ``rtol`` 1e-2 / 1e-3 / 1e-4 / 1e-5 is 15 / 67 / 193 / 208 with PyTorch's
    default init (about 48 units dead or affine on the box: exact collapse) and 58 / 146 / 244 / 256
    with this init. The spectrum of ReLU ridge features still decays, so "close to the width" holds
    from ``rtol ~ 1e-4`` down, not at coarse tolerances.

    **What it does not do (measured, issue 14).** The paper reports ReLU + REI 1.5 dB below PE; here the
    gap stays near 9 dB, and no first-layer-only variant we tried closes it. On a development image
    (DIV2K #7, 128x128, 3x128, 2000 full-batch Adam steps, lr 1e-3): default ReLU 22.6 dB (effective
    rank of ``Z0`` 9.6), this init 24.8 dB (24.4), kinks through uniformly drawn points of the box with
    the default directions 23.0 dB (9.8), this init with every feature scaled by 0.3 / 3 / 10 23.9 /
    25.1 / 24.2 dB (24.4: a scale does not change the features' shape), ReLU + PE 33.6 dB (76.6). The
    reason is in the features: ``relu(s (u . x - t))`` is a ramp whatever ``s``, ``u`` and ``t``, and the
    Gram matrix of ramps over the box has a spectrum that decays polynomially, so the entropy (effective)
    rank grows only by about 9 per doubling of the width (24.5 / 33.5 / 42.5 at widths 128 / 256 / 512 on
    a 100x100 grid, seeds 0-2), while PE's grows in proportion to the width (93 / 166 / 294). Numerical rank near the width is reachable (above) and is what the paper's proposition is
    about; effective rank, which is what predicts PSNR here, is not reachable with ReLU ramps in the
    first layer alone. On held-out pixels (train on every other pixel) the order changes: ReLU 22.5,
    REI 24.1, PE 13.5 (it overfits), SIREN 28.5 dB.

    Args:
        layer: an ``nn.Linear``-like module with ``weight (D, p)`` and ``bias (D,)`` (a
            :class:`~rankfield.inr.layers.ConditionedLinear` is re-frozen after).
        domain: ``(lo, hi)`` of every input coordinate (rankfield uses ``[-1, 1]``).
        feature_rms: target RMS of each first-layer feature over the domain.
        margin: fraction of each neuron's offset range kept free at both ends.
        n_samples: Sobol points used to estimate each feature's RMS.
        seed: seed of the directions, offsets and sample points.

    Examples:
        >>> layer = rank_expanding_init_(nn.Linear(2, 64))
        >>> layer.weight.shape
        torch.Size([64, 2])
    """
    weight = getattr(layer, "raw_weight", None)
    weight = layer.weight if weight is None else weight
    bias = layer.bias
    if bias is None:
        raise InputError("rank-expanding init needs a first layer with a bias (the bias places the kinks)")
    if weight.is_complex():
        raise InputError("rank-expanding init is for real ReLU layers")
    lo, hi = map(float, domain)
    if not hi > lo:
        raise InputError(f"domain must be (lo, hi) with hi > lo, got {domain}")
    if not 0 <= margin < 0.5:
        raise InputError(f"margin must be in [0, 0.5), got {margin}")
    D, p = weight.shape
    gen = torch.Generator().manual_seed(seed)
    if p == 1:
        u = torch.ones(D, 1)
        u[1::2] = -1
    elif p == 2:
        theta = 2 * math.pi * (torch.arange(D, dtype=torch.float64) + torch.rand(D, generator=gen, dtype=torch.float64)) / D
        u = torch.stack([theta.cos(), theta.sin()], dim=1)
    else:
        u = torch.randn(D, p, generator=gen, dtype=torch.float64)
        u = u / u.norm(dim=1, keepdim=True)
    u = u.to(torch.float64)
    centre = torch.full((p,), (lo + hi) / 2, dtype=torch.float64)
    c = u @ centre
    h = (hi - lo) / 2 * u.abs().sum(1)
    q = (torch.randperm(D, generator=gen).to(torch.float64) + torch.rand(D, generator=gen, dtype=torch.float64)) / D
    t = c - h + 2 * h * (margin + (1 - 2 * margin) * q)
    sobol = torch.quasirandom.SobolEngine(p, scramble=True, seed=seed)
    x = lo + (hi - lo) * sobol.draw(n_samples, dtype=torch.float64)
    rms = torch.relu(x @ u.T - t).pow(2).mean(0).sqrt().clamp(min=1e-8)
    s = feature_rms / rms
    weight.copy_((s[:, None] * u).to(weight.dtype))
    bias.copy_((-s * t).to(bias.dtype))
    if hasattr(layer, "refreeze"):
        layer.refreeze()
    return layer
