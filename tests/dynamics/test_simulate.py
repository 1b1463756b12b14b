"""simulate_model on libraries that are not plain polynomials (the generic predict-based path)."""

import numpy as np
import pysindy as ps

from rankfield.dynamics.validation import simulate_model


def test_fourier_library_model_matches_the_analytic_solution():
    # dx/dt = sin(x): x(t) = 2 atan(tan(x0 / 2) e^t)
    t = np.linspace(0, 2, 201)
    x = 2 * np.arctan(np.tan(0.5 / 2) * np.exp(t))[:, None]
    model = ps.SINDy(feature_library=ps.FourierLibrary(n_frequencies=1), optimizer=ps.STLSQ(threshold=0.1))
    model.fit(x, t=t, x_dot=np.sin(x))
    assert np.allclose(model.coefficients(), [[1.0, 0.0]], atol=1e-8)  # [sin(x), cos(x)]
    sim = simulate_model(model, x[0], t)
    assert np.abs(sim - x).max() < 1e-5  # dopri5 at rtol 1e-7


def test_polynomial_library_without_bias_uses_the_generic_path():
    t = np.linspace(0, 3, 301)
    x = np.exp(-0.7 * t)[:, None]
    model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2, include_bias=False),
                     optimizer=ps.STLSQ(threshold=0.05))
    model.fit(x, t=t, x_dot=-0.7 * x)
    sim = simulate_model(model, x[0], t)
    assert np.abs(sim - x).max() < 1e-5  # dopri5 at rtol 1e-7
