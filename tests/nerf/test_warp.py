import math
import pytest

import torch

from rankfield.nerf.geometry import rigid_fit, se3_exp
from rankfield.nerf.poses import (FixedPoses, InvertibleWarp, InvertibleWarpPoses, SE3Refinement, WarpConfig,
                                  make_pose_model)
from rankfield.nerf.procedural import procedural_camera_poses
from rankfield.nerf.camera import pixel_points, rays_from_poses, Intrinsics


def _randomize(module, scale=0.3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)


def test_warp_is_identity_at_init():
    init = procrustes = procedural_camera_poses(4).float()
    m = InvertibleWarpPoses(init, WarpConfig(latent_dim=16, hidden=32))
    x = torch.randn(4, 7, 3) * 3
    assert torch.equal(m.warp(x, torch.arange(4)), x)
    # explicit poses from the Kabsch fit equal the initial poses
    assert torch.allclose(m.poses(), init, atol=1e-5)
    pts = pixel_points(Intrinsics(20, 20, 8, 8, 16, 16))[None].expand(4, -1, -1)
    o, d = m.rays(torch.arange(4), pts)
    o2, d2 = rays_from_poses(init, pts)
    assert torch.allclose(o, o2, atol=1e-5) and torch.allclose(d, d2, atol=1e-5)
    assert m.regularization(torch.arange(4), pts).item() < 1e-8


def test_warp_exact_inverse_after_training_like_perturbation():
    torch.manual_seed(0)
    net = InvertibleWarp(latent_dim=8, hidden=32, n_frequencies=6).double()
    _randomize(net, 0.2)
    x = torch.randn(64, 3, dtype=torch.float64)
    code = torch.randn(64, 8, dtype=torch.float64)
    y = net(x, code)
    assert (y - x).abs().max() > 0.1  # the warp really moves points
    # algebraically exact; float64 round-off only (the randomized warp is strongly nonlinear)
    assert torch.allclose(net.inverse(y, code), x, atol=1e-9)
    assert torch.allclose(net(net.inverse(x, code), code), x, atol=1e-9)


def test_2d_warp_inverse():
    torch.manual_seed(0)
    net = InvertibleWarp(latent_dim=4, hidden=16, axes=(0, 1), dims=2).double()
    _randomize(net, 0.5, seed=3)
    x, c = torch.randn(10, 2, dtype=torch.float64), torch.randn(10, 4, dtype=torch.float64)
    assert torch.allclose(net.inverse(net(x, c), c), x, atol=1e-10)


def test_rigidity_loss_zero_for_rigid_and_positive_for_nonrigid_warp():
    init = torch.eye(4)[:3].expand(2, 3, 4).clone()
    m = InvertibleWarpPoses(init, WarpConfig(latent_dim=8, hidden=16, rigidity_weight=1.0))
    pts = torch.randn(2, 30, 3)
    _randomize(m.net, 0.5)
    assert m.regularization(torch.arange(2), pts).item() > 1e-4


def test_se3_refinement_and_fixed_interfaces():
    init = procedural_camera_poses(3).float()
    for kind in ("fixed", "se3", "warp"):
        m = make_pose_model(kind, init, WarpConfig(latent_dim=8, hidden=16))
        assert torch.allclose(m.poses(), init, atol=1e-5)
    m = SE3Refinement(init, side="camera")
    with torch.no_grad():
        m.xi[0] = torch.tensor([0.0, 0.0, 0.1, 0.0, 0.0, 0.0])
    # camera side, w2c' = exp(xi) w2c: the camera rotates about its own z; its centre stays put (pure rotation)
    assert torch.allclose(m.poses()[0, :, 3], init[0, :, 3], atol=1e-5)
    assert torch.allclose(m.poses()[1:], init[1:], atol=1e-6)
    w = SE3Refinement(init)  # world side (BARF): w2c' = w2c exp(xi): the centre orbits the world z axis by -0.1 rad
    with torch.no_grad():
        w.xi[0] = torch.tensor([0.0, 0.0, 0.1, 0.0, 0.0, 0.0])
    c, c0 = w.poses()[0, :, 3].double(), init[0, :, 3].double()
    Rz = torch.tensor([[math.cos(0.1), math.sin(0.1), 0.0], [-math.sin(0.1), math.cos(0.1), 0.0], [0.0, 0.0, 1.0]],
                      dtype=torch.float64)
    assert torch.allclose(c, Rz @ c0, atol=1e-5)


