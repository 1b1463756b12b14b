"""A sweep of bad inputs across the four subcommands: every one exits 2 with exactly one line
``rankfield: error: ...`` on stderr, no traceback, and leaves no new file or folder behind."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rankfield._engine import save_checkpoint
from rankfield._extras import pip_line
from rankfield.cli import main
from rankfield.nerf.procedural import generate_procedural_scene

TINY_IMAGE = ["--steps", "2", "--width", "8", "--depth", "1", "--size", "8", "--no-progress"]
TINY_SIGNAL = ["--steps", "2", "--width", "8", "--depth", "1", "--samples", "16", "--no-progress"]
TINY_SCENE = ["--steps", "2", "--size", "8", "--views", "3", "--rays", "16", "--samples", "4", "--no-progress"]


def _snapshot(root: Path) -> set:
    return {p for p in root.rglob("*")}


def _scene(tmp, **edit):
    """A small Blender scene whose transforms_train.json gets ``edit`` applied (frame 0 / top level)."""
    root = Path(generate_procedural_scene(tmp / "scene", n_train=3, n_test=0, size=8))
    path = root / "transforms_train.json"
    meta = json.loads(path.read_text())
    for key, value in edit.items():
        if key.startswith("frame_"):
            meta["frames"][0][key[6:]] = value
        elif value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    path.write_text(json.dumps(meta))
    return str(root)


def _scene_without_images(tmp):
    """A Blender scene none of whose training images exist (loading warns about skipped frames, then fails)."""
    root = Path(generate_procedural_scene(tmp / "scene", n_train=3, n_test=0, size=8))
    for png in (root / "train").glob("*.png"):
        png.unlink()
    return str(root)


def _llff(tmp, focal):
    root = tmp / "llff"
    (root / "images_8").mkdir(parents=True)
    import imageio.v3 as iio
    pb = np.zeros((2, 17))
    for i in range(2):
        pose = np.concatenate([np.eye(3), np.array([[0.0], [0.0], [float(i)]]), np.array([[8.0], [8.0], [focal]])], 1)
        pb[i, :15] = pose.reshape(-1)
        pb[i, 15:] = [1.0, 10.0]
        iio.imwrite(root / "images_8" / f"{i}.png", np.zeros((8, 8, 3), np.uint8))
    np.save(root / "poses_bounds.npy", pb)
    return str(root)


def _csv(tmp, data: bytes, name="a.csv"):
    p = tmp / name
    p.write_bytes(data)
    return str(p)


def _lorenz_csv(tmp, big="1.0"):
    rows = ["t,x,y,z"] + [f"{i * 0.01},{big if i == 3 else np.sin(i)},{np.cos(i)},{i % 7}" for i in range(50)]
    return _csv(tmp, ("\n".join(rows) + "\n").encode())


def _ckpt(tmp, kind="nerf.train_scene"):
    p = tmp / "other.pt"
    save_checkpoint(p, kind=kind, step=1, steps=5, modules={"m": nn.Linear(1, 1)})
    return str(p)


def _signal_ckpt(tmp):
    out = tmp / "prev"
    assert main(["fit-signal", *TINY_SIGNAL, "--out", str(out)]) == 0
    return str(out / "checkpoint.pt")


# (id, builder(tmp) -> argv, expected fragment of the one line)
CASES = [
    # --out
    ("out-is-file", lambda t: ["fit-image", *TINY_IMAGE, "--out", _csv(t, b"x", "f.txt")], "is a file"),
    ("out-under-file", lambda t: ["fit-signal", *TINY_SIGNAL, "--out", _csv(t, b"x", "f.txt") + "/sub"], "which is a file"),
    ("out-empty", lambda t: ["discover", "--steps", "2", "--out", ""], "empty"),
    ("out-empty-scene", lambda t: ["fit-scene", *TINY_SCENE, "--out", " "], "empty"),
    # checkpoints: corrupt, foreign, incompatible, past their steps
    ("ckpt-missing", lambda t: ["fit-image", *TINY_IMAGE, "--resume", str(t / "none.pt"), "--out", str(t / "o")],
     "does not exist"),
    ("ckpt-corrupt", lambda t: ["fit-image", *TINY_IMAGE, "--resume", _csv(t, os.urandom(300), "c.pt"),
                                "--out", str(t / "o")], "rankfield checkpoint"),
    ("ckpt-foreign-torch", lambda t: ["fit-signal", *TINY_SIGNAL, "--resume", _torch_file(t), "--out", str(t / "o")],
     "not a rankfield checkpoint"),
    ("ckpt-other-kind", lambda t: ["fit-image", *TINY_IMAGE, "--resume", _ckpt(t), "--out", str(t / "o")],
     "nerf.train_scene"),
    ("ckpt-nerf-kind-for-scene", lambda t: ["fit-scene", *TINY_SCENE, "--resume", _ckpt(t, "inr.fit"),
                                            "--out", str(t / "o")], "inr.fit"),
    ("ckpt-other-command", lambda t: ["fit-image", *TINY_IMAGE, "--resume", _signal_ckpt(t), "--out", str(t / "o")],
     "not written by 'rankfield fit-image'"),
    ("ckpt-other-architecture", lambda t: ["fit-signal", *TINY_SIGNAL[:4], "--width", "16", "--depth", "1",
                                           "--samples", "16", "--no-progress", "--resume", _signal_ckpt(t),
                                           "--out", str(t / "o")], "differs from the run"),
    ("ckpt-past-steps", lambda t: ["fit-signal", *TINY_SIGNAL, "--resume", _signal_ckpt(t), "--out", str(t / "o")],
     "at step 2"),
    ("scene-data-mismatch", lambda t: ["fit-scene", *TINY_SCENE, "--resume", _scene_ckpt(t), str(t / "elsewhere"),
                                       "--out", str(t / "o2")], "differs from the run"),
    # inf / nan numbers
    ("lr-inf", lambda t: ["fit-image", *TINY_IMAGE, "--lr", "inf", "--out", str(t / "o")], "finite"),
    ("lr-nan", lambda t: ["fit-signal", *TINY_SIGNAL, "--lr", "nan", "--out", str(t / "o")], "finite"),
    ("omega-inf", lambda t: ["fit-image", *TINY_IMAGE, "--omega0", "inf", "--out", str(t / "o")], "finite"),
    ("lr-field-inf", lambda t: ["fit-scene", *TINY_SCENE, "--lr-field", "inf", "--out", str(t / "o")], "finite"),
    ("noise-inf", lambda t: ["fit-scene", *TINY_SCENE, "--noise", "1e999", "--out", str(t / "o")], "finite"),
    ("threshold-inf", lambda t: ["discover", "--threshold", "inf", "--out", str(t / "o")], "finite"),
    ("discover-noise-nan", lambda t: ["discover", "--noise", "nan", "--out", str(t / "o")], "finite"),
    # scene metadata
    ("angle-text", lambda t: ["fit-scene", _scene(t, camera_angle_x="wide"), *TINY_SCENE, "--out", str(t / "o")],
     "camera_angle_x must be a number"),
    ("angle-zero", lambda t: ["fit-scene", _scene(t, camera_angle_x=0), *TINY_SCENE, "--out", str(t / "o")],
     "camera_angle_x must be a finite number in (0, 3.14159)"),
    ("angle-null", lambda t: ["fit-scene", _scene(t, camera_angle_x=[1]), *TINY_SCENE, "--out", str(t / "o")],
     "camera_angle_x must be a number"),
    ("ngp-w-zero", lambda t: ["fit-scene", _scene(t, camera_angle_x=None, fl_x=10.0, w=0, h=8), *TINY_SCENE,
                              "--out", str(t / "o")], "w must be a finite number > 0"),
    ("ngp-fl-text", lambda t: ["fit-scene", _scene(t, camera_angle_x=None, fl_x="ten"), *TINY_SCENE,
                               "--out", str(t / "o")], "fl_x must be a number"),
    ("zero-matrix", lambda t: ["fit-scene", _scene(t, frame_transform_matrix=[[0] * 4] * 4), *TINY_SCENE,
                               "--out", str(t / "o")], "degenerate"),
    ("matrix-text", lambda t: ["fit-scene", _scene(t, frame_transform_matrix="eye"), *TINY_SCENE,
                               "--out", str(t / "o")], "transform_matrix"),
    ("file-path-absolute", lambda t: ["fit-scene", _scene(t, frame_file_path="/etc/passwd"), *TINY_SCENE,
                                      "--out", str(t / "o")], "outside the scene folder"),
    ("file-path-escapes", lambda t: ["fit-scene", _scene(t, frame_file_path="../../secret"), *TINY_SCENE,
                                     "--out", str(t / "o")], "outside the scene folder"),
    ("no-frames", lambda t: ["fit-scene", _scene(t, frames=[]), *TINY_SCENE, "--out", str(t / "o")], "no frames"),
    ("json-broken", lambda t: ["fit-scene", _csv(t, b"{not json", "transforms.json"), *TINY_SCENE,
                               "--out", str(t / "o")], "not valid JSON"),
    ("llff-zero-focal", lambda t: ["fit-scene", _llff(t, 0.0), *TINY_SCENE, "--out", str(t / "o")],
     "focal length must be > 0"),
    ("downscale-tiny", lambda t: ["fit-scene", _scene(t), *TINY_SCENE, "--downscale", "1e-9", "--out", str(t / "o")],
     "[0.001, 1]"),
    ("downscale-up", lambda t: ["fit-scene", _scene(t), *TINY_SCENE, "--downscale", "5", "--out", str(t / "o")],
     "[0.001, 1]"),
    ("downscale-to-nothing", lambda t: ["fit-scene", _scene(t), *TINY_SCENE, "--downscale", "0.1",
                                        "--out", str(t / "o")], "leaves 1x1 pixels"),
    ("scene-no-images", lambda t: ["fit-scene", _scene_without_images(t), *TINY_SCENE, "--out", str(t / "o")],
     "none of the 3 frames' images exist"),
    ("data-missing", lambda t: ["fit-scene", str(t / "nowhere"), *TINY_SCENE, "--out", str(t / "o")], "No such file"),
    # CSV files
    ("csv-latin1", lambda t: ["discover", _csv(t, "t,caf\xe9\n0,1\n1,2\n".encode("latin-1")), "--out", str(t / "o")],
     "not a UTF-8 text CSV"),
    ("csv-binary", lambda t: ["discover", _csv(t, b"t,x\x00\x01\n\x00\x00"), "--out", str(t / "o")], "binary"),
    ("csv-overflow", lambda t: ["discover", _lorenz_csv(t, "1e400"), "--out", str(t / "o")], "NaN or infinite"),
    ("csv-huge-values", lambda t: ["discover", _lorenz_csv(t, "1e300"), "--out", str(t / "o")], "too large"),
    ("csv-empty", lambda t: ["discover", _csv(t, b""), "--out", str(t / "o")], "header row"),
    ("csv-folder", lambda t: ["discover", str(t), "--out", str(t / "o")], "is a folder"),
    ("csv-time-decreasing", lambda t: ["discover", _csv(t, b"t,x\n0,1\n1,2\n0.5,3\n2,4\n3,5\n"),
                                       "--out", str(t / "o")], "--time-column"),
    ("image-not-image", lambda t: ["fit-image", _csv(t, b"hello", "a.png"), *TINY_IMAGE, "--out", str(t / "o")],
     "cannot be read as an image"),
    ("signal-empty-csv", lambda t: ["fit-signal", _csv(t, b""), *TINY_SIGNAL, "--out", str(t / "o")], "no samples"),
    ("signal-header-only", lambda t: ["fit-signal", _csv(t, b"t,x\n"), *TINY_SIGNAL, "--out", str(t / "o")],
     "a header row and no samples"),
    ("signal-text-below-header", lambda t: ["fit-signal", _csv(t, b"t,x\n0,1\n1,two\n"), *TINY_SIGNAL,
                                            "--out", str(t / "o")], "line 3: not a number: 'two'"),
    ("signal-ragged-rows", lambda t: ["fit-signal", _csv(t, b"0 1\n1\n", "s.txt"), *TINY_SIGNAL,
                                      "--out", str(t / "o")], "line 2 has 1 field(s)"),
    ("signal-not-signal", lambda t: ["fit-signal", _csv(t, b"\x00\x01\x02", "s.npy"), *TINY_SIGNAL[:-3],
                                     "--no-progress", "--out", str(t / "o")], "s.npy"),
    # more memory than the machine has
    ("mem-image", lambda t: ["fit-image", *TINY_IMAGE[:-3], "--size", "2000000", "--no-progress",
                             "--out", str(t / "o")], "memory"),
    ("mem-signal", lambda t: ["fit-signal", *TINY_SIGNAL[:-3], "--samples", "1000000000000", "--no-progress",
                              "--out", str(t / "o")], "memory"),
    ("mem-discover", lambda t: ["discover", "--samples", "1000000000000", "--out", str(t / "o")], "memory"),
    ("mem-scene", lambda t: ["fit-scene", *TINY_SCENE[:2], "--size", "10000000", "--no-progress",
                             "--out", str(t / "o")], "memory"),
    ("mem-rays", lambda t: ["fit-scene", *TINY_SCENE[:2], "--rays", "100000000000", "--no-progress",
                            "--out", str(t / "o")], "memory"),
    # seeds
    ("seed-negative", lambda t: ["fit-image", *TINY_IMAGE, "--seed", "-1", "--out", str(t / "o")], "seed"),
    ("seed-huge", lambda t: ["discover", "--seed", str(2 ** 64), "--out", str(t / "o")], "seed"),
    ("seed-text", lambda t: ["fit-scene", *TINY_SCENE, "--seed", "abc", "--out", str(t / "o")], "seed"),
    # options
    ("rank-without-lowrank", lambda t: ["fit-image", *TINY_IMAGE, "--rank", "4", "--out", str(t / "o")], "--rank"),
    ("rei-with-sine", lambda t: ["fit-image", *TINY_IMAGE, "--init", "rank_expanding", "--activation", "sine",
                                 "--out", str(t / "o")], "ReLU"),
    ("gauss-scale-with-sine", lambda t: ["fit-image", *TINY_IMAGE, "--gauss-scale", "3", "--out", str(t / "o")],
     "--gauss-scale"),
    ("frequencies-without-encoding", lambda t: ["fit-image", *TINY_IMAGE, "--frequencies", "4", "--out", str(t / "o")],
     "--frequencies"),
    ("omega0-with-relu", lambda t: ["fit-image", *TINY_IMAGE, "--activation", "relu", "--omega0", "5",
                                    "--out", str(t / "o")], "--omega0"),
    ("sine-omega-dense", lambda t: ["fit-image", *TINY_IMAGE, "--sine-omega", "5", "--out", str(t / "o")],
     "--sine-omega"),
    ("device-unknown", lambda t: ["fit-signal", *TINY_SIGNAL, "--device", "tpu", "--out", str(t / "o")], "device"),
    ("config-missing", lambda t: ["fit-signal", *TINY_SIGNAL, "--config", str(t / "c.json"), "--out", str(t / "o")],
     "does not exist"),
    ("config-other-command", lambda t: ["fit-image", "--config", _csv(t, b'{"command": "discover", "options": {}}',
                                                                      "c.json"), "--out", str(t / "o")],
     "not of 'fit-image'"),
    ("config-unknown-option", lambda t: ["discover", "--config", _csv(t, b'{"command": "discover", "options": '
                                                                      b'{"speed": 3}}', "c.json"),
                                         "--out", str(t / "o")], "unknown option"),
    ("no-command-option", lambda t: ["fit-image", "--bogus"], "unrecognized"),
    # fit-images
    ("images-missing-folder", lambda t: ["fit-images", str(t / "nope"), "--out", str(t / "o")], "does not exist"),
    ("images-file-not-folder", lambda t: ["fit-images", _csv(t, b"x", "a.png"), "--out", str(t / "o")], "is a file"),
    ("images-empty-folder", lambda t: ["fit-images", _folder(t, {}), "--out", str(t / "o")], "no image files"),
    ("images-same-stem", lambda t: ["fit-images", _folder(t, {"a.npy": 1, "a.png": b"x"}), "--out", str(t / "o")],
     "several files are named 'a'"),
    ("images-not-image", lambda t: ["fit-images", _folder(t, {"b.png": b"hello"}), "--out", str(t / "o")],
     "cannot be read"),
    ("images-batchnorm", lambda t: ["fit-images", _folder(t, {"a.npy": 1}), "--batchnorm", "--size", "4",
                                    "--out", str(t / "o")], "--batchnorm"),
    ("images-wire", lambda t: ["fit-images", _folder(t, {"a.npy": 1}), "--activation", "wire", "--size", "4",
                               "--out", str(t / "o")], "wire"),
    ("images-resume", lambda t: ["fit-images", "--resume", "x.pt"], "unrecognized"),
]


def _folder(tmp, files: dict):
    """A folder of files: an int value writes a small .npy image, bytes are written as they are."""
    d = tmp / "imgs"
    d.mkdir(exist_ok=True)
    for name, content in files.items():
        if isinstance(content, int):
            np.save(d / name, np.random.default_rng(0).random((6, 5, 3)).astype(np.float32))
        else:
            (d / name).write_bytes(content)
    return str(d)


def _torch_file(tmp):
    p = tmp / "plain.pt"
    torch.save({"weights": torch.zeros(3)}, p)
    return str(p)


def _scene_ckpt(tmp):
    (tmp / "elsewhere").mkdir()
    out = tmp / "first"
    assert main(["fit-scene", *TINY_SCENE, "--out", str(out)]) == 0
    return str(out / "checkpoint.pt")


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    name, build, fragment = case
    work = tmp_path / "w"
    work.mkdir()
    monkeypatch.chdir(work)  # default output folders would land here
    argv = build(tmp_path)
    capsys.readouterr()
    before = _snapshot(tmp_path)
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("rankfield: error: "), err
    assert "Traceback" not in err
    assert fragment in lines[0], lines[0]
    assert _snapshot(tmp_path) == before, sorted(map(str, _snapshot(tmp_path) - before))


def test_closed_stdout_pipe_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "rankfield", "fit-signal", *TINY_SIGNAL, "--out",
                             str(tmp_path / "o")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head -0`
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines == ["rankfield: error: standard output was closed (broken pipe); stopped"], err
    assert not (tmp_path / "o").exists()


def test_third_party_warnings_stay_off_the_console(tmp_path, capsys, monkeypatch):
    import warnings

    import rankfield.cli.dynamics_commands as dc
    from rankfield.cli import build_parser

    real = dc.run_discover

    def noisy(args):
        warnings.warn_explicit("noisy third-party warning", UserWarning, "sklearn/x.py", 1, module="sklearn.x")
        return real(args)

    parser = build_parser()  # subcommands bind their function at registration: patch it there
    parser._rankfield_commands["discover"].set_defaults(func=noisy)
    monkeypatch.setattr("rankfield.cli.build_parser", lambda: parser)
    code = main(["discover", "--system", "lotka_volterra", "--steps", "30", "--refine", "0", "--no-progress",
                 "--out", str(tmp_path / "o")])
    assert code == 0
    assert "noisy third-party warning" not in capsys.readouterr().err


def test_rankfield_warnings_are_one_line(tmp_path, capsys):
    root = _scene(tmp_path, frame_file_path="./train/missing")
    assert main(["fit-scene", root, *TINY_SCENE, "--out", str(tmp_path / "o")]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == [f"rankfield: warning: {root}/transforms_train.json: 1 of 3 frames skipped because their image "
                   "is missing"], err


class _InterruptAt:
    """An engine callback (the public ``callbacks=`` of the fitting functions) that sends SIGINT at ``step``."""

    def __init__(self, step):
        self.step = step

    def __call__(self, trainer, record):
        if trainer.step == self.step:
            os.kill(os.getpid(), signal.SIGINT)

    def close(self):
        pass


def test_ctrl_c_saves_exits_130_and_resume_matches_an_uninterrupted_run(tmp_path, capsys, monkeypatch):
    import rankfield.cli.inr_commands as inr_commands

    args = ["fit-image", "--steps", "60", "--width", "16", "--depth", "2", "--size", "12", "--batch-size", "50",
            "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "straight")]) == 0
    # fit-image passes what log_callbacks returns to fit_image(callbacks=...)
    with monkeypatch.context() as patch:
        patch.setattr(inr_commands, "log_callbacks", lambda args, out, images=None: [_InterruptAt(25)])
        capsys.readouterr()
        assert main([*args, "--out", str(tmp_path / "cut")]) == 130
    err = capsys.readouterr().err.strip().splitlines()
    ck = tmp_path / "cut" / "checkpoint.pt"
    assert err == [f"rankfield: interrupted after step 25; checkpoint saved to {ck} (continue with --resume {ck})"]
    assert (tmp_path / "cut" / "config.json").exists()
    # resume with only --resume and --out: the stored options are taken (and reported)
    assert main(["fit-image", "--resume", str(ck), "--out", str(tmp_path / "cut"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "--steps 60" in out and "--width 16" in out
    a = torch.load(tmp_path / "straight" / "checkpoint.pt", weights_only=True)["modules"]["model"]
    b = torch.load(ck, weights_only=True)["modules"]["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    ma = json.loads((tmp_path / "straight" / "metrics.json").read_text())
    mb = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert ma["psnr"] == mb["psnr"]


def test_config_json_reruns_the_same_command(tmp_path, capsys):
    first = tmp_path / "a"
    assert main(["fit-signal", "--steps", "30", "--width", "16", "--samples", "64", "--lr", "0.002", "--no-progress",
                 "--out", str(first)]) == 0
    cfg = json.loads((first / "config.json").read_text())
    assert cfg["command"] == "fit-signal" and cfg["options"]["lr"] == 0.002 and cfg["fit"]["steps"] == 30
    assert cfg["model"]["width"] == 16
    assert main(["fit-signal", "--config", str(first / "config.json"), "--out", str(tmp_path / "b")]) == 0
    ma = json.loads((first / "metrics.json").read_text())
    mb = json.loads((tmp_path / "b" / "metrics.json").read_text())
    assert ma["psnr"] == mb["psnr"]
    # an explicit option wins over the config file
    assert main(["fit-signal", "--config", str(first / "config.json"), "--steps", "10", "--out",
                 str(tmp_path / "c")]) == 0
    assert json.loads((tmp_path / "c" / "config.json").read_text())["options"]["steps"] == 10


def test_config_json_reruns_with_its_configs_when_defaults_changed(tmp_path, capsys):
    """A setting no option sets (Adam's betas) edited in config.json, as if this version's default had changed:
    a plain --config rerun takes the file's value and says so; with a run-defining option beside it, it does not."""
    first = tmp_path / "a"
    args = ["fit-signal", "--steps", "40", "--width", "16", "--samples", "64", "--no-progress"]
    assert main([*args, "--out", str(first)]) == 0
    data = json.loads((first / "config.json").read_text())
    assert data["fit"]["betas"] == [0.9, 0.999]
    data["fit"]["betas"] = [0.5, 0.9]
    (first / "config.json").write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["fit-signal", "--config", str(first / "config.json"), "--out", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "fit.betas [0.5, 0.9] (this version's default: [0.9, 0.999])" in out
    assert json.loads((tmp_path / "b" / "config.json").read_text())["fit"]["betas"] == [0.5, 0.9]
    psnr = {d: json.loads((tmp_path / d / "metrics.json").read_text())["psnr"] for d in ("a", "b")}
    assert abs(psnr["a"] - psnr["b"]) > 1e-3  # the betas were used, not only written down
    assert main(["fit-signal", "--config", str(first / "config.json"), "--steps", "40", "--out",
                 str(tmp_path / "c")]) == 0
    assert "fit.betas" not in capsys.readouterr().out
    assert json.loads((tmp_path / "c" / "config.json").read_text())["fit"]["betas"] == [0.9, 0.999]
    # a config file whose settings are not valid is a one-line error naming the file
    data["fit"]["betas"] = "fast"
    data["model"]["activation"] = "nope"
    (first / "config.json").write_text(json.dumps(data))
    assert main(["fit-signal", "--config", str(first / "config.json"), "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rankfield: error: {first / 'config.json'}: unknown activation 'nope'")
    assert not (tmp_path / "d").exists()


def test_resume_continues_with_the_checkpoints_configs(tmp_path, capsys):
    out = tmp_path / "a"
    assert main(["fit-signal", "--steps", "20", "--width", "16", "--samples", "64", "--no-progress",
                 "--out", str(out)]) == 0
    ck = out / "checkpoint.pt"
    state = torch.load(ck, weights_only=True)
    assert state["extra"]["cli"]["configs"]["model"]["width"] == 16
    # as if written by a version with other default betas (the engine checks its own record of them on resume)
    state["extra"]["cli"]["configs"]["fit"]["betas"] = [0.5, 0.9]
    state["config"]["betas"] = [0.5, 0.9]
    torch.save(state, ck)
    capsys.readouterr()
    assert main(["fit-signal", "--resume", str(ck), "--steps", "30", "--out", str(out), "--no-progress"]) == 0
    assert "fit.betas [0.5, 0.9]" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["fit"]["betas"] == [0.5, 0.9]


def test_outputs_replace_symlinks_instead_of_following_them(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out / "metrics.json").symlink_to(victim)
    (out / "reconstruction.png").symlink_to(victim)
    assert main(["fit-image", *TINY_IMAGE, "--out", str(out)]) == 0
    assert victim.read_text() == "keep me"
    assert not (out / "metrics.json").is_symlink() and json.loads((out / "metrics.json").read_text())["psnr"] > 0
    assert not (out / "reconstruction.png").is_symlink()


def test_failed_run_into_an_existing_folder_removes_only_what_it_added(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["fit-image", *TINY_IMAGE, "--init", "rank_expanding", "--activation", "sine", "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_without_the_dynamics_extra_inr_works_and_discover_says_what_to_install(tmp_path):
    import subprocess
    import sys
    code = (
        "import sys; sys.modules['pysindy'] = None\n"  # as if the extra were not installed
        "from rankfield.cli import main\n"
        f"assert main(['fit-image', '--size', '8', '--width', '8', '--steps', '2', '--no-progress', '--out', {str(tmp_path / 'i')!r}]) == 0\n"
        f"sys.exit(main(['discover', '--out', {str(tmp_path / 'd')!r}]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and pip_line("dynamics") in lines[0], proc.stderr
    assert not (tmp_path / "d").exists()


def test_discover_help_works_without_the_dynamics_extra():
    """Issue 35: without PySINDy, `discover --help` shows the command's options and the install line (it used to
    say 'unrecognized arguments: --help'); the options are the same as with the extra."""
    import argparse

    from rankfield.cli import build_parser

    code = (
        "import sys; sys.modules['pysindy'] = None\n"  # as if the extra were not installed
        "import argparse\n"
        "from rankfield.cli import build_parser, main\n"
        "sub = build_parser()._rankfield_commands['discover']\n"
        "print(sorted(o for a in sub._actions for o in a.option_strings))\n"
        "sys.exit(main(['discover', '--help']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    options, help_text = proc.stdout.split("\n", 1)
    full = build_parser()._rankfield_commands["discover"]
    assert options == str(sorted(o for a in full._actions for o in a.option_strings))
    assert help_text.startswith("usage: rankfield discover")
    assert "--criterion" in help_text and pip_line("dynamics") in " ".join(help_text.split())


HELP_DEV_NOTES = r"\bmeasured\b|\bmeasures best|benchmarks/\w+\.py|benchmarks/dev|\bdev\b|\bissue|#\d|\b20\d\d-\d\d|\d-core|\bTODO"


def test_help_texts_say_what_options_do_not_how_they_were_developed(capsys):
    """Issue 35: --help carried development notes ('measures best in benchmarks/pose_nerf.py')."""
    import re

    from rankfield.cli import build_parser

    for name, sub in build_parser()._rankfield_commands.items():
        text = " ".join(sub.format_help().split())
        found = re.findall(rf".{{0,40}}(?:{HELP_DEV_NOTES}).{{0,40}}", text, flags=re.IGNORECASE)
        assert not found, (name, found)


def test_every_command_prints_its_help(capsys):
    """argparse formats help strings only for --help: a stray % in one would crash it there."""
    import argparse

    from rankfield.cli import build_parser

    parser = build_parser()
    commands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)][0].choices
    assert len(commands) >= 5
    for name in commands:
        try:
            code = main([name, "--help"])
        except SystemExit as exc:
            code = exc.code
        assert code == 0, name
        assert "usage:" in capsys.readouterr().out, name
