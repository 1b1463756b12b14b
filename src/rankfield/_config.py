"""The one convention of rankfield's config dataclasses (private).

Every config is a dataclass that inherits :class:`Config`: ``Literal``-typed choices are checked by
:meth:`Config.validate` (which subclasses extend with their own rules), floats must be finite, and
:meth:`Config.to_dict` / :meth:`Config.from_dict` round-trip through plain JSON-able data (nested
configs included), so a run's config can be written next to its outputs and read back.

Examples:
    >>> from dataclasses import dataclass
    >>> from typing import Literal
    >>> @dataclass
    ... class Demo(Config):
    ...     steps: int = 10
    ...     schedule: Literal["cosine", "constant"] = "cosine"
    >>> Demo.from_dict({"steps": 5}).to_dict()
    {'steps': 5, 'schedule': 'cosine'}
    >>> Demo(schedule="linear").validate()
    Traceback (most recent call last):
    ...
    rankfield.errors.InputError: Demo.schedule must be one of cosine, constant; got 'linear'
"""

from __future__ import annotations

import dataclasses
import math
import sys
import types
import typing
from typing import Any, Literal, get_args, get_origin

from rankfield.errors import InputError

__all__ = ["Config", "choices_of", "type_hints", "literal_choices"]


def type_hints(cls) -> dict[str, Any]:
    """The resolved annotations of dataclass ``cls`` (string annotations evaluated in its module)."""
    module = sys.modules.get(cls.__module__)
    return typing.get_type_hints(cls, globalns=vars(module) if module else None)


def literal_choices(tp) -> tuple | None:
    """The allowed values of a ``Literal[...]`` (or ``Literal[...] | None``) annotation, else ``None``."""
    if get_origin(tp) is Literal:
        return get_args(tp)
    if get_origin(tp) in (typing.Union, types.UnionType):
        out = []
        for a in get_args(tp):
            if a is type(None):
                out.append(None)
            elif get_origin(a) is Literal:
                out.extend(get_args(a))
            else:
                return None
        return tuple(out)
    return None


def choices_of(cls, name: str) -> tuple:
    """The ``Literal`` choices of field ``name`` of config class ``cls`` (what the CLI offers).

    Examples:
        >>> from rankfield.inr import FitConfig
        >>> choices_of(FitConfig, "optimizer")
        ('adam', 'muon')
    """
    c = literal_choices(type_hints(cls)[name])
    if c is None:
        raise KeyError(f"{cls.__name__}.{name} is not a Literal field")
    return tuple(x for x in c if x is not None)


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


class Config:
    """Mixin for config dataclasses: ``validate``, ``to_dict``, ``from_dict``."""

    def validate(self):
        """Check ``Literal`` choices and that floats are finite; subclasses add their own rules."""
        name = type(self).__name__
        for f in dataclasses.fields(self):
            tp = type_hints(type(self))[f.name]
            v = getattr(self, f.name)
            choices = literal_choices(tp)
            if choices is not None and v not in choices:
                shown = ", ".join(str(c) for c in choices)
                raise InputError(f"{name}.{f.name} must be one of {shown}; got {v!r}")
            if isinstance(v, float) and not math.isfinite(v):
                raise InputError(f"{name}.{f.name} must be a finite number, got {v}")
            if isinstance(v, Config):
                v.validate()
        return self

    def to_dict(self) -> dict:
        """Plain data (JSON-able, and loadable by ``torch.load(weights_only=True)``)."""
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict):
        """Rebuild from :meth:`to_dict` output; unknown keys are an :class:`InputError`."""
        if not isinstance(data, dict):
            raise InputError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
        hints = type_hints(cls)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"{cls.__name__}: unknown setting(s) {', '.join(unknown)}")
        kw = {}
        for key, value in data.items():
            tp = hints[key]
            sub = next((a for a in (tp, *get_args(tp)) if isinstance(a, type) and issubclass(a, Config)), None)
            if sub is not None and isinstance(value, dict):
                value = sub.from_dict(value)
            elif isinstance(value, list) and (get_origin(tp) is tuple or tuple in get_args(tp)
                                              or any(get_origin(a) is tuple for a in get_args(tp))):
                value = tuple(value)
            kw[key] = value
        try:
            return cls(**kw)
        except TypeError as exc:
            raise InputError(f"{cls.__name__}: {exc}") from None