def test_raw_input_init_starts_from_the_coordinates_only():
    from rankfield.errors import InputError
    from rankfield.nerf.poses import CouplingBlock, InvertibleWarp
    for dims in (2, 3):
        block = CouplingBlock(0, latent_dim=4, hidden=16, n_frequencies=3, coarse_to_fine=None, dims=dims,
                              init="raw_input")
        n_other = dims - 1
        w_a = block.net_a[0].weight  # the weight-normed first layer of each network
        w_b = block.net_b[0].weight
        assert torch.all(w_a[:, n_other:] == 0) and torch.all(w_a[:, :n_other].abs().sum(1) > 0)
        assert torch.all(w_b[:, 1:] == 0) and torch.all(w_b[:, :1].abs().sum(1) > 0)
    warp = InvertibleWarp(4, hidden=16, n_frequencies=3, coarse_to_fine=None, axes=(0, 1, 0, 1), dims=2,
                          init="raw_input")
    x, code = torch.rand(50, 2) * 2 - 1, torch.randn(50, 4)
    torch.testing.assert_close(warp(x, code), x)  # identity at init
    with torch.no_grad():
        for p in warp.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    torch.testing.assert_close(warp.inverse(warp(x, code), code), x, atol=1e-5, rtol=0)  # still exactly invertible
    with pytest.raises(InputError, match="coupling init"):
        CouplingBlock(0, 4, 16, 3, None, 2, init="zeros")


def test_warp_config_init_reaches_the_pose_model():
    from rankfield.errors import InputError

    init = procedural_camera_poses(3)
    pm = InvertibleWarpPoses(init, WarpConfig(latent_dim=8, hidden=16, init="raw_input"))
    for block in pm.net.blocks:
        assert torch.all(block.net_a[0].weight[:, 2:] == 0) and torch.all(block.net_b[0].weight[:, 1:] == 0)
    default = InvertibleWarpPoses(init, WarpConfig(latent_dim=8, hidden=16))
    assert default.net.blocks[0].net_a[0].weight[:, 2:].abs().sum() > 0
    torch.testing.assert_close(pm.poses(), init.float(), atol=1e-5, rtol=0)  # identity at init either way
    with pytest.raises(InputError):
        WarpConfig(init="zeros").validate()


def _jacobian_dets_2d(net, x, code):
    jac = torch.func.vmap(torch.func.jacrev(lambda xi, ci: net(xi[None], ci[None])[0]))(x, code)
    return torch.linalg.det(jac)


def test_shear_couplings_preserve_area_and_scaling_couplings_change_it():
    # Shear/rotation couplings have Jacobian determinant exactly 1: they cannot follow a homography's change of area
    # (why the 2-D warp stalled at 12-21 px even when the image was known); scaling couplings (Real NVP) can.
    x, code = torch.rand(40, 2, dtype=torch.float64) * 2 - 1, torch.randn(40, 4, dtype=torch.float64)
    plain = InvertibleWarp(4, hidden=16, n_frequencies=3, coarse_to_fine=None, axes=(0, 1, 0, 1), dims=2).double()
    _randomize(plain, 0.5, seed=1)
    assert (plain(x, code) - x).abs().max() > 0.1
    torch.testing.assert_close(_jacobian_dets_2d(plain, x, code), torch.ones(40, dtype=torch.float64))
    scaled = InvertibleWarp(4, hidden=16, n_frequencies=3, coarse_to_fine=None, axes=(0, 1, 0, 1), dims=2,
                            scaling=True).double()
    torch.testing.assert_close(scaled(x, code), x)  # identity at init
    _randomize(scaled, 0.1, seed=1)
    dets = _jacobian_dets_2d(scaled, x, code)
    assert bool(torch.isfinite(dets).all()) and (dets - 1).abs().max() > 0.1
    torch.testing.assert_close(scaled.inverse(scaled(x, code), code), x, atol=1e-9, rtol=0)


def test_scaling_couplings_fit_an_area_changing_map():
    # x -> 1.2 x (area x1.44): the scaling warp fits it to a small residual, the area-preserving one cannot
    torch.manual_seed(0)
    x = torch.rand(256, 2) * 2 - 1
    code = torch.zeros(256, 4)
    errs = {}
    for scaling in (False, True):
        net = InvertibleWarp(4, hidden=32, n_frequencies=2, coarse_to_fine=None, axes=(0, 1, 0, 1), dims=2,
                             scaling=scaling)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        for _ in range(600):
            loss = ((net(x, code) - 1.2 * x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        errs[scaling] = loss.item() ** 0.5
    assert errs[True] < 0.005 and errs[False] > 20 * errs[True]  # measured 0.00015 against 0.053


def test_scaling_couplings_are_2d_only():
    from rankfield.errors import InputError
    from rankfield.nerf.poses import CouplingBlock

    with pytest.raises(InputError, match="2-D"):
        CouplingBlock(0, 4, 16, 3, None, 3, scaling=True)
