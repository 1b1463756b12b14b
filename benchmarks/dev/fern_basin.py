"""Issue 33, "a field that can see a degree": the photometric basin of a field trained at GT poses.

Trains a radiance field with the GT poses fixed (fern, LLFF 1/16 by default), freezes it, then turns every
training camera about its own centre by DELTA degrees (a random axis per camera, the same draws at every DELTA)
and reports the photometric MSE of a fixed pixel subset against DELTA. A field whose loss does not rise clearly
at 1 deg cannot pull the poses to 1 deg.

    .venv/bin/python benchmarks/dev/fern_basin.py --steps 3000 [--set bound=1 n_frequencies=8 ...] [--tag T]

Development settings: seed 1 (training rays, axes); the benchmark uses seed 0.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import torch

from rankfield.nerf import RenderConfig, TrainConfig, fit_pose_nerf, load_llff
from rankfield.nerf.camera import pixel_points, rays_from_poses
from rankfield.nerf.geometry import so3_exp
from rankfield.nerf.pipeline import default_configs
from rankfield.nerf.render import render_rays

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "fern"
DELTAS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def turned(c2w: torch.Tensor, deg: float, axes: torch.Tensor) -> torch.Tensor:
    """Each camera turned by ``deg`` about ``axes[i]`` (unit, camera frame) about its own centre."""
    R = so3_exp(axes * math.radians(deg))
    out = c2w.clone()
    out[:, :3, :3] = c2w[:, :3, :3] @ R
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--factor", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rays", type=int, default=480)
    ap.add_argument("--samples", type=int, default=24)
    ap.add_argument("--pixels", type=int, default=2048, help="pixels per frame in the basin probe")
    ap.add_argument("--set", nargs="*", default=[], help="FieldConfig overrides, key=value")
    ap.add_argument("--schedule-steps", type=int, default=None,
                    help="TrainConfig.schedule_steps (200000: BARF's; a short run then keeps every PE band closed)")
    ap.add_argument("--refine", type=int, default=0,
                    help="also refine the training poses from GT with the field frozen for this many steps (BARF's "
                         "test-time step, LR 1e-3) and report how far they go: is GT the frozen field's minimum?")
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    torch.set_num_threads(2)
    train = load_llff(DATA, factor=a.factor)
    fcfg, _ = default_configs(train, quick=True)
    for kv in a.set:
        k, v = kv.split("=")
        cur = getattr(fcfg, k)
        fcfg = replace(fcfg, **{k: None if v == "None" else type(cur)(float(v)) if isinstance(cur, (int, float)) and not isinstance(cur, bool) else v})
    cfg = TrainConfig(steps=a.steps, schedule_steps=a.schedule_steps, rays_per_step=a.rays, lr_field=3e-3, lr_field_end=1e-4,
                      render=RenderConfig(n_samples=a.samples), progress=False, seed=a.seed)
    t0 = time.perf_counter()
    res = fit_pose_nerf(train, None, train.poses.clone(), "fixed", field_config=fcfg, train_config=cfg, seed=a.seed,
                        device="cpu")
    train_s = time.perf_counter() - t0
    field = res.field.eval()
    rcfg = RenderConfig(n_samples=a.samples, white_background=False, inverse_depth=True)
    g = torch.Generator().manual_seed(a.seed)
    N, H, W = train.images.shape[:3]
    axes = torch.randn(N, 3, generator=g)
    axes = axes / axes.norm(dim=-1, keepdim=True)
    v = torch.randint(0, H, (N, a.pixels), generator=g)
    u = torch.randint(0, W, (N, a.pixels), generator=g)
    pts = pixel_points(train.intrinsics, torch.stack([v, u], -1).float())
    target = train.images[torch.arange(N)[:, None], v, u]
    rows = []
    with torch.no_grad():
        for deg in DELTAS:
            o, d = rays_from_poses(turned(train.poses, deg, axes), pts)
            out = render_rays(field, o.reshape(-1, 3), d.reshape(-1, 3), rcfg, train.near, train.far)
            rows.append((deg, float(((out["rgb"] - target.reshape(-1, 3)) ** 2).mean())))
    base = rows[0][1]
    refined = {}
    if a.refine:
        from rankfield.nerf.evaluate import pose_errors, refine_test_poses

        est = refine_test_poses(field, train.images, train.poses, train.intrinsics, rcfg, train.near, train.far,
                                steps=a.refine, lr=1e-3, rays=480 // N * 4, seed=a.seed)
        e = pose_errors(est[:, :3].cpu(), train.poses)
        refined = {"refine_steps": a.refine, "refined_rel_rot": round(e["relative_rotation_deg_mean"], 3),
                   "refined_rot": round(e["rotation_deg_mean"], 3)}
    print(json.dumps({"tag": a.tag, "set": a.set, "steps": a.steps, "field": fcfg.to_dict(),
                      "train_psnr_last100": round(res.metrics["train_psnr_last100"], 2),
                      "probe_psnr_at_gt": round(-10 * math.log10(base), 2),
                      "mse_ratio": {str(d): round(m / base, 3) for d, m in rows},
                      "train_seconds": round(train_s, 1), "schedule_steps": a.schedule_steps, **refined}), flush=True)


if __name__ == "__main__":
    main()
