"""Paths of rankfield.nerf that run on the training engine: test-time pose refinement against an analytic
scene, the hash-grid and Gaussian fields, and the NaN guard of joint training."""

import math

import pytest
import torch
from torch import nn

from rankfield import TrainingDivergedError, load_checkpoint
from rankfield.nerf import (FieldConfig, FixedPoses, RadianceField, RenderConfig, SE3Refinement, TrainConfig,
                            fit_pose_nerf, generate_procedural_scene, load_blender, train_scene)
from rankfield.nerf.camera import look_at
from rankfield.nerf.evaluate import refine_test_poses
from rankfield.nerf.camera import Intrinsics, pixel_points, rays_from_poses
from rankfield.nerf.geometry import compose, invert, rotation_error_deg, se3_exp
from rankfield.nerf.render import render_image


class _Blobs(nn.Module):
    """An analytic radiance field: three coloured Gaussian blobs (exact, nothing to learn)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))  # gives the field a device
        self.register_buffer("centres", torch.tensor([[0.3, 0.0, 0.0], [-0.25, 0.25, 0.1], [0.0, -0.3, -0.2]]))
        self.register_buffer("colours", torch.tensor([[0.9, 0.2, 0.1], [0.1, 0.8, 0.2], [0.2, 0.3, 0.9]]))

    def forward(self, x, d=None):
        w = torch.exp(-((x[..., None, :] - self.centres) ** 2).sum(-1) / (2 * 0.18 ** 2))  # (..., 3)
        sigma = 25.0 * w.sum(-1)
        rgb = (w[..., None] * self.colours).sum(-2) / w.sum(-1, keepdim=True).clamp(min=1e-6)
        return sigma + 0 * self.dummy, rgb.clamp(0, 1)


def _views(n=4, size=24):
    cam = Intrinsics(fx=size * 1.2, fy=size * 1.2, cx=size / 2, cy=size / 2, width=size, height=size)
    angles = torch.linspace(0, 2 * math.pi, n + 1)[:-1]
    eyes = torch.stack([2.2 * torch.cos(angles), 2.2 * torch.sin(angles), 0.6 * torch.ones(n)], -1)
    return cam, look_at(eyes).float()


def test_test_time_refinement_recovers_rotation_and_translation():
    field, cfg = _Blobs(), RenderConfig(n_samples=48, white_background=True, stratified=False)
    cam, c2w = _views()
    pts = pixel_points(cam)
    images = torch.stack([render_image(field, *[r[0] for r in rays_from_poses(p[None], pts[None])], cfg, 1.0, 3.5,
                                       cam.height, cam.width)["rgb"] for p in c2w])
    xi = torch.randn(len(c2w), 6, generator=torch.Generator().manual_seed(0)) * 0.03
    start = invert(compose(se3_exp(xi), invert(c2w)))
    # measured: rotation 2.93 -> 0.43 deg, translation 0.050 -> 0.016 (300 steps at lr 1e-2)
    refined = refine_test_poses(field, images, start, cam, cfg, 1.0, 3.5, steps=300, lr=1e-2, rays=256)
    rot0 = rotation_error_deg(start[:, :3, :3], c2w[:, :3, :3]).mean()
    rot1 = rotation_error_deg(refined[:, :3, :3], c2w[:, :3, :3]).mean()
    tr0 = (start[:, :3, 3] - c2w[:, :3, 3]).norm(dim=-1).mean()
    tr1 = (refined[:, :3, 3] - c2w[:, :3, 3]).norm(dim=-1).mean()
    assert rot1 < 0.25 * rot0 and tr1 < 0.45 * tr0, (float(rot0), float(rot1), float(tr0), float(tr1))
    assert torch.equal(refine_test_poses(field, images, start, cam, cfg, 1.0, 3.5, steps=0), start)


@pytest.fixture(scope="module")
def tiny_scene(tmp_path_factory):
    root = generate_procedural_scene(tmp_path_factory.mktemp("proc"), n_train=12, n_test=2, size=20)
    return load_blender(root, "train"), load_blender(root, "test")


@pytest.mark.parametrize("field_config, gain", [
    # measured over 150 steps: first log entry -> mean of the last 100 steps
    (FieldConfig(encoding="hashgrid", width=32, depth=1, dir_frequencies=2, hash_levels=8, hash_log2_size=12), 2.2),
    (FieldConfig(encoding="none", activation="gauss", width=64, depth=2, dir_frequencies=0, coarse_to_fine=None), 5.3),
], ids=["hashgrid", "gauss"])
def test_hashgrid_and_gaussian_fields_learn_the_scene(tiny_scene, field_config, gain):
    train, test = tiny_scene
    cfg = TrainConfig(steps=150, rays_per_step=384, lr_field=3e-3, render=RenderConfig(n_samples=24), progress=False)
    res = fit_pose_nerf(train, test, train.poses, "fixed", field_config=field_config, train_config=cfg, device="cpu")
    first = res.train.history["psnr"][0]
    assert res.metrics["train_psnr_last100"] > first + 0.7 * gain, (first, res.metrics)
    assert res.metrics["test_psnr"] > res.metrics["train_psnr_last100"] - 1.5


class _NaNAfter(RadianceField):
    def __init__(self, config, after):
        super().__init__(config)
        self.calls, self.after = 0, after

    def forward(self, x, d=None):
        self.calls += 1
        sigma, rgb = super().forward(x, d)
        return (sigma * float("nan"), rgb) if self.calls > self.after else (sigma, rgb)


def test_joint_training_stops_on_nan_and_keeps_the_last_good_checkpoint(tiny_scene, tmp_path):
    train, _ = tiny_scene
    field = _NaNAfter(FieldConfig(width=16, depth=1), after=23)
    ck = tmp_path / "ck.pt"
    cfg = TrainConfig(steps=60, rays_per_step=64, render=RenderConfig(n_samples=8), progress=False,
                      log_every=5, checkpoint_every=10)
    with pytest.raises(TrainingDivergedError, match="last good checkpoint"):
        train_scene(train, field, SE3Refinement(train.poses), cfg, checkpoint_path=ck)
    state = load_checkpoint(ck, kind="nerf.train_scene")
    assert state["step"] == 20
    assert all(torch.isfinite(v).all() for m in state["modules"].values() for v in m.values())


def test_schedule_in_steps_makes_a_short_run_a_prefix_of_the_long_one(tiny_scene):
    """With ``schedule_steps`` the LR decays, the pose warm-up and the coarse-to-fine window are laid out on the
    protocol's length: a 6-step run is the first 6 steps of the 12-step run, and not a compressed copy."""
    train, _ = tiny_scene

    def run(steps, schedule_steps):
        cfg = TrainConfig(steps=steps, schedule_steps=schedule_steps, rays_per_step=64, lr_field=3e-3, lr_pose=3e-3,
                          pose_warmup=2, render=RenderConfig(n_samples=8), log_every=1, progress=False)
        torch.manual_seed(0)
        fld = RadianceField(FieldConfig(width=16, depth=1, n_frequencies=4, dir_frequencies=0, coarse_to_fine=(0.1, 0.9)))
        pm = SE3Refinement(train.poses)
        res = train_scene(train, fld, pm, cfg)
        return res.history["loss"], pm.xi.detach().clone(), fld.encoder.band_weights()

    short, xi_short, bands_short = run(6, 12)
    long, _, bands_long = run(12, 12)
    assert short == long[:6]
    assert not torch.equal(xi_short, torch.zeros_like(xi_short))  # the poses moved after the warm-up
    # the window (0.1, 0.9) on 12 steps; the last step of 6 (index 5) trains at alpha = 4 (5/12 - 0.1) / 0.8
    def bands(alpha):
        return torch.tensor([(1 - math.cos(math.pi * min(max(alpha - k, 0.0), 1.0))) / 2 for k in range(4)])

    assert torch.allclose(bands_short, bands(4 * (5 / 12 - 0.1) / 0.8), atol=1e-6)  # 1.58 bands open
    assert torch.equal(bands_long, torch.ones(4))
    compressed, _, bands_c = run(6, None)  # the same window compressed into 6 steps: 3.67 bands open at the end
    assert torch.allclose(bands_c, bands(4 * (5 / 6 - 0.1) / 0.8), atol=1e-6)
    assert compressed[0] == short[0] and compressed != short


