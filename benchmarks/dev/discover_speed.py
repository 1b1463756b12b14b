"""Development timing (issue 36): wall time of ``discover`` on Lorenz, 10% noise, 1000 x 3 samples, for RKTVConfig
variants, on this CPU with --threads threads; median of --repeats runs, plus whether the support is exact.

    .venv/bin/python benchmarks/dev/discover_speed.py "width=48,steps=800,refine_steps=300" --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import fields

import torch

from rankfield.dynamics import RKTVConfig, add_noise, discover, get_system, metrics


def parse(spec: str) -> dict:
    kinds = {f.name: f.type for f in fields(RKTVConfig)}
    out = {}
    for item in filter(None, spec.split(",")):
        k, v = item.split("=")
        if k not in kinds:
            raise SystemExit(f"not an RKTVConfig field: {k}")
        out[k] = (None if v == "None" else int(v) if k in ("width", "depth", "steps", "refine_steps")
                  else float(v) if v != "auto" else v)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="*", default=[""], help="comma-separated RKTVConfig fields; '' = defaults")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--unfused", action="store_true",
                    help="Adam's per-parameter loop instead of the fused kernel (the denoiser's optimizer before "
                         "2026-12-06, seventh session)")
    a = ap.parse_args()
    if a.unfused:
        adam = torch.optim.Adam

        def unfused(params, **kw):
            kw.pop("fused", None)
            return adam(params, **kw)

        torch.optim.Adam = unfused
    torch.set_num_threads(a.threads)
    lorenz = get_system("lorenz")
    t, x = lorenz.simulate()
    xn = add_noise(x, a.noise, seed=0)
    truth = lorenz.true_coefficients(2)
    for spec in a.variants:
        cfg = RKTVConfig(progress=False, **parse(spec))
        secs, exact = [], None
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            res = discover(xn, t, config=cfg)
            secs.append(time.perf_counter() - t0)
            exact = bool(metrics.support_recovered(res.coefficients, truth))
        print(json.dumps({"variant": spec or "defaults", "adam": "unfused" if a.unfused else "fused", "threads": a.threads, "median_s": round(statistics.median(secs), 2),
                          "runs_s": [round(s, 2) for s in secs], "exact": exact,
                          "wrong": int(metrics.wrong_terms(res.coefficients, truth))}), flush=True)


if __name__ == "__main__":
    main()
