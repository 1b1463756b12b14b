"""Pose models behind one interface: fixed, BARF se(3) refinement, invertible neural warp.

Every :class:`PoseModel` turns camera-frame pixel points (on the ``z = -1`` plane, see
:mod:`rankfield.nerf.camera`) of frames ``idx`` into world rays, reports explicit camera-to-world poses
for evaluation (:meth:`PoseModel.poses`), and may add a regulariser (the warp's rigidity loss).

* :class:`FixedPoses` -- the given poses, nothing learned.
* :class:`SE3Refinement` -- BARF: per-frame twist ``xi`` (zero-init), ``w2c = exp(xi) o w2c_init``.
* :class:`InvertibleWarpPoses` -- Chng et al. 2024: one invertible coupling network ``h(x; phi_t)`` shared
  by all frames, per-frame latent codes ``phi_t`` ~ N(0, 1), identity at initialisation; rays are
  ``origin = h(P_t 0)``, ``direction = h(P_t x_C) - h(P_t 0)`` with ``P_t`` the initial pose; the rigidity
  loss ``||x_W - T_t x_C||^2`` uses the differentiable Kabsch fit ``T_t``, which is also the frame's
  explicit pose.

Initial poses for them: :func:`perturb_poses_barf` and :func:`perturb_poses_l2g` (synthetic noise on
ground-truth poses, as in BARF and L2G) and :func:`identity_poses`.

Examples:
    >>> init = torch.eye(4)[:3].expand(3, 3, 4).clone()
    >>> model = InvertibleWarpPoses(init, WarpConfig(latent_dim=16, hidden=32))
    >>> x = torch.randn(3, 5, 3)
    >>> torch.allclose(model.warp(x, torch.arange(3)), x)   # identity at init
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from rankfield._config import Config
from rankfield._device import fork_rng
from rankfield._registry import Registry
from rankfield.errors import InputError
from rankfield.inr.encodings import PositionalEncoding
from rankfield.nerf.camera import rays_from_poses
from rankfield.nerf.geometry import compose, invert, rigid_fit, se3_exp, so3_exp

__all__ = ["PoseModel", "FixedPoses", "SE3Refinement", "WarpConfig", "CouplingBlock", "InvertibleWarp",
           "InvertibleWarpPoses", "make_pose_model", "default_lr_pose_end", "perturb_poses_barf", "perturb_poses_l2g",
           "identity_poses"]


class PoseModel(nn.Module):
    """Interface of the pose models.

    Attributes:
        n_frames: number of cameras.
        init_c2w: buffer of the initial camera-to-world poses ``(N, 3, 4)`` (what
            ``TrainConfig.pose_prior`` holds the poses near).
        default_lr_pose_end: the final pose LR :func:`~rankfield.nerf.train.train_scene` decays to when
            ``TrainConfig.lr_pose_end`` is ``None`` (measured on lego,
            ``docs/guide/nerf.md#fields-speed-and-the-learning-rates``).

    Example:
        >>> import torch
        >>> from rankfield.nerf import FixedPoses, identity_poses
        >>> from rankfield.nerf.poses import PoseModel
        >>> model = FixedPoses(identity_poses(2))
        >>> isinstance(model, PoseModel), model.n_frames, model.poses().shape
        (True, 2, torch.Size([2, 3, 4]))
    """

    n_frames: int
    default_lr_pose_end: float = 1e-4

    def rays(self, idx: torch.Tensor, points_cam: torch.Tensor):
        """World rays of camera points ``(B, N, 3)`` of frames ``idx (B,)`` -> ``origins, directions (B, N, 3)``."""
        return rays_from_poses(self.poses_of(idx), points_cam)

    def poses_of(self, idx: torch.Tensor) -> torch.Tensor:
        """Explicit camera-to-world poses ``(B, 3, 4)`` of frames ``idx`` (differentiable)."""
        raise NotImplementedError

    def poses(self) -> torch.Tensor:
        """All explicit camera-to-world poses ``(N, 3, 4)``, detached."""
        with torch.no_grad():
            return self.poses_of(torch.arange(self.n_frames, device=self._device())).detach()

    def regularization(self, idx: torch.Tensor, points_cam: torch.Tensor) -> torch.Tensor:
        """Extra loss for this batch (0 unless the model defines one)."""
        return torch.zeros((), device=points_cam.device)

    def rays_and_regularization(self, idx: torch.Tensor, points_cam: torch.Tensor):
        """:meth:`rays` and :meth:`regularization` of one batch (the warp computes both in one pass)."""
        o, d = self.rays(idx, points_cam)
        return o, d, self.regularization(idx, points_cam)

    def set_progress(self, progress: float) -> None:
        """Fraction of training done (drives annealed encodings)."""

    def _device(self):
        return next(self.buffers()).device


class FixedPoses(PoseModel):
    """The given camera-to-world poses, unchanged (no parameters).

    Example:
        >>> import torch
        >>> from rankfield.nerf import FixedPoses, identity_poses
        >>> model = FixedPoses(identity_poses(3))
        >>> model.n_frames, sum(p.numel() for p in model.parameters())
        (3, 0)
    """

    def __init__(self, c2w: torch.Tensor):
        super().__init__()
        self.register_buffer("init_c2w", c2w.detach().float().clone())
        self.n_frames = c2w.shape[0]

    def poses_of(self, idx):
        return self.init_c2w[idx]


class SE3Refinement(PoseModel):
    """BARF per-frame se(3) correction ``xi_t = [w, v]`` (zero-initialised) of the initial pose.

    ``side="world"`` (BARF's code, the default, pose model ``"se3"``): ``w2c_t = w2c_init_t o exp(xi_t)``,
    the correction acts in world coordinates, the side of BARF's synthetic noise
    (:func:`perturb_poses_barf`), so ``xi = -noise`` undoes it exactly. ``side="camera"`` (pose model
    ``"se3_camera"``): ``w2c_t = exp(xi_t) o w2c_init_t``, each camera turns about its own centre.

    The world side measured better on lego (0.79 deg from 14.1 in 20000 steps); on the tiny scenes of the tests
    it diverges where the camera side reduces the errors of camera-side noise. Evidence:
    ``docs/guide/nerf.md#world-side-or-camera-side``.

    Examples:
        >>> import torch
        >>> from rankfield.nerf import SE3Refinement, perturb_poses_barf
        >>> from rankfield.nerf.camera import look_at
        >>> gt = look_at(torch.tensor([[0.0, -4.0, 1.0]]))
        >>> m = SE3Refinement(perturb_poses_barf(gt, 0.1, seed=0))
        >>> with torch.no_grad():
        ...     _ = m.xi.copy_(-0.1 * torch.randn(1, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
        >>> torch.allclose(m.poses(), gt.float(), atol=1e-5)
        True
    """

    def __init__(self, c2w_init: torch.Tensor, side: str = "world"):
        super().__init__()
        if side not in ("world", "camera"):
            raise InputError(f"side must be 'world' (BARF) or 'camera', got {side!r}")
        self.side = side
        self.register_buffer("init_c2w", c2w_init.detach().float().clone())
        self.n_frames = c2w_init.shape[0]
        self.xi = nn.Parameter(torch.zeros(self.n_frames, 6, device=c2w_init.device))

    def poses_of(self, idx):
        w2c0 = invert(self.init_c2w[idx])
        dx = se3_exp(self.xi[idx])
        return invert(compose(w2c0, dx) if self.side == "world" else compose(dx, w2c0))


@dataclass
class WarpConfig(Config):
    """Invertible neural warp (Chng et al. 2024; authors' defaults in brackets).

    Attributes:
        latent_dim: per-frame latent code size [128]; codes start ``N(0, code_std^2)``.
        code_std: std of the initial codes [1].
        hidden: hidden units of each coupling MLP (one hidden layer, Softplus beta=100, weight norm) [128].
        n_frequencies: PE frequencies of the coupling inputs [6], annealed by a cosine window over
            ``coarse_to_fine`` (fractions of training).
        axes: focus axis of each coupling block [(2, 1, 0) = z, y, x].
        rigidity_weight: lambda of the rigidity loss [10^4 for LLFF].
        coord_scale: coordinates are divided by this before the warp and multiplied after.
        init: ``"default"`` (PyTorch's init of every coupling input) or ``"raw_input"`` (the authors'
            code, from NDR: first-layer weights on the PE bands and the latent code start at zero).

    Example:
        >>> from rankfield.nerf import InvertibleWarpPoses, WarpConfig, identity_poses
        >>> cfg = WarpConfig(latent_dim=8, hidden=16, n_frequencies=2)
        >>> model = InvertibleWarpPoses(identity_poses(3), cfg)
        >>> model.n_frames, model.poses().shape
        (3, torch.Size([3, 3, 4]))
    """

    latent_dim: int = 128
    code_std: float = 1.0
    hidden: int = 128
    n_frequencies: int = 6
    coarse_to_fine: tuple[float, float] | None = (0.0, 0.5)
    axes: tuple[int, ...] = (2, 1, 0)
    rigidity_weight: float = 1e4
    coord_scale: float = 1.0
    init: Literal["default", "raw_input"] = "default"

    def validate(self) -> "WarpConfig":
        super().validate()
        if self.latent_dim < 1 or self.hidden < 1 or self.n_frequencies < 0 or not self.coord_scale > 0:
            raise InputError("warp latent_dim/hidden must be >= 1, n_frequencies >= 0, coord_scale > 0")
        if self.rigidity_weight < 0:
            raise InputError(f"rigidity_weight must be >= 0, got {self.rigidity_weight}")
        return self


def _mlp(in_dim: int, hidden: int, out_dim: int, zero_from: int | None = None) -> nn.Sequential:
    """One weight-normed hidden layer, Softplus, a zero-initialised output (the block starts as identity).

    ``zero_from``: the first layer's weights on inputs ``zero_from:`` start at zero (the authors' init,
    from NDR: only the raw coordinates feed the hidden layer at first; PE bands and latent codes grow in)."""
    lin = nn.Linear(in_dim, hidden)
    if zero_from is not None:
        with torch.no_grad():
            lin.weight[:, zero_from:] = 0.0
    first = nn.utils.parametrizations.weight_norm(lin)
    last = nn.Linear(hidden, out_dim)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return nn.Sequential(first, nn.Softplus(beta=100), last)


def _rot2(theta: torch.Tensor, p: torch.Tensor, inverse: bool) -> torch.Tensor:
    c, s = torch.cos(theta), torch.sin(theta)
    if inverse:
        s = -s
    return torch.stack([c * p[..., 0] - s * p[..., 1], s * p[..., 0] + c * p[..., 1]], -1)


class CouplingBlock(nn.Module):
    """One exactly invertible coupling block with focus axis ``axis``.

    Forward: ``c = L(phi) + phi`` (``L`` zero-init); ``f' = f - a([PE(p), c])``; ``(theta, t) = b([PE(f'), c])``;
    ``p' = R(theta)^-1 (p - t)`` with ``p`` the other two coordinates. Inverse undoes it in reverse order.
    Output layers are zero-initialised, so the block starts as the identity.

    These steps are shears and rotations, so the block preserves volume (Jacobian determinant 1): right for
    rigid motions, which is what the 3-D pose warp models. A 2-D homography changes area (its sl(3) scale and
    projective terms), which a volume-preserving warp cannot follow; ``scaling=True`` makes every step affine
    (Real NVP): ``f' = f * exp(s_a) - a`` and, in 2-D, ``p' = p * exp(s_b) - t``, with the log-scales ``s``
    predicted by the same networks (zero at init, so the block still starts as the identity).

    Examples:
        >>> import torch
        >>> from rankfield.nerf.poses import CouplingBlock
        >>> block = CouplingBlock(axis=2, latent_dim=4, hidden=8, n_frequencies=2, coarse_to_fine=None)
        >>> p, code = torch.randn(5, 3), torch.randn(5, 4)
        >>> torch.allclose(block(p, code), p)  # the identity at init
        True
        >>> with torch.no_grad():
        ...     _ = [w.add_(0.1 * torch.randn_like(w)) for w in block.parameters()]
        >>> torch.allclose(block.inverse(block(p, code), code), p, atol=1e-5)  # exactly invertible
        True
    """

    def __init__(self, axis: int, latent_dim: int, hidden: int, n_frequencies: int, coarse_to_fine, dims: int = 3,
                 init: str = "default", scaling: bool = False):
        super().__init__()
        if init not in ("default", "raw_input"):
            raise InputError(f"unknown coupling init {init!r}; choose default or raw_input")
        if scaling and dims != 2:
            raise InputError("scaling couplings are for 2-D warps (the 3-D pose warp is rigid: volume-preserving)")
        self.axis = axis
        self.scaling = scaling
        self.others = [i for i in range(dims) if i != axis]
        self.cond = nn.Linear(latent_dim, latent_dim)
        nn.init.zeros_(self.cond.weight)
        nn.init.zeros_(self.cond.bias)
        n_other = len(self.others)
        self.pe_other = PositionalEncoding(n_other, n_frequencies, include_input=True, coarse_to_fine=coarse_to_fine)
        self.pe_focus = PositionalEncoding(1, n_frequencies, include_input=True, coarse_to_fine=coarse_to_fine)
        raw = init == "raw_input"  # PE(x) starts with x itself (include_input=True)
        self.net_a = _mlp(self.pe_other.out_dim + latent_dim, hidden, 2 if scaling else 1,
                          zero_from=n_other if raw else None)
        n_b = 3 if n_other == 2 else (2 if scaling else 1)  # (theta, tu, tv) in 3-D; translation (, log-scale) in 2-D
        self.net_b = _mlp(self.pe_focus.out_dim + latent_dim, hidden, n_b, zero_from=1 if raw else None)

    def set_progress(self, p: float) -> None:
        self.pe_other.set_progress(p)
        self.pe_focus.set_progress(p)

    def _split(self, x):
        return x[..., self.axis:self.axis + 1], x[..., self.others]

    def _merge(self, f, p):
        parts = [None] * (1 + len(self.others))
        parts[self.axis] = f
        for j, i in enumerate(self.others):
            parts[i] = p[..., j:j + 1]
        return torch.cat(parts, -1)

    def _b(self, f, c):
        out = self.net_b(torch.cat([self.pe_focus(f), c], -1))
        return out

    def forward(self, x: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        c = self.cond(code) + code
        f, p = self._split(x)
        a = self.net_a(torch.cat([self.pe_other(p), c], -1))
        f = f * torch.exp(a[..., 1:]) - a[..., :1] if self.scaling else f - a
        b = self._b(f, c)
        if p.shape[-1] == 2:
            p = _rot2(b[..., 0], p - b[..., 1:], inverse=True)
        elif self.scaling:
            p = p * torch.exp(b[..., 1:]) - b[..., :1]
        else:
            p = p - b
        return self._merge(f, p)

    def inverse(self, y: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        c = self.cond(code) + code
        f, p = self._split(y)
        b = self._b(f, c)
        if p.shape[-1] == 2:
            p = _rot2(b[..., 0], p, inverse=False) + b[..., 1:]
        elif self.scaling:
            p = (p + b[..., :1]) * torch.exp(-b[..., 1:])
        else:
            p = p + b
        a = self.net_a(torch.cat([self.pe_other(p), c], -1))
        f = (f + a[..., :1]) * torch.exp(-a[..., 1:]) if self.scaling else f + a
        return self._merge(f, p)


class InvertibleWarp(nn.Module):
    """Stack of :class:`CouplingBlock`: ``h(x; phi)`` in ``dims`` = 2 or 3 dimensions, exact inverse.

    ``scaling=True`` (2-D only): affine couplings that can change area, as a homography does (see
    :class:`CouplingBlock`).

    Examples:
        >>> import torch
        >>> from rankfield.nerf.poses import InvertibleWarp
        >>> h = InvertibleWarp(4, hidden=8, axes=(0, 1), dims=2, scaling=True)
        >>> x, code = torch.rand(6, 2), torch.randn(6, 4)
        >>> torch.allclose(h.inverse(h(x, code), code), x)
        True
    """

    def __init__(self, latent_dim: int, hidden: int = 128, n_frequencies: int = 6, coarse_to_fine=(0.0, 0.5),
                 axes=(2, 1, 0), dims: int = 3, init: str = "default", scaling: bool = False):
        super().__init__()
        self.blocks = nn.ModuleList(CouplingBlock(a, latent_dim, hidden, n_frequencies, coarse_to_fine, dims, init,
                                                  scaling) for a in axes)

    def set_progress(self, p: float) -> None:
        for b in self.blocks:
            b.set_progress(p)

    def forward(self, x, code):
        for b in self.blocks:
            x = b(x, code)
        return x

    def inverse(self, y, code):
        for b in reversed(self.blocks):
            y = b.inverse(y, code)
        return y


class InvertibleWarpPoses(PoseModel):
    """Camera poses as an invertible neural warp shared by all frames with per-frame latent codes.

    ``x_W = h(P_t x_C; phi_t)``: ``P_t`` is the frame's initial camera-to-world pose (identity for identity
    init), ``h`` refines world -> world. Explicit poses: Kabsch fit of ``x_C -> x_W`` over a probe set (the
    camera centre and a grid of pixel points).

    Measured (lego_100 at 100 px, BARF noise 0.15, ``benchmarks/pose_nerf.py``, 2-core CPU, latent 32, hidden
    64): 14.1 -> 1.31 deg, translation (x100) 5.2, in 20000 steps (10.8 min; pose LR 3e-3 -> 1e-3), behind
    se(3)'s 0.79 deg on the same run; each warp step costs ~1.5x an se(3) step.

    Example:
        >>> import torch
        >>> from rankfield.nerf import InvertibleWarpPoses, WarpConfig, identity_poses
        >>> from rankfield.nerf.geometry import rotation_error_deg
        >>> init = identity_poses(4)
        >>> model = InvertibleWarpPoses(init, WarpConfig(latent_dim=8, hidden=16, n_frequencies=2), seed=0)
        >>> poses = model.poses()
        >>> poses.shape, bool(rotation_error_deg(poses[:, :, :3], init[:, :, :3]).max() < 1.0)
        (torch.Size([4, 3, 4]), True)
    """

    default_lr_pose_end = 1e-3  # still descending at the end of a run: 1.43 deg with 1e-3, 1.62 with 1e-4

    def __init__(self, c2w_init: torch.Tensor, config: WarpConfig | None = None, probe_points: torch.Tensor | None = None,
                 seed: int = 0):
        super().__init__()
        self.config = cfg = config or WarpConfig()
        self.n_frames = c2w_init.shape[0]
        self.register_buffer("init_c2w", c2w_init.detach().float().clone())
        gen = torch.Generator().manual_seed(seed)
        self.codes = nn.Parameter((torch.randn(self.n_frames, cfg.latent_dim, generator=gen) * cfg.code_std)
                                  .to(c2w_init.device))
        self.net = InvertibleWarp(cfg.latent_dim, cfg.hidden, cfg.n_frequencies, cfg.coarse_to_fine, cfg.axes, 3,
                                  cfg.init)
        if probe_points is None:  # default probe: a 5x5 grid on the z=-1 plane spanning ~+-0.4
            g = torch.linspace(-0.4, 0.4, 5)
            yy, xx = torch.meshgrid(g, g, indexing="ij")
            probe_points = torch.stack([xx, yy, -torch.ones_like(xx)], -1).reshape(-1, 3)
        self.register_buffer("probe_points", probe_points.float())
        self.to(c2w_init.device)

    def set_progress(self, progress: float) -> None:
        self.net.set_progress(progress)

    def warp(self, x_world_init: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """``h(x; phi_idx)`` for points ``(B, N, 3)`` already moved to the world by the initial poses."""
        s = self.config.coord_scale
        code = self.codes[idx][:, None, :].expand(*x_world_init.shape[:-1], -1)
        return self.net(x_world_init / s, code) * s

    def unwarp(self, x_world: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Exact inverse of :meth:`warp`."""
        s = self.config.coord_scale
        code = self.codes[idx][:, None, :].expand(*x_world.shape[:-1], -1)
        return self.net.inverse(x_world / s, code) * s

    def _to_world(self, idx, points_cam):
        P = self.init_c2w[idx]
        pts = torch.cat([torch.zeros_like(points_cam[:, :1]), points_cam], 1)  # centre first
        x0 = pts @ P[:, :3, :3].transpose(-1, -2) + P[:, None, :3, 3]
        return pts, self.warp(x0, idx)

    def rays(self, idx, points_cam):
        _, xw = self._to_world(idx, points_cam)
        o = xw[:, :1]
        return o.expand_as(xw[:, 1:]), xw[:, 1:] - o

    def _fit(self, pts_cam, xw):
        w = torch.ones(pts_cam.shape[:-1], device=pts_cam.device)
        w[:, 0] = pts_cam.shape[1] - 1  # the centre counts as much as all pixel points together
        R, t, _ = rigid_fit(pts_cam, xw, w)
        return R, t, w

    def poses_of(self, idx):
        probe = self.probe_points[None].expand(len(idx), -1, -1)
        pts, xw = self._to_world(idx, probe)
        R, t, _ = self._fit(pts, xw)
        return torch.cat([R, t[..., None]], -1)

    def _rigidity(self, pts, xw):
        R, t, w = self._fit(pts, xw)
        fit = pts @ R.transpose(-1, -2) + t[:, None]
        res = ((xw - fit) ** 2).sum(-1)
        return self.config.rigidity_weight * (w * res).sum() / w.sum()

    def regularization(self, idx, points_cam):
        """``lambda * mean ||x_W - T x_C||^2`` with ``T`` the per-frame Kabsch fit (centre + batch points)."""
        return self._rigidity(*self._to_world(idx, points_cam))

    def rays_and_regularization(self, idx, points_cam):
        pts, xw = self._to_world(idx, points_cam)
        o = xw[:, :1]
        return o.expand_as(xw[:, 1:]), xw[:, 1:] - o, self._rigidity(pts, xw)


