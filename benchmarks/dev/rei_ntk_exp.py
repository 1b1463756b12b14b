"""Dev experiment for issue 14: what about a net AT INIT predicts its PSNR after 2000 steps? (2026-11-25)

For each init of the 3x128 nets of ``rei_exp.py`` / ``rei2_exp.py`` / ``rei_bound_exp.py`` (seed 3) it measures, on
the 32x32 sub-grid (every 4th pixel) of the dev images DIV2K #7 and #5:
  erank_z0     effective rank of the first-layer features
  erank_ntk    effective rank of the empirical NTK of the red output (``ntk_spectrum``)
  align@k      kernel-target alignment: the fraction of the centred red channel's energy in the NTK's top-k
               eigenvectors (k = 16, 64, 256): how much of the image gradient descent can fit fast
The PSNRs to compare with are those of the logs (same image, seed, 128 px, 2000 steps).

Usage: python benchmarks/dev/rei_ntk_exp.py 7,5   (needs /tmp/maxerank_rei.pt from ``rei_bound_exp.py erank``)
"""
import json, sys, torch
from pathlib import Path
from rankfield.inr import CoordinateMLP, load_image, layer_features, effective_rank, image_coordinates
from torch.func import functional_call, jacrev, vmap


def ntk(model, coords, out=0):
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    f = lambda p, x: functional_call(model, (p, buffers), (x[None],))[0][out]
    jac = vmap(jacrev(f), in_dims=(None, 0))(params, coords)
    J = torch.cat([j.reshape(coords.shape[0], -1) for j in jac.values()], dim=1).to(torch.float64)
    return J @ J.T


def models():
    relu = lambda init="default", depth=3, **kw: CoordinateMLP(in_features=2, out_features=3, width=128, depth=depth,
                                                                activation="relu", init=init, seed=3, **kw)
    m = relu("rank_expanding")
    st = torch.load("/tmp/maxerank_rei.pt")
    with torch.no_grad():
        m.linears[0].weight.copy_(st["w"].float()); m.linears[0].bias.copy_(st["b"].float())
    return {"default": relu(), "rei": relu("rank_expanding"), "maxerank": m, "hats": relu("hat_basis"),
            "pe_d1": relu(depth=1, encoding="positional"), "pe_d2": relu(depth=2, encoding="positional"),
            "pe": relu(encoding="positional"),
            "siren": CoordinateMLP(in_features=2, out_features=3, width=128, depth=3, activation="sine", seed=3)}


if __name__ == "__main__":
    files = sorted((Path(__file__).resolve().parents[3] / "shared" / "data" / "div2k").glob("*.png"))
    X = image_coordinates(128, 128)[::4, ::4].reshape(-1, 2)
    for ii in [int(i) for i in sys.argv[1].split(",")]:
        img = load_image(files[ii], size=128)[..., :3][::4, ::4, 0].reshape(-1).to(torch.float64)
        y = img - img.mean()
        for name, m in models().items():
            K = ntk(m, X)
            ev, U = torch.linalg.eigh(K)
            ev, U = ev.flip(0).clamp(min=0), U.flip(1)
            proj = (U.T @ y) ** 2 / y.pow(2).sum()
            p = ev / ev.sum()
            p = p[p > 0]
            erank_ntk = float(torch.exp(-(p * p.log()).sum()))
            z0 = layer_features(m, X)[0]
            print(json.dumps({"image": ii, "init": name, "erank_z0": round(effective_rank(z0), 1),
                              "erank_ntk": round(erank_ntk, 1),
                              **{f"align@{k}": round(float(proj[:k].sum()), 3) for k in (16, 64, 256)}}), flush=True)
