import math

import pytest
import torch

from rankfield import InputError
from rankfield.inr import CoordinateMLP, MLPConfig
from rankfield.inr.layers import ConditionedLinear, LowRankLinear, SineLowRankLinear
from rankfield.inr.activations import Finer, Sine, Wire


def test_one_line_specs():
    relu_rei = CoordinateMLP(in_features=2, out_features=3, activation="relu", init="rank_expanding")
    siren_lr = CoordinateMLP(in_features=2, out_features=3, activation="sine", linear="sine_lowrank", rank=4)
    assert isinstance(siren_lr.linears[1], SineLowRankLinear) and siren_lr.linears[1].rank == 4
    assert isinstance(siren_lr.linears[0], torch.nn.Linear)  # first and last stay full rank
    for m in (relu_rei, siren_lr):
        assert m(torch.rand(5, 2) * 2 - 1).shape == (5, 3)


def test_siren_paper_init_bounds():
    m = CoordinateMLP(in_features=2, out_features=1, activation="sine", width=64, omega0=30.0)
    assert m.linears[0].weight.abs().max() <= 1 / 2
    bound = math.sqrt(6 / 64) / 30
    assert m.linears[1].weight.abs().max() <= bound + 1e-7
    assert m.linears[1].weight.abs().max() > 0.9 * bound


def test_finer_and_wire_forward():
    z = torch.tensor([-0.5, 0.0, 0.3])
    assert torch.allclose(Finer(2.0)(z), torch.sin(2.0 * (z.abs() + 1) * z))
    w = Wire(20.0, 10.0)(z)
    assert w.is_complex()
    assert torch.allclose(w.abs(), torch.exp(-(10 * z) ** 2))
    m = CoordinateMLP(in_features=2, out_features=3, activation="wire", width=64)
    assert m.hidden_width == round(64 / math.sqrt(2))
    y = m(torch.rand(4, 2))
    assert not y.is_complex() and y.shape == (4, 3)


def test_sine_lowrank_matched_to_siren_variance():
    m = CoordinateMLP(in_features=2, out_features=1, activation="sine", linear="sine_lowrank", rank=8, width=256)
    var = m.linears[1].weight.detach().var().item()
    target = 2 / (256 * 30.0 ** 2)
    assert 0.5 < var / target < 1.5


def test_conditioned_everywhere_and_batchnorm():
    m = CoordinateMLP(in_features=2, out_features=1, linear="conditioned", outer_linear="conditioned", batchnorm=True, width=32)
    assert all(isinstance(l, ConditionedLinear) for l in m.linears) and isinstance(m.output, ConditionedLinear)
    assert m(torch.rand(8, 2)).shape == (8, 1)
    lr = CoordinateMLP(in_features=2, out_features=1, linear="lowrank", rank=2, width=32)
    assert isinstance(lr.linears[1], LowRankLinear)


def test_encodings_in_mlp_and_progress():
    m = CoordinateMLP(in_features=2, out_features=1, activation="relu", encoding="positional",
                      encoding_options={"n_frequencies": 4, "coarse_to_fine": (0.1, 0.5)})
    m.set_progress(0.0)
    assert torch.all(m.encoding.band_weights() == 0)
    h = CoordinateMLP(in_features=2, out_features=1, encoding="hashgrid", width=64, depth=2,
                      encoding_options={"n_levels": 4, "log2_hashmap_size": 10, "backend": "torch"})
    assert h(torch.rand(3, 2)).shape == (3, 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"width": -4}, "width must be a positive integer"),
    ({"activation": "swish"}, "unknown activation"),
    ({"linear": "lowrank", "rank": 300}, "rank must be"),
    ({"linear": "sine_lowrank"}, "needs rank"),
    ({"activation": "sine", "init": "rank_expanding"}, "ReLU"),
    ({"activation": "sine", "init": "hat_basis"}, "ReLU"),
    ({"init": "hat_basis", "depth": 1}, "depth >= 2"),
    ({"init": "hat_basis", "linear": "lowrank", "rank": 4}, "dense second layer"),
    ({"init": "hat_basis", "encoding": "positional"}, "raw coordinates"),
    ({"init": "hat_basis", "in_features": 3, "width": 4}, "width >= 6"),
    ({"encoding": "wavelet"}, "unknown encoding"),
    ({"output_activation": "gelu"}, "output_activation"),
])
def test_invalid_configs(kwargs, match):
    with pytest.raises(InputError, match=match):
        CoordinateMLP(MLPConfig(**kwargs))


def test_seeded_construction():
    a = CoordinateMLP(activation="sine", seed=3)
    b = CoordinateMLP(activation="sine", seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_omega0_defaults_to_the_activations_paper_value_and_drives_the_siren_init():
    import math

    from rankfield.inr import CoordinateMLP, MLPConfig
    from rankfield.inr.activations import make_activation

    for activation, want in (("sine", 30.0), ("finer", 30.0), ("wire", 20.0)):
        model = CoordinateMLP(MLPConfig(activation=activation, in_features=1, out_features=1, width=8, depth=2))
        assert model.config.omega0 is None and model.omega0 == want
        assert [a.omega0 for a in model.activations] == [want, want]
        assert make_activation(activation).omega0 == want
    given = CoordinateMLP(MLPConfig(activation="sine", omega0=7.0, width=8, depth=2))
    assert [a.omega0 for a in given.activations] == [7.0, 7.0]
    siren = CoordinateMLP(MLPConfig(activation="sine", width=256, depth=2))
    bound = math.sqrt(6 / 256) / 30  # SIREN's hidden init U(+-sqrt(6/n)/omega0) with the resolved omega0
    w = siren.linears[1].weight.abs().max().item()
    assert 0.98 * bound < w <= bound
