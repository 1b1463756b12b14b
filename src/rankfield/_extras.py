"""Optional dependencies (private): one place that says which extra provides which module.

rankfield's core needs only ``torch``, ``numpy``, ``imageio`` and ``tqdm``. Pictures, the bundled sample
photographs, equation discovery, TensorBoard logging and the docs come with extras; a feature whose extra
is missing raises :class:`MissingExtraError` with the one ``pip install`` line that fixes it (the CLI
prints it as its one-line error).

Examples:
    >>> require("math", "plot").sqrt(4.0)
    2.0
    >>> try:
    ...     require("no_such_module_here", "plot", "pictures")
    ... except MissingExtraError as exc:
    ...     print(exc)
    pictures: needs the 'plot' extra (no_such_module_here is missing): pip install 'matplotlib>=3.7' 'scikit-image>=0.21' 'scipy>=1.10'
"""

from __future__ import annotations

import importlib

from rankfield.errors import InputError

# extra -> what it installs (kept in step with pyproject.toml; a test checks it)
EXTRAS = {
    "plot": ("matplotlib", "skimage", "scipy"),
    "nerf": ("matplotlib",),
    "dynamics": ("pysindy", "torchdiffeq", "scipy", "matplotlib"),
    "tensorboard": ("tensorboard",),
}


def pip_line(extra: str) -> str:
    """The ``pip install`` command that installs ``extra``'s packages, read from rankfield's installed metadata
    (so it follows pyproject.toml and works for a clone as well as a wheel); ``pip install 'rankfield[extra]'``
    when the metadata cannot be read.

    Example:
        >>> pip_line("tensorboard")
        "pip install 'tensorboard>=2.14'"
    """
    try:
        from importlib.metadata import requires

        reqs = requires("rankfield") or []
    except Exception:  # noqa: BLE001 - not installed as a distribution (e.g. src on sys.path)
        reqs = []
    specs: list[str] = []

    def add(name: str, seen: set) -> None:
        if name in seen:
            return
        seen.add(name)
        for req in reqs:
            spec, _, marker = req.partition(";")
            if marker.replace("'", '"').replace(" ", "") != f'extra=="{name}"':
                continue
            spec = spec.strip()
            if spec.startswith("rankfield["):
                for inner in spec[len("rankfield["):].rstrip("]").split(","):
                    add(inner.strip(), seen)
            elif spec not in specs:
                specs.append(spec)

    add(extra, set())
    if not specs:
        return f"pip install 'rankfield[{extra}]'"
    return "pip install " + " ".join(f"'{s}'" for s in specs)


class MissingExtraError(InputError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""


def require(module: str, extra: str, what: str | None = None):
    """Import ``module`` or raise :class:`MissingExtraError` naming the ``pip install`` of ``extra`` (:func:`pip_line`).

    ``what`` names the feature in the message (default: the module)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module.split(".")[0]
        raise MissingExtraError(f"{what or module}: needs the '{extra}' extra ({missing} is missing): "
                                f"{pip_line(extra)}") from None
