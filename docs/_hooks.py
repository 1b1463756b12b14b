"""MkDocs hooks (build-time only): checks that ``mkdocs build --strict`` would not make on its own.

* every public name of rankfield has a docstring ("public" is what a package lists in ``__all__``:
  rankfield, rankfield.inr, rankfield.nerf, rankfield.dynamics) and appears on its API page;
* no page gets a heading by accident (a line of a page or of a docstring that starts with ``#``) or a
  second ``<h1>``, and no ``*`` of an expression is taken as emphasis.

Every finding is logged as a warning or error on a ``mkdocs.*`` logger, so ``mkdocs build --strict`` (``make
docs``) fails on it, like a broken reference, and lists all of them with page and text.
"""

import importlib
import inspect
import logging
import re
from html.parser import HTMLParser
from pathlib import Path

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


# --- stray headings and stray emphasis ------------------------------------------------------------------
#
# Python-Markdown makes a heading of any line that starts with ``#``, space after it or not: a line of prose
# such as ``#5 and #7 (...)`` (an image number) becomes an <h1>, cuts the table of contents and moves the
# rest of the text under it; ``||Xi - Xi*||_F / ||Xi*||_F`` loses its stars to an <em>. Neither is a broken
# reference, so ``--strict`` does not see them without these checks. Every finding is logged as an error
# with its page and text (docstrings: the object and the source line), so ``make docs`` fails and lists
# all of them at once.

_STRAY_HASH = re.compile(r"^ {0,3}#{1,6}[^#\s]")     # a heading the writer did not mean: no space after #
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BAD_EMPHASIS = re.compile(r"^[\s|/=^_<>\\]|[\s|/=^_<>\\]$|\|\|")   # emphasis that starts/ends on an operator


def _location(page):
    return page.file.src_uri


def on_page_markdown(markdown, page, config, files, **kwargs):
    """A Markdown page: a line starting with ``#`` but no space after it is a heading by accident."""
    if not page.file.src_uri.endswith(".md"):
        return markdown
    fence = None
    for number, line in enumerate(markdown.splitlines(), 1):
        match = _FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)[0] * len(match.group(1))
            elif line.strip().startswith(fence):
                fence = None
            continue
        if fence is None and _STRAY_HASH.match(line):
            log.error(f"{_location(page)}:{number}: a line starting with '#' renders as a heading: "
                      f"{line.strip()[:90]!r} (put it inside a sentence, or write 'no. 5')")
    return markdown


class _Outline(HTMLParser):
    """The headings (level, id, classes, text) and the emphasis texts of a rendered page, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headings, self.emphasis = [], []
        self._heading = None
        self._em = []                  # open <em>/<strong>: lists of text pieces

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            attrs = dict(attrs)
            self._heading = [int(tag[1]), attrs.get("id") or "", attrs.get("class") or "", []]
        elif tag in ("em", "strong"):
            self._em.append([])

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            level, hid, cls, text = self._heading
            self.headings.append((level, hid, cls, " ".join("".join(text).split()).rstrip("¶").strip()))
            self._heading = None
        elif tag in ("em", "strong") and self._em:
            self.emphasis.append("".join(self._em.pop()))

    def handle_data(self, data):
        if self._heading is not None:
            self._heading[3].append(data)
        for piece in self._em:
            piece.append(data)


def _docstring_line(path, text):
    """``file:line`` of the docstring line of object ``path`` that starts with ``#`` and reads ``text``."""
    parts = path.split(".")
    obj = None
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            obj = None
        break
    try:
        obj = inspect.unwrap(obj)                      # decorated (torch.no_grad): the function itself
        lines, start = inspect.getsourcelines(obj)
        source = inspect.getsourcefile(obj)
    except (TypeError, OSError):
        return "source not found"
    words = re.sub(r"[^\w]+", " ", text).split()[:4]
    for offset, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#") and re.sub(r"[^\w]+", " ", stripped).split()[:4] == words:
            try:
                source = str(Path(source).relative_to(Path.cwd()))
            except ValueError:
                pass
            return f"{source}:{start + offset}"
    return f"{source} (line not found)"


def on_page_content(html, page, config, files, **kwargs):
    """A rendered page: one <h1> (the title, first), no headings made inside docstrings, no stray emphasis."""
    outline = _Outline()
    outline.feed(html)
    where = _location(page)
    h1 = [text for level, _, _, text in outline.headings if level == 1]
    if len(h1) > 1:
        for text in h1[1:]:
            log.error(f"{where}: a second <h1> besides the title {h1[0]!r}: {text[:90]!r}")
    elif h1 and outline.headings[0][0] != 1:
        log.error(f"{where}: the page's <h1> {h1[0]!r} is not its title (a heading comes before it: "
                  f"{outline.headings[0][3][:60]!r})")
    for level, hid, cls, text in outline.headings:
        if "--" in hid and "doc-heading" not in cls:     # mkdocstrings: a heading written in a docstring
            obj = hid.split("--", 1)[0]
            log.error(f"{where}: the docstring of {obj} renders a line as an <h{level}>: {text[:90]!r} "
                      f"({_docstring_line(obj, text)}; a docstring line must not start with '#')")
    package = API_PAGES.get(page.file.src_uri)
    if package:
        _check_api_page(package, html, outline, where)
    for text in outline.emphasis:
        if _BAD_EMPHASIS.search(text):
            log.error(f"{where}: stray emphasis (a '*' or '_' taken as markup) around {text[:60]!r}; "
                      "put the expression in backticks")
    return html


# --- API pages list every public name ---------------------------------------------------------------------
#
# The API pages order their members by hand (entry points first, then the building blocks by topic), one
# ``:::`` block per name; a name added to ``__all__`` but not to its page would be missing silently.

API_PAGES = {"api/rankfield.md": "rankfield", "api/inr.md": "rankfield.inr", "api/nerf.md": "rankfield.nerf",
             "api/dynamics.md": "rankfield.dynamics"}


def _check_api_page(package, html, outline, where):
    documented = {hid for _, hid, cls, _ in outline.headings if "doc-heading" in cls}
    for name in importlib.import_module(package).__all__:
        if name.startswith("__"):                        # __version__: named in the text
            found = f"{package}.{name}" in html
        else:                                            # a function that shadows its own module: pkg.name.name
            found = {f"{package}.{name}", f"{package}.{name}.{name}"} & documented
        if not found:
            log.error(f"{where}: {package}.{name} is in __all__ but not on its API page; add "
                      f"'::: {package}.{name}' to docs/{where}")
