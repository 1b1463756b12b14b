"""Optional extras: the core imports and trains without them; a missing one is named in one line; the
TensorBoard logger writes what the engine logged."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from rankfield._extras import EXTRAS, MissingExtraError, pip_line, require

ROOT = Path(__file__).resolve().parents[1]

# a meta-path finder that makes the optional packages look uninstalled in a child process
_BLOCK = textwrap.dedent("""
    import sys
    BLOCKED = {blocked!r}
    class _Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None
    sys.meta_path.insert(0, _Block())
""")
OPTIONAL = ["matplotlib", "skimage", "scipy", "pysindy", "torchdiffeq", "tensorboard"]


def _run_without(blocked, code: str, cwd) -> subprocess.CompletedProcess:
    script = _BLOCK.format(blocked=set(blocked)) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_core_trains_without_any_extra(tmp_path):
    proc = _run_without(OPTIONAL, """
        import torch, rankfield, rankfield.inr, rankfield.nerf
        from rankfield.inr import CoordinateMLP, FitConfig, fit_image
        img = torch.rand(8, 8, 3, generator=torch.Generator().manual_seed(0))
        res = fit_image(img, CoordinateMLP(in_features=2, out_features=3, width=16), FitConfig(steps=5, progress=False))
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print("ok", len(res.history["loss"]) > 0, loaded)
    """, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok True []"


def test_missing_extra_is_one_line_and_writes_nothing(tmp_path):
    proc = _run_without(["matplotlib"], """
        import sys
        from rankfield.cli import main
        sys.exit(main(["fit-image", "--steps", "3", "--size", "8", "--no-progress", "--out", "run"]))
    """, tmp_path)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0] == ("rankfield: error: pictures: needs the 'plot' extra (matplotlib is missing): "
                        "pip install 'matplotlib>=3.7' 'scikit-image>=0.21' 'scipy>=1.10'")
    assert list(tmp_path.iterdir()) == []


def test_discover_without_dynamics_extra(tmp_path):
    proc = _run_without(["pysindy"], """
        import sys
        from rankfield.cli import main
        sys.exit(main(["discover", "--out", "run"]))
    """, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("rankfield: error: rankfield.dynamics: needs the 'dynamics' extra (pysindy is "
                                   "missing): " + pip_line("dynamics"))


def test_require():
    assert require("math", "plot").pi == pytest.approx(3.141592653589793)
    with pytest.raises(MissingExtraError, match=re.escape(pip_line("nerf"))) as info:
        require("rankfield_no_such_module", "nerf", "x")
    assert isinstance(info.value, ImportError)


def test_pip_line_installs_what_pyproject_declares():
    """The install line of a missing extra lists the extra's own packages (from the installed metadata), with
    extras of extras expanded, so it works for a clone as well as a wheel."""
    assert pip_line("tensorboard") == "pip install 'tensorboard>=2.14'"
    assert pip_line("nerf") == pip_line("plot")  # nerf = rankfield[plot]
    assert "'pysindy<3,>=2.1'" in pip_line("all") and "'tensorboard>=2.14'" in pip_line("all")
    assert pip_line("no_such_extra") == "pip install 'rankfield[no_such_extra]'"


def test_extras_table_matches_pyproject():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    core = {d.split(">")[0].split("=")[0] for d in project["dependencies"]}
    assert core == {"torch", "numpy", "imageio", "tqdm"}
    module_of = {"scikit-image": "skimage"}
    for extra, modules in EXTRAS.items():
        declared = set()
        for dep in extras[extra]:
            name = dep.split("[")[0].split(">")[0].split("<")[0].split("=")[0]
            if name == "rankfield":  # an extra of extras
                for inner in dep.split("[")[1].rstrip("]").split(","):
                    declared |= set(EXTRAS.get(inner, ()))
            else:
                declared.add(module_of.get(name, name))
        assert set(modules) <= declared, (extra, modules, declared)
    assert set(extras["all"][0].split("[")[1].rstrip("]").split(",")) == set(EXTRAS)


def test_tensorboard_logger_writes_the_history(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from rankfield import TensorBoardLogger
    from rankfield.inr import CoordinateMLP, FitConfig, fit_image

    img = torch.rand(12, 12, 3, generator=torch.Generator().manual_seed(1))
    model = CoordinateMLP(in_features=2, out_features=3, width=16)
    logger = TensorBoardLogger(tmp_path / "tb", images=lambda trainer: {"target": img}, image_every=50)
    res = fit_image(img, model, FitConfig(steps=100, log_every=10, progress=False), callbacks=[logger])
    logger.close()
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"images": 0}).Reload()
    loss = acc.Scalars("loss")
    assert [e.step for e in loss] == res.history["step"]
    assert [e.value for e in loss] == pytest.approx(res.history["loss"], rel=1e-6)
    assert [e.value for e in acc.Scalars("psnr")] == pytest.approx(res.history["psnr"], rel=1e-6)
    assert [e.value for e in acc.Scalars("lr")] == pytest.approx(res.history["lr"], rel=1e-6)
    images = acc.Images("images/target")
    assert [e.step for e in images] == [10, 60, 100]  # the first log, every 50 steps, the last
    assert (images[0].width, images[0].height) == (12, 12)
