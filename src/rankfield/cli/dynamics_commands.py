"""``rankfield discover [CSV]``: RKTV-INR denoising + SINDy equation discovery.

Without a CSV it generates a registry system (default Lorenz, 10% noise); with a CSV it reads a time column
and state columns by name. Prints the equations; writes ``discover.json`` and PNG plots to ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from rankfield._io import atomic_write, check_memory
from rankfield.cli._common import (add_common_options, adopt_stored_configs, nonneg_float, nonneg_int, open_fraction,
                                   positive_float, positive_int, require_pictures)
from rankfield.cli._options import ConfigOption as Opt, add_config_options, config_from_args
from rankfield._extras import pip_line
from rankfield.errors import InputError


def _or_word(word: str, value, convert):
    """An option type that takes ``word`` (any case; parsed as ``value``) or what ``convert`` takes."""
    def parse(text: str):
        if text.lower() == word:
            return value
        try:
            return convert(text)
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"expected '{word}' or {str(exc).removeprefix('expected ')}") from None
    parse.__name__ = convert.__name__
    return parse


def _or_auto(convert):
    """An option type that takes ``auto`` or what ``convert`` takes."""
    return _or_word("auto", "auto", convert)


def _or_none(convert):
    """An option type that takes ``none`` (for ``None``) or what ``convert`` takes."""
    return _or_word("none", None, convert)


# RKTVConfig and DiscoverConfig fields set by options: default from the config, help from its docstring
_RKTV_OPTIONS = (Opt("steps", "--steps", positive_int), Opt("omega0", "--omega0", _or_auto(positive_float)),
                 Opt("weight_tv", "--weight-tv", _or_auto(nonneg_float)),
                 Opt("refine_steps", "--refine-steps", positive_int), Opt("width", "--width", positive_int),
                 Opt("stop_tol", "--stop-tol", _or_none(open_fraction)))
_DISCOVER_OPTIONS = (Opt("degree", "--degree", positive_int, default=None, shown="the system's; 2 for CSV data"),
                     Opt("criterion", "--criterion"), Opt("threshold", "--threshold", positive_float),
                     Opt("refine", "--refine", _or_auto(nonneg_int)), Opt("refine_support", "--refine-support"),
                     Opt("trim", "--trim", _or_auto(nonneg_int)),
                     Opt("bias_weighting", "--bias-weighting", _or_auto(nonneg_float)))


def register(subparsers) -> None:
    """Add ``discover``. Its options and ``--help`` need no import of the ``dynamics`` extra (PySINDy): without
    the extra the help says what to install and running the command prints that as its one-line error."""
    try:
        from rankfield.dynamics import DiscoverConfig, RKTVConfig
        from rankfield.dynamics.systems import SYSTEMS
    except ImportError as exc:  # without the `dynamics` extra: the same options, the command says what to install
        message = str(exc) if isinstance(exc, InputError) else (
            f"discover: needs the 'dynamics' extra ({exc.name or exc} is missing): {pip_line('dynamics')}")
        p = subparsers.add_parser(
            "discover", help=f"(needs: {pip_line('dynamics')})",
            description=f"Not available in this installation: {message}. {_DESCRIPTION}")
        _add_options(p, None, None, None)

        def missing(args):
            raise InputError(message)
        p.set_defaults(func=missing)
        return
    p = subparsers.add_parser(
        "discover", help="discover governing equations from a noisy trajectory (RKTV-INR + SINDy)",
        description=_DESCRIPTION)
    _add_options(p, sorted(SYSTEMS), RKTVConfig(), DiscoverConfig())
    p.set_defaults(func=run_discover)


_DESCRIPTION = ("Denoise a trajectory with RKTV-INR and discover its equations with SINDy. Without CSV: "
                "a simulated system (default Lorenz, 10% noise: sigma_j = level * std(x_j)).")


def _add_options(p: argparse.ArgumentParser, systems, rktv, options) -> None:
    """The options of ``discover``: those of config fields from ``rktv`` (an RKTVConfig) and ``options`` (a
    DiscoverConfig); ``None`` when the ``dynamics`` extra is missing (the same flags, no defaults)."""
    p.add_argument("csv", nargs="?", help="CSV file with a header row; omit to use a simulated system")
    p.add_argument("--time-column", default=None, help="name of the time column (default: the first column)")
    p.add_argument("--columns", default=None,
                   help="comma-separated state columns (default: every column except the time column)")
    p.add_argument("--system", default="lorenz", choices=systems,
                   help="simulated system when no CSV is given (default: lorenz)")
    p.add_argument("--noise", type=nonneg_float, default=0.1, help="noise level of the simulated data (default 0.1)")
    p.add_argument("--samples", type=positive_int, default=None, help="samples of the simulated data (default: the system's)")
    g = p.add_argument_group("RKTV-INR (RKTVConfig)")
    h = p.add_argument_group("SINDy (DiscoverConfig)")
    for group, preset, opts in ((g, rktv, _RKTV_OPTIONS), (h, options, _DISCOVER_OPTIONS)):
        if preset is not None:
            add_config_options(group, preset, opts)
        else:
            for opt in opts:
                group.add_argument(opt.flag, type=opt.type, default=None, help="see docs/guide/dynamics.md")
    add_common_options(p, "outputs/discover")


def read_csv(path: str, time_column: str | None, columns: str | None):
    """Read ``(t, x, names)`` from a CSV with a header; InputError on any problem."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a CSV file")
    check_memory(40.0 * path.stat().st_size, f"reading {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text CSV file") from None
    if "\x00" in text:
        raise InputError(f"{path}: a binary file, not a CSV text file")
    try:
        rows = [r for r in csv.reader(text.splitlines()) if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(f"{path}: not a valid CSV file ({exc})") from None
    if len(rows) < 2:
        raise InputError(f"{path}: needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    tcol = time_column if time_column is not None else header[0]
    wanted = [c.strip() for c in columns.split(",") if c.strip()] if columns else [h for h in header if h != tcol]
    missing = [c for c in [tcol] + wanted if c not in header]
    if missing:
        raise InputError(f"{path}: unknown column(s) {', '.join(missing)}; available: {', '.join(header)}")
    if not wanted:
        raise InputError(f"{path}: no state columns besides the time column {tcol!r}")
    idx = [header.index(c) for c in [tcol] + wanted]
    data = np.empty((len(rows) - 1, len(idx)))
    for i, row in enumerate(rows[1:]):
        if len(row) < len(header):
            raise InputError(f"{path}: row {i + 2} has {len(row)} fields, the header has {len(header)}")
        for k, j in enumerate(idx):
            try:
                data[i, k] = float(row[j])
            except ValueError:
                raise InputError(f"{path}: row {i + 2}, column {header[j]!r}: not a number: {row[j]!r}") from None
            if not np.isfinite(data[i, k]):
                raise InputError(f"{path}: row {i + 2}, column {header[j]!r}: NaN or infinite value {row[j]!r}")
    big = np.abs(data).max(initial=0.0)
    if big > 1e100:
        raise InputError(f"{path}: values up to {big:.3g} are too large to fit (rescale the data below 1e100)")
    return data[:, 0], data[:, 1:], wanted


def _plan(x, cfg, refine, auto_passes: int, auto_noise: float, degree: int, criterion: str, threshold) -> str:
    """One line saying what ``discover`` is about to do (the progress bar of each pass shows its time left).

    Example:
        >>> import numpy as np
        >>> from rankfield.dynamics import RKTVConfig
        >>> _plan(np.zeros((1000, 3)), RKTVConfig(), "auto", 2, 0.03, 2, "bic", None)  # doctest: +NORMALIZE_WHITESPACE
        'plan: RKTV-INR denoises 1000 samples x 3 states (up to 2000 steps, each pass ending once its loss
        flattens), then 2 model-in-the-loop passes of up to 1000 steps if the estimated noise is at least 3% of the
        signal; SINDy, polynomials of degree 2, threshold by bic'
    """
    n, d = x.shape
    upto = "up to " if cfg.stop_tol is not None else ""
    if refine == "auto":
        then = (f"then {auto_passes} model-in-the-loop passes of {upto}{cfg.refine_steps} steps if the estimated "
                f"noise is at least {auto_noise:.0%} of the signal")
    elif int(refine) > 0:
        then = f"then {int(refine)} model-in-the-loop passes of {upto}{cfg.refine_steps} steps"
    else:
        then = "no refinement"
    rule = f"fixed threshold {threshold:g}" if threshold is not None else f"threshold by {criterion}"
    stop = ", each pass ending once its loss flattens" if cfg.stop_tol is not None else ""
    return (f"plan: RKTV-INR denoises {n} samples x {d} states ({upto}{cfg.steps} steps{stop}), {then}; SINDy, "
            f"polynomials of degree {degree}, {rule}")


def run_discover(args) -> int:
    require_pictures()
    from rankfield.dynamics import DiscoverConfig, RKTVConfig, add_noise, discover, get_system, validate_model
    from rankfield.dynamics import metrics
    from rankfield.dynamics._checks import as_state_array, as_time_vector
    from rankfield.dynamics.plotting import plot_derivatives, plot_simulation, plot_states

    start = time.perf_counter()
    clean = clean_dot = system = None
    if args.csv:
        t, x, names = read_csv(args.csv, args.time_column, args.columns)
        degree = args.degree or 2
        source = f"{args.csv} (time {args.time_column or 'first column'}, states {', '.join(names)})"
    else:
        system = get_system(args.system)
        if args.samples is not None:
            check_memory(8.0 * 400 * args.samples, f"simulating {args.samples} samples")
        t, clean = system.simulate(n_samples=args.samples)
        clean_dot = system.rhs(clean)
        x = add_noise(clean, args.noise, seed=args.seed)
        names = list(system.state_names)
        degree = args.degree or system.degree
        source = f"{system.description}, {len(t)} samples, noise {args.noise:g} (sigma_j = level * std(x_j))"
    x = as_state_array(x, "data", min_samples=4, names=names)
    try:
        t = as_time_vector(t, x.shape[0])
    except InputError as exc:
        if not args.csv:
            raise
        raise InputError(f"time column {args.time_column or 'first column'!r} of {args.csv}: {exc} "
                         "(name the time column with --time-column)") from None
    print(f"data: {source}")
    for dest, default in (("omega0", "auto"), ("weight_tv", "auto"), ("refine_steps", RKTVConfig.refine_steps),
                          ("trim", "auto"), ("bias_weighting", "auto")):
        if getattr(args, dest) is None:  # a config.json or checkpoint of an earlier version
            setattr(args, dest, default)
    cfg = config_from_args(args, RKTVConfig(), _RKTV_OPTIONS, device=args.device, seed=args.seed,
                           progress=not args.no_progress).validate()
    from rankfield.dynamics.discovery import REFINE_AUTO_NOISE, REFINE_AUTO_PASSES
    from rankfield.dynamics.weighting import BIAS_WEIGHTING_C

    bias = BIAS_WEIGHTING_C if args.bias_weighting == "auto" else args.bias_weighting or None
    options = config_from_args(args, DiscoverConfig(), _DISCOVER_OPTIONS, degree=degree, bias_weighting=bias).validate()
    cfg, options = adopt_stored_configs(args, rktv=cfg, discover=options)
    print(_plan(x, cfg, options.refine, REFINE_AUTO_PASSES, REFINE_AUTO_NOISE, options.degree, options.criterion,
                options.threshold))
    trim, bias, degree = options.trim, options.bias_weighting, options.degree
    res = discover(x, t, config=cfg, options=options, state_names=names)
    x_s, x_d = res.x_smooth[0], res.x_dot[0]
    settings = res.denoiser.settings_[0]
    how = []  # what each automatic choice was made from (absent for values given on the command line)
    if "cycles_99" in settings and args.omega0 == "auto":
        how.append(f"99% of the signal's energy below {max(settings['cycles_99'])} cycles per record")
    if "noise_to_signal" in settings and args.weight_tv == "auto":
        how.append(f"noise estimated at {100 * float(np.mean(settings['noise_to_signal'])):.1f}% of the signal")
    print(f"RKTV-INR: omega0 {settings['omega0']:.3g}, TV weight {settings['weight_tv']:.2g}"
          + (f" ({'; '.join(how)})" if how else ""))
    val = validate_model(res.model, t, x, x_clean=clean)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    import pysindy as ps

    fd = ps.FiniteDifference()(x, t)
    summary = {"source": source, "n_samples": int(len(t)), "degree": degree, "trim": trim, "bias_weighting": bias,
               **res.to_dict(),
               "denoise_seconds": round(res.differentiation_seconds, 2), "rktv_settings": settings,
               "simulation_error_vs_data": val["error_vs_data"], "valid_fraction": val["valid_fraction"],
               "definitions": {
                   "simulation_error_vs_data": "||x_sim - x|| / ||x|| over the whole record (relative L2)",
                   "valid_fraction": "fraction of the record before the simulated state departs from the data "
                                     "by more than 20% of the data's RMS"}}
    if system is not None:
        xi_true = system.true_coefficients(degree)
        summary.update({
            "system": system.name, "noise": args.noise, "true_coefficients": xi_true.tolist(),
            "coefficient_error_fro": metrics.coefficient_error(res.coefficients, xi_true),
            "support_recovered": metrics.support_recovered(res.coefficients, xi_true),
            "wrong_terms": metrics.wrong_terms(res.coefficients, xi_true),
            "derivative_error": metrics.derivative_error(x_d, clean_dot),
            "derivative_error_finite_difference": metrics.derivative_error(fd, clean_dot),
            "state_error": metrics.state_error(x_s, clean),
            "simulation_error_vs_clean": val["error_vs_clean"]})
    atomic_write(out / "discover.json", json.dumps(summary, indent=2, default=float))
    plot_states(out / "states.png", t, x, x_s, names, clean)
    plot_derivatives(out / "derivatives.png", t, {"RKTV-INR": x_d, "finite difference": fd}, names, clean_dot)
    plot_simulation(out / "simulation.png", t, x, val["x_sim"], names, clean)
    if len(res.passes) > 1:
        terms = " -> ".join(str(int((c != 0).sum())) for c in res.passes)
        why = f" (refine auto: estimated noise >= {REFINE_AUTO_NOISE:.0%} of the signal)" if args.refine == "auto" else ""
        print(f"refinement: {len(res.passes) - 1} pass(es){why}; terms per pass {terms}")
    elif args.refine == "auto":
        why = ("not with the ensemble criterion" if args.criterion == "ensemble" and args.threshold is None
               else "the record is too short to estimate its noise" if len(t) < 9
               else f"estimated noise below {REFINE_AUTO_NOISE:.0%} of the signal")
        print(f"refinement: none (refine auto: {why})")
    print("discovered equations:")
    for line in res.format_equations():
        print(f"  {line}")
    if system is not None:
        print(f"support recovered: {summary['support_recovered']}  wrong terms: {summary['wrong_terms']}  "
              f"coefficient error (Frobenius, relative): {summary['coefficient_error_fro']:.3f}")
        print(f"derivative error: RKTV-INR {summary['derivative_error']:.3f} vs finite differences "
              f"{summary['derivative_error_finite_difference']:.3f}")
    print(f"simulated model vs data: relative L2 error {val['error_vs_data']:.3f} (||x_sim - x|| / ||x|| over the "
          f"record), within 20% RMS for the first {100 * val['valid_fraction']:.0f}% of it")
    print(f"outputs: {out}/discover.json, states.png, derivatives.png, simulation.png "
          f"({time.perf_counter() - start:.1f} s)")
    return 0
