"""Issue 15: AutoSTLSQ with and without the best-subset candidates on FiniteDifference and Savitzky-Golay
derivatives (selection only, no INR), every system of the benchmark, development draws 100-109, 10 a cell.

    .venv/bin/python benchmarks/dev/best_subsets_fd_exp.py      # ~4 min; results in README.md (best subsets)

Each line: exact supports of 10, threshold path -> with best subsets.
"""
import warnings

import pysindy as ps

from rankfield.dynamics import AutoSTLSQ, add_noise, discover, get_system, metrics

warnings.filterwarnings("ignore")
for name in ["lorenz", "rossler", "vanderpol", "duffing", "lotka_volterra", "chen", "lu", "halvorsen"]:
    system = get_system(name)
    t, clean = system.simulate()
    xi_true = system.true_coefficients()
    for diff_name, diff in [("FD", ps.FiniteDifference()), ("SG", ps.SmoothedFiniteDifference())]:
        row = []
        for level in [0.01, 0.05, 0.1, 0.2]:
            path = subsets = 0
            for draw in range(100, 110):
                y = add_noise(clean, level, seed=draw)
                for best, opt in ((False, AutoSTLSQ(best_subsets=False)), (True, AutoSTLSQ())):
                    res = discover(y, t, degree=system.degree, differentiation=diff, optimizer=opt)
                    ok = metrics.support_recovered(res.coefficients, xi_true)
                    subsets, path = (subsets + ok, path) if best else (subsets, path + ok)
            row.append(f"{level:g}: {path}->{subsets}")
        print(name, diff_name, "  ".join(row), flush=True)
