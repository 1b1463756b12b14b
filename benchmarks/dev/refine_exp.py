"""Dev experiment for issue 15: model-in-the-loop refinement of RKTV-INR (draws 100+, not the benchmark's 0..9).

For each noisy Lorenz draw: the first discovery (RKTV-INR defaults + BIC), then refinement passes from a copy of
the first fit, for each variant (support selected/full, weight_model). Prints per pass: exact support recovered,
coefficient error, wrong terms, derivative error against the clean derivative.
"""
import copy, dataclasses, json, sys, time
import numpy as np
from rankfield.dynamics import AutoSTLSQ, RKTV, RKTVConfig, add_noise, discover, get_system, metrics
import pysindy as ps

levels = [float(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "0.1,0.2").split(",")]
draws = [int(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "100,101,102,103,104").split(",")]
variants = (sys.argv[3] if len(sys.argv) > 3 else "selected@0.01,full@0.01").split(",")
passes = 2
system = get_system(sys.argv[4] if len(sys.argv) > 4 else "lorenz")
t, clean = system.simulate()
clean_dot = system.rhs(clean)
xi_true = system.true_coefficients()
lib = ps.PolynomialLibrary(degree=system.degree).fit(clean)

def score(xi, xdot):
    return dict(ok=bool(metrics.support_recovered(xi, xi_true)), coef=round(metrics.coefficient_error(xi, xi_true), 4),
                wrong=int(metrics.wrong_terms(xi, xi_true)), deriv=round(metrics.derivative_error(xdot, clean_dot), 4))

def sindy(x_smooth, x_dot):
    m = ps.SINDy(optimizer=AutoSTLSQ(), feature_library=ps.PolynomialLibrary(degree=system.degree))
    m.fit(x_smooth, t=t, x_dot=x_dot)
    return np.asarray(m.coefficients())

for level in levels:
    for draw in draws:
        y = add_noise(clean, level, seed=draw)
        t0 = time.time()
        res = discover(y, t, degree=system.degree, config=RKTVConfig(progress=False), refine=0)
        first = res.denoiser
        out = {"level": level, "draw": draw, "first": score(res.coefficients, res.x_dot[0]), "t_first": round(time.time() - t0, 1)}
        for v in variants:
            sup, _, w = v.partition("@")
            den = copy.deepcopy(first)
            den.config = dataclasses.replace(den.config, weight_model=float(w))
            xi = res.coefficients
            seq = []
            for _ in range(passes):
                support = xi != 0 if sup == "selected" else np.ones_like(xi, dtype=bool)
                den.refine(lib.powers_, support)
                xs, xd = den.predict(t), den.derivative(t)
                xi = sindy(xs, xd)
                seq.append(score(xi, xd))
            out[v] = seq
        out["t_all"] = round(time.time() - t0, 1)
        print(json.dumps(out), flush=True)