def test_pose_deviation_is_chordal_rotation_plus_centre_shift():
    from rankfield.nerf.geometry import so3_exp
    from rankfield.nerf.train import pose_deviation

    ref = look_at(torch.tensor([[0.0, -4.0, 1.0], [3.0, 0.0, 1.0]])).float()
    moved = ref.clone()
    moved[:, :3, :3] = ref[:, :3, :3] @ so3_exp(torch.tensor([[0.0, 0.3, 0.0], [0.2, 0.0, 0.0]]))
    moved[:, :3, 3] += torch.tensor([[0.1, 0.0, 0.0], [0.0, 0.0, 0.0]])
    expected = 2 * (1 - torch.cos(torch.tensor([0.3, 0.2]))) + torch.tensor([0.01, 0.0])
    assert torch.allclose(pose_deviation(moved, ref), expected, atol=1e-6)
    assert torch.equal(pose_deviation(ref, ref), torch.zeros(2))


def test_pose_prior_holds_given_poses_where_joint_training_walks_away(tiny_scene):
    """Good poses freed with a young field walk away (Adam takes full-size steps on noisy gradients, and the
    field follows them); the prior of GIVEN_POSES holds them. Same rays, same field init, GT poses given."""
    from rankfield.nerf.train import GIVEN_POSES

    train, test = tiny_scene

    def run(pose_prior):
        cfg = TrainConfig(steps=300, rays_per_step=384, lr_field=3e-3, render=RenderConfig(n_samples=24),
                          pose_prior=pose_prior, progress=False)
        return fit_pose_nerf(train, test, train.poses.clone(), "se3",
                             field_config=FieldConfig(width=48, depth=2, n_frequencies=6, dir_frequencies=2),
                             train_config=cfg, device="cpu").metrics

    free = run(pose_prior=0.0)
    held = run(pose_prior=GIVEN_POSES["pose_prior"])
    # measured: relative rotation 12.5 deg free, 0.86 held; Sim(3) rotation 9.6 and 0.61
    assert free["relative_rotation_deg"] > 3 * held["relative_rotation_deg"], (free, held)
    assert held["rotation_deg"] < 1.0, held


