"""Dev experiment for issue 15 (draws 100+): on RKTV-INR's cached derivatives (run ``integral_exp.py`` first), do
other regressions of the same derivatives recover more supports?

  deriv      the BIC sweep (AutoSTLSQ) on every kept row (what discover does)
  mstls      the same rows with the weak-SINDy authors' rule (MSTLS)
  curv<c>    the BIC sweep with rows down-weighted where the smoothed derivative is likely biased: a smoother's
             bias grows with the signal's third derivative, so row n gets weight 1 / (1 + (r_n / (c median r))^2)
             with r_n = sum_j |x_j'''(t_n)| / std(x_j''') (x''' from second differences of RKTV-INR's derivative)

    python benchmarks/dev/rowweight_exp.py rossler,lorenz 0.01,0.05,0.1,0.2 100-109
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
CS = [float(c) for c in (sys.argv[4] if len(sys.argv) > 4 else "1,3,10").split(",")]

for name in systems:
    system = get_system(name)
    t, clean = _simulate(name)
    xi_true = system.true_coefficients()
    lib = ps.PolynomialLibrary(degree=system.degree)
    for level in levels:
        ok, wrong = {}, {}
        for draw in draws:
            x_s, x_dot, _ = derivatives(system, level, draw, "RKTV-INR", None, 2000, "cpu")
            x3 = np.gradient(np.gradient(x_dot, t, axis=0), t, axis=0)
            r = (np.abs(x3) / x3.std(0)).sum(1)
            k = len(t) // 100
            sl = slice(k, len(t) - k)
            xs, xd, rs = x_s[sl], x_dot[sl], r[sl]
            theta = np.asarray(lib.fit(xs).transform(xs))
            fits = {}
            for key, opt in (("deriv", AutoSTLSQ()), ("mstls", MSTLS())):
                opt.fit(theta, xd)
                fits[key] = np.asarray(opt.coef_)
            for c in CS:
                w = 1 / (1 + (rs / (c * np.median(rs))) ** 2)
                opt = AutoSTLSQ()
                opt.fit(theta * w[:, None], xd * w[:, None])
                fits[f"curv{c:g}"] = np.asarray(opt.coef_)
            for key, xi in fits.items():
                ok[key] = ok.get(key, 0) + bool(metrics.support_recovered(xi, xi_true))
                wrong[key] = wrong.get(key, 0) + int(metrics.wrong_terms(xi, xi_true))
        print(json.dumps({"system": name, "noise": level, "draws": len(draws), "exact": ok, "wrong_terms": wrong}),
              flush=True)
