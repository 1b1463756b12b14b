import sys, time, json, torch
from pathlib import Path
from rankfield.inr import CoordinateMLP, FitConfig, fit_image, load_image, stable_rank
files = sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))
img = load_image(files[7], size=64)   # dev image: not one of the benchmark's first images
rows = []
def run(**kw):
    m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="sine", seed=3, **kw)
    r = fit_image(img, m, FitConfig(steps=1000, lr=5e-4, progress=False))
    return r.metrics["psnr"]
for k in (1, 2, 4, 8):
    plain = run(linear="lowrank", rank=k)
    row = {"k": k, "lowrank": plain}
    for om in (10, 30, 100, 300, 1000):
        row[om] = run(linear="sine_lowrank", rank=k, sine_omega=float(om))
    rows.append(row); print(json.dumps(row), flush=True)
print("dense", run(), flush=True)
