"""Dev experiment for issue 15 (draws 100+, not the benchmark's 0..9): does an INTEGRAL regression on RKTV-INR's
denoised states beat the derivative regression where smoothing biases the derivative (Rossler's z spikes)?

For each draw it takes RKTV-INR's smoothed states and derivatives (the benchmark's defaults, cached like the
benchmark's runs) and runs the BIC sweep (AutoSTLSQ) three ways, all leaving out 1% of the samples at each end:
  deriv      dx/dt(t_n) = Theta(x(t_n)) Xi                          (what discover does)
  int<m>     x(t_b) - x(t_a) = (int_a^b Theta(x) dt) Xi over disjoint windows of m samples (trapezoid on the
             sample grid); the derivative's error at a spike integrates to the states' error at the window ends
  weak       PySINDy's weak form (K = 200 test functions) with MSTLS on the smoothed states (weak SINDy on raw
             data is a benchmark row; this asks whether denoising first helps it)
Prints exact-support counts per system, level and variant.

    python benchmarks/dev/integral_exp.py rossler,lorenz 0.01,0.05,0.1,0.2 100-109
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pysindy as ps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sindy_noise import _simulate, derivatives  # noqa: E402

from rankfield.dynamics import AutoSTLSQ, get_system, metrics
from rankfield.dynamics.optimizers import MSTLS  # noqa: E402

warnings.filterwarnings("ignore")
systems = sys.argv[1].split(",")
levels = [float(v) for v in sys.argv[2].split(",")]
a, b = sys.argv[3].split("-")
draws = range(int(a), int(b) + 1)
WINDOWS = [2, 5, 10, 20]


def integral_rows(theta, x, t, m):
    """(targets, features) of the integral form over disjoint windows of m intervals."""
    cum = np.concatenate([np.zeros((1, theta.shape[1])),
                          np.cumsum((theta[1:] + theta[:-1]) / 2 * np.diff(t)[:, None], axis=0)])
    idx = np.arange(0, len(t), m)
    return x[idx[1:]] - x[idx[:-1]], cum[idx[1:]] - cum[idx[:-1]]


for name in systems:
    system = get_system(name)
    t, clean = _simulate(name)
    xi_true = system.true_coefficients()
    lib = ps.PolynomialLibrary(degree=system.degree)
    for level in levels:
        ok, wrong = {}, {}
        for draw in draws:
            x_s, x_dot, _ = derivatives(system, level, draw, "RKTV-INR", None, 2000, "cpu")
            k = len(t) // 100
            sl = slice(k, len(t) - k)
            xs, ts, xd = x_s[sl], t[sl], x_dot[sl]
            fits = {}
            model = ps.SINDy(optimizer=AutoSTLSQ(), feature_library=lib)
            model.fit(xs, t=ts, x_dot=xd)
            fits["deriv"] = np.asarray(model.coefficients())
            theta = lib.fit(xs).transform(xs)
            for m in WINDOWS:
                y, F = integral_rows(np.asarray(theta), xs, ts, m)
                opt = AutoSTLSQ()
                opt.fit(F, y)
                fits[f"int{m}"] = np.asarray(opt.coef_)
            wl = ps.WeakPDELibrary(function_library=ps.PolynomialLibrary(system.degree, include_bias=False),
                                   spatiotemporal_grid=ts, include_bias=True, is_uniform=True, K=200)
            fits["weak"] = np.asarray(ps.SINDy(feature_library=wl, optimizer=MSTLS()).fit(xs, t=ts).coefficients())
            for key, xi in fits.items():
                ok[key] = ok.get(key, 0) + bool(metrics.support_recovered(xi, xi_true))
                wrong[key] = wrong.get(key, 0) + int(metrics.wrong_terms(xi, xi_true))
        print(json.dumps({"system": name, "noise": level, "draws": len(draws), "exact": ok, "wrong_terms": wrong}),
              flush=True)
