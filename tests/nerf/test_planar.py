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


def test_barf_problem_follows_barfs_protocol():
    from rankfield.nerf.planar import _sample, make_barf_planar_problem
    p = make_barf_planar_problem(seed=4, canvas=(36, 48), crop_px=18)
    assert p.frame == "canvas" and p.patches.shape == (5, 18, 18, 3)
    assert torch.equal(p.delta[0], torch.zeros(8))  # the gauge patch is unperturbed
    # translations (0,0), (-t,-t), (-t,+t), (+t,-t), (+t,+t) on top of the N(0, sigma^2) noise (here sigma = 0)
    exact = make_barf_planar_problem(seed=4, canvas=(36, 48), crop_px=18, sigma=0.0)
    signs = torch.tensor([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=torch.float32)
    torch.testing.assert_close(exact.delta[1:, :2], 0.2 * signs)
    assert torch.equal(exact.delta[:, 2:], torch.zeros(5, 6))
    assert float((p.delta[1:] - exact.delta[1:]).std()) > 0.03  # the noise is there with sigma = 0.1
    # every crop starts at the centre (same placement), 18 px wide = 0.375 canvas units half-size
    assert torch.allclose(p.placements, torch.diag(torch.tensor([18 / 48, 18 / 48, 1.0])).expand(5, 3, 3))
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    c = apply_homography(p.true_warps, corners.expand(5, 4, 2))
    assert bool((c[..., 0].abs() < 1).all() and (c[..., 1].abs() < 36 / 48).all())  # inside the canvas
    # the perturbation acts in canvas coordinates: G = exp(delta) A
    torch.testing.assert_close(p.true_warps[2], sl3_exp(p.delta[2]) @ p.placements[2])
    torch.testing.assert_close(p.patches[0].reshape(-1, 3), _sample(p.image, apply_homography(p.placements[0], p.uv)))


def test_barf_config_and_fixed_gauge():
    from rankfield.nerf.planar import make_barf_planar_problem
    cfg = PlanarConfig.barf()
    assert (cfg.steps, cfg.lr_field, cfg.lr_homography, cfg.lr_end_ratio, cfg.n_frequencies, cfg.c2f, cfg.fix_first,
            cfg.width, cfg.depth) == (5000, 1e-3, 1e-3, 1.0, 8, (0.0, 0.4), True, 256, 4)
    with pytest.raises(InputError, match="pixels_per_step"):
        PlanarConfig(pixels_per_step=0).validate()
    p = make_barf_planar_problem(seed=0, canvas=(36, 48), crop_px=18)
    small = PlanarConfig.barf(steps=3, width=16, depth=2, latent_dim=4, hidden=8, pixels_per_step=40)
    for m in ("homography", "warp"):
        r = solve_planar(p, m, small)
        # the estimate starts with every crop at the centre; the fixed first crop is exact (no gauge fit), so the
        # initial error is the mean corner offset of the other four crops
        true_c = apply_homography(p.true_warps, torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
                                  .expand(5, 4, 2))
        start_c = apply_homography(p.placements, torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
                                   .expand(5, 4, 2))
        expected = float((true_c - start_c).norm(dim=-1).mean()) * 48 / 2
        assert r["initial_corner_error_px"] == pytest.approx(expected, rel=1e-5)


def test_corner_error_without_gauge_fit_is_the_plain_distance():
    corners = torch.rand(5, 4, 2, dtype=torch.float64) * 2 - 1
    G = sl3_exp(torch.randn(8, dtype=torch.float64) * 0.2)
    moved = apply_homography(G, corners.reshape(1, -1, 2)).reshape(5, 4, 2)
    plain = float((moved - corners).norm(dim=-1).mean()) * 64
    assert corner_error_px(moved, corners, 128, remove_gauge=False) == pytest.approx(plain, rel=1e-9)
    assert corner_error_px(moved, corners, 128) < 1e-6


def test_record_corners_traces_the_homography_estimate():
    """The recorded corners are the warp's corners at each log step: the first log step is the
    initial placement moved by its first updates, the last equals the returned estimate exactly."""
    problem = make_planar_problem(seed=0)
    res = solve_planar(problem, "homography", PlanarConfig(steps=40, width=16), record_corners=True)
    corners = torch.tensor(res["history"]["corners"])
    assert corners.shape == (len(res["history"]["step"]), 5, 4, 2)
    torch.testing.assert_close(corners[-1], res["corners"], rtol=0, atol=1e-6)
    err = corner_error_px(res["corners"], res["true_corners"], problem.image.shape[1], remove_gauge=True)
    assert err == pytest.approx(res["corner_error_px"], rel=1e-6)
    assert "corners" not in solve_planar(problem, "homography", PlanarConfig(steps=5, width=16))["history"]


def test_field_first_layer_init_is_scaled_as_barfs_under_coarse_to_fine():
    # BARF multiplies the first layer's init by sqrt(in_dim / 2) when the c2f window is on: only x, y feed it at first
    from rankfield.nerf.planar import _ImageField
    fields = {}
    for c2f in (None, (0.0, 0.4)):
        torch.manual_seed(0)
        fields[c2f] = _ImageField(PlanarConfig(c2f=c2f, n_frequencies=8, width=16))
    plain, scaled = fields[None].net[0], fields[(0.0, 0.4)].net[0]
    factor = (fields[None].pe.out_dim / 2) ** 0.5  # 34 inputs -> sqrt(17)
    torch.testing.assert_close(scaled.weight, plain.weight * factor)
    torch.testing.assert_close(scaled.bias, plain.bias * factor)
    torch.testing.assert_close(fields[None].net[2].weight, fields[(0.0, 0.4)].net[2].weight)  # later layers as they were


def test_planar_warp_uses_scaling_couplings_by_default(monkeypatch):
    import rankfield.nerf.planar as planar
    seen = []
    real = planar.InvertibleWarp

    def spy(*args, **kwargs):
        seen.append(kwargs.get("scaling"))
        return real(*args, **kwargs)

    monkeypatch.setattr(planar, "InvertibleWarp", spy)
    p = make_planar_problem(seed=0, canvas=(48, 64), patch_px=8)
    small = dict(steps=2, width=16, latent_dim=4, hidden=8)
    solve_planar(p, "warp", PlanarConfig(**small))
    solve_planar(p, "warp", PlanarConfig(**small, warp_scaling=False))
    assert seen == [True, False]
    assert PlanarConfig.from_dict(PlanarConfig(warp_scaling=False).to_dict()).warp_scaling is False
