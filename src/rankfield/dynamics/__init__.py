"""rankfield.dynamics -- RKTV-INR denoising chained into SINDy equation discovery.

A SIREN of time is fitted to a noisy trajectory with a data term, a Runge-Kutta (Simpson) consistency term
and a total-variation term on its derivative; its exact derivative feeds SINDy (PySINDy 2.x), whose sparsity
threshold is chosen per equation by an information criterion. Noise convention: ``sigma_j = level * std(x_j)``.

Example::

    >>> from rankfield.dynamics import discover, get_system, add_noise
    >>> lorenz = get_system("lorenz")
    >>> t, x = lorenz.simulate()                          # 1000 samples, dt 0.01
    >>> result = discover(add_noise(x, 0.1, seed=0), t)   # RKTV-INR + automatic threshold
    >>> print("\\n".join(result.format_equations()))
    >>> report = validate_model(result.model, t, x)       # integrate with torchdiffeq

Public API: systems (:class:`System`, :func:`get_system`, ``SYSTEMS``, :func:`add_noise`), the denoiser
(:class:`RKTVConfig`, :class:`RKTVDenoiser`, :func:`denoise`), PySINDy parts (:class:`RKTV`,
:class:`AutoSTLSQ`, :class:`EnsembleSTLSQ`), :func:`discover` / :class:`DiscoveryResult`, validation
(:func:`validate_model`, :func:`simulate_model`, :func:`simulate_coefficients`) and :mod:`rankfield.dynamics.metrics`.
"""

from rankfield.dynamics import metrics
from rankfield.dynamics.denoise import RKTVConfig, RKTVDenoiser, denoise
from rankfield.dynamics.sindy import RKTV, AutoSTLSQ, DiscoveryResult, EnsembleSTLSQ, discover
from rankfield.dynamics.systems import SYSTEMS, System, add_noise, get_system
from rankfield.dynamics.validation import simulate_coefficients, simulate_model, validate_model

__all__ = ["System", "SYSTEMS", "get_system", "add_noise", "RKTVConfig", "RKTVDenoiser", "denoise",
           "RKTV", "AutoSTLSQ", "EnsembleSTLSQ", "DiscoveryResult", "discover", "validate_model", "simulate_model",
           "simulate_coefficients", "metrics"]
