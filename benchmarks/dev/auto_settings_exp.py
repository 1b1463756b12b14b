"""Dev experiment for issue 15: RKTVConfig's data-driven omega0 / weight_tv ("auto") against the former fixed
defaults (omega0 5, weight_tv 1e-3), draws 100+ (the benchmark uses 0..9). BIC threshold rule, RKTV-INR
defaults otherwise. Prints one JSON line per run.

    python benchmarks/dev/auto_settings_exp.py lorenz,rossler,vanderpol,duffing,lotka_volterra 0.01,0.05 100,101,102
    python benchmarks/dev/auto_settings_exp.py lorenz,rossler 0.01 100,101,102 tv3e-4   # automatic omega0, TV 3e-4
"""
import json, sys, time
import numpy as np
from rankfield.dynamics import RKTVConfig, add_noise, discover, get_system, metrics

systems = (sys.argv[1] if len(sys.argv) > 1 else "rossler,lorenz").split(",")
levels = [float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "0.01,0.05").split(",")]
draws = [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "100,101,102").split(",")]
variants = {"fixed (5, 1e-3)": dict(omega0=5.0, weight_tv=1e-3), "auto": {}}
if len(sys.argv) > 4 and sys.argv[4].startswith("tv"):
    variants = {f"auto omega0, tv {float(sys.argv[4][2:]):g}": dict(weight_tv=float(sys.argv[4][2:]))}
for name in systems:
    system = get_system(name)
    t, clean = system.simulate()
    clean_dot = system.rhs(clean)
    xi_true = system.true_coefficients()
    for level in levels:
        for draw in draws:
            y = add_noise(clean, level, seed=draw)
            for label, over in variants.items():
                t0 = time.time()
                res = discover(y, t, degree=system.degree, config=RKTVConfig(progress=False, **over), refine=0)
                xd = res.x_dot[0]
                st = res.denoiser.settings_[0]
                print(json.dumps(dict(system=name, level=level, draw=draw, variant=label,
                                      ok=bool(metrics.support_recovered(res.coefficients, xi_true)),
                                      coef=round(metrics.coefficient_error(res.coefficients, xi_true), 4),
                                      wrong=int(metrics.wrong_terms(res.coefficients, xi_true)),
                                      deriv=round(metrics.derivative_error(xd, clean_dot), 4),
                                      omega0=round(st["omega0"], 2), tv=st["weight_tv"], s=round(time.time() - t0, 1))),
                      flush=True)
