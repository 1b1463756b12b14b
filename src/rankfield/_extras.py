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
    pictures: needs the 'plot' extra (no_such_module_here is missing): pip install 'rankfield[plot]'
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


class MissingExtraError(InputError, ImportError):
    """An optional dependency is not installed; the message names the extra that provides it."""


def require(module: str, extra: str, what: str | None = None):
    """Import ``module`` or raise :class:`MissingExtraError` naming ``pip install 'rankfield[extra]'``.

    ``what`` names the feature in the message (default: the module)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or module.split(".")[0]
        raise MissingExtraError(f"{what or module}: needs the '{extra}' extra ({missing} is missing): "
                                f"pip install 'rankfield[{extra}]'") from None
