"""Every GPU figure of rankfield in one command (``make bench-gpu``), in about 20 minutes on one H100.

GPU time is rare: whenever a GPU is available, this one command measures what the docs quote.

1. the ``gpu`` tests (``pytest -m gpu``);
2. SIREN 3x256 on a 512x512 image, full batch, fp32 and bf16: steps/s of ``fit()`` against a plain
   PyTorch reference loop with the same math, in the same run;
3. the FINER protocol (DIV2K at 512x512; SIREN, FINER, WIRE, Gauss, ReLU+PE, ReLU+REI): PSNR per method.
   The paper trains 5000 steps; the default here is ``--finer-steps 1000`` so the suite fits 20 minutes
   (say ``--finer-steps 5000`` for the paper's budget). Networks of one method train in lock-step
   (``fit_images``); WIRE (complex weights) trains one image at a time;
4. the hash grid to 30 dB on a 512x512 image (seconds), pure PyTorch and tiny-cuda-nn when importable;
5. ``fit_many`` throughput against a loop of ``fit()`` (64 images of 64x64, 3x64 SIREN; and 256 images);
6. lego_100 pose refinement at the pose benchmark's settings (GT poses, se3, se3_camera and warp, 3000
   steps) when the shared data is present;
7. RKTV-INR: one 1000x3 Lorenz record (2000 steps), and 8 records in lock-step against one by one;
8. fern at 1/8 resolution from identity poses (the issue's GPU target: < 0.5 deg within 10 minutes), se3 and
   warp, the authors' field size (4x128, 8 bands), 1024 rays x 64 samples a step; each method gets
   ``--fern-minutes`` (default 4): a 100-step probe measures the step time and the run's step count (and with
   it the LR schedule) is set to fill the budget.

Peak GPU memory is recorded for each part. Writes ``docs/gpu_suite.json`` after every part and the
``gpu_suite`` section of ``docs/benchmarks.md`` at the end (device name and date in it).

Without CUDA it prints one line and exits. ``--smoke`` runs every part at toy sizes on the CPU to check
the code paths (nothing is written).

A lent GPU machine limits one command to 10 minutes, so the suite can run in parts, each writing its own JSON
(``--parts tests,siren --json run1.json``); ``--merge run1.json run2.json ...`` then writes
``docs/gpu_suite.json`` and the docs section from them, with the command each part was run with.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from _report import DOCS, machine_description, markdown_table, write_section  # noqa: E402

from rankfield.inr import (CoordinateMLP, FitConfig, MLPConfig, default_image, fit, fit_image, fit_images,  # noqa: E402
                           image_coordinates, load_image)
from rankfield.inr.data import center_square, resize_image  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


class Suite:
    def __init__(self, device: torch.device, smoke: bool, out: Path | None):
        self.device, self.smoke, self.out = device, smoke, out
        self.results: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu (smoke)",
                              "torch": torch.__version__, "parts": {}}

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def part(self, name: str, fn) -> None:
        """Run one part; record its numbers, seconds and peak memory (an error is recorded, not raised)."""
        print(f"== {name}", flush=True)
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        t0 = time.perf_counter()
        try:
            numbers = fn()
            error = None
        except Exception as exc:  # noqa: BLE001 - one failing part must not lose the others' numbers
            numbers, error = {}, f"{type(exc).__name__}: {exc}"
            print(f"   failed: {error}", flush=True)
        entry = {"seconds": time.perf_counter() - t0, **numbers}
        if error:
            entry["error"] = error
        if self.device.type == "cuda":
            entry["peak_memory_gib"] = torch.cuda.max_memory_allocated(self.device) / 2 ** 30
        self.results["parts"][name] = entry
        print(f"   {json.dumps({k: v for k, v in entry.items() if not isinstance(v, (list, dict))})}", flush=True)
        if self.out is not None:
            self.out.write_text(json.dumps(self.results, indent=1, default=float))


# -- parts -------------------------------------------------------------------------------------------------
def gpu_tests(s: Suite) -> dict:
    if s.smoke:
        return {"skipped": "smoke run (no CUDA)"}
    # only tests/ (src's doctests need every extra); a test module whose optional package is missing on the GPU
    # image (PySINDy, say) is a collection error that must not stop the others. No extra -q: addopts has one,
    # and -qq would drop the summary line read below.
    proc = subprocess.run([sys.executable, "-m", "pytest", "-m", "gpu", "-p", "no:cacheprovider",
                           "--continue-on-collection-errors", "tests"], cwd=ROOT, capture_output=True, text=True)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    return {"returncode": proc.returncode, "summary": tail}


def _reference_siren(width: int, depth: int, device, seed: int = 0):
    """A plain nn.Sequential SIREN with the same init as CoordinateMLP's (weights copied)."""
    ours = CoordinateMLP(in_features=2, out_features=3, activation="sine", width=width, depth=depth, seed=seed)

    class Sin(torch.nn.Module):
        def forward(self, x):
            return torch.sin(30.0 * x)
    layers = []
    for lin in ours.linears:
        layers += [torch.nn.Linear(lin.in_features, lin.out_features), Sin()]
    layers.append(torch.nn.Linear(width, 3))
    ref = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for dst, src in zip([m for m in ref if isinstance(m, torch.nn.Linear)], list(ours.linears) + [ours.output]):
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
    return ref.to(device)


