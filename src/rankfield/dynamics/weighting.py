"""Row weights of the SINDy regression: :func:`bias_weights`, and :func:`fit_weighted`, which hands them to
the optimizer of a ``ps.SINDy`` fit as data (``SINDy.fit`` takes no ``sample_weight``)."""

from __future__ import annotations

import inspect

import numpy as np

from rankfield.errors import InputError

__all__ = ["bias_weights", "fit_weighted", "BIAS_WEIGHTING_C", "BIAS_WEIGHTING_DEFAULT"]

BIAS_WEIGHTING_DEFAULT = "auto"
BIAS_WEIGHTING_C = 10.0


def bias_weights(x_dot, t, c: float = BIAS_WEIGHTING_C) -> np.ndarray:
    """Row scales that down-weight the samples where a smoothed derivative is most biased.

    A smoother's derivative is biased in proportion to the signal's third derivative (for a kernel of width
    ``h``, about ``h^2 x''' / 2``), so the samples around sharp features (Rossler's ``z`` spikes) carry a
    systematic error that the regression otherwise explains with spurious terms. Row ``n`` gets
    ``1 / (1 + (r_n / (c median r))^2)`` with ``r_n = sum_j |x_j'''(t_n)| / std(x_j''')`` and ``x'''`` from
    second differences of the (smooth) derivative ``x_dot``; ``c`` sets where the down-weighting starts (rows
    with ``r`` below ``c`` times its median keep most of their weight). Meant for smooth derivatives
    (RKTV-INR's): second differences of a noisy finite-difference derivative are mostly noise.

    Args:
        x_dot: ``(n, d)`` derivative estimates at the times ``t``.
        t: ``(n,)`` sample times.
        c: where the down-weighting starts, in multiples of the median of ``r``.

    Returns:
        ``(n,)`` row scales in ``(0, 1]``: residual ``n`` of the regression is multiplied by the ``n``-th.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics.weighting import bias_weights
        >>> t = np.linspace(0, 1, 201)
        >>> x_dot = np.stack([np.cos(t), np.exp(-((t - 0.5) / 0.02) ** 2)], axis=1)  # a sharp bump at t = 0.5
        >>> w = bias_weights(x_dot, t, c=1.0)
        >>> print(round(float(w[100]), 2), round(float(w[20]), 2))  # at the bump, and away from it
        0.18 0.46
    """
    x_dot = np.asarray(x_dot, dtype=float)
    t = np.asarray(t, dtype=float).reshape(-1)
    if x_dot.ndim != 2 or x_dot.shape[0] != t.shape[0] or t.shape[0] < 3:
        raise InputError(f"bias_weights needs x_dot of shape (n, d) with n = len(t) >= 3, got x_dot {x_dot.shape} "
                         f"and {t.shape[0]} times")
    if isinstance(c, bool) or not isinstance(c, (int, float, np.integer, np.floating)) or not c > 0:
        raise InputError(f"the bias weighting's c must be a number > 0, got {c!r}")
    x3 = np.gradient(np.gradient(x_dot, t, axis=0), t, axis=0)
    sd = np.nanstd(x3, axis=0)
    flat = ~(sd > 1e-9 * np.nanmax(sd, initial=0.0))  # x''' constant up to round-off: no bias pattern to weight
    sd[flat] = np.inf
    r = np.nansum(np.abs(x3) / sd, axis=1)
    med = float(np.median(r))
    return np.ones(len(t)) if not med > 0 else 1.0 / (1.0 + (r / (c * med)) ** 2)


def takes_sample_weight(optimizer) -> bool:
    """Whether ``optimizer.fit`` takes ``sample_weight`` (PySINDy's optimizers and rankfield's do).

    Examples:
        >>> import pysindy as ps
        >>> takes_sample_weight(ps.STLSQ())
        True
    """
    return "sample_weight" in inspect.signature(optimizer.fit).parameters


class _Weighted:
    """Stands in for an optimizer during one ``SINDy.fit``: its ``fit(Theta, x_dot)`` is the optimizer's
    ``fit(Theta, x_dot, sample_weight=...)``, the weights given as data."""

    def __init__(self, optimizer, sample_weight):
        self.optimizer = optimizer
        self.sample_weight = sample_weight

    def fit(self, x, y):
        self.optimizer.fit(x, y, sample_weight=self.sample_weight)
        return self


def fit_weighted(model, x, t, x_dot, feature_names=None, sample_weight=None):
    """``model.fit(x, t, x_dot=x_dot, feature_names=...)`` with the regression's rows weighted by ``sample_weight``.

    ``ps.SINDy.fit`` does not forward row weights to its optimizer; this fit hands ``model.optimizer`` an adaptor
    that calls ``optimizer.fit(Theta, x_dot, sample_weight=sample_weight)`` (PySINDy multiplies row ``n`` of
    ``Theta`` and ``x_dot`` by ``sqrt(sample_weight[n])``) and puts the optimizer back afterwards, so the fitted
    model holds the optimizer itself and the optimizer keeps no trace of the weights.

    Args:
        model: a ``ps.SINDy`` whose optimizer's ``fit`` takes ``sample_weight`` (:func:`takes_sample_weight`).
        x, t, x_dot, feature_names: as for ``ps.SINDy.fit`` (a list of trajectories or one).
        sample_weight: ``(n_rows,)`` weights, one per sample in the trajectories' order, or ``None`` (plain fit).

    Returns:
        ``model``, fitted.

    Examples:
        >>> import numpy as np, pysindy as ps
        >>> from rankfield.dynamics.weighting import fit_weighted
        >>> t = np.linspace(0, 1, 50)
        >>> x = np.exp(-t)[:, None]
        >>> w = np.where(t < 0.5, 1.0, 1e-6)  # the late rows all but left out
        >>> x_dot = -x + np.where(t < 0.5, 0.0, 5.0)[:, None]  # ... where the derivative is wrong
        >>> model = fit_weighted(ps.SINDy(optimizer=ps.STLSQ(threshold=0.1), feature_library=ps.PolynomialLibrary(1)),
        ...                      x, t, x_dot, feature_names=["x"], sample_weight=w)
        >>> np.round(model.coefficients(), 2), type(model.optimizer).__name__
        (array([[ 0., -1.]]), 'STLSQ')
    """
    if sample_weight is None:
        return model.fit(x, t, x_dot=x_dot, feature_names=feature_names)
    optimizer = model.optimizer
    if not takes_sample_weight(optimizer):
        raise InputError("row weights need an optimizer whose fit() takes sample_weight (PySINDy's do)")
    model.optimizer = _Weighted(optimizer, sample_weight)
    try:
        model.fit(x, t, x_dot=x_dot, feature_names=feature_names)
    finally:
        model.optimizer = optimizer
    return model
