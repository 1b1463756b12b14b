"""Development timing (issue 33): training steps per second of se(3) on lego_100 for several samplings of a ray,
timed side by side in one process (each: 20 warm-up steps, then --steps steps; the variants alternate, --repeats
rounds, median). Answers what a sampling costs on this machine now, where figures from separate runs on a shared
CPU do not compare.

    .venv/bin/python benchmarks/dev/render_cost.py --threads 2          # 24 | 16 + 24 | 40 | 64
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from rankfield.nerf import RadianceField, RenderConfig, SE3Refinement, load_blender, perturb_poses_barf, train_scene
from rankfield.nerf.pipeline import default_configs
from rankfield.nerf.train import CPU_PROTOCOL

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "lego_100"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="*", default=["24", "16+24", "40", "64"], help="N or N+M (M importance samples)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    train = load_blender(DATA, "train")
    init = perturb_poses_barf(train.poses, 0.15, seed=7)
    field_cfg, _ = default_configs(train, quick=True)
    renders = {v: RenderConfig(n_samples=int(v.split("+")[0]), n_importance=int(v.split("+")[1]) if "+" in v else 0,
                               white_background=True) for v in a.variants}
    times = {v: [] for v in a.variants}
    for _ in range(a.repeats):
        for v, render in renders.items():
            cfg = replace(CPU_PROTOCOL, render=render, steps=a.steps, progress=False, log_every=a.steps,
                          checkpoint_every=0)
            field, pm = RadianceField(field_cfg), SE3Refinement(init)
            train_scene(train, field, pm, replace(cfg, steps=20))
            t0 = time.perf_counter()
            train_scene(train, field, pm, cfg)
            times[v].append(time.perf_counter() - t0)
    base = statistics.median(times[a.variants[0]])
    for v in a.variants:
        med = statistics.median(times[v])
        print(json.dumps({"samples": v, "threads": a.threads, "ms/step": round(1000 * med / a.steps, 2),
                          "vs first": round(med / base, 2), "runs_s": [round(t, 2) for t in times[v]]}), flush=True)


if __name__ == "__main__":
    main()
