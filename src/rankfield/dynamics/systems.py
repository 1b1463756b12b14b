"""Benchmark dynamical systems with their true SINDy coefficients, and the noise convention.

Every system is polynomial, so its right-hand side is stored as a sparse map
``{exponent tuple: coefficient}`` per equation. :meth:`System.true_coefficients` lays these out in
PySINDy's ``PolynomialLibrary(degree)`` feature order, shape ``(n_states, n_features)``, so that
coefficient errors against a fitted ``model.coefficients()`` can be computed directly.

Noise convention (used everywhere in rankfield.dynamics): additive Gaussian measurement noise with
per-state standard deviation ``sigma_j = level * std(x_j)``, the standard deviation of the clean
state over the trajectory. ``level=0.1`` is "10% noise" (a noise-to-signal variance ratio of 0.01).

Examples:
    >>> from rankfield.dynamics import get_system, add_noise
    >>> lorenz = get_system("lorenz")
    >>> t, x = lorenz.simulate()            # 1000 samples, dt = 0.01
    >>> y = add_noise(x, level=0.1, seed=0)  # sigma_j = 0.1 * std(x_j)
    >>> lorenz.true_coefficients().shape
    (3, 10)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from rankfield.errors import InputError

__all__ = ["System", "SYSTEMS", "get_system", "add_noise", "library_powers"]


def library_powers(n_states: int, degree: int, include_bias: bool = True) -> np.ndarray:
    """Exponents of PySINDy's ``PolynomialLibrary(degree)`` features, shape ``(n_features, n_states)``."""
    import pysindy as ps

    lib = ps.PolynomialLibrary(degree=degree, include_bias=include_bias).fit(np.zeros((2, n_states)))
    return np.asarray(lib.powers_)


