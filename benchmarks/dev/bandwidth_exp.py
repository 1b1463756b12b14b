"""Dev experiment for issue 15: how RKTV-INR's SIREN bandwidth (omega0) decides recovery (draws 100+, not the
benchmark's 0..9). For each system, noise level, draw and omega0: exact support (BIC rule), coefficient error,
wrong terms, derivative error per state against the clean derivative, and spectral statistics of the noisy
record that a data-driven rule could use.

    python benchmarks/dev/bandwidth_exp.py rossler 0.01,0.05 100,101 5,10,20,40
"""
import json, sys, time
import numpy as np
from rankfield.dynamics import RKTVConfig, add_noise, discover, get_system, metrics

system = get_system(sys.argv[1] if len(sys.argv) > 1 else "rossler")
levels = [float(v) for v in (sys.argv[2] if len(sys.argv) > 2 else "0.01,0.05").split(",")]
draws = [int(v) for v in (sys.argv[3] if len(sys.argv) > 3 else "100,101").split(",")]
omegas = [float(v) for v in (sys.argv[4] if len(sys.argv) > 4 else "5,10,20,40").split(",")]
t, clean = system.simulate()
clean_dot = system.rhs(clean)
xi_true = system.true_coefficients()


def spectrum_stats(y):
    """Per state: cycles per record below which 90/99% of the above-noise-floor energy lies."""
    z = (y - y.mean(0)) / y.std(0)
    p = np.abs(np.fft.rfft(z, axis=0)) ** 2
    floor = np.median(p[len(p) // 2:], axis=0)
    sig = np.clip(p - floor, 0, None)
    sig[0] = 0
    c = np.cumsum(sig, axis=0) / sig.sum(0)
    return {q: [int(np.searchsorted(c[:, j], q)) for j in range(y.shape[1])] for q in (0.9, 0.99)}


for level in levels:
    for draw in draws:
        y = add_noise(clean, level, seed=draw)
        st = spectrum_stats(y)
        for om in omegas:
            t0 = time.time()
            res = discover(y, t, degree=system.degree, config=RKTVConfig(omega0=om, progress=False), refine=0)
            xd = res.x_dot[0]
            derr = [round(float(np.linalg.norm(xd[:, j] - clean_dot[:, j]) / np.linalg.norm(clean_dot[:, j])), 4)
                    for j in range(xd.shape[1])]
            print(json.dumps(dict(system=system.name, level=level, draw=draw, omega0=om,
                                  ok=bool(metrics.support_recovered(res.coefficients, xi_true)),
                                  coef=round(metrics.coefficient_error(res.coefficients, xi_true), 4),
                                  wrong=int(metrics.wrong_terms(res.coefficients, xi_true)), deriv=derr,
                                  c90=st[0.9], c99=st[0.99], s=round(time.time() - t0, 1))), flush=True)
