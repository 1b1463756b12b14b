"""Benchmark of rankfield.inr.fit_many: N networks in lock-step against a Python loop of fit().

The target (scale issue): at least 5x the throughput of a loop over signals for 64 images of 64x64 with
a 3x64 SIREN, same PSNR per image. Both sides train the same networks (same seeds, same steps) in one
run, alternating, ``--repeats`` times; the table quotes medians and ratios. Throughput is signal-steps
per second (images x steps / seconds). Settings: full batch (4096 pixels a step) and mini-batches.

Images: 64x64 crops of scikit-image's bundled photographs (deterministic; no shared data needed).

CPU default (~6 min on 2 cores):  python benchmarks/fit_many.py
GPU:                              python benchmarks/fit_many.py --images 256 --width 256   (or make bench-gpu)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DOCS, markdown_table, write_section  # noqa: E402

from rankfield._device import resolve_device  # noqa: E402
from rankfield.inr import CoordinateMLP, FitConfig, MLPConfig, fit, fit_many, image_coordinates  # noqa: E402
from rankfield.inr.data import resize_image  # noqa: E402


def crops(n: int, size: int) -> torch.Tensor:
    """``n`` deterministic ``size``x``size`` crops of the bundled photographs (resized to 4*size first)."""
    from skimage import data
    names = ["astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry"]
    rng = np.random.default_rng(0)
    big = []
    for name in names:
        arr = torch.from_numpy(getattr(data, name)()[..., :3].astype(np.float32) / 255)
        big.append(resize_image(arr, 4 * size))
    out = []
    for i in range(n):
        img = big[i % len(big)]
        top = int(rng.integers(0, img.shape[0] - size + 1))
        left = int(rng.integers(0, img.shape[1] - size + 1))
        out.append(img[top:top + size, left:left + size])
    return torch.stack(out)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_case(images: torch.Tensor, mlp: MLPConfig, cfg: FitConfig, device, chunk_size, repeats: int) -> dict:
    n, H, W, C = images.shape
    x = image_coordinates(H, W).reshape(-1, 2)
    y = images.reshape(n, -1, C)
    loop_t, many_t, auto_chunk = [], [], None
    warm = FitConfig(**{**cfg.to_dict(), "steps": 2})  # first-call costs (allocator, kernels) out of the timings
    fit(CoordinateMLP(mlp), x, y[0], warm)
    fit_many([CoordinateMLP(mlp) for _ in range(2)], x, y[:2], warm)
    for _ in range(repeats):
        nets = [CoordinateMLP(mlp, seed=i) for i in range(n)]
        sync(device)
        t0 = time.perf_counter()
        loop_psnr = [fit(nets[i], x, y[i], cfg).history["psnr"][-1] for i in range(n)]
        sync(device)
        loop_t.append(time.perf_counter() - t0)
        nets = [CoordinateMLP(mlp, seed=i) for i in range(n)]
        sync(device)
        t0 = time.perf_counter()
        res = fit_many(nets, x, y, cfg, chunk_size=chunk_size)
        sync(device)
        many_t.append(time.perf_counter() - t0)
        many_psnr = [m["psnr_train"] for m in res.metrics]
    if chunk_size is None:
        from rankfield.inr.many import _default_chunk
        pts = H * W if cfg.batch_size is None else cfg.batch_size
        auto_chunk = _default_chunk(n, pts, mlp.width, device)
    tl, tm = statistics.median(loop_t), statistics.median(many_t)
    return {"loop_s": tl, "fit_many_s": tm, "speedup": tl / tm,
            "loop_signal_steps_per_s": n * cfg.steps / tl, "fit_many_signal_steps_per_s": n * cfg.steps / tm,
            "chunk_size": float(chunk_size or auto_chunk),
            "max_abs_psnr_difference_db": float(max(abs(a - b) for a, b in zip(loop_psnr, many_psnr))),
            "median_psnr_db": float(statistics.median(many_psnr)),
            "loop_times_s": loop_t, "fit_many_times_s": many_t}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--images", type=int, default=64, help="number of images (default 64)")
    p.add_argument("--size", type=int, default=64, help="image side (default 64)")
    p.add_argument("--width", type=int, default=64, help="SIREN width (default 64; depth 3)")
    p.add_argument("--steps", type=int, default=100, help="Adam steps per image (default 100)")
    p.add_argument("--batch-sizes", default="full,512", help="comma-separated: 'full' or pixels per step")
    p.add_argument("--chunks", default="auto,all", help="comma-separated fit_many chunk sizes: auto, all, or an int")
    p.add_argument("--repeats", type=int, default=3, help="alternating repeats; medians are reported (default 3)")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--no-write", action="store_true", help="do not touch docs/")
    p.add_argument("--json", default=str(DOCS / "fit_many.json"), help="where the raw numbers go")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    images = crops(args.images, args.size)
    mlp = MLPConfig(in_features=2, out_features=3, activation="sine", width=args.width, depth=3)
    rows = []
    for bs in args.batch_sizes.split(","):
        batch = None if bs == "full" else int(bs)
        cfg = FitConfig(steps=args.steps, lr=1e-3, batch_size=batch, progress=False, device=str(device), log_every=50)
        for ch in args.chunks.split(","):
            chunk = None if ch == "auto" else args.images if ch == "all" else int(ch)
            r = run_case(images, mlp, cfg, device, chunk, args.repeats)
            row = {"batch": "full" if batch is None else str(batch), "chunk": ch, **r}
            rows.append(row)
            print(f"batch {row['batch']:>5} chunk {ch:>4}: loop {r['loop_s']:.2f} s, fit_many {r['fit_many_s']:.2f} s "
                  f"-> {r['speedup']:.2f}x; |dPSNR| max {r['max_abs_psnr_difference_db']:.2e} dB", flush=True)
    cols = ["batch", "chunk", "chunk_size", "loop_s", "fit_many_s", "speedup", "fit_many_signal_steps_per_s",
            "max_abs_psnr_difference_db", "median_psnr_db"]
    table = markdown_table(rows, cols)
    print(table)
    if args.no_write:
        return 0
    best = max(r["speedup"] for r in rows)
    body = (f"{args.images} images of {args.size}x{args.size} (crops of scikit-image's photographs), a 3x{args.width} "
            f"SIREN each, {args.steps} Adam steps; a Python loop of `fit()` against `fit_many` on the same networks "
            f"(same seeds), alternating, {args.repeats} repeats, medians (seconds). `speedup` = loop time / "
            f"fit_many time; `max_abs_psnr_difference_db` compares each image's final training PSNR between "
            f"the two.\n\n{table}\n"
            f"Target: >= 5x. Best measured here: {best:.2f}x. On this CPU one 3x{args.width} SIREN step on a "
            f"full 64x64 image is already compute-bound (the loop's kernels are busy), so stacking the networks "
            f"removes little; with mini-batches the per-step Python and launch overhead dominates the loop and "
            f"the gain grows. A GPU, where a small network leaves the device idle, is where lock-step pays "
            f"(`make bench-gpu` measures it). The results are the same as the loop's (tested to float "
            f"tolerance in `tests/inr/test_many.py`).\n")
    write_section("fit_many", "fit_many: many networks in lock-step (scale)", body)
    Path(args.json).write_text(json.dumps({"settings": vars(args), "device": str(device), "rows": rows}, indent=2))
    print(f"wrote docs/benchmarks.md (section fit_many) and {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
