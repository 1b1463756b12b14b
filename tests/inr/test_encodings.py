import math

import pytest
import torch

from rankfield import InputError
from rankfield.inr.encodings import FourierFeatures, HashGridEncoding, PositionalEncoding


def test_positional_encoding_values():
    enc = PositionalEncoding(1, n_frequencies=3)
    x = torch.tensor([[0.25]])
    out = enc(x)[0]
    expected = [0.25] + [math.sin(math.pi * 2 ** k * 0.25) for k in range(3)] + [math.cos(math.pi * 2 ** k * 0.25) for k in range(3)]
    assert torch.allclose(out, torch.tensor(expected), atol=1e-6)


def test_coarse_to_fine_window_matches_barf_formula():
    enc = PositionalEncoding(2, n_frequencies=4, coarse_to_fine=(0.1, 0.5))
    enc.set_progress(0.0)
    assert torch.all(enc.band_weights() == 0)
    enc.set_progress(0.3)  # alpha = 4 * 0.2 / 0.4 = 2.0 -> bands 0,1 full, 2,3 off
    assert torch.allclose(enc.band_weights(), torch.tensor([1.0, 1.0, 0.0, 0.0]))
    enc.set_progress(0.25)  # alpha = 1.5 -> band 1 at (1 - cos(pi/2))/2 = 0.5
    assert torch.allclose(enc.band_weights(), torch.tensor([1.0, 0.5, 0.0, 0.0]), atol=1e-6)
    enc.set_progress(1.0)
    assert torch.all(enc.band_weights() == 1)
    # the identity part is never windowed
    enc.set_progress(0.0)
    x = torch.rand(3, 2)
    assert torch.allclose(enc(x)[:, :2], x)


def test_fourier_features_statistics():
    ff = FourierFeatures(2, n_features=4096, sigma=10.0, seed=1)
    # B is scaled by sigma/2 for the [-1, 1] convention
    assert abs(ff.B.std().item() - 5.0) < 0.15
    out = ff(torch.rand(7, 2))
    assert out.shape == (7, 8192)
    assert torch.allclose(out[:, :4096] ** 2 + out[:, 4096:] ** 2, torch.ones(7, 4096), atol=1e-5)


def _brute_force_hash(enc: HashGridEncoding, x: torch.Tensor) -> torch.Tensor:
    """Direct per-point, per-level, per-corner evaluation of the documented formula."""
    primes = [1, 2654435761, 805459861, 3674653429]
    d, T, out = enc.in_dim, enc.table_size, []
    for point in x.tolist():
        u = [min(max((v + 1) / 2, 0.0), 1.0) for v in point]
        feats = []
        for level in range(enc.n_levels):
            N = math.floor(enc.base_resolution * enc.per_level_scale ** level)
            pos = [ui * N for ui in u]
            base = [min(int(math.floor(p)), N - 1) for p in pos]
            frac = [p - b for p, b in zip(pos, base)]
            acc = torch.zeros(enc.n_features_per_level, dtype=torch.float64)
            for corner in range(2 ** d):
                bits = [(corner >> i) & 1 for i in range(d)]
                v = [b + c for b, c in zip(base, bits)]
                w = 1.0
                for c, f in zip(bits, frac):
                    w *= f if c else 1 - f
                if (N + 1) ** d <= T:
                    idx = sum(vi * (N + 1) ** i for i, vi in enumerate(v))
                else:
                    h = 0
                    for i, vi in enumerate(v):
                        h ^= vi * primes[i]
                    idx = h % T
                acc += w * enc.table[level, idx].double()
            feats.append(acc)
        out.append(torch.cat(feats))
    return torch.stack(out)


@pytest.mark.parametrize("dim", [2, 3])
def test_hash_grid_matches_brute_force(dim):
    torch.manual_seed(0)
    enc = HashGridEncoding(dim, n_levels=6, n_features_per_level=2, log2_hashmap_size=10, base_resolution=4,
                           per_level_scale=1.8, backend="torch")
    with torch.no_grad():
        enc.table.normal_()  # make every entry distinct and O(1)
    x = torch.rand(40, dim) * 2 - 1
    x[0] = 1.0  # the upper boundary
    x[1] = -1.0
    assert enc.dense_levels.any() and not enc.dense_levels.all()  # both indexing branches exercised
    got = enc(x).double()
    ref = _brute_force_hash(enc, x)
    assert torch.allclose(got, ref, atol=1e-5)


