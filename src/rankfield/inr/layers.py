"""Linear layers for coordinate MLPs: weight-conditioned, low-rank and sine-activated low-rank.

All expose ``.weight`` (the effective matrix, as a property where it is computed), ``in_features``,
``out_features`` and ``bias`` like :class:`torch.nn.Linear`, so diagnostics treat them alike.
"""

from __future__ import annotations

import math

import torch
from torch import nn
import torch.nn.functional as F

from rankfield.errors import InputError

__all__ = ["ConditionedLinear", "LowRankLinear", "SineLowRankLinear", "LINEAR_TYPES", "make_linear"]

_MODES = ("row", "col", "rowcol")


def _check_dims(in_features, out_features):
    for name, v in (("in_features", in_features), ("out_features", out_features)):
        if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
            raise InputError(f"{name} must be a positive integer, got {v!r}")


def _equilibrate(w: torch.Tensor, mode: str, iters: int = 3, eps: float = 1e-12):
    """Return diagonal scalings ``(r, c)`` so that ``diag(r) @ w @ diag(c)`` is equilibrated."""
    r = torch.ones(w.shape[0], device=w.device, dtype=w.real.dtype)
    c = torch.ones(w.shape[1], device=w.device, dtype=w.real.dtype)
    a = w.abs()
    if mode == "row":
        r = 1.0 / (a.pow(2).sum(1).sqrt() + eps)
    elif mode == "col":
        c = 1.0 / (a.pow(2).sum(0).sqrt() + eps)
    else:  # rowcol: alternate row / column 2-norm scaling (Sinkhorn-Knopp-like, a few passes)
        for _ in range(iters):
            r = 1.0 / ((a * c).pow(2).sum(1).sqrt() + eps)
            c = 1.0 / ((r[:, None] * a).pow(2).sum(0).sqrt() + eps)
    return r, c


