"""Evaluation protocol of BARF / INN: Sim(3) alignment, pose errors, test views at aligned poses.

1. Estimated camera centres are aligned to the ground truth by a similarity Procrustes fit (float64 SVD,
   reflection fixed). 2. Rotation error: geodesic angle in degrees. 3. Translation error: distance between
   aligned and ground-truth camera centres (in scene units; tables often show x100).
4. Test views: ground-truth test poses are mapped into the learned frame by the inverse similarity (depth
   range scaled with it) and rendered; optionally a short photometric se(3) refinement per test view with
   the field frozen. 5. PSNR and SSIM from :mod:`rankfield.inr.metrics`.

Examples:
    >>> from rankfield.nerf.procedural import procedural_camera_poses
    >>> gt = procedural_camera_poses(8).float()
    >>> pose_errors(gt, gt)["rotation_deg_mean"] < 1e-3
    True
"""

from __future__ import annotations

import torch

from rankfield._engine import Optim, Trainer
from rankfield.errors import InputError

from rankfield.inr.metrics import psnr, ssim
from rankfield.nerf.camera import pixel_points, rays_from_poses
from rankfield.nerf.geometry import (SimilarityTransform, apply_sim3_to_poses, compose, invert, procrustes_sim3,
                                     rotation_error_deg, se3_exp)
from rankfield.nerf.render import RenderConfig, render_image, render_rays

__all__ = ["pose_errors", "relative_rotation_errors", "render_view", "evaluate_views", "refine_test_poses"]


def _check_pair(est_c2w: torch.Tensor, gt_c2w: torch.Tensor) -> None:
    if est_c2w.dim() != 3 or tuple(est_c2w.shape[1:]) not in ((3, 4), (4, 4)) or est_c2w.shape != gt_c2w.shape:
        raise InputError(f"estimated and ground-truth poses must both be (N, 3, 4) camera-to-world, got "
                         f"{tuple(est_c2w.shape)} and {tuple(gt_c2w.shape)}")


def pose_errors(est_c2w: torch.Tensor, gt_c2w: torch.Tensor) -> dict:
    """Align ``est`` to ``gt`` (Sim(3) Procrustes on camera centres, BARF's protocol) and measure errors.

    * ``rotation_deg``: geodesic angle between aligned and GT rotations;
    * ``translation``: BARF's metric, ``|t_aligned - t_gt|`` of the *world-to-camera* translations
      ``t = -R^T c`` (what BARF's tables report, x100);
    * ``centre_distance``: ``|c_aligned - c_gt|`` of the camera centres (another, smaller number for the
      same poses; named as such).

    * ``relative_rotation_deg``: per frame, the mean over the other frames of the angle between the estimated
      and GT relative rotations ``R_i^T R_j`` -- free of the alignment (a rotation of the whole world leaves it
      unchanged). The Sim(3) fit of centres that lie close to a line (a forward-facing capture swept sideways,
      like LLFF's fern) barely fixes a rotation about that line, so ``rotation_deg`` can read 170 deg for
      poses whose relative rotations are a few degrees off; this one cannot.

    Each comes as ``*_mean``/``*_median`` plus per-frame lists; ``rotation_deg_max`` too. Also returned:
    the aligned poses ``aligned`` ``(N, 3, 4)`` float64, the ``sim`` mapping the estimated frame to the GT
    frame, and ``alignment``: ``"sim3"``, or ``"translation"`` when the estimated centres coincide (e.g.
    identity init) and no rotation or scale can be fitted.

    Examples:
        >>> import torch
        >>> from rankfield.nerf import pose_errors
        >>> from rankfield.nerf.camera import look_at
        >>> gt = look_at(torch.tensor([[0.0, -4.0, 1.0], [4.0, 0.0, 1.0], [0.0, 4.0, 1.0], [-4.0, 0.1, 1.5]]))
        >>> e = pose_errors(gt, gt)
        >>> round(e["rotation_deg_mean"], 6), round(e["translation_mean"], 6), e["alignment"]
        (0.0, 0.0, 'sim3')
        >>> pose_errors(torch.eye(4)[:3].expand(4, 3, 4), gt)["alignment"]
        'translation'
        >>> from rankfield.nerf.geometry import so3_exp
        >>> turned = gt.clone()
        >>> turned[:, :, :3] = so3_exp(torch.tensor([[0.0, 0.0, 3.0]])).to(gt.dtype) @ gt[:, :, :3]
        >>> round(pose_errors(turned, gt)["relative_rotation_deg_mean"], 6)  # the world turned: no error
        0.0
    """
    _check_pair(est_c2w, gt_c2w)
    est, gt = est_c2w.detach().double().cpu(), gt_c2w.detach().double().cpu()
    c_est, c_gt = est[:, :3, 3], gt[:, :3, 3]
    spread = (c_est - c_est.mean(0)).norm(dim=-1).max()
    if spread <= 1e-9 * max(1.0, float((c_gt - c_gt.mean(0)).norm(dim=-1).max())):
        sim, alignment = SimilarityTransform(torch.eye(3, dtype=torch.float64), c_gt.mean(0) - c_est.mean(0), 1.0), \
            "translation"
    else:
        sim, alignment = procrustes_sim3(c_est, c_gt), "sim3"
    aligned = apply_sim3_to_poses(sim, est)
    rot = rotation_error_deg(aligned[:, :3, :3], gt[:, :3, :3])
    centre = (aligned[:, :3, 3] - c_gt).norm(dim=-1)
    rel = relative_rotation_errors(est, gt)
    t_w2c = lambda p: -(p[:, :3, :3].transpose(-1, -2) @ p[:, :3, 3:])[..., 0]  # noqa: E731
    trans = (t_w2c(aligned) - t_w2c(gt)).norm(dim=-1)
    return {"rotation_deg_mean": float(rot.mean()), "rotation_deg_median": float(rot.median()),
            "rotation_deg_max": float(rot.max()), "translation_mean": float(trans.mean()),
            "translation_median": float(trans.median()), "centre_distance_mean": float(centre.mean()),
            "centre_distance_median": float(centre.median()),
            "relative_rotation_deg_mean": float(rel.mean()), "relative_rotation_deg_median": float(rel.median()),
            "relative_rotation_deg": rel.tolist(), "rotation_deg": rot.tolist(),
            "translation": trans.tolist(), "centre_distance": centre.tolist(), "aligned": aligned, "sim": sim,
            "alignment": alignment}