def test_hash_grid_interpolates_table_at_vertices_and_has_gradients():
    enc = HashGridEncoding(2, n_levels=1, n_features_per_level=1, log2_hashmap_size=12, base_resolution=8, backend="torch")
    with torch.no_grad():
        enc.table.normal_()
    # vertex (i, j) of the 8x8 level sits at u = (i/8, j/8) -> x = 2u - 1; dense index i + 9 j
    i, j = 3, 5
    x = torch.tensor([[2 * i / 8 - 1, 2 * j / 8 - 1]])
    assert torch.allclose(enc(x)[0, 0], enc.table[0, i + 9 * j, 0], atol=1e-6)
    y = enc(torch.rand(16, 2) * 2 - 1).sum()
    y.backward()
    assert enc.table.grad.abs().sum() > 0


def test_hash_grid_config_and_errors():
    enc = HashGridEncoding(3, n_levels=16, n_features_per_level=2, log2_hashmap_size=15, base_resolution=16,
                           per_level_scale=1.5, backend="torch")
    assert enc.out_dim == 32 and enc.tcnn_config()["otype"] == "HashGrid"
    with pytest.raises(InputError):
        HashGridEncoding(2, n_levels=0)
    with pytest.raises(InputError):
        HashGridEncoding(2, backend="tcnn")  # no CUDA/tinycudann here
    with pytest.raises(InputError):
        enc(torch.zeros(4, 2))


def test_hash_grid_smoothstep_weights_and_flat_gradient_at_vertices():
    """1-D grid of 8 cells: smoothstep interpolates with s = 3f^2 - 2f^3 (f the cell fraction), so the
    derivative with respect to the position vanishes at a vertex, where linear interpolation has a kink."""
    lin = HashGridEncoding(1, n_levels=1, n_features_per_level=1, log2_hashmap_size=8, base_resolution=8,
                           backend="torch")
    smooth = HashGridEncoding(1, n_levels=1, n_features_per_level=1, log2_hashmap_size=8, base_resolution=8,
                              backend="torch", interpolation="smoothstep")
    with torch.no_grad():
        smooth.table.copy_(torch.randn_like(smooth.table))
        lin.table.copy_(smooth.table)
    t = smooth.table[0, :, 0].detach()
    f = 0.3  # cell 2 of 8: u = (2 + f) / 8, x = 2u - 1
    x = torch.tensor([[2 * (2 + f) / 8 - 1]])
    s = 3 * f ** 2 - 2 * f ** 3
    assert torch.allclose(smooth(x)[0, 0], t[2] * (1 - s) + t[3] * s, atol=1e-6)
    assert torch.allclose(lin(x)[0, 0], t[2] * (1 - f) + t[3] * f, atol=1e-6)
    for enc, expect_flat in ((smooth, True), (lin, False)):
        xv = torch.tensor([[2 * (3 + 1e-4) / 8 - 1]], requires_grad=True)  # just past vertex 3
        enc(xv).sum().backward()
        slope = float(xv.grad)
        assert (abs(slope) < 1e-2) == expect_flat, slope
    with pytest.raises(InputError):
        HashGridEncoding(2, interpolation="cubic")


def test_hash_grid_coarse_to_fine_window_opens_levels_in_order():
    enc = HashGridEncoding(2, n_levels=4, n_features_per_level=2, log2_hashmap_size=10, base_resolution=4,
                           backend="torch", coarse_to_fine=(0.0, 0.5))
    with torch.no_grad():
        enc.table.normal_()
    x = torch.rand(5, 2) * 2 - 1
    full = HashGridEncoding(2, n_levels=4, n_features_per_level=2, log2_hashmap_size=10, base_resolution=4,
                            backend="torch")
    full.load_state_dict(enc.state_dict())
    enc.set_progress(0.0)
    assert torch.equal(enc.level_weights(), torch.zeros(4)) and enc(x).abs().max() == 0
    enc.set_progress(0.25)  # alpha = 2: levels 0 and 1 fully on, 2 and 3 off
    assert torch.allclose(enc.level_weights(), torch.tensor([1.0, 1.0, 0.0, 0.0]))
    assert torch.allclose(enc(x)[:, :4], full(x)[:, :4]) and enc(x)[:, 4:].abs().max() == 0
    enc.set_progress(0.5 * 2.5 / 4)  # alpha = 2.5: level 2 at (1 - cos(pi / 2)) / 2 = 0.5
    assert torch.allclose(enc.level_weights(), torch.tensor([1.0, 1.0, 0.5, 0.0]))
    enc.set_progress(1.0)
    assert torch.allclose(enc(x), full(x))
