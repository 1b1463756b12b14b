"""Issue 34: options that set config fields are generated from the configs (default from a library preset,
help from the field's documented text), so the CLI cannot disagree with the library."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from rankfield.cli import build_parser, main
from rankfield.cli._options import (ConfigOption, add_config_options, config_from_args, documented_attributes,
                                    option_help, preset_value, show)


def _generated():
    """(command, action, preset, ConfigOption) for every option generated from a config."""
    for name, sub in build_parser()._rankfield_commands.items():
        for action in sub._actions:
            if hasattr(action, "config_option"):
                yield (name, action, *action.config_option)


def test_options_are_generated_for_fit_scene():
    flags = {action.option_strings[0] for name, action, _, _ in _generated() if name == "fit-scene"}
    assert {"--rays", "--samples", "--lr-field", "--lr-pose", "--lr-pose-end", "--steps", "--schedule-steps",
            "--pose-warmup", "--pose-prior"} <= flags


def test_every_generated_option_takes_the_presets_default_and_the_documented_help():
    seen = 0
    for command, action, preset, opt in _generated():
        seen += 1
        default = preset_value(preset, opt.field) if opt.default is ConfigOption.__dataclass_fields__[
            "default"].default else opt.default
        assert action.default == default, (command, opt.flag)
        owner = preset
        for part in opt.field.split(".")[:-1]:
            owner = getattr(owner, part)
        text = documented_attributes(type(owner))[opt.field.rsplit(".", 1)[-1]]
        assert text.removesuffix(".") in action.help, (command, opt.flag)
        shown = opt.shown if opt.shown is not None else show(default)
        assert action.help.endswith(f"(default: {shown})"), (command, opt.flag)
        assert action.dest == opt.flag[2:].replace("-", "_")
    assert seen >= 9


def test_fit_scene_defaults_are_the_cpu_protocol_and_help_shows_them(capsys):
    from rankfield.nerf.train import CPU_PROTOCOL, TrainConfig

    assert (CPU_PROTOCOL.rays_per_step, CPU_PROTOCOL.render.n_samples, CPU_PROTOCOL.render.n_importance,
            CPU_PROTOCOL.lr_field) == (480, 16, 24, 3e-3)
    assert CPU_PROTOCOL.lr_field_end == TrainConfig.lr_field_end
    args = build_parser().parse_args(["fit-scene"])
    assert (args.rays, args.samples, args.importance, args.lr_field) == (480, None, None, None)  # from the data, --init
    assert main(["fit-scene", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for piece in ("rays per step (default: 480)",
                  "samples per ray (BARF uses 128) (default: 16)",
                  "field Adam learning rate at the start, decayed exponentially to lr_field_end (default: 0.001 to "
                  "register forward-facing (LLFF) data; 0.003 otherwise)",
                  "(default: 0.0001 for se3, 0.001 for the warp, at most --lr-pose; 0.001 (held) to register "
                  "forward-facing data)",
                  "(default: 0.0003 for --init file; 0.001 to register forward-facing (LLFF) data; 0.003 otherwise)"):
        assert piece in text, piece


def test_the_benchmark_shares_the_preset():
    text = (importlib.import_module("rankfield").__file__.rsplit("/src/", 1)[0] + "/benchmarks/pose_nerf.py")
    try:
        source = open(text).read()
    except OSError:
        pytest.skip("benchmarks/ not in this checkout")
    assert "CPU_PROTOCOL" in source and "rays_per_step=480" not in source and "lr_field=3e-3" not in source


@pytest.mark.parametrize("module, name", [("rankfield.nerf.train", "TrainConfig"), ("rankfield.nerf.render", "RenderConfig"),
                                          ("rankfield.inr", "FitConfig"), ("rankfield.inr", "MLPConfig")])
def test_every_config_field_is_documented(module, name):
    cls = getattr(importlib.import_module(module), name)
    documented = documented_attributes(cls)
    assert [f.name for f in dataclasses.fields(cls) if f.name not in documented] == []
    assert set(documented) <= {f.name for f in dataclasses.fields(cls)}


def test_attributes_parser_joint_entries_continuations_and_markup():
    class Demo:
        """Demo.

        Attributes:
            a, b: first and last rate, ``lr -> lr_end``;
                continued here with 100%.
            c (int): see :func:`~rankfield.nerf.train.train_scene`.
            d: *emphasis* stays words, 2 * 3 stays.

        Examples:
            e: not an attribute.
        """

    doc = documented_attributes(Demo)
    assert doc == {"a": "first and last rate, lr -> lr_end; continued here with 100%%.",
                   "b": "first and last rate, lr -> lr_end; continued here with 100%%.",
                   "c": "see train_scene.", "d": "emphasis stays words, 2 * 3 stays."}


def test_generated_options_round_trip_to_the_preset():
    import argparse

    from rankfield.nerf.train import CPU_PROTOCOL

    opts = (ConfigOption("rays_per_step", "--rays"), ConfigOption("render.n_samples", "--samples"),
            ConfigOption("lr_field", "--lr-field"), ConfigOption("schedule_steps", "--schedule-steps"),
            ConfigOption("progress", "--progress"))
    p = argparse.ArgumentParser()
    add_config_options(p, CPU_PROTOCOL, opts)
    assert config_from_args(p.parse_args([]), CPU_PROTOCOL, opts) == CPU_PROTOCOL
    cfg = config_from_args(p.parse_args(["--samples", "8", "--schedule-steps", "9", "--no-progress"]), CPU_PROTOCOL,
                           opts, seed=3)
    assert (cfg.render.n_samples, cfg.schedule_steps, cfg.progress, cfg.seed) == (8, 9, False, 3)
    assert cfg.render.chunk == CPU_PROTOCOL.render.chunk and cfg.rays_per_step == 480
    assert "(default: 480)" in option_help(CPU_PROTOCOL, opts[0])
    with pytest.raises(SystemExit):
        p.parse_args(["--rays", "many"])


def test_cli_submodules_do_not_import_back_from_the_package():
    """Issue 34: rankfield.cli loads its command modules through importlib; none of its submodules imports from
    ``rankfield.cli`` itself (a hidden cycle). What they share lives in rankfield.cli._common."""
    import ast
    from pathlib import Path

    import rankfield.cli as cli

    for path in sorted(Path(cli.__file__).parent.glob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.module != "rankfield.cli", f"{path.name}:{node.lineno} imports from rankfield.cli"
            elif isinstance(node, ast.Import):
                assert all(a.name != "rankfield.cli" for a in node.names), f"{path.name}:{node.lineno}"
    from rankfield.cli import _common
    assert cli.run_options is _common.run_options and cli.apply_resume_options is _common.apply_resume_options


def test_model_options_are_generated_from_mlpconfig():
    from rankfield.inr import MLPConfig

    flags = {action.option_strings[0] for name, action, _, _ in _generated() if name == "fit-image"}
    assert {"--activation", "--init", "--linear", "--width", "--depth", "--rank", "--omega0", "--gauss-scale",
            "--wire-sigma", "--sine-omega", "--batchnorm"} <= flags
    for command, width in (("fit-image", 256), ("fit-images", 64), ("fit-signal", 128)):
        args = build_parser().parse_args([command])
        assert (args.activation, args.width, args.depth, args.init) == ("sine", width, 3, MLPConfig.init)
        assert (args.gauss_scale, args.wire_sigma, args.sine_omega) == (
            MLPConfig.gauss_scale, MLPConfig.wire_sigma0, MLPConfig.sine_omega)


def test_an_option_of_another_activation_is_an_error_only_when_given(tmp_path, capsys):
    import json

    assert main(["fit-image", "--gauss-scale", "3", "--steps", "1", "--out", str(tmp_path / "a")]) == 2
    assert "--gauss-scale is used by --activation gauss, not by --activation sine" in capsys.readouterr().err
    # a gauss run's config.json rerun as sine: its --gauss-scale was not given here, so no error
    assert main(["fit-image", "--activation", "gauss", "--gauss-scale", "3", "--size", "16", "--width", "8",
                 "--depth", "2", "--steps", "2", "--no-progress", "--out", str(tmp_path / "g")]) == 0
    config = tmp_path / "g" / "config.json"
    assert json.loads(config.read_text())["model"]["gauss_scale"] == 3.0
    assert main(["fit-image", "--config", str(config), "--activation", "sine", "--no-progress",
                 "--out", str(tmp_path / "s")]) == 0
    model = json.loads((tmp_path / "s" / "config.json").read_text())["model"]
    assert (model["activation"], model["width"], model["omega0"]) == ("sine", 8, 30.0)


def test_discover_options_are_generated_from_rktvconfig_and_discoverconfig():
    dynamics = pytest.importorskip("rankfield.dynamics")

    generated = {action.option_strings[0]: (preset, opt) for name, action, preset, opt in _generated()
                 if name == "discover"}
    assert {"--steps", "--omega0", "--weight-tv", "--refine-steps", "--width", "--stop-tol", "--degree", "--criterion",
            "--threshold", "--refine", "--refine-support", "--trim", "--bias-weighting"} <= set(generated)
    assert isinstance(generated["--steps"][0], dynamics.RKTVConfig)
    assert isinstance(generated["--trim"][0], dynamics.DiscoverConfig)
    args = build_parser().parse_args(["discover"])
    rktv, options = dynamics.RKTVConfig(), dynamics.DiscoverConfig()
    assert (args.steps, args.omega0, args.weight_tv, args.refine_steps) == (rktv.steps, rktv.omega0, rktv.weight_tv,
                                                                             rktv.refine_steps)
    assert (args.criterion, args.refine, args.trim, args.bias_weighting) == (options.criterion, options.refine,
                                                                             options.trim, options.bias_weighting)
    args = build_parser().parse_args(["discover", "--omega0", "auto", "--weight-tv", "0.002", "--trim", "auto",
                                      "--refine", "1"])
    assert (args.omega0, args.weight_tv, args.trim, args.refine) == ("auto", 0.002, "auto", 1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["discover", "--omega0", "fast"])
    assert (args.width, args.stop_tol) == (rktv.width, rktv.stop_tol)
    args = build_parser().parse_args(["discover", "--width", "80", "--stop-tol", "none"])
    assert (args.width, args.stop_tol) == (80, None)  # the run of every step, the first author's width
    assert build_parser().parse_args(["discover", "--stop-tol", "0.05"]).stop_tol == 0.05
    for bad in (["--stop-tol", "1"], ["--stop-tol", "0"], ["--width", "0"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["discover", *bad])
