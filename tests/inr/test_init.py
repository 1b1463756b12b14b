import pytest
import torch
from torch import nn

from rankfield.inr import CoordinateMLP
from rankfield.inr.init import rank_expanding_init_
from rankfield.inr.diagnostics import effective_rank, numerical_rank
from rankfield.inr.data import grid_coordinates


def _z0(model, X):
    return torch.relu(model.linears[0](X))


def test_rank_expanding_init_raises_first_layer_rank():
    X = grid_coordinates(160, 160).reshape(-1, 2).double()
    width = 256
    default = CoordinateMLP(in_features=2, out_features=1, activation="relu", init="default", width=width).double()
    rei = CoordinateMLP(in_features=2, out_features=1, activation="relu", init="rank_expanding", width=width).double()
    z_def, z_rei = _z0(default, X).detach(), _z0(rei, X).detach()
    # exact collapse of the default init (dead or affine-only units) shows at tight tolerance
    assert numerical_rank(z_rei, 1e-5) >= width - 2
    assert numerical_rank(z_def, 1e-5) <= 0.9 * width
    assert numerical_rank(z_rei, 1e-4) >= 0.9 * width
    assert numerical_rank(z_def, 1e-4) <= 0.85 * width
    assert effective_rank(z_rei) > 2.5 * effective_rank(z_def)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_rank_expanding_kinks_inside_domain_and_equal_feature_rms(dim):
    layer = rank_expanding_init_(nn.Linear(dim, 128), seed=3)
    X = torch.rand(20000, dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    z = X @ layer.weight.double().T + layer.bias.double()
    active = (z > 0).double().mean(0)
    assert active.min() > 0.0 and active.max() < 1.0  # every unit has its kink inside the box
    rms = torch.relu(z).pow(2).mean(0).sqrt()
    # estimated on 4096 Sobol points inside the init, checked here on 20000 uniform ones. In 3-D a few units
    # are active on ~0.1% of the box, where 4096 points give a coarse estimate: measured on 400k points
    # their RMS spans 0.82-1.32 (dims 1-2: 0.89-1.07), hence the wider band for dim 3.
    lo, hi = (0.85, 1.15) if dim < 3 else (0.72, 1.45)
    assert abs(rms.median().item() - 1.0) < 0.03 and rms.min() > lo and rms.max() < hi


def test_rank_expanding_is_seeded():
    a = rank_expanding_init_(nn.Linear(2, 32), seed=5).weight
    b = rank_expanding_init_(nn.Linear(2, 32), seed=5).weight
    c = rank_expanding_init_(nn.Linear(2, 32), seed=6).weight
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_effective_rank_of_z0_at_width_256_is_pinned():
    """Measured (seeds 0-2, 100x100 grid): REI 33.4-33.6, default ReLU 9.5-10.1, ReLU + PE 165-167. The
    effective rank grows by ~9 per doubling of the width for ramps (24.5 at 128, 42.5 at 512)."""
    from rankfield.inr import CoordinateMLP, image_coordinates
    from rankfield.inr.diagnostics import effective_rank, layer_features

    X = image_coordinates(100, 100).reshape(-1, 2)

    def erank(width, seed=4, **kw):
        model = CoordinateMLP(in_features=2, out_features=3, width=width, depth=2, activation="relu", seed=seed, **kw)
        return effective_rank(layer_features(model, X)[0])

    rei = erank(256, init="rank_expanding")
    assert 32.0 < rei < 35.0
    assert erank(256, init="default") < 11.5
    assert erank(256, encoding="positional") > 4.5 * rei
    assert 23.0 < erank(128, init="rank_expanding") < 26.5 and 41.0 < erank(512, init="rank_expanding") < 44.0


def test_effective_rank_ignores_a_scale_of_the_features():
    """relu(c z) = c relu(z) for c > 0: scaling the first layer cannot change Z0's effective rank."""
    from rankfield.inr.diagnostics import effective_rank

    z = torch.relu(torch.randn(500, 64, generator=torch.Generator().manual_seed(0)))
    assert effective_rank(7.5 * z) == pytest.approx(effective_rank(z), rel=1e-9)  # float32 input, float64 SVD


def test_hat_basis_second_layer_computes_the_hierarchical_hats_exactly():
    """1-D, width 16: 16 unit ramps with kinks at -1 + k/8; the second layer's pre-activations are the
    Faber-Schauder hats of levels 0-3 (1 + 2 + 4 + 8 = 15 units) scaled to RMS 1 over [-1, 1]. The RMS of a hat
    of half-width w on a box of length 2 is sqrt(w / 3), so its peak is sqrt(3 / w)."""
    from rankfield.inr.init import hat_basis_init_

    first, second = hat_basis_init_(nn.Linear(1, 16).double(), nn.Linear(16, 16).double())
    x = torch.linspace(-1, 1, 1601, dtype=torch.float64)[:, None]
    pre = second(torch.relu(first(x))).detach()
    k = 0
    for level in range(4):
        w = 1.0 / 2 ** level
        for i in range(2 ** level):
            centre = -1 + (2 * i + 1) * w
            hat = (3 / w) ** 0.5 * (1 - (x[:, 0] - centre).abs() / w).clamp(min=0)
            torch.testing.assert_close(pre[:, k], hat, atol=2e-3, rtol=0)
            k += 1
    assert k == 15
    assert torch.equal(first.weight[:, 0], torch.ones(16, dtype=torch.float64))  # unit-slope ramps


def test_hat_basis_units_depend_on_one_axis_and_refuse_bad_layers():
    from rankfield.errors import InputError
    from rankfield.inr.init import hat_basis_init_

    first, second = hat_basis_init_(nn.Linear(2, 32), nn.Linear(32, 32))
    a, b = torch.tensor([[0.3, -0.5]]), torch.tensor([[0.3, 0.7]])  # same first coordinate
    za, zb = second(torch.relu(first(a))), second(torch.relu(first(b)))
    # 30 hats interleaved by axis: even units follow x0, odd units x1 (15 per axis; the last 2 stay default)
    assert torch.allclose(za[0, 0:30:2], zb[0, 0:30:2]) and not torch.allclose(za[0, 1:30:2], zb[0, 1:30:2])
    with pytest.raises(InputError, match="second layer takes"):
        hat_basis_init_(nn.Linear(2, 32), nn.Linear(16, 32))
    with pytest.raises(InputError, match="at least 2"):
        hat_basis_init_(nn.Linear(3, 4), nn.Linear(4, 4))
    with pytest.raises(InputError, match="bias"):
        hat_basis_init_(nn.Linear(2, 32), nn.Linear(32, 32, bias=False))
    from rankfield.inr.layers import ConditionedLinear

    with pytest.raises(InputError, match="dense second layer"):
        hat_basis_init_(nn.Linear(2, 32), ConditionedLinear(32, 32))


def test_hat_basis_second_layer_effective_rank_at_width_256_is_pinned():
    """Measured on a 100x100 grid (seeds 0-1, the init is deterministic): the second-layer features' effective
    rank is 105.3 / 175.4 / 187.5 at widths 128 / 256 / 512 (at 512 the finest hats are narrower than the grid
    spacing), above ReLU + PE's first layer at the same width (165-167 at 256) and five times the paper's
    first-layer rule (33.5)."""
    from rankfield.inr import image_coordinates
    from rankfield.inr.diagnostics import layer_features

    X = image_coordinates(100, 100).reshape(-1, 2)
    model = CoordinateMLP(in_features=2, out_features=3, width=256, depth=3, activation="relu", init="hat_basis")
    z0, z1, _ = layer_features(model, X)
    assert 173.0 < effective_rank(z1) < 178.0
    assert effective_rank(z0) < 6.0  # the ramps themselves are not where the rank is
    rei = CoordinateMLP(in_features=2, out_features=3, width=256, depth=3, activation="relu", init="rank_expanding")
    assert effective_rank(z1) > 5 * effective_rank(layer_features(rei, X)[0])


def test_hat_basis_fits_an_image_better_than_the_first_layer_rule():
    """A 48x48 synthetic image with edges and texture, 3x64 ReLU MLPs, 300 Adam steps (lr 1e-3), seeds 0-2.
    Measured PSNR (dB): default 8.82 / 8.55 / 8.56, REI 12.32 / 11.27 / 12.13, hat basis 15.71 / 14.45 / 14.01
    (hat basis - REI: +3.39 / +3.18 / +1.88)."""
    from rankfield.inr import FitConfig, fit_image
    from rankfield.inr.data import grid_coordinates

    g = grid_coordinates(48, 48)
    y, x = g[..., 0], g[..., 1]
    stripes = torch.sin(9 * x + 4 * y).gt(0).float()
    disc = ((x ** 2 + y ** 2) < 0.4).float()
    image = torch.stack([stripes, 0.5 + 0.5 * torch.cos(23 * x * y + 7 * y), 0.5 * stripes + 0.5 * disc], -1)

    def psnr(init):
        out = []
        for seed in range(3):
            model = CoordinateMLP(in_features=2, out_features=3, width=64, depth=3, activation="relu", init=init, seed=seed)
            out.append(fit_image(image, model, FitConfig(steps=300, lr=1e-3, progress=False, seed=seed)).metrics["psnr"])
        return sum(out) / 3

    default, rei, hats = psnr("default"), psnr("rank_expanding"), psnr("hat_basis")
    assert rei > default + 2.0  # measured +3.3
    assert hats > rei + 1.5  # measured +2.8
