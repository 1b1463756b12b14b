import pytest
import torch

from rankfield import InputError
from rankfield.inr.layers import ConditionedLinear, LowRankLinear, SineLowRankLinear
from rankfield.inr.diagnostics import condition_number, stable_rank


def _badly_scaled(layer, rows=True, cols=False):
    with torch.no_grad():
        if rows:
            layer.raw_weight.mul_(torch.logspace(-2, 2, layer.raw_weight.shape[0])[:, None])
        if cols:
            layer.raw_weight.mul_(torch.logspace(2, -2, layer.raw_weight.shape[1]))
    layer.refreeze()
    return layer


@pytest.mark.parametrize("mode", ["row", "col", "rowcol"])
def test_conditioning_lowers_condition_number(mode):
    torch.manual_seed(0)
    layer = ConditionedLinear(64, 96, mode=mode)
    _badly_scaled(layer, rows=mode != "col", cols=mode != "row")
    raw = condition_number(layer.raw_weight)
    cond = condition_number(layer.weight)
    assert cond < raw / 10, (raw, cond)


def test_conditioning_keeps_scale_and_row_norms():
    torch.manual_seed(1)
    layer = _badly_scaled(ConditionedLinear(32, 48, mode="row"))
    w = layer.weight.detach()
    assert torch.allclose(w.norm(), layer.raw_weight.detach().norm(), rtol=1e-5)
    row_norms = w.norm(dim=1)
    assert torch.allclose(row_norms, row_norms.mean().expand_as(row_norms), rtol=1e-4)


def test_frozen_conditioning_is_a_fixed_diagonal():
    torch.manual_seed(2)
    layer = ConditionedLinear(8, 8, mode="row", recompute=False)
    r0 = layer.frozen_r.clone()
    with torch.no_grad():
        layer.raw_weight.mul_(3.0)
    assert torch.equal(layer.frozen_r, r0)
    expected = layer.scale * r0[:, None] * layer.raw_weight
    assert torch.allclose(layer.weight, expected)
    # the recomputing layer is invariant to scaling the raw weight
    live = ConditionedLinear(8, 8, mode="row", recompute=True)
    before = live.weight.detach().clone()
    with torch.no_grad():
        live.raw_weight.mul_(3.0)
    assert torch.allclose(live.weight.detach(), before, atol=1e-6)


def test_low_rank_has_exact_rank_and_matched_scale():
    torch.manual_seed(0)
    layer = LowRankLinear(256, 256, rank=4)
    exact = layer.U.detach().double() @ layer.V.detach().double().T
    assert int(torch.linalg.matrix_rank(exact)) == 4
    var = layer.weight.detach().var().item()
    assert 0.5 < var / (1 / (3 * 256)) < 2.0
    x = torch.randn(5, 256)
    assert torch.allclose(layer(x), x @ layer.weight.T + layer.bias, atol=1e-5)


@pytest.mark.parametrize("rank", [1, 2, 4, 8])
def test_sine_low_rank_has_higher_stable_rank_at_equal_parameters(rank):
    torch.manual_seed(rank)
    plain = LowRankLinear(256, 256, rank=rank)
    sine = SineLowRankLinear(256, 256, rank=rank)  # the default omega, 1000
    assert sum(p.numel() for p in plain.parameters()) == sum(p.numel() for p in sine.parameters())
    assert stable_rank(plain.weight) <= rank + 1e-6
    assert stable_rank(sine.weight) > 3 * stable_rank(plain.weight)


def test_sine_low_rank_factors_start_like_the_authors_linear_layers():
    """U ~ U(+-1/sqrt(k)), V ~ U(+-1/sqrt(in)): omega multiplies entries of std sqrt(k/(3k) / (3 in))."""
    torch.manual_seed(0)
    layer = SineLowRankLinear(256, 128, rank=4)
    U, V = layer.U.detach(), layer.V.detach()
    assert float(U.abs().max()) <= 1 / 4 ** 0.5 and float(U.abs().max()) > 0.9 / 4 ** 0.5
    assert float(V.abs().max()) <= 1 / 256 ** 0.5 and float(V.abs().max()) > 0.9 / 256 ** 0.5
    product_std = float((U @ V.T).std())
    assert product_std == pytest.approx((1 / (9 * 256)) ** 0.5, rel=0.1)
    # in the near-linear regime (small omega) the layer is the plain low-rank layer omega U V^T / g
    small = SineLowRankLinear(256, 128, rank=4, omega=1e-3)
    torch.testing.assert_close(small.weight, 1e-3 * small.U @ small.V.T / 16, rtol=1e-4, atol=1e-12)


def test_rank_validation():
    with pytest.raises(InputError, match="rank 300 is larger"):
        LowRankLinear(256, 256, rank=300)
    with pytest.raises(InputError):
        SineLowRankLinear(16, 16, rank=0)
    with pytest.raises(InputError):
        ConditionedLinear(4, 4, mode="diag")
