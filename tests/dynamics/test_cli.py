import json

import numpy as np
import pytest

from rankfield.cli import main


def _write(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n")
    return str(path)


def _lv_csv(tmp_path, n=60, noise=0.02):
    from rankfield.dynamics import add_noise, get_system

    t, x = get_system("lotka_volterra").simulate(n_samples=n, dt=0.1)
    y = add_noise(x, noise, seed=0)
    return _write(tmp_path / "lv.csv", ["time", "prey", "predator"], np.c_[t, y].tolist())


def _fails(capsys, argv, match):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse errors exit from the parser itself
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("rankfield: error:"), err
    assert match in err, err


def test_missing_file(tmp_path, capsys):
    _fails(capsys, ["discover", str(tmp_path / "nope.csv")], "No such file")


def test_unknown_column(tmp_path, capsys):
    _fails(capsys, ["discover", _lv_csv(tmp_path), "--columns", "prey,wolves"], "unknown column(s) wolves")


def test_unknown_time_column(tmp_path, capsys):
    _fails(capsys, ["discover", _lv_csv(tmp_path), "--time-column", "year"], "unknown column(s) year")


def test_nan_in_csv(tmp_path, capsys):
    rows = [[i, np.sin(i), np.cos(i)] for i in range(20)]
    rows[5][1] = "nan"
    _fails(capsys, ["discover", _write(tmp_path / "a.csv", ["t", "a", "b"], rows)], "NaN")


def test_text_in_csv(tmp_path, capsys):
    rows = [[i, np.sin(i), np.cos(i)] for i in range(20)]
    rows[3][2] = "abc"
    _fails(capsys, ["discover", _write(tmp_path / "a.csv", ["t", "a", "b"], rows)], "not a number")


def test_time_not_increasing(tmp_path, capsys):
    rows = [[i if i != 7 else 5, np.sin(i), np.cos(i)] for i in range(20)]
    _fails(capsys, ["discover", _write(tmp_path / "a.csv", ["t", "a", "b"], rows)], "strictly increasing")


def test_constant_column(tmp_path, capsys):
    rows = [[i, np.sin(i), 1.0] for i in range(20)]
    _fails(capsys, ["discover", _write(tmp_path / "a.csv", ["t", "a", "b"], rows)], "constant")


def test_too_few_samples(tmp_path, capsys):
    rows = [[i, np.sin(i), np.cos(i)] for i in range(5)]
    _fails(capsys, ["discover", _write(tmp_path / "a.csv", ["t", "a", "b"], rows)], "more samples than terms")


def test_unknown_system_and_bad_option(capsys):
    _fails(capsys, ["discover", "--system", "weather"], "invalid choice")
    _fails(capsys, ["discover", "--noise", "-1"], "number >= 0")


def test_csv_run_writes_json_and_plots(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["discover", _lv_csv(tmp_path), "--time-column", "time", "--columns", "prey,predator",
                 "--steps", "150", "--no-progress", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "dprey/dt =" in text and "dpredator/dt =" in text and str(out) in text
    summary = json.loads((out / "discover.json").read_text())
    assert summary["feature_names"][0] == "1" and len(summary["equations"]) == 2
    for name in ("states.png", "derivatives.png", "simulation.png"):
        assert (out / name).stat().st_size > 1000
    assert len(summary["passes"]) == 1  # refine auto: 2% noise is below its gate
    assert "refinement: none (refine auto: estimated noise below 3% of the signal)" in text
    assert json.loads((out / "config.json").read_text())["discover"]["refine"] == "auto"


def test_refine_flag_reaches_discover_and_the_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["discover", _lv_csv(tmp_path), "--time-column", "time", "--columns", "prey,predator",
                 "--steps", "60", "--refine", "2", "--refine-support", "full", "--trim", "7", "--no-progress",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "refinement: 2 pass(es); terms per pass" in text
    summary = json.loads((out / "discover.json").read_text())
    assert len(summary["passes"]) == 3 and summary["passes"][-1] == summary["coefficients"]
    config = json.loads((out / "config.json").read_text())
    assert config["discover"]["refine"] == 2 and config["discover"]["refine_support"] == "full"
    assert config["discover"]["trim"] == 7
    _fails(capsys, ["discover", _lv_csv(tmp_path), "--refine", "-1"], "refine")
    _fails(capsys, ["discover", _lv_csv(tmp_path), "--refine", "often"], "expected 'auto' or an integer >= 0")
    _fails(capsys, ["discover", _lv_csv(tmp_path), "--stop-tol", "2"], "expected 'none' or a number in (0, 1)")


def test_refine_auto_refines_a_noisy_record_and_says_why(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["discover", _lv_csv(tmp_path, noise=0.1), "--time-column", "time", "--steps", "40",
                 "--refine-steps", "15", "--width", "16", "--stop-tol", "none", "--no-progress", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "refinement: 2 pass(es) (refine auto: estimated noise >= 3% of the signal)" in text
    assert len(json.loads((out / "discover.json").read_text())["passes"]) == 3
    rktv = json.loads((out / "config.json").read_text())["rktv"]
    assert (rktv["refine_steps"], rktv["width"], rktv["stop_tol"]) == (15, 16, None)
    main(["discover", _lv_csv(tmp_path, noise=0.1), "--time-column", "time", "--steps", "20", "--criterion",
          "ensemble", "--no-progress", "--out", str(out)])
    assert "refinement: none (refine auto: not with the ensemble criterion)" in capsys.readouterr().out


def test_bias_weighting_flag_reaches_discover(tmp_path, monkeypatch, capsys):
    import rankfield.dynamics as dynamics
    from rankfield.dynamics.weighting import BIAS_WEIGHTING_C
    seen = []
    real = dynamics.discover

    def spy(*args, **kwargs):
        seen.append(kwargs["options"].bias_weighting)  # the command passes its DiscoverConfig
        return real(*args, **kwargs)
    monkeypatch.setattr(dynamics, "discover", spy)  # the command imports it from the package when it runs
    for flag, expected in (([], BIAS_WEIGHTING_C), (["--bias-weighting", "0"], None),
                           (["--bias-weighting", "3"], 3.0)):
        out = tmp_path / f"out{len(seen)}"
        code = main(["discover", _lv_csv(tmp_path), "--time-column", "time", "--steps", "30", "--no-progress",
                     "--out", str(out), *flag])
        assert code == 0 and seen[-1] == expected
        assert json.loads((out / "config.json").read_text())["discover"]["bias_weighting"] == expected
    _fails(capsys, ["discover", _lv_csv(tmp_path), "--bias-weighting", "-1"], "bias-weighting")


@pytest.mark.slow
def test_default_run(tmp_path, capsys):
    assert main(["discover", "--no-progress", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "discover.json").read_text())
    assert summary["system"] == "lorenz" and summary["derivative_error"] < summary["derivative_error_finite_difference"]


def test_settings_are_printed_and_can_be_given(tmp_path, capsys):
    from rankfield.dynamics.denoise import bandwidth_settings

    csv = _lv_csv(tmp_path)
    out = tmp_path / "out"
    assert main(["discover", csv, "--steps", "20", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    data = np.genfromtxt(csv, delimiter=",", skip_header=1)[:, 1:]
    want = bandwidth_settings(data)
    assert f"RKTV-INR: omega0 {want['omega0']:.3g}, TV weight {want['weight_tv']:.2g}" in text
    assert "noise estimated at" in text and "cycles per record" in text
    summary = json.loads((out / "discover.json").read_text())
    assert summary["rktv_settings"]["omega0"] == pytest.approx(want["omega0"])
    assert json.loads((out / "config.json").read_text())["rktv"]["omega0"] == "auto"
    assert main(["discover", csv, "--steps", "20", "--omega0", "7", "--weight-tv", "0.002", "--no-progress",
                 "--out", str(tmp_path / "o2")]) == 0
    text = capsys.readouterr().out
    assert "RKTV-INR: omega0 7, TV weight 0.002\n" in text
    assert json.loads((tmp_path / "o2" / "config.json").read_text())["rktv"]["weight_tv"] == 0.002
