"""Short end-to-end runs on tiny procedural scenes: pose error must go down."""

import pytest
import torch

from rankfield.nerf import (FieldConfig, RenderConfig, TrainConfig, fit_pose_nerf, generate_procedural_scene,
                            load_blender, perturb_poses_barf)


@pytest.fixture(scope="module")
def tiny_scene(tmp_path_factory):
    root = generate_procedural_scene(tmp_path_factory.mktemp("proc"), n_train=12, n_test=2, size=20)
    return load_blender(root, "train"), load_blender(root, "test")


def _run(scene, kind, steps, seed=0):
    train, test = scene
    # camera-side noise: this checks the refinement mechanics at a tiny budget (BARF's world-side noise is
    # not registered at this budget by either correction side; see SE3Refinement)
    init = perturb_poses_barf(train.poses, 0.06, seed=1, side="camera")
    cfg = TrainConfig(steps=steps, rays_per_step=384, lr_field=3e-3, render=RenderConfig(n_samples=24), progress=False)
    return fit_pose_nerf(train, test, init, kind, field_config=FieldConfig(width=48, depth=2, n_frequencies=6,
                                                                           dir_frequencies=2),
                         train_config=cfg, device="cpu", seed=seed)


def test_se3_refinement_reduces_rotation_and_translation_error(tiny_scene):
    res = _run(tiny_scene, "se3_camera", 500)
    m = res.metrics
    assert m["initial_rotation_deg"] > 4
    # measured: rotation 5.30 -> 3.88 deg, translation 0.334 -> 0.142 (BARF's metric)
    assert m["rotation_deg"] < 0.8 * m["initial_rotation_deg"], m
    assert m["translation"] < 0.6 * m["initial_translation"], m
    # the alignment-free error falls too (a ring of cameras: Sim(3) is well posed, the two agree in trend)
    assert m["relative_rotation_deg"] < 0.9 * m["initial_relative_rotation_deg"], m
    assert m["train_psnr_last100"] > 13
    assert 0 <= m["test_ssim"] <= 1


@pytest.mark.slow
def test_warp_reduces_pose_error_at_cli_default_size(tmp_path):
    """The warp needs the CLI-default budget (32 px, 24 views, 1500 steps, ~90 s); on the tiny scene above it
    does not reliably improve within a few hundred steps."""
    from rankfield.nerf.poses import WarpConfig

    root = generate_procedural_scene(tmp_path, n_train=24, n_test=2, size=32)
    train, test = load_blender(root, "train"), load_blender(root, "test")
    init = perturb_poses_barf(train.poses, 0.08, seed=1, side="camera")
    cfg = TrainConfig(steps=1500, rays_per_step=480, lr_field=3e-3, lr_pose=3e-3, render=RenderConfig(n_samples=24),
                      progress=False)
    res = fit_pose_nerf(train, test, init, "warp", field_config=FieldConfig(width=64, depth=3, n_frequencies=6,
                                                                            dir_frequencies=2),
                        warp_config=WarpConfig(latent_dim=32, hidden=64, rigidity_weight=1e3), train_config=cfg,
                        device="cpu")
    m = res.metrics
    assert m["rotation_deg"] < 0.7 * m["initial_rotation_deg"], m


def test_fixed_gt_poses_learn_the_scene(tiny_scene):
    train, test = tiny_scene
    cfg = TrainConfig(steps=150, rays_per_step=384, lr_field=3e-3, render=RenderConfig(n_samples=24), progress=False)
    res = fit_pose_nerf(train, test, train.poses, "fixed", field_config=FieldConfig(width=48, depth=2, n_frequencies=6,
                                                                                   dir_frequencies=2),
                        train_config=cfg, device="cpu", pose_curve_every=50)
    assert res.metrics["rotation_deg"] < 0.05
    curve = res.metrics["pose_curve"]
    assert curve["step"] == [0, 50, 100, 150] and max(curve["rotation_deg"]) < 1e-6
    assert max(curve["relative_rotation_deg"]) < 1e-6 and res.metrics["relative_rotation_deg"] < 1e-6
    first = res.train.history["psnr"][0]  # the first log entry: mean MSE of steps 1-10
    assert res.metrics["train_psnr_last100"] > first + 2
