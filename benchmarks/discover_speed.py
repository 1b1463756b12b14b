"""Wall time of ``discover`` on 1000 samples x 3 states: its defaults against the defaults before issue 36, side by side.

Records: Lorenz with 10% noise (``get_system("lorenz").simulate()`` + ``add_noise(x, 0.10, seed=0)``, the record
of ``data/lorenz_noisy.csv``) and Rossler with 10% noise (seed 1), 1000 x 3 each. Variants, timed in alternating
rounds so that a slow spell of a shared CPU falls on all of them: ``discover`` with its defaults; with the fit of
before 2026-12-06 (``RKTVConfig(width=80, stop_tol=None)``: every step of a wider network); and PySINDy's
``FiniteDifference`` + ``STLSQ`` for the scale users know. Each in-process call counts the whole ``discover``
(RKTV-INR fit, refinement passes, SINDy); a last row times ``rankfield discover data/lorenz_noisy.csv`` end to end
in a fresh process (start-up, pictures and files included). Target (issue 36): the defaults' median <= 10 s.

    python benchmarks/discover_speed.py                 # 3 rounds, 2 threads (~5 minutes on a 2-core CPU)
    python benchmarks/discover_speed.py --rounds 5 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pysindy as ps
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DOCS, markdown_table, publish  # noqa: E402

from rankfield.dynamics import RKTVConfig, add_noise, discover, get_system, metrics  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 10.0
VARIANTS = {
    "discover (defaults)": {},
    "discover, fit before issue 36 (width 80, every step)": {"width": 80, "stop_tol": None},
}


def records():
    """``{name: (t, noisy x, true coefficients)}``, 1000 x 3 each."""
    out = {}
    for name, seed in (("lorenz", 0), ("rossler", 1)):
        system = get_system(name)
        t, x = system.simulate()
        out[f"{name}, 10% noise"] = (t, add_noise(x, 0.10, seed=seed), system.true_coefficients(2))
    return out


def time_discover(t, x, truth, overrides: dict) -> dict:
    cfg = RKTVConfig(progress=False, **overrides)
    start = time.perf_counter()
    res = discover(x, t, config=cfg)
    secs = time.perf_counter() - start
    return {"s": secs, "exact": bool(metrics.support_recovered(res.coefficients, truth)),
            "wrong": int(metrics.wrong_terms(res.coefficients, truth))}


def time_finite_difference(t, x, truth) -> dict:
    start = time.perf_counter()
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2), optimizer=ps.STLSQ(threshold=0.1),
                     differentiation_method=ps.FiniteDifference()).fit(x, t=t)
    secs = time.perf_counter() - start
    coef = model.coefficients()
    return {"s": secs, "exact": bool(metrics.support_recovered(coef, truth)),
            "wrong": int(metrics.wrong_terms(coef, truth))}


def time_cli(threads: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rankfield", "discover", str(ROOT / "data" / "lorenz_noisy.csv"),
                        "--out", out, "--no-progress"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "OMP_NUM_THREADS": str(threads)})
        return time.perf_counter() - start


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (each times every variant once)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2, the CI machine's cores)")
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end CLI row")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    recs = records()
    t0, x0, _ = next(iter(recs.values()))
    discover(x0, t0, config=RKTVConfig(progress=False, steps=50, refine_steps=50))  # warm-up: first-call costs
    runs = []
    for rnd in range(args.rounds):
        for rec, (t, x, truth) in recs.items():
            for label, overrides in VARIANTS.items():
                runs.append({"round": rnd, "record": rec, "method": label, **time_discover(t, x, truth, overrides)})
                print(json.dumps(runs[-1]), flush=True)
            runs.append({"round": rnd, "record": rec, "method": "FiniteDifference + STLSQ (PySINDy)",
                         **time_finite_difference(t, x, truth)})
    cli = [] if args.no_cli else [time_cli(args.threads) for _ in range(args.rounds)]

    rows = []
    for rec in recs:
        base = None
        for label in list(VARIANTS) + ["FiniteDifference + STLSQ (PySINDy)"]:
            sub = [r for r in runs if r["record"] == rec and r["method"] == label]
            med = statistics.median(r["s"] for r in sub)
            base = base or med
            rows.append({"record": rec, "method": label, "median s": med,
                         "runs (s)": " / ".join(f"{r['s']:.2f}" for r in sub),
                         "x defaults' time": med / base,
                         "exact": f"{sum(r['exact'] for r in sub)}/{len(sub)}",
                         "wrong terms": " / ".join(str(r["wrong"]) for r in sub)})
    if cli:
        rows.append({"record": "data/lorenz_noisy.csv", "method": "rankfield discover (CLI, fresh process)",
                     "median s": statistics.median(cli), "runs (s)": " / ".join(f"{s:.2f}" for s in cli),
                     "x defaults' time": "", "exact": "", "wrong terms": ""})
    defaults = [r["median s"] for r in rows if r["method"] == "discover (defaults)"]
    worst = max(defaults)
    body = [f"`discover` on 1000 samples x 3 states, {args.rounds} alternating rounds, {args.threads} threads, after a "
            "warm-up call (the first call in a process also pays torch's imports). `x defaults' time`: a "
            "variant's median over the defaults'. Records: Lorenz 10% noise (the record of `data/lorenz_noisy.csv`) "
            "and Rossler 10% noise; FiniteDifference + STLSQ (threshold 0.1) for scale.", "",
            markdown_table(rows, ["record", "method", "median s", "runs (s)", "x defaults' time", "exact",
                                  "wrong terms"]),
            f"Target (issue 36): `discover`'s defaults in at most {TARGET_S:g} s on 1000 x 3 -> "
            f"{'MET' if worst <= TARGET_S else 'NOT MET'} (median {' and '.join(f'{d:.1f} s' for d in defaults)}).",
            "", "Raw runs: `discover_speed.json`."]
    (DOCS / "discover_speed.json").write_text(json.dumps({"runs": runs, "cli_s": cli, "rows": rows}, indent=1))
    publish("discover_speed", "Speed of discover: 1000 samples x 3 states", body)


if __name__ == "__main__":
    main()
