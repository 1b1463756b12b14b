"""Development runs of the 2-D planar alignment (local protocol: known placements, sl(3) noise 0.1) on the
development seeds 0-2 (benchmarks use 100 on).

    .venv/bin/python benchmarks/dev/planar_warp.py --method warp --steps 3000 --patch-px 32 --lr-warp 3e-4

One JSON line per problem: settings, initial and final corner error (px), seconds.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

import torch

from rankfield.nerf.planar import PlanarConfig, make_planar_problem, solve_planar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="warp")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--patch-px", type=int, default=32)
    ap.add_argument("--lr-warp", type=float, default=1e-4)
    ap.add_argument("--lr-end-ratio", type=float, default=0.1)
    ap.add_argument("--warp-init", default="default")
    ap.add_argument("--homography-weight", type=float, default=100.0)
    ap.add_argument("--warp-frequencies", type=int, default=4)
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    torch.set_num_threads(2)
    cfg = replace(PlanarConfig(), steps=a.steps, lr_warp=a.lr_warp, lr_end_ratio=a.lr_end_ratio,
                  warp_init=a.warp_init, homography_weight=a.homography_weight,
                  warp_frequencies=a.warp_frequencies)
    for seed in a.seeds:
        r = solve_planar(make_planar_problem(seed=seed, patch_px=a.patch_px), a.method, cfg)
        print(json.dumps({"tag": a.tag, **{k: v for k, v in vars(a).items() if k not in ("tag", "seeds")},
                          "seed": seed, "initial_px": round(r["initial_corner_error_px"], 3),
                          "final_px": round(r["corner_error_px"], 3), "psnr": round(r["psnr"], 2),
                          "seconds": round(r["seconds"], 1)}), flush=True)


if __name__ == "__main__":
    main()
