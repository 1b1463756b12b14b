"""Equation discovery on systems nobody tuned on: a development / test split of 29 chaotic flows.

The catalogue is every 3-state quadratic flow of ``rankfield.dynamics.SYSTEMS`` except Lorenz and Rossler (whose
draws chose ``discover``'s rules): the 19 Sprott systems A-S, Rucklidge, Shimizu-Morioka, Burke-Shaw, Lorenz-84,
Genesio-Tesi, Chen-Lee, the finance system, Chen, Lu and Halvorsen. It is split **once**, by a seeded permutation
(``SPLIT_SEED``), into development systems (every rule and default is chosen on these, with Lorenz and Rossler) and
test systems (reported, never tuned on). Each system is sampled at 25 and at 100 samples per characteristic period
(:meth:`~rankfield.dynamics.System.characteristic_period`), 1000 samples from a point on its attractor, with
``sigma_j = level * std(x_j)`` noise at 1/5/10/20%.

Methods, all with the same library (degree 2) and, but weak SINDy, the same sparsity rule and trimming (``discover``
with its default ``AutoSTLSQ`` BIC sweep): ``discover`` with every default (RKTV-INR, refinement, bias weighting),
PySINDy's ``FiniteDifference``, ``SmoothedFiniteDifference`` (Savitzky-Golay, cubic, a window of 1/4 period:
7 samples at 25 per period, 25 at 100), and weak SINDy with its authors' rule (:class:`~rankfield.dynamics.optimizers.MSTLS`).

Runs (cached in ``outputs/bench_sindy_general/runs.jsonl``; rerunning skips finished runs)::

    python benchmarks/sindy_general.py --split test --draws 5            # the reported table
    python benchmarks/sindy_general.py --split dev --draws 5             # where rules are chosen
    python benchmarks/sindy_general.py --split test --methods 'FiniteDifference;SmoothedFD;WeakSINDy'  # baselines
    python benchmarks/sindy_general.py --split dev --methods 'discover;discover:steps=1000,refine_steps=500'

``--workers N`` runs N processes with one thread each; ``--time-limit`` stops handing out runs after so many
minutes (runs go out draw by draw, so a cut run still covers every system). The section ``sindy_general`` of
docs/benchmarks.md reports every split present in the cache; raw runs go to ``docs/sindy_general.json``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import markdown_table, write_section  # noqa: E402

CATALOGUE = ["sprott_" + c for c in "abcdefghijklmnopqrs"] + [
    "rucklidge", "shimizu_morioka", "burke_shaw", "lorenz84", "genesio_tesi", "chen_lee", "finance", "chen", "lu",
    "halvorsen"]
SPLIT_SEED = 36
SEEN = ["lorenz", "rossler"]  # development systems by history: discover's rules were chosen on their draws
RATES = (25, 100)  # samples per characteristic period
N_SAMPLES = 1000
PERIOD_WINDOW = 50  # the characteristic period is measured over 50 default-length runs of each system
NOISE = (0.01, 0.05, 0.1, 0.2)
METHODS = ["discover", "FiniteDifference", "SmoothedFD", "WeakSINDy"]
CACHE = ROOT / "outputs" / "bench_sindy_general" / "runs.jsonl"


def split() -> dict[str, list[str]]:
    """The development / test split: a permutation of the catalogue seeded with ``SPLIT_SEED``, first 14 dev."""
    order = np.random.default_rng(SPLIT_SEED).permutation(len(CATALOGUE))
    names = [CATALOGUE[i] for i in order]
    return {"dev": sorted(names[:14]) + SEEN, "test": sorted(names[14:])}


@functools.lru_cache(maxsize=None)
def trajectory(name: str, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Clean ``(t, x)``: 1000 samples at ``rate`` samples per characteristic period from the system's ``x0``."""
    from rankfield.dynamics import get_system

    system = get_system(name)
    dt = system.characteristic_period(duration=PERIOD_WINDOW * system.n_samples * system.dt) / rate
    return system.simulate(n_samples=N_SAMPLES, dt=dt)


def savgol_window(rate: int) -> int:
    """A quarter of a period, odd, at least 5 samples (cubic Savitzky-Golay)."""
    return max(5, 2 * round(rate / 8) + 1)


