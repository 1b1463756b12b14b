"""Compatibility module: the names that lived here before issue 34's split, re-exported from their new modules.

``rankfield.dynamics.sindy`` was one module for RKTV-INR inside PySINDy; it is now
:mod:`~rankfield.dynamics.differentiation` (:class:`RKTV`), :mod:`~rankfield.dynamics.optimizers`
(:class:`AutoSTLSQ`, :class:`EnsembleSTLSQ`, :class:`MSTLS`), :mod:`~rankfield.dynamics.weighting`
(:func:`bias_weights`) and :mod:`~rankfield.dynamics.discovery` (:func:`discover`, :class:`DiscoveryResult`,
trimming and the refinement rule). Kept so that ``from rankfield.dynamics.sindy import ...`` in users' code and
the benchmarks keeps working; new code imports from :mod:`rankfield.dynamics` or the modules above.

Examples:
    >>> from rankfield.dynamics import sindy, discovery
    >>> sindy.discover is discovery.discover and sindy.TRIM_DEFAULT == discovery.TRIM_DEFAULT
    True
"""

from rankfield.dynamics.differentiation import RKTV
from rankfield.dynamics.discovery import (REFINE_AUTO_NOISE, REFINE_AUTO_PASSES, REFINE_DEFAULT, TRIM_DEFAULT,
                                          DiscoveryResult, discover, format_equation, refine_passes)
from rankfield.dynamics.optimizers import MSTLS, AutoSTLSQ, EnsembleSTLSQ
from rankfield.dynamics.weighting import BIAS_WEIGHTING_C, BIAS_WEIGHTING_DEFAULT, bias_weights

__all__ = ["RKTV", "AutoSTLSQ", "EnsembleSTLSQ", "MSTLS", "DiscoveryResult", "discover", "bias_weights",
           "format_equation", "refine_passes", "TRIM_DEFAULT", "REFINE_DEFAULT", "REFINE_AUTO_PASSES",
           "REFINE_AUTO_NOISE", "BIAS_WEIGHTING_C", "BIAS_WEIGHTING_DEFAULT"]
