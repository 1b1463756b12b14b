"""Dev experiment for issue 14: the hat-basis init (ours) with only the coarse hats, the rest of the second layer at
the default init (more second-layer units left to mix), dev image DIV2K #7 (and #5), 128 px, 2000 steps, seed 3.

  hats<n>   the first n second-layer units are hats (coarse to fine, axes interleaved), the others default
Usage: python benchmarks/dev/rei3_exp.py 62,30 7
"""
import json, math, sys, torch
from pathlib import Path
from torch import nn
from rankfield.inr import CoordinateMLP, FitConfig, fit_image, load_image

files = sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))
for ii in [int(i) for i in sys.argv[2].split(",")]:
    img = load_image(files[ii], size=128)[..., :3]
    for n in [int(v) for v in sys.argv[1].split(",")]:
        m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu", init="hat_basis", seed=3)
        ref = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu", seed=3)
        with torch.no_grad():  # rows n.. of the second layer back to the default init (that of the same seed)
            m.linears[1].weight[n:].copy_(ref.linears[1].weight[n:]); m.linears[1].bias[n:].copy_(ref.linears[1].bias[n:])
        r = fit_image(img, m, FitConfig(steps=2000, lr=1e-3, log_every=500, progress=False))
        print(json.dumps({"image": ii, "kind": f"hats{n}", "psnr": round(r.metrics["psnr"], 2),
                          "curve": {s: round(q, 2) for s, q in zip(r.history["step"], r.history["psnr"])}}), flush=True)