def discover_configs(method: str):
    """``(RKTVConfig, DiscoverConfig)`` of a ``discover`` method: the defaults, or with the overrides of
    ``discover:field=value,...`` (fields of either config; values parsed as JSON where they parse)."""
    from dataclasses import fields, replace

    from rankfield.dynamics import DiscoverConfig, RKTVConfig

    rktv, opts = RKTVConfig(progress=False), DiscoverConfig()
    for item in filter(None, method.partition(":")[2].split(",")):
        key, _, text = item.partition("=")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        if key in {f.name for f in fields(RKTVConfig)}:
            rktv = replace(rktv, **{key: value})
        elif key in {f.name for f in fields(DiscoverConfig)}:
            opts = replace(opts, **{key: value})
        else:
            raise SystemExit(f"sindy_general: {key!r} is a field of neither RKTVConfig nor DiscoverConfig")
    return rktv.validate(), opts.validate()


def method_tag(method: str) -> str:
    """Cache tag: a ``discover`` tag hashes its resolved configs (a changed default is a new run)."""
    if not method.startswith("discover"):
        return method
    rktv, opts = discover_configs(method)
    cfg = {**rktv.to_dict(), **opts.to_dict()}
    cfg.pop("device", None), cfg.pop("progress", None)
    if cfg.get("stop_tol") is None:  # a field added later at its "off" value: the runs cached before it stay valid
        cfg.pop("stop_tol", None)
    return "discover-" + hashlib.sha1(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:8]


def run_one(name: str, rate: int, level: float, draw: int, method: str) -> dict:
    """One noisy draw through one method: exact support, wrong terms, coefficient and derivative error, seconds."""
    import pysindy as ps
    import torch

    from rankfield.dynamics import add_noise, discover, get_system, metrics
    from rankfield.dynamics.optimizers import MSTLS

    torch.set_num_threads(1)
    system = get_system(name)
    t, clean = trajectory(name, rate)
    y = add_noise(clean, level, seed=draw)
    xi_true = system.true_coefficients()
    extra = {}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "WeakSINDy":
            lib = ps.WeakPDELibrary(function_library=ps.PolynomialLibrary(system.degree, include_bias=False),
                                    spatiotemporal_grid=t, include_bias=True, is_uniform=True, K=200)
            xi = np.asarray(ps.SINDy(feature_library=lib, optimizer=MSTLS()).fit(y, t=t).coefficients())
            d_err = float("nan")
        else:
            if method.startswith("discover"):
                rktv, opts = discover_configs(method)
                res = discover(y, t, config=rktv, options=opts, seed=draw, progress=False)
                extra = {"first_pass_success": metrics.support_recovered(res.passes[0], xi_true),
                         "first_pass_wrong_terms": metrics.wrong_terms(res.passes[0], xi_true),
                         "refine_passes": len(res.passes) - 1}
            else:
                diff = (ps.FiniteDifference() if method == "FiniteDifference" else ps.SmoothedFiniteDifference(
                    smoother_kws={"window_length": savgol_window(rate), "polyorder": 3}))
                res = discover(y, t, degree=system.degree, differentiation=diff)
            xi = res.coefficients
            d_err = metrics.derivative_error(res.x_dot[0], system.rhs(clean), trim=10)
    seconds = time.perf_counter() - start
    return {"system": name, "rate": rate, "noise": level, "draw": draw, "method": method, "tag": method_tag(method),
            "success": bool(metrics.support_recovered(xi, xi_true)), "wrong_terms": int(metrics.wrong_terms(xi, xi_true)),
            "coef_error": float(metrics.coefficient_error(xi, xi_true)), "deriv_error": float(d_err),
            "seconds": seconds, **extra}


def _run_star(args):
    return run_one(*args)


def load_cache() -> list[dict]:
    if not CACHE.exists():
        return []
    return [json.loads(line) for line in CACHE.read_text().splitlines() if line.strip()]


