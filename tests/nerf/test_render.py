import math

import pytest
import torch

from rankfield.nerf.camera import Intrinsics, look_at, pixel_points, rays_from_poses
from rankfield.nerf.render import (RenderConfig, render_image, render_rays, sample_depths, sample_importance,
                                   volume_render)


def test_constant_density_opacity_matches_beer_lambert():
    n, near, far, sigma = 64, 2.0, 6.0, 0.3
    t = sample_depths(3, near, far, n, stratified=False)
    d = torch.tensor([[0.0, 0.0, -1.0], [0.3, 0.0, -1.0], [0.0, 0.5, -1.0]])
    out = volume_render(torch.full((3, n), sigma), torch.zeros(3, n, 3), t, d, white_background=True)
    expected = 1 - torch.exp(-sigma * (far - near) * d.norm(dim=-1))
    assert torch.allclose(out["opacity"], expected, atol=1e-5)
    # black samples on white: colour = transmittance left
    assert torch.allclose(out["rgb"], (1 - expected)[:, None].expand(3, 3), atol=1e-5)


def test_opaque_slab_depth_and_colour():
    n = 100
    t = sample_depths(1, 2.0, 6.0, n, stratified=False)
    sigma = torch.where((t > 3.5) & (t < 3.6), 1e4, 0.0)
    rgb = torch.zeros(1, n, 3)
    rgb[..., 1] = 1.0
    out = volume_render(sigma, rgb, t, torch.tensor([[0.0, 0.0, -1.0]]), white_background=False)
    assert out["depth"].item() == pytest.approx(3.52, abs=0.03)
    assert torch.allclose(out["rgb"], torch.tensor([[0.0, 1.0, 0.0]]), atol=1e-4)


def test_inverse_depth_sampling_is_uniform_in_disparity():
    t = sample_depths(2, 1.0, 100.0, 10, stratified=False, inverse_depth=True)
    disp = 1 / t[0]
    assert torch.allclose(disp[1:] - disp[:-1], (disp[1] - disp[0]).expand(9), atol=1e-5)
    assert bool((t[:, 1:] > t[:, :-1]).all())
    s = sample_depths(100, 2.0, 6.0, 8, stratified=True, generator=torch.Generator().manual_seed(0))
    assert bool((s >= 2).all() and (s <= 6).all() and (s[:, 1:] > s[:, :-1]).all())


def test_camera_convention_centre_pixel_looks_at_target():
    cam = Intrinsics(10.0, 10.0, 2.0, 2.0, 4, 4)  # principal point between the 4 central pixels
    pose = look_at(torch.tensor([[0.0, -4.0, 1.0]])).float()
    # pixel (row 1, col 2) is right of and above the principal point: +x right, +y up in the camera
    p = pixel_points(cam, torch.tensor([[1, 2]]))
    assert torch.allclose(p, torch.tensor([[0.05, 0.05, -1.0]]))
    o, d = rays_from_poses(pose, pixel_points(cam)[None])
    centre_dir = d[0].mean(0)
    to_origin = -pose[0, :, 3]
    cos = (centre_dir @ to_origin) / (centre_dir.norm() * to_origin.norm())
    assert cos.item() == pytest.approx(1.0, abs=1e-6)


def test_chunked_render_equals_unchunked():
    from rankfield.nerf.field import FieldConfig, RadianceField

    torch.manual_seed(0)
    f = RadianceField(FieldConfig(width=16, depth=2))
    o = torch.zeros(50, 3)
    d = torch.randn(50, 3)
    a = render_image(f, o, d, RenderConfig(n_samples=8, chunk=7), 2.0, 6.0, 5, 10)
    b = render_image(f, o, d, RenderConfig(n_samples=8, chunk=4096), 2.0, 6.0, 5, 10)
    assert torch.allclose(a["rgb"], b["rgb"], atol=1e-6) and a["rgb"].shape == (5, 10, 3)


def test_hash_grid_field_follows_the_coarse_to_fine_window():
    """Heo et al.'s curriculum: with FieldConfig.coarse_to_fine the field's hash-grid levels open with the
    training progress (nothing but the raw position reaches the trunk at progress 0)."""
    from rankfield.nerf import FieldConfig, RadianceField

    f = RadianceField(FieldConfig(encoding="hashgrid", width=16, depth=1, hash_levels=4, hash_log2_size=10,
                                  coarse_to_fine=(0.0, 0.5), hash_interpolation="smoothstep"))
    with torch.no_grad():
        f.encoder.table.normal_()
    x = torch.rand(6, 3) * 2 - 1
    f.set_progress(0.0)
    assert torch.all(f.encode(x)[:, 3:] == 0)
    f.set_progress(1.0)
    assert torch.all(f.encode(x)[:, 3:].abs().sum(0) > 0)
    assert f.encoder.interpolation == "smoothstep"


