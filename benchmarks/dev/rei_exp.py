"""Dev experiment for issue 14 (REI): candidates on a dev image (DIV2K #7, not the benchmark's), 128 px, 2000 steps."""
import json, torch
from pathlib import Path
from rankfield.inr import (CoordinateMLP, FitConfig, fit_image, load_image, layer_features, effective_rank,
                           numerical_rank, image_coordinates)
from rankfield.inr.init import rank_expanding_init_
files = sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))
img = load_image(files[7], size=128)
X = image_coordinates(128, 128).reshape(-1, 2)

def model(kind, **kw):
    m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu",
                      init="rank_expanding" if kind.startswith("rei") else "default", seed=3, **kw)
    lin = m.linears[0]
    with torch.no_grad():
        if kind == "anchored":  # C1: default directions, kinks through points drawn uniformly in the box
            g = torch.Generator().manual_seed(5)
            c = torch.rand(lin.weight.shape[0], 2, generator=g) * 2 - 1
            lin.bias.copy_(-(lin.weight * c).sum(1))
        if kind.startswith("rei_x"):  # REI with every first-layer feature scaled by a factor
            f = float(kind[5:])
            lin.weight.mul_(f); lin.bias.mul_(f)
    return m

cands = ["default", "anchored", "rei", "rei_x0.3", "rei_x3", "rei_x10"]
for kind in cands + ["pe"]:
    m = model(kind) if kind != "pe" else CoordinateMLP(in_features=2, out_features=3, width=128, depth=3,
                                                         activation="relu", encoding="positional", seed=3)
    z0 = layer_features(m, X)[0]
    er0, nr0 = effective_rank(z0), numerical_rank(z0)
    r = fit_image(img, m, FitConfig(steps=2000, lr=1e-3, log_every=250, progress=False))
    z0t = layer_features(m, X)[0]
    curve = {s: round(p, 2) for s, p in zip(r.history["step"], r.history["psnr"])}
    print(json.dumps({"kind": kind, "erank0": round(er0, 1), "nrank0": nr0, "erank_trained": round(effective_rank(z0t), 1),
                      "psnr": round(r.metrics["psnr"], 2), "curve": curve}), flush=True)
# the generalization protocol (train on every other pixel, PSNR on the held-out ones)
for kind in ("default", "rei", "pe", "siren"):
    if kind == "pe":
        m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu", encoding="positional", seed=3)
    elif kind == "siren":
        m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="sine", seed=3)
    else:
        m = model(kind)
    r = fit_image(img, m, FitConfig(steps=2000, lr=5e-4 if kind == "siren" else 1e-3, progress=False), holdout=True)
    print(json.dumps({"holdout": kind, "train": round(r.metrics["psnr_train"], 2), "heldout": round(r.metrics["psnr_heldout"], 2)}), flush=True)
