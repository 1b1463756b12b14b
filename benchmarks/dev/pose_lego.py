"""Development runs of pose refinement on lego_100 with the development noise seed 7 (the benchmark uses 1).

    .venv/bin/python benchmarks/dev/pose_lego.py --model warp --steps 3000 --warp-init raw_input --coord-scale 4

Prints one JSON line per run: settings, pose errors every 500 steps, final errors, seconds.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from rankfield.nerf import RenderConfig, TrainConfig, fit_pose_nerf, load_blender, perturb_poses_barf
from rankfield.nerf.pipeline import default_configs
from rankfield.nerf.poses import default_lr_pose_end
from rankfield.nerf.geometry import so3_log

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "lego_100"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="warp")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--noise-seed", type=int, default=7)
    ap.add_argument("--noise", type=float, default=0.15, help="BARF's sigma (0: the GT control, poses start exact)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rays", type=int, default=480)
    ap.add_argument("--samples", type=int, default=24)
    ap.add_argument("--importance", type=int, default=0, help="samples a ray drawn from the first pass's weights")
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--lr-pose", type=float, default=3e-3)
    ap.add_argument("--lr-pose-end", type=float, default=None,
                    help="default: the pose model's own (se3 1e-4, warp 1e-3), as in benchmarks/pose_nerf.py")
    ap.add_argument("--lr-field", type=float, default=3e-3)
    ap.add_argument("--pose-warmup", type=int, default=0, help="steps the poses stay fixed while the field trains")
    ap.add_argument("--pose-lr-ramp", type=int, default=0, help="steps of a linear ramp of the pose LR from 0")
    ap.add_argument("--warp-init", default="default")
    ap.add_argument("--coord-scale", type=float, default=1.0)
    ap.add_argument("--rigidity", type=float, default=None)
    ap.add_argument("--warp-c2f", type=float, nargs=2, default=None)
    ap.add_argument("--no-warp-c2f", action="store_true",
                    help="every band of the warp's coupling PE open from step 0 (the authors' code, read as masking rays)")
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--depth", type=int, default=None)
    ap.add_argument("--frequencies", type=int, default=None)
    ap.add_argument("--field", default="positional", choices=["positional", "hashgrid"])
    ap.add_argument("--hash-levels", type=int, default=12)
    ap.add_argument("--hash-log2", type=int, default=15)
    ap.add_argument("--hash-interp", default="smoothstep")
    ap.add_argument("--field-c2f", type=float, nargs=2, default=None)
    ap.add_argument("--latent", type=int, default=None, help="warp code size (authors: 128)")
    ap.add_argument("--hidden", type=int, default=None, help="warp coupling hidden units (authors: 128)")
    ap.add_argument("--no-c2f", action="store_true",
                    help="every PE band of the field open from step 0 (the default since 2026-12-06; --field-c2f 0.1 0.5 = BARF)")
    ap.add_argument("--pixel-jitter", action="store_true",
                    help="rays through uniform points of their pixels (lego_100's pixels are area averages)")
    ap.add_argument("--save-poses", default=None, help="write the aligned and GT poses to this .pt file")
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train = load_blender(DATA, "train")
    test = load_blender(DATA, "test", max_frames=8)
    init = perturb_poses_barf(train.poses, a.noise, seed=a.noise_seed)
    fcfg, wcfg = default_configs(train, quick=True)
    if a.width:
        fcfg = replace(fcfg, width=a.width)
    if a.depth:
        fcfg = replace(fcfg, depth=a.depth)
    if a.frequencies:
        fcfg = replace(fcfg, n_frequencies=a.frequencies)
    if a.field == "hashgrid":
        fcfg = replace(fcfg, encoding="hashgrid", hash_levels=a.hash_levels, hash_log2_size=a.hash_log2,
                       hash_interpolation=a.hash_interp)
    if a.field_c2f is not None:
        fcfg = replace(fcfg, coarse_to_fine=tuple(a.field_c2f))
    if a.no_c2f:
        fcfg = replace(fcfg, coarse_to_fine=None)
    wcfg = replace(wcfg, init=a.warp_init, coord_scale=a.coord_scale)
    if a.latent:
        wcfg = replace(wcfg, latent_dim=a.latent)
    if a.hidden:
        wcfg = replace(wcfg, hidden=a.hidden)
    if a.rigidity is not None:
        wcfg = replace(wcfg, rigidity_weight=a.rigidity)
    if a.warp_c2f is not None:
        wcfg = replace(wcfg, coarse_to_fine=tuple(a.warp_c2f))
    if a.no_warp_c2f:
        wcfg = replace(wcfg, coarse_to_fine=None)
    cfg = TrainConfig(steps=a.steps, rays_per_step=a.rays, frames_per_step=a.frames, pixel_jitter=a.pixel_jitter,
                      lr_field=a.lr_field, lr_pose=a.lr_pose, lr_pose_end=a.lr_pose_end or default_lr_pose_end(a.model),
                      render=RenderConfig(n_samples=a.samples, n_importance=a.importance), pose_warmup=a.pose_warmup,
                      pose_lr_ramp=a.pose_lr_ramp, progress=False)
    t0 = time.perf_counter()
    res = fit_pose_nerf(train, test, init, a.model, field_config=fcfg, warp_config=wcfg, train_config=cfg,
                        seed=0, pose_curve_every=500)
    m = res.metrics
    c = m["pose_curve"]
    # BARF's translation error split in the GT camera's frame: along the optical axis (the camera's distance,
    # seen only as image magnification) and across it (image shift)
    aligned, gt = res.errors["aligned"], train.poses.double()
    t_w2c = lambda p: -(p[:, :3, :3].transpose(-1, -2) @ p[:, :3, 3:])[..., 0]  # noqa: E731
    diff = t_w2c(aligned) - t_w2c(gt)
    # the rotation error in each GT camera's frame (x right, y up, z backwards): pitch, yaw (image shifts) and roll
    axes = torch.rad2deg(so3_log(gt[:, :3, :3].transpose(-1, -2) @ aligned[:, :3, :3])).abs().median(0).values
    if a.save_poses:
        torch.save({"aligned": aligned, "gt": gt, "init": init}, a.save_poses)
    print(json.dumps({"tag": a.tag, **{k: v for k, v in vars(a).items() if k != "tag"},
                      "curve_rot": [round(x, 2) for x in c["rotation_deg"]],
                      "curve_trans100": [round(100 * x, 1) for x in c["translation"]],
                      "rot": round(m["rotation_deg"], 3), "rot_median": round(m["rotation_deg_median"], 3), "trans100": round(100 * m["translation"], 2),
                      "rot_pitch_yaw_roll_median": [round(float(x), 3) for x in axes],
                      "trans100_axial_median": round(100 * float(diff[:, 2].abs().median()), 2),
                      "trans100_lateral_median": round(100 * float(diff[:, :2].norm(dim=-1).median()), 2),
                      "trans100_median": round(100 * float(diff.norm(dim=-1).median()), 2),
                      "test_psnr": round(m["test_psnr"], 2), "train_psnr": round(m["train_psnr_last100"], 2),
                      "seconds": round(time.perf_counter() - t0, 1), "train_seconds": m["train_seconds"]}), flush=True)


if __name__ == "__main__":
    main()
