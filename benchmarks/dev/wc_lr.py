"""Dev experiment (issue 14, weight conditioning): does WC let a network train at higher learning rates?
DIV2K #7 at 64 px, 3x128, 1000 Adam steps, cosine to lr/10; seed 3."""
import json
from pathlib import Path
from rankfield.inr import CoordinateMLP, FitConfig, fit_image, load_image
img = load_image(sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))[7], size=64)
for name, kw in (("ReLU+PE", dict(activation="relu", encoding="positional")), ("SIREN", dict(activation="sine"))):
    for lr in (3e-4, 1e-3, 3e-3, 1e-2):
        row = {"model": name, "lr": lr}
        for wc in (False, True):
            extra = dict(linear="conditioned", outer_linear="conditioned") if wc else {}
            m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, seed=3, **kw, **extra)
            try:
                r = fit_image(img, m, FitConfig(steps=1000, lr=lr, progress=False))
                row["wc" if wc else "plain"] = round(r.metrics["psnr"], 2)
            except Exception as exc:
                row["wc" if wc else "plain"] = type(exc).__name__
        print(json.dumps(row), flush=True)
