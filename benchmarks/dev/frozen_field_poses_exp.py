"""Issue 33 control: is GT the photometric optimum of a field trained at GT poses?

Trains the CLI-sized field on a Blender folder with the poses fixed (file = GT), freezes it, then refines the
*training* poses from GT with BARF's test-time step (field frozen) and reports how far they move. If they
move by about what joint training moves them (1-1.5 deg on data/scene at 3000 steps), the pull comes from
the field's own error, not from a young field.

    .venv/bin/python benchmarks/dev/frozen_field_poses_exp.py data/scene 3000 300
"""
import json
import sys

import torch

from rankfield.nerf import load_blender
from rankfield.nerf.evaluate import pose_errors, refine_test_poses
from rankfield.nerf.pipeline import default_configs, fit_pose_nerf
from rankfield.nerf.render import RenderConfig
from rankfield.nerf.train import TrainConfig

torch.set_num_threads(2)
root, steps, refine = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
train = load_blender(root, "train")
fcfg, wcfg = default_configs(train, quick=True)
overrides = dict(kv.split("=") for kv in sys.argv[4:])
if "width" in overrides:
    from dataclasses import replace
    fcfg = replace(fcfg, width=int(overrides["width"]), depth=int(overrides.get("depth", fcfg.depth)))
samples = int(overrides.get("samples", 24))
cfg = TrainConfig(steps=steps, rays_per_step=480, render=RenderConfig(n_samples=samples), lr_field=3e-3,
                  lr_field_end=1e-4, progress=False)
res = fit_pose_nerf(train, None, train.poses.clone(), "fixed", field_config=fcfg, train_config=cfg, device="cpu")
rcfg = RenderConfig(n_samples=samples, white_background=True)
for lr in (1e-4, 1e-3):
    est = refine_test_poses(res.field.eval(), train.images, train.poses, train.intrinsics, rcfg, train.near, train.far,
                            steps=refine, lr=lr, rays=480 // len(train) * 8)
    e = pose_errors(est[:, :3].cpu(), train.poses)
    print(json.dumps({"steps": steps, "refine": refine, "lr": lr, "overrides": overrides,
                      "train_psnr_last100": round(res.metrics["train_psnr_last100"], 2),
                      "rot": round(e["rotation_deg_mean"], 3), "rel_rot": round(e["relative_rotation_deg_mean"], 3),
                      "centre": round(e["centre_distance_mean"], 4)}), flush=True)
