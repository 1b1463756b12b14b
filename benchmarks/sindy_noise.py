"""SINDy under measurement noise: RKTV-INR against classical differentiation methods.

Every method uses the same library (the system's PolynomialLibrary degree) and the same threshold rule
(:class:`rankfield.dynamics.AutoSTLSQ`, BIC per equation with an AR(1) effective sample size), but weak SINDy,
which gets its authors' rule (:class:`rankfield.dynamics.optimizers.MSTLS`). Noise:
``sigma_j = level * std(x_j)``. Baseline hyper-parameters (Savitzky-Golay window, TV and Kalman ``alpha``)
are tuned per system and noise level on a separate tuning draw against the *clean* derivative (an oracle
advantage for the baselines); RKTV-INR uses its fixed defaults everywhere.

Full run (the issue's grid; hours on a 2-core CPU, minutes on a GPU)::

    python benchmarks/sindy_noise.py

Quick run (Lorenz at 10% and 20%, fewer draws)::

    python benchmarks/sindy_noise.py --quick

The table in docs/benchmarks.md (2-core CPU, 2026-11-25; the automatic RKTV-INR settings, weak SINDy with MSTLS,
``--trim auto``: 32, 34 and 18 min with the derivatives of the non-refined methods cached)
was filled by these invocations sharing the cache (``M="RKTV-INR,RKTV-INR + refine,FiniteDifference,Savitzky-Golay,
TV (trend_filtered),Kalman,Weak SINDy"``); the other systems of the grid were not rerun in that session::

    python benchmarks/sindy_noise.py --systems lorenz --draws 10 --methods "$M" --no-study --no-lynx
    python benchmarks/sindy_noise.py --systems rossler --draws 10 --methods "$M" --no-study --no-lynx
    python benchmarks/sindy_noise.py --systems lorenz --draws 10 --methods "$M" --include-cached      # study + report

On 2026-12-04 the RKTV-INR rows were rerun with ``discover``'s bias weighting (the default for RKTV-INR since
then; the refinement row is unweighted and was not rerun): the earlier runs were restored into the cache from
``docs/sindy_noise.json`` (one JSON line per run there is one line of ``runs.jsonl``), then::

    python benchmarks/sindy_noise.py --systems lorenz --draws 10 --methods RKTV-INR --no-study --no-lynx
    python benchmarks/sindy_noise.py --systems rossler --draws 10 --methods RKTV-INR --no-study --no-lynx
    python benchmarks/sindy_noise.py --systems lorenz --draws 10 --methods "$M" --include-cached      # study + report

Since 2026-12-04 (second session) the ``RKTV-INR`` row is ``discover``'s defaults, refinement included
(``refine="auto"``: two passes from 3% estimated noise), and ``RKTV-INR (one pass)`` is its first pass (the same
run gives both rows; earlier cached ``RKTV-INR`` runs were renamed to it in ``runs.jsonl``, their cache tag
unchanged). Run on the 2-core CPU::

    python benchmarks/sindy_noise.py --systems lorenz,rossler --draws 10 --methods RKTV-INR --no-study --no-lynx --threads 2
    python benchmarks/sindy_noise.py --systems vanderpol,duffing,lotka_volterra --draws 10 --no-study --no-lynx \
        --methods "RKTV-INR,FiniteDifference,Savitzky-Golay,Weak SINDy" --workers 2 --threads 1      # 37 min
    python benchmarks/sindy_noise.py --systems chen,lu,halvorsen --draws 10 --no-study --no-lynx \
        --methods "RKTV-INR,FiniteDifference,Savitzky-Golay,Weak SINDy" --workers 2 --threads 1
    python benchmarks/sindy_noise.py --systems lorenz --draws 10 --threads 2 --include-cached \
        --methods "RKTV-INR,RKTV-INR (one pass),RKTV-INR + refine,FiniteDifference,Savitzky-Golay,TV (trend_filtered),Kalman,Weak SINDy"

Since 2026-12-05 ``AutoSTLSQ`` scores the best subset of every size besides the threshold path (``best_subsets=True``;
cache tags end in ``|subsets``). The table above was restored into the cache from ``docs/sindy_noise.json`` and
reported as it was measured into its own section (``--threshold-path``, ``docs/sindy_noise_threshold_path.json``);
Lorenz and Rossler were rerun with the new rule (``M2`` = ``$M`` without ``RKTV-INR + refine``, which was not rerun;
Weak SINDy's MSTLS runs are reused, its rule did not change; no selection study: its ensembles were not rerun)::

    python benchmarks/sindy_noise.py --systems lorenz --draws 10 --threads 1 --include-cached --no-lynx \
        --threshold-path --methods "$M"
    python benchmarks/sindy_noise.py --systems lorenz,rossler --draws 10 --methods "$M2" --threads 2 --no-lynx --no-study
    python benchmarks/sindy_noise.py --systems lorenz,rossler --draws 10 --methods "$M2" --threads 2 --no-study  # + lynx-hare

``--workers N`` runs draws in N processes (one BLAS thread each); ``--device split`` puts even draws on CUDA and
odd ones on the CPU; ``--time-limit`` stops handing out draws (in seed order) after so many minutes. The GPU-machine
run of the other systems is ``benchmarks/dev/sindy_gpu_grid.sh``.

Per-run results are cached in ``outputs/bench_sindy/runs.jsonl`` and derivatives in
``outputs/bench_sindy/derivs/`` (rerunning skips finished runs; ``--fresh`` recomputes). Every threshold rule
of the selection study (``SELECTIONS``: BIC/AIC sweeps and four ensembles) is applied to the same cached
derivatives of RKTV-INR and Savitzky-Golay. The table and plots go into ``docs/benchmarks.md`` / ``docs/sindy_noise_*.png``, every run's raw numbers into
``docs/sindy_noise.json``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pysindy as ps
import torch
from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown_table, write_section  # noqa: E402

from pysindy.differentiation import BaseDifferentiation  # noqa: E402

from rankfield.dynamics.sindy import BIAS_WEIGHTING_C, REFINE_AUTO_NOISE, REFINE_AUTO_PASSES, TRIM_DEFAULT  # noqa: E402
from rankfield.dynamics import RKTV, AutoSTLSQ, RKTVConfig, add_noise, discover, get_system, metrics, validate_model
from rankfield.dynamics.optimizers import MSTLS, EnsembleSTLSQ

ALL_METHODS = ["RKTV-INR", "RKTV-INR (one pass)", "RKTV-INR + refine", "RKTV-INR (no RK)", "RKTV-INR (no TV)", "FiniteDifference", "Savitzky-Golay",
               "TV (trend_filtered)", "Kalman", "Weak SINDy"]
FULL = dict(systems=["lorenz", "vanderpol", "duffing", "lotka_volterra", "rossler", "chen", "lu", "halvorsen"],
            noise=[0.01, 0.05, 0.1, 0.2, 0.3], draws=10)
QUICK = dict(systems=["lorenz"], noise=[0.1, 0.2], draws=4)
TUNE_SEED = 10_000
SELECTIONS = ["bic", "aic", "ensemble", "ensemble0.8", "ensemble_iid", "pysindy_median"]
STUDY_METHODS = ["RKTV-INR (one pass)", "Savitzky-Golay"]
DERIV_DIR = ROOT / "outputs" / "bench_sindy" / "derivs"


@functools.lru_cache(maxsize=None)
def _simulated(name):
    return get_system(name).simulate()


def _simulate(name):
    """The clean trajectory ``(t, x)`` of a system, simulated once per run (copies are handed out)."""
    t, x = _simulated(name)
    return t.copy(), x.copy()


def _diff_error(d, clean_dot):
    return metrics.derivative_error(d, clean_dot)


def tune_baselines(t, clean, clean_dot, level):
    """Pick SG window / TV alpha / Kalman alpha on a tuning draw by derivative error against the clean signal."""
    y = add_noise(clean, level, seed=TUNE_SEED)
    n = len(t)
    best = {}
    windows = [w for w in (9, 15, 21, 31, 51, 71, 101, 151) if w < n // 2]
    errs = [_diff_error(ps.SmoothedFiniteDifference(smoother_kws={"window_length": w, "polyorder": 3})(y, t), clean_dot)
            for w in windows]
    best["Savitzky-Golay"] = {"window_length": windows[int(np.nanargmin(errs))]}
    for kind, grid in (("trend_filtered", [1e-3, 1e-2, 1e-1, 1.0]), ("kalman", [1e-3, 1e-2, 1e-1, 1.0, 10.0])):
        errs = []
        for a in grid:
            kw = dict(kind=kind, alpha=a, **({"order": 0} if kind == "trend_filtered" else {}))
            try:
                errs.append(_diff_error(ps.SINDyDerivative(**kw)(y, t), clean_dot))
            except Exception:  # noqa: BLE001 - a failing setting is just not chosen
                errs.append(np.inf)
        best["TV (trend_filtered)" if kind == "trend_filtered" else "Kalman"] = {"alpha": grid[int(np.argmin(errs))]}
    return best


def differentiation_for(method, tuned, iterations, device, progress):
    cfg = RKTVConfig(steps=iterations, device=device, progress=progress)
    if method in ("RKTV-INR", "RKTV-INR (one pass)"):
        return _FirstPass(cfg)
    if method == "RKTV-INR (no RK)":
        return RKTV(cfg, weight_rk=0.0)
    if method == "RKTV-INR (no TV)":
        return RKTV(cfg, weight_tv=0.0)
    if method == "FiniteDifference":
        return ps.FiniteDifference()
    if method == "Savitzky-Golay":
        return ps.SmoothedFiniteDifference(smoother_kws={**tuned["Savitzky-Golay"], "polyorder": 3})
    if method == "TV (trend_filtered)":
        return ps.SINDyDerivative(kind="trend_filtered", order=0, **tuned["TV (trend_filtered)"])
    if method == "Kalman":
        return ps.SINDyDerivative(kind="kalman", **tuned["Kalman"])
    raise ValueError(method)


class _FirstPass(RKTV):
    """RKTV that keeps the first fit's smoothed states, derivatives and seconds in ``first_`` (refinement then
    changes the denoiser in place), so that one ``discover(refine="auto")`` run gives both RKTV-INR rows."""

    def _differentiate(self, x, t=1):
        start = time.perf_counter()
        x_dot = np.asarray(super()._differentiate(x, t), dtype=float)
        self.first_ = (np.asarray(self.smoothed_x_, dtype=float).copy(), x_dot.copy(), time.perf_counter() - start)
        return x_dot


class _Precomputed(BaseDifferentiation):
    """Hands cached derivatives (and smoothed states) to :func:`discover` so selection rules share them."""

    def __init__(self, x_smooth, x_dot):
        self.x_smooth, self.x_dot = x_smooth, x_dot

    def _differentiate(self, x, t=1):
        self.smoothed_x_ = self.x_smooth
        return self.x_dot


class _PySINDyEnsemble(ps.EnsembleOptimizer):
    """PySINDy's stock E-SINDy (iid bagging, median of the models) around the BIC sweep. PySINDy draws from
    the global ``np.random``; this script (not the library) seeds it before each fit for reproducibility."""

    def _reduce(self, x, y):
        np.random.seed(0)
        self.coef_list = []
        super()._reduce(x, y)


# AutoSTLSQ's candidates: the threshold path plus the best subsets (the default since 2026-12-05), or the threshold
# path only (``--threshold-path``: the rule of every run before then; in the environment for --workers' processes)
BEST_SUBSETS = os.environ.get("SINDY_NOISE_THRESHOLD_PATH") != "1"


def make_optimizer(selection):
    """Threshold-selection rule by name (see ``RULES``)."""
    sweep = functools.partial(AutoSTLSQ, best_subsets=BEST_SUBSETS)
    if selection in ("bic", "aic"):
        return sweep(criterion=selection)
    if selection == "ensemble_iid":
        return EnsembleSTLSQ(sweep(), block=1, seed=0)
    if selection == "pysindy_median":
        return _PySINDyEnsemble(sweep(), bagging=True, n_models=50)
    if selection.startswith("ensemble"):
        return EnsembleSTLSQ(sweep(), inclusion=float(selection[len("ensemble"):] or 0.6), seed=0)
    raise ValueError(selection)


def rktv_tag(iterations) -> str:
    """Cache tag of RKTV-INR runs: the steps and a hash of the default config (a changed default is a new run)."""
    cfg = RKTVConfig(steps=iterations).to_dict()
    cfg.pop("device"), cfg.pop("progress")
    return f"{iterations}-{hashlib.sha1(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:8]}"


def _trim_arg(value):
    if value == "auto":
        return value
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"trim must be 'auto' or an integer >= 0, got {value!r}")
    return int(value)


def bias_for(method, bias):
    """discover's bias_weighting for a row: ``bias`` for the RKTV-INR rows (as ``discover``'s ``auto`` does for
    RKTV-INR), off for the baselines and for the fixed two-pass refinement row (measured before the weighting
    existed; not rerun)."""
    return bias if bias and method.startswith("RKTV") and method != "RKTV-INR + refine" else None


def run_tag(method, iterations, trim, bias=0.0):
    """Cache tag of a run: RKTV-INR's steps and config hash, weak SINDy's rule, discover's trim when not 0 and
    its bias weighting when on."""
    tag = rktv_tag(iterations) if method.startswith("RKTV") else "mstls" if method == "Weak SINDy" else None
    if trim != 0 and method != "Weak SINDy":
        tag = f"{tag or ''}|trim{trim}"
    if bias_for(method, bias):
        tag = f"{tag}|bw{bias:g}"
    if method == "RKTV-INR":  # discover's defaults: refinement gated on the estimated noise
        tag = f"{tag}|refine-auto{REFINE_AUTO_PASSES}@{REFINE_AUTO_NOISE:g}"
    if BEST_SUBSETS and method != "Weak SINDy":  # runs before 2026-12-05 (threshold path only) have no mark
        tag = f"{tag or ''}|subsets"
    return tag


def derivatives(system, level, draw, method, tuned, iterations, device):
    """Differentiate one noisy draw with ``method``; cached as npz under outputs/bench_sindy/derivs."""
    path = _deriv_path(system, level, draw, method, iterations)
    if path.exists():
        z = np.load(path)
        return z["x_smooth"], z["x_dot"], float(z["seconds"])
    t, clean = _simulate(system.name)
    y = add_noise(clean, level, seed=draw)
    diff = differentiation_for(method, tuned, iterations, device, False)
    start = time.perf_counter()
    x_dot = np.asarray(diff(y, t), dtype=float)
    seconds = time.perf_counter() - start
    x_smooth = np.asarray(getattr(diff, "smoothed_x_", y), dtype=float)
    _save_derivatives(path, x_smooth, x_dot, seconds)
    return x_smooth, x_dot, seconds


def _deriv_path(system, level, draw, method, iterations):
    slug = "".join(ch if ch.isalnum() else "_" for ch in ("RKTV-INR" if method == "RKTV-INR (one pass)" else method))
    tag = rktv_tag(iterations) if method.startswith("RKTV") else 0
    return DERIV_DIR / f"{system.name}_{level:g}_{draw}_{slug}_{tag}.npz"


def _save_derivatives(path, x_smooth, x_dot, seconds):
    DERIV_DIR.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + f".{os.getpid()}.tmp.npz")  # parallel workers: write, then rename
    np.savez(tmp, x_smooth=x_smooth, x_dot=x_dot, seconds=seconds)
    tmp.replace(path)


def run_one(system, level, draw, method, tuned, iterations, device, selection, trim=TRIM_DEFAULT, bias=0.0):
    t, clean = _simulate(system.name)
    clean_dot = system.rhs(clean)
    y = add_noise(clean, level, seed=draw)
    xi_true = system.true_coefficients()

    def row(m, xi, d_err, seconds, **extra):
        return {"system": system.name, "noise": level, "draw": draw, "method": m, "selection": selection,
                "success": metrics.support_recovered(xi, xi_true), "coef_error": metrics.coefficient_error(xi, xi_true),
                "wrong_terms": metrics.wrong_terms(xi, xi_true), "deriv_error": d_err, "seconds": seconds, **extra}

    if method == "RKTV-INR":  # discover's defaults (refine="auto"); its first pass is the one-pass row
        start = time.perf_counter()
        diff = _FirstPass(RKTVConfig(steps=iterations, device=device, progress=False))
        res = discover(y, t, degree=system.degree, differentiation=diff, optimizer=make_optimizer(selection),
                       state_names=list(system.state_names), trim=trim, bias_weighting=bias_for(method, bias),
                       refine="auto")
        seconds = time.perf_counter() - start
        x_smooth, x_dot, first_seconds = diff.first_
        path = _deriv_path(system, level, draw, method, iterations)
        if not path.exists():
            _save_derivatives(path, x_smooth, x_dot, first_seconds)
        n_ref = len(res.passes) - 1
        regression = (seconds - res.differentiation_seconds) / (n_ref + 1)  # one pass's share of the regressions
        one = row("RKTV-INR (one pass)", res.passes[0], _diff_error(x_dot, clean_dot), first_seconds + regression)
        return row(method, res.coefficients, _diff_error(res.x_dot[0], clean_dot), seconds, refine_passes=n_ref,
                   one_pass=one)
    if method == "RKTV-INR + refine":  # model-in-the-loop: two refinement passes on the selected support
        start = time.perf_counter()
        res = discover(y, t, degree=system.degree, config=RKTVConfig(steps=iterations, device=device, progress=False),
                       optimizer=make_optimizer(selection), state_names=list(system.state_names), refine=2,
                       trim=trim, bias_weighting=None)
        xi, d_err = res.coefficients, _diff_error(res.x_dot[0], clean_dot)
        seconds = time.perf_counter() - start
    elif method == "Weak SINDy":
        start = time.perf_counter()
        lib = ps.WeakPDELibrary(function_library=ps.PolynomialLibrary(system.degree, include_bias=False),
                                spatiotemporal_grid=t, include_bias=True, is_uniform=True, K=200)
        # its authors' own rule (MSTLS): weak-form residuals are not iid samples, so the BIC rule does not suit it
        # (benchmarks/dev/weak_rules_exp.log: BIC 1/120 successes where MSTLS has 63/120 on the dev draws)
        model = ps.SINDy(feature_library=lib, optimizer=MSTLS()).fit(y, t=t)
        xi, d_err = np.asarray(model.coefficients()), float("nan")
        seconds = time.perf_counter() - start
    else:
        x_smooth, x_dot, seconds = derivatives(system, level, draw, method, tuned, iterations, device)
        start = time.perf_counter()
        res = discover(y, t, degree=system.degree, differentiation=_Precomputed(x_smooth, x_dot),
                       optimizer=make_optimizer(selection), state_names=list(system.state_names), trim=trim,
                       bias_weighting=bias_for(method, bias))
        seconds += time.perf_counter() - start
        xi, d_err = res.coefficients, _diff_error(x_dot, clean_dot)
    return row(method, xi, d_err, seconds)


def summarise(runs, methods):
    rows = []
    keys = sorted({(r["system"], r["noise"]) for r in runs}, key=lambda k: (k[0], k[1]))
    for system, level in keys:
        for m in methods:
            rs = [r for r in runs if r["system"] == system and r["noise"] == level and r["method"] == m]
            if not rs:
                continue
            de = [r["deriv_error"] for r in rs if np.isfinite(r["deriv_error"])]
            rows.append({"system": system, "noise": f"{level:.0%}", "method": m, "draws": len(rs),
                         "success": f"{np.mean([r['success'] for r in rs]):.0%}",
                         "coef error": float(np.mean([r["coef_error"] for r in rs])),
                         "wrong terms": float(np.mean([r["wrong_terms"] for r in rs])),
                         "deriv error": float(np.mean(de)) if de else "n/a",
                         "time (s)": float(np.mean([r["seconds"] for r in rs]))})
    return rows


RULES = {"bic": "AutoSTLSQ: per-equation threshold sweep scored by BIC with an AR(1) effective n",
         "aic": "AutoSTLSQ with AIC",
         "ensemble": "EnsembleSTLSQ (PySINDy's EnsembleOptimizer with a moving-block bootstrap): 50 BIC sweeps, "
                     "keep terms selected in >= 60%, refit",
         "ensemble0.8": "EnsembleSTLSQ, keep terms selected in >= 80%",
         "ensemble_iid": "EnsembleSTLSQ with block=1 (PySINDy's iid bagging), inclusion >= 60%",
         "pysindy_median": "PySINDy's stock EnsembleOptimizer: 50 iid-bagged BIC sweeps, median of the coefficients"}


def success_pivot(runs, methods):
    """Markdown: exact-support success per (system, method) row and noise-level column, ``k/n`` draws."""
    levels = sorted({r["noise"] for r in runs})
    systems = sorted({r["system"] for r in runs}, key=lambda n: (n != "lorenz", n))
    rows = []
    for s in systems:
        for m in methods:
            row = {"system": s, "method": m}
            for lv in levels:
                cell = [r["success"] for r in runs if r["system"] == s and r["method"] == m and r["noise"] == lv]
                row[f"{lv:.0%}"] = f"{sum(cell)}/{len(cell)}" if cell else "-"
            if any(v != "-" for k, v in row.items() if k not in ("system", "method")):
                rows.append(row)
    return markdown_table(rows)


def selection_study(runs, methods):
    """Markdown: success / wrong terms per threshold rule on the same derivatives (all cells of the run)."""
    rows = []
    # only the draws every rule was applied to (a main-table run of another system has no study runs)
    have = {}
    for r in runs:
        have.setdefault((r["system"], r["noise"], r["draw"], r["method"]), set()).add(r.get("selection", "bic"))
    full = {k for k, v in have.items() if v >= set(SELECTIONS)}
    runs = [r for r in runs if (r["system"], r["noise"], r["draw"], r["method"]) in full]
    cells = sorted({(r["system"], r["noise"]) for r in runs})
    for m in methods:
        for sel in SELECTIONS:
            rs = [r for r in runs if r["method"] == m and r.get("selection", "bic") == sel]
            if not rs:
                continue
            row = {"derivatives": m, "rule": sel, "runs": len(rs),
                   "success (all cells)": f"{np.mean([r['success'] for r in rs]):.0%}",
                   "wrong terms": float(np.mean([r["wrong_terms"] for r in rs])),
                   "coef error": float(np.mean([r["coef_error"] for r in rs]))}
            for s in sorted({c[0] for c in cells}, key=lambda n: (n != "lorenz", n)):
                row[s] = f"{np.mean([r['success'] for r in rs if r['system'] == s]):.0%}"
            for lv in sorted({c[1] for c in cells}):
                row[f"noise {lv:.0%}"] = f"{np.mean([r['success'] for r in rs if r['noise'] == lv]):.0%}"
            rows.append(row)
    if not rows:
        return ""
    rules = "; ".join(f"`{k}`: {v}" for k, v in RULES.items())
    return ("### Threshold selection: information-criterion sweep vs ensembles (same derivatives)\n\n"
            f"Rules: {rules}. Success per system is over all its noise levels, per noise level over all "
            "systems.\n\n" + markdown_table(rows) + "\n")


def plot_success(runs, methods, path):
    """Success rate vs noise, one panel per system; noise levels equally spaced, methods slightly offset so
    that coinciding curves (often several at 0% or 100%) stay visible."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = sorted({r["system"] for r in runs}, key=lambda n: (n != "lorenz", n))
    all_levels = sorted({r["noise"] for r in runs})
    ncols = min(3, len(systems))
    nrows = -(-len(systems) // ncols)
    legend_room = 0 if len(systems) % ncols else 0.8  # no spare panel: the legend goes below
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.3 * ncols, 3.2 * nrows + legend_room), squeeze=False,
                             sharey=True)
    offsets = np.linspace(-0.2, 0.2, len(methods)) if len(methods) > 1 else [0.0]
    for ax, s in zip(axes.flat, systems):
        for k, m in enumerate(methods):
            levels = sorted({r["noise"] for r in runs if r["system"] == s and r["method"] == m})
            if not levels:
                continue
            rate = [np.mean([r["success"] for r in runs if r["system"] == s and r["method"] == m and r["noise"] == lv])
                    for lv in levels]
            xs = np.array([all_levels.index(lv) for lv in levels]) + offsets[k]
            ax.plot(xs, rate, "o-", color=f"C{k}", label=m, lw=2.2 if k == 0 else 1, ms=5 if k == 0 else 4)
        ax.set_title(s)
        ax.set_xticks(range(len(all_levels)), [f"{lv:.0%}" for lv in all_levels])
        ax.set_xlabel("noise (sigma / std)")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(systems):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("exact support recovery")
    seen = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    spare = axes.flat[len(systems):]
    if len(spare):  # an empty panel holds the legend
        spare[0].legend(list(seen.values()), list(seen), loc="center", fontsize=9, frameon=False)
        fig.tight_layout()
    else:
        fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(len(seen), 4), fontsize=8,
                   frameon=False)
        fig.tight_layout(rect=(0, 0.8 / (3.2 * nrows + 0.8), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def lynx_hare(iterations, device, progress, selection, trim=TRIM_DEFAULT, bias=BIAS_WEIGHTING_C):
    """Discover a model from the Hudson's Bay lynx-hare pelts (if ../shared/data is there)."""
    path = ROOT.parent / "shared" / "data" / "lynx_hare" / "hudson_bay_lynx_hare.csv"
    if not path.exists():
        return f"Lynx-hare data not found at `{path}`: skipped.\n"
    print(f"reading {path}")
    data = np.genfromtxt(path, delimiter=",", names=True)
    t = data["year"] - data["year"][0]
    x = np.c_[data["hare"], data["lynx"]]
    res = discover(x, t, degree=2, config=RKTVConfig(steps=iterations, device=device, progress=progress),
                   optimizer=make_optimizer(selection), state_names=["hare", "lynx"], trim=trim,
                   bias_weighting=bias or None)
    val = validate_model(res.model, t, x)
    from rankfield.dynamics.plotting import plot_simulation, plot_states

    plot_states(ROOT / "docs" / "sindy_noise_lynx_hare_denoised.png", data["year"], x, res.x_smooth[0], ["hare", "lynx"],
                title="lynx-hare: pelts vs RKTV-INR")
    plot_simulation(ROOT / "docs" / "sindy_noise_lynx_hare_model.png", data["year"], x, val["x_sim"], ["hare", "lynx"])
    eqs = "\n".join(f"    {e}" for e in res.format_equations())
    err = val["error_vs_data"]
    err_txt = f"{err:.3f}" if np.isfinite(err) else "inf (the simulated model blows up before 1920)"
    return (f"Lynx-hare (`{path.name}`, {len(t)} yearly samples 1900-1920, t = years since 1900, thousands of pelts), "
            f"RKTV-INR + threshold rule `{selection}`, degree 2, `discover`'s defaults ({len(res.passes) - 1} "
            f"refinement passes):\n\n{eqs}\n\nSimulated from the 1900 values with torchdiffeq: relative "
            f"L2 error vs the data {err_txt}, valid fraction of the horizon (20% RMS band) "
            f"{val['valid_fraction']:.2f}. Plots: `sindy_noise_lynx_hare_denoised.png`, `sindy_noise_lynx_hare_model.png`.\n")


def _tune_cell(cell):
    s, lv = cell
    warnings.filterwarnings("ignore")
    system = get_system(s)
    t, clean = _simulate(system.name)
    return cell, tune_baselines(t, clean, system.rhs(clean), lv)


def _run_draw(task):
    """Worker: every job of one draw, in order (RKTV-INR first: its derivatives serve the draw's other rules)."""
    jobs, tuned, iterations, device, trim, bias, threads = task
    warnings.filterwarnings("ignore")
    torch.set_num_threads(threads)
    out = []
    for s, lv, d, m, sel in jobs:
        dev = ("cuda" if d % 2 == 0 else "cpu") if device == "split" else device
        try:
            r = run_one(get_system(s), lv, d, m, tuned, iterations, dev, sel, trim, bias)
        except Exception as exc:  # noqa: BLE001 - one failed run must not lose the others in flight
            print(f"sindy_noise: {s} {lv:g} draw {d} {m} ({sel}) failed: {type(exc).__name__}: {exc}",
                  file=sys.stderr, flush=True)
            continue
        if device == "split":
            for row in [r] + ([r["one_pass"]] if "one_pass" in r else []):
                row["device"] = dev
        out.append((r, tuned))
    return out


def _run_parallel(pending, args, store, tuned_cache):
    """Run the pending jobs on ``args.workers`` processes, one draw per task, draws in order of their seed (so a
    run stopped by ``--time-limit`` leaves every cell with about the same number of draws)."""
    import concurrent.futures as cf
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # CUDA in workers needs spawn
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):  # one BLAS thread a worker: 16
        os.environ.setdefault(var, "1")  # workers x 16 threads finished no draw in 9 min on a 16-core machine
    draws = {}
    for j in pending:
        draws.setdefault(j[:3], []).append(j)
    order = sorted(draws, key=lambda k: (k[2], k[0], k[1]))
    start = time.perf_counter()
    with cf.ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        cells = sorted({k[:2] for k in order} - set(tuned_cache))
        for cell, tuned in pool.map(_tune_cell, cells):
            tuned_cache[cell] = tuned
        futures, it = set(), iter(order)
        bar = tqdm(total=len(order), desc="sindy_noise draws", disable=args.no_progress)

        def submit():
            if args.time_limit and time.perf_counter() - start > 60 * args.time_limit:
                return False
            k = next(it, None)
            if k is None:
                return False
            futures.add(pool.submit(_run_draw, (draws[k], tuned_cache[k[:2]], args.iterations, args.device,
                                                args.trim, args.bias_weighting, args.threads or 1)))
            return True

        for _ in range(2 * args.workers):
            submit()
        while futures:
            finished, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
            for f in finished:
                futures.discard(f)
                for r, tuned in f.result():
                    store(r, tuned)
                bar.update()
                submit()
        bar.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="Lorenz at 10%%/20%%, 4 draws")
    p.add_argument("--systems", default=None, help="comma-separated systems")
    p.add_argument("--noise", default=None, help="comma-separated noise levels (fractions)")
    p.add_argument("--draws", type=int, default=None)
    p.add_argument("--methods", default=",".join(ALL_METHODS))
    p.add_argument("--iterations", type=int, default=RKTVConfig.steps, help="RKTV-INR Adam steps")
    p.add_argument("--device", default="auto",
                   help="auto | cpu | cuda | split (with --workers on a GPU machine: even draws on CUDA, odd draws on "
                        "the CPU, one thread each, to keep both busy)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--fresh", action="store_true", help="ignore cached runs")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-lynx", action="store_true", help="skip the lynx-hare part")
    p.add_argument("--selection", default="bic", choices=SELECTIONS,
                   help="threshold-selection rule of the main table (default: bic)")
    p.add_argument("--ablation-noise", default="0.1,0.2",
                   help="noise levels at which the RKTV-INR ablations run ('all' for every level)")
    p.add_argument("--include-cached", action="store_true",
                   help="report every cached run (other systems, levels or draws from earlier invocations) "
                        "besides this invocation's grid; the draws column says how many each cell has")
    p.add_argument("--no-study", action="store_true",
                   help="skip the threshold-selection study (bic/aic/ensembles on RKTV-INR and Savitzky-Golay)")
    p.add_argument("--trim", type=_trim_arg, default=TRIM_DEFAULT,
                   help=f"samples left out of the regression at each end (discover's trim; default {TRIM_DEFAULT})")
    p.add_argument("--bias-weighting", type=float, default=BIAS_WEIGHTING_C,
                   help="discover's bias_weighting c for the RKTV-INR rows (0: off; the refinement row is always "
                        f"unweighted; default {BIAS_WEIGHTING_C:g}, discover's auto for RKTV-INR)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (one draw of every method each; --threads torch threads each, default 1)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="with --workers: stop handing out draws after this many minutes (finished runs are cached)")
    p.add_argument("--threshold-path", action="store_true",
                   help="AutoSTLSQ without the best-subset candidates (the rule before 2026-12-05); reports into "
                        "its own section and docs/sindy_noise_threshold_path.json")
    p.add_argument("--note", default="", help="a sentence added to the report (e.g. which cells were not rerun)")
    args = p.parse_args(argv)
    warnings.filterwarnings("ignore")
    global BEST_SUBSETS
    if args.threshold_path:
        BEST_SUBSETS, os.environ["SINDY_NOISE_THRESHOLD_PATH"] = False, "1"
    section = "sindy_noise_threshold_path" if args.threshold_path else "sindy_noise"
    if args.device == "split" and args.workers <= 1:
        p.error("--device split needs --workers > 1")
    if args.time_limit and args.workers <= 1:
        p.error("--time-limit needs --workers > 1")
    if args.threads and args.workers <= 1:
        torch.set_num_threads(args.threads)
    grid = dict(QUICK if args.quick else FULL)
    systems = args.systems.split(",") if args.systems else grid["systems"]
    levels = [float(v) for v in args.noise.split(",")] if args.noise else grid["noise"]
    draws = args.draws or grid["draws"]
    methods = [m for m in args.methods.split(",") if m]
    cache = ROOT / "outputs" / "bench_sindy" / "runs.jsonl"
    cache.parent.mkdir(parents=True, exist_ok=True)
    if args.fresh and cache.exists():
        cache.unlink()
    done = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            r = json.loads(line)
            done[(r["system"], r["noise"], r["draw"], r["method"], r.get("selection", "bic"), r.get("iterations"))] = r
    ablation_levels = levels if args.ablation_noise == "all" else [float(v) for v in args.ablation_noise.split(",")]
    runs, t0 = [], time.perf_counter()
    jobs = []
    for s in systems:
        for lv in levels:
            for d in range(draws):
                for m in methods:
                    if "(no " in m and not any(abs(lv - a) < 1e-12 for a in ablation_levels):
                        continue
                    jobs.append((s, lv, d, m, args.selection))
                    if not args.no_study and m in STUDY_METHODS:
                        jobs += [(s, lv, d, m, sel) for sel in SELECTIONS if sel != args.selection]
    tuned_cache = {}

    def key_of(s, lv, d, m, sel):  # another rule or default is not reused
        return (s, lv, d, m, sel, run_tag(m, args.iterations, args.trim, args.bias_weighting))

    def store(r, tuned):  # cache a finished run (and the one-pass row that comes with an RKTV-INR run)
        out = [r] + ([r.pop("one_pass")] if "one_pass" in r else [])
        for x in out:
            key = key_of(x["system"], x["noise"], x["draw"], x["method"], x["selection"])
            if key in done:
                continue
            x["iterations"], x["tuned"] = key[-1], tuned.get(x["method"])
            with open(cache, "a") as fh:
                fh.write(json.dumps(x, default=float) + "\n")
            done[key] = x

    pending = [j for j in jobs if key_of(*j) not in done]
    # an RKTV-INR run also gives the one-pass row of its draw: run it first, drop that draw's one-pass job
    with_main = {j[:3] + (j[4],) for j in pending if j[3] == "RKTV-INR"}
    pending = [j for j in pending if not (j[3] == "RKTV-INR (one pass)" and j[:3] + (j[4],) in with_main)]
    pending.sort(key=lambda j: j[3] != "RKTV-INR")
    if args.workers > 1 and pending:
        _run_parallel(pending, args, store, tuned_cache)
    else:
        for s, lv, d, m, sel in tqdm(pending, desc="sindy_noise", disable=args.no_progress):
            if key_of(s, lv, d, m, sel) in done:  # the one-pass row of an RKTV-INR run
                continue
            system = get_system(s)
            if (s, lv) not in tuned_cache:
                t, clean = _simulate(system.name)
                tuned_cache[(s, lv)] = tune_baselines(t, clean, system.rhs(clean), lv)
            store(run_one(system, lv, d, m, tuned_cache[(s, lv)], args.iterations, args.device, sel, args.trim,
                          args.bias_weighting), tuned_cache[(s, lv)])
    runs = [done[key_of(*j)] for j in jobs if key_of(*j) in done]
    total = time.perf_counter() - t0
    if args.include_cached:
        have = {(r["system"], r["noise"], r["draw"], r["method"], r.get("selection", "bic")) for r in runs}
        for key, r in done.items():
            rk = key[:5]
            if rk not in have and r["method"] in methods and key[5] == run_tag(r["method"], args.iterations,
                                                                                  args.trim, args.bias_weighting):
                runs.append(r)
                have.add(rk)
        systems = sorted({r["system"] for r in runs}, key=lambda n: (n != "lorenz", n))
        levels = sorted({r["noise"] for r in runs})
    main_runs = [r for r in runs if r.get("selection", "bic") == args.selection]
    rows = summarise(main_runs, methods)
    print(markdown_table(rows))
    if not args.threshold_path:
        plot_success(main_runs, methods, ROOT / "docs" / "sindy_noise_success.png")
    study = "" if args.no_study else selection_study(runs, [m for m in STUDY_METHODS if m in methods])
    tuned_txt = "; ".join(f"{s} {lv:.0%}: " + ", ".join(f"{k} {v}" for k, v in tv.items())
                          for (s, lv), tv in tuned_cache.items())
    cells = {}
    for r in main_runs:
        cells.setdefault(r["system"], {}).setdefault(r["noise"], set()).add(r["draw"])
    grid_txt = "; ".join(f"{sname}: " + ", ".join(f"{lv:.0%}" for lv in sorted(lvs)) + " x "
                         + "/".join(str(n) for n in sorted({len(d) for d in lvs.values()})) + " draws"
                         for sname, lvs in sorted(cells.items(), key=lambda kv: (kv[0] != "lorenz", kv[0])))
    intro = (f"Exact support recovery of polynomial ODEs from noisy trajectories: `discover`'s defaults (RKTV-INR) "
             f"against PySINDy's finite differences, smoothed finite differences and weak SINDy, on "
             f"{len(cells)} systems at {', '.join(f'{lv:.0%}' for lv in levels)} noise (successful draws / draws; "
             "the protocol follows the figure):\n\n")
    protocol = (f"Protocol. Grid: {grid_txt} (sigma_j = level * std(x_j)); "
            f"{'seeds 0..n-1; cells cached from earlier invocations included' if args.include_cached else f'seeds 0..{draws - 1}'}; RKTV-INR {args.iterations} "
            f"Adam steps; RKTV-INR ablations at noise {', '.join(f'{v:.0%}' for v in ablation_levels)}. Library: "
            f"PolynomialLibrary(system degree); threshold rule `{args.selection}` ({RULES[args.selection]}; "
            f"{'candidates from the threshold path only, the rule before 2026-12-05' if args.threshold_path else 'candidates: the threshold path and the best subset of every size, AutoSTLSQ(best_subsets=True)'}) for every "
            f"method but weak SINDy, which uses its authors' MSTLS rule (`rankfield.dynamics.optimizers.MSTLS`); the regression leaves "
            f"out {'1% of the samples' if args.trim == 'auto' else f'{args.trim} samples'} at each end of a record "
            f"(`discover(trim={args.trim!r})`; not weak SINDy); "
            + (f"the RKTV-INR rows (not the `+ refine` row, which is unweighted) down-weight the rows where the "
               f"smoothed derivative is most biased (`discover(bias_weighting={args.bias_weighting:g})`, the default "
               f"for RKTV-INR). " if args.bias_weighting else "no bias weighting. ")
            + f"`RKTV-INR` is `discover`'s defaults, model-in-the-loop refinement included (`refine='auto'`: "
              f"{REFINE_AUTO_PASSES} passes when the record's estimated noise is at least {REFINE_AUTO_NOISE:.0%} of "
              f"the signal); `RKTV-INR (one pass)` is the first pass of the same run (where a one-pass run of the "
              f"same configuration was cached, that run: same seed, same machine); `RKTV-INR + refine` always "
              f"refines twice, without the bias weighting (measured before it); the ablations `(no RK)` and "
              f"`(no TV)` are one pass. "
            + f"success = exact support recovery; coef error = mean "
            f"`||Xi - Xi*||_F / ||Xi*||_F`; deriv error = mean relative L2 error of dx/dt vs the clean derivative "
            f"(weak SINDy has none); time = mean wall time per fit (differentiation + regression). Baselines tuned "
            f"per cell on a separate draw against the clean derivative (oracle tuning): {tuned_txt or 'cached runs'}. "
            + (f"Wall time of this run: {total / 60:.1f} min (cached cells not recomputed)." if total > 60
               else "Every cell was read from the cache of earlier runs.")
            + (f" {args.note}" if args.note else "") + "\n\n")
    body = (intro + success_pivot(main_runs, methods) + "\n![success rate](sindy_noise_success.png)\n\n" + protocol
            + "All metrics:\n\n" + markdown_table(rows) + "\n" + study
            + ("Lynx-hare: skipped (--no-lynx).\n" if args.no_lynx
               else lynx_hare(args.iterations, "cuda" if args.device == "split" else args.device, not args.no_progress, args.selection, args.trim,
                                    args.bias_weighting)))
    write_section(section, "SINDy under noise: RKTV-INR vs baselines (benchmarks/sindy_noise.py)" + (
        ", the threshold-path rule of the runs before 2026-12-05" if args.threshold_path else ""), body)
    raw = [{k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in r.items()} for r in runs]
    (ROOT / "docs" / f"{section}.json").write_text(json.dumps(
        {"argv": sys.argv[1:], "rules": RULES, "runs": raw}, indent=1, default=float, allow_nan=True) + "\n")
    print(f"wrote docs/benchmarks.md section {section} ({total / 60:.1f} min)")


if __name__ == "__main__":
    main()
