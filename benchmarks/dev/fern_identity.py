"""Development runs: LLFF fern from identity poses (the benchmark's seed is 0; these runs use --seed 1+).

    .venv/bin/python benchmarks/dev/fern_identity.py --model se3 --steps 3000 --seed 1

Prints one JSON line per run: settings, pose errors (Sim(3)-aligned, BARF's metric) every --every steps,
the gauge-free relative rotation error (``relative_rotation_errors``: R_i^T R_j against GT, mean over pairs), the
spread of the estimated camera centres against GT's (after the Sim(3) scale), final errors, seconds.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import replace
from pathlib import Path

import torch

from rankfield.nerf import RenderConfig, TrainConfig, fit_pose_nerf, identity_poses, load_llff
from rankfield.nerf.evaluate import pose_errors, relative_rotation_errors
from rankfield.nerf.pipeline import default_configs

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "fern"


def spread(c: torch.Tensor) -> float:
    return float((c - c.mean(0)).norm(dim=-1).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="se3")
    ap.add_argument("--factor", type=int, default=16)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rays", type=int, default=480)
    ap.add_argument("--samples", type=int, default=24)
    ap.add_argument("--frames", type=int, default=None)
    ap.add_argument("--lr-pose", type=float, default=3e-3)
    ap.add_argument("--lr-pose-end", type=float, default=None)
    ap.add_argument("--lr-field", type=float, default=3e-3)
    ap.add_argument("--lr-field-end", type=float, default=1e-4)
    ap.add_argument("--near", type=float, default=None)
    ap.add_argument("--far", type=float, default=None)
    ap.add_argument("--bound", type=float, default=None)
    ap.add_argument("--width", type=int, default=None)
    ap.add_argument("--depth", type=int, default=None)
    ap.add_argument("--frequencies", type=int, default=None)
    ap.add_argument("--dir-frequencies", type=int, default=None)
    ap.add_argument("--field-c2f", type=float, nargs=2, default=None)
    ap.add_argument("--no-c2f", action="store_true", help="every PE band open from the start")
    ap.add_argument("--warmup", type=int, default=0)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--skip", type=int, default=None)
    ap.add_argument("--encoding", default=None, choices=["positional", "hashgrid"])
    ap.add_argument("--minutes", type=float, default=None, help="set --steps from a timed probe to fill this budget")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--init", default="identity", choices=["identity", "gt"])
    ap.add_argument("--focal-scale", type=float, default=1.0, help="multiply the focal length (a check)")
    ap.add_argument("--pose-eps", type=float, default=None,
                    help="Adam's eps of the se(3) pose parameters (default torch's 1e-8): a large eps makes small, "
                         "noisy pose gradients take small steps (dev only: patches torch.optim.Adam here)")
    ap.add_argument("--grad-probe", action="store_true", help="print the RMS of the pose gradient at each probe")
    ap.add_argument("--anneal-dirs", action="store_true", help="FieldConfig.anneal_directions (BARF)")
    ap.add_argument("--opaque-far", action="store_true", help="RenderConfig.opaque_far (BARF)")
    ap.add_argument("--schedule-steps", type=int, default=None, help="TrainConfig.schedule_steps (BARF: 200000)")
    ap.add_argument("--pose-prior", type=float, default=0.0)
    ap.add_argument("--motion-scale", type=float, default=1.0,
                    help="--init gt: scale every camera's rotation (about the recentred mean pose, the identity) "
                         "and centre offset by this factor (the contraction mode of bas_relief.py)")
    ap.add_argument("--scale-rotations-only", action="store_true", help="--motion-scale leaves the centres alone")
    ap.add_argument("--start-log", type=Path, default=None,
                    help="start from the final poses of a run of this script: a log file and --start-tag")
    ap.add_argument("--start-tag", default=None, help="the tag of the run in --start-log whose final poses to start from")
    ap.add_argument("--freeze-translation", action="store_true",
                    help="se3: only the rotation part [w] of each twist moves (the translation part v stays 0)")
    ap.add_argument("--identity-rotations", action="store_true",
                    help="start from GT camera centres with every rotation set to the identity")
    ap.add_argument("--pose-ramp", type=int, default=0,
                    help="the pose LR rises linearly from ~0 to --lr-pose over this many steps (poses free from step 0; "
                         "dev only: patches the engine's Optim.scheduled for the se(3) twists)")
    ap.add_argument("--tag", default="")
    a = ap.parse_args()
    if a.pose_ramp:
        from rankfield import _engine
        scheduled = _engine.Optim.scheduled.__func__

        def ramped(cls, optimizer, *args, **kwargs):
            o = scheduled(cls, optimizer, *args, **kwargs)
            if any(p.dim() == 2 and p.shape[-1] == 6 for g in optimizer.param_groups for p in g["params"]):
                f = o.scheduler.lr_lambdas[0]
                o.scheduler.lr_lambdas[0] = lambda s: f(s) * min(1.0, (s + 1) / a.pose_ramp)
                for g, base in zip(optimizer.param_groups, o.scheduler.base_lrs):
                    g["lr"] = base * o.scheduler.lr_lambdas[0](0)
            return o
        _engine.Optim.scheduled = classmethod(ramped)
    if a.pose_eps is not None:
        adam = torch.optim.Adam

        class PoseEpsAdam(adam):  # the se(3) twists are the only (N, 6) parameter
            def __init__(self, params, *args, **kwargs):
                params = list(params)
                if any(p.dim() == 2 and p.shape[-1] == 6 for p in params):
                    kwargs["eps"] = a.pose_eps
                super().__init__(params, *args, **kwargs)
        torch.optim.Adam = PoseEpsAdam
    if a.freeze_translation:
        from rankfield.nerf import poses as _poses
        _init = _poses.SE3Refinement.__init__

        def _init_rot_only(self, *args, **kwargs):
            _init(self, *args, **kwargs)
            mask = torch.tensor([1.0, 1, 1, 0, 0, 0], device=self.xi.device)  # twists are [w, v]
            self.xi.register_hook(lambda g: g * mask)
        _poses.SE3Refinement.__init__ = _init_rot_only
    torch.set_num_threads(a.threads)
    if a.device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True  # dev runs only: TF32 matrix products on the GPU
    train = load_llff(a.data, factor=a.factor)
    if a.focal_scale != 1.0:
        c = train.intrinsics
        train.intrinsics = type(c)(c.fx * a.focal_scale, c.fy * a.focal_scale, c.cx, c.cy, c.width, c.height)
    start = identity_poses(len(train)) if a.init == "identity" else train.poses.clone()
    if a.start_log is not None:
        rows = [json.loads(line) for line in a.start_log.read_text().splitlines() if '"poses"' in line]
        row = next(r for r in rows if r.get("tag") == a.start_tag)
        loaded = torch.tensor(row["poses"], dtype=start.dtype).reshape(len(start), -1, 4)
        start = start.clone()
        start[:, :loaded.shape[1]] = loaded
    if a.identity_rotations:
        start = start.clone()
        start[:, :3, :3] = torch.eye(3, dtype=start.dtype)
    if a.motion_scale != 1.0:
        from rankfield.nerf.geometry import so3_exp, so3_log
        start = start.clone()
        start[:, :3, :3] = so3_exp(a.motion_scale * so3_log(start[:, :3, :3]))
        if not a.scale_rotations_only:
            start[:, :3, 3] = a.motion_scale * start[:, :3, 3]
    if a.near is not None:
        train.near = a.near
    if a.far is not None:
        train.far = a.far
    fcfg, wcfg = default_configs(train, quick=True)
    for name, val in (("width", a.width), ("depth", a.depth), ("n_frequencies", a.frequencies),
                      ("dir_frequencies", a.dir_frequencies), ("bound", a.bound), ("skip", a.skip),
                      ("encoding", a.encoding)):
        if val is not None:
            fcfg = replace(fcfg, **{name: val})
    if a.field_c2f is not None:
        fcfg = replace(fcfg, coarse_to_fine=tuple(a.field_c2f))
    if a.no_c2f:
        fcfg = replace(fcfg, coarse_to_fine=None)
    if a.anneal_dirs:
        fcfg = replace(fcfg, anneal_directions=True)
    def make_cfg(steps):
        return TrainConfig(steps=steps, rays_per_step=a.rays, frames_per_step=a.frames, lr_field=a.lr_field,
                           lr_field_end=a.lr_field_end, lr_pose=a.lr_pose, lr_pose_end=a.lr_pose_end,
                           pose_warmup=a.warmup, render=RenderConfig(n_samples=a.samples, opaque_far=a.opaque_far,
                                                                     inverse_depth=True),
                           schedule_steps=a.schedule_steps, pose_prior=a.pose_prior, progress=False,
                           log_every=50, seed=a.seed)
    deadline = None
    if a.minutes:
        sync = (lambda: torch.cuda.synchronize()) if a.device.startswith("cuda") else (lambda: None)
        for n in (10, 60):  # the first call warms up; the second is timed
            sync()
            t0 = time.perf_counter()
            fit_pose_nerf(train, None, identity_poses(len(train)), a.model, field_config=fcfg, warp_config=wcfg,
                          train_config=make_cfg(n), seed=a.seed, device=a.device, test_time_refine=0)
            sync()
        a.steps = int(a.minutes * 60 * 0.9 / ((time.perf_counter() - t0) / 60)) // 100 * 100
        deadline = time.perf_counter() + a.minutes * 60 * 1.15
        print(json.dumps({"probe_steps": a.steps}), flush=True)
    cfg = make_cfg(a.steps)
    gt = train.poses
    curve = []

    def probe(trainer, record):
        if deadline is not None and time.perf_counter() > deadline:
            trainer.request_stop()
        if trainer.step % a.every == 0:
            est = trainer.modules["pose_model"].poses().cpu()
            e = pose_errors(est, gt)
            curve.append({"step": trainer.step, "rot": round(e["rotation_deg_mean"], 2),
                          "trans100": round(100 * e["translation_mean"], 2), "rel_rot": round(e["relative_rotation_deg_mean"], 2),
                          "spread_ratio": round(e["sim"].s * spread(est[:, :3, 3]) / spread(gt[:, :3, 3]), 3),
                          "raw_spread": round(spread(est[:, :3, 3]), 4), "psnr": round(record["psnr"], 2)})
            if a.grad_probe:
                g = [p.grad for p in trainer.modules["pose_model"].parameters() if p.grad is not None]
                curve[-1]["pose_grad_rms"] = float(torch.cat([x.flatten() for x in g]).pow(2).mean().sqrt()) if g else None
            print(json.dumps(curve[-1]), flush=True)

    t0 = time.perf_counter()
    res = fit_pose_nerf(train, None, start, a.model, field_config=fcfg, warp_config=wcfg,
                        train_config=cfg, seed=a.seed, device=a.device, callbacks=[probe], test_time_refine=0)
    m = res.metrics
    est = res.pose_model.poses().cpu()
    print(json.dumps({"tag": a.tag, **{k: v for k, v in vars(a).items() if k not in ("tag", "data")},
                      "data": str(a.data), "near": train.near, "far": train.far, "bound": fcfg.bound,
                      "rot": round(m["rotation_deg"], 3), "trans100": round(100 * m["translation"], 3),
                      "rel_rot": round(float(relative_rotation_errors(est, gt).mean()), 3), "gt_raw_spread": round(spread(gt[:, :3, 3]), 4),
                      "psnr_last100": round(m["train_psnr_last100"], 2), "poses": [[round(x, 5) for x in p.flatten().tolist()] for p in est], "seconds": round(time.perf_counter() - t0, 1)}),
          flush=True)


if __name__ == "__main__":
    main()