def test_pose_lr_ramp_rises_linearly_from_the_first_pose_step(tiny_scene):
    """``pose_lr_ramp`` scales the pose LR by (k + 1) / ramp on the k-th pose step (after ``pose_warmup``), then
    leaves the schedule alone; the poses move from their first step and the field's LR is untouched."""
    train, _ = tiny_scene
    seen = []

    def record(trainer, record):
        seen.append((trainer.step, trainer.optims["pose"].optimizer.param_groups[0]["lr"],
                     trainer.optims["field"].optimizer.param_groups[0]["lr"]))

    cfg = TrainConfig(steps=8, rays_per_step=32, lr_field=2e-3, lr_field_end=2e-3, lr_pose=1e-3, lr_pose_end=1e-3,
                      pose_warmup=2, pose_lr_ramp=4, render=RenderConfig(n_samples=8), log_every=1, progress=False)
    pm = SE3Refinement(train.poses)
    train_scene(train, RadianceField(FieldConfig(width=8, depth=1, n_frequencies=2, dir_frequencies=0)), pm, cfg,
                callbacks=[record])
    # the LR the next step will use, read after each step: the 1st-4th pose steps (after 2 warm-up steps) use 1/4-4/4
    lrs = {step: round(lr, 9) for step, lr, _ in seen}
    assert [lrs[s] for s in (2, 3, 4, 5, 6)] == [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3]
    assert {round(f, 9) for _, _, f in seen} == {2e-3}
    assert not torch.equal(pm.xi.detach(), torch.zeros_like(pm.xi))


def test_pixel_jitter_casts_rays_through_uniform_points_of_their_pixels(tiny_scene):
    """``pixel_jitter=False`` casts every ray through its pixel's centre; ``True`` through a uniform point of the
    pixel: offsets in (-0.5, 0.5) with mean 0 and variance 1/12 in each axis (an area-averaged pixel's footprint)."""
    train, _ = tiny_scene
    cam = train.intrinsics

    class Spy(FixedPoses):
        def rays_and_regularization(self, idx, points_cam):
            seen.append(points_cam.detach().reshape(-1, 3).clone())
            return super().rays_and_regularization(idx, points_cam)

    def offsets(jitter):
        seen.clear()
        cfg = TrainConfig(steps=20, rays_per_step=240, pixel_jitter=jitter, render=RenderConfig(n_samples=4),
                          log_every=10, progress=False)
        train_scene(train, RadianceField(FieldConfig(width=8, depth=1, n_frequencies=2, dir_frequencies=0)),
                    Spy(train.poses), cfg)
        pts = torch.cat(seen)
        u = pts[:, 0] * cam.fx + cam.cx  # continuous pixel coordinates (pixel k spans [k, k + 1))
        v = -pts[:, 1] * cam.fy + cam.cy
        return torch.stack([u, v], -1).double() % 1.0 - 0.5  # offset from the pixel's centre

    seen = []
    centred = offsets(False)
    assert centred.abs().max() < 1e-4
    off = offsets(True)  # 20 x 240 rays
    assert off.abs().max() < 0.5
    assert off.mean(0).abs().max() < 0.02  # standard error 0.29 / sqrt(4800) = 0.004
    assert torch.allclose(off.var(0), torch.full((2,), 1 / 12, dtype=off.dtype), atol=0.006)