def pending(systems, methods, draws, levels=NOISE) -> list[tuple]:
    """Runs not in the cache, draw by draw (so a time-limited run covers every system and level)."""
    done = {(r["system"], r["rate"], r["noise"], r["draw"], r["tag"]) for r in load_cache()}
    todo = []
    for draw in range(draws):
        for method in methods:
            for name in systems:
                for rate in RATES:
                    for level in levels:
                        if (name, rate, level, draw, method_tag(method)) not in done:
                            todo.append((name, rate, level, draw, method))
    return todo


def summary_rows(runs: list[dict], methods: list[str], by: str) -> list[dict]:
    """One row per method and value of ``by`` (``noise`` or ``rate``): exact support k/n, wrong terms (sum),
    median coefficient error, median derivative error, median seconds."""
    rows = []
    for value in sorted({r[by] for r in runs}):
        for m in methods:
            rs = [r for r in runs if r["method"] == m and r[by] == value]
            if not rs:
                continue
            de = [r["deriv_error"] for r in rs if np.isfinite(r["deriv_error"])]
            rows.append({by: f"{value:.0%}" if by == "noise" else f"{value}/period", "method": m,
                         "exact support": f"{sum(r['success'] for r in rs)}/{len(rs)}",
                         "wrong terms": sum(r["wrong_terms"] for r in rs),
                         "median coef error": float(np.median([r["coef_error"] for r in rs])),
                         "median deriv error": float(np.median(de)) if de else "n/a",
                         "median s": float(np.median([r["seconds"] for r in rs]))})
    return rows


def per_system_rows(runs: list[dict], methods: list[str]) -> list[dict]:
    rows = []
    for name in sorted({r["system"] for r in runs}):
        row = {"system": name}
        for m in methods:
            rs = [r for r in runs if r["system"] == name and r["method"] == m]
            row[m] = f"{sum(r['success'] for r in rs)}/{len(rs)}" if rs else "-"
        rows.append(row)
    return rows


def target_lines(runs: list[dict], methods: list[str]) -> str:
    """Issue 36's targets on these runs: discover against FiniteDifference per noise level (exact support and
    wrong terms), and against the best baseline summed over 5-20% noise."""
    def count(m, levels, key):
        rs = [r for r in runs if r["method"] == m and r["noise"] in levels]
        return sum(r[key] for r in rs), len(rs)

    lines = []
    for level in sorted({r["noise"] for r in runs}):
        (d, n), (f, nf) = count("discover", [level], "success"), count("FiniteDifference", [level], "success")
        (dw, _), (fw, _) = count("discover", [level], "wrong_terms"), count("FiniteDifference", [level], "wrong_terms")
        if n and nf:
            ok = d >= f and dw < fw
            lines.append(f"{level:.0%}: discover {d}/{n} vs FiniteDifference {f}/{nf}, wrong terms {dw} vs {fw} "
                         f"({'met' if ok else 'not met'})")
    mid = [v for v in NOISE if v >= 0.05]
    base = {m: count(m, mid, "success") for m in methods if m != "discover" and not m.startswith("discover")}
    if base and count("discover", mid, "success")[1]:
        best = max(base, key=lambda m: base[m][0])
        d = count("discover", mid, "success")
        lines.append(f"5-20% summed: discover {d[0]}/{d[1]} vs the best baseline ({best}) {base[best][0]}/{base[best][1]} "
                     f"({'met' if d[0] >= base[best][0] else 'not met'})")
    return "Targets (discover >= FiniteDifference with fewer wrong terms at each level; >= the best baseline over " \
           "5-20%): " + "; ".join(lines) + "."


