"""Dev experiment for issue 15: weak SINDy with its authors' rule (MSTLS) against the shared BIC rule (AutoSTLSQ)
and a plain STLSQ threshold, draws 100+ (the benchmark uses 0..9). Same weak library as benchmarks/sindy_noise.py
(WeakPDELibrary, K=200 test functions). One JSON line per run.

    python benchmarks/dev/weak_rules_exp.py lorenz,rossler 0.01,0.05,0.1,0.2 100,101,102
"""
import json, sys, time, warnings
import numpy as np
import pysindy as ps
from rankfield.dynamics import AutoSTLSQ, add_noise, get_system, metrics
from rankfield.dynamics.optimizers import MSTLS

warnings.filterwarnings("ignore")
systems = (sys.argv[1] if len(sys.argv) > 1 else "lorenz").split(",")
levels = [float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "0.01,0.05,0.1,0.2").split(",")]
draws = [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "100,101,102").split(",")]
rules = {"MSTLS": MSTLS, "BIC": AutoSTLSQ, "STLSQ 0.1": lambda: ps.STLSQ(threshold=0.1)}
for name in systems:
    system = get_system(name)
    t, clean = system.simulate()
    xi_true = system.true_coefficients()
    for level in levels:
        for draw in draws:
            y = add_noise(clean, level, seed=draw)
            for rule, make in rules.items():
                t0 = time.time()
                lib = ps.WeakPDELibrary(function_library=ps.PolynomialLibrary(system.degree, include_bias=False),
                                        spatiotemporal_grid=t, include_bias=True, is_uniform=True, K=200)
                xi = np.asarray(ps.SINDy(feature_library=lib, optimizer=make()).fit(y, t=t).coefficients())
                print(json.dumps(dict(system=name, level=level, draw=draw, rule=rule,
                                      ok=bool(metrics.support_recovered(xi, xi_true)),
                                      coef=round(metrics.coefficient_error(xi, xi_true), 4),
                                      wrong=int(metrics.wrong_terms(xi, xi_true)), s=round(time.time() - t0, 2))),
                      flush=True)
