"""Validate a discovered model by integrating it with torchdiffeq and comparing with the data.

Examples:
    >>> import numpy as np
    >>> from rankfield.dynamics import get_system
    >>> from rankfield.dynamics.validation import simulate_coefficients
    >>> lorenz = get_system("lorenz"); t, x = lorenz.simulate(n_samples=200)
    >>> x_sim = simulate_coefficients(lorenz.true_coefficients(), 2, x[0], t)
    >>> bool(np.abs(x_sim - x).max() < 1e-2)
    True
"""

from __future__ import annotations

import numpy as np
import torch
from torchdiffeq import odeint

from rankfield.dynamics.metrics import forecast_error
from rankfield.dynamics.systems import library_powers
from rankfield.errors import InputError

__all__ = ["simulate_coefficients", "simulate_model", "validate_model"]


_ADAPTIVE = ("dopri5", "dopri8", "bosh3", "fehlberg2", "adaptive_heun")
_MAX_STEPS_PER_SAMPLE = 200


def _integrate(func, x0, t, rtol, atol, method):
    y0 = torch.as_tensor(np.asarray(x0, dtype=float), dtype=torch.float64)
    tt = torch.as_tensor(np.asarray(t, dtype=float), dtype=torch.float64)
    bound = 1e6 * (1.0 + float(y0.abs().max()))

    def guarded(ti, y):  # stop the blow-up of a wrong model from hanging the adaptive solver
        return torch.where(y.abs() > bound, torch.zeros_like(y), func(ti, y))

    try:
        with torch.no_grad():
            # max_num_steps bounds the adaptive solver: a stiff or exploding model otherwise shrinks the
            # step without end (it hung the lynx-hare validation); past it we fall back to fixed-step RK4.
            options = {"max_num_steps": _MAX_STEPS_PER_SAMPLE * len(tt)} if method in _ADAPTIVE else None
            out = odeint(guarded, y0, tt, rtol=rtol, atol=atol, method=method, options=options).numpy()
    except (AssertionError, RuntimeError):  # max_num_steps exceeded / step-size underflow
        dt = float(np.min(np.diff(t)))
        with torch.no_grad():
            out = odeint(guarded, y0, tt, method="rk4", options=dict(step_size=dt / 4)).numpy()
    out[~np.isfinite(out)] = np.nan
    out[np.abs(out) > bound] = np.nan
    return out


def simulate_coefficients(coefficients, degree: int, x0, t, rtol: float = 1e-7, atol: float = 1e-9,
                          method: str = "dopri5") -> np.ndarray:
    """Integrate ``dx/dt = Xi Theta(x)`` for ``PolynomialLibrary(degree)`` coefficients with torchdiffeq.

    Example:
        >>> import numpy as np
        >>> from rankfield.dynamics import get_system
        >>> from rankfield.dynamics.validation import simulate_coefficients
        >>> system = get_system("lotka_volterra")
        >>> t, x = system.simulate(t=np.linspace(0.0, 1.0, 11))
        >>> x_sim = simulate_coefficients(system.true_coefficients(), system.degree, x[0], t)
        >>> x_sim.shape, bool(np.allclose(x_sim, x, rtol=1e-4, atol=1e-6))
        ((11, 2), True)
    """
    xi = torch.as_tensor(np.asarray(coefficients, dtype=float), dtype=torch.float64)
    n_states = xi.shape[0]
    powers = torch.as_tensor(library_powers(n_states, degree), dtype=torch.float64)
    if powers.shape[0] != xi.shape[1]:
        raise InputError(f"{xi.shape[1]} coefficients per equation, but PolynomialLibrary({degree}) over "
                         f"{n_states} states has {powers.shape[0]} terms")

    def f(_t, y):
        theta = torch.prod(y[None, :] ** powers, dim=1)
        return xi @ theta

    return _integrate(f, x0, t, rtol, atol, method)


def simulate_model(model, x0, t, rtol: float = 1e-7, atol: float = 1e-9, method: str = "dopri5") -> np.ndarray:
    """Integrate a fitted ``ps.SINDy`` model with torchdiffeq (any library, via ``model.predict``).

    Example:
        >>> import numpy as np
        >>> import pysindy as ps
        >>> from rankfield.dynamics import get_system
        >>> from rankfield.dynamics.validation import simulate_model
        >>> t, x = get_system("lotka_volterra").simulate(t=np.linspace(0.0, 2.0, 201))
        >>> model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2)).fit(x, t=t)
        >>> x_sim = simulate_model(model, x[0], t[:11])
        >>> x_sim.shape, bool(np.allclose(x_sim, x[:11], rtol=1e-2))
        ((11, 2), True)
    """
    lib = model.feature_library
    if type(lib).__name__ == "PolynomialLibrary" and lib.include_bias and not lib.interaction_only:
        try:
            return simulate_coefficients(model.coefficients(), lib.degree, x0, t, rtol, atol, method)
        except InputError:
            pass

    def f(_t, y):
        return torch.as_tensor(model.predict(y.numpy()[None, :])[0], dtype=torch.float64)

    return _integrate(f, x0, t, rtol, atol, method)


def validate_model(model, t, x_data, x_clean=None, x0=None) -> dict:
    """Simulate ``model`` from ``x0`` (default: first data sample) over ``t``; errors vs data (and clean).

    Returns ``{"x_sim", "error_vs_data", "error_vs_clean", "valid_fraction"}`` where errors are relative L2
    over the whole horizon (``inf`` if the simulation blew up) and ``valid_fraction`` is the fraction of
    the horizon before the simulated state departs from the reference by more than 20% of its RMS.

    Example:
        >>> import numpy as np
        >>> import pysindy as ps
        >>> from rankfield.dynamics import get_system, validate_model
        >>> t, x = get_system("lotka_volterra").simulate(t=np.linspace(0.0, 2.0, 201))
        >>> model = ps.SINDy(feature_library=ps.PolynomialLibrary(degree=2)).fit(x, t=t)
        >>> report = validate_model(model, t[:21], x[:21])
        >>> sorted(report), bool(report["error_vs_data"] < 0.01), float(report["valid_fraction"])
        (['error_vs_clean', 'error_vs_data', 'valid_fraction', 'x_sim'], True, 1.0)
    """
    x_data = np.asarray(x_data, dtype=float)
    ref = np.asarray(x_clean if x_clean is not None else x_data, dtype=float)
    x0 = ref[0] if x0 is None else x0
    x_sim = simulate_model(model, x0, t)
    dev = np.linalg.norm(np.nan_to_num(x_sim - ref, nan=np.inf), axis=1) / np.sqrt(np.mean(np.sum(ref ** 2, 1)))
    bad = np.nonzero(~(dev < 0.2))[0]
    valid = (bad[0] if len(bad) else len(t)) / len(t)
    return {"x_sim": x_sim, "error_vs_data": forecast_error(x_sim, x_data),
            "error_vs_clean": None if x_clean is None else forecast_error(x_sim, x_clean),
            "valid_fraction": float(valid)}