def report(methods: list[str]) -> str:
    """The docs section: the split, then per split the tables by noise, by sampling rate and per system."""
    tags = {method_tag(m): m for m in methods}
    runs = [r for r in load_cache() if r["tag"] in tags]
    # paired: only the cells (system, rate, level, draw) that every method has run, so counts compare
    cells = {}
    for r in runs:
        cells.setdefault((r["system"], r["rate"], r["noise"], r["draw"]), set()).add(r["tag"])
    runs = [r for r in runs if cells[(r["system"], r["rate"], r["noise"], r["draw"])] >= set(tags)]
    parts = split()
    body = [f"Split (seed {SPLIT_SEED}, fixed before any tuning): **development** {', '.join(parts['dev'])}; "
            f"**test** {', '.join(parts['test'])}. Each system at {' and '.join(map(str, RATES))} samples per "
            f"characteristic period, {N_SAMPLES} samples, noise {', '.join(f'{v:.0%}' for v in NOISE)} "
            "(sigma_j = level * std(x_j)); only the cells that every method has run are counted. Exact support = every true term kept and no other; wrong terms summed "
            "over runs. `SmoothedFD` is Savitzky-Golay (cubic, a window of a quarter period); `WeakSINDy` uses "
            "its authors' rule (MSTLS); the others `discover`'s BIC sweep. Wall times are per run with one thread "
            "(two runs at a time on the 2-core CPU).\n"]
    for part in ("test", "dev"):
        rs = [r for r in runs if r["system"] in parts[part]]
        if not rs:
            continue
        draws = sorted({r["draw"] for r in rs})
        body.append(f"### {'Test' if part == 'test' else 'Development'} systems ({len({r['system'] for r in rs})} "
                    f"systems, draws {draws[0]}-{draws[-1]})\n")
        body.append(markdown_table(summary_rows(rs, methods, "noise")))
        body.append(markdown_table(summary_rows(rs, methods, "rate")))
        if "discover" in methods:
            body.append(target_lines(rs, methods) + "\n")
        body.append("Exact support per system (all rates, levels and draws):\n")
        body.append(markdown_table(per_system_rows(rs, methods)))
    (ROOT / "docs" / "sindy_general.json").write_text(json.dumps(runs, indent=0))
    return "\n".join(body)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=["dev", "test", "both"], default="test")
    p.add_argument("--systems", help="comma-separated subset of the split's systems (development runs)")
    p.add_argument("--methods", default=";".join(METHODS),
                   help=f"';'-separated, of {', '.join(METHODS)}; 'discover:steps=1000,refine=0' overrides fields of "
                        "RKTVConfig / DiscoverConfig (a development variant, cached under its own tag)")
    p.add_argument("--draws", type=int, default=5)
    p.add_argument("--noise", type=float, nargs="+", default=list(NOISE),
                   help="noise levels (development runs; default: 0.01 0.05 0.1 0.2)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--time-limit", type=float, default=None, help="minutes after which no new run is started")
    p.add_argument("--report-only", action="store_true")
    args = p.parse_args(argv)
    methods = args.methods.split(";")
    unknown = [m for m in methods if m.partition(":")[0] not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {unknown}; choose from {METHODS}")
    parts = split()
    systems = parts["dev"] + parts["test"] if args.split == "both" else parts[args.split]
    if args.systems:
        systems = [s for s in args.systems.split(",") if s in systems] or p.error("no such system in the split")
    todo = [] if args.report_only else pending(systems, methods, args.draws, args.noise)
    print(f"{len(todo)} runs to do ({len(systems)} systems, {len(methods)} methods, {args.draws} draws)", flush=True)
    start = time.time()
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    if todo:
        from concurrent.futures import ProcessPoolExecutor

        from tqdm.auto import tqdm

        os.environ.setdefault("OMP_NUM_THREADS", "1")
        with ProcessPoolExecutor(max_workers=args.workers) as pool, open(CACHE, "a") as cache:
            futures, written = [], set()
            for job in todo:  # hand out lazily so that --time-limit can stop handing out
                futures.append(pool.submit(_run_star, job))
                while sum(not f.done() for f in futures) >= 2 * args.workers:
                    time.sleep(0.2)
                    _flush(futures, cache, written)
                if args.time_limit and time.time() - start > 60 * args.time_limit:
                    print("time limit: no more runs handed out", flush=True)
                    break
            for f in tqdm(futures, desc="runs", leave=False):
                f.result()
            _flush(futures, cache, written)
    print(report(methods))
    write_section("sindy_general", "Equation discovery on unseen systems (development / test split)", report(methods))


def _flush(futures, cache, written: set) -> None:
    """Append every finished run not yet written to the cache (``written`` holds their indices)."""
    for i, f in enumerate(futures):
        if f.done() and i not in written:
            written.add(i)
            cache.write(json.dumps(f.result()) + "\n")
            cache.flush()


if __name__ == "__main__":
    main()
