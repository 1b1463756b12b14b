import pytest
import torch

from rankfield.errors import InputError
from rankfield.nerf.planar import (PlanarConfig, apply_homography, corner_error_px, fit_homography_torch,
                                   make_planar_problem, sl3_exp, solve_planar, success_rate)


def test_sl3_exp_has_unit_determinant_and_identity_at_zero():
    h = torch.randn(4, 8, dtype=torch.float64) * 0.3
    assert torch.allclose(torch.linalg.det(sl3_exp(h)), torch.ones(4, dtype=torch.float64))
    assert torch.equal(sl3_exp(torch.zeros(8)), torch.eye(3))


def test_corner_error_ignores_global_homography_gauge():
    H = sl3_exp(torch.randn(8, dtype=torch.float64) * 0.2)
    corners = torch.rand(5, 4, 2, dtype=torch.float64) * 2 - 1
    G = sl3_exp(torch.randn(8, dtype=torch.float64) * 0.2)
    moved = apply_homography(G, corners.reshape(1, -1, 2)).reshape(5, 4, 2)
    assert corner_error_px(moved, corners, 128) < 1e-6
    shifted = corners.clone()
    shifted[0, 0] += torch.tensor([4 / 64, 0.0], dtype=torch.float64)  # one corner off by 4 px
    assert corner_error_px(shifted, corners, 128) > 0.05
    # the differentiable DLT recovers a homography exactly
    src = torch.rand(2, 30, 2, dtype=torch.float64)
    dst = apply_homography(H.expand(2, 3, 3), src)
    assert torch.allclose(fit_homography_torch(src, dst), (H / H[2, 2]).expand(2, 3, 3), atol=1e-8)


def test_problem_patches_sample_the_true_warps():
    p = make_planar_problem(seed=3, canvas=(48, 64), patch_px=8)
    assert p.patches.shape == (5, 8, 8, 3)
    assert float(p.delta.std()) > 0.03
    with pytest.raises(InputError):
        make_planar_problem(n_patches=7)


def test_solvers_run_and_report():
    p = make_planar_problem(seed=0, canvas=(48, 64), patch_px=8)
    for m in ("homography", "warp"):
        r = solve_planar(p, m, PlanarConfig(steps=3, width=16, latent_dim=4, hidden=8))
        assert r["initial_corner_error_px"] > 0.5 and r["corner_error_px"] >= 0 and isinstance(r["success"], bool)
    with pytest.raises(InputError):
        solve_planar(p, "affine")


@pytest.mark.slow
def test_homography_alignment_improves():
    r = success_rate("homography", 2, PlanarConfig(), sigma=0.1, first_seed=0)
    assert all(x["corner_error_px"] < x["initial_corner_error_px"] for x in r["rows"])
