import numpy as np
import pysindy as ps
import pytest

from rankfield.dynamics import SYSTEMS, AutoSTLSQ, add_noise, get_system, metrics
from rankfield.errors import InputError


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_zero_noise_sindy_recovers_true_coefficients(name):
    system = get_system(name)
    t, x = system.simulate()
    xi_true = system.true_coefficients()
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.05, alpha=0.0), feature_library=ps.PolynomialLibrary(system.degree),
                     differentiation_method=ps.FiniteDifference(order=4))
    model.fit(x, t=t)
    xi = model.coefficients()
    assert xi.shape == xi_true.shape
    assert metrics.support_recovered(xi, xi_true), f"{name}: {model.equations()}"
    assert metrics.coefficient_error(xi, xi_true) < 0.01


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_exact_derivatives_and_automatic_threshold_recover_support(name):
    system = get_system(name)
    t, x = system.simulate()
    model = ps.SINDy(optimizer=AutoSTLSQ(), feature_library=ps.PolynomialLibrary(system.degree))
    model.fit(x, t=t, x_dot=system.rhs(x))
    assert metrics.support_recovered(model.coefficients(), system.true_coefficients()), model.equations()


def test_lorenz_coefficients_in_pysindy_order():
    xi = get_system("lorenz").true_coefficients()
    # 1, x, y, z, x^2, xy, xz, y^2, yz, z^2
    np.testing.assert_allclose(xi[0], [0, -10, 10, 0, 0, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(xi[1], [0, 28, -1, 0, 0, 0, -1, 0, 0, 0])
    np.testing.assert_allclose(xi[2], [0, 0, 0, -8 / 3, 0, 1, 0, 0, 0, 0])


def test_rhs_matches_coefficients_times_library():
    system = get_system("vanderpol")
    _, x = system.simulate(n_samples=50)
    theta = ps.PolynomialLibrary(3).fit(x).transform(x)
    np.testing.assert_allclose(np.asarray(theta) @ system.true_coefficients().T, system.rhs(x), atol=1e-12)


def test_noise_convention_and_seeding():
    _, x = get_system("lorenz").simulate()
    y1, y2, y3 = add_noise(x, 0.1, seed=3), add_noise(x, 0.1, seed=3), add_noise(x, 0.1, seed=4)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(y1, y3)
    ratio = np.std(y1 - x, axis=0) / np.std(x, axis=0)
    np.testing.assert_allclose(ratio, 0.1, rtol=0.1)
    with pytest.raises(InputError):
        add_noise(x, -0.1)
    with pytest.raises(InputError, match="unknown system"):
        get_system("nope")


def test_added_chaotic_systems_match_their_published_equations():
    v = np.random.default_rng(0).normal(size=(20, 3)) * 5
    x, y, z = v.T
    want = {
        "chen": np.c_[35 * (y - x), (28 - 35) * x - x * z + 28 * y, x * y - 3 * z],
        "lu": np.c_[36 * (y - x), -x * z + 20 * y, x * y - 3 * z],
        "halvorsen": np.c_[-1.89 * x - 4 * y - 4 * z - y ** 2, -1.89 * y - 4 * z - 4 * x - z ** 2,
                           -1.89 * z - 4 * x - 4 * y - x ** 2],
    }
    for name, rhs in want.items():
        np.testing.assert_allclose(get_system(name).rhs(v), rhs, rtol=1e-12, atol=1e-9)
        _, traj = get_system(name).simulate()
        assert np.isfinite(traj).all() and traj.std(0).min() > 1.0  # on the attractor, not at a fixed point


def test_characteristic_period_of_a_harmonic_oscillator_is_two_pi_over_omega():
    from rankfield.dynamics import System

    w = 3.0
    oscillator = System("oscillator", ("x", "y"), ({(0, 1): 1.0}, {(1, 0): -w * w}), degree=1, x0=(1.0, 0.0),
                        dt=0.01)
    assert oscillator.characteristic_period(duration=200.0) == pytest.approx(2 * np.pi / w, rel=2e-3)


def test_catalogue_systems_are_sampled_at_fifty_samples_per_period():
    """The generalisation catalogue's default ``dt`` is 1/50 of the characteristic period, measured on a shorter
    window than this one (chaotic estimates differ by up to ~12% between windows: finance 44 here)."""
    for name in ("sprott_a", "sprott_m", "burke_shaw", "finance"):
        system = get_system(name)
        assert system.characteristic_period() / system.dt == pytest.approx(50, rel=0.15), name
