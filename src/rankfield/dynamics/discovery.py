"""Equation discovery: :func:`discover` (denoise/differentiate, then SINDy with an automatic threshold, the
regression trimmed and row-weighted, optional model-in-the-loop refinement) and its :class:`DiscoveryResult`."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from math import comb
from typing import Literal

import numpy as np
import pysindy as ps
from pysindy.optimizers import EnsembleOptimizer

from rankfield._config import Config
from rankfield.dynamics._checks import check_trajectories
from rankfield.dynamics.denoise import RKTVConfig, RKTVDenoiser, noise_to_signal
from rankfield.dynamics.differentiation import RKTV
from rankfield.dynamics.optimizers import AutoSTLSQ, EnsembleSTLSQ
from rankfield.dynamics.weighting import (BIAS_WEIGHTING_C, BIAS_WEIGHTING_DEFAULT, bias_weights, fit_weighted,
                                          takes_sample_weight)
from rankfield.errors import InputError

__all__ = ["DiscoverConfig", "DiscoveryResult", "discover", "format_equation", "refine_passes", "TRIM_DEFAULT", "REFINE_DEFAULT",
           "REFINE_AUTO_PASSES", "REFINE_AUTO_NOISE"]


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
    ratio = float(np.mean([np.mean(noise_to_signal(np.asarray(xk, dtype=float))) for xk in xs]))
    return REFINE_AUTO_PASSES if ratio >= REFINE_AUTO_NOISE else 0


def _same(value, default) -> bool:
    """Whether a keyword of :func:`discover` was left at its default."""
    return value is default or (type(value) is type(default) and value == default)


def _is_count(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 0


@dataclass
class DiscoverConfig(Config):
    """What :func:`discover` does with the derivatives: the library, the sparsity rule, trimming, row weighting
    and refinement (the RKTV-INR settings are :class:`~rankfield.dynamics.RKTVConfig`).

    ``discover(x, t, options=DiscoverConfig(...))`` is the same as passing these fields as keywords;
    ``rankfield discover`` builds one from its options and writes it to ``config.json``.

    Attributes:
        degree: Degree of the polynomial library (ignored when ``discover`` is given a ``library``).
        criterion: How each equation's terms are picked: a threshold sweep scored by ``bic`` or ``aic``, or
            ``ensemble`` (bagged BIC sweeps with inclusion probabilities).
        threshold: A fixed STLSQ threshold instead of the sweep (``None``: the sweep).
        refine: Model-in-the-loop passes after the first discovery; ``auto`` runs 2 when the estimated noise is
            at least 3% of the signal.
        refine_support: Terms the refinement pulls the derivative towards: ``selected`` (those kept),
            ``aic`` (those and the AIC's) or ``full`` (the whole library).
        trim: Samples left out of the regression at each end of every trajectory; ``auto`` leaves out 1%.
        bias_weighting: Down-weights the rows where the smoothed derivative is most biased (``c`` of
            :func:`~rankfield.dynamics.weighting.bias_weights`); ``auto`` uses 10 for RKTV-INR derivatives, ``None`` or 0
            turns it off.

    Examples:
        >>> from rankfield.dynamics import DiscoverConfig
        >>> DiscoverConfig(degree=3, refine=0).to_dict()["refine"]
        0
        >>> DiscoverConfig(trim=-1).validate()
        Traceback (most recent call last):
        ...
        rankfield.errors.InputError: trim must be 'auto' or an integer >= 0, got -1
    """

    degree: int = 2
    criterion: Literal["bic", "aic", "ensemble"] = "bic"
    threshold: float | None = None
    refine: int | Literal["auto"] = REFINE_DEFAULT
    refine_support: Literal["selected", "aic", "full"] = "selected"
    trim: int | Literal["auto"] = TRIM_DEFAULT
    bias_weighting: float | Literal["auto"] | None = BIAS_WEIGHTING_DEFAULT

    def validate(self):
        """Check every field (the messages name the ``discover`` keyword); returns ``self``."""
        if not _is_count(self.degree):
            raise InputError(f"degree must be an integer >= 0, got {self.degree!r}")
        if self.criterion not in ("bic", "aic", "ensemble"):
            raise InputError(f"criterion must be 'bic', 'aic' or 'ensemble', got {self.criterion!r}")
        if self.threshold is not None and (isinstance(self.threshold, bool) or not isinstance(
                self.threshold, (int, float, np.integer, np.floating)) or not 0 <= self.threshold < np.inf):
            raise InputError(f"threshold must be None or a finite number >= 0, got {self.threshold!r}")
        if self.refine != "auto" and not _is_count(self.refine):
            raise InputError(f"refine must be 'auto' or an integer >= 0, got {self.refine!r}")
        if self.refine_support not in ("selected", "aic", "full"):
            raise InputError(f"refine_support must be 'selected', 'aic' or 'full', got {self.refine_support!r}")
        b = self.bias_weighting
        if not (b is None or b == "auto" or (isinstance(b, (int, float, np.integer, np.floating))
                                             and not isinstance(b, bool) and b >= 0)):
            raise InputError(f"bias_weighting must be 'auto', None or a number >= 0, got {b!r}")
        if self.trim != "auto" and not _is_count(self.trim):
            raise InputError(f"trim must be 'auto' or an integer >= 0, got {self.trim!r}")
        return super().validate()


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
             bias_weighting: float | str | None = BIAS_WEIGHTING_DEFAULT,
             options: DiscoverConfig | None = None) -> DiscoveryResult:
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
        options: ``degree``, ``criterion``, ``threshold``, ``refine``, ``refine_support``, ``trim`` and
            ``bias_weighting`` as one :class:`DiscoverConfig` (those keywords are then left at their defaults).

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
    keywords = dict(degree=degree, criterion=criterion, threshold=threshold, refine=refine,
                    refine_support=refine_support, trim=trim, bias_weighting=bias_weighting)
    if options is None:
        options = DiscoverConfig(**keywords)
    elif not isinstance(options, DiscoverConfig):
        raise InputError(f"options must be a DiscoverConfig, got {type(options).__name__}")
    else:
        both = [k for k, v in keywords.items() if not _same(v, getattr(DiscoverConfig, k))]
        if both:
            raise InputError(f"{', '.join(both)} given both as keyword(s) and in options; give each once")
    options.validate()
    degree, criterion, threshold, refine = options.degree, options.criterion, options.threshold, options.refine
    refine_support, trim, bias_weighting = options.refine_support, options.trim, options.bias_weighting
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
    if bias_weighting == "auto":
        bias_c = BIAS_WEIGHTING_C if isinstance(differentiation, RKTV) else None
    else:
        bias_c = float(bias_weighting) if bias_weighting else None
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
    if bias_c is not None and not takes_sample_weight(optimizer):
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
        w = None
        if bias_c is not None:  # squared: PySINDy scales each row by the square root of its sample weight
            w = np.concatenate([bias_weights(np.where(np.isfinite(xd), xd, 0.0), tk, bias_c)[m]
                                for xd, tk, m in zip(x_dot, ts0, keep)]) ** 2
        fit_weighted(model, [xs[m] for xs, m in zip(x_smooth, keep)], t=[tk[m] for tk, m in zip(ts0, keep)],
                     x_dot=[xd[m] for xd, m in zip(x_dot, keep)], feature_names=state_names, sample_weight=w)

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
