"""Row weights reach the SINDy regression as data (rankfield.dynamics.weighting.fit_weighted)."""

import numpy as np
import pysindy as ps
import pytest

from rankfield.dynamics import AutoSTLSQ, get_system
from rankfield.dynamics.optimizers import MSTLS
from rankfield.dynamics.weighting import fit_weighted
from rankfield.errors import InputError


def _data():
    t, x = get_system("lotka_volterra").simulate(n_samples=300)
    rng = np.random.default_rng(0)
    x_dot = get_system("lotka_volterra").rhs(x) + 0.05 * rng.normal(size=x.shape)
    w = rng.uniform(0.1, 1.0, size=len(t))
    return t, x, x_dot, w


@pytest.mark.parametrize("make", [AutoSTLSQ, MSTLS, lambda: ps.STLSQ(threshold=0.05, alpha=0.0)])
def test_weighted_fit_is_the_fit_of_sqrt_weighted_rows(make):
    t, x, x_dot, w = _data()
    lib = ps.PolynomialLibrary(2)
    model = fit_weighted(ps.SINDy(optimizer=make(), feature_library=lib), x, t, x_dot, ["x", "y"], sample_weight=w)
    theta = lib.fit_transform(x)
    rows = np.sqrt(w)[:, None]
    direct = make().fit(theta * rows, x_dot * rows)  # least squares on rows scaled by sqrt(w)
    np.testing.assert_allclose(model.coefficients(), direct.coef_, rtol=1e-9, atol=1e-12)
    # unweighted differs (the weights mattered), and the model keeps its own optimizer, untouched
    plain = fit_weighted(ps.SINDy(optimizer=make(), feature_library=ps.PolynomialLibrary(2)), x, t, x_dot, ["x", "y"])
    assert not np.array_equal(plain.coefficients(), model.coefficients())
    assert type(model.optimizer) is type(direct) and "fit" not in vars(model.optimizer)


def test_weighted_fit_needs_an_optimizer_that_takes_weights():
    class NoWeights(ps.STLSQ):
        def fit(self, x_, y):
            return super().fit(x_, y)
    t, x, x_dot, w = _data()
    opt = NoWeights(threshold=0.05)
    model = ps.SINDy(optimizer=opt)
    with pytest.raises(InputError, match="sample_weight"):
        fit_weighted(model, x, t, x_dot, sample_weight=w)
    assert model.optimizer is opt