def test_opaque_far_samples_disparity_to_zero_and_hides_the_background():
    """BARF's forward-facing model: disparity 1/near -> 0 and a last interval of 1e10. A thin constant medium
    then composites to its own colour whatever the background; without it, Beer-Lambert over [near, far]."""
    from rankfield.errors import InputError

    class Fog(torch.nn.Module):
        def forward(self, x, d=None):
            return torch.full(x.shape[:-1], 0.05), torch.tensor([0.2, 0.4, 0.6]).expand(*x.shape[:-1], 3)

    o, d = torch.zeros(4, 3), torch.tensor([[0.0, 0.0, -1.0]]).expand(4, 3)
    cfg = RenderConfig(n_samples=16, inverse_depth=True, white_background=True, stratified=True)
    t = sample_depths(4, 1.0, math.inf, 16, stratified=True, inverse_depth=True, generator=torch.Generator().manual_seed(0))
    disp = 1 / t
    assert bool(torch.isfinite(t).all() and (t[:, 1:] > t[:, :-1]).all())
    assert bool((disp <= 1.0).all() and (disp[:, -1] < 1 / 16).all())  # the last bin reaches disparity 0
    far = render_rays(Fog(), o, d, RenderConfig(**{**cfg.to_dict(), "opaque_far": True}), 1.0, 5.0, train=True)
    assert torch.allclose(far["opacity"], torch.ones(4)) and torch.allclose(far["rgb"], torch.tensor([0.2, 0.4, 0.6]).expand(4, 3))
    near = render_rays(Fog(), o, d, cfg, 1.0, 5.0)
    expected = 1 - math.exp(-0.05 * 4.0 * 16 / 15)  # the last interval repeats the previous one: about
    assert near["opacity"][0].item() == pytest.approx(expected, rel=0.1)
    with pytest.raises(InputError, match="inverse_depth"):
        RenderConfig(opaque_far=True).validate()


def test_view_direction_bands_follow_the_window_when_annealed():
    from rankfield.nerf import FieldConfig, RadianceField

    f = RadianceField(FieldConfig(width=16, depth=1, n_frequencies=8, dir_frequencies=4, coarse_to_fine=(0.1, 0.5),
                                  anneal_directions=True))
    f.set_progress(0.0)
    assert torch.equal(f.dir_encoder.band_weights(), torch.zeros(4))
    f.set_progress(0.3)  # alpha = 4 (0.3 - 0.1) / 0.4 = 2 of 4 direction bands, 4 of 8 position bands
    assert torch.allclose(f.dir_encoder.band_weights(), torch.tensor([1.0, 1.0, 0.0, 0.0]))
    assert torch.allclose(f.encoder.band_weights(), torch.tensor([1.0] * 4 + [0.0] * 4))
    plain = RadianceField(FieldConfig(width=16, depth=1, dir_frequencies=4, coarse_to_fine=(0.1, 0.5)))
    plain.set_progress(0.0)
    assert torch.equal(plain.dir_encoder.band_weights(), torch.ones(4))


class _Slab(torch.nn.Module):
    """Density 50 in the slab 3.0 < depth < 3.4 (rays along -z from the origin), colour varying with depth."""

    def forward(self, x, d=None):
        depth = -x[..., 2]
        sigma = torch.where((depth > 3.0) & (depth < 3.4), 50.0, 0.0)
        rgb = torch.stack([(depth - 3.0) / 0.4, 1 - (depth - 3.0) / 0.4, torch.full_like(depth, 0.5)], -1)
        return sigma, rgb.clamp(0, 1)


def test_importance_samples_concentrate_where_the_weights_are_and_render_closer_to_the_integral():
    o, d = torch.zeros(16, 3), torch.tensor([0.0, 0.0, -1.0]).expand(16, 3)
    t = sample_depths(16, 2.0, 6.0, 8, stratified=False)
    w = volume_render(*_Slab()(o[:, None] + t[..., None] * d[:, None]), t, d)["weights"]
    fine = sample_importance(t, w, 32, stratified=True, generator=torch.Generator().manual_seed(0))
    # the slab covers 10% of the depth range and holds the coarse weights: nearly every draw lands in the bins
    # between the coarse samples around it (midpoints 2.75 .. 3.75)
    assert fine.shape == (16, 32) and bool((fine[:, 1:] >= fine[:, :-1]).all())
    assert float(((fine > 2.75) & (fine < 3.75)).float().mean()) > 0.95
    exact = render_rays(_Slab(), o[:1], d[:1], RenderConfig(n_samples=4096, stratified=False), 2.0, 6.0)["rgb"]
    uniform = render_rays(_Slab(), o[:1], d[:1], RenderConfig(n_samples=40, stratified=False), 2.0, 6.0)["rgb"]
    hier = render_rays(_Slab(), o[:1], d[:1], RenderConfig(n_samples=8, n_importance=32, stratified=False), 2.0, 6.0)
    # same 40 samples a ray: measured errors 0.077 (uniform) and 0.0025 (8 + 32 importance)
    err_u, err_h = float((uniform - exact).abs().max()), float((hier["rgb"] - exact).abs().max())
    assert err_h < 0.25 * err_u and err_h < 0.01, (err_u, err_h)
    assert hier["weights"].shape == (1, 40)
    with pytest.raises(Exception, match="n_importance"):
        RenderConfig(n_importance=-1).validate()
