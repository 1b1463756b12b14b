"""Every docstring example of the public API runs when pasted into a fresh script: no name it uses may come
from the module it documents unless the example imports it."""

import doctest
import importlib
import inspect

import pytest

PACKAGES = ["rankfield", "rankfield.inr", "rankfield.inr.diagnostics", "rankfield.inr.metrics", "rankfield.inr.encodings",
            "rankfield.inr.activations", "rankfield.inr.layers", "rankfield.inr.init", "rankfield.nerf", "rankfield.nerf.data",
            "rankfield.nerf.evaluate",
            "rankfield.nerf.geometry", "rankfield.nerf.camera", "rankfield.nerf.render", "rankfield.nerf.poses",
            "rankfield.dynamics", "rankfield.dynamics.denoise", "rankfield.dynamics.optimizers", "rankfield.dynamics.validation",
            "rankfield.dynamics.weighting"]


def _public_objects():
    """(package, name, object) for every name in the packages' ``__all__`` (a package whose optional extra is
    missing, PySINDy for rankfield.dynamics, is skipped)."""
    for pkg in PACKAGES:
        try:
            mod = importlib.import_module(pkg)
        except ImportError:
            continue
        for name in mod.__all__:
            yield pkg, name, getattr(mod, name)


def _public_examples():
    finder = doctest.DocTestFinder(recurse=False)
    seen = set()
    for pkg, name, obj in _public_objects():
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for test in finder.find(obj, f"{pkg}.{name}", globs={}):
            if test.examples:
                yield pytest.param(test, id=test.name)
        for attr, member in vars(obj).items() if isinstance(obj, type) else ():
            if attr.startswith("_") or not callable(member) and not isinstance(member, (classmethod, staticmethod, property)):
                continue
            for test in finder.find(member, f"{pkg}.{name}.{attr}", globs={}):
                if test.examples:
                    yield pytest.param(test, id=test.name)


@pytest.mark.parametrize("test", list(_public_examples()))
def test_example_runs_in_a_fresh_namespace(test):
    test.globs = {}
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    result = runner.run(test, out=out.append, clear_globs=True)
    assert result.failed == 0, "".join(out)


# Public names that legitimately have no ``>>>`` example in their docstring.
NO_EXAMPLE = {
    # exceptions and warnings: raised by the library, not called by users
    "rankfield.InputError",
    "rankfield.TrainingDivergedError",
    "rankfield.TrainingInterrupted",
    "rankfield.nerf.data.MissingFramesWarning",
    # constants
    "rankfield.__version__",
    "rankfield.dynamics.SYSTEMS",
    "rankfield.inr.diagnostics.DEFAULT_RTOL",
    "rankfield.inr.activations.ACTIVATIONS",  # registries (make_activation, make_linear show them)
    "rankfield.inr.layers.LINEAR_TYPES",
    "rankfield.dynamics.weighting.BIAS_WEIGHTING_C",
    "rankfield.dynamics.weighting.BIAS_WEIGHTING_DEFAULT",
    # plain result containers, shown by the examples of the functions that return them
    "rankfield.inr.ManyFitResult",  # fit_many / fit_images
    "rankfield.nerf.PoseNerfResult",  # fit_pose_nerf
    "rankfield.dynamics.DiscoveryResult",  # discover
}

# Public names that should get an example but do not have one yet (issue 35); remove a name once it has one.
TODO = set()


def _names_without_example():
    return [f"{pkg}.{name}" for pkg, name, obj in _public_objects() if ">>>" not in (inspect.getdoc(obj) or "")]


def test_every_public_name_has_an_example():
    missing = set(_names_without_example())
    assert not missing - NO_EXAMPLE - TODO, f"public names without a >>> example: {sorted(missing - NO_EXAMPLE - TODO)}"
    assert not TODO - missing, f"these names have an example now; remove them from TODO: {sorted(TODO - missing)}"
