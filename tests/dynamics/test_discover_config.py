"""DiscoverConfig: discover's regression options as one config, the same as the keywords."""

import numpy as np
import pysindy as ps
import pytest

from rankfield.dynamics import DiscoverConfig, add_noise, discover, get_system
from rankfield.errors import InputError


def _lv():
    t, x = get_system("lotka_volterra").simulate(n_samples=400)
    return t, add_noise(x, 0.01, seed=0)


def test_options_are_the_keywords():
    t, y = _lv()
    opts = DiscoverConfig(degree=2, criterion="aic", trim=5, bias_weighting=4.0, refine=0)
    by_options = discover(y, t, differentiation=ps.FiniteDifference(), options=opts)
    by_keywords = discover(y, t, differentiation=ps.FiniteDifference(), degree=2, criterion="aic", trim=5,
                           bias_weighting=4.0, refine=0)
    np.testing.assert_array_equal(by_options.coefficients, by_keywords.coefficients)
    assert by_options.equations == by_keywords.equations
    fixed = discover(y, t, differentiation=ps.FiniteDifference(), options=DiscoverConfig(threshold=0.05))
    assert fixed.thresholds == [0.05, 0.05]


def test_options_and_keywords_are_given_once():
    t, y = _lv()
    with pytest.raises(InputError, match="trim given both"):
        discover(y, t, differentiation=ps.FiniteDifference(), options=DiscoverConfig(), trim=3)
    with pytest.raises(InputError, match="must be a DiscoverConfig"):
        discover(y, t, differentiation=ps.FiniteDifference(), options={"trim": 3})
    # a keyword left at its default, even when spelled out, is no conflict
    discover(y, t, differentiation=ps.FiniteDifference(), options=DiscoverConfig(trim=3), trim="auto")


@pytest.mark.parametrize("field, value, match", [
    ("degree", -1, "degree must be an integer"), ("criterion", "mdl", "criterion must be"),
    ("threshold", float("inf"), "threshold must be"), ("threshold", -0.1, "threshold must be"),
    ("refine", 1.5, "refine must be"), ("refine_support", "all", "refine_support must be"),
    ("trim", True, "trim must be"), ("bias_weighting", "yes", "bias_weighting must be")])
def test_validation_names_the_keyword(field, value, match):
    with pytest.raises(InputError, match=match):
        DiscoverConfig(**{field: value}).validate()


def test_round_trip():
    opts = DiscoverConfig(degree=3, criterion="ensemble", threshold=None, refine=2, refine_support="aic", trim=0,
                          bias_weighting=None)
    assert DiscoverConfig.from_dict(opts.to_dict()) == opts
    assert DiscoverConfig.from_dict(DiscoverConfig().to_dict()) == DiscoverConfig()
