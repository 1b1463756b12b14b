import json
from pathlib import Path
from rankfield.inr import CoordinateMLP, FitConfig, fit_image, load_image
img = load_image(sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))[7], size=64)
def run(**kw):
    m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu", encoding="positional",
                      seed=3, **kw)
    return round(fit_image(img, m, FitConfig(steps=1000, lr=1e-3, progress=False)).metrics["psnr"], 2)
for k in (1, 4):
    row = {"k": k, "lowrank": run(linear="lowrank", rank=k)}
    for om in (30, 300, 1000):
        row[om] = run(linear="sine_lowrank", rank=k, sine_omega=float(om))
    print(json.dumps(row), flush=True)
