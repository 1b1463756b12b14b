"""Dev experiment for issue 15: do more model-in-the-loop passes help at 10-30% noise, and how do failures look?

    .venv/bin/python benchmarks/dev/refine_passes_exp.py lorenz 0.2,0.3 100,101,102,103,104 6 [variant]

For each noisy draw (development seeds 100+, not the benchmark's 0..9) one ``discover(refine=N)`` with the
defaults otherwise; every pass's coefficients are scored (``res.passes``), so one run gives the exact support after
0, 1, ..., N passes, with the missing and spurious terms by name. ``variant`` (optional) changes the refinement:
``w0.1`` a model weight of 0.1, ``steps2000`` 2000 steps a pass, ``aic`` / ``full`` that
``refine_support``.
"""
import json
import sys
import time

import numpy as np

from rankfield.dynamics import AutoSTLSQ, RKTVConfig, add_noise, discover, get_system, metrics

system = get_system(sys.argv[1] if len(sys.argv) > 1 else "lorenz")
levels = [float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "0.2,0.3").split(",")]
draws = [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "100,101,102,103,104").split(",")]
passes = int(sys.argv[4]) if len(sys.argv) > 4 else 6
variant = sys.argv[5] if len(sys.argv) > 5 else "default"
t, clean = system.simulate()
xi_true = system.true_coefficients()
cfg = RKTVConfig(progress=False)
extra = {}
if variant in ("aic", "full"):
    extra = {"refine_support": variant}
elif variant == "threshold-path":  # the BIC sweep's candidates from the threshold path only (before 2026-12-04)
    extra = {"optimizer": AutoSTLSQ(best_subsets=False)}
if variant.startswith("w"):
    cfg = RKTVConfig(progress=False, weight_model=float(variant[1:]))
elif variant.startswith("steps"):
    cfg = RKTVConfig(progress=False, refine_steps=int(variant[5:]))


def score(xi, names):
    miss = [f"d{system_names[i]}:{names[j]}" for i, j in zip(*np.nonzero((xi == 0) & (xi_true != 0)))]
    spur = [f"d{system_names[i]}:{names[j]}={xi[i, j]:.3g}" for i, j in zip(*np.nonzero((xi != 0) & (xi_true == 0)))]
    return {"ok": bool(metrics.support_recovered(xi, xi_true)), "coef": round(metrics.coefficient_error(xi, xi_true), 4),
            "missing": miss, "spurious": spur}


system_names = ["x", "y", "z", "w"]
for level in levels:
    for draw in draws:
        y = add_noise(clean, level, seed=draw)
        t0 = time.time()
        res = discover(y, t, degree=system.degree, config=cfg, refine=passes, **extra)
        names = res.feature_names
        out = {"system": system.name, "level": level, "draw": draw, "variant": variant,
               "seconds": round(time.time() - t0, 1),
               "passes": [score(np.asarray(p), names) for p in res.passes]}
        print(json.dumps(out), flush=True)
