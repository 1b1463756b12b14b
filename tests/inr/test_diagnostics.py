import math

import torch
from torch import nn

from rankfield.inr import CoordinateMLP
from rankfield.inr.diagnostics import (condition_number, effective_rank, layer_features, ntk_spectrum, numerical_rank,
                                       stable_rank)


def test_rank_measures_on_known_matrices():
    eye = torch.eye(10)
    assert math.isclose(stable_rank(eye), 10, rel_tol=1e-9)
    assert math.isclose(effective_rank(eye), 10, rel_tol=1e-9)
    assert numerical_rank(eye) == 10 and math.isclose(condition_number(eye), 1.0, rel_tol=1e-9)
    u, v = torch.randn(20, 1), torch.randn(15, 1)
    assert numerical_rank(u @ v.T) == 1 and math.isclose(stable_rank(u @ v.T), 1.0, rel_tol=1e-6)
    d = torch.diag(torch.tensor([4.0, 2.0, 1.0]))
    assert math.isclose(condition_number(d), 4.0, rel_tol=1e-9)
    assert math.isclose(stable_rank(d), 1 + 0.25 + 1 / 16, rel_tol=1e-9)


def test_ntk_of_linear_model_is_gram_plus_one():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    X = torch.randn(6, 3)
    eig = ntk_spectrum(model, X)
    K = X.double() @ X.double().T + 1.0  # d f / d w = x, d f / d b = 1
    ref = torch.linalg.eigvalsh(K).flip(0)
    assert torch.allclose(eig, ref.clamp(min=0), atol=1e-8)


def test_layer_features_shapes():
    m = CoordinateMLP(in_features=2, out_features=1, width=16, depth=3, activation="sine")
    feats = layer_features(m, torch.rand(50, 2))
    assert len(feats) == 3 and all(f.shape == (50, 16) for f in feats)


def test_batchnorm_batch_statistics_restore_inlet_rank():
    from rankfield.inr.data import grid_coordinates
    X = grid_coordinates(64, 64).reshape(-1, 2)
    m = CoordinateMLP(in_features=2, out_features=1, activation="relu", width=64, batchnorm=True, init="default")
    before = {k: v.clone() for k, v in m.state_dict().items()}
    eval_feats = layer_features(m, X)[0]
    batch_feats = layer_features(m, X, batch_statistics=True)[0]
    # BatchNorm centres every unit on the data: no unit is dead on the grid any more, and each
    # pre-activation has zero mean / unit variance over the batch
    assert (batch_feats.abs().sum(0) > 0).all()
    assert (eval_feats.abs().sum(0) == 0).any() or not torch.allclose(batch_feats, eval_feats)
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())  # running stats untouched


def test_moved_names_still_work_from_the_package_with_a_deprecation_warning():
    import warnings

    import rankfield.inr as inr
    from rankfield.inr import diagnostics, metrics

    assert "stable_rank" not in inr.__all__ and "psnr" not in inr.__all__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert inr.stable_rank is diagnostics.stable_rank and inr.psnr is metrics.psnr
    assert [w.category for w in caught] == [DeprecationWarning, DeprecationWarning]
    assert "rankfield.inr.diagnostics.stable_rank" in str(caught[0].message)
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        inr.nothing