def relative_rotation_errors(est_c2w: torch.Tensor, gt_c2w: torch.Tensor) -> torch.Tensor:
    """Per frame ``i``: the mean over ``j != i`` of the angle (degrees) between ``R_i^T R_j`` of ``est`` and of
    ``gt`` (camera-to-world rotations). Invariant to any rotation or similarity of either world, so it needs no
    alignment; ``(N,)`` float64 (zeros for one frame).

    Examples:
        >>> import torch
        >>> from rankfield.nerf.evaluate import relative_rotation_errors
        >>> from rankfield.nerf.geometry import so3_exp
        >>> gt = torch.eye(4)[:3].repeat(3, 1, 1)
        >>> est = gt.clone()
        >>> est[2, :, :3] = so3_exp(torch.tensor([[0.0, 0.1, 0.0]]))[0]  # frame 2 turned by 0.1 rad
        >>> [round(v, 3) for v in relative_rotation_errors(est, gt).tolist()]  # 5.73 deg against frame 2 only
        [2.865, 2.865, 5.73]
    """
    _check_pair(est_c2w, gt_c2w)
    Re, Rg = est_c2w[:, :3, :3].detach().double().cpu(), gt_c2w[:, :3, :3].detach().double().cpu()
    n = Re.shape[0]
    if n < 2:
        return torch.zeros(n, dtype=torch.float64)
    A = (Re.transpose(-1, -2)[:, None] @ Re[None]).reshape(-1, 3, 3)
    B = (Rg.transpose(-1, -2)[:, None] @ Rg[None]).reshape(-1, 3, 3)
    err = rotation_error_deg(A, B).reshape(n, n)
    return err.sum(1) / (n - 1)


def render_view(field, c2w: torch.Tensor, cam, render_cfg: RenderConfig, near: float, far: float) -> dict:
    """Render one full image at camera-to-world ``c2w (3, 4)`` -> ``rgb (H, W, 3)``, ``depth``, ``opacity``.

    Example:
        >>> import torch
        >>> from rankfield.nerf import FieldConfig, Intrinsics, RadianceField, RenderConfig
        >>> from rankfield.nerf.camera import look_at
        >>> from rankfield.nerf.evaluate import render_view
        >>> field = RadianceField(FieldConfig(width=16, depth=1))
        >>> cam = Intrinsics(fx=8.0, fy=8.0, cx=4.0, cy=3.0, width=8, height=6)
        >>> out = render_view(field, look_at(torch.tensor([0.0, -3.0, 0.0])), cam, RenderConfig(n_samples=8), 1.0, 5.0)
        >>> out["rgb"].shape, out["depth"].shape
        (torch.Size([6, 8, 3]), torch.Size([6, 8]))
    """
    device = next(field.parameters()).device
    pts = pixel_points(cam, device=device)
    o, d = rays_from_poses(c2w.float().to(device)[None], pts[None])
    return render_image(field, o[0], d[0], render_cfg, near, far, cam.height, cam.width)


