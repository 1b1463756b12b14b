"""Griffe extension (docs build only): render the Sphinx roles of rankfield's docstrings as Markdown code.

The docstrings are written for both ``help()`` and the site; ``:class:`X``` / ``:func:`~a.b.X``` and the
like become ``X`` in code font, so the site shows names rather than raw reStructuredText.
"""

import re

import griffe

_ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`~?([^`]+)`")


class SphinxRoles(griffe.Extension):
    """Rewrite ``:role:`name``` to ```name``` in every docstring."""

    def on_object(self, *, obj, **kwargs):
        if obj.docstring is not None:
            obj.docstring.value = _ROLE.sub(lambda m: f"`{m.group(1)}`", obj.docstring.value)
