"""rankfield.dynamics -- RKTV-INR denoising chained into SINDy equation discovery.

A SIREN of time is fitted to a noisy trajectory with a data term, a Runge-Kutta (Simpson) consistency term
and a total-variation term on its derivative; its exact derivative feeds SINDy (PySINDy 2.x), whose sparsity
threshold is chosen per equation by an information criterion. Noise convention: ``sigma_j = level * std(x_j)``.

Examples:

    >>> from rankfield.dynamics import RKTVConfig, discover, get_system, add_noise, metrics, validate_model
    >>> lorenz = get_system("lorenz")
    >>> t, x = lorenz.simulate()                          # 1000 samples, dt 0.01
    >>> result = discover(add_noise(x, 0.1, seed=0), t,   # RKTV-INR + automatic threshold + 2 refinements (~10 s)
    ...                   config=RKTVConfig(progress=False))
    >>> metrics.support_recovered(result.coefficients, lorenz.true_coefficients(2))  # the right terms
    True
    >>> print("\\n".join(result.format_equations(precision=1)))  # true: -10 x + 10 y; 28 x - y - x z; -2.67 z + x y
    dx/dt = -9.9 x + 9.9 y
    dy/dt = 27.6 x - 0.9 y - 1.0 x z
    dz/dt = -2.7 z + 1.0 x y
    >>> report = validate_model(result.model, t, x)       # integrate the model with torchdiffeq
    >>> sorted(report)[:3]
    ['error_vs_clean', 'error_vs_data', 'valid_fraction']

Public API: systems (:class:`System`, :func:`get_system`, ``SYSTEMS``, :func:`add_noise`), the denoiser
(:class:`RKTVConfig`, :class:`RKTVDenoiser`, :func:`denoise`), PySINDy parts (:class:`RKTV`, :class:`AutoSTLSQ`),
:func:`discover` / :class:`DiscoverConfig` / :class:`DiscoveryResult`, :func:`validate_model` and
:mod:`rankfield.dynamics.metrics`. Further pieces are reached through their modules: the denoiser's data-driven
settings (``rankfield.dynamics.denoise.estimate_noise``, ``bandwidth_settings``), the optimizers
(``rankfield.dynamics.optimizers.EnsembleSTLSQ``, weak SINDy's rule ``MSTLS``), row weights
(``rankfield.dynamics.weighting.bias_weights``) and simulation (``rankfield.dynamics.validation.simulate_model``,
``simulate_coefficients``).
"""

from rankfield._extras import require as _require

_require("pysindy", "dynamics", "rankfield.dynamics")  # the `dynamics` extra: INR/NeRF users need neither
_require("torchdiffeq", "dynamics", "rankfield.dynamics")

from rankfield._moved import moved_getattr
from rankfield.dynamics import metrics, optimizers, validation, weighting
from rankfield.dynamics.denoise import RKTVConfig, RKTVDenoiser, denoise
from rankfield.dynamics.differentiation import RKTV
from rankfield.dynamics.discovery import DiscoverConfig, DiscoveryResult, discover
from rankfield.dynamics.optimizers import AutoSTLSQ
from rankfield.dynamics.systems import SYSTEMS, System, add_noise, get_system
from rankfield.dynamics.validation import validate_model

__all__ = ["System", "SYSTEMS", "get_system", "add_noise", "RKTVConfig", "RKTVDenoiser", "denoise", "RKTV", "AutoSTLSQ",
           "DiscoverConfig", "DiscoveryResult", "discover", "validate_model", "metrics"]

# Package-level names until 2026-12-06, now reached through their modules. The old names work for one release with a
# DeprecationWarning.
_MOVED = {"estimate_noise": "denoise", "bandwidth_settings": "denoise", "bias_weights": "weighting",
          "simulate_coefficients": "validation", "simulate_model": "validation", "MSTLS": "optimizers",
          "EnsembleSTLSQ": "optimizers"}

__getattr__ = moved_getattr("rankfield.dynamics", _MOVED)
