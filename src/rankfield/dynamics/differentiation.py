"""RKTV-INR as a PySINDy differentiation method: :class:`RKTV`.

Examples:
    >>> import pysindy as ps
    >>> from rankfield.dynamics import RKTV, AutoSTLSQ, get_system, add_noise
    >>> t, x = get_system("lorenz").simulate()
    >>> model = ps.SINDy(differentiation_method=RKTV(steps=500, progress=False),
    ...                  optimizer=AutoSTLSQ(), feature_library=ps.PolynomialLibrary(2))
    >>> model = model.fit(add_noise(x, 0.1), t=t, feature_names=["x", "y", "z"])
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
from pysindy.differentiation import BaseDifferentiation

from rankfield.dynamics._checks import as_time_vector
from rankfield.dynamics.denoise import RKTVConfig, RKTVDenoiser
from rankfield.errors import InputError

__all__ = ["RKTV"]


class RKTV(BaseDifferentiation):
    """PySINDy differentiation method backed by the RKTV-INR denoiser.

    Sets ``smoothed_x_`` (the denoised states, from which PySINDy builds the library) and returns the
    network's exact derivative. ``t`` may be a float step, ``(n,)`` or ``(n, 1)``; with several
    trajectories PySINDy calls it once per trajectory (``denoisers_`` keeps every fit).

    Like PySINDy's own methods it is quiet by default (``RKTV()`` uses ``progress=False``; pass
    ``progress=True``, or a config with it, for a progress bar). A record it has already denoised (same
    samples, same times, same config) is not fitted again: ``SINDy.score(x_train, t)`` reuses the training
    fit and leaves ``denoisers_`` unchanged. A new record has to be denoised to be differentiated, so ``score`` on test data fits a network
    (and keeps it in ``denoisers_``); its R^2 is then measured against RKTV-INR's own derivative of the test
    data, which is not comparable across differentiation methods: compare methods with
    :func:`~rankfield.dynamics.validate_model` (simulation against the data) instead.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics import RKTV
        >>> diff = RKTV(steps=200)
        >>> x = np.sin(np.linspace(0, 6, 100))[:, None]
        >>> x_dot = diff(x, t=6 / 99)
        >>> diff.smoothed_x_.shape, len(diff.denoisers_)
        ((100, 1), 1)
        >>> _ = diff(x, t=6 / 99)  # the same record again: no new fit
        >>> len(diff.denoisers_)
        1
    """

    def __init__(self, config: RKTVConfig | None = None, **overrides):
        config = config or RKTVConfig(progress=False)
        self.config = dataclasses.replace(config, **overrides).validate() if overrides else config.validate()
        self.denoisers_: list[RKTVDenoiser] = []

    def _differentiate(self, x, t=1):
        arr = np.asarray(x, dtype=float)
        if arr.ndim != 2:
            raise InputError(f"RKTV differentiates (n_samples, n_states) arrays; got shape {arr.shape}")
        tt = as_time_vector(t, arr.shape[0])
        key = hashlib.sha1(np.ascontiguousarray(arr).tobytes() + np.ascontiguousarray(tt, dtype=float).tobytes()
                           + repr(arr.shape).encode() + repr(self.config.to_dict()).encode()).hexdigest()
        den = next((d for d in self.denoisers_ if getattr(d, "record_key_", None) == key), None)
        if den is None:
            den = RKTVDenoiser(self.config).fit(arr, tt)
            den.record_key_ = key  # the record and config it was fitted to (cleared when refined)
            self.denoisers_.append(den)
        self.denoiser_ = den
        self.smoothed_x_ = den.predict(tt)
        return den.derivative(tt)
