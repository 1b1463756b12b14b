"""Oracle-field planar registration (development seeds 0-2, BARF protocol with 60-px sampled crops): the image
field is the true image blurred by a Gaussian of BLUR pixels (bilinear), only the warps are fitted, full batch, Adam.

    .venv/bin/python benchmarks/dev/planar_oracle.py PROTO METHOD LR STEPS BLUR [INIT] [scale|noscale]

Separates registration from field fitting: with the known image the homography registers 59 -> <0.5 px
(blur 16), the shear-coupling warp stalls at 12-21 px, the scaling-coupling warp reaches 1.5-2.5 px.
Results: README.md (2-D planar alignment, BARF's protocol)."""
import sys, json, time, torch
from torch import nn
import torch.nn.functional as F
from rankfield.nerf.planar import (make_barf_planar_problem, make_planar_problem, sl3_exp, apply_homography,
                                   fit_homography_torch, corner_error_px, _sample, _CORNERS)
from rankfield.nerf.poses import InvertibleWarp
torch.set_num_threads(2)
proto, method, lr, steps, blur = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
init = sys.argv[6] if len(sys.argv) > 6 else "default"
SCALING = len(sys.argv) > 7 and sys.argv[7] == "scale"
for seed in (0, 1, 2):
    prob = (make_barf_planar_problem(seed=seed, patch_px=60) if proto == "barf" else make_planar_problem(seed=seed, patch_px=32))
    img = prob.image
    if blur > 0:
        k = int(3 * blur) * 2 + 1
        g = torch.exp(-((torch.arange(k) - k // 2) ** 2) / (2 * blur ** 2)); g = g / g.sum()
        im = img.permute(2, 0, 1)[:, None]
        im = F.conv2d(F.pad(im, (k//2, k//2, 0, 0), mode="replicate"), g.view(1, 1, 1, k))
        im = F.conv2d(F.pad(im, (0, 0, k//2, k//2), mode="replicate"), g.view(1, 1, k, 1))
        img_f = im[:, 0].permute(1, 2, 0)
    else:
        img_f = img
    K = prob.patches.shape[0]
    A = prob.placements; canvas = prob.frame == "canvas"
    uv = prob.uv[None].expand(K, -1, -1)
    target = _sample(img_f, apply_homography(prob.true_warps, uv))
    free = torch.ones(K, 1, 1); fix = canvas
    if fix: free[0] = 0
    if method == "homography":
        d = nn.Parameter(torch.zeros(K, 8)); params = [d]
        def warp(x): return apply_homography(sl3_exp(d * free[:, 0]) @ A if canvas else A @ sl3_exp(d * free[:, 0]), x)
    else:
        torch.manual_seed(0)
        net = InvertibleWarp(32, 64, 4, None, axes=(0, 1, 0, 1), dims=2, init=init, scaling=SCALING)
        codes = nn.Parameter(torch.randn(K, 32, generator=torch.Generator().manual_seed(0)))
        params = list(net.parameters()) + [codes]
        def warp(x):
            y = apply_homography(A, x); out = net(y, codes[:, None, :].expand(K, x.shape[1], -1)); return y + free * (out - y)
    opt = torch.optim.Adam(params, lr=lr)
    true_c = apply_homography(prob.true_warps, _CORNERS[None].expand(K, -1, -1))
    W = img.shape[1]
    e0 = corner_error_px(warp(_CORNERS[None].expand(K, -1, -1)).detach(), true_c, W, remove_gauge=not fix)
    t0 = time.time(); log = []
    for it in range(steps):
        xw = warp(uv)
        loss = ((_sample(img_f, xw) - target) ** 2).mean()
        opt.zero_grad(); loss.backward(); opt.step()
        if it % (steps // 5) == 0:
            with torch.no_grad():
                if method == "warp":
                    Hk = fit_homography_torch(uv, warp(uv)); ec = apply_homography(Hk, _CORNERS[None].expand(K, -1, -1))
                else:
                    ec = warp(_CORNERS[None].expand(K, -1, -1))
                log.append(round(corner_error_px(ec, true_c, W, remove_gauge=not fix), 2))
    with torch.no_grad():
        if method == "warp":
            Hk = fit_homography_torch(uv, warp(uv)); ec = apply_homography(Hk, _CORNERS[None].expand(K, -1, -1))
        else:
            ec = warp(_CORNERS[None].expand(K, -1, -1))
    e1 = corner_error_px(ec, true_c, W, remove_gauge=not fix)
    print(json.dumps(dict(scaling=SCALING if method == "warp" else None, loss=round(loss.item(), 5), proto=proto, method=method, lr=lr, blur=blur, init=init, seed=seed, e0=round(e0, 2), e1=round(e1, 2), curve=log, s=round(time.time() - t0, 1))), flush=True)