@dataclass(frozen=True)
class System:
    """A polynomial ODE ``dx/dt = f(x)`` with its default experiment.

    Attributes:
        name: registry key (``lorenz``, ``rossler``, ...).
        state_names: one name per state (used as SINDy feature names).
        terms: per equation, ``{exponents: coefficient}``; exponents has one entry per state.
        degree: polynomial library degree that contains the true model.
        x0: default initial condition.
        dt: default sampling step.
        n_samples: default number of samples (``t = dt * arange(n_samples)``).

    Example:
        >>> from rankfield.dynamics import get_system
        >>> lorenz = get_system("lorenz")
        >>> lorenz.state_names, lorenz.degree, lorenz.n_states
        (('x', 'y', 'z'), 2, 3)
        >>> lorenz.true_coefficients().shape
        (3, 10)
    """

    name: str
    state_names: tuple[str, ...]
    terms: tuple[dict, ...]
    degree: int
    x0: tuple[float, ...]
    dt: float
    n_samples: int = 1000
    description: str = ""
    _powers_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_states(self) -> int:
        return len(self.state_names)

    def rhs(self, x: np.ndarray) -> np.ndarray:
        """``f(x)`` for ``x`` of shape ``(..., n_states)``."""
        x = np.asarray(x, dtype=float)
        out = np.zeros_like(x)
        for j, eq in enumerate(self.terms):
            for powers, c in eq.items():
                out[..., j] += c * np.prod(x ** np.asarray(powers, dtype=float), axis=-1)
        return out

    def true_coefficients(self, degree: int | None = None) -> np.ndarray:
        """True coefficients in ``PolynomialLibrary(degree or self.degree)`` order, ``(n_states, n_features)``."""
        degree = self.degree if degree is None else degree
        if degree not in self._powers_cache:
            self._powers_cache[degree] = library_powers(self.n_states, degree)
        powers = [tuple(int(p) for p in row) for row in self._powers_cache[degree]]
        xi = np.zeros((self.n_states, len(powers)))
        for j, eq in enumerate(self.terms):
            for exps, c in eq.items():
                if tuple(exps) not in powers:
                    raise InputError(f"{self.name}: term {exps} is not in a degree-{degree} library")
                xi[j, powers.index(tuple(exps))] = c
        return xi

    def characteristic_period(self, duration: float | None = None) -> float:
        """The system's characteristic period ``2 pi * median_j std(x_j) / std(dx_j/dt)`` on its trajectory.

        For a sinusoid of angular frequency ``w`` this is exactly ``2 pi / w``; for a chaotic flow it is the
        period of the mean (RMS) frequency of its states. Used to sample systems at a fixed number of samples
        per period (``dt = period / k``).

        Args:
            duration: time span to average over, from ``x0`` (default: 5 default-length runs, ``5 * n_samples
                * dt``).

        Example:
            >>> from rankfield.dynamics import get_system
            >>> round(get_system("lorenz").characteristic_period(), 2) > 0
            True
        """
        duration = 5 * self.n_samples * self.dt if duration is None else float(duration)
        _, x = self.simulate(t=np.linspace(0.0, duration, 20_001))
        return float(2 * np.pi * np.median(x.std(axis=0) / self.rhs(x).std(axis=0)))

    def simulate(self, n_samples: int | None = None, dt: float | None = None, x0=None,
                 t: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Integrate accurately (DOP853, rtol=atol=1e-10); returns ``(t, x)`` with ``x`` of shape ``(n, n_states)``.

        ``t`` (any strictly increasing times, e.g. non-uniform) overrides ``n_samples``/``dt``.
        """
        if t is None:
            n = self.n_samples if n_samples is None else int(n_samples)
            t = (self.dt if dt is None else float(dt)) * np.arange(n)
        t = np.asarray(t, dtype=float)
        y0 = np.asarray(self.x0 if x0 is None else x0, dtype=float)
        sol = solve_ivp(lambda _t, y: self.rhs(y), (t[0], t[-1]), y0, t_eval=t, method="DOP853",
                        rtol=1e-10, atol=1e-10)
        if not sol.success:  # pragma: no cover - the registry systems are well posed
            raise RuntimeError(f"{self.name}: integration failed: {sol.message}")
        return t, sol.y.T.copy()


def _e(*p):  # exponent tuple helper
    return tuple(p)


SYSTEMS: dict[str, System] = {
    "lorenz": System(
        "lorenz", ("x", "y", "z"),
        ({_e(1, 0, 0): -10.0, _e(0, 1, 0): 10.0},
         {_e(1, 0, 0): 28.0, _e(0, 1, 0): -1.0, _e(1, 0, 1): -1.0},
         {_e(1, 1, 0): 1.0, _e(0, 0, 1): -8.0 / 3.0}),
        degree=2, x0=(-8.0, 7.0, 27.0), dt=0.01, description="Lorenz (10, 28, 8/3)"),
    "rossler": System(
        "rossler", ("x", "y", "z"),
        ({_e(0, 1, 0): -1.0, _e(0, 0, 1): -1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): 0.2},
         {_e(0, 0, 0): 0.2, _e(0, 0, 1): -5.7, _e(1, 0, 1): 1.0}),
        degree=2, x0=(1.0, 1.0, 0.0), dt=0.05, description="Rössler (0.2, 0.2, 5.7)"),
    "vanderpol": System(
        "vanderpol", ("x", "y"),
        ({_e(0, 1): 1.0},
         {_e(1, 0): -1.0, _e(0, 1): 1.0, _e(2, 1): -1.0}),
        degree=3, x0=(2.0, 0.0), dt=0.02, description="Van der Pol (mu = 1)"),
    "duffing": System(
        "duffing", ("x", "y"),
        ({_e(0, 1): 1.0},
         {_e(1, 0): -1.0, _e(0, 1): -0.2, _e(3, 0): -1.0}),
        degree=3, x0=(2.0, 0.0), dt=0.02, description="Duffing (delta 0.2, alpha 1, beta 1), unforced"),
    "lotka_volterra": System(
        "lotka_volterra", ("x", "y"),
        ({_e(1, 0): 1.0, _e(1, 1): -0.5},
         {_e(1, 1): 0.5, _e(0, 1): -1.0}),
        degree=2, x0=(4.0, 1.0), dt=0.02, description="Lotka-Volterra (1, 0.5, 0.5, 1)"),
    "cubic_oscillator": System(
        "cubic_oscillator", ("x", "y"),
        ({_e(3, 0): -0.1, _e(0, 3): 2.0},
         {_e(3, 0): -2.0, _e(0, 3): -0.1}),
        degree=3, x0=(2.0, 0.0), dt=0.025, description="damped cubic oscillator (PySINDy example)"),
    # three more quadratic chaotic systems, started on their attractors (after 200 time units)
    "chen": System(
        "chen", ("x", "y", "z"),
        ({_e(1, 0, 0): -35.0, _e(0, 1, 0): 35.0},
         {_e(1, 0, 0): -7.0, _e(1, 0, 1): -1.0, _e(0, 1, 0): 28.0},
         {_e(1, 1, 0): 1.0, _e(0, 0, 1): -3.0}),
        degree=2, x0=(-1.453, -0.826, 17.249), dt=0.005, description="Chen (a 35, b 3, c 28; Chen & Ueta 1999)"),
    "lu": System(
        "lu", ("x", "y", "z"),
        ({_e(1, 0, 0): -36.0, _e(0, 1, 0): 36.0},
         {_e(1, 0, 1): -1.0, _e(0, 1, 0): 20.0},
         {_e(1, 1, 0): 1.0, _e(0, 0, 1): -3.0}),
        degree=2, x0=(-5.752, -6.591, 15.896), dt=0.01, description="Lu (a 36, b 3, c 20; Lu & Chen 2002)"),
    "halvorsen": System(
        "halvorsen", ("x", "y", "z"),
        ({_e(1, 0, 0): -1.89, _e(0, 1, 0): -4.0, _e(0, 0, 1): -4.0, _e(0, 2, 0): -1.0},
         {_e(0, 1, 0): -1.89, _e(0, 0, 1): -4.0, _e(1, 0, 0): -4.0, _e(0, 0, 2): -1.0},
         {_e(0, 0, 1): -1.89, _e(1, 0, 0): -4.0, _e(0, 1, 0): -4.0, _e(2, 0, 0): -1.0}),
        degree=2, x0=(0.491, -6.244, -5.362), dt=0.01, description="Halvorsen (a 1.89; Sprott 2010)"),
    "seir": System(
        "seir", ("S", "E", "I", "R"),
        ({_e(1, 0, 1, 0): -1.0, _e(0, 0, 0, 1): 0.1},
         {_e(1, 0, 1, 0): 1.0, _e(0, 1, 0, 0): -0.5},
         {_e(0, 1, 0, 0): 0.5, _e(0, 0, 1, 0): -0.35},
         {_e(0, 0, 1, 0): 0.25, _e(0, 0, 0, 1): -0.1}),
        degree=2, x0=(0.99, 0.0, 0.01, 0.0), dt=0.05,
        description="SEIR(S) (beta 1, sigma 0.5, gamma 0.25, disease mortality 0.1, waning immunity 0.1), "
                    "population fractions. Mortality and waning break S+E+I+R = const and R = c * (1 - N), "
                    "which would make a polynomial library exactly degenerate"),
    # the generalisation benchmark's catalogue (benchmarks/sindy_general.py): 3-state quadratic chaotic flows from
    # the literature, started on their attractors, dt = 1/50 of their characteristic period
    "sprott_a": System(
        "sprott_a", ("x", "y", "z"),
        ({_e(0, 1, 0): 1.0},
         {_e(1, 0, 0): -1.0, _e(0, 1, 1): 1.0},
         {_e(0, 0, 0): 1.0, _e(0, 2, 0): -1.0}),
        degree=2, x0=(-0.0045, 0.1224, -1.4756), dt=0.11, description="Sprott A (Nose-Hoover; Sprott 1994)"),
    "sprott_b": System(
        "sprott_b", ("x", "y", "z"),
        ({_e(0, 1, 1): 1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): -1.0},
         {_e(0, 0, 0): 1.0, _e(1, 1, 0): -1.0}),
        degree=2, x0=(1.1281, 0.6357, 1.5502), dt=0.11, description="Sprott B (Sprott 1994)"),
    "sprott_c": System(
        "sprott_c", ("x", "y", "z"),
        ({_e(0, 1, 1): 1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): -1.0},
         {_e(0, 0, 0): 1.0, _e(2, 0, 0): -1.0}),
        degree=2, x0=(-0.9862, 0.4731, -1.6548), dt=0.13, description="Sprott C (Sprott 1994)"),
    "sprott_d": System(
        "sprott_d", ("x", "y", "z"),
        ({_e(0, 1, 0): -1.0},
         {_e(1, 0, 0): 1.0, _e(0, 0, 1): 1.0},
         {_e(1, 0, 1): 1.0, _e(0, 2, 0): 3.0}),
        degree=2, x0=(-0.4293, -0.4311, 1.4008), dt=0.098, description="Sprott D (Sprott 1994)"),
    "sprott_e": System(
        "sprott_e", ("x", "y", "z"),
        ({_e(0, 1, 1): 1.0},
         {_e(2, 0, 0): 1.0, _e(0, 1, 0): -1.0},
         {_e(0, 0, 0): 1.0, _e(1, 0, 0): -4.0}),
        degree=2, x0=(0.4808, 0.1238, 2.7179), dt=0.11, description="Sprott E (Sprott 1994)"),
    "sprott_f": System(
        "sprott_f", ("x", "y", "z"),
        ({_e(0, 1, 0): 1.0, _e(0, 0, 1): 1.0},
         {_e(1, 0, 0): -1.0, _e(0, 1, 0): 0.5},
         {_e(2, 0, 0): 1.0, _e(0, 0, 1): -1.0}),
        degree=2, x0=(-1.5117, -2.6469, 4.1885), dt=0.16, description="Sprott F (Sprott 1994)"),
    "sprott_g": System(
        "sprott_g", ("x", "y", "z"),
        ({_e(1, 0, 0): 0.4, _e(0, 0, 1): 1.0},
         {_e(1, 0, 1): 1.0, _e(0, 1, 0): -1.0},
         {_e(1, 0, 0): -1.0, _e(0, 1, 0): 1.0}),
        degree=2, x0=(-0.9006, -1.9722, 1.4413), dt=0.11, description="Sprott G (Sprott 1994)"),
    "sprott_h": System(
        "sprott_h", ("x", "y", "z"),
        ({_e(0, 1, 0): -1.0, _e(0, 0, 2): 1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): 0.5},
         {_e(1, 0, 0): 1.0, _e(0, 0, 1): -1.0}),
        degree=2, x0=(0.0773, -0.7196, -0.487), dt=0.14, description="Sprott H (Sprott 1994)"),
    "sprott_i": System(
        "sprott_i", ("x", "y", "z"),
        ({_e(0, 1, 0): -0.2},
         {_e(1, 0, 0): 1.0, _e(0, 0, 1): 1.0},
         {_e(1, 0, 0): 1.0, _e(0, 2, 0): 1.0, _e(0, 0, 1): -1.0}),
        degree=2, x0=(-0.2226, 0.3795, 0.0441), dt=0.2, description="Sprott I (Sprott 1994)"),
    "sprott_j": System(
        "sprott_j", ("x", "y", "z"),
        ({_e(0, 0, 1): 2.0},
         {_e(0, 1, 0): -2.0, _e(0, 0, 1): 1.0},
         {_e(1, 0, 0): -1.0, _e(0, 1, 0): 1.0, _e(0, 2, 0): 1.0}),
        degree=2, x0=(19.7524, 1.6033, -0.9083), dt=0.088, description="Sprott J (Sprott 1994)"),
    "sprott_k": System(
        "sprott_k", ("x", "y", "z"),
        ({_e(1, 1, 0): 1.0, _e(0, 0, 1): -1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): -1.0},
         {_e(1, 0, 0): 1.0, _e(0, 0, 1): 0.3}),
        degree=2, x0=(-0.6908, -0.648, -0.1767), dt=0.13, description="Sprott K (Sprott 1994)"),
    "sprott_l": System(
        "sprott_l", ("x", "y", "z"),
        ({_e(0, 1, 0): 1.0, _e(0, 0, 1): 3.9},
         {_e(2, 0, 0): 0.9, _e(0, 1, 0): -1.0},
         {_e(0, 0, 0): 1.0, _e(1, 0, 0): -1.0}),
        degree=2, x0=(3.9003, 18.2287, -4.868), dt=0.066, description="Sprott L (Sprott 1994)"),
    "sprott_m": System(
        "sprott_m", ("x", "y", "z"),
        ({_e(0, 0, 1): -1.0},
         {_e(2, 0, 0): -1.0, _e(0, 1, 0): -1.0},
         {_e(0, 0, 0): 1.7, _e(1, 0, 0): 1.7, _e(0, 1, 0): 1.0}),
        degree=2, x0=(0.5074, -0.488, 0.8542), dt=0.12, description="Sprott M (Sprott 1994)"),
    "sprott_n": System(
        "sprott_n", ("x", "y", "z"),
        ({_e(0, 1, 0): -2.0},
         {_e(1, 0, 0): 1.0, _e(0, 0, 2): 1.0},
         {_e(0, 0, 0): 1.0, _e(0, 1, 0): 1.0, _e(0, 0, 1): -2.0}),
        degree=2, x0=(-9.9438, 5.3676, 2.9343), dt=0.089, description="Sprott N (Sprott 1994)"),
    "sprott_o": System(
        "sprott_o", ("x", "y", "z"),
        ({_e(0, 1, 0): 1.0},
         {_e(1, 0, 0): 1.0, _e(0, 0, 1): -1.0},
         {_e(1, 0, 0): 1.0, _e(1, 0, 1): 1.0, _e(0, 1, 0): 2.7}),
        degree=2, x0=(-0.1924, 0.4333, -0.0132), dt=0.098, description="Sprott O (Sprott 1994)"),
    "sprott_p": System(
        "sprott_p", ("x", "y", "z"),
        ({_e(0, 1, 0): 2.7, _e(0, 0, 1): 1.0},
         {_e(1, 0, 0): -1.0, _e(0, 2, 0): 1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): 1.0}),
        degree=2, x0=(-0.3008, 0.3473, -0.1827), dt=0.11, description="Sprott P (Sprott 1994)"),
    "sprott_q": System(
        "sprott_q", ("x", "y", "z"),
        ({_e(0, 0, 1): -1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): -1.0},
         {_e(1, 0, 0): 3.1, _e(0, 2, 0): 1.0, _e(0, 0, 1): 0.5}),
        degree=2, x0=(-2.5333, -2.4437, 0.6134), dt=0.083, description="Sprott Q (Sprott 1994)"),
    "sprott_r": System(
        "sprott_r", ("x", "y", "z"),
        ({_e(0, 0, 0): 0.9, _e(0, 1, 0): -1.0},
         {_e(0, 0, 0): 0.4, _e(0, 0, 1): 1.0},
         {_e(1, 1, 0): 1.0, _e(0, 0, 1): -1.0}),
        degree=2, x0=(-1.6027, 3.7214, -0.6977), dt=0.096, description="Sprott R (Sprott 1994)"),
    "sprott_s": System(
        "sprott_s", ("x", "y", "z"),
        ({_e(1, 0, 0): -1.0, _e(0, 1, 0): -4.0},
         {_e(1, 0, 0): 1.0, _e(0, 0, 2): 1.0},
         {_e(0, 0, 0): 1.0, _e(1, 0, 0): 1.0}),
        degree=2, x0=(-0.6694, 1.2078, 1.5752), dt=0.063, description="Sprott S (Sprott 1994)"),
    "rucklidge": System(
        "rucklidge", ("x", "y", "z"),
        ({_e(1, 0, 0): -2.0, _e(0, 1, 0): 6.7, _e(0, 1, 1): -1.0},
         {_e(1, 0, 0): 1.0},
         {_e(0, 0, 1): -1.0, _e(0, 2, 0): 1.0}),
        degree=2, x0=(1.5618, 1.302, 2.7665), dt=0.073, description="Rucklidge (k 2, lambda 6.7; Rucklidge 1992)"),
    "shimizu_morioka": System(
        "shimizu_morioka", ("x", "y", "z"),
        ({_e(0, 1, 0): 1.0},
         {_e(1, 0, 0): 1.0, _e(0, 1, 0): -0.75, _e(1, 0, 1): -1.0},
         {_e(0, 0, 1): -0.45, _e(2, 0, 0): 1.0}),
        degree=2, x0=(-1.1304, -0.0224, 1.4354), dt=0.16, description="Shimizu-Morioka (a 0.75, b 0.45)"),
    "burke_shaw": System(
        "burke_shaw", ("x", "y", "z"),
        ({_e(1, 0, 0): -10.0, _e(0, 1, 0): -10.0},
         {_e(0, 1, 0): -1.0, _e(1, 0, 1): -10.0},
         {_e(1, 1, 0): 10.0, _e(0, 0, 0): 4.272}),
        degree=2, x0=(-0.9807, -0.3844, -1.69), dt=0.016, description="Burke-Shaw (s 10, v 4.272)"),
    "lorenz84": System(
        "lorenz84", ("x", "y", "z"),
        ({_e(0, 2, 0): -1.0, _e(0, 0, 2): -1.0, _e(1, 0, 0): -0.25, _e(0, 0, 0): 2.0},
         {_e(1, 1, 0): 1.0, _e(1, 0, 1): -4.0, _e(0, 1, 0): -1.0, _e(0, 0, 0): 1.0},
         {_e(1, 1, 0): 4.0, _e(1, 0, 1): 1.0, _e(0, 0, 1): -1.0}),
        degree=2, x0=(0.6486, -0.5751, 0.3826), dt=0.027, description="Lorenz-84 (a 0.25, b 4, F 8, G 1)"),
    "genesio_tesi": System(
        "genesio_tesi", ("x", "y", "z"),
        ({_e(0, 1, 0): 1.0},
         {_e(0, 0, 1): 1.0},
         {_e(1, 0, 0): -1.0, _e(0, 1, 0): -1.1, _e(0, 0, 1): -0.44, _e(2, 0, 0): 1.0}),
        degree=2, x0=(-0.2791, -0.3288, 0.5225), dt=0.12, description="Genesio-Tesi (a 0.44, b 1.1, c 1)"),
    "chen_lee": System(
        "chen_lee", ("x", "y", "z"),
        ({_e(1, 0, 0): 5.0, _e(0, 1, 1): -1.0},
         {_e(0, 1, 0): -10.0, _e(1, 0, 1): 1.0},
         {_e(0, 0, 1): -0.38, _e(1, 1, 0): 0.3333333333333333}),
        degree=2, x0=(-0.4658, -0.1847, 4.9553), dt=0.02, description="Chen-Lee (a 5, b -10, c -0.38)"),
    "finance": System(
        "finance", ("x", "y", "z"),
        ({_e(0, 0, 1): 1.0, _e(1, 1, 0): 1.0, _e(1, 0, 0): -3.0},
         {_e(0, 0, 0): 1.0, _e(0, 1, 0): -0.1, _e(2, 0, 0): -1.0},
         {_e(1, 0, 0): -1.0, _e(0, 0, 1): -1.0}),
        degree=2, x0=(1.0967, 4.5841, -0.3526), dt=0.16, description="chaotic finance system (a 3, b 0.1, c 1)"),
}


def get_system(name: str) -> System:
    """A registry system by name (case-insensitive, ``-``/``_`` interchangeable).

    Example:
        >>> from rankfield.dynamics import get_system
        >>> system = get_system("Lotka-Volterra")
        >>> system.name, system.state_names
        ('lotka_volterra', ('x', 'y'))
        >>> t, x = system.simulate()
        >>> t.shape, x.shape
        ((1000,), (1000, 2))
    """
    key = name.lower().replace("-", "_").replace("ö", "o")
    if key not in SYSTEMS:
        raise InputError(f"unknown system {name!r}; choose one of {', '.join(SYSTEMS)}")
    return SYSTEMS[key]


def add_noise(x: np.ndarray, level: float, seed: int = 0, scale: np.ndarray | None = None) -> np.ndarray:
    """Add Gaussian noise with ``sigma_j = level * std(x_j)`` (or ``level * scale_j``); seeded.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics import add_noise
        >>> y = add_noise(np.ones((5, 2)) * [[1.0], [2.0], [3.0], [4.0], [5.0]], 0.1, seed=1)
    """
    if level < 0:
        raise InputError(f"noise level must be >= 0, got {level}")
    x = np.asarray(x, dtype=float)
    sigma = level * (np.std(x, axis=0) if scale is None else np.asarray(scale, dtype=float))
    rng = np.random.default_rng(seed)
    return x + rng.standard_normal(x.shape) * sigma
