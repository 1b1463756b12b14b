"""Rank, conditioning and NTK diagnostics of weights and layer features.

Definitions (``s`` = singular values, descending):

* stable rank ``sum((s / s_max)^2)`` (the sine low-rank authors' form; ``||A||_F^2 / ||A||_2^2``),
* effective rank ``exp(H(p))`` with ``p = s / sum(s)`` (Roy & Vetterli's entropy rank),
* numerical rank ``#{s_i > rtol * s_max}``; ``rtol`` defaults to ``1e-4``, well above float32 round-off
  (~1e-7) so exact collapse (dead or affine-only ReLU units) is always counted, yet loose enough that
  near-collinear features count as lost. Rank curves over several tolerances are in docs/benchmarks.md.
* condition number ``s_max / s_min`` (over the ``min(m, n)`` singular values).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["singular_values", "stable_rank", "effective_rank", "numerical_rank", "condition_number",
           "layer_features", "rank_report", "ntk_spectrum", "DEFAULT_RTOL"]

DEFAULT_RTOL = 1e-4


def singular_values(a: torch.Tensor) -> torch.Tensor:
    """Singular values of a matrix in float64 (descending); complex matrices are supported.

    Examples:
        >>> import torch
        >>> from rankfield.inr.diagnostics import singular_values
        >>> singular_values(torch.diag(torch.tensor([1.0, 3.0, 2.0]))).tolist()
        [3.0, 2.0, 1.0]
    """
    a = a.detach()
    a = a.to(torch.complex128) if a.is_complex() else a.to(torch.float64)
    if a.ndim != 2:
        raise ValueError(f"expected a matrix, got shape {tuple(a.shape)}")
    return torch.linalg.svdvals(a.cpu())


def stable_rank(a: torch.Tensor) -> float:
    """Stable rank ``||A||_F^2 / ||A||_2^2``: a rank that small singular values barely move.

    Examples:
        >>> import torch
        >>> from rankfield.inr.diagnostics import stable_rank
        >>> stable_rank(torch.diag(torch.tensor([2.0, 1.0, 0.0])))
        1.25
    """
    s = singular_values(a)
    return float(((s / s[0]) ** 2).sum()) if s[0] > 0 else 0.0


def effective_rank(a: torch.Tensor) -> float:
    """Effective rank (Roy & Vetterli 2007): ``exp`` of the entropy of the normalised singular values.

    Equals ``k`` for ``k`` equal singular values; between 1 and the numerical rank otherwise.

    Examples:
        >>> import torch
        >>> from rankfield.inr.diagnostics import effective_rank
        >>> round(effective_rank(torch.eye(5)), 6)
        5.0
    """
    s = singular_values(a)
    if s.sum() <= 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def numerical_rank(a: torch.Tensor, rtol: float = DEFAULT_RTOL) -> int:
    """Number of singular values above ``rtol`` times the largest (default ``1e-4``).

    Examples:
        >>> import torch
        >>> from rankfield.inr.diagnostics import numerical_rank
        >>> numerical_rank(torch.diag(torch.tensor([1.0, 1e-3, 1e-6])))
        2
    """
    s = singular_values(a)
    return int((s > rtol * s[0]).sum()) if s[0] > 0 else 0


def condition_number(a: torch.Tensor) -> float:
    """``s_max / s_min`` of the singular values (``inf`` for a singular matrix).

    Examples:
        >>> import torch
        >>> from rankfield.inr.diagnostics import condition_number
        >>> condition_number(torch.diag(torch.tensor([4.0, 2.0])))
        2.0
    """
    s = singular_values(a)
    return float(s[0] / s[-1]) if s[-1] > 0 else float("inf")


@torch.no_grad()
def layer_features(model: nn.Module, coords: torch.Tensor, batch_statistics: bool = False) -> list[torch.Tensor]:
    """Post-activation features of every hidden layer of a :class:`CoordinateMLP` over ``coords``.

    Returns a list of ``(N, width)`` matrices; element 0 is the first-layer feature matrix ``Z0``.
    ``batch_statistics=True`` evaluates BatchNorm with the statistics of ``coords`` (as in training)
    instead of its running averages, without updating them; at init that is what BatchNorm does to
    the inlet.

    Example:
        >>> import torch
        >>> from rankfield.inr import CoordinateMLP, image_coordinates
        >>> from rankfield.inr.diagnostics import layer_features
        >>> model = CoordinateMLP(in_features=2, out_features=1, width=16, depth=3, activation="sine")
        >>> feats = layer_features(model, image_coordinates(4, 4).reshape(-1, 2))
        >>> len(feats), feats[0].shape
        (3, torch.Size([16, 16]))
    """
    if not hasattr(model, "hidden_features_list"):
        raise TypeError("layer_features needs a model with hidden_features_list(coords) (e.g. CoordinateMLP)")
    was_training = model.training
    model.eval()
    saved = {}
    if batch_statistics:
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                saved[m] = m.track_running_stats, m.running_mean, m.running_var
                m.track_running_stats, m.running_mean, m.running_var = False, None, None
    try:
        return [f.detach() for f in model.hidden_features_list(coords)]
    finally:
        for m, (track, mean, var) in saved.items():
            m.track_running_stats, m.running_mean, m.running_var = track, mean, var
        model.train(was_training)


def rank_report(a: torch.Tensor, rtol: float = DEFAULT_RTOL) -> dict:
    """All rank measures of one matrix as a dict.

    Example:
        >>> import torch
        >>> from rankfield.inr.diagnostics import rank_report
        >>> rep = rank_report(torch.diag(torch.tensor([4.0, 2.0, 1.0, 0.0])))
        >>> sorted(rep)
        ['condition_number', 'effective_rank', 'numerical_rank', 'stable_rank']
        >>> rep["numerical_rank"], round(rep["stable_rank"], 4)
        (3, 1.3125)
    """
    return {"stable_rank": stable_rank(a), "effective_rank": effective_rank(a),
            "numerical_rank": numerical_rank(a, rtol), "condition_number": condition_number(a)}


def ntk_spectrum(model: nn.Module, coords: torch.Tensor, output_index: int | None = None) -> torch.Tensor:
    """Eigenvalues (descending) of the empirical NTK ``K = J J^T`` over ``coords`` (use a small set).

    ``J`` is the Jacobian of the (summed, or ``output_index``-th) output w.r.t. all parameters,
    computed per sample with ``torch.func`` (vmap of jacrev of a functional call).

    Example:
        >>> import torch
        >>> from rankfield.inr import CoordinateMLP
        >>> from rankfield.inr.diagnostics import ntk_spectrum
        >>> model = CoordinateMLP(in_features=1, out_features=1, width=8, depth=2, activation="relu")
        >>> eig = ntk_spectrum(model, torch.linspace(-1, 1, 6)[:, None])
        >>> eig.shape, bool((eig[:-1] >= eig[1:]).all())
        (torch.Size([6]), True)
    """
    from torch.func import functional_call, jacrev, vmap

    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}

    def f(p, x):
        out = functional_call(model, (p, buffers), (x[None],))[0]
        out = out.real if out.is_complex() else out
        return out.sum() if output_index is None else out[output_index]

    jac = vmap(jacrev(f), in_dims=(None, 0))(params, coords)
    J = torch.cat([j.reshape(coords.shape[0], -1) for j in jac.values()], dim=1).to(torch.float64)
    K = J @ J.T
    return torch.linalg.eigvalsh(K).flip(0).clamp(min=0)