POSE_MODELS = Registry("pose model")
POSE_MODELS.register("fixed", lambda c2w_init, warp_config=None, seed=0: FixedPoses(c2w_init))
POSE_MODELS.register("se3", lambda c2w_init, warp_config=None, seed=0: SE3Refinement(c2w_init, side="world"))
POSE_MODELS.register("se3_camera", lambda c2w_init, warp_config=None, seed=0: SE3Refinement(c2w_init, side="camera"))
POSE_MODELS.register("warp", lambda c2w_init, warp_config=None, seed=0: InvertibleWarpPoses(c2w_init, warp_config,
                                                                                            seed=seed))


_POSE_CLASSES = {"fixed": FixedPoses, "se3": SE3Refinement, "se3_camera": SE3Refinement, "warp": InvertibleWarpPoses}


def default_lr_pose_end(kind: str) -> float:
    """The final pose LR of pose model ``kind`` when ``TrainConfig.lr_pose_end`` is ``None``.

    Examples:
        >>> from rankfield.nerf.poses import default_lr_pose_end
        >>> default_lr_pose_end("se3"), default_lr_pose_end("warp")
        (0.0001, 0.001)
    """
    POSE_MODELS.get(kind)  # one-line error for an unknown kind
    return _POSE_CLASSES[kind].default_lr_pose_end


