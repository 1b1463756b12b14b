"""Issue 33: does `rankfield fit-scene DATA` (init = the file's poses, se3) make good poses worse?

Mirrors the CLI's configuration for a Blender folder (quick field, 480 rays, 24 samples, field LR 3e-3 -> 1e-4,
pose LR 3e-3 -> 1e-4) and varies the pose schedule. Prints the Sim(3)-aligned and the relative rotation of the
estimated poses against the file's, the centre distance and the test PSNR beside a fixed-pose run.

    python benchmarks/dev/file_poses_exp.py data/scene 300,3000 VARIANT [VARIANT ...]

VARIANT: fixed | seed=N | base | warmup=N | lr=X | prior=L | noise=S (the file's poses perturbed by BARF's world-side
noise of sigma S, seed 11: does the prior still let real errors be corrected?), comma-joined
"""
import json
import sys
import time

import torch

from rankfield.nerf import load_blender, perturb_poses_barf
from rankfield.nerf.pipeline import default_configs, fit_pose_nerf
from rankfield.nerf.render import RenderConfig
from rankfield.nerf.train import TrainConfig

torch.set_num_threads(2)
root, steps_list, variants = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3:]
train, test = load_blender(root, "train"), load_blender(root, "test")
field_cfg, warp_cfg = default_configs(train, quick=True)
for steps in steps_list:
    for v in variants:
        opts = dict(kv.split("=") for kv in v.split(",") if "=" in kv)
        model = "fixed" if "fixed" in v.split(",") else "se3"
        cfg = TrainConfig(steps=steps, rays_per_step=480, render=RenderConfig(n_samples=24), lr_field=3e-3,
                          lr_field_end=1e-4, lr_pose=float(opts.get("lr", 3e-3)),
                          lr_pose_end=min(1e-4, float(opts.get("lr", 3e-3))), pose_warmup=int(opts.get("warmup", 0)),
                          schedule_steps=int(opts["schedule"]) if "schedule" in opts else None,
                          pose_prior=float(opts.get("prior", 0.0)), seed=int(opts.get("seed", 0)), progress=False)
        init = train.poses.clone()
        if "noise" in opts:
            init = perturb_poses_barf(train.poses, float(opts["noise"]), seed=11)
        t0 = time.perf_counter()
        res = fit_pose_nerf(train, test, init, model, field_config=field_cfg, warp_config=warp_cfg,
                            train_config=cfg, device="cpu", seed=int(opts.get("seed", 0)), pose_curve_every=max(10, steps // 10 // 10 * 10))
        m = res.metrics
        row = {"steps": steps, "variant": v, "init_rot": round(m["initial_rotation_deg"], 3), "rot": round(m["rotation_deg"], 3),
               "rel_rot": round(m["relative_rotation_deg"], 3), "centre": round(m["centre_distance"], 4),
               "test_psnr": round(m["test_psnr"], 2), "test_psnr_unrefined": round(m.get("test_psnr_unrefined", m["test_psnr"]), 2), "max_rel_rot_curve": round(max(m["pose_curve"]["relative_rotation_deg"]), 3),
               "seconds": round(time.perf_counter() - t0, 1)}
        print(json.dumps(row), flush=True)
