"""MkDocs hook (build-time only): every public name of rankfield must have a docstring.

"Public" is what a package lists in ``__all__`` (rankfield, rankfield.inr, rankfield.nerf,
rankfield.dynamics). A missing docstring is logged as a warning, so ``mkdocs build --strict`` (``make
docs``) fails on it, like a broken reference.
"""

import importlib
import inspect
import logging

log = logging.getLogger("mkdocs.plugins.rankfield")
PACKAGES = ["rankfield", "rankfield.inr", "rankfield.nerf", "rankfield.dynamics"]


def on_pre_build(config, **kwargs):
    missing = []
    for name in PACKAGES:
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public)
            if public.startswith("__") or not (inspect.isclass(obj) or inspect.isfunction(obj)
                                               or inspect.ismodule(obj)):
                continue
            if not (inspect.getdoc(obj) or "").strip():
                missing.append(f"{name}.{public}")
    for item in missing:
        log.warning(f"public name without a docstring: {item}")