def siren_speed(s: Suite) -> dict:
    size, width, steps = (32, 32, 20) if s.smoke else (512, 256, 300)
    img = default_image(size).to(s.device)
    x = image_coordinates(size, size, device=s.device).reshape(-1, 2)
    y = img.reshape(-1, 3)
    out = {"image": f"{size}x{size}", "model": f"SIREN 3x{width}", "steps": steps}
    for amp in (False, True):
        if amp and s.device.type != "cuda":
            continue
        tag = "bf16" if amp else "fp32"
        cfg = FitConfig(steps=steps, lr=1e-4, device=str(s.device), amp=amp, progress=False, log_every=steps)
        fit(CoordinateMLP(in_features=2, out_features=3, activation="sine", width=width), x, y,
            FitConfig(**{**cfg.to_dict(), "steps": 5}))  # warm-up
        s.sync()
        t0 = time.perf_counter()
        res = fit(CoordinateMLP(in_features=2, out_features=3, activation="sine", width=width), x, y, cfg)
        s.sync()
        out[f"rankfield_{tag}_steps_per_s"] = steps / (time.perf_counter() - t0)
        out[f"rankfield_{tag}_psnr"] = res.history["psnr"][-1]
        ref = _reference_siren(width, 3, s.device)
        opt = torch.optim.Adam(ref.parameters(), lr=1e-4, fused=True)
        for phase in ("warm", "timed"):
            n = 5 if phase == "warm" else steps
            s.sync()
            t0 = time.perf_counter()
            for _ in range(n):
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=amp):
                    loss = torch.nn.functional.mse_loss(ref(x).float(), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            s.sync()
        out[f"reference_{tag}_steps_per_s"] = steps / (time.perf_counter() - t0)
        out[f"ratio_{tag}"] = out[f"rankfield_{tag}_steps_per_s"] / out[f"reference_{tag}_steps_per_s"]
    return out


FINER_METHODS = {
    "SIREN": (dict(activation="sine"), 5e-4),
    "FINER": (dict(activation="finer", first_bias_scale=1.0), 5e-4),
    "Gauss": (dict(activation="gauss"), 1e-3),
    "WIRE": (dict(activation="wire", omega0=20.0), 1e-3),
    "ReLU + PE": (dict(activation="relu", encoding="positional", encoding_options={"n_frequencies": 10}), 1e-3),
    "ReLU + REI": (dict(activation="relu", init="rank_expanding"), 1e-3),
}


def _images(n: int, size: int):
    div2k = DATA / "div2k"
    if div2k.is_dir():
        files = sorted(div2k.glob("*.png"))[:n]
        return [resize_image(center_square(load_image(f)[..., :3]), (size, size)) for f in files], [f.name for f in files]
    from skimage import data
    names = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"][:n]
    imgs = [torch.from_numpy(getattr(data, k)()[..., :3].astype(np.float32) / 255) for k in names]
    return [resize_image(center_square(im), (size, size)) for im in imgs], names


def finer_protocol(s: Suite, steps: int, n_images: int) -> dict:
    size, width = (16, 16) if s.smoke else (512, 256)
    steps = 10 if s.smoke else steps
    imgs, names = _images(2 if s.smoke else n_images, size)
    stack = torch.stack(imgs)
    rows = {}
    for method, (over, lr) in FINER_METHODS.items():
        mlp = MLPConfig(in_features=2, out_features=3, width=width, depth=3, **over)
        cfg = FitConfig(steps=steps, lr=lr, device=str(s.device), progress=False, log_every=max(1, steps // 10))
        s.sync()
        t0 = time.perf_counter()
        if method == "WIRE":  # complex weights: one image at a time
            psnrs = [fit_image(im, CoordinateMLP(mlp), cfg).metrics["psnr"] for im in imgs]
        else:
            psnrs = [m["psnr"] for m in fit_images(stack, mlp, cfg).metrics]
        s.sync()
        rows[method] = {"psnr_mean": float(statistics.mean(psnrs)), "psnr_per_image": psnrs,
                        "seconds": time.perf_counter() - t0}
        print(f"   {method}: {rows[method]['psnr_mean']:.2f} dB ({rows[method]['seconds']:.0f} s)", flush=True)
    return {"images": names, "size": size, "steps": steps, "methods": rows}


def hashgrid_to_30db(s: Suite) -> dict:
    size, steps = (32, 30) if s.smoke else (512, 5000)
    img = default_image(size)
    out = {"image": f"astronaut {size}x{size}"}
    backends = ["torch"]
    try:
        import tinycudann  # noqa: F401
        if s.device.type == "cuda":
            backends.append("tcnn")
    except ImportError:
        out["tcnn"] = "not importable"
    for backend in backends:
        model = CoordinateMLP(in_features=2, out_features=3, activation="relu", width=64, depth=2, encoding="hashgrid",
                              encoding_options={"backend": backend, "log2_hashmap_size": 19,
                                                **({"device": "cuda"} if backend == "tcnn" else {})})
        reached = {}

        def stop_at_30(trainer, record):
            if record["psnr"] >= 30.0 and "step" not in reached:
                reached["step"] = record["step"]
                trainer.request_stop()
        s.sync()
        t0 = time.perf_counter()
        res = fit_image(img, model, FitConfig(steps=steps, lr=1e-2, device=str(s.device), progress=False, log_every=10),
                        callbacks=[stop_at_30])
        s.sync()
        out[f"{backend}_seconds_to_30db"] = (time.perf_counter() - t0) if reached else float("nan")
        out[f"{backend}_steps_to_30db"] = float(reached.get("step", float("nan")))
        out[f"{backend}_final_psnr"] = res.metrics["psnr"]
    return out


def fit_many_throughput(s: Suite) -> dict:
    import fit_many as bench
    out = {}
    cases = [(8, 16, 16, 5)] if s.smoke else [(64, 64, 64, 200), (256, 64, 64, 200)]
    for n, size, width, steps in cases:
        images = bench.crops(n, size)
        mlp = MLPConfig(in_features=2, out_features=3, activation="sine", width=width, depth=3)
        cfg = FitConfig(steps=steps, lr=1e-3, progress=False, device=str(s.device), log_every=50)
        r = bench.run_case(images, mlp, cfg, s.device, None, 1)
        out[f"{n}x{size}^2_3x{width}"] = {k: v for k, v in r.items() if not isinstance(v, list)}
        print(f"   {n} images: loop {r['loop_s']:.1f} s, fit_many {r['fit_many_s']:.1f} s -> {r['speedup']:.1f}x",
              flush=True)
    return out


def lego_pose(s: Suite) -> dict:
    lego = DATA / "lego_100"
    if s.smoke or not (lego / "transforms_train.json").exists():
        return {"skipped": "smoke run" if s.smoke else f"{lego} not found"}
    import pose_nerf
    from rankfield.nerf import load_blender, perturb_poses_barf
    train, test = load_blender(lego, "train"), load_blender(lego, "test", max_frames=8)
    rows = pose_nerf.run_scene("lego_100 (sigma 0.15)", train, test, perturb_poses_barf(train.poses, 0.15, seed=1),
                               3000, s.device)
    return {"rows": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]}


def rktv(s: Suite) -> dict:
    from rankfield.dynamics import RKTVConfig, RKTVDenoiser, add_noise, get_system
    n, steps = (100, 20) if s.smoke else (1000, 2000)
    t, x = get_system("lorenz").simulate(n_samples=n)
    cfg = RKTVConfig(steps=steps, progress=False, device=str(s.device))
    s.sync()
    t0 = time.perf_counter()
    RKTVDenoiser(cfg).fit(add_noise(x, 0.1, seed=0), t)
    s.sync()
    out = {"one_record_seconds": time.perf_counter() - t0, "samples": n, "steps": steps}
    records = [add_noise(x, 0.1, seed=k) for k in range(8)]
    for mode in ("on", "off"):
        s.sync()
        t0 = time.perf_counter()
        RKTVDenoiser(cfg, lockstep=mode).fit(records, t)
        s.sync()
        out[f"eight_records_lockstep_{mode}_seconds"] = time.perf_counter() - t0
    out["lockstep_speedup"] = out["eight_records_lockstep_off_seconds"] / out["eight_records_lockstep_on_seconds"]
    return out


def fern_pose(s: Suite, minutes: float) -> dict:
    fern = DATA / "fern"
    if not (fern / "poses_bounds.npy").exists():
        return {"skipped": f"{fern} not found"}
    from rankfield.nerf import RenderConfig, TrainConfig, fit_pose_nerf, identity_poses, load_llff
    from rankfield.nerf.pipeline import default_configs
    # smoke: 1/16, a few rays and steps, only to run the code path
    rays, samples, probe, floor = (64, 8, 5, 10) if s.smoke else (1024, 64, 100, 500)
    train = load_llff(fern, factor=16 if s.smoke else 8)
    field_cfg, warp_cfg = default_configs(train, quick=s.smoke)
    out = {"frames": len(train), "image": f"{train.intrinsics.width}x{train.intrinsics.height}", "init": "identity",
           "rays_per_step": rays, "samples": samples, "field": "4x128, 8 bands", "budget_minutes": minutes, "runs": {}}

    def cfg(steps):
        return TrainConfig(steps=steps, rays_per_step=rays, lr_field=1e-3, lr_pose=3e-3,
                           render=RenderConfig(n_samples=samples), progress=False, log_every=10 if s.smoke else 50)
    for method in ("se3", "warp"):
        for n in (10, probe):  # the first call warms up (CUDA context, kernels); the second is timed
            s.sync()
            t0 = time.perf_counter()
            fit_pose_nerf(train, None, identity_poses(len(train)), method, field_config=field_cfg,
                          warp_config=warp_cfg, train_config=cfg(n), device=s.device, seed=0, test_time_refine=0)
        s.sync()
        per_step = (time.perf_counter() - t0) / probe
        steps = floor if s.smoke else int(max(floor, minutes * 60 * 0.9 / per_step) // 500 * 500)
        deadline = time.perf_counter() + minutes * 60 * 1.2

        def stop_late(trainer, record):  # safety net only: the step count above is meant to fit the budget
            if time.perf_counter() > deadline:
                trainer.request_stop()
        t0 = time.perf_counter()
        res = fit_pose_nerf(train, None, identity_poses(len(train)), method, field_config=field_cfg,
                            warp_config=warp_cfg, train_config=cfg(steps), device=s.device, seed=0,
                            callbacks=[stop_late], pose_curve_every=10 if s.smoke else max(50, steps // 20 // 50 * 50))
        s.sync()
        m = res.metrics
        out["runs"][method] = {"steps": steps, "probe_seconds_per_step": per_step,
                               "seconds": time.perf_counter() - t0, "rotation_deg": m["rotation_deg"],
                               "translation": m["translation"], "centre_distance": m["centre_distance"],
                               "train_psnr_last100": m["train_psnr_last100"], "pose_curve": m.get("pose_curve")}
        print(f"   fern {method}: {steps} steps, {m['rotation_deg']:.2f} deg, trans {m['translation']:.4f} "
              f"({out['runs'][method]['seconds']:.0f} s)", flush=True)
    return out


def report(s: Suite) -> str:
    parts = s.results["parts"]
    lines = [f"Device: {s.results['device']}, torch {s.results['torch']}. Raw numbers: `gpu_suite.json`.", ""]
    if s.results.get("machine"):
        lines += [f"Measured on: {s.results['machine']} (the stamp above is where the parts were merged).", ""]
    if s.results.get("commands"):
        lines += ["Run as (one command per 10-minute call of the lent machine, merged with `--merge`):", "",
                  *[f"    {c}" for c in s.results["commands"]], ""]
    rows = [{"part": k, "seconds": v.get("seconds", float("nan")), "peak GiB": v.get("peak_memory_gib", float("nan")),
             "error": v.get("error", "")} for k, v in parts.items()]
    lines += [markdown_table(rows), ""]
    gt = parts.get("gpu_tests", {})
    if "returncode" in gt:
        lines += [f"`pytest -m gpu tests`: exit code {gt['returncode']} (`{gt['summary']}`).", ""]
    sp = parts.get("siren_speed", {})
    if "rankfield_fp32_steps_per_s" in sp:
        lines += [f"{sp['model']}, {sp['image']} full batch: rankfield {sp['rankfield_fp32_steps_per_s']:.1f} steps/s fp32 "
                  f"({sp.get('ratio_fp32', float('nan')):.2f}x the plain loop), "
                  f"{sp.get('rankfield_bf16_steps_per_s', float('nan')):.1f} steps/s bf16 "
                  f"({sp.get('ratio_bf16', float('nan')):.2f}x).", ""]
    fp = parts.get("finer_protocol", {}).get("methods")
    if fp:
        fpp = parts["finer_protocol"]
        lines += [f"FINER protocol ({fpp['steps']} steps, {len(fpp['images'])} images at {fpp['size']}x{fpp['size']}):", "",
                  markdown_table([{"method": k, "PSNR (dB)": v["psnr_mean"], "seconds": v["seconds"]}
                                  for k, v in fp.items()]), ""]
    hg = parts.get("hashgrid_to_30db", {})
    if "torch_steps_to_30db" in hg:
        lines += [f"Hash grid ({hg['image']}): 30 dB after {hg['torch_steps_to_30db']:.0f} steps, "
                  f"{hg['torch_seconds_to_30db']:.1f} s (pure PyTorch); tiny-cuda-nn: "
                  f"{hg.get('tcnn_seconds_to_30db', hg.get('tcnn', 'not run'))}.", ""]
    lp = parts.get("lego_pose", {}).get("rows")
    if lp:
        lines += ["lego_100, BARF noise sigma 0.15 (seed 1), the pose benchmark's settings (480 rays x 24 samples, "
                  "3x64 field), 3000 steps:", "",
                  markdown_table([{k: r[k] for k in ("method", "rot (deg)", "trans (x100)", "test PSNR", "time (s)")}
                                  for r in lp]), ""]
    fe = parts.get("fern_pose", {}).get("runs")
    if fe:
        fpp = parts["fern_pose"]
        lines += [f"fern ({fpp['image']}, {fpp['frames']} frames) from identity, {fpp['field']}, "
                  f"{fpp['rays_per_step']} rays x {fpp['samples']} samples, {fpp['budget_minutes']} min per method "
                  "(target: < 0.5 deg within 10 minutes):", "",
                  markdown_table([{"method": k, "steps": v["steps"], "rot (deg)": v["rotation_deg"],
                                   "trans (x100)": 100 * v["translation"], "centre dist (x100)": 100 * v["centre_distance"],
                                   "train PSNR": v["train_psnr_last100"], "seconds": v["seconds"]}
                                  for k, v in fe.items()]), ""]
    rk = parts.get("rktv", {})
    if "one_record_seconds" in rk:
        lines += [f"RKTV-INR: one {rk['samples']}x3 Lorenz record, {rk['steps']} steps: {rk['one_record_seconds']:.1f} s; "
                  f"8 records in lock-step {rk['lockstep_speedup']:.1f}x faster than one by one.", ""]
    fm = parts.get("fit_many_throughput", {})
    for k, v in fm.items():
        if isinstance(v, dict) and "speedup" in v:
            lines.append(f"fit_many {k}: {v['speedup']:.1f}x the loop's throughput "
                         f"({v['fit_many_signal_steps_per_s']:.0f} signal-steps/s).")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="toy sizes on the CPU: check the code paths, write nothing")
    p.add_argument("--finer-steps", type=int, default=1000, help="steps of the FINER protocol (paper: 5000)")
    p.add_argument("--finer-images", type=int, default=8, help="DIV2K images of the FINER protocol (default 8)")
    p.add_argument("--fern-minutes", type=float, default=4.0, help="budget of each fern run (default 4)")
    p.add_argument("--parts", default="all",
                   help="comma-separated subset of: tests,siren,finer,hashgrid,many,lego,rktv,fern")
    p.add_argument("--json", type=Path, default=None, help="raw numbers to this file (default docs/gpu_suite.json)")
    p.add_argument("--merge", type=Path, nargs="+", default=None,
                   help="no measuring: merge these JSONs of earlier partial runs into the docs")
    p.add_argument("--note", default="", help="with --merge: a paragraph added to the docs section")
    args = p.parse_args(argv)
    if args.merge:
        runs = [json.loads(f.read_text()) for f in args.merge]
        s = Suite(torch.device("cpu"), True, None)
        s.results = {"device": runs[0]["device"], "torch": runs[0]["torch"], "machine": runs[0].get("machine"), "parts": {},
                     "commands": [r.get("command", "?") for r in runs]}
        for r in runs:
            s.results["parts"].update(r["parts"])
        (DOCS / "gpu_suite.json").write_text(json.dumps(s.results, indent=1, default=float))
        text = report(s) + (f"\n{args.note}\n" if args.note else "")
        print(text)
        write_section("gpu_suite", "GPU suite (make bench-gpu)", text)
        return 0
    if not args.smoke and not torch.cuda.is_available():
        print("gpu_suite: no CUDA device here; nothing measured (run `make bench-gpu` on a machine with a GPU)")
        return 0
    device = torch.device("cpu") if args.smoke else torch.device("cuda")
    out = None if args.smoke else (args.json or DOCS / "gpu_suite.json")
    s = Suite(device, args.smoke, out)
    s.results["machine"] = machine_description()
    s.results["command"] = "python benchmarks/gpu_suite.py " + " ".join(argv if argv is not None else sys.argv[1:])
    parts = {"tests": ("gpu_tests", lambda: gpu_tests(s)), "siren": ("siren_speed", lambda: siren_speed(s)),
             "finer": ("finer_protocol", lambda: finer_protocol(s, args.finer_steps, args.finer_images)),
             "hashgrid": ("hashgrid_to_30db", lambda: hashgrid_to_30db(s)),
             "many": ("fit_many_throughput", lambda: fit_many_throughput(s)),
             "lego": ("lego_pose", lambda: lego_pose(s)), "rktv": ("rktv", lambda: rktv(s)),
             "fern": ("fern_pose", lambda: fern_pose(s, args.fern_minutes))}
    chosen = list(parts) if args.parts == "all" else args.parts.split(",")
    for key in chosen:
        if key not in parts:
            print(f"gpu_suite: unknown part {key!r}; choose from {', '.join(parts)}")
            return 2
        s.part(*parts[key])
    text = report(s)
    print(text)
    if not args.smoke and args.json is None:
        write_section("gpu_suite", "GPU suite (make bench-gpu)", text)
        print(f"wrote docs/benchmarks.md (section gpu_suite) and {out}")
    failed = [k for k, v in s.results["parts"].items() if "error" in v]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
