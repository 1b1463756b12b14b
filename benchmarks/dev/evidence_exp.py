"""Dev experiment for issue 15 (draws 100+, not the benchmark's 0..9): does the data misfit of a model-constrained
refit tell spurious terms from true ones?

For each noisy draw: ``discover(..., refine=2)`` (the benchmark's "RKTV-INR + refine"), then, from a copy of the
refined fit, ``steps`` more refinement steps with a strong model weight ``w`` for the selected support S and for
each S minus one term. Logged per candidate: the data chi^2 (sum over samples and states of the squared residual
of the fitted trajectory against the noisy samples over the estimated noise variance), the model residual (mean
squared derivative mismatch, state stds per unit time) and whether the removed term is a true one. A selection
rule on the data (BIC: chi^2 + k log N with N = n d iid samples) would remove a term when chi^2 grows by less
than log N.

    python benchmarks/dev/evidence_exp.py 0.2,0.3 100,101,102,103,104 1.0 300
"""
import copy
import dataclasses
import json
import sys
import time

import numpy as np
import pysindy as ps

from rankfield.dynamics import RKTVConfig, add_noise, discover, get_system, metrics
from rankfield.dynamics.denoise import estimate_noise

levels = [float(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "0.2,0.3").split(",")]
draws = [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "100,101,102,103,104").split(",")]
w = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
steps = int(sys.argv[4]) if len(sys.argv) > 4 else 300
system = get_system(sys.argv[5] if len(sys.argv) > 5 else "lorenz")
t, clean = system.simulate()
xi_true = system.true_coefficients()
powers = ps.PolynomialLibrary(degree=system.degree).fit(clean).powers_
names = ps.PolynomialLibrary(degree=system.degree).fit(clean).get_feature_names(list(system.state_names))


def evaluate(base, support, y, sigma):
    den = copy.deepcopy(base)
    den.config = dataclasses.replace(den.config, weight_model=w, refine_steps=steps)
    den.refine(powers, support)
    chi2 = float(np.sum(((den.predict(t) - y) / sigma) ** 2))
    model = float(den.history_[0]["model"][-1])
    return chi2, model


for level in levels:
    for draw in draws:
        y = add_noise(clean, level, seed=draw)
        t0 = time.time()
        res = discover(y, t, degree=system.degree, config=RKTVConfig(progress=False), refine=2)
        sigma = estimate_noise(y)
        S = res.coefficients != 0
        out = {"level": level, "draw": draw, "ok": bool(metrics.support_recovered(res.coefficients, xi_true)),
               "wrong": int(metrics.wrong_terms(res.coefficients, xi_true)),
               "missing_true": int(np.sum((xi_true != 0) & ~S)), "k": int(S.sum())}
        chi_ref, model_ref = evaluate(res.denoiser, S, y, sigma)
        out.update(chi2=round(chi_ref, 1), model=model_ref, N=int(y.size))
        drops = []
        for j, i in zip(*np.nonzero(S)):
            S2 = S.copy()
            S2[j, i] = False
            chi2, model = evaluate(res.denoiser, S2, y, sigma)
            drops.append({"eq": int(j), "term": names[i], "true": bool(xi_true[j, i] != 0),
                          "dchi2": round(chi2 - chi_ref, 2), "model_ratio": round(model / max(model_ref, 1e-12), 3)})
        out["drops"] = drops
        out["seconds"] = round(time.time() - t0, 1)
        print(json.dumps(out), flush=True)
