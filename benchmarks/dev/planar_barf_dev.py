"""Development runs of the 2-D planar alignment at BARF's protocol (``make_barf_planar_problem``) on the
development seeds 0-2 (the benchmark uses 100 on), CPU-scaled like ``benchmarks/planar_barf.py``.

    .venv/bin/python benchmarks/dev/planar_barf_dev.py --method warp --lr-warp 1e-3 --tag scaling

One JSON line per problem: settings, initial and final corner error (px), the error at every 10th of the run,
seconds.
"""

from __future__ import annotations

import argparse
import json

import torch

from rankfield.nerf.planar import PlanarConfig, corner_error_px, make_barf_planar_problem, solve_planar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="warp")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--pixels", type=int, default=512)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--lr-warp", type=float, default=1e-3)
    ap.add_argument("--lr-homography", type=float, default=1e-3)
    ap.add_argument("--warp-init", default="default")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--homography-weight", type=float, default=100.0)
    ap.add_argument("--c2f", type=float, nargs=2, default=[0.0, 0.4])
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    torch.set_num_threads(2)
    cfg = PlanarConfig.barf(steps=a.steps, width=a.width, depth=a.depth, pixels_per_step=a.pixels,
                            lr_warp=a.lr_warp, lr_homography=a.lr_homography, warp_init=a.warp_init,
                            warp_scaling=not a.no_scaling, homography_weight=a.homography_weight, c2f=tuple(a.c2f))
    for seed in a.seeds:
        prob = make_barf_planar_problem(seed=seed)
        r = solve_planar(prob, a.method, cfg, record_corners=True)
        W = prob.image.shape[1]
        curve = [round(corner_error_px(torch.tensor(c), r["true_corners"], W, remove_gauge=False), 2)
                 for c in r["history"]["corners"][1::2]]
        print(json.dumps({"tag": a.tag, **{k: v for k, v in vars(a).items() if k not in ("tag", "seeds")},
                          "seed": seed, "initial_px": round(r["initial_corner_error_px"], 3),
                          "final_px": round(r["corner_error_px"], 3), "curve_px": curve, "psnr": round(r["psnr"], 2),
                          "seconds": round(r["seconds"], 1)}), flush=True)


if __name__ == "__main__":
    main()
