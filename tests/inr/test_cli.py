import json

import numpy as np
import pytest

from rankfield.cli import main


def test_fit_image_cli_writes_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["fit-image", "--size", "24", "--steps", "80", "--width", "64", "--out", str(out), "--no-progress",
               "--device", "cpu"])
    assert rc == 0
    for name in ("reconstruction.png", "error_map.png", "psnr_curve.png", "comparison.png", "metrics.json", "checkpoint.pt"):
        assert (out / name).exists(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["psnr"] > 15 and metrics["height"] == 24
    assert str(out) in capsys.readouterr().out


def test_fit_images_cli_fits_a_folder_like_fit_image(tmp_path, capsys):
    import imageio.v3 as iio
    import torch

    from rankfield.inr import CoordinateMLP, FitConfig, MLPConfig, fit_image
    from rankfield.inr.data import resize_image

    rng = np.random.default_rng(4)
    folder = tmp_path / "imgs"
    folder.mkdir()
    iio.imwrite(folder / "rgb.png", (rng.random((20, 30, 3)) * 255).astype(np.uint8))  # cropped to 20x20
    iio.imwrite(folder / "gray.png", (rng.random((16, 16)) * 255).astype(np.uint8))  # gray -> 3 channels
    np.save(folder / "rgba.npy", rng.random((16, 16, 4)).astype(np.float32))  # alpha dropped
    (folder / "notes.txt").write_text("skipped")
    out = tmp_path / "out"
    assert main(["fit-images", str(folder), "--size", "8", "--steps", "30", "--width", "16", "--out", str(out),
                 "--no-progress", "--device", "cpu"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["name"] for r in metrics["per_image"]] == ["gray", "rgb", "rgba"]
    assert sorted(p.name for p in (out / "reconstructions").iterdir()) == ["gray.png", "rgb.png", "rgba.png"]
    for name in ("grid.png", "summary.md", "config.json"):
        assert (out / name).exists()
    # the rgb image alone through the library gives the same PSNR
    img = torch.as_tensor(iio.imread(folder / "rgb.png")[:, 5:25].astype(np.float32) / 255)
    alone = fit_image(resize_image(img, (8, 8)), CoordinateMLP(MLPConfig(activation="sine", width=16, out_features=3)),
                      FitConfig(steps=30, progress=False))
    assert metrics["per_image"][1]["psnr"] == __import__("pytest").approx(alone.metrics["psnr"], abs=1e-3)
    assert "mean PSNR" in capsys.readouterr().out


def test_fit_signal_cli(tmp_path):
    sig = tmp_path / "s.csv"
    np.savetxt(sig, np.sin(np.linspace(0, 6, 200))[:, None], delimiter=",")
    assert main(["fit-signal", str(sig), "--steps", "20", "--width", "16", "--out", str(tmp_path / "o"),
                 "--no-progress", "--device", "cpu"]) == 0
    assert (tmp_path / "o" / "signal_fit.png").exists()


def test_fit_signal_reads_a_csv_with_a_header_row(tmp_path, capsys):
    """Issue 35: a one-line text header used to fail with "could not convert string 't'"."""
    sig = tmp_path / "s.csv"
    x = np.linspace(0, 1, 40)
    sig.write_text("t,x\n" + "".join(f"{a},{np.sin(6 * a)}\n" for a in x))
    assert main(["fit-signal", str(sig), "--steps", "2", "--width", "8", "--depth", "1", "--out",
                 str(tmp_path / "o"), "--no-progress", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert f"{sig}: skipped its header row (t, x); 40 samples, column 't' taken as the sample times, 1 signal" in out
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert metrics["samples"] == 40 and metrics["model"]["out_features"] == 1  # the time column is not fitted


def test_signal_time_column_gives_the_coordinates(tmp_path):
    """Uniform times give exactly grid_coordinates(N); non-uniform ones keep their spacing on the same span; times
    that do not increase are a one-line error."""
    import torch

    from rankfield.cli.inr_commands import _read_signal
    from rankfield.errors import InputError
    from rankfield.inr import grid_coordinates, load_signal

    sig = tmp_path / "s.csv"
    sig.write_text("time,a,b\n" + "".join(f"{2 + 0.5 * i},{i},{-i}\n" for i in range(10)))
    values, t = _read_signal(sig, load_signal)
    assert values.shape == (10, 2) and values[3].tolist() == [3.0, -3.0]
    torch.testing.assert_close(t, grid_coordinates(10))
    sig.write_text("t,a\n" + "".join(f"{v},{v}\n" for v in (0.0, 1.0, 3.0)))
    _, t = _read_signal(sig, load_signal)
    lo, hi = -1 + 1 / 3, 1 - 1 / 3
    torch.testing.assert_close(t[:, 0], torch.tensor([lo, lo + (hi - lo) / 3, hi]))
    sig.write_text("x,a\n0,1\n1,2\n")  # another first name: every column is signal
    values, t = _read_signal(sig, load_signal)
    assert t is None and values.shape == (2, 2)
    sig.write_text("t,a\n0,1\n0,2\n")
    with pytest.raises(InputError, match="time column 't' must increase strictly"):
        _read_signal(sig, load_signal)


def test_fit_image_says_when_it_resizes(tmp_path, capsys):
    """Issue 35: fit-image resized a 18x24 image to 9x12 without saying so."""
    import imageio.v3 as iio

    img = tmp_path / "a.png"
    iio.imwrite(img, (np.random.default_rng(0).random((18, 24, 3)) * 255).astype(np.uint8))
    common = ["fit-image", str(img), "--steps", "2", "--width", "8", "--depth", "1", "--no-progress", "--device", "cpu"]
    assert main([*common, "--size", "12", "--out", str(tmp_path / "o1")]) == 0
    out = capsys.readouterr().out
    assert "resized 18x24 to 9x12 (--size 12 sets the longer side; --full-size keeps the image's own size)" in out
    assert json.loads((tmp_path / "o1" / "metrics.json").read_text())["height"] == 9
    for options in (["--full-size"], ["--size", "24"]):
        assert main([*common, *options, "--out", str(tmp_path / f"o{len(options)}")]) == 0
        assert "resized" not in capsys.readouterr().out


def _err(capsys, argv):
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse errors
        rc = exc.code
    err = capsys.readouterr().err.strip()
    return rc, err


def test_cli_user_errors_exit_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    nan = tmp_path / "nan.npy"
    np.save(nan, np.full((4, 4), np.nan, dtype=np.float32))
    cases = [
        ["fit-image", str(tmp_path / "missing.png")],
        ["fit-image", str(bad)],
        ["fit-image", str(nan)],
        ["fit-image", "--width", "-1"],
        ["fit-image", "--activation", "swish"],
        ["fit-image", "--linear", "lowrank", "--rank", "999", "--size", "8"],
        ["fit-image", "--device", "cuda", "--size", "8"] if not __import__("torch").cuda.is_available() else ["fit-image", "--size", "0"],
        ["fit-signal", str(bad)],
    ]
    for argv in cases:
        rc, err = _err(capsys, argv + ["--out", str(tmp_path / "o")])
        assert rc == 2, (argv, err)
        assert err.startswith("rankfield: error:") and "\n" not in err and "Traceback" not in err, (argv, err)
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_fit_image_cli_model_options_reach_the_config(tmp_path, capsys):
    """--init rank_expanding alone means a ReLU network; the paper defaults and the new flags land in the
    model and fit configs written to config.json."""
    def config_of(*options):
        out = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        assert main(["fit-image", "--size", "12", "--steps", "2", "--width", "16", "--out", str(out),
                     "--no-progress", "--device", "cpu", *options]) == 0
        return json.loads((out / "config.json").read_text())

    rei = config_of("--init", "rank_expanding")
    assert (rei["model"]["activation"], rei["model"]["init"]) == ("relu", "rank_expanding")
    assert "relu + rank-expanding init" in capsys.readouterr().out
    hats = config_of("--init", "hat_basis")
    assert (hats["model"]["activation"], hats["model"]["init"]) == ("relu", "hat_basis")
    assert "relu + hat-basis init (ours, two layers)" in capsys.readouterr().out
    assert config_of("--activation", "wire")["model"]["omega0"] == 20.0
    assert config_of()["model"]["omega0"] == 30.0
    pe = config_of("--activation", "relu", "--encoding", "positional", "--frequencies", "6",
                   "--lr-schedule", "exponential", "--lr-end", "1e-5")
    assert pe["model"]["encoding_options"] == {"n_frequencies": 6}
    assert (pe["fit"]["lr_schedule"], pe["fit"]["lr_end"]) == ("exponential", 1e-5)
    ff = config_of("--activation", "relu", "--encoding", "fourier", "--frequencies", "32", "--fourier-sigma", "4")
    assert ff["model"]["encoding_options"] == {"n_features": 32, "sigma": 4.0}
    assert config_of("--activation", "gauss", "--gauss-scale", "3")["model"]["gauss_scale"] == 3.0
    assert config_of("--activation", "finer", "--first-bias-scale", "5")["model"]["first_bias_scale"] == 5.0
    assert config_of("--linear", "sine_lowrank", "--rank", "2", "--sine-omega", "7")["model"]["sine_omega"] == 7.0
