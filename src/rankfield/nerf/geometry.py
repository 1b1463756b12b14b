"""Rigid-body geometry: SO(3)/se(3) exp and log maps, pose algebra, Kabsch/Umeyama fits, Procrustes.

Conventions
-----------
* A *pose* is a ``(..., 3, 4)`` matrix ``[R | t]`` acting on column vectors: ``x' = R x + t``.
  Scenes store **camera-to-world** poses (see :mod:`rankfield.nerf.camera`).
* A twist (se(3) 6-vector) is ordered ``[w, v]`` = ``[rotation (axis-angle, rad), translation part]``,
  the BARF order. ``se3_exp([w, v]) = [exp(w^) | V(w) v]`` with ``V`` the left Jacobian of SO(3).
* Every exp/log uses a Taylor branch near zero so values *and gradients* are finite and correct at
  exactly zero (checked by float64 gradcheck in the tests).

Examples:
    >>> import torch
    >>> from rankfield.nerf.geometry import se3_exp, se3_log
    >>> xi = torch.tensor([0.1, -0.2, 0.05, 0.3, 0.0, -0.1], dtype=torch.float64)
    >>> torch.allclose(se3_log(se3_exp(xi)), xi)
    True
"""

from __future__ import annotations

import torch

__all__ = ["skew", "so3_exp", "so3_log", "se3_exp", "se3_log", "compose", "invert", "to_homogeneous",
           "rigid_fit", "procrustes_sim3", "apply_sim3_to_poses", "rotation_error_deg", "SimilarityTransform"]

_TAYLOR_EPS = 1e-4  # below this angle (rad) the series branches are used


def skew(w: torch.Tensor) -> torch.Tensor:
    """``(..., 3) -> (..., 3, 3)`` cross-product matrix ``w^`` with ``w^ x = w x x``.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import skew
        >>> w, x = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.5, -1.0, 2.0])
        >>> torch.allclose(skew(w) @ x, torch.linalg.cross(w, x))
        True
    """
    z = torch.zeros_like(w[..., 0])
    wx, wy, wz = w.unbind(-1)
    return torch.stack([torch.stack([z, -wz, wy], -1),
                        torch.stack([wz, z, -wx], -1),
                        torch.stack([-wy, wx, z], -1)], -2)


def _coefficients(theta2: torch.Tensor):
    """A = sin t / t, B = (1 - cos t) / t^2, C = (t - sin t) / t^3 with Taylor branches at t -> 0."""
    small = theta2 < _TAYLOR_EPS ** 2
    t2 = torch.where(small, torch.ones_like(theta2), theta2)  # safe value where small (no NaN grads)
    t = t2.sqrt()
    a = torch.where(small, 1 - theta2 / 6 + theta2 ** 2 / 120, torch.sin(t) / t)
    b = torch.where(small, 0.5 - theta2 / 24 + theta2 ** 2 / 720, (1 - torch.cos(t)) / t2)
    c = torch.where(small, 1 / 6 - theta2 / 120 + theta2 ** 2 / 5040, (t - torch.sin(t)) / (t2 * t))
    return a, b, c


def so3_exp(w: torch.Tensor) -> torch.Tensor:
    """Rodrigues: axis-angle ``(..., 3)`` -> rotation ``(..., 3, 3)``.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import so3_exp
        >>> R = so3_exp(torch.tensor([0.0, 0.0, torch.pi / 2]))
        >>> R.round(decimals=4) + 0.0
        tensor([[ 0., -1.,  0.],
                [ 1.,  0.,  0.],
                [ 0.,  0.,  1.]])
    """
    a, b, _ = _coefficients((w * w).sum(-1))
    W = skew(w)
    eye = torch.eye(3, dtype=w.dtype, device=w.device).expand_as(W)
    return eye + a[..., None, None] * W + b[..., None, None] * (W @ W)


