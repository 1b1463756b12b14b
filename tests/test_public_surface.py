"""The package-level surface: names moved into submodules keep a deprecated alias for one release."""

import importlib
import warnings

import pytest

PACKAGES = ["rankfield.inr", "rankfield.nerf", "rankfield.dynamics"]


def _moved():
    for pkg in PACKAGES:
        try:
            mod = importlib.import_module(pkg)
        except ImportError:  # rankfield.dynamics without its extra
            continue
        for name, module in mod._MOVED.items():
            yield pkg, name, module


@pytest.mark.parametrize("pkg,name,module", list(_moved()))
def test_moved_name_warns_and_returns_the_submodule_object(pkg, name, module):
    package = importlib.import_module(pkg)
    home = importlib.import_module(f"{pkg}.{module}")
    assert name not in package.__all__ and name in home.__all__
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert getattr(package, name) is getattr(home, name)
    assert len(caught) == 1 and caught[0].category is DeprecationWarning
    assert f"{pkg}.{module}.{name}" in str(caught[0].message)


def test_package_surfaces_are_disjoint_from_the_moved_names_and_small():
    """No name is both in ``__all__`` and moved, each resolves without a warning, and the four packages together
    keep to about sixty names."""
    pytest.importorskip("pysindy")
    total = len(importlib.import_module("rankfield").__all__)
    for pkg in PACKAGES:
        package = importlib.import_module(pkg)
        assert not set(package.__all__) & set(package._MOVED)
        assert len(set(package.__all__)) == len(package.__all__)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for name in package.__all__:
                getattr(package, name)
        total += len(package.__all__)
    assert total <= 62
