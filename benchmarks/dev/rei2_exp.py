"""Dev experiment for issue 14: a TWO-layer rank-expanding init (ours), on dev images (DIV2K #5, #7), 128 px, 2000 steps.

Layer 1: ReLU ramps along each input axis with kinks on a regular grid (spacing h = 2/G). Layer 2: each unit's
pre-activation is a chosen piecewise-linear function of one coordinate with kinks on that grid, written exactly as a
combination of the ramps (slope changes as weights, value at the left edge as bias). Variants of the layer-2 basis:
  fs     hierarchical hats (Faber-Schauder basis), levels 0..L, per axis
  hat    single-scale hats at the finest level
  tri    triangle waves of frequency 1..2^L with two phases (a triangle-wave PE), rest default
Every layer-2 feature is scaled to RMS 1 on the box. Layers after the second keep their default init.
"""
import json, math, sys, torch
from pathlib import Path
from rankfield.inr import (CoordinateMLP, FitConfig, fit_image, load_image, layer_features, effective_rank,
                           numerical_rank, image_coordinates)

def pl_to_weights(fn, t):
    """Ramp weights c (len G) and bias b with sum_j c_j relu(s - t_j) + b == the PL interpolant of fn on the grid."""
    # evaluate the PL function at the grid t and at t_G = 1; slopes between consecutive grid points
    tt = torch.cat([t, torch.tensor([1.0], dtype=t.dtype)])
    g = fn(tt)
    m = (g[1:] - g[:-1]) / (tt[1:] - tt[:-1])
    c = torch.cat([m[:1], m[1:] - m[:-1]])
    return c, g[0]

def two_layer_init(model, variant, G=64, L=5, seed=0, slope=1.0):
    D = model.linears[0].weight.shape[0]
    p = model.linears[0].weight.shape[1]
    per = D // p
    h = 2.0 / per
    t = -1 + h * torch.arange(per, dtype=torch.float64)
    W0 = torch.zeros(D, p, dtype=torch.float64); b0 = torch.zeros(D, dtype=torch.float64)
    for a in range(p):
        W0[a * per:(a + 1) * per, a] = slope
        b0[a * per:(a + 1) * per] = -t * slope
    funcs = []  # (axis, nodes, values)
    for a in range(p):
        if variant == "fs":
            for l in range(0, 64):
                w = 1.0 / 2 ** l
                if w < h - 1e-12: break
                for i in range(2 ** l):
                    cen = -1 + (2 * i + 1) * w
                    funcs.append((a, lambda x, cen=cen, w=w: (1 - (x - cen).abs() / w).clamp(min=0)))
        elif variant == "hat":
            for i in range(1, per + 1):
                cen = -1 + h * i
                funcs.append((a, lambda x, cen=cen, w=h: (1 - (x - cen).abs() / w).clamp(min=0)))
        elif variant == "tri":
            for l in range(L + 1):
                f = 2 ** l
                P = 2.0 / f
                for shift in (0.0, P / 4):
                    if shift > 0 and shift < h - 1e-12: continue
                    funcs.append((a, lambda x, P=P, sh=shift: 1 - (2 * torch.remainder(x + 1 + sh, P) / P - 1).abs()))
    D1 = model.linears[1].weight.shape[0]
    funcs = funcs[:D1]
    W1 = model.linears[1].weight.detach().clone().to(torch.float64); b1 = model.linears[1].bias.detach().clone().to(torch.float64)
    s = torch.linspace(-1, 1, 2001, dtype=torch.float64)
    for k, (a, fn) in enumerate(funcs):
        c, b = pl_to_weights(fn, t)
        c = c / slope
        g = torch.relu(s[:, None] - t).matmul(c) + b
        rms = g.pow(2).mean().sqrt()
        W1[k].zero_(); W1[k, a * per:(a + 1) * per] = c / rms; b1[k] = b / rms
    with torch.no_grad():
        model.linears[0].weight.copy_(W0); model.linears[0].bias.copy_(b0)
        model.linears[1].weight.copy_(W1); model.linears[1].bias.copy_(b1)
    return len(funcs)

if __name__ == "__main__":
    files = sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))
    X = image_coordinates(128, 128).reshape(-1, 2)
    variants = sys.argv[1].split(",") if len(sys.argv) > 1 else ["fs", "hat", "tri"]
    imgs = [int(i) for i in sys.argv[2].split(",")] if len(sys.argv) > 2 else [7]
    for ii in imgs:
        img = load_image(files[ii], size=128)[..., :3]
        for v in variants:
            if v == "pe":
                m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu", encoding="positional", seed=3)
                n = 0
            else:
                m = CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="relu",
                                  init="rank_expanding" if v == "rei" else "default", seed=3)
                base, _, sl = v.partition("@")
                n = two_layer_init(m, base, slope=float(sl or 1)) if v not in ("rei", "default") else 0
            zs = layer_features(m, X)
            er = [round(effective_rank(z), 1) for z in zs[:2]]
            r = fit_image(img, m, FitConfig(steps=2000, lr=1e-3, log_every=250, progress=False))
            curve = {s: round(q, 2) for s, q in zip(r.history["step"], r.history["psnr"])}
            print(json.dumps({"image": ii, "kind": v, "n_funcs": n, "erank_z0_z1": er, "psnr": round(r.metrics["psnr"], 2),
                              "curve": curve}), flush=True)