def so3_log(R: torch.Tensor) -> torch.Tensor:
    """Rotation ``(..., 3, 3)`` -> axis-angle ``(..., 3)`` with angle in ``[0, pi]``.

    Uses ``w = theta / (2 sin theta) * vee(R - R^T)`` with a Taylor branch at ``theta -> 0`` and an
    eigen-style branch near ``pi`` (where ``R - R^T`` vanishes).

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import so3_exp, so3_log
        >>> w = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)
        >>> torch.allclose(so3_log(so3_exp(w)), w)
        True
    """
    tr = R[..., 0, 0] + R[..., 1, 1] + R[..., 2, 2]
    cos = ((tr - 1) / 2).clamp(-1.0, 1.0)
    vee = torch.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1)
    # theta from atan2 is better conditioned than acos
    sin = 0.5 * vee.norm(dim=-1)
    theta = torch.atan2(sin, cos)
    small = theta < _TAYLOR_EPS
    near_pi = theta > torch.pi - 1e-3
    theta_safe = torch.where(small | near_pi, torch.ones_like(theta), theta)
    factor = torch.where(small, 0.5 + theta ** 2 / 12, theta_safe / (2 * torch.sin(theta_safe)))
    w = factor[..., None] * vee
    if bool(near_pi.any()):
        # axis from the largest diagonal of (R + I) / 2 = n n^T (1 - cos) / 2 + cos I ... use B = (R + R^T)/2
        B = (R + R.transpose(-1, -2)) / 2 - cos[..., None, None] * torch.eye(3, dtype=R.dtype, device=R.device)
        idx = torch.diagonal(B, dim1=-2, dim2=-1).argmax(-1)
        col = torch.gather(B, -1, idx[..., None, None].expand(*B.shape[:-1], 1))[..., 0]
        n = col / col.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        n = torch.where(((n * vee).sum(-1, keepdim=True) < 0), -n, n)  # sign from the residual vee
        w = torch.where(near_pi[..., None], n * theta[..., None], w)
    return w


def _left_jacobian(w: torch.Tensor) -> torch.Tensor:
    _, b, c = _coefficients((w * w).sum(-1))
    W = skew(w)
    eye = torch.eye(3, dtype=w.dtype, device=w.device).expand_as(W)
    return eye + b[..., None, None] * W + c[..., None, None] * (W @ W)


def se3_exp(xi: torch.Tensor) -> torch.Tensor:
    """Twist ``(..., 6)`` ordered ``[w, v]`` -> pose ``(..., 3, 4)``.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import se3_exp
        >>> T = se3_exp(torch.zeros(2, 6))
        >>> T.shape, bool((T[:, :, :3] == torch.eye(3)).all())
        (torch.Size([2, 3, 4]), True)
    """
    w, v = xi[..., :3], xi[..., 3:]
    R = so3_exp(w)
    t = (_left_jacobian(w) @ v[..., None])[..., 0]
    return torch.cat([R, t[..., None]], -1)


def se3_log(T: torch.Tensor) -> torch.Tensor:
    """Pose ``(..., 3, 4)`` -> twist ``(..., 6)`` ordered ``[w, v]`` (inverse of :func:`se3_exp`).

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import se3_exp, se3_log
        >>> xi = torch.tensor([[0.1, 0.2, -0.3, 0.05, -0.1, 0.2]], dtype=torch.float64)
        >>> torch.allclose(se3_log(se3_exp(xi)), xi)
        True
    """
    R, t = T[..., :3, :3], T[..., :3, 3]
    w = so3_log(R)
    v = torch.linalg.solve(_left_jacobian(w), t[..., None])[..., 0]
    return torch.cat([w, v], -1)


