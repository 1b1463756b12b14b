import json
from pathlib import Path
from rankfield.inr import CoordinateMLP, FitConfig, fit_image, load_image
img = load_image(sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))[7], size=64)
for name, kw in (("ReLU+PE", dict(activation="relu", encoding="positional")), ("SIREN", dict(activation="sine"))):
    for lr in (1e-3, 3e-3):
        row = {"model": name, "lr": lr}
        for label, extra in (("frozen_row", dict(conditioning_recompute=False)),
                             ("frozen_rowcol", dict(conditioning_recompute=False, conditioning="rowcol"))):
            m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, seed=3, linear="conditioned",
                              outer_linear="conditioned", **kw, **extra)
            r = fit_image(img, m, FitConfig(steps=1000, lr=lr, progress=False))
            row[label] = round(r.metrics["psnr"], 2)
            h = r.history
        print(json.dumps(row), flush=True)
