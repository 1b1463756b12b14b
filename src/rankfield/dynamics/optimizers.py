"""Sparse regressions for SINDy: the BIC/AIC threshold sweep :class:`AutoSTLSQ`, the block-bootstrap ensemble
:class:`EnsembleSTLSQ` and weak SINDy's rule :class:`MSTLS` (PySINDy optimizers).

Like PySINDy's own optimizers they take row weights as data, ``fit(Theta, x_dot, sample_weight=w)`` (residual
``n`` scaled by ``sqrt(w_n)``); :func:`~rankfield.dynamics.discover` passes :func:`~rankfield.dynamics.weighting.bias_weights`
that way.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
from pysindy.optimizers import BaseOptimizer, EnsembleOptimizer
from sklearn.base import clone

from rankfield._device import check_seed
from rankfield.errors import InputError

__all__ = ["AutoSTLSQ", "EnsembleSTLSQ", "MSTLS"]


def _stlsq(X, y, tau, max_iter=20):
    """Sequentially thresholded least squares for one target (no ridge); returns coefficients."""
    c = np.linalg.lstsq(X, y, rcond=None)[0]
    for _ in range(max_iter):
        keep = np.abs(c) >= tau
        new = np.zeros_like(c)
        if keep.any():
            new[keep] = np.linalg.lstsq(X[:, keep], y, rcond=None)[0]
        if np.array_equal(np.abs(new) >= tau, keep) and np.allclose(new, c):
            return new
        c = new
    return c


def _effective_n(X, y, decorrelation):
    """Effective sample size of one regression (see :class:`AutoSTLSQ`), clipped to ``[p + 2, n]``."""
    n, p = X.shape
    if decorrelation == "ar1":
        r = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
        rho = float(np.clip(np.dot(r[:-1], r[1:]) / max(np.dot(r, r), 1e-300), 0.0, 0.999))
        n_eff = n * (1 - rho) / (1 + rho)
    else:
        n_eff = n / decorrelation
    return float(np.clip(n_eff, p + 2.0, n))


def _best_subsets(X, y, budget=5000):
    """Best-subset regression for the small sizes: for k = 1, 2, ... while the ``C(p, k)`` subsets of k columns
    number at most ``budget``, the least-squares coefficients of the k columns with the smallest RSS (found
    exhaustively from the normal equations, the subsets of one size in one batched solve). Returns one
    coefficient vector per size."""
    p = X.shape[1]
    G, b, yy = X.T @ X, X.T @ y, float(y @ y)
    out = []
    for k in range(1, p + 1):
        if comb(p, k) > budget:
            break
        idx = np.array(list(itertools.combinations(range(p), k)), dtype=np.intp)  # (m, k)
        gram, rhs = G[idx[:, :, None], idx[:, None, :]], b[idx]
        try:
            coefs = np.linalg.solve(gram, rhs[..., None])[..., 0]
            ok = np.ones(len(idx), dtype=bool)
        except np.linalg.LinAlgError:  # a singular subset: solve them one by one, leaving those out
            coefs, ok = np.zeros_like(rhs), np.zeros(len(idx), dtype=bool)
            for i in range(len(idx)):
                try:
                    coefs[i], ok[i] = np.linalg.solve(gram[i], rhs[i]), True
                except np.linalg.LinAlgError:
                    pass
        if not ok.any():
            continue
        rss = np.where(ok, yy - np.einsum("mk,mk->m", rhs, coefs), np.inf)
        best = int(np.argmin(rss))  # the first of equal ones, as the loop over combinations kept
        c = np.zeros(p)
        c[idx[best]] = coefs[best]
        out.append(c)
    return out


def _sweep(X, y, n_eff, penalty, n_thresholds, min_ratio, max_iter, best_subsets=True):
    """Threshold sweep for one unit-scaled target: returns (coefficients, relative threshold, candidates).

    ``candidates`` lists ``(n_terms, score, support)`` of every distinct support met along the sweep and, with
    ``best_subsets``, the best subset of each small size (:func:`_best_subsets`; they carry the threshold that
    would keep them, their smallest coefficient, and are left out when that is below the sweep's range)."""
    n = X.shape[0]
    full = np.linalg.lstsq(X, y, rcond=None)[0]
    top = np.max(np.abs(full)) or 1.0
    seen, candidates = set(), []

    def add(c, tau):
        key = tuple(np.abs(c) > 0)
        if key in seen:
            return
        seen.add(key)
        rss = max(float(np.sum((y - X @ c) ** 2)), 1e-300)
        k = int(np.sum(np.abs(c) > 0))
        candidates.append((n_eff * np.log(rss / n) + penalty * k, k, float(tau), c))

    for tau in np.geomspace(min_ratio * top, top, n_thresholds):
        add(_stlsq(X, y, tau, max_iter), tau)
    if best_subsets:  # those the sweep's thresholds could keep (a numerically zero coefficient could not)
        for c in _best_subsets(X, y):
            smallest = float(np.min(np.abs(c[c != 0])))
            if smallest >= min_ratio * top:
                add(c, smallest)
    score, k, tau, c = min(candidates, key=lambda r: (r[0], r[1]))
    return c, tau / top, [(r[1], r[0], np.abs(r[3]) > 0) for r in candidates]


class AutoSTLSQ(BaseOptimizer):
    """STLSQ with the threshold chosen per equation by a sweep scored with an information criterion.

    For each target the library columns and the target are scaled to unit RMS, STLSQ (plain least squares,
    no ridge) runs over ``n_thresholds`` thresholds spaced geometrically between ``min_ratio * max|c|`` and
    ``max|c|`` (``c`` the full least-squares solution), and each distinct support is refitted and scored with
    ``n_eff * log(RSS / n) + penalty * k``. ``criterion="aic"`` uses penalty 2, ``"bic"`` uses ``log(n_eff)``.
    ``n_eff`` is the effective sample size: derivative estimates from smoothing are correlated over
    neighbouring samples, so the raw ``n`` overstates the evidence for extra terms (measured on Lorenz at 10%
    noise with raw ``n``: 12-23 wrong terms). ``decorrelation="ar1"`` (default) estimates it from the lag-1
    autocorrelation ``rho`` of the full least-squares residual, ``n_eff = n (1 - rho) / (1 + rho)``; a number
    ``c`` uses ``n / c``.
    ``best_subsets=True`` (default) adds the best subset of each small size to the candidates: for every ``k``
    whose ``C(p, k)`` subsets number at most 5000 (every ``k`` for a 10-term library), the ``k`` columns with the
    smallest least-squares RSS, found exhaustively. Thresholding visits one support per threshold and can miss
    the one with the best score when columns are collinear: on Lorenz at 30% noise (development draws) the path
    kept ``y, xz, yz`` in dx/dt and never visited the true ``{x, y}``, which scores better. With the exhaustive
    candidates the choice is the criterion's optimum over every support of those sizes.
    The chosen threshold (relative units) per equation is kept in ``thresholds_`` (for a best-subset candidate:
    its smallest coefficient), every candidate's ``(n_terms, score)`` in ``scores_``.

    Examples:
        >>> from rankfield.dynamics import AutoSTLSQ
        >>> opt = AutoSTLSQ(criterion="bic")
    """

    def __init__(self, criterion: str = "bic", n_thresholds: int = 40, min_ratio: float = 1e-3,
                 decorrelation: float | str = "ar1", max_iter: int = 20, best_subsets: bool = True):
        super().__init__(max_iter=max_iter, normalize_columns=False, unbias=False)
        self.best_subsets = best_subsets
        if criterion not in ("aic", "bic"):
            raise InputError(f"criterion must be 'aic' or 'bic', got {criterion!r}")
        if n_thresholds < 2 or not 0 < min_ratio < 1 or (decorrelation != "ar1" and not decorrelation >= 1):
            raise InputError("need n_thresholds >= 2, 0 < min_ratio < 1 and decorrelation 'ar1' or >= 1")
        self.criterion = criterion
        self.n_thresholds = n_thresholds
        self.min_ratio = min_ratio
        self.decorrelation = decorrelation

    def _penalty(self, n_eff, criterion=None):
        return 2.0 if (criterion or self.criterion) == "aic" else float(np.log(n_eff))

    def criterion_support(self, criterion: str) -> np.ndarray:
        """The support ``(n_targets, n_features)`` the last sweep would have chosen under ``criterion``.

        The sweep's distinct supports are scored again with that criterion's penalty (``aic``: 2 a term,
        ``bic``: ``log n_eff``), without refitting.

        Examples:
            >>> import numpy as np
            >>> from rankfield.dynamics import AutoSTLSQ
            >>> rng = np.random.default_rng(0)
            >>> G = rng.normal(size=(200, 4))
            >>> opt = AutoSTLSQ().fit(G, G @ np.array([1.0, 0.0, -2.0, 0.0]) + 0.5 * rng.normal(size=200))
            >>> opt.criterion_support("aic").astype(int)
            array([[1, 0, 1, 0]])
        """
        if not getattr(self, "supports_", None):
            raise InputError("the optimizer is not fitted yet")
        if criterion not in ("aic", "bic"):
            raise InputError(f"criterion must be 'aic' or 'bic', got {criterion!r}")
        out = []
        for n_eff, cands in zip(self.n_eff_, self.supports_):
            pen = self._penalty(n_eff, criterion)
            out.append(min(cands, key=lambda r: (r[1] + pen * r[0], r[0]))[2])
        return np.array(out, dtype=bool)

    @staticmethod
    def _scaled(x, y, j):
        norms = np.sqrt(np.mean(x ** 2, axis=0))
        norms[norms == 0] = 1.0
        scale = np.sqrt(np.mean(y[:, j] ** 2)) or 1.0
        return x / norms, y[:, j] / scale, norms, scale

    def _reduce(self, x, y):
        p = x.shape[1]
        coef = np.zeros((y.shape[1], p))
        self.thresholds_, self.scores_, self.n_eff_, self.supports_ = [], [], [], []
        for j in range(y.shape[1]):
            X, yj, norms, scale = self._scaled(x, y, j)
            n_eff = _effective_n(X, yj, self.decorrelation)
            c, tau, cands = _sweep(X, yj, n_eff, self._penalty(n_eff), self.n_thresholds, self.min_ratio,
                                   self.max_iter, self.best_subsets)
            coef[j] = c * scale / norms
            self.n_eff_.append(n_eff)
            self.thresholds_.append(tau)
            self.scores_.append([(k, score) for k, score, _ in cands])
            self.supports_.append([(k, score - self._penalty(n_eff) * k, keep) for k, score, keep in cands])
        self.coef_ = coef
        self.history_.append(self.coef_)


class EnsembleSTLSQ(EnsembleOptimizer):
    """E-SINDy on PySINDy's :class:`~pysindy.optimizers.EnsembleOptimizer`, with a moving-block bootstrap.

    PySINDy's ensemble bags rows independently (iid bootstrap, global ``np.random``). Derivative errors of a
    smoother are correlated over neighbouring samples, so an iid resample looks like more independent
    evidence than the record holds. This subclass keeps PySINDy's class, its ``opt`` / ``n_models`` /
    ``library_ensemble`` / ``n_candidates_to_drop`` parameters and its ``coef_list`` of per-model
    coefficients, and changes only two things:

    * rows are drawn in blocks of ``block`` consecutive samples (default ``ceil(n / n_eff)``, ``n_eff`` the
      AR(1) effective sample size of :class:`AutoSTLSQ`, the smallest over the equations, so that blocks span
      the longest correlation length of the errors; at most half the record; ``block=1`` is PySINDy's iid
      bagging), from a local generator seeded with ``seed`` (reproducible, no global state); with the default
      ``opt`` each equation's sweep keeps the full record's effective sample size on every resample;
    * the aggregate is E-SINDy's inclusion rule (Fasel et al. 2022) instead of the median: a term is kept
      when it is selected in at least ``inclusion`` of the models whose library held it (all of them without
      ``library_ensemble``), and the kept terms are refitted by least squares on all rows.

    The model fitted on each resample is ``opt`` (default :class:`AutoSTLSQ`, the BIC threshold sweep; any
    PySINDy optimizer works, e.g. ``ps.STLSQ(threshold=0.1)`` for the paper's fixed threshold). Inclusion
    probabilities are in ``inclusion_probabilities_`` (``(n_targets, n_features)``); ``thresholds_`` holds the
    inclusion level per equation and ``block_`` the block length used.

    On Lorenz with RKTV-INR derivatives the block bootstrap did not beat iid bagging, and neither beat the BIC
    sweep alone, so :func:`discover` defaults to the sweep; pass ``criterion="ensemble"`` for this. Evidence:
    ``docs/benchmarks.md#threshold-selection-information-criterion-sweep-vs-ensembles-same-derivatives``.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics.optimizers import EnsembleSTLSQ
        >>> G = np.random.default_rng(0).normal(size=(300, 5))
        >>> y = G @ np.array([0.0, 1.5, 0.0, -0.8, 0.0]) + 0.01 * np.random.default_rng(1).normal(size=300)
        >>> opt = EnsembleSTLSQ(n_models=20, seed=0).fit(G, y)
        >>> np.round(opt.coef_, 2), opt.inclusion_probabilities_[0, [1, 3]]
        (array([[ 0. ,  1.5,  0. , -0.8,  0. ]]), array([1., 1.]))
    """

    def __init__(self, opt: BaseOptimizer | None = None, n_models: int = 50, inclusion: float = 0.6,
                 block: int | None = None, seed: int = 0, library_ensemble: bool = False,
                 n_candidates_to_drop: int = 1):
        if n_models < 2 or not 0 < inclusion <= 1 or (block is not None and block < 1):
            raise InputError("need n_models >= 2, 0 < inclusion <= 1 and block >= 1 (or None)")
        check_seed(seed)
        super().__init__(opt if opt is not None else AutoSTLSQ(), bagging=True, library_ensemble=library_ensemble,
                         n_models=n_models, n_candidates_to_drop=n_candidates_to_drop, replace=True)
        self.inclusion = inclusion
        self.block = block
        self.seed = seed

    def _block_length(self, n, n_eff):
        if self.block is not None:
            if self.block >= n:
                raise InputError(f"block={self.block} is not shorter than the {n} samples: every resample would "
                                 "be the whole record")
            return int(self.block)
        return int(min(max(np.ceil(n / min(n_eff)), 1), max(n // 2, 1)))

    def _reduce(self, x, y):
        x, y = np.asarray(x), np.asarray(y).reshape(np.shape(x)[0], -1)
        n, p = x.shape
        d = y.shape[1]
        rng = np.random.default_rng(self.seed)
        n_eff = [_effective_n(*AutoSTLSQ._scaled(x, y, j)[:2], "ar1") for j in range(d)]
        block = self.block_ = self._block_length(n, n_eff)
        # the BIC sweep on a resample keeps the full record's effective sample size per equation (a resample's
        # own AR(1) estimate is biased up by the joins between blocks: raw n for an iid resample)
        per_equation = isinstance(self.opt, AutoSTLSQ) and self.opt.decorrelation == "ar1"
        opts = [clone(self.opt) for _ in range(d)] if per_equation else None
        for j, o in enumerate(opts or []):
            o.decorrelation = n / n_eff[j]
        n_blocks = int(np.ceil(n / block))
        drop = min(self.n_candidates_to_drop, p - 1) if self.library_ensemble else 0
        self.coef_list = []
        kept = np.zeros(p)
        for _ in range(self.n_models):
            starts = rng.integers(0, n - block + 1, size=n_blocks)
            rows = (starts[:, None] + np.arange(block)[None, :]).ravel()[:n]
            cols = np.sort(rng.choice(p, p - drop, replace=False)) if drop else np.arange(p)
            kept[cols] += 1
            xr = x[np.ix_(rows, cols)]
            coef = np.zeros((d, p))
            if per_equation:
                for j in range(d):
                    coef[j, cols] = np.asarray(opts[j].fit(xr, y[rows, j]).coef_).reshape(-1)
            else:
                coef[:, cols] = np.asarray(self.opt.fit(xr, y[rows]).coef_).reshape(d, -1)
            self.coef_list.append(coef)
        # a term's inclusion probability counts only the models whose library held it
        probs = np.sum(np.abs(np.asarray(self.coef_list)) > 0, axis=0) / np.maximum(kept, 1)[None, :]
        coef = np.zeros((d, p))
        for j in range(d):
            keep = probs[j] >= self.inclusion
            if keep.any():
                coef[j, keep] = np.linalg.lstsq(x[:, keep], y[:, j], rcond=None)[0]
        self.inclusion_probabilities_ = probs
        self.thresholds_ = [self.inclusion] * d
        self.coef_ = coef
        self.history_.append(self.coef_)


def _mstls(G, b, lam, max_iter):
    """Modified STLS at threshold ``lam`` (Messenger & Bortz): keep term i while
    ``lam * max(1, |b| / |G_i|) <= |w_i| <= min(1, |b| / |G_i|) / lam``, refit, repeat until the support holds."""
    ratio = np.linalg.norm(b) / np.where(np.linalg.norm(G, axis=0) > 0, np.linalg.norm(G, axis=0), np.inf)
    lower, upper = lam * np.maximum(1.0, ratio), np.minimum(1.0, ratio) / lam
    w = np.linalg.lstsq(G, b, rcond=None)[0]
    keep = np.ones(G.shape[1], dtype=bool)
    for _ in range(max_iter):
        new_keep = keep & (np.abs(w) >= lower) & (np.abs(w) <= upper)
        w = np.zeros_like(w)
        if new_keep.any():
            w[new_keep] = np.linalg.lstsq(G[:, new_keep], b, rcond=None)[0]
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return w


class MSTLS(BaseOptimizer):
    """Weak SINDy's own sparsity rule: modified STLS with the threshold chosen by the authors' loss.

    For each equation ``b = G w`` (the weak-form library ``G`` and weak derivative ``b``) and each threshold
    ``lam`` of ``n_lambdas`` log-spaced values in ``[lam_min, 1]``, modified sequential thresholding keeps term
    ``i`` while ``lam max(1, |b|/|G_i|) <= |w_i| <= min(1, |b|/|G_i|) / lam`` (the upper bound drops terms whose
    coefficients blow up), and the threshold minimising ``|G (w_lam - w_0)| / |G w_0| + |w_lam|_0 / J`` (``w_0``
    the least-squares solution, ``J`` the library size; the smallest such ``lam``) is kept: Messenger &
    Bortz, "Weak SINDy: Galerkin-based data-driven model selection", Multiscale Model. Simul. 19 (2021),
    the MSTLS rule of their code. Residuals of the weak form are not independent samples, so the BIC rule of
    :class:`AutoSTLSQ` does not suit it. Works on any library (not only weak ones). The chosen threshold per
    equation is kept in ``thresholds_``.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics.optimizers import MSTLS
        >>> G = np.random.default_rng(0).normal(size=(200, 6))
        >>> w = np.array([0.0, 2.0, 0.0, -0.5, 0.0, 0.0])
        >>> opt = MSTLS().fit(G, G @ w + 1e-3 * np.random.default_rng(1).normal(size=200))
        >>> np.round(opt.coef_, 2)
        array([[ 0. ,  2. ,  0. , -0.5,  0. ,  0. ]])
    """

    def __init__(self, n_lambdas: int = 100, lam_min: float = 1e-4, max_iter: int = 20):
        super().__init__(max_iter=max_iter, normalize_columns=False, unbias=False)
        if n_lambdas < 2 or not 0 < lam_min < 1:
            raise InputError("need n_lambdas >= 2 and 0 < lam_min < 1")
        self.n_lambdas = n_lambdas
        self.lam_min = lam_min

    def _reduce(self, x, y):
        G = np.asarray(x)
        y = np.asarray(y).reshape(G.shape[0], -1)
        J = G.shape[1]
        coef = np.zeros((y.shape[1], J))
        self.thresholds_ = []
        for j in range(y.shape[1]):
            b = y[:, j]
            w0 = np.linalg.lstsq(G, b, rcond=None)[0]
            ref = np.linalg.norm(G @ w0) or 1.0
            best = None
            for lam in np.geomspace(self.lam_min, 1.0, self.n_lambdas):
                w = _mstls(G, b, lam, self.max_iter)
                loss = np.linalg.norm(G @ (w - w0)) / ref + np.count_nonzero(w) / J
                if best is None or loss < best[0] - 1e-12:
                    best = (loss, lam, w)
            coef[j] = best[2]
            self.thresholds_.append(float(best[1]))
        self.coef_ = coef
        self.history_.append(self.coef_)