def to_homogeneous(T: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 4) -> (..., 4, 4)``: the pose with the row ``[0, 0, 0, 1]`` appended.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import to_homogeneous
        >>> to_homogeneous(torch.eye(4)[:3].repeat(2, 1, 1)).shape
        torch.Size([2, 4, 4])
    """
    bottom = torch.zeros(*T.shape[:-2], 1, 4, dtype=T.dtype, device=T.device)
    bottom[..., 0, 3] = 1
    return torch.cat([T, bottom], -2)


def compose(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """``A o B`` for ``(..., 3, 4)`` poses: ``x -> A (B x)``.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import compose, se3_exp
        >>> A = se3_exp(torch.tensor([0.0, 0.0, 0.0, 1.0, 0.0, 0.0]))
        >>> B = se3_exp(torch.tensor([0.0, 0.0, 0.0, 0.0, 2.0, 0.0]))
        >>> compose(A, B)[:, 3]
        tensor([1., 2., 0.])
        >>> xi = torch.tensor([0.1, 0.2, -0.1, 0.3, 0.0, 0.5], dtype=torch.float64)
        >>> torch.allclose(compose(se3_exp(xi), se3_exp(xi)), se3_exp(2 * xi))
        True
    """
    R = A[..., :3, :3] @ B[..., :3, :3]
    t = (A[..., :3, :3] @ B[..., :3, 3:])[..., 0] + A[..., :3, 3]
    return torch.cat([R, t[..., None]], -1)


def invert(T: torch.Tensor) -> torch.Tensor:
    """Inverse of a rigid ``(..., 3, 4)`` pose.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import compose, invert, se3_exp
        >>> T = se3_exp(torch.tensor([0.3, -0.1, 0.2, 0.1, 0.2, -0.3], dtype=torch.float64))
        >>> I = compose(T, invert(T))
        >>> torch.allclose(I, se3_exp(torch.zeros(6, dtype=torch.float64)))
        True
    """
    Rt = T[..., :3, :3].transpose(-1, -2)
    t = -(Rt @ T[..., :3, 3:])
    return torch.cat([Rt, t], -1)


def rigid_fit(src: torch.Tensor, dst: torch.Tensor, weights: torch.Tensor | None = None,
              with_scale: bool = False):
    """Differentiable closed-form fit ``dst ~ s R src + t`` (Kabsch; Umeyama with ``with_scale``).

    ``src``, ``dst``: ``(..., N, 3)``; returns ``(R (..., 3, 3), t (..., 3), s (...))``. Reflections are
    fixed (``det R = +1``). Gradients flow through the SVD (fine for non-degenerate point sets).

    Examples:
        >>> import torch
        >>> from rankfield.nerf.geometry import rigid_fit, so3_exp
        >>> src = torch.randn(10, 3, dtype=torch.float64)
        >>> R0 = so3_exp(torch.tensor([0.3, 0.1, -0.2], dtype=torch.float64))
        >>> R, t, s = rigid_fit(src, src @ R0.T + 1.0)
        >>> torch.allclose(R, R0)
        True
    """
    if weights is None:
        weights = torch.ones(src.shape[:-1], dtype=src.dtype, device=src.device)
    w = weights / weights.sum(-1, keepdim=True)
    mu_s = (w[..., None] * src).sum(-2)
    mu_d = (w[..., None] * dst).sum(-2)
    xs, xd = src - mu_s[..., None, :], dst - mu_d[..., None, :]
    cov = (w[..., None] * xd).transpose(-1, -2) @ xs  # (..., 3, 3) = sum w d s^T
    U, S, Vh = torch.linalg.svd(cov)
    d = torch.sign(torch.linalg.det(U @ Vh))
    d = torch.where(d == 0, torch.ones_like(d), d)
    D = torch.ones(*d.shape, 3, dtype=src.dtype, device=src.device)
    D = torch.cat([D[..., :2], d[..., None]], -1)
    R = U @ (D[..., None] * Vh)
    if with_scale:
        var_s = (w * (xs * xs).sum(-1)).sum(-1)
        s = (S * D).sum(-1) / var_s
    else:
        s = torch.ones_like(d)
    t = mu_d - s[..., None] * (R @ mu_s[..., None])[..., 0]
    return R, t, s


class SimilarityTransform:
    """``x -> s R x + t`` (float64), as fitted by :func:`procrustes_sim3`.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import SimilarityTransform
        >>> sim = SimilarityTransform(torch.eye(3), torch.tensor([1.0, 0.0, 0.0]), 2.0)
        >>> sim.apply(torch.tensor([[1.0, 1.0, 1.0]])).tolist(), sim.inverse().apply(sim.apply(torch.ones(1, 3))).tolist()
        ([[3.0, 2.0, 2.0]], [[1.0, 1.0, 1.0]])
    """

    def __init__(self, R: torch.Tensor, t: torch.Tensor, s: float):
        self.R, self.t, self.s = R.double(), t.double(), float(s)

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        return self.s * (x.double() @ self.R.T) + self.t

    def inverse(self) -> "SimilarityTransform":
        Rinv = self.R.T
        return SimilarityTransform(Rinv, -(Rinv @ self.t) / self.s, 1.0 / self.s)

    def to_dict(self) -> dict:
        return {"R": self.R.tolist(), "t": self.t.tolist(), "s": self.s}


def procrustes_sim3(src: torch.Tensor, dst: torch.Tensor) -> SimilarityTransform:
    """Similarity Procrustes (Umeyama) ``dst ~ s R src + t`` in float64 with the reflection fixed.

    ``src``, ``dst``: ``(N, 3)`` camera centres (``N >= 3``, not collinear).

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import procrustes_sim3, so3_exp
        >>> src = torch.randn(8, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        >>> R = so3_exp(torch.tensor([0.2, -0.1, 0.4], dtype=torch.float64))
        >>> dst = 2.0 * src @ R.T + torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
        >>> sim = procrustes_sim3(src, dst)
        >>> round(sim.s, 6), torch.allclose(sim.R, R), torch.allclose(sim.apply(src), dst)
        (2.0, True, True)
    """
    R, t, s = rigid_fit(src.detach().double(), dst.detach().double(), with_scale=True)
    return SimilarityTransform(R, t, float(s))


def apply_sim3_to_poses(sim: SimilarityTransform, c2w: torch.Tensor) -> torch.Tensor:
    """Map camera-to-world poses by ``sim``: centre ``c -> sRc + t``, rotation ``R_c -> R R_c``.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import SimilarityTransform, apply_sim3_to_poses
        >>> sim = SimilarityTransform(torch.eye(3), torch.tensor([0.0, 0.0, 1.0]), 3.0)
        >>> pose = torch.eye(4)[:3].clone(); pose[:, 3] = torch.tensor([1.0, 0.0, 0.0])
        >>> apply_sim3_to_poses(sim, pose)[:, 3].tolist()
        [3.0, 0.0, 1.0]
    """
    c2w = c2w.double()
    R = sim.R @ c2w[..., :3, :3]
    c = sim.apply(c2w[..., :3, 3])
    return torch.cat([R, c[..., None]], -1)


def rotation_error_deg(R_a: torch.Tensor, R_b: torch.Tensor) -> torch.Tensor:
    """Geodesic angle ``arccos((tr(R_a R_b^T) - 1) / 2)`` in degrees, per pose.

    Evaluated as ``atan2(|vee(M - M^T)| / 2, (tr M - 1) / 2)`` (the same angle), which stays accurate for
    tiny angles where ``arccos`` of a rounded cosine loses half the digits.

    Example:
        >>> import torch
        >>> from rankfield.nerf.geometry import rotation_error_deg, so3_exp
        >>> R_a = so3_exp(torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.1]], dtype=torch.float64))
        >>> R_b = so3_exp(torch.zeros(2, 3, dtype=torch.float64))
        >>> rotation_error_deg(R_a, R_b).round(decimals=3)
        tensor([0.0000, 5.7300], dtype=torch.float64)
    """
    M = R_a.double() @ R_b.double().transpose(-1, -2)
    cos = (M[..., 0, 0] + M[..., 1, 1] + M[..., 2, 2] - 1) / 2
    vee = torch.stack([M[..., 2, 1] - M[..., 1, 2], M[..., 0, 2] - M[..., 2, 0], M[..., 1, 0] - M[..., 0, 1]], -1)
    return torch.rad2deg(torch.atan2(0.5 * vee.norm(dim=-1), cos))
