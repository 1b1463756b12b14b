"""Benchmark of rankfield.nerf: fixed GT poses vs BARF se(3) refinement vs the invertible neural warp.

Scenes: the procedural scene (always; BARF se(3) noise), ``../shared/data/lego_100`` with BARF noise
sigma = 0.15 and ``../shared/data/fern`` (LLFF) from identity init, each when present. Plus the 2-D planar
alignment success rate over 20 random problems per method. Writes the ``pose_nerf`` section of
docs/benchmarks.md and plots into docs/.

    python benchmarks/pose_nerf.py            # full run (2-core CPU: roughly 55 minutes)
    python benchmarks/pose_nerf.py --quick    # procedural scene with fewer steps + 5 planar problems
    python benchmarks/pose_nerf.py --lego-seeds 1 2 3   # only lego se3 vs warp over noise draws (~60 min)
    python benchmarks/pose_nerf.py --fern-only --fern-steps 20000 --fern-seeds 0 2 3   # fern medians (~30 min)

Protocol (chosen on lego with the development noise seed 7; the table uses seed 1, see benchmarks/dev/):
pose LR 3e-3 decayed exponentially to 1e-4 (se3) or 1e-3 (warp) over the run, field LR 3e-3 -> 1e-4,
480 rays x 24 samples a step, 20000 steps on lego (each run within the issue's 15 minutes), 12000 on fern,
3000 on the small procedural scene, all CPU threads; se3_camera only where it differs from se3 and is cheap.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import DOCS, markdown_table, publish, write_section  # noqa: E402

from rankfield._device import resolve_device  # noqa: E402
from rankfield.nerf import (FieldConfig, RenderConfig, TrainConfig, fit_pose_nerf, generate_procedural_scene,  # noqa: E402
                            identity_poses, load_blender, load_llff, perturb_poses_barf)
from rankfield.nerf.pipeline import default_configs  # noqa: E402
from rankfield.nerf.train import CPU_PROTOCOL, FORWARD_FACING  # noqa: E402
from rankfield.nerf.planar import PlanarConfig, success_rate  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
METHODS = ["fixed", "se3", "se3_camera", "warp"]
COLOURS = {"se3": "C0", "se3_camera": "C1", "warp": "C2"}


# the CPU protocol rankfield fit-scene runs by default (rays, samples, field LR), defined once in the library
def _samples(render) -> str:
    """Samples per ray of a RenderConfig as the tables show them: ``24`` or ``16 + 24`` (stratified + importance)."""
    return f"{render.n_samples} + {render.n_importance}" if render.n_importance else str(render.n_samples)


RAYS_SAMPLES = f"{CPU_PROTOCOL.rays_per_step} rays x {_samples(CPU_PROTOCOL.render)} samples"


def run_scene(name, train, test, init, steps, device, methods=METHODS, log=print, seed=0, curve_every=None):
    rows = []
    for method in methods:
        field_cfg, warp_cfg = default_configs(train, quick=True)
        # the final pose LR is each pose model's default (se3 1e-4, warp 1e-3: default_lr_pose_end)
        cfg = replace(CPU_PROTOCOL, steps=steps, progress=False, seed=seed)  # seed: rays and inits
        if train.forward_facing:  # registering a forward-facing capture: the pose LR held (as the CLI does)
            cfg = replace(cfg, **FORWARD_FACING)
        start = train.poses if method == "fixed" else init
        t0 = time.perf_counter()
        res = fit_pose_nerf(train, test, start, method, field_config=field_cfg, warp_config=warp_cfg,
                            train_config=cfg, device=device, seed=seed,
                            pose_curve_every=curve_every or max(10, steps // 60 // 10 * 10))
        m = res.metrics
        row = {"scene": name, "method": "fixed GT" if method == "fixed" else method,
               "init rot (deg)": m["initial_rotation_deg"] if method != "fixed" else 0.0,
               "rot (deg)": m["rotation_deg"], "rel rot (deg)": m["relative_rotation_deg"],
               "trans (x100)": 100 * m["translation"],
               "centre dist (x100)": 100 * m["centre_distance"],
               "train PSNR": m["train_psnr_last100"], "test PSNR": m.get("test_psnr", float("nan")),
               "test PSNR (no refine)": m.get("test_psnr_unrefined", m.get("test_psnr", float("nan"))),
               "test SSIM": m.get("test_ssim", float("nan")), "steps": steps,
               "train s": m["train_seconds"], "time (s)": round(time.perf_counter() - t0, 1)}
        log(json.dumps(row))
        row["_curve"] = m.get("pose_curve")  # per-step pose errors (raw JSON and the curve plot, not the table)
        rows.append(row)
    return rows


def field_speeds(train, init, device, rays=CPU_PROTOCOL.rays_per_step, samples=CPU_PROTOCOL.render.n_samples, steps=300,
                 log=print):
    """Training steps per second of se(3) refinement with each radiance field on ``train`` (median of
    three timings of ``steps`` steps, each after the same number of warm-up steps)."""
    from rankfield.nerf import RadianceField, SE3Refinement, train_scene

    base, _ = default_configs(train, quick=True)
    fields = {"PE MLP 3x64 (L=6)": base,
              "PE MLP 4x128 (L=8)": replace(base, width=128, depth=4, n_frequencies=8),
              "hash grid 12 levels, 2^15, smoothstep + MLP 2x64": replace(base, encoding="hashgrid", depth=2,
                                                                         hash_interpolation="smoothstep")}
    cfg = TrainConfig(steps=steps, rays_per_step=rays, render=RenderConfig(n_samples=samples, white_background=True),
                      progress=False, log_every=steps)
    rows = []
    for name, fcfg in fields.items():
        times = []
        for _ in range(3):
            field = RadianceField(fcfg, device=device)
            pm = SE3Refinement(init.to(device))
            train_scene(train, field, pm, replace(cfg, steps=20))  # warm-up (allocator, first-call costs)
            t0 = time.perf_counter()
            train_scene(train, field, pm, cfg)
            times.append(time.perf_counter() - t0)
        n_params = sum(p.numel() for p in field.parameters())
        rows.append({"field": name, "parameters": n_params, "steps/s": steps / float(np.median(times))})
        log(json.dumps(rows[-1]))
    return rows


def _get(rows, scene_prefix, method, key):
    return next((r[key] for r in rows if r["scene"].startswith(scene_prefix) and r["method"] == method), None)


def target_lines(rows, planar, device) -> list[str]:
    """Each target of the issue, met or not, with the numbers of this run."""
    out = []

    def met(ok):
        return "MET" if ok else "NOT MET"

    if planar:
        w, h = planar["warp"]["success_rate"], planar["homography"]["success_rate"]
        out.append(f"2-D alignment: warp success >= 0.7 and above homography refinement: warp {w:.2f} vs "
                   f"homography {h:.2f} -> {met(w >= 0.7 and w > h)}.")
    rw, rs = _get(rows, "lego", "warp", "rot (deg)"), _get(rows, "lego", "se3", "rot (deg)")
    if rw is not None:
        tw, ts = _get(rows, "lego", "warp", "trans (x100)"), _get(rows, "lego", "se3", "trans (x100)")
        out.append(f"lego_100 sigma 0.15, rotation < 1 deg: se3 {rs:.2f}, warp {rw:.2f} -> se3 {met(rs < 1)}, "
                   f"warp {met(rw < 1)}.")
        out.append(f"lego_100, translation < 1.0 (x100, BARF's metric): se3 {ts:.2f}, warp {tw:.2f} -> "
                   f"{met(ts < 1 and tw < 1)}.")
        out.append(f"lego_100, warp <= se3 (rotation): {rw:.2f} vs {rs:.2f} deg -> {met(rw <= rs)}.")
        pg = _get(rows, "lego", "fixed GT", "test PSNR")
        for m in ("se3", "warp"):
            pm = _get(rows, "lego", m, "test PSNR")
            out.append(f"lego_100, {m} test PSNR (with test-time refinement) within 1 dB of GT-pose training: "
                       f"{pm:.2f} vs {pg:.2f} dB -> {met(pm >= pg - 1)}.")
        secs = {m: _get(rows, "lego", m, "time (s)") for m in ("se3", "warp")}
        out.append("lego_100, each run <= 15 minutes on this CPU: " +
                   ", ".join(f"{m} {v / 60:.1f} min" for m, v in secs.items()) +
                   f" -> {met(max(secs.values()) <= 900)}.")
    else:
        out.append("lego_100: not run (data absent or --quick).")
    for m in ("se3", "warp"):
        row = next((r for r in rows if r["scene"].startswith("procedural") and r["method"] == m), None)
        if row and row.get("_curve"):
            t0, t1 = 100 * row["_curve"]["translation"][0], row["trans (x100)"]
            out.append(f"procedural scene, translation error falls ({m}): {t0:.2f} -> {t1:.2f} (x100) -> "
                       f"{met(t1 < t0)}.")
    fr = [(m, _get(rows, "fern", m, "rot (deg)"), _get(rows, "fern", m, "time (s)")) for m in ("se3", "warp")]
    if fr[0][1] is not None:
        out.append("fern 1/16 from identity, registered (< 2 deg) within 20 minutes on the CPU: " +
                   ", ".join(f"{m} {r:.2f} deg in {t / 60:.1f} min" for m, r, t in fr) +
                   f" -> {met(all(r < 2 and t <= 1200 for _, r, t in fr))}.")
    if device.type != "cuda":
        out.append("fern 1/8 on a GPU (< 0.5 deg within 10 minutes): not run here; `make bench-gpu` measures it "
                   "(section gpu_suite; development sweeps on an H200 in section fern_gpu_dev: not met).")
    return out


def plot_curves(rows, path):
    """Rotation and translation error against the step, per scene, for every pose model that moves."""
    from matplotlib.figure import Figure

    scenes = [s for s in dict.fromkeys(r["scene"] for r in rows)
              if any(r.get("_curve") and r["method"] != "fixed GT" for r in rows if r["scene"] == s)]
    fig = Figure(figsize=(4.2 * max(1, len(scenes)), 6))
    axes = fig.subplots(2, max(1, len(scenes)), squeeze=False)
    for j, scene in enumerate(scenes):
        for r in rows:
            if r["scene"] != scene or r["method"] == "fixed GT" or not r.get("_curve"):
                continue
            c = r["_curve"]
            colour = COLOURS.get(r["method"])  # one colour per pose model in every panel
            axes[0, j].plot(c["step"], c["rotation_deg"], label=r["method"], color=colour)
            axes[1, j].plot(c["step"], [100 * t for t in c["translation"]], label=r["method"], color=colour)
        axes[0, j].set_title(scene, fontsize=9)
        axes[0, j].set_yscale("log")
        axes[1, j].set_yscale("log")
        axes[1, j].set_xlabel("step")
    axes[0, 0].set_ylabel("rotation error (deg)")
    axes[1, 0].set_ylabel("translation error (x100, BARF)")
    for ax in axes[0]:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def plot_rows(rows, planar, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenes = list(dict.fromkeys(r["scene"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    w = 0.35
    for j, method in enumerate(["se3", "warp"]):
        vals = [next((r["rot (deg)"] for r in rows if r["scene"] == s and r["method"] == method), np.nan) for s in scenes]
        axes[0].bar(np.arange(len(scenes)) + (j - 0.5) * w, vals, w, label=method)
    init = [next((r["init rot (deg)"] for r in rows if r["scene"] == s and r["method"] == "se3"), np.nan) for s in scenes]
    axes[0].scatter(np.arange(len(scenes)), init, c="k", marker="_", s=400, label="initial")
    axes[0].set_xticks(np.arange(len(scenes)), scenes, fontsize=8)
    axes[0].set_ylabel("mean rotation error (deg)")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    for method, res in planar.items():
        axes[1].hist([r["corner_error_px"] for r in res["rows"]], bins=np.logspace(-1, 2.5, 20), alpha=0.6,
                     label=f"{method} (success {res['success_rate']:.2f})")
    axes[1].axvline(PlanarConfig().success_px, c="k", ls="--", lw=1)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("2-D alignment corner error (px)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fern_only(steps, device, t_all, methods, seeds=(0,), control_steps=0):
    """fern 1/16 from identity with the forward-facing preset (``FORWARD_FACING``, every band open from step 0),
    one run per training seed: writes the ``pose_nerf_fern`` section with the per-seed rows, the medians with their
    spread (min-max), the per-step curves and ``pose_nerf_fern.json``. With ``control_steps``, also the GT control
    per seed: the same preset started at the true poses, free from step 0, and the most it strays (relative
    rotation, every 100 steps)."""
    fern = DATA / "fern"
    if not (fern / "poses_bounds.npy").exists():
        raise SystemExit(f"fern not found at {fern}")
    train = load_llff(fern, factor=16)
    rows, curves, control = [], {}, []
    for s in seeds:
        for r in run_scene("fern 1/16 (identity init)", train, None, identity_poses(len(train)), steps, device,
                           methods=methods, seed=s):
            curves[f"{r['method']} seed {s}"] = r.pop("_curve")
            rows.append({"seed": s, **r})
        if control_steps:
            for r in run_scene("fern 1/16 (GT init)", train, None, train.poses.clone(), control_steps, device,
                               methods=methods, seed=s, curve_every=100):
                c = r.pop("_curve")
                curves[f"{r['method']} GT control seed {s}"] = c
                worst = max(range(len(c["step"])), key=lambda i: c["relative_rotation_deg"][i])
                control.append({"seed": s, "method": r["method"], "steps": control_steps,
                                "most rel rot (deg)": c["relative_rotation_deg"][worst], "at step": c["step"][worst],
                                "final rel rot (deg)": r["rel rot (deg)"], "train s": r["train s"]})
    keys = ["rot (deg)", "rel rot (deg)", "trans (x100)", "train PSNR", "train s"]
    med = [{"method": m, "seeds": len(sub), **{k: float(np.median([r[k] for r in sub])) for k in keys},
            "rel rot min-max": f"{min(r['rel rot (deg)'] for r in sub):.2f}-{max(r['rel rot (deg)'] for r in sub):.2f}",
            "rot min-max": f"{min(r['rot (deg)'] for r in sub):.2f}-{max(r['rot (deg)'] for r in sub):.2f}"}
           for m in methods if (sub := [r for r in rows if r["method"] == m])]
    cols = ["seed", "method", "init rot (deg)", "rot (deg)", "rel rot (deg)", "trans (x100)", "train PSNR", "steps",
            "train s"]
    fractions = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
    curve_rows = []
    for name, c in curves.items():
        if "GT control" in name:  # the control's own table says how far it strays
            continue
        marks = [min(range(len(c["step"])), key=lambda i: abs(c["step"][i] - f * steps)) for f in fractions]
        curve_rows.append({"run": name, **{f"step {c['step'][i]}": c["relative_rotation_deg"][i] for i in marks}})
    targets = []
    for m in med:
        ok = m["rel rot (deg)"] < 1 and m["rot (deg)"] < 2 and m["train s"] <= 3600
        targets.append(f"- {m['method']}: median relative rotation {m['rel rot (deg)']:.2f} deg (< 1), Sim(3) rotation "
                       f"{m['rot (deg)']:.2f} deg (< 2), {m['train s'] / 60:.1f} min (<= 60) -> "
                       f"{'MET' if ok else 'NOT MET'}.")
    body = [f"fern 1/16 (20 frames) from identity, {steps} steps, training seeds {', '.join(map(str, seeds))} "
            f"(development used seed 1), the CLI's forward-facing preset: `FORWARD_FACING` = "
            f"{FORWARD_FACING} (the pose LR does not decay), "
            f"{CPU_PROTOCOL.rays_per_step} rays x {_samples(CPU_PROTOCOL.render)} "
            "samples, and every band of the field open from the first step (no coarse-to-fine). Relative rotation "
            "is the gauge-free error; identity starts at 7.76 deg. Medians over the seeds, with the spread (min-max):",
            "",
            markdown_table(med, ["method", "seeds"] + keys + ["rel rot min-max", "rot min-max"]),
            "Targets (relative rotation < 1 deg and Sim(3) rotation < 2 deg within 60 CPU-minutes):", "", *targets, "",
            "Per seed:", "", markdown_table(rows, cols),
            *([f"GT control: the same preset started at the true poses, free from step 0, {control_steps} steps; the "
               "most each run strays from GT (relative rotation, every 100 steps; target: within 1 deg throughout):",
               "", markdown_table(control),
               f"-> {'MET' if all(c['most rel rot (deg)'] < 1 for c in control) else 'NOT MET'} "
               f"(largest {max(c['most rel rot (deg)'] for c in control):.2f} deg).", ""] if control else []),
            "Relative rotation (deg) along each run:", "", markdown_table(curve_rows),
            f"Total time {time.perf_counter() - t_all:.0f} s. Raw rows and curves: `pose_nerf_fern.json`."]
    (DOCS / "pose_nerf_fern.json").write_text(json.dumps({"rows": rows, "medians": med, "control": control,
                                                          "curves": curves}, indent=1, default=float))
    publish("pose_nerf_fern", "Pose NeRF: fern from identity (forward-facing preset)", body)


def lego_seeds(seeds, steps, device, t_all, methods=("se3", "warp")):
    """se3 against the warp on lego_100 over several noise draws (noise seed = training seed); writes the
    ``pose_nerf_seeds`` section with per-draw rows and the medians. With one of the two ``methods`` the other's
    rows (same seeds and steps) are carried over from the last ``pose_nerf_seeds.json`` and marked as such."""
    lego = DATA / "lego_100"
    if not (lego / "transforms_train.json").exists():
        raise SystemExit(f"lego_100 not found at {lego}")
    train, test = load_blender(lego, "train"), load_blender(lego, "test", max_frames=8)
    field_cfg, _ = default_configs(train, quick=True)
    today = time.strftime("%Y-%m-%d")
    rows = []
    for s in seeds:
        init = perturb_poses_barf(train.poses, 0.15, seed=s)
        for r in run_scene("lego_100 (sigma 0.15)", train, test, init, steps, device, methods=list(methods), seed=s):
            r.pop("_curve", None)
            rows.append({"seed": s, **r, "date": today, "field c2f": str(field_cfg.coarse_to_fine),
                         "samples": _samples(CPU_PROTOCOL.render)})
    carried = []
    old = DOCS / "pose_nerf_seeds.json"
    if set(methods) != {"se3", "warp"} and old.exists():
        for r in json.loads(old.read_text())["rows"]:
            if r["method"] not in methods and r["seed"] in seeds and r["steps"] == steps:
                r.setdefault("date", "before 2026-12-06")
                r.setdefault("field c2f", "(0.1, 0.5)")
                r.setdefault("samples", "24")  # the protocol's before 2026-12-06 (16 + 24 importance since)
                carried.append(r)
    rows = sorted(rows + carried, key=lambda r: (r["seed"], r["method"]))
    write_lego_section(rows, seeds, steps, methods, bool(carried), time.perf_counter() - t_all)


def write_lego_section(rows, seeds, steps, methods, carried: bool, total_s: float) -> None:
    """The ``pose_nerf_seeds`` section and its JSON from per-draw ``rows``: medians with their spread (min-max over
    the draws), how often the warp is below se(3), and every draw's row."""
    keys = ["rot (deg)", "rel rot (deg)", "trans (x100)", "test PSNR", "train s"]
    med = []
    for m in ("se3", "warp"):
        sub = [r for r in rows if r["method"] == m]
        row = {"seed": "median", "method": m, **{k: float(np.median([r[k] for r in sub])) for k in keys}}
        for k in keys[:3]:
            row[f"{k.split(' (')[0]} min-max"] = f"{min(r[k] for r in sub):.2f}-{max(r[k] for r in sub):.2f}"
        med.append(row)
    spread = ["rot min-max", "rel rot min-max", "trans min-max"]
    cols = ["seed", "method", "init rot (deg)"] + keys + ["samples", "field c2f", "date"]
    wins = {k: sum(a[k] < b[k] for a, b in zip([r for r in rows if r["method"] == "warp"],
                                                  [r for r in rows if r["method"] == "se3"])) for k in keys[:3]}
    samples = sorted({r.get("samples", "24") for r in rows})
    body = [f"se(3) against the invertible warp on lego_100 (BARF noise sigma 0.15) over {len(seeds)} noise draws "
            f"(noise seed = training seed = {', '.join(map(str, seeds))}), {steps} steps each, the `pose_nerf` "
            f"protocol otherwise ({RAYS_SAMPLES}, pose LR 3e-3 -> 1e-4 se3 / 1e-3 warp). Medians over the draws, "
            "with their spread (min-max):", "",
            markdown_table(med, ["method"] + keys + spread),
            f"The warp is below se(3) in {wins['rot (deg)']} of {len(seeds)} draws on rotation, "
            f"{wins['rel rot (deg)']} on relative rotation and {wins['trans (x100)']} on translation. Per draw:", "",
            markdown_table(rows, cols), f"Total time {total_s:.0f} s. Raw rows: `pose_nerf_seeds.json`."]
    if carried:
        body[-1] += (f" This run trained {', '.join(methods)} only; the other rows are the previous run's (their "
                     "date and field coarse-to-fine window and samples per ray in the table).")
    if len(samples) > 1:
        body[-1] += f" The rows do not share one renderer (samples per ray: {', '.join(samples)})."
    (DOCS / "pose_nerf_seeds.json").write_text(json.dumps({"rows": rows, "medians": med}, indent=1, default=float))
    publish("pose_nerf_seeds", "Pose NeRF on lego over noise draws", body)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="procedural scene only, fewer steps, 5 planar problems")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--steps", type=int, default=None, help="steps of the procedural runs (default 3000, quick 400)")
    ap.add_argument("--lego-steps", type=int, default=20000, help="steps of the lego runs")
    ap.add_argument("--fern-steps", type=int, default=12000, help="steps of the fern runs")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's, all cores)")
    ap.add_argument("--planar-problems", type=int, default=None, help="planar problems per method (default 20)")
    ap.add_argument("--skip-planar", action="store_true")
    ap.add_argument("--lego-seeds", type=int, nargs="+", default=None,
                    help="run only lego se3 vs warp over these noise draws (section pose_nerf_seeds)")
    ap.add_argument("--lego-methods", nargs="+", default=["se3", "warp"], choices=["se3", "warp"],
                    help="with --lego-seeds: the pose models to train (the other's rows are carried over)")
    ap.add_argument("--fern-only", action="store_true",
                    help="run only fern from identity (--fern-steps; section pose_nerf_fern)")
    ap.add_argument("--fern-methods", nargs="+", default=["se3"], help="with --fern-only (default: se3)")
    ap.add_argument("--fern-control-steps", type=int, default=0,
                    help="with --fern-only: also run the GT control (the preset started at the true poses) this long")
    ap.add_argument("--fern-seeds", type=int, nargs="+", default=[0],
                    help="with --fern-only: training seeds, one run each; the table gives medians (default: 0)")
    args = ap.parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.fern_only:
        return fern_only(args.fern_steps, device, time.perf_counter(), args.fern_methods, args.fern_seeds,
                         args.fern_control_steps)
    if args.lego_seeds:
        return lego_seeds(args.lego_seeds, args.lego_steps, device, time.perf_counter(), args.lego_methods)
    steps = args.steps or (400 if args.quick else 3000)
    n_planar = args.planar_problems or (5 if args.quick else 20)
    rows, read, speeds = [], [], []
    t_all = time.perf_counter()

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = generate_procedural_scene(tmp, n_train=24, n_test=6, size=32, seed=0)
        train, test = load_blender(root, "train"), load_blender(root, "test")
    rows += run_scene("procedural (sigma 0.08)", train, test, perturb_poses_barf(train.poses, 0.08, seed=1), steps,
                      device)
    lego = DATA / "lego_100"
    if not args.quick and (lego / "transforms_train.json").exists():
        train, test = load_blender(lego, "train"), load_blender(lego, "test", max_frames=8)
        read.append(f"{lego}/transforms_train.json (100 frames), transforms_test.json (first 8 of 25)")
        lego_init = perturb_poses_barf(train.poses, 0.15, seed=1)
        speeds = field_speeds(train, lego_init, device)
        # se3_camera is not run at this budget: at 3000 steps it stalled at 10.4 deg against 2.6 for se3
        rows += run_scene("lego_100 (sigma 0.15)", train, test, lego_init, args.lego_steps, device,
                          methods=["fixed", "se3", "warp"])
    else:
        print(f"skipping lego_100 ({'--quick' if args.quick else 'not found at ' + str(lego)})")
    fern = DATA / "fern"
    if not args.quick and (fern / "poses_bounds.npy").exists():
        train = load_llff(fern, factor=16)
        read.append(f"{fern}/poses_bounds.npy + images_16/ (20 frames, 252x189)")
        # from identity the world-side and camera-side corrections are the same model: se3 only
        rows += run_scene("fern 1/16 (identity init)", train, None, identity_poses(len(train)), args.fern_steps, device,
                          methods=["fixed", "se3", "warp"])
    else:
        print(f"skipping fern ({'--quick' if args.quick else 'not found at ' + str(fern)})")

    planar = {}
    if not args.skip_planar:
        cfg = PlanarConfig()
        for method in ("homography", "warp"):
            t0 = time.perf_counter()
            planar[method] = success_rate(method, n_planar, cfg, sigma=0.1)
            planar[method]["seconds"] = time.perf_counter() - t0
            print(method, planar[method]["success_rate"], planar[method]["median_corner_error_px"])

    DOCS.mkdir(exist_ok=True)
    plot = DOCS / "pose_nerf.png"
    raw = DOCS / "pose_nerf.json"
    plot_rows(rows, planar, plot)
    curves = DOCS / "pose_nerf_curves.png"
    plot_curves(rows, curves)
    body = ["Jointly optimised NeRF poses: fixed ground-truth poses, BARF per-frame se(3) refinement and the invertible "
            "neural warp (rigidity loss, Kabsch poses); se3 = BARF's world-side correction, se3_camera = camera-side. "
            "Pose errors after Sim(3) Procrustes alignment of the camera "
            "centres; trans = BARF's translation error, |t_aligned - t_gt| of the world-to-camera translations, x100; "
            "centre dist = aligned camera-centre distance x100 (scene units); test PSNR/SSIM on test views "
            "rendered at GT poses mapped into the learned frame, then 100 steps of test-time pose refinement (BARF's "
            "protocol; not for fixed GT poses). CPU-sized budgets: "
            f"{args.lego_steps} steps on lego, {args.fern_steps} on fern, {steps} on the procedural scene, {RAYS_SAMPLES} "
            f"a step, field 3x64 ReLU with PE (6 bands; coarse-to-fine window {FieldConfig().coarse_to_fine}: None = every "
            "band from the first step), "
            "pose LR 3e-3 -> 1e-4 (se3) or 1e-3 (warp), "
            f"field LR {CPU_PROTOCOL.lr_field:g} -> {CPU_PROTOCOL.lr_field_end:g}, warp 3 coupling blocks (latent 32, hidden 64), "
            f"{torch.get_num_threads()} CPU threads; `train s` = the optimisation alone, `time (s)` adds evaluation. "
            "The papers train 200k steps of 1024-2048 rays x 128 samples.", ""]
    body.append(markdown_table(rows, [k for k in rows[0] if not k.startswith("_")]))
    if read:
        body += ["", "Data read: " + "; ".join(read) + "."]
    if speeds:
        body += ["", f"Training speed of se(3) refinement on lego_100 with each radiance field ({RAYS_SAMPLES}, "
                 "median of 3 x 300 steps after a warm-up, this CPU). The pure-PyTorch hash grid (Heo et al.'s "
                 "coarse-to-fine level window and smoothstep interpolation are options of `FieldConfig`) is "
                 "gather/scatter-bound on a CPU; on a GPU (tiny-cuda-nn or not) it is the fast field:", "",
                 markdown_table(speeds)]
    if planar:
        prow = [{"method": m, "problems": n_planar, "success rate": r["success_rate"],
                 "median corner err (px)": r["median_corner_error_px"], "mean corner err (px)": r["mean_corner_error_px"],
                 "time (s)": round(r["seconds"], 1)} for m, r in planar.items()]
        body += ["", f"2-D planar alignment (astronaut 96x128 canvas, 5 patches of 16x16 px, sl(3) noise sigma 0.1, "
                     f"{PlanarConfig().steps} steps; success = mean corner error < {PlanarConfig().success_px} px after "
                     "removing the global homography gauge; seeds 100-119, development used seeds 0-2):", "",
                 markdown_table(prow)]
    body += ["", "Targets:", ""] + [f"- {line}" for line in target_lines(rows, planar, device)]
    body += ["", "Fern from identity init: not registered. The Sim(3) rotation errors of 100-180 deg overstate it: "
             "fern's centres lie close to a line (std 0.27 / 0.09 / 0.03), so the alignment barely fixes a "
             "rotation about that line and can flip the estimate half a turn; the alignment-free relative rotation"
             " error (`rel rot`, `relative_rotation_errors`; absent from runs before 2026-12-04) reads 4-6 deg in the "
             "development runs, and the estimated cameras move about half of the GT motion (centre spread 0.45 of "
             "GT's, not a collapse; `benchmarks/dev/fern_identity.py`, section `fern_gpu_dev`). For identity init "
             "the world-side and camera-side se(3) corrections are the same model (se3_camera not run). On lego "
             "se3_camera is not run at this budget either: the previous run (3000 steps, 2026-11-24) left it at "
             "10.4 deg where se3 reached 2.6 deg.",
             "", "Development (lego, noise seed 7; `benchmarks/dev/pose_lego.py`, log and table in "
             "`benchmarks/dev/README.md`) chose the pose-LR decay per model and the budget: at 12000 steps se3 "
             "ended at 1.24 deg with the earlier decay to 1e-3 (a plateau from ~9000 steps) and at 0.88 deg with "
             "the decay to 1e-4; the warp at 1.43 deg with 1e-3 and 1.62 deg with 1e-4; the warp's authors' "
             "first-layer init with coordinates scaled by 1/4 was worse at 3000 steps (7.2 against 4.7 deg). Two "
             "CPU threads run 1.5x faster than one.",
             "", f"Raw rows: `{raw.name}`."]
    raw.write_text(json.dumps({"rows": rows, "field_speeds": speeds, "planar": {m: {k: v for k, v in r.items()} for m, r in planar.items()}},
                              indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else float(o)))
    body += ["", f"![pose errors and planar corner errors]({plot.name})", "",
             f"![pose errors against the step]({curves.name})", "",
             f"Total time {time.perf_counter() - t_all:.0f} s."]
    text = "\n".join(body)
    path = write_section("pose_nerf", "Pose-optimising NeRF (rankfield.nerf)", text)
    print(text)
    print(f"wrote {path} and {plot}")


if __name__ == "__main__":
    main()
