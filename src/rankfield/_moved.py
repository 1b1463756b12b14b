"""Deprecated package-level names that moved into a submodule (private): one ``__getattr__`` for every package."""

from __future__ import annotations

import importlib
import warnings


def moved_getattr(package: str, moved: dict[str, str]):
    """A module ``__getattr__`` for ``package`` that returns ``package.<module>.<name>`` for each ``name -> module``
    of ``moved`` with a ``DeprecationWarning``, and raises ``AttributeError`` for any other name.

    Examples:
        >>> import warnings
        >>> getattr_ = moved_getattr("rankfield.nerf", {"so3_exp": "geometry"})
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     f = getattr_("so3_exp")
        >>> f.__module__, caught[0].category.__name__
        ('rankfield.nerf.geometry', 'DeprecationWarning')
    """
    def __getattr__(name):
        if name not in moved:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = moved[name]
        warnings.warn(f"{package}.{name} moved to {package}.{module}.{name}; the old name goes in the next release",
                      DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(f"{package}.{module}"), name)
    return __getattr__