def refine_test_poses(field, images: torch.Tensor, c2w: torch.Tensor, cam, render_cfg: RenderConfig, near: float,
                      far: float, steps: int = 100, lr: float = 1e-3, rays: int = 512, seed: int = 0) -> torch.Tensor:
    """Short photometric se(3) refinement of test poses with the field frozen (BARF's test-time step).

    Runs on the library's training engine (one Adam optimiser over per-view twists, constant LR).
    Returns the refined camera-to-world poses ``(V, 4, 4)``; ``steps=0`` returns ``c2w`` unchanged.

    Examples:
        >>> import torch
        >>> from rankfield.nerf import FieldConfig, RadianceField, RenderConfig, Intrinsics
        >>> from rankfield.nerf.evaluate import refine_test_poses
        >>> cam = Intrinsics(fx=8.0, fy=8.0, cx=4.0, cy=4.0, width=8, height=8)
        >>> c2w = torch.eye(4)[None].clone(); c2w[0, 2, 3] = 3.0
        >>> f = RadianceField(FieldConfig(width=8, depth=1))
        >>> refine_test_poses(f, torch.rand(1, 8, 8, 3), c2w, cam, RenderConfig(n_samples=4), 2.0, 4.0, steps=2).shape
        torch.Size([1, 3, 4])
    """
    device = next(field.parameters()).device
    if steps <= 0:
        return c2w.float().to(device)
    xi_module = torch.nn.Module()
    xi_module.xi = torch.nn.Parameter(torch.zeros(c2w.shape[0], 6, device=device))
    w2c0 = invert(c2w.float().to(device))
    gen = torch.Generator().manual_seed(seed)
    H, W = images.shape[1:3]
    images = images.to(device)
    rows = torch.arange(c2w.shape[0], device=device)[:, None]

    def step_fn(step: int) -> dict:
        v = torch.randint(0, H, (c2w.shape[0], rays), generator=gen).to(device)
        u = torch.randint(0, W, (c2w.shape[0], rays), generator=gen).to(device)
        pts = pixel_points(cam, torch.stack([v, u], -1))
        o, d = rays_from_poses(invert(compose(se3_exp(xi_module.xi), w2c0)), pts)
        out = render_rays(field, o.reshape(-1, 3), d.reshape(-1, 3), render_cfg, near, far, train=False)
        return {"loss": ((out["rgb"] - images[rows, v, u].reshape(-1, 3)) ** 2).mean()}

    req = [p.requires_grad for p in field.parameters()]
    for p in field.parameters():
        p.requires_grad_(False)
    try:
        Trainer(step_fn, {"test_poses": xi_module}, {"poses": Optim(torch.optim.Adam([xi_module.xi], lr=lr))}, steps,
                kind="nerf.refine_test_poses", log_every=max(1, steps), progress=False).run()
    finally:
        for p, r in zip(field.parameters(), req):
            p.requires_grad_(r)
    return invert(compose(se3_exp(xi_module.xi.detach()), w2c0))


def evaluate_views(field, scene, sim: SimilarityTransform | None, render_cfg: RenderConfig,
                   test_time_refine: int = 0, max_views: int | None = None) -> dict:
    """PSNR/SSIM of ``scene``'s views rendered at its GT poses mapped into the learned frame.

    ``sim`` maps the learned frame to the GT frame (from :func:`pose_errors`); ``None`` means the frames
    coincide (e.g. fixed GT poses). Returns means, per-view lists and the rendered images ``(V, H, W, 3)``.

    Example:
        >>> import tempfile
        >>> import torch
        >>> from rankfield.nerf import FieldConfig, RadianceField, RenderConfig, evaluate_views
        >>> from rankfield.nerf import generate_procedural_scene, load_blender
        >>> test = load_blender(generate_procedural_scene(tempfile.mkdtemp(), n_train=1, n_test=2, size=8), "test")
        >>> res = evaluate_views(RadianceField(FieldConfig(width=16, depth=1)), test, None, RenderConfig(n_samples=8))
        >>> len(res["psnr_per_view"]), res["renders"].shape
        (2, torch.Size([2, 8, 8, 3]))
    """
    n = len(scene) if max_views is None else min(max_views, len(scene))
    gt = scene.poses[:n].double()
    inv = sim.inverse() if sim is not None else SimilarityTransform(torch.eye(3, dtype=torch.float64),
                                                                     torch.zeros(3, dtype=torch.float64), 1.0)
    poses = apply_sim3_to_poses(inv, gt).float()
    near, far = scene.near * inv.s, scene.far * inv.s
    if test_time_refine > 0:
        poses = refine_test_poses(field, scene.images[:n], poses, scene.intrinsics, render_cfg, near, far,
                                  steps=test_time_refine).cpu()
    renders, psnrs, ssims = [], [], []
    for i in range(n):
        rgb = render_view(field, poses[i], scene.intrinsics, render_cfg, near, far)["rgb"].cpu().clamp(0, 1)
        renders.append(rgb)
        psnrs.append(psnr(rgb, scene.images[i].cpu()))
        ssims.append(ssim(rgb, scene.images[i].cpu()))
    return {"psnr": sum(psnrs) / n, "ssim": sum(ssims) / n, "psnr_per_view": psnrs, "ssim_per_view": ssims,
            "renders": torch.stack(renders)}
