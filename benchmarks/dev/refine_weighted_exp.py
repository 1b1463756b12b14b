"""Dev experiment for issue 15: does model-in-the-loop refinement help on top of the bias weighting?

    .venv/bin/python benchmarks/dev/refine_weighted_exp.py lorenz 0.1,0.2 100,101,102,103,104
    .venv/bin/python benchmarks/dev/refine_weighted_exp.py vanderpol 0.05,0.2 100,101,102 weighted   # one variant

For each noisy draw (development seeds 100+, not the benchmark's 0..9): ``discover(refine=2)`` with the bias
weighting off and on (each fits RKTV-INR itself, with the same seed, so the first fits are the same). Prints per
run the exact support, wrong terms and coefficient error of the first pass and after the two refinement passes.
"""
import json
import sys
import time

import numpy as np

from rankfield.dynamics import RKTVConfig, add_noise, discover, get_system, metrics
from rankfield.dynamics.denoise import estimate_noise

system = get_system(sys.argv[1] if len(sys.argv) > 1 else "lorenz")
levels = [float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "0.1,0.2").split(",")]
draws = [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "100,101,102,103,104").split(",")]
variants = (sys.argv[4] if len(sys.argv) > 4 else "unweighted,weighted").split(",")
t, clean = system.simulate()
xi_true = system.true_coefficients()


def score(xi):
    return {"ok": bool(metrics.support_recovered(xi, xi_true)), "wrong": int(metrics.wrong_terms(xi, xi_true)),
            "coef": round(metrics.coefficient_error(xi, xi_true), 4)}


for level in levels:
    for draw in draws:
        y = add_noise(clean, level, seed=draw)
        out = {"system": system.name, "level": level, "draw": draw,
               "noise_to_signal": round(float(np.mean(estimate_noise(y) / y.std(axis=0))), 4)}
        for name, bias in (("unweighted", None), ("weighted", "auto")):
            if name not in variants:
                continue
            t0 = time.time()
            res = discover(y, t, degree=system.degree, config=RKTVConfig(progress=False), refine=2,
                           bias_weighting=bias)
            out[name] = {"first": score(res.passes[0]), "refined": score(res.coefficients),
                         "seconds": round(time.time() - t0, 1)}
        print(json.dumps(out), flush=True)