def make_pose_model(kind: str, c2w_init: torch.Tensor, warp_config: WarpConfig | None = None, seed: int = 0) -> PoseModel:
    """A pose model of ``kind`` around ``c2w_init``: ``fixed``, ``se3`` (BARF, world side), ``se3_camera``
    (camera side) or ``warp`` (``POSE_MODELS.names()``).

    Module initialisation draws from a local seed: the caller's RNG state is untouched.

    Examples:
        >>> import torch
        >>> from rankfield.nerf.poses import make_pose_model
        >>> make_pose_model("se3", torch.eye(4).repeat(3, 1, 1)).poses().shape
        torch.Size([3, 3, 4])
    """
    factory = POSE_MODELS.get(kind)
    if warp_config is not None:
        warp_config.validate()
    with fork_rng(seed):
        return factory(c2w_init, warp_config, seed=seed)


# ----------------------------------------------------------------------------------------------- pose noise
def perturb_poses_barf(c2w: torch.Tensor, sigma: float = 0.15, seed: int = 0,
                       side: str = "world") -> torch.Tensor:
    """BARF's synthetic noise: ``xi ~ N(0, sigma^2 I_6)`` in se(3) ``[w, v]`` composed with the GT pose.

    ``side="world"`` (BARF's code: ``pose = compose([noise, pose_gt])``, i.e. ``w2c_init = w2c_gt o exp(xi)``):
    the noise acts in world coordinates, so cameras orbit the object (a rotation of the world about its
    origin moves every camera centre by about ``|w| * distance``). ``side="camera"``
    (``w2c_init = exp(xi) o w2c_gt``): each camera turns about its own centre and shifts by about ``|v|``.
    At sigma 0.15 on lego the mean initial centre error is about 0.82 (world) against 0.25 (camera).

    Examples:
        >>> import torch
        >>> from rankfield.nerf import perturb_poses_barf
        >>> from rankfield.nerf.camera import look_at
        >>> gt = look_at(torch.tensor([[0.0, -4.0, 0.0], [4.0, 0.0, 0.0]]))
        >>> a, b = perturb_poses_barf(gt, 0.15, seed=0), perturb_poses_barf(gt, 0.15, seed=0, side="camera")
        >>> a.shape, torch.allclose(a[:, :3, :3], b[:, :3, :3], atol=1e-6)
        (torch.Size([2, 3, 4]), False)
    """
    if side not in ("world", "camera"):
        raise InputError(f"side must be 'world' (BARF) or 'camera', got {side!r}")
    gen = torch.Generator().manual_seed(seed)
    xi = torch.randn(c2w.shape[0], 6, generator=gen, dtype=torch.float64) * sigma
    w2c_gt = invert(c2w.double())
    w2c = compose(w2c_gt, se3_exp(xi)) if side == "world" else compose(se3_exp(xi), w2c_gt)
    return invert(w2c).to(c2w.dtype)


