"""Rank-expanding initializations of ReLU coordinate MLPs.

:func:`rank_expanding_init_` is the paper's rule (first layer only). The paper that names it (Zheng,
Saratchandran, Lucey 2026) does not publish the formula; the one here is ours, derived below and verified with
:mod:`rankfield.inr.diagnostics`. :func:`hat_basis_init_` is our two-layer variant (first and second layers),
built because no first-layer-only rule reproduced the paper's effect here (measured, issue 14).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rankfield.errors import InputError

__all__ = ["rank_expanding_init_", "hat_basis_init_"]


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
    features are ramps, ``relu(s (u . x - t))`` whatever ``s``, ``u`` and ``t``; with this rule's placement
    (kinks spread over the box, equal RMS) the Gram matrix of the ramps has a spectrum that decays
    polynomially, and the entropy (effective) rank grows only by about 9 per doubling of the width
    (24.5 / 33.5 / 42.5 at widths 128 / 256 / 512 on a 100x100 grid, seeds 0-2), while PE's grows in
    proportion to the width (93 / 166 / 294).

    **The first layer is not what limits the ReLU MLP here** (``benchmarks/dev/rei_bound_exp.py``, images
    #7 / #5). (a) A higher effective rank of ``Z0`` is reachable but does not help: gradient ascent on the
    effective rank over all first-layer weights and biases, started from this init, reaches 76.1 on the
    128x128 grid (PE 76.6), by confining most units to thin strips at the edge of the box (median unit
    active on 0.6% of the pixels); as an init it fits worse, 23.9 / 16.6 dB against this init's
    24.8 / 20.1. (b) The first layer that training itself finds does not help either: the first layer of a
    net trained 2000 steps on the same image, with the other layers re-initialized, reaches 25.0 / 20.0 dB
    in another 2000 steps. (c) Measures of the net at init (``benchmarks/dev/rei_ntk_exp.py``) do not
    predict the trained PSNR across designs: on a 32x32 sub-grid the empirical NTK of ReLU + PE has an
    effective rank of 5.2, below REI's 11.0 and the hat basis's 67.2, and PE fits best; the
    rank-maximised first layer has an NTK of effective rank 1.0. So numerical rank near the width is
    reachable (above) and is what the paper's proposition is about, but no first-layer-only change we
    could construct or find by optimisation lifts this architecture more than ~2.5 dB above the default
    ReLU, against the 7-11 dB that separate it from ReLU + PE. On
    held-out pixels (train on every other pixel) the order changes: ReLU 22.5, REI 24.1, PE 13.5 (it
    overfits), SIREN 28.5 dB. The benchmark's main protocol (``benchmarks/inr_images.py``,
    DIV2K #0-1, 128x128, 2000 steps) agrees: ReLU 19.39, REI 21.07, PE 30.22 dB. The closest variant that
    works is ours and changes the second layer too: :func:`hat_basis_init_` (25.47 dB there).

    Args:
        layer: an ``nn.Linear``-like module with ``weight (D, p)`` and ``bias (D,)`` (a
            :class:`~rankfield.inr.layers.ConditionedLinear` is re-frozen after).
        domain: ``(lo, hi)`` of every input coordinate (rankfield uses ``[-1, 1]``).
        feature_rms: target RMS of each first-layer feature over the domain.
        margin: fraction of each neuron's offset range kept free at both ends.
        n_samples: Sobol points used to estimate each feature's RMS.
        seed: seed of the directions, offsets and sample points.

    Examples:
        >>> from torch import nn
        >>> from rankfield.inr import rank_expanding_init_
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


def _hat_functions(lo: float, hi: float, n_grid: int) -> list[tuple[int, float, float]]:
    """``(level, centre, half_width)`` of the Faber-Schauder hats on ``[lo, hi]``, coarse to fine.

    Level ``l`` has ``2**l`` hats of half-width ``(hi - lo) / 2**(l + 1)``; levels stop at the first one
    whose half-width is below the kink spacing ``(hi - lo) / n_grid``.
    """
    h = (hi - lo) / n_grid
    hats, level = [], 0
    while True:
        w = (hi - lo) / 2 ** (level + 1)
        if w < h * (1 - 1e-9):
            return hats
        hats += [(level, lo + (2 * i + 1) * w, w) for i in range(2 ** level)]
        level += 1


@torch.no_grad()
def hat_basis_init_(first: nn.Module, second: nn.Module, domain: tuple[float, float] = (-1.0, 1.0),
                    feature_rms: float = 1.0) -> tuple[nn.Module, nn.Module]:
    """Initialize the first TWO layers of a ReLU MLP so the second layer's features are a hierarchical hat basis.

    **Ours, not the paper's.** The rank-expanding init of the paper acts on the first layer only; every
    first-layer-only rule we measured stays 5-9 dB below ReLU + PE (see :func:`rank_expanding_init_`), because
    first-layer ReLU features are ramps and the spectrum of any set of ramps decays polynomially. A linear
    combination of ramps can be any piecewise-linear function with kinks at the ramps' kinks, and the second
    layer computes exactly such combinations. So:

    1. **First layer**: ``D0 // p`` ramps per input axis, ``relu(x_a - t_j)`` with unit slope and kinks on
       the regular grid ``t_j = lo + j h``, ``h = (hi - lo) / (D0 // p)`` (``t_0 = lo``: that ramp is the
       affine function ``x_a - lo``). Leftover units (``D0 mod p``) keep their default init.
    2. **Second layer**: unit ``k`` gets the weights and bias that make its pre-activation a hat function
       of one coordinate, written exactly in the ramps (weights = the hat's slope changes at the grid
       points, bias = its value at ``lo``). The hats are the Faber-Schauder (hierarchical) basis of the
       piecewise-linear functions on the grid: level ``l`` has ``2**l`` hats of half-width
       ``(hi - lo) / 2**(l+1)``, coarse to fine, the axes interleaved, down to the grid spacing
       (63 hats per axis for 64 ramps). Hats are non-negative, so the ReLU passes them unchanged; each is
       scaled to root-mean-square ``feature_rms`` over the box (column equilibration, as in the first-layer
       rule). Second-layer units beyond the hats keep their default init; hats beyond the width are dropped
       from the finest level. Hats whose kinks fall between grid points (grids that are not a power of two)
       are replaced by their interpolant on the grid.

    The second layer's features are then a multi-scale, local and well-conditioned basis (like PE, separable
    per axis; unlike PE, compact). Layers after the second keep their default init; nothing is frozen and the
    architecture is unchanged: a plain ReLU MLP of depth >= 2.

    Measured (issue 14, ``benchmarks/dev/rei2_exp.py``; development image DIV2K #7, 128x128, 3x128, 2000
    full-batch Adam steps, lr 1e-3, seed 3): effective rank of the second-layer features 103.5 (single-scale
    hats 123.8; the first-layer REI's first-layer features 24.4); PSNR 29.5 dB against ReLU 22.6, ReLU + REI
    24.8 and ReLU + PE 33.6; single-scale hats 28.7 dB, triangle waves at dyadic frequencies (a triangle-wave
    PE, 22 units) 25.9 dB; first-layer slope 0.3 / 3 instead of 1: 27.2 / 29.2 dB. Second development image
    (#5): ReLU 18.6, REI 20.1, this init 26.8, PE 30.7 dB. Benchmark main protocol (``benchmarks/inr_images.py``,
    DIV2K #0-1, same settings): ReLU 19.39, REI 21.07, this init 25.47, PE 30.22 dB: +6.1 dB over ReLU, 4.75 dB
    below PE (the paper's first-layer claim is 1.5 dB below PE; not reached by this variant either).

    Where the remaining gap comes from (``benchmarks/dev/rei_bound_exp.py``, ``rei3_exp.py``, images #7 / #5):
    the init spends two of the three hidden layers on building its basis, so one layer is left to combine
    it. ReLU + PE with one hidden layer reaches 25.5 / 23.0 dB, with two 30.9 / 28.4, with three 33.6 /
    30.7; this init (29.4 / 26.3 in the same run) sits between one and two. Fewer hats, the other
    second-layer units left at the default init to mix, do worse: 30 / 62 / 94 / 126 hats give 25.9 / 28.1 /
    28.8 / 29.4 dB on #7.

    Args:
        first: the first ``nn.Linear``-like layer, ``weight (D0, p)`` with a bias.
        second: the second layer, ``weight (D1, D0)`` with a bias (dense: row equilibration of a conditioned
            layer would rescale the hats' weights and not their biases).
        domain: ``(lo, hi)`` of every input coordinate (rankfield uses ``[-1, 1]``).
        feature_rms: root-mean-square of every hat over the box.

    Returns:
        ``(first, second)``, initialized in place.

    Examples:
        >>> import torch
        >>> from torch import nn
        >>> from rankfield.inr import hat_basis_init_
        >>> first, second = hat_basis_init_(nn.Linear(2, 64), nn.Linear(64, 64))
        >>> x = torch.tensor([[0.0, -0.9]])
        >>> torch.relu(second(torch.relu(first(x))))[0, 0].item() > 0  # the level-0 hat of y peaks at 0
        True
    """
    lo, hi = map(float, domain)
    if not hi > lo:
        raise InputError(f"domain must be (lo, hi) with hi > lo, got {domain}")
    if hasattr(second, "raw_weight"):
        raise InputError("hat-basis init needs a dense second layer (a conditioned one would rescale the hats' weights, not their biases)")
    weights = []
    for name, layer in (("first", first), ("second", second)):
        w = getattr(layer, "raw_weight", None)
        w = layer.weight if w is None else w
        if getattr(layer, "bias", None) is None or not isinstance(w, torch.Tensor) or w.dim() != 2:
            raise InputError(f"hat-basis init needs a dense {name} layer with a bias (weight matrix and bias)")
        if w.is_complex():
            raise InputError("hat-basis init is for real ReLU layers")
        weights.append(w)
    w0, w1 = weights
    d0, p = w0.shape
    d1 = w1.shape[0]
    if w1.shape[1] != d0:
        raise InputError(f"the second layer takes {w1.shape[1]} inputs but the first has {d0} units")
    per = d0 // p
    if per < 2:
        raise InputError(f"hat-basis init needs at least 2 first-layer units per input axis, got width {d0} for {p} axes")
    h = (hi - lo) / per
    t = lo + h * torch.arange(per, dtype=torch.float64)
    tt = torch.cat([t, torch.tensor([hi], dtype=torch.float64)])
    W0 = torch.zeros(p * per, p, dtype=torch.float64)
    for a in range(p):
        W0[a * per:(a + 1) * per, a] = 1.0
    b0 = -t.repeat(p)
    hats = sorted(((lvl, a, c, w) for a in range(p) for lvl, c, w in _hat_functions(lo, hi, per)),
                  key=lambda z: (z[0], z[2], z[1]))[:d1]
    s = torch.linspace(lo, hi, 4001, dtype=torch.float64)
    ramps = torch.relu(s[:, None] - t)
    W1 = torch.zeros(len(hats), d0, dtype=torch.float64)
    b1 = torch.zeros(len(hats), dtype=torch.float64)
    for k, (_, a, c, w) in enumerate(hats):
        g = (1 - (tt - c).abs() / w).clamp(min=0)  # the hat at the grid points (and at hi)
        slope = (g[1:] - g[:-1]) / h
        coef = torch.cat([slope[:1], slope[1:] - slope[:-1]])
        rms = (ramps @ coef + g[0]).pow(2).mean().sqrt()
        W1[k, a * per:(a + 1) * per] = coef * feature_rms / rms
        b1[k] = g[0] * feature_rms / rms
    w0[: p * per].copy_(W0.to(w0.dtype))
    first.bias[: p * per].copy_(b0.to(first.bias.dtype))
    w1[: len(hats)].copy_(W1.to(w1.dtype))
    second.bias[: len(hats)].copy_(b1.to(second.bias.dtype))
    for layer in (first, second):
        if hasattr(layer, "refreeze"):
            layer.refreeze()
    return first, second
