"""Dev experiment for issue 14: can ANY first-layer-only init close the gap to PE? Two bounds (2026-11-25).

Part ``erank`` (no fitting): the largest effective rank of first-layer ReLU features ``relu(W x + b)`` that
gradient ascent finds over ALL first-layer parameters (width 128, the 128x128 pixel grid of [-1, 1]^2), started
from the default init, from REI and from the hat-basis first layer; next to PE's first-layer features.

Part ``fit`` (dev images DIV2K #7 and #5, 128 px, 3x128, 2000 full-batch Adam steps, lr 1e-3, seed 3):
  maxerank   the erank-maximised first layer as init (does a higher effective rank of Z0 help?)
  oracle     the first layer of a REI net already trained for 2000 steps on this image, the rest re-initialised
             (the best first layer for this image that training itself finds), then 2000 steps
  pe_d1/d2   ReLU + PE with 1 / 2 hidden layers: what a net whose first two layers are spent building an
             encoding (the hat-basis init, ours) can at best reach, if the encoding were PE itself
  hats_d3    the hat-basis init (reference, same run)

Usage: python benchmarks/dev/rei_bound_exp.py erank        |   python benchmarks/dev/rei_bound_exp.py fit 7,5
"""
import json, sys, torch
from pathlib import Path
from rankfield.inr import (CoordinateMLP, FitConfig, fit_image, load_image, layer_features, effective_rank,
                           image_coordinates)

X = image_coordinates(128, 128).reshape(-1, 2).to(torch.float64)


def erank_t(z):
    s = torch.linalg.svdvals(z)
    p = s / s.sum()
    return torch.exp(-(p * (p + 1e-300).log()).sum())


def maximise_erank(w, b, steps=1500, lr=1e-2):
    w = w.detach().clone().to(torch.float64).requires_grad_(True)
    b = b.detach().clone().to(torch.float64).requires_grad_(True)
    opt = torch.optim.Adam([w, b], lr=lr)
    best = (0.0, None, None)
    for i in range(steps):
        e = erank_t(torch.relu(X @ w.T + b))
        if e.item() > best[0]:
            best = (e.item(), w.detach().clone(), b.detach().clone())
        opt.zero_grad()
        (-e).backward()
        opt.step()
    return best


def relu_net(init="default"):
    return CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu", init=init, seed=3)


def start_points():
    return {"default": relu_net(), "rei": relu_net("rank_expanding"), "hat_first_layer": relu_net("hat_basis")}


def fit(img, m, steps=2000):
    r = fit_image(img, m, FitConfig(steps=steps, lr=1e-3, log_every=500, progress=False))
    return r


if __name__ == "__main__":
    part = sys.argv[1]
    if part == "erank":
        pe = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu", encoding="positional", seed=3)
        print(json.dumps({"pe_z0": round(effective_rank(layer_features(pe, X.float())[0]), 1)}), flush=True)
        for name, m in start_points().items():
            lin = m.linears[0]
            e0 = erank_t(torch.relu(X @ lin.weight.double().T + lin.bias.double())).item()
            e, w, b = maximise_erank(lin.weight, lin.bias)
            torch.save({"w": w, "b": b}, f"/tmp/maxerank_{name}.pt")
            print(json.dumps({"start": name, "erank_start": round(e0, 1), "erank_max": round(e, 1)}), flush=True)
    else:
        files = sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))
        for ii in [int(i) for i in sys.argv[2].split(",")]:
            img = load_image(files[ii], size=128)[..., :3]
            runs = []
            m = relu_net("rank_expanding")
            st = torch.load("/tmp/maxerank_rei.pt")
            with torch.no_grad():
                m.linears[0].weight.copy_(st["w"].float()); m.linears[0].bias.copy_(st["b"].float())
            runs.append(("maxerank", m))
            trained = relu_net("rank_expanding")
            r0 = fit(img, trained)
            m = relu_net("rank_expanding")
            with torch.no_grad():
                m.linears[0].weight.copy_(trained.linears[0].weight); m.linears[0].bias.copy_(trained.linears[0].bias)
            print(json.dumps({"image": ii, "kind": "rei (the oracle's first run)", "psnr": round(r0.metrics["psnr"], 2)}), flush=True)
            runs.append(("oracle", m))
            for d in (1, 2):
                runs.append((f"pe_d{d}", CoordinateMLP(in_features=2, out_features=3, width=128, depth=d, activation="relu",
                                                       encoding="positional", seed=3)))
            runs.append(("hats_d3", relu_net("hat_basis")))
            for kind, m in runs:
                z0 = layer_features(m, X.float())[0]
                r = fit(img, m)
                print(json.dumps({"image": ii, "kind": kind, "erank_z0": round(effective_rank(z0), 1),
                                  "psnr": round(r.metrics["psnr"], 2),
                                  "curve": {s: round(q, 2) for s, q in zip(r.history["step"], r.history["psnr"])}}), flush=True)
