"""The site checks of docs/_hooks.py (stray headings, stray emphasis, API pages that list every public name).

The hook runs inside ``make docs``; these tests exercise its pieces without building the site.
"""

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def hooks():
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "_hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("line, stray", [("#5 and #7 (dev images)", True), ("##x", True), ("   #7 / #5).", True),
                                         ("# Title", False), ("## Section", False), ("text #5", False),
                                         ("    #5 indented code", False)])
def test_a_hash_without_a_space_is_a_stray_heading(hooks, line, stray):
    assert bool(hooks._STRAY_HASH.match(line)) is stray


def test_outline_sees_headings_and_emphasis(hooks):
    outline = hooks._Outline()
    outline.feed('<h1 id="t">Title<a class="headerlink">¶</a></h1><p>a <em>||_F / ||Xi</em> b <em>and</em></p>'
                 '<h3 id="pkg.f--7-5" class="">7 / #5)</h3><h1 id="x">5 and #7</h1>')
    assert [(level, text) for level, _, _, text in outline.headings] == [(1, "Title"), (3, "7 / #5)"),
                                                                        (1, "5 and #7")]
    assert [bool(hooks._BAD_EMPHASIS.search(t)) for t in outline.emphasis] == [True, False]


@pytest.mark.parametrize("page, package", [("api/rankfield.md", "rankfield"), ("api/inr.md", "rankfield.inr"),
                                           ("api/nerf.md", "rankfield.nerf"),
                                           ("api/dynamics.md", "rankfield.dynamics")])
def test_api_pages_list_every_public_name(hooks, page, package):
    assert hooks.API_PAGES[page] == package
    text = (ROOT / "docs" / page).read_text()
    blocks = set(re.findall(r"^::: ([\w.]+)", text, flags=re.M))
    for name in importlib.import_module(package).__all__:
        if name.startswith("__"):
            assert f"{package}.{name}" in text
        else:
            assert {f"{package}.{name}", f"{package}.{name}.{name}"} & blocks, name
