"""The generalisation benchmark's split (benchmarks/sindy_general.py) is fixed, disjoint and valid."""

import importlib.util
from pathlib import Path

import pytest

from rankfield.dynamics import SYSTEMS

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "sindy_general.py"


@pytest.fixture(scope="module")
def bench():
    if not SCRIPT.exists():
        pytest.skip("benchmarks/ not in this checkout")
    spec = importlib.util.spec_from_file_location("sindy_general", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_split_is_disjoint_covers_the_catalogue_and_keeps_the_tuned_systems_out_of_test(bench):
    parts = bench.split()
    assert len(bench.CATALOGUE) == 29 and set(bench.CATALOGUE) <= set(SYSTEMS)
    assert not set(parts["dev"]) & set(parts["test"])
    assert set(parts["dev"]) | set(parts["test"]) == set(bench.CATALOGUE) | {"lorenz", "rossler"}
    assert {"lorenz", "rossler"} <= set(parts["dev"]) and len(parts["test"]) == 15
    # written in docs/benchmarks.md: a change of seed or catalogue is a new split, not a silent re-draw
    assert parts["test"] == ["burke_shaw", "chen", "chen_lee", "sprott_b", "sprott_c", "sprott_d", "sprott_g",
                             "sprott_h", "sprott_i", "sprott_j", "sprott_l", "sprott_m", "sprott_n", "sprott_o",
                             "sprott_s"]


def test_sampling_rates_and_the_savgol_window(bench, monkeypatch):
    monkeypatch.setattr(bench, "PERIOD_WINDOW", 1)  # a short window: the same rule, a second instead of ten
    system = SYSTEMS["sprott_b"]
    period = system.characteristic_period(duration=bench.PERIOD_WINDOW * system.n_samples * system.dt)
    bench.trajectory.cache_clear()
    t, x = bench.trajectory("sprott_b", 25)
    assert x.shape == (1000, 3) and t[1] - t[0] == pytest.approx(period / 25)
    bench.trajectory.cache_clear()
    assert [bench.savgol_window(r) for r in bench.RATES] == [7, 25]
