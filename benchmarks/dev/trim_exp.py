"""Dev experiment for issue 15 (draws 100+, not the benchmark's 0..9): should SINDy's regression drop the samples
at the ends of a record?

Every differentiation method is one-sided at a record's ends; RKTV-INR's derivative error in the first 10 samples is
2-24x its interior median on Lorenz at 1% noise (the initial transient). One benchmark failure (Lorenz 1%, a draw whose BIC
sweep kept six spurious terms in dx/dt) came from those samples. This script differentiates development draws with
RKTV-INR (the benchmark's defaults, cached like the benchmark's runs) and with FiniteDifference, and runs the BIC
sweep with the first and last ``trim`` samples left out of the regression, for several ``trim``. It also prints
the mean derivative error of the first/last 10 samples relative to the interior median.

    python benchmarks/dev/trim_exp.py lorenz,rossler 0.01,0.05,0.1 100-109
"""
import sys
import warnings
from pathlib import Path

import numpy as np
import pysindy as ps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sindy_noise import _simulate, derivatives  # noqa: E402

from rankfield.dynamics import AutoSTLSQ, get_system, metrics  # noqa: E402

warnings.filterwarnings("ignore")
systems = (sys.argv[1] if len(sys.argv) > 1 else "lorenz,rossler").split(",")
levels = [float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "0.01,0.05,0.1").split(",")]
a, b = (sys.argv[3] if len(sys.argv) > 3 else "100-109").split("-")
draws = range(int(a), int(b) + 1)
TRIMS = [0, 1, 2, 3, 5, 10, 20]

for name in systems:
    system = get_system(name)
    t, clean = _simulate(name)
    clean_dot, xi_true = system.rhs(clean), system.true_coefficients()
    for method in ["RKTV-INR", "FiniteDifference"]:
        for level in levels:
            ok = {k: 0 for k in TRIMS}
            prof = []
            for draw in draws:
                x_smooth, x_dot, _ = derivatives(system, level, draw, method, None, 2000, "cpu")
                err = np.abs(x_dot - clean_dot) / clean_dot.std(0)
                prof.append(err.mean(1))
                for k in TRIMS:
                    sl = slice(k, len(t) - k)
                    model = ps.SINDy(optimizer=AutoSTLSQ(), feature_library=ps.PolynomialLibrary(degree=system.degree))
                    model.fit(x_smooth[sl], t=t[sl], x_dot=x_dot[sl])
                    ok[k] += bool(metrics.support_recovered(model.coefficients(), xi_true))
            prof = np.nanmean(prof, 0)
            mid = np.nanmedian(prof)
            print(f"{name} {method} {level:g} exact support by trim {ok} | ends/interior: "
                  f"start {np.round(prof[:10] / mid, 1).tolist()} end {np.round(prof[-10:] / mid, 1).tolist()}",
                  flush=True)
