"""Error metrics for equation discovery (all relative errors use the Frobenius / L2 norm over all entries).

Examples:
    >>> import numpy as np
    >>> from rankfield.dynamics.metrics import coefficient_error, support_recovered, wrong_terms
    >>> xi_true = np.array([[0.0, -10.0, 10.0]]); xi = np.array([[0.1, -9.0, 10.0]])
    >>> round(coefficient_error(xi, xi_true), 3), support_recovered(xi, xi_true), wrong_terms(xi, xi_true)
    (0.071, False, 1)
"""

from __future__ import annotations

import numpy as np

from rankfield.errors import InputError

__all__ = ["coefficient_error", "support_recovered", "wrong_terms", "relative_error", "derivative_error",
           "state_error", "forecast_error"]


def _pair(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise InputError(f"shape mismatch: {a.shape} vs {b.shape}")
    return a, b


def coefficient_error(xi, xi_true) -> float:
    """``||Xi - Xi*||_F / ||Xi*||_F`` over all coefficients."""
    xi, xi_true = _pair(xi, xi_true)
    return float(np.linalg.norm(xi - xi_true) / np.linalg.norm(xi_true))


def support_recovered(xi, xi_true, tol: float = 0.0) -> bool:
    """Exact support recovery: the nonzero pattern (``|c| > tol``) equals the true one."""
    xi, xi_true = _pair(xi, xi_true)
    return bool(np.array_equal(np.abs(xi) > tol, xi_true != 0))


def wrong_terms(xi, xi_true, tol: float = 0.0) -> int:
    """Spurious plus missing terms."""
    xi, xi_true = _pair(xi, xi_true)
    return int(np.sum((np.abs(xi) > tol) != (xi_true != 0)))


def relative_error(estimate, truth, trim: int = 0) -> float:
    """``||a - b||_F / ||b||_F`` over rows ``trim:-trim`` where both are finite (rows with NaN are skipped)."""
    a, b = _pair(estimate, truth)
    if trim:
        a, b = a[trim:-trim], b[trim:-trim]
    ok = np.all(np.isfinite(a), axis=-1) & np.all(np.isfinite(b), axis=-1)
    if not ok.any():
        return float("nan")
    return float(np.linalg.norm(a[ok] - b[ok]) / np.linalg.norm(b[ok]))


def derivative_error(x_dot, x_dot_true, trim: int = 0) -> float:
    """Relative L2 error of an estimated derivative against the clean one."""
    return relative_error(x_dot, x_dot_true, trim)


def state_error(x, x_true, trim: int = 0) -> float:
    """Relative L2 error of a (denoised) state against the clean one."""
    return relative_error(x, x_true, trim)


def forecast_error(x_sim, x_true) -> float:
    """Relative L2 error of a simulated trajectory over the horizon; ``inf`` if it blew up (NaN/Inf)."""
    a, b = _pair(x_sim, x_true)
    if not np.all(np.isfinite(a)):
        return float("inf")
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))