class ConditionedLinear(nn.Module):
    """Linear layer with a diagonally equilibrated weight (weight conditioning, Saratchandran et al. 2024).

    The effective weight is ``W_eff = s * diag(r) W diag(c)``: ``mode="row"`` gives every row the same
    2-norm (row equilibration; by Van der Sluis' theorem near-optimal among diagonal preconditioners
    for the condition number), ``"col"`` every column, ``"rowcol"`` both (a few alternating passes).
    The scalar ``s`` (a buffer) keeps the Frobenius norm of ``W_eff`` equal to that of the initial
    ``W``, so conditioning does not change the layer's output scale at init.

    ``recompute=True`` recomputes ``r, c`` from the current ``W`` at every forward pass (gradients
    flow through them); ``recompute=False`` computes them once at construction (or at :meth:`refreeze`)
    and keeps them fixed: a constant diagonal preconditioner.

    Examples:
        >>> import torch
        >>> from rankfield.inr.layers import ConditionedLinear
        >>> layer = ConditionedLinear(64, 64, mode="row")
        >>> layer(torch.randn(8, 64)).shape
        torch.Size([8, 64])
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, mode: str = "row",
                 recompute: bool = True, device=None, dtype=None):
        super().__init__()
        _check_dims(in_features, out_features)
        if mode not in _MODES:
            raise InputError(f"conditioning mode must be one of {', '.join(_MODES)}, got {mode!r}")
        base = nn.Linear(in_features, out_features, bias=bias, device=device, dtype=dtype)
        self.in_features, self.out_features = in_features, out_features
        self.mode, self.recompute = mode, recompute
        self.raw_weight = base.weight
        self.bias = base.bias
        self.register_buffer("scale", torch.ones((), device=device))
        self.register_buffer("frozen_r", torch.ones(out_features, device=device))
        self.register_buffer("frozen_c", torch.ones(in_features, device=device))
        self.refreeze()

    @torch.no_grad()
    def refreeze(self) -> None:
        """Recompute the output scale (and, for ``recompute=False``, the fixed diagonal) from the current weight.

        Call after re-initializing ``raw_weight`` in place.
        """
        r, c = _equilibrate(self.raw_weight, self.mode)
        self.frozen_r.copy_(r)
        self.frozen_c.copy_(c)
        w = r[:, None] * self.raw_weight * c
        self.scale.fill_(float(self.raw_weight.norm() / (w.norm() + 1e-12)))

    @property
    def weight(self) -> torch.Tensor:
        if self.recompute:
            r, c = _equilibrate(self.raw_weight, self.mode)
        else:
            r, c = self.frozen_r, self.frozen_c
        return self.scale * (r[:, None] * self.raw_weight * c)

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, mode={self.mode}, recompute={self.recompute}"


def _check_rank(rank, in_features, out_features):
    if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
        raise InputError(f"rank must be a positive integer, got {rank!r}")
    if rank > min(in_features, out_features):
        raise InputError(f"rank {rank} is larger than the layer allows (min(in, out) = {min(in_features, out_features)})")


class LowRankLinear(nn.Module):
    """Plain low-rank linear layer ``y = U V^T x + b`` with ``U: (out, k)``, ``V: (in, k)``.

    Factors are drawn uniformly so that the entries of ``U V^T`` have variance ``init_var``
    (default ``1 / (3 in)``, the variance of :class:`torch.nn.Linear`'s default weight), so the
    layer starts at the same scale as the dense layer it replaces.

    Examples:
        >>> from rankfield.inr.layers import LowRankLinear
        >>> LowRankLinear(256, 256, rank=4).weight.shape
        torch.Size([256, 256])
    """

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True,
                 init_var: float | None = None, device=None, dtype=None):
        super().__init__()
        _check_dims(in_features, out_features)
        _check_rank(rank, in_features, out_features)
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        init_var = 1.0 / (3 * in_features) if init_var is None else init_var
        bound = math.sqrt(3.0) * (init_var / rank) ** 0.25
        self.U = nn.Parameter(torch.empty(out_features, rank, device=device, dtype=dtype).uniform_(-bound, bound))
        self.V = nn.Parameter(torch.empty(in_features, rank, device=device, dtype=dtype).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(out_features, device=device, dtype=dtype).uniform_(
            -1 / math.sqrt(in_features), 1 / math.sqrt(in_features))) if bias else None

    @property
    def weight(self) -> torch.Tensor:
        return self.U @ self.V.T

    def forward(self, x):
        # (x V) U^T costs O(k (in + out)) per sample instead of O(in * out).
        y = (x @ self.V) @ self.U.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, rank={self.rank}"


class SineLowRankLinear(nn.Module):
    """Sine-activated low-rank layer ``W = sin(omega * U V^T) / gain`` (Ji et al., ICLR 2025).

    ``sin`` is applied elementwise, so ``rank(W)`` can exceed ``k`` at the same parameter count as
    :class:`LowRankLinear`. ``omega`` and ``gain`` are fixed; ``gain`` defaults to ``sqrt(in)`` as in the
    authors' code. ``U (out, k)`` and ``V (in, k)`` start as the authors' two ``nn.Linear`` factors do:
    ``U ~ U(+-1/sqrt(k))`` (fan-in ``k``) and ``V ~ U(+-1/sqrt(in))`` (fan-in ``in``). (Until 0.1.x ``V`` was
    drawn like ``U``, which made the effective ``omega`` ``sqrt(in / k)`` times larger: 16x at ``in=256, k=1``.)

    Examples:
        >>> import torch
        >>> from rankfield.inr.layers import SineLowRankLinear
        >>> layer = SineLowRankLinear(256, 256, rank=1, omega=30.0)
        >>> int(torch.linalg.matrix_rank(layer.weight.detach())) > 1
        True
    """

    def __init__(self, in_features: int, out_features: int, rank: int, omega: float = 1000.0,
                 gain: float | None = None, bias: bool = True, device=None, dtype=None):
        super().__init__()
        _check_dims(in_features, out_features)
        _check_rank(rank, in_features, out_features)
        if not omega > 0:
            raise InputError(f"omega must be > 0, got {omega}")
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.omega = float(omega)
        self.gain = float(gain) if gain is not None else math.sqrt(in_features)
        self.U = nn.Parameter(torch.empty(out_features, rank, device=device, dtype=dtype))
        self.V = nn.Parameter(torch.empty(in_features, rank, device=device, dtype=dtype))
        # the authors' factors are two nn.Linear weights: U (out, k) with fan-in k, V^T (k, in) with fan-in
        # in, so U ~ U(+-1/sqrt(k)) and V ~ U(+-1/sqrt(in)); omega then means what it means in their code
        bound = 1 / math.sqrt(in_features)
        nn.init.kaiming_uniform_(self.U, a=math.sqrt(5))
        nn.init.uniform_(self.V, -bound, bound)
        self.bias = nn.Parameter(torch.empty(out_features, device=device, dtype=dtype).uniform_(
            -bound, bound)) if bias else None

    @property
    def weight(self) -> torch.Tensor:
        return torch.sin(self.omega * (self.U @ self.V.T)) / self.gain

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}, rank={self.rank}, omega={self.omega}, gain={self.gain:.3g}"


LINEAR_TYPES = ("dense", "conditioned", "lowrank", "sine_lowrank")


def make_linear(kind: str, in_features: int, out_features: int, *, rank: int | None = None,
                sine_omega: float = 1000.0, sine_gain: float | None = None, lowrank_init_var: float | None = None,
                conditioning: str = "row", recompute: bool = True, device=None, dtype=None) -> nn.Module:
    """Build a linear layer by kind (one of :data:`LINEAR_TYPES`).

    Example:
        >>> import torch
        >>> from rankfield.inr.layers import make_linear
        >>> dense = make_linear("dense", 8, 4)
        >>> low = make_linear("lowrank", 8, 4, rank=2)
        >>> dense(torch.zeros(3, 8)).shape, low(torch.zeros(3, 8)).shape
        (torch.Size([3, 4]), torch.Size([3, 4]))
        >>> sum(p.numel() for p in low.parameters()) < sum(p.numel() for p in dense.parameters())
        True
    """
    if kind == "dense":
        _check_dims(in_features, out_features)
        return nn.Linear(in_features, out_features, device=device, dtype=dtype)
    if kind == "conditioned":
        return ConditionedLinear(in_features, out_features, mode=conditioning, recompute=recompute, device=device, dtype=dtype)
    if kind in ("lowrank", "sine_lowrank") and rank is None:
        raise InputError(f"linear type {kind!r} needs a rank")
    if kind == "lowrank":
        return LowRankLinear(in_features, out_features, rank, init_var=lowrank_init_var, device=device, dtype=dtype)
    if kind == "sine_lowrank":
        if dtype is not None and dtype.is_complex:
            raise InputError("sine_lowrank layers are real-valued; they cannot be used with the complex WIRE activation")
        return SineLowRankLinear(in_features, out_features, rank, omega=sine_omega, gain=sine_gain, device=device, dtype=dtype)
    raise InputError(f"unknown linear type {kind!r}; choose one of {', '.join(LINEAR_TYPES)}")
