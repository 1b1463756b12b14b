"""RKTV-INR inside PySINDy: a differentiation method, a threshold-selecting optimizer and :func:`discover`.

Examples:
    >>> import pysindy as ps
    >>> from rankfield.dynamics import RKTV, AutoSTLSQ, get_system, add_noise
    >>> t, x = get_system("lorenz").simulate()
    >>> model = ps.SINDy(differentiation_method=RKTV(steps=500, progress=False),
    ...                  optimizer=AutoSTLSQ(), feature_library=ps.PolynomialLibrary(2))
    >>> model = model.fit(add_noise(x, 0.1), t=t, feature_names=["x", "y", "z"])
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import inspect
import hashlib
from dataclasses import dataclass, field
from math import comb

import numpy as np
import pysindy as ps
from pysindy.differentiation import BaseDifferentiation
from pysindy.optimizers import BaseOptimizer, EnsembleOptimizer
from sklearn.base import clone

from rankfield._device import check_seed
from rankfield.dynamics._checks import as_time_vector, check_trajectories
from rankfield.dynamics.denoise import RKTVConfig, RKTVDenoiser, _noise_to_signal
from rankfield.errors import InputError

__all__ = ["RKTV", "AutoSTLSQ", "EnsembleSTLSQ", "MSTLS", "DiscoveryResult", "discover", "bias_weights"]


class RKTV(BaseDifferentiation):
    """PySINDy differentiation method backed by the RKTV-INR denoiser.

    Sets ``smoothed_x_`` (the denoised states, from which PySINDy builds the library) and returns the
    network's exact derivative. ``t`` may be a float step, ``(n,)`` or ``(n, 1)``; with several
    trajectories PySINDy calls it once per trajectory (``denoisers_`` keeps every fit).

    Like PySINDy's own methods it is quiet by default (``RKTV()`` uses ``progress=False``; pass
    ``progress=True``, or a config with it, for a progress bar). A record it has already denoised (same
    samples, same times, same config) is not fitted again: ``SINDy.score(x_train, t)`` reuses the training
    fit and leaves ``denoisers_`` unchanged. A new record has to be denoised to be differentiated, so ``score`` on test data fits a network
    (and keeps it in ``denoisers_``); its R^2 is then measured against RKTV-INR's own derivative of the test
    data, which is not comparable across differentiation methods: compare methods with
    :func:`~rankfield.dynamics.validate_model` (simulation against the data) instead.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics import RKTV
        >>> diff = RKTV(steps=200)
        >>> x = np.sin(np.linspace(0, 6, 100))[:, None]
        >>> x_dot = diff(x, t=6 / 99)
        >>> diff.smoothed_x_.shape, len(diff.denoisers_)
        ((100, 1), 1)
        >>> _ = diff(x, t=6 / 99)  # the same record again: no new fit
        >>> len(diff.denoisers_)
        1
    """

    def __init__(self, config: RKTVConfig | None = None, **overrides):
        config = config or RKTVConfig(progress=False)
        self.config = dataclasses.replace(config, **overrides).validate() if overrides else config.validate()
        self.denoisers_: list[RKTVDenoiser] = []

    def _differentiate(self, x, t=1):
        arr = np.asarray(x, dtype=float)
        if arr.ndim != 2:
            raise InputError(f"RKTV differentiates (n_samples, n_states) arrays; got shape {arr.shape}")
        tt = as_time_vector(t, arr.shape[0])
        key = hashlib.sha1(np.ascontiguousarray(arr).tobytes() + np.ascontiguousarray(tt, dtype=float).tobytes()
                           + repr(arr.shape).encode() + repr(self.config.to_dict()).encode()).hexdigest()
        den = next((d for d in self.denoisers_ if getattr(d, "record_key_", None) == key), None)
        if den is None:
            den = RKTVDenoiser(self.config).fit(arr, tt)
            den.record_key_ = key  # the record and config it was fitted to (cleared when refined)
            self.denoisers_.append(den)
        self.denoiser_ = den
        self.smoothed_x_ = den.predict(tt)
        return den.derivative(tt)


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
    exhaustively from the normal equations). Returns one coefficient vector per size."""
    p = X.shape[1]
    G, b, yy = X.T @ X, X.T @ y, float(y @ y)
    out = []
    for k in range(1, p + 1):
        if comb(p, k) > budget:
            break
        best, best_rss = None, np.inf
        for subset in itertools.combinations(range(p), k):
            idx = list(subset)
            try:
                coef = np.linalg.solve(G[np.ix_(idx, idx)], b[idx])
            except np.linalg.LinAlgError:
                continue
            rss = yy - float(b[idx] @ coef)
            if rss < best_rss:
                best, best_rss = (idx, coef), rss
        if best is not None:
            c = np.zeros(p)
            c[best[0]] = best[1]
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
        >>> from rankfield.dynamics import EnsembleSTLSQ
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
        >>> from rankfield.dynamics import MSTLS
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


