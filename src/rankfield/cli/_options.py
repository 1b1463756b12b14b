"""Command-line options generated from config dataclasses (private): one source of truth (issue 34).

A :class:`ConfigOption` names a field of a config (``"rays_per_step"``, or ``"render.n_samples"`` for a
nested config) and the option that sets it (``--rays``). :func:`add_config_options` adds the options to an
argparse parser with

* the default taken from a *preset*, a config instance defined in the library (e.g.
  :data:`rankfield.nerf.train.CPU_PROTOCOL`), never from a literal in the CLI;
* the help text taken from the field's paragraph in its class's ``Attributes:`` docstring section, with
  ``(default: <value>)`` appended from the preset;
* the type (or ``choices`` for a ``Literal[...]``) taken from the annotation, unless the option keeps
  one of the CLI's validators (``positive_int`` ...).

:func:`config_from_args` is the reverse: the preset with the parsed values put in (plus overrides).
Option names and destinations stay what they were, so ``config.json`` files, ``--config`` and
``--resume`` keep working.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import types
import typing
from typing import Any, Callable, get_args, get_origin

from rankfield._config import literal_choices, type_hints

_PRESET = object()  # ConfigOption.default: "the preset's value"


@dataclasses.dataclass(frozen=True)
class ConfigOption:
    """One option set from one config field.

    Attributes:
        field: the field's name, dotted for a nested config (``"render.n_samples"``).
        flag: the option (``"--rays"``); its destination is argparse's (``rays``).
        type: validator for the text (default: from the annotation).
        choices: the allowed values, for a field typed ``str`` whose values a registry holds (default: from a
            ``Literal[...]`` annotation, if any).
        default: the argparse default when it is not the preset's value: ``None`` for a default the command
            resolves itself (then ``shown`` says what it is).
        shown: the text after ``default:`` in the help (default: the argparse default).
    """

    field: str
    flag: str
    type: Callable[[str], Any] | None = None
    choices: tuple | None = None
    default: Any = _PRESET
    shown: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def _clean(text: str) -> str:
    """Docstring markup to plain help text (argparse's ``%`` escaped)."""
    text = re.sub(r":\w+:`~?([\w.]+)`", lambda m: m.group(1).rsplit(".", 1)[-1]
                  if m.group(0).split("`")[1].startswith("~") else m.group(1), text)
    text = re.sub(r"\*(\w[^*]*)\*", r"\1", text.replace("``", ""))
    return " ".join(text.split()).replace("%", "%%")


def documented_attributes(cls) -> dict[str, str]:
    """Field name -> its text in the ``Attributes:`` section of ``cls``'s docstring (plain text).

    One paragraph per entry, ``name: text`` possibly continued on more indented lines; fields documented
    together (``lr_field, lr_field_end: ...``) share the text. The section ends at the first line indented
    no deeper than its header.

    Examples:
        >>> from rankfield.nerf.render import RenderConfig
        >>> documented_attributes(RenderConfig)["n_samples"]
        'samples per ray (BARF uses 128).'
    """
    doc = inspect.getdoc(cls) or ""
    lines = doc.splitlines()
    out: dict[str, str] = {}
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Attributes:")
    except StopIteration:
        return out
    header = len(lines[start]) - len(lines[start].lstrip())
    entry_indent = None
    names: list[str] = []
    parts: list[str] = []

    def flush():
        for n in names:
            out[n] = _clean(" ".join(parts))

    for line in lines[start + 1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent <= header:
            break
        if entry_indent is None:
            entry_indent = indent
        m = re.match(r"([\w]+(?:\s*,\s*\w+)*)(?:\s*\([^)]*\))?:\s*(.*)$", line.strip())
        if indent == entry_indent and m:
            flush()
            names = [n.strip() for n in m.group(1).split(",")]
            parts = [m.group(2)]
        else:
            parts.append(line.strip())
    flush()
    return out


def _owner(preset, field: str):
    """The config object holding ``field`` (a dotted path) and the field's last name."""
    *path, name = field.split(".")
    obj = preset
    for part in path:
        obj = getattr(obj, part)
    return obj, name


def preset_value(preset, field: str):
    obj, name = _owner(preset, field)
    return getattr(obj, name)


def show(value) -> str:
    """A default as the help shows it (floats in ``%g`` form)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def option_help(preset, opt: ConfigOption) -> str:
    obj, name = _owner(preset, opt.field)
    text = documented_attributes(type(obj)).get(name)
    if text is None:
        raise KeyError(f"{type(obj).__name__}.{name} has no entry in its docstring's Attributes section")
    default = preset_value(preset, opt.field) if opt.default is _PRESET else opt.default
    shown = opt.shown if opt.shown is not None else show(default)
    return f"{text.removesuffix('.')} (default: {shown.replace('%', '%%')})"


def _annotation_kwargs(tp) -> dict:
    choices = literal_choices(tp)
    if choices is not None:
        choices = tuple(c for c in choices if c is not None)
        return {"choices": choices, "type": type(choices[0])}
    if get_origin(tp) in (typing.Union, types.UnionType):  # X | None
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _annotation_kwargs(args[0])
    if tp in (int, float, str):
        return {"type": tp}
    raise TypeError(f"no command-line type for annotation {tp!r}")


def add_config_options(parser, preset, options) -> None:
    """Add ``options`` (:class:`ConfigOption`) for fields of ``preset``'s config to ``parser`` (or a group)."""
    for opt in options:
        obj, name = _owner(preset, opt.field)
        tp = type_hints(type(obj))[name]
        default = getattr(obj, name) if opt.default is _PRESET else opt.default
        kw: dict[str, Any] = {"default": default, "help": option_help(preset, opt), "dest": opt.dest}
        if tp is bool:
            kw["action"] = "store_true" if not default else argparse.BooleanOptionalAction
        else:
            kw.update({"type": opt.type} if opt.type is not None else _annotation_kwargs(tp))
            if opt.choices is not None:
                kw["choices"] = tuple(opt.choices)
        action = parser.add_argument(opt.flag, **kw)
        action.config_option = (preset, opt)  # for the tests: where its default and help come from


def config_from_args(args, preset, options, **overrides):
    """``preset`` with the parsed values of ``options`` put in, then ``overrides`` (``{"render.n_samples": 8}``
    style keys for nested fields; a whole nested config replaces the preset's)."""
    values = {opt.field: getattr(args, opt.dest) for opt in options}
    values.update(overrides)
    return _replace(preset, values)


def _replace(obj, values: dict):
    direct = {k: v for k, v in values.items() if "." not in k}
    nested: dict[str, dict] = {}
    for k, v in values.items():
        if "." in k:
            head, rest = k.split(".", 1)
            nested.setdefault(head, {})[rest] = v
    for head, sub in nested.items():
        direct[head] = _replace(direct.get(head, getattr(obj, head)), sub)
    return dataclasses.replace(obj, **direct)


__all__ = ["ConfigOption", "add_config_options", "config_from_args", "documented_attributes", "option_help",
           "preset_value", "show"]
