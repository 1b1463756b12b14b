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

Examples:
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
from rankfield.inr import grid_coordinates
from rankfield.inr.encodings import PositionalEncoding
from rankfield.nerf.poses import InvertibleWarp

__all__ = ["PlanarConfig", "PlanarProblem", "make_planar_problem", "make_barf_planar_problem", "solve_planar", "sl3_exp", "apply_homography",
           "corner_error_px", "success_rate"]


_CORNERS = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])  # a patch's corners (u, v)


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
    frame: str = "patch"

    @property
    def true_warps(self) -> torch.Tensor:
        """``A_k exp(delta_k)`` (``frame="patch"``: the perturbation acts in patch coordinates) or
        ``exp(delta_k) A_k`` (``frame="canvas"``, BARF: it acts in canvas coordinates, translations included)."""
        if self.frame == "canvas":
            return sl3_exp(self.delta) @ self.placements
        return self.placements @ sl3_exp(self.delta)


def _sample(image: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bilinear sample canonical coordinates ``(..., 2)`` (x in [-1,1], y in [-H/W, H/W]) of ``image``."""
    H, W = image.shape[:2]
    grid = torch.stack([xy[..., 0], xy[..., 1] * W / H], -1)  # grid_sample wants both in [-1, 1]
    out = F.grid_sample(image.permute(2, 0, 1)[None], grid.reshape(1, -1, 1, 2), align_corners=False,
                        mode="bilinear", padding_mode="border")
    return out[0, :, :, 0].T.reshape(*xy.shape[:-1], image.shape[2])


def make_barf_planar_problem(seed: int = 0, image: torch.Tensor | None = None, canvas=(360, 480), crop_px: int = 180,
                             patch_px: int | None = None, sigma: float = 0.1, translation: float = 0.2,
                             n_patches: int = 5) -> PlanarProblem:
    """BARF's planar problem (its ``options/planar.yaml`` and ``model/planar.py``): a ``canvas`` image
    (360x480), ``n_patches`` crops of ``crop_px`` (180) pixels, all taken at the centre and then moved by
    homographies ``exp(delta_k)`` in canvas coordinates with ``delta_k ~ N(0, sigma^2 I_8)`` plus translations
    ``(0, 0), (+-t, +-t)`` (``t = 0.2``): the placements are unknown to the solver, which starts every patch at
    the centre. The first patch is unperturbed (``delta_0 = 0``: the gauge, fixed during the fit). Draws whose
    corners leave the canvas are redrawn, as in BARF. ``patch_px`` samples each crop on a coarser grid
    (default: ``crop_px``, every pixel).

    Examples:
        >>> p = make_barf_planar_problem(seed=0, canvas=(36, 48), crop_px=18)
        >>> p.patches.shape, float(p.delta[0].abs().sum())
        (torch.Size([5, 18, 18, 3]), 0.0)
    """
    from rankfield.inr.data import default_image, resize_image

    if not 1 <= n_patches <= 5:
        raise InputError(f"n_patches must be in 1..5, got {n_patches}")
    img = default_image(None) if image is None else image
    img = resize_image(img, tuple(canvas))
    H, W = canvas
    if not 0 < crop_px <= min(H, W):
        raise InputError(f"crop_px must be in (0, {min(H, W)}], got {crop_px}")
    patch_px = patch_px or crop_px
    s = crop_px / W  # half-size of the crop in canvas units (x in [-1, 1])
    A = torch.tensor([[s, 0, 0], [0, s, 0], [0, 0, 1.0]]).expand(n_patches, 3, 3).clone()
    gen = torch.Generator().manual_seed(seed)
    shifts = [(0.0, 0.0)] + [(x, y) for x in (-translation, translation) for y in (-translation, translation)]
    corners = _CORNERS
    delta = torch.zeros(n_patches, 8)
    for k in range(1, n_patches):
        for _ in range(1000):
            d = torch.randn(8, generator=gen) * sigma
            d[0] += shifts[k][0]
            d[1] += shifts[k][1]
            c = apply_homography(sl3_exp(d) @ A[k], corners)
            if bool((c[:, 0].abs() < 1).all() and (c[:, 1].abs() < H / W).all()):
                break
        delta[k] = d
    uv = grid_coordinates(patch_px, patch_px).flip(-1).reshape(-1, 2)  # (u, v) = (x, y) at pixel centres
    pts = apply_homography(sl3_exp(delta) @ A, uv[None].expand(n_patches, -1, -1))
    patches = _sample(img, pts).reshape(n_patches, patch_px, patch_px, -1)
    return PlanarProblem(img, A, delta, patches, uv, frame="canvas")


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
    uv = grid_coordinates(patch_px, patch_px).flip(-1).reshape(-1, 2)  # (u, v) = (x, y) at pixel centres
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
        warp_init: ``default`` or ``raw_input`` (the invertible warp's first-layer weights on PE bands and
            codes start at zero, as in the authors' code).
        warp_scaling: affine (scaling) couplings in the invertible warp (default). Shear couplings preserve
            area, which a homography does not: with them the warp stalls at 12-21 px on BARF's problem even when
            the image is known (development seeds 0-2; 1.5-2.5 px with scaling).
        lr_end_ratio: every learning rate decays exponentially to this fraction (1 = constant, BARF's).
        pixels_per_step: pixels drawn at random from each patch every step (``None``: all of them).
        fix_first: keep the first patch's warp at the identity (BARF's gauge; its problems have
            ``delta_0 = 0``); the corner error is then measured directly, without a gauge fit.
        success_px: corner error (canonical pixels) below which a problem counts as solved.

    :meth:`barf` gives BARF's settings (5000 steps, constant 1e-3, c2f over [0, 0.4] with 8 bands, first
    patch fixed, every pixel; its 4x256 field is ``width=256, depth=4``).
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
    warp_init: str = "default"
    warp_scaling: bool = True
    lr_end_ratio: float = 0.1
    pixels_per_step: int | None = None
    fix_first: bool = False
    success_px: float = 2.0
    seed: int = 0

    @classmethod
    def barf(cls, **overrides) -> "PlanarConfig":
        """BARF's planar settings (``overrides`` replace fields, e.g. a smaller field for a CPU).

        Examples:
            >>> PlanarConfig.barf(width=64).steps
            5000
        """
        base = dict(steps=5000, lr_field=1e-3, lr_homography=1e-3, lr_warp=1e-3, lr_end_ratio=1.0, width=256,
                    depth=4, n_frequencies=8, c2f=(0.0, 0.4), fix_first=True)
        base.update(overrides)
        return cls(**base)

    def validate(self) -> "PlanarConfig":
        super().validate()
        if self.steps < 1 or self.width < 1 or self.depth < 1:
            raise InputError("steps, width and depth must be >= 1")
        if self.pixels_per_step is not None and self.pixels_per_step < 1:
            raise InputError(f"pixels_per_step must be >= 1 or None, got {self.pixels_per_step}")
        if not 0 < self.lr_end_ratio <= 1:
            raise InputError(f"lr_end_ratio must be in (0, 1], got {self.lr_end_ratio}")
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
        if cfg.c2f is not None:  # BARF: the first layer's init was meant for all PE inputs, only x, y feed it at first
            with torch.no_grad():
                scale = math.sqrt(self.pe.out_dim / 2)
                self.net[0].weight.mul_(scale)
                self.net[0].bias.mul_(scale)

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


def corner_error_px(est_corners: torch.Tensor, true_corners: torch.Tensor, width_px: int,
                    remove_gauge: bool = True) -> float:
    """Mean corner distance in canonical pixels, after removing the global homography gauge (default) or
    as it is (when the gauge was fixed during the fit)."""
    e = est_corners.detach().double().reshape(-1, 2).numpy()
    t = true_corners.detach().double().reshape(-1, 2).numpy()
    G = _fit_homography(e, t) if remove_gauge else np.eye(3)
    eh = np.concatenate([e, np.ones((len(e), 1))], 1) @ G.T
    aligned = eh[:, :2] / eh[:, 2:]
    return float(np.linalg.norm(aligned - t, axis=1).mean() * width_px / 2)


def solve_planar(problem: PlanarProblem, method: str = "warp", config: PlanarConfig | None = None,
                 device="cpu", record_corners: bool = False) -> dict:
    """Fit the image field and the warps on the library's training engine; returns ``corner_error_px``,
    ``initial_corner_error_px``, ``success``, ``psnr`` (patch reconstruction), ``seconds``, ``history``,
    ``true_corners`` and ``corners`` (``(K, 4, 2)`` estimated patch corners in canvas coordinates).

    ``record_corners=True`` also stores every log step's patch corners in ``history["corners"]`` (for
    pictures and animations of the alignment): the corners mapped by the current warp. For ``homography``
    the last entry is ``corners``; for ``warp``, ``corners`` comes from the homography fitted to the warp
    over the whole patch, so it can differ slightly from the last recorded entry.

    Examples:
        >>> res = solve_planar(make_planar_problem(seed=0), "homography", PlanarConfig(steps=5, width=16))
        >>> sorted(k for k in res if "corner_error" in k)
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
        net = (InvertibleWarp(cfg.latent_dim, cfg.hidden, cfg.warp_frequencies, cfg.c2f, axes=(0, 1, 0, 1), dims=2,
                              init=cfg.warp_init, scaling=cfg.warp_scaling).to(dev) if method == "warp" else None)
    corners = _CORNERS.to(dev)
    canvas = problem.frame == "canvas"
    free = torch.ones(K, 1, 1, device=dev)
    if cfg.fix_first:
        free[0] = 0.0
    if method == "homography":
        d = nn.Parameter(torch.zeros(K, 8, device=dev))
        warp_params = [d]

        def warp(x):
            dd = d * free[:, 0]  # the fixed first patch keeps exp(0) = I
            return apply_homography(sl3_exp(dd) @ A if canvas else A @ sl3_exp(dd), x)
    else:
        codes = nn.Parameter(torch.randn(K, cfg.latent_dim, generator=torch.Generator().manual_seed(cfg.seed)).to(dev))
        warp_params = list(net.parameters()) + [codes]

        def warp(x):
            y = apply_homography(A, x)
            out = net(y, codes[:, None, :].expand(K, x.shape[1], -1))
            return y + free * (out - y)
    opt_f = torch.optim.Adam(field.parameters(), lr=cfg.lr_field)
    opt_w = torch.optim.Adam(warp_params, lr=cfg.lr_warp if method == "warp" else cfg.lr_homography)
    optims = {"field": Optim.scheduled(opt_f, "exponential", cfg.steps, cfg.lr_end_ratio),
              "warp": Optim.scheduled(opt_w, "exponential", cfg.steps, cfg.lr_end_ratio)}
    true_c = apply_homography(problem.true_warps.to(dev), corners[None].expand(K, -1, -1))
    gauge = not cfg.fix_first
    with torch.no_grad():
        init_err = corner_error_px(warp(corners[None].expand(K, -1, -1)).cpu(), true_c.cpu(), problem.image.shape[1],
                                   remove_gauge=gauge)
    uv_k = uv[None].expand(K, -1, -1)
    n_pix = uv.shape[0]
    gen = torch.Generator().manual_seed(cfg.seed + 1)

    def step_fn(step: int) -> dict:
        p = step / cfg.steps
        field.pe.set_progress(p)
        if method == "warp":
            net.set_progress(p)
        if cfg.pixels_per_step is None or cfg.pixels_per_step >= n_pix:
            u, tgt = uv_k, target
        else:
            idx = torch.randint(0, n_pix, (K, cfg.pixels_per_step), generator=gen).to(dev)
            u, tgt = torch.gather(uv_k, 1, idx[..., None].expand(-1, -1, 2)), torch.gather(
                target, 1, idx[..., None].expand(-1, -1, 3))
        xw = warp(u)
        mse = ((field(xw) - tgt) ** 2).mean()
        total = mse
        if method == "warp" and cfg.homography_weight > 0:
            Hk = fit_homography_torch(u, xw)
            total = mse + cfg.homography_weight * ((apply_homography(Hk, u) - xw) ** 2).sum(-1).mean()
        return {"loss": total, "mse": mse}

    modules = {"field": field, "warp": net if method == "warp" else nn.ParameterList(warp_params)}
    if method == "warp":
        modules["codes"] = nn.ParameterList([codes])
    def log_fn(record: dict) -> dict:
        if not record_corners:
            return {}
        with torch.no_grad():
            return {"corners": warp(corners[None].expand(K, -1, -1)).cpu().tolist()}

    trainer = Trainer(step_fn, modules, optims, cfg.steps, kind="nerf.planar", log_every=max(1, cfg.steps // 20),
                      progress=False, generators={"pixels": gen}, log_fn=log_fn)
    trainer.run()
    with torch.no_grad():
        if method == "warp":  # explicit estimate: the homography fitted to the warp over the patch
            Hk = fit_homography_torch(uv[None].expand(K, -1, -1), warp(uv[None].expand(K, -1, -1)))
            est_c = apply_homography(Hk, corners[None].expand(K, -1, -1))
        else:
            est_c = warp(corners[None].expand(K, -1, -1))
    err = corner_error_px(est_c.cpu(), true_c.cpu(), problem.image.shape[1], remove_gauge=gauge)
    return {"method": method, "corner_error_px": err, "initial_corner_error_px": init_err,
            "success": err < cfg.success_px, "psnr": float(-10 * math.log10(trainer.history["mse"][-1])),
            "seconds": trainer.seconds, "history": trainer.history, "corners": est_c.cpu(),
            "true_corners": true_c.cpu()}


def success_rate(method: str, n_problems: int = 20, config: PlanarConfig | None = None, sigma: float = 0.1,
                 device="cpu", first_seed: int = 100, protocol: str = "local", **problem_kwargs) -> dict:
    """Solve ``n_problems`` random problems (seeds ``first_seed..``; development used seeds 0-2) with ``method``;
    ``protocol="barf"`` draws them with :func:`make_barf_planar_problem`. Returns the rate and per-problem rows."""
    make = {"local": make_planar_problem, "barf": make_barf_planar_problem}.get(protocol)
    if make is None:
        raise InputError(f"unknown planar protocol {protocol!r}; choose local or barf")
    rows = [solve_planar(make(seed=first_seed + i, sigma=sigma, **problem_kwargs), method, config, device)
            for i in range(n_problems)]
    return {"method": method, "success_rate": sum(r["success"] for r in rows) / n_problems,
            "mean_corner_error_px": float(np.mean([r["corner_error_px"] for r in rows])),
            "median_corner_error_px": float(np.median([r["corner_error_px"] for r in rows])),
            "rows": rows}
