"""The 2-D planar alignment task (BARF §4.1, INN paper): patches of one image under unknown warps.

A canonical image lives on ``x in [-1, 1]``, ``y in [-H/W, H/W]`` (1 unit = ``W/2`` pixels). Patch ``k``
has local coordinates ``u in [-1, 1]^2``; its ground-truth warp to the canonical frame is
``G_k = A_k o exp(delta_k)`` where ``A_k`` places the patch (known: 4 quadrants + centre) and
``delta_k ~ N(0, sigma^2 I_8)`` in sl(3) is the unknown perturbation. Observed patches sample the image at
``G_k(u)``. A 2-D image field (PE with coarse-to-fine) is fitted jointly with the estimated warps:

* ``"homography"`` -- BARF: per-patch sl(3) vector (zero-init), warp ``A_k o exp(d_k)``.
* ``"warp"`` -- the invertible neural warp: ``h(A_k u; phi_k)``, a 2-D coupling network shared by all
  patches with per-patch codes (identity at init).

Corner error: the 4 corners of every patch are mapped by the estimated and the true warps; the global
gauge (the image field can absorb any common homography) is removed by a least-squares homography fit of
all estimated corners onto the true ones; the error is the mean corner distance in canonical pixels.
A problem is solved when that error is below ``success_px`` (default 2 px).

Example:
    >>> prob = make_planar_problem(seed=0, canvas=(48, 64), patch_px=12)
    >>> res = solve_planar(prob, "homography", PlanarConfig(steps=5, width=16))
    >>> res["corner_error_px"] >= 0
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rankfield._config import Config
from rankfield._device import fork_rng
from rankfield._engine import Optim, Trainer
from rankfield.errors import InputError
from rankfield.inr import PositionalEncoding
from rankfield.nerf.poses import InvertibleWarp

__all__ = ["PlanarConfig", "PlanarProblem", "make_planar_problem", "solve_planar", "sl3_exp", "apply_homography",
           "corner_error_px", "success_rate"]


def sl3_exp(h: torch.Tensor) -> torch.Tensor:
    """``(..., 8)`` sl(3) coordinates (BARF's basis) -> ``(..., 3, 3)`` homography with det 1."""
    h1, h2, h3, h4, h5, h6, h7, h8 = h.unbind(-1)
    A = torch.stack([torch.stack([h5, h3, h1], -1), torch.stack([h4, -h5 - h6, h2], -1),
                     torch.stack([h7, h8, h6], -1)], -2)
    return torch.linalg.matrix_exp(A)


def apply_homography(H: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``H (..., 3, 3)`` applied to points ``x (..., N, 2)``."""
    xh = torch.cat([x, torch.ones_like(x[..., :1])], -1) @ H.transpose(-1, -2)
    return xh[..., :2] / xh[..., 2:]


@dataclass
class PlanarProblem:
    """One alignment problem: canonical ``image (H, W, 3)``, ``placements (K, 3, 3)`` = ``A_k``, true
    perturbations ``delta (K, 8)``, observed ``patches (K, P, P, 3)``, patch grid ``uv (P*P, 2)``."""

    image: torch.Tensor
    placements: torch.Tensor
    delta: torch.Tensor
    patches: torch.Tensor
    uv: torch.Tensor

    @property
    def true_warps(self) -> torch.Tensor:
        return self.placements @ sl3_exp(self.delta)


def _sample(image: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bilinear sample canonical coordinates ``(..., 2)`` (x in [-1,1], y in [-H/W, H/W]) of ``image``."""
    H, W = image.shape[:2]
    grid = torch.stack([xy[..., 0], xy[..., 1] * W / H], -1)  # grid_sample wants both in [-1, 1]
    out = F.grid_sample(image.permute(2, 0, 1)[None], grid.reshape(1, -1, 1, 2), align_corners=False,
                        mode="bilinear", padding_mode="border")
    return out[0, :, :, 0].T.reshape(*xy.shape[:-1], image.shape[2])


def make_planar_problem(seed: int = 0, image: torch.Tensor | None = None, canvas=(96, 128), patch_px: int = 16,
                        n_patches: int = 5, sigma: float = 0.1, patch_half: float = 0.45,
                        offset: float = 0.3) -> PlanarProblem:
    """A random problem: ``image`` (default scikit-image's astronaut) resized to ``canvas`` ``(H, W)``,
    ``n_patches`` (<= 5) patches of ``patch_px`` pixels placed on the quadrants + centre, each perturbed by
    ``delta ~ N(0, sigma^2)`` in sl(3)."""
    from rankfield.inr.data import default_image, resize_image

    if not 1 <= n_patches <= 5:
        raise InputError(f"n_patches must be in 1..5, got {n_patches}")
    img = default_image(None) if image is None else image
    img = resize_image(img, tuple(canvas))
    H, W = canvas
    ay = H / W
    o = offset
    centres = [(0.0, 0.0), (-o, -o * ay), (o, -o * ay), (-o, o * ay), (o, o * ay)][:n_patches]
    A = torch.zeros(n_patches, 3, 3)
    for k, (cx, cy) in enumerate(centres):  # patches are squares of half-size patch_half * ay (fit the canvas)
        A[k] = torch.tensor([[patch_half * ay, 0, cx], [0, patch_half * ay, cy], [0, 0, 1.0]])
    gen = torch.Generator().manual_seed(seed)
    delta = torch.randn(n_patches, 8, generator=gen) * sigma
    g = (torch.arange(patch_px) + 0.5) / patch_px * 2 - 1
    vv, uu = torch.meshgrid(g, g, indexing="ij")
    uv = torch.stack([uu, vv], -1).reshape(-1, 2)
    warps = A @ sl3_exp(delta)
    pts = apply_homography(warps, uv[None].expand(n_patches, -1, -1))
    patches = _sample(img, pts).reshape(n_patches, patch_px, patch_px, -1)
    return PlanarProblem(img, A, delta, patches, uv)


@dataclass
class PlanarConfig(Config):
    """Joint fit settings.

    Attributes:
        steps: Adam steps; lr_field / lr_homography / lr_warp: learning rates of the field, the sl(3)
            vectors and the invertible warp (+ codes), each decayed x0.1 over the run.
        width, depth: image-field MLP size; n_frequencies: its PE bands (coarse-to-fine over ``c2f``).
        latent_dim, hidden, warp_frequencies: invertible warp size.
        homography_weight: weight of the warp's projective-rigidity loss (the 2-D analogue of the 3-D
            rigidity loss): residual of a differentiable least-squares homography fit per patch, whose
            result is also the patch's explicit homography estimate.
        success_px: corner error (canonical pixels) below which a problem counts as solved.
    """

    steps: int = 800
    lr_field: float = 1e-3
    lr_homography: float = 1e-3
    lr_warp: float = 1e-4
    width: int = 96
    depth: int = 3
    n_frequencies: int = 6
    c2f: tuple[float, float] = (0.0, 0.8)
    latent_dim: int = 32
    hidden: int = 64
    warp_frequencies: int = 4
    homography_weight: float = 100.0
    success_px: float = 2.0
    seed: int = 0

    def validate(self) -> "PlanarConfig":
        super().validate()
        if self.steps < 1 or self.width < 1 or self.depth < 1:
            raise InputError("steps, width and depth must be >= 1")
        for name in ("lr_field", "lr_homography", "lr_warp", "success_px"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)}")
        return self


class _ImageField(nn.Module):
    def __init__(self, cfg: PlanarConfig):
        super().__init__()
        self.pe = PositionalEncoding(2, cfg.n_frequencies, coarse_to_fine=cfg.c2f)
        layers, d = [], self.pe.out_dim
        for _ in range(cfg.depth):
            layers += [nn.Linear(d, cfg.width), nn.ReLU()]
            d = cfg.width
        layers.append(nn.Linear(d, 3))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return torch.sigmoid(self.net(self.pe(x)))


def _fit_homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares DLT homography ``dst ~ H src`` (h33 = 1)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rhs.append(u)
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs.append(v)
    h = np.linalg.lstsq(np.asarray(rows), np.asarray(rhs), rcond=None)[0]
    return np.append(h, 1.0).reshape(3, 3)


def fit_homography_torch(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Differentiable batched least-squares DLT ``dst ~ H src`` (h33 = 1): ``(K, N, 2) -> (K, 3, 3)``."""
    x, y = src[..., 0], src[..., 1]
    u, v = dst[..., 0], dst[..., 1]
    one, zero = torch.ones_like(x), torch.zeros_like(x)
    r1 = torch.stack([x, y, one, zero, zero, zero, -u * x, -u * y], -1)
    r2 = torch.stack([zero, zero, zero, x, y, one, -v * x, -v * y], -1)
    M = torch.cat([r1, r2], -2)
    b = torch.cat([u, v], -1)[..., None]
    h = torch.linalg.solve(M.transpose(-1, -2) @ M, M.transpose(-1, -2) @ b)[..., 0]
    return torch.cat([h, torch.ones_like(h[..., :1])], -1).reshape(*h.shape[:-1], 3, 3)


def corner_error_px(est_corners: torch.Tensor, true_corners: torch.Tensor, width_px: int) -> float:
    """Mean corner distance in canonical pixels after removing the global homography gauge."""
    e = est_corners.detach().double().reshape(-1, 2).numpy()
    t = true_corners.detach().double().reshape(-1, 2).numpy()
    G = _fit_homography(e, t)
    eh = np.concatenate([e, np.ones((len(e), 1))], 1) @ G.T
    aligned = eh[:, :2] / eh[:, 2:]
    return float(np.linalg.norm(aligned - t, axis=1).mean() * width_px / 2)


def solve_planar(problem: PlanarProblem, method: str = "warp", config: PlanarConfig | None = None,
                 device="cpu") -> dict:
    """Fit the image field and the warps on the library's training engine; returns ``corner_error_px``,
    ``initial_corner_error_px``, ``success``, ``psnr`` (patch reconstruction), ``seconds`` and ``history``.

    Example:
        >>> res = solve_planar(make_planar_problem(seed=0), "homography", PlanarConfig(steps=5, width=16))
        >>> sorted(k for k in res if "corner" in k)
        ['corner_error_px', 'initial_corner_error_px']
    """
    cfg = (config or PlanarConfig()).validate()
    if method not in ("homography", "warp"):
        raise InputError(f"unknown planar method {method!r}; choose homography or warp")
    dev = torch.device(device)
    K = problem.patches.shape[0]
    uv = problem.uv.to(dev)
    target = problem.patches.reshape(K, -1, 3).to(dev)
    A = problem.placements.to(dev)
    with fork_rng(cfg.seed):  # local seed for the module inits; the caller's RNG is left untouched
        field = _ImageField(cfg).to(dev)
        net = (InvertibleWarp(cfg.latent_dim, cfg.hidden, cfg.warp_frequencies, cfg.c2f, axes=(0, 1, 0, 1), dims=2)
               .to(dev) if method == "warp" else None)
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], device=dev)
    if method == "homography":
        d = nn.Parameter(torch.zeros(K, 8, device=dev))
        warp_params = [d]

        def warp(x):
            return apply_homography(A @ sl3_exp(d), x)
    else:
        codes = nn.Parameter(torch.randn(K, cfg.latent_dim, generator=torch.Generator().manual_seed(cfg.seed)).to(dev))
        warp_params = list(net.parameters()) + [codes]

        def warp(x):
            y = apply_homography(A, x)
            return net(y, codes[:, None, :].expand(K, x.shape[1], -1))
    opt_f = torch.optim.Adam(field.parameters(), lr=cfg.lr_field)
    opt_w = torch.optim.Adam(warp_params, lr=cfg.lr_warp if method == "warp" else cfg.lr_homography)
    optims = {"field": Optim.scheduled(opt_f, "exponential", cfg.steps, 0.1),
              "warp": Optim.scheduled(opt_w, "exponential", cfg.steps, 0.1)}
    true_c = apply_homography(problem.true_warps.to(dev), corners[None].expand(K, -1, -1))
    with torch.no_grad():
        init_err = corner_error_px(warp(corners[None].expand(K, -1, -1)).cpu(), true_c.cpu(), problem.image.shape[1])
    uv_k = uv[None].expand(K, -1, -1)

    def step_fn(step: int) -> dict:
        p = step / cfg.steps
        field.pe.set_progress(p)
        if method == "warp":
            net.set_progress(p)
        xw = warp(uv_k)
        mse = ((field(xw) - target) ** 2).mean()
        total = mse
        if method == "warp" and cfg.homography_weight > 0:
            Hk = fit_homography_torch(uv_k, xw)
            total = mse + cfg.homography_weight * ((apply_homography(Hk, uv_k) - xw) ** 2).sum(-1).mean()
        return {"loss": total, "mse": mse}

    modules = {"field": field, "warp": net if method == "warp" else nn.ParameterList(warp_params)}
    if method == "warp":
        modules["codes"] = nn.ParameterList([codes])
    trainer = Trainer(step_fn, modules, optims, cfg.steps, kind="nerf.planar", log_every=max(1, cfg.steps // 20),
                      progress=False)
    trainer.run()
    with torch.no_grad():
        if method == "warp":  # explicit estimate: the homography fitted to the warp over the patch
            Hk = fit_homography_torch(uv[None].expand(K, -1, -1), warp(uv[None].expand(K, -1, -1)))
            est_c = apply_homography(Hk, corners[None].expand(K, -1, -1))
        else:
            est_c = warp(corners[None].expand(K, -1, -1))
    err = corner_error_px(est_c.cpu(), true_c.cpu(), problem.image.shape[1])
    return {"method": method, "corner_error_px": err, "initial_corner_error_px": init_err,
            "success": err < cfg.success_px, "psnr": float(-10 * math.log10(trainer.history["mse"][-1])),
            "seconds": trainer.seconds, "history": trainer.history}


def success_rate(method: str, n_problems: int = 20, config: PlanarConfig | None = None, sigma: float = 0.1,
                 device="cpu", first_seed: int = 100, **problem_kwargs) -> dict:
    """Solve ``n_problems`` random problems (seeds ``first_seed..``; development used seeds 0-2) with ``method``;
    returns the rate and per-problem rows."""
    rows = [solve_planar(make_planar_problem(seed=first_seed + i, sigma=sigma, **problem_kwargs), method, config, device)
            for i in range(n_problems)]
    return {"method": method, "success_rate": sum(r["success"] for r in rows) / n_problems,
            "mean_corner_error_px": float(np.mean([r["corner_error_px"] for r in rows])),
            "median_corner_error_px": float(np.median([r["corner_error_px"] for r in rows])),
            "rows": rows}