@dataclass
class DiscoveryResult:
    """What :func:`discover` found.

    Attributes:
        model: the fitted ``ps.SINDy`` model (``model.simulate``, ``model.predict`` work as usual).
        equations: one string per state, e.g. ``"-10.000 x + 10.000 y"``.
        coefficients: ``(n_states, n_features)`` in the library's feature order.
        feature_names: library feature names (columns of ``coefficients``).
        state_names: names of the states.
        t, x, x_smooth, x_dot: per trajectory (lists), the times, the data, the denoised states and the
            derivatives used for the regression.
        denoiser: the :class:`RKTVDenoiser` of the last trajectory when RKTV-INR was used, else ``None``.
        thresholds: the chosen relative threshold per equation (automatic selection) or the fixed one.
        differentiation_seconds: time spent denoising/differentiating (refinement included).
        passes: the coefficients found by each pass: the first discovery, then one per refinement.
    """

    model: ps.SINDy
    equations: list[str]
    coefficients: np.ndarray
    feature_names: list[str]
    state_names: list[str]
    t: list[np.ndarray]
    x: list[np.ndarray]
    x_smooth: list[np.ndarray]
    x_dot: list[np.ndarray]
    denoiser: RKTVDenoiser | None = None
    thresholds: list[float] = field(default_factory=list)
    differentiation_seconds: float = 0.0
    passes: list[np.ndarray] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready summary (no arrays of samples)."""
        return {"state_names": self.state_names, "feature_names": self.feature_names,
                "equations": self.format_equations(), "coefficients": self.coefficients.tolist(),
                "thresholds": [float(v) for v in self.thresholds],
                "differentiation_seconds": self.differentiation_seconds,
                "passes": [np.asarray(c).tolist() for c in self.passes]}

    def format_equations(self, precision: int = 3) -> list[str]:
        """One line per state, ``"dx/dt = -10.000 x + 10.000 y"`` (signs as operators, a constant as a bare
        number)."""
        return [f"d{name}/dt = {format_equation(row, self.feature_names, precision)}"
                for name, row in zip(self.state_names, self.coefficients)]


def format_equation(coefficients, feature_names, precision: int = 3) -> str:
    """The right-hand side ``sum_j c_j f_j`` as text: zero terms left out, ``a - b`` rather than
    ``a + -b``, the constant feature ``"1"`` printed as a bare number.

    Examples:
        >>> format_equation([1.5, 0.0, -0.25, 2.0], ["1", "x", "y", "x y"], precision=2)
        '1.50 - 0.25 y + 2.00 x y'
        >>> format_equation([0.0, 0.0], ["x", "y"])
        '0'
    """
    parts = []
    for c, name in zip(coefficients, feature_names):
        if c == 0:
            continue
        magnitude = f"{abs(float(c)):.{precision}f}"
        parts.append(("-" if c < 0 else "+", magnitude if name == "1" else f"{magnitude} {name}"))
    if not parts:
        return "0"
    text = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    return text + "".join(f" {sign} {term}" for sign, term in parts[1:])


def _n_features(library, n_states):
    try:
        return library.fit(np.zeros((2, n_states))).n_output_features_
    except Exception:  # noqa: BLE001 - exotic libraries: do not block on the count
        return comb(n_states + 2, 2)


TRIM_DEFAULT = "auto"


def _trim_count(trim, n, n_feat=0):
    """Samples left out at each end of an ``n``-sample trajectory (``auto``: ``n // 100``, fewer where the
    library would otherwise have as many terms as samples)."""
    return min(n // 100, max(0, (n - n_feat - 1) // 2)) if trim == "auto" else int(trim)


BIAS_WEIGHTING_DEFAULT = "auto"
BIAS_WEIGHTING_C = 10.0
REFINE_DEFAULT = "auto"
REFINE_AUTO_PASSES = 2
REFINE_AUTO_NOISE = 0.03  # estimated noise-to-signal ratio from which refine="auto" refines


def refine_passes(refine, xs, differentiation, library, optimizer=None) -> int:
    """The number of refinement passes ``discover(refine=...)`` runs on the records ``xs``: ``refine`` itself when
    an integer; for ``"auto"``, :data:`REFINE_AUTO_PASSES` when the differentiation is RKTV-INR, the library a
    ``PolynomialLibrary``, the optimizer not an ensemble (its inclusion probabilities should come from the data,
    not from derivatives pulled towards a model) and the records' estimated noise (:func:`estimate_noise` over each state's standard
    deviation, the mean over states and records) is at least :data:`REFINE_AUTO_NOISE`, else 0.

    The noise estimate assumes a record sampled finely enough that its 4th differences are mostly noise; on a
    coarse record (a few samples per oscillation, such as 21 yearly lynx-hare counts) the signal itself adds to
    it, so ``auto`` refines such records whatever their noise.

    Examples:
        >>> from rankfield.dynamics import RKTV, add_noise, get_system
        >>> t, x = get_system("lorenz").simulate()
        >>> [refine_passes("auto", [add_noise(x, lv, seed=0)], RKTV(), ps.PolynomialLibrary(2)) for lv in (0.01, 0.1)]
        [0, 2]
    """
    if refine != "auto":
        return int(refine)
    if (not (isinstance(differentiation, RKTV) and type(library) is ps.PolynomialLibrary)
            or isinstance(optimizer, EnsembleOptimizer) or min(len(xk) for xk in xs) < 9):
        return 0  # (estimate_noise needs 9 samples)
    ratio = float(np.mean([np.mean(_noise_to_signal(np.asarray(xk, dtype=float))) for xk in xs]))
    return REFINE_AUTO_PASSES if ratio >= REFINE_AUTO_NOISE else 0


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
        >>> from rankfield.dynamics import bias_weights
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


def _kept(x_dot, trim):
    """Rows of one trajectory that enter the regression: finite (finite differences leave NaN at the ends) and
    not among the first or last ``trim`` (a count)."""
    keep = np.all(np.isfinite(x_dot), axis=1)
    if trim:
        keep[:trim] = False
        keep[-trim:] = False
    return keep


def discover(x, t, *, degree: int = 2, library=None, differentiation=None, config: RKTVConfig | None = None,
             criterion: str = "bic", threshold: float | None = None, optimizer=None,
             state_names: list[str] | None = None, device: str | None = None, seed: int | None = None,
             progress: bool | None = None, refine: int | str = REFINE_DEFAULT,
             refine_support: str = "selected", trim: int | str = TRIM_DEFAULT,
             bias_weighting: float | str | None = BIAS_WEIGHTING_DEFAULT) -> DiscoveryResult:
    """Denoise/differentiate ``x`` and run SINDy with an automatically chosen sparsity threshold.

    With the defaults: RKTV-INR fits and differentiates every trajectory; the regression leaves out 1% of each
    trajectory's samples at each end (``trim``), down-weights the rows where the smoothed derivative is most
    biased (``bias_weighting``) and picks each equation's terms by a BIC threshold sweep (:class:`AutoSTLSQ`);
    when the records' estimated noise is at least 3% of the signal, two model-in-the-loop passes follow
    (``refine``). Evidence: ``docs/guide/dynamics.md#how-the-defaults-were-chosen``.

    Args:
        x: ``(n, d)`` states, or a list of trajectories.
        t: time step, times ``(n,)``/``(n, 1)``, or a list of time arrays.
        degree: degree of the ``PolynomialLibrary`` (ignored when ``library`` is given).
        library: a PySINDy feature library (default ``PolynomialLibrary(degree)``).
        differentiation: a PySINDy differentiation method; default :class:`RKTV` built from ``config``.
        config: RKTV-INR settings; ``device``, ``seed`` and ``progress`` override its fields.
        criterion: ``bic`` or ``aic`` for the per-equation threshold sweep (:class:`AutoSTLSQ`), or
            ``ensemble`` for bagged BIC sweeps with inclusion probabilities (:class:`EnsembleSTLSQ`, seeded
            with ``seed``).
        threshold: a fixed STLSQ threshold instead of the sweep.
        optimizer: any PySINDy optimizer (overrides ``criterion``/``threshold``).
        state_names: names of the states (default ``x, y, z`` for up to 3 states, else ``x0, x1, ...``).
        device: overrides ``config.device``.
        seed: overrides ``config.seed``; also seeds the ensemble of ``criterion="ensemble"``.
        progress: overrides ``config.progress``.
        refine: model-in-the-loop passes after the first discovery (RKTV-INR with a ``PolynomialLibrary``
            only): each pass trains every network on with its derivative pulled towards ``Theta(x) Xi``
            (:meth:`RKTVDenoiser.refine`, ``Xi`` on the support of ``refine_support``), then runs SINDy again
            (the support is re-selected; each pass's coefficients are in ``passes``). ``auto`` (default): 2
            passes when the records' estimated noise is at least 3% of the signal, else none; none for another
            differentiation method or library or an ensemble optimizer (:func:`refine_passes`). A refined
            record is no longer the plain fit, so ``result.model.score(x, t)`` fits it again.
        refine_support: ``selected`` (default: the terms the previous pass kept), ``aic`` (those and the terms
            the AIC would keep from the same sweep, :meth:`AutoSTLSQ.criterion_support`; with another optimizer
            the same as ``selected``) or ``full`` (every library term: only asks that the trajectory obey some
            polynomial ODE of the library). A term the first pass missed rarely comes back under ``selected``;
            ``aic`` leaves room for it.
        trim: samples left out of the regression at each end of every trajectory (every pass), where every
            derivative estimate is one-sided. ``auto`` (default): 1% of each trajectory's samples (10 of 1000;
            none below 100; fewer where the library would otherwise have as many terms as samples left). The
            states and derivatives in the result keep every sample.
        bias_weighting: down-weight the regression's rows where the smoothed derivative is most biased
            (:func:`bias_weights` with ``c`` this number; every pass). ``auto`` (default): ``c = 10`` when the
            derivatives come from RKTV-INR, off for other differentiation methods; ``None`` or ``0``: off.

    Returns:
        A :class:`DiscoveryResult`: the fitted model, its equations and coefficients, the denoised states and
        derivatives, and the coefficients of every pass.

    Examples:
        Lotka-Volterra (true: dx/dt = x - 0.5 x y, dy/dt = -y + 0.5 x y) at 2% noise, 500 denoising steps:

        >>> from rankfield.dynamics import RKTVConfig, discover, get_system, add_noise
        >>> t, x = get_system("lotka_volterra").simulate()
        >>> res = discover(add_noise(x, 0.02, seed=0), t, config=RKTVConfig(steps=500, progress=False))
        >>> print("\\n".join(res.format_equations(precision=2)))
        dx/dt = 1.00 x - 0.50 x y
        dy/dt = -1.00 y + 0.50 x y
    """
    import time

    library = library if library is not None else ps.PolynomialLibrary(degree=degree)
    xs0, ts0, multiple = check_trajectories(x, t, min_samples=4, names=state_names)
    d = xs0[0].shape[1]
    state_names = list(state_names) if state_names else (["x", "y", "z"][:d] if d <= 3 else [f"x{j}" for j in range(d)])
    if len(state_names) != d:
        raise InputError(f"{len(state_names)} state names for {d} states")
    n_feat = _n_features(library, d)
    for k, xk in enumerate(xs0):
        if xk.shape[0] <= n_feat:
            raise InputError(f"{'x[%d]' % k if multiple else 'x'} has {xk.shape[0]} samples but the library has "
                             f"{n_feat} terms; SINDy needs more samples than terms")
    if differentiation is None:
        cfg = config or RKTVConfig()
        over = {k: v for k, v in dict(device=device, seed=seed, progress=progress).items() if v is not None}
        differentiation = RKTV(dataclasses.replace(cfg, **over))
    if criterion not in ("bic", "aic", "ensemble"):
        raise InputError(f"criterion must be 'bic', 'aic' or 'ensemble', got {criterion!r}")
    if refine != "auto" and (not isinstance(refine, (int, np.integer)) or isinstance(refine, bool) or refine < 0):
        raise InputError(f"refine must be 'auto' or an integer >= 0, got {refine!r}")
    if refine_support not in ("selected", "aic", "full"):
        raise InputError(f"refine_support must be 'selected', 'aic' or 'full', got {refine_support!r}")
    if bias_weighting == "auto":
        bias_c = BIAS_WEIGHTING_C if isinstance(differentiation, RKTV) else None
    elif bias_weighting is None or (isinstance(bias_weighting, (int, float, np.integer, np.floating))
                                    and not isinstance(bias_weighting, bool) and bias_weighting >= 0):
        bias_c = float(bias_weighting) if bias_weighting else None
    else:
        raise InputError(f"bias_weighting must be 'auto', None or a number >= 0, got {bias_weighting!r}")
    if trim != "auto" and (not isinstance(trim, (int, np.integer)) or isinstance(trim, bool) or trim < 0):
        raise InputError(f"trim must be 'auto' or an integer >= 0, got {trim!r}")
    trims = [_trim_count(trim, xk.shape[0], n_feat) for xk in xs0]
    for k, xk in enumerate(xs0):
        kept = xk.shape[0] - 2 * trims[k]
        if kept <= n_feat:
            raise InputError(f"{'x[%d]' % k if multiple else 'x'} keeps {kept} samples after trim={trim} at "
                             f"each end but the library has {n_feat} terms; lower trim")
    if refine != "auto" and refine and not (isinstance(differentiation, RKTV) and type(library) is ps.PolynomialLibrary):
        raise InputError("refine needs the RKTV-INR differentiation and a PolynomialLibrary (it fits a polynomial model "
                         "into the denoiser)")
    if optimizer is None and threshold is not None:
        optimizer = ps.STLSQ(threshold=threshold, alpha=0.0)
    elif optimizer is None:
        optimizer = (EnsembleSTLSQ(seed=seed or 0) if criterion == "ensemble" else AutoSTLSQ(criterion=criterion))
    refine = refine_passes(refine, xs0, differentiation, library, optimizer)
    if bias_c is not None and "sample_weight" not in inspect.signature(optimizer.fit).parameters:
        raise InputError("bias_weighting needs an optimizer whose fit() takes sample_weight (PySINDy's do); "
                         "pass bias_weighting=None")
    start = time.perf_counter()
    x_smooth, x_dot, dens = [], [], []
    for xk, tk in zip(xs0, ts0):
        x_dot.append(np.asarray(differentiation(xk, t=tk), dtype=float))
        x_smooth.append(np.asarray(getattr(differentiation, "smoothed_x_", xk), dtype=float))
        dens.append(getattr(differentiation, "denoiser_", None))
    diff_seconds = time.perf_counter() - start
    model = ps.SINDy(optimizer=optimizer, feature_library=library, differentiation_method=differentiation)

    def fit_kept(x_smooth, x_dot):  # the regression on each trajectory's kept rows (finite, not trimmed)
        keep = [_kept(xd, k) for xd, k in zip(x_dot, trims)]
        fit = functools.partial(model.fit, [xs[m] for xs, m in zip(x_smooth, keep)],
                                t=[tk[m] for tk, m in zip(ts0, keep)], x_dot=[xd[m] for xd, m in zip(x_dot, keep)],
                                feature_names=state_names)
        if bias_c is None:
            return fit()
        w = np.concatenate([bias_weights(np.where(np.isfinite(xd), xd, 0.0), tk, bias_c)[m]
                            for xd, tk, m in zip(x_dot, ts0, keep)])
        # SINDy.fit does not pass sample weights on: hand them to this optimizer's fit for this one call
        # (squared: PySINDy scales each row by the square root of its sample weight)
        optimizer.fit = functools.partial(type(optimizer).fit, optimizer, sample_weight=w ** 2)
        try:
            fit()
        finally:
            del optimizer.fit

    fit_kept(x_smooth, x_dot)
    passes = [np.asarray(model.coefficients()).copy()]
    for _ in range(refine):
        support = passes[-1] != 0
        if refine_support == "full":
            support = np.ones_like(support)
        elif refine_support == "aic" and hasattr(optimizer, "criterion_support"):
            support = support | optimizer.criterion_support("aic")
        start = time.perf_counter()
        x_smooth, x_dot = [], []
        refined = set()
        for den, tk in zip(dens, ts0):
            if id(den) not in refined:  # a record given twice has one fit (RKTV reuses it)
                den.refine(library.powers_, support)
                den.record_key_ = None  # refined: no longer the plain fit of its record, RKTV will not reuse it
                refined.add(id(den))
            x_smooth.append(den.predict(tk))
            x_dot.append(den.derivative(tk))
        diff_seconds += time.perf_counter() - start
        fit_kept(x_smooth, x_dot)
        passes.append(np.asarray(model.coefficients()).copy())
    thresholds = list(getattr(optimizer, "thresholds_", [threshold] * d if threshold is not None else []))
    coefficients, feature_names = np.asarray(model.coefficients()), list(model.get_feature_names())
    return DiscoveryResult(model=model, equations=[format_equation(row, feature_names) for row in coefficients],
                           coefficients=coefficients, feature_names=feature_names, state_names=state_names,
                           t=ts0, x=xs0, x_smooth=x_smooth, x_dot=x_dot,
                           denoiser=getattr(differentiation, "denoiser_", None), thresholds=thresholds,
                           differentiation_seconds=diff_seconds, passes=passes)