def perturb_poses_l2g(c2w: torch.Tensor, rotation_deg: float = 15.0, translation: float = 0.15,
                      seed: int = 0) -> torch.Tensor:
    """L2G-style noise: each camera rotated about a uniformly random axis by ``|N(0, rotation_deg^2)|``
    degrees (about its own centre) and moved by ``N(0, translation^2 I_3)``.

    Example:
        >>> import torch
        >>> from rankfield.nerf import identity_poses
        >>> from rankfield.nerf.poses import perturb_poses_l2g
        >>> from rankfield.nerf.geometry import rotation_error_deg
        >>> noisy = perturb_poses_l2g(identity_poses(4), rotation_deg=10.0, translation=0.1, seed=0)
        >>> noisy.shape, bool((rotation_error_deg(noisy[:, :, :3], identity_poses(4)[:, :, :3]) > 0).all())
        (torch.Size([4, 3, 4]), True)
    """
    gen = torch.Generator().manual_seed(seed)
    n = c2w.shape[0]
    axis = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    axis = axis / axis.norm(dim=-1, keepdim=True)
    angle = torch.randn(n, 1, generator=gen, dtype=torch.float64).abs() * math.radians(rotation_deg)
    dR = so3_exp(axis * angle)
    dt = torch.randn(n, 3, generator=gen, dtype=torch.float64) * translation
    c2w = c2w.double()
    R = c2w[:, :3, :3] @ dR
    t = c2w[:, :3, 3] + dt
    return torch.cat([R, t[..., None]], -1).float()


def identity_poses(n: int) -> torch.Tensor:
    """``n`` identity camera-to-world poses (identity init for forward-facing scenes).

    Example:
        >>> from rankfield.nerf import identity_poses
        >>> T = identity_poses(2)
        >>> T.shape, T[0].tolist()
        (torch.Size([2, 3, 4]), [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    """
    return torch.eye(4)[:3].expand(n, 3, 4).clone()
