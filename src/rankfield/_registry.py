"""Component registries (private): one table per role drives config validation, building and CLI choices.

Adding an activation, an encoding, an init or a pose model is one ``@REGISTRY.register("name")`` next
to its class; :class:`~rankfield.inr.MLPConfig` validation, the builders and the CLI ``choices`` read the
same table.

Examples:
    >>> widgets = Registry("widget")
    >>> @widgets.register("round")
    ... def round_widget(size=1):
    ...     return ("round", size)
    >>> widgets.names(), widgets.build("round", size=2)
    (('round',), ('round', 2))
    >>> widgets.build("square")
    Traceback (most recent call last):
    ...
    rankfield.errors.InputError: unknown widget 'square'; choose one of round
"""

from __future__ import annotations

from typing import Callable

from rankfield.errors import InputError

__all__ = ["Registry"]


class Registry:
    """Named factories of one kind of component."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, Callable] = {}

    def register(self, name: str, factory: Callable | None = None):
        """Register ``factory`` under ``name`` (usable as a decorator)."""
        def add(f):
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = f
            return f
        return add(factory) if factory is not None else add

    def names(self) -> tuple[str, ...]:
        """Registered names, in registration order."""
        return tuple(self._items)

    def __contains__(self, name) -> bool:
        return name in self._items

    def get(self, name: str) -> Callable:
        """The factory of ``name``; an unknown name is an :class:`InputError` listing the choices."""
        if name not in self._items:
            raise InputError(f"unknown {self.kind} {name!r}; choose one of {', '.join(self._items)}")
        return self._items[name]

    def build(self, name: str, *args, **kwargs):
        """``get(name)(*args, **kwargs)``."""
        return self.get(name)(*args, **kwargs)
