"""Options shared by subcommands (private).

Also what makes a run a run: :data:`RUN_FREE_OPTIONS`, :func:`run_options` and :func:`apply_resume_options`,
used by :mod:`rankfield.cli` (which imports them from here) and by :func:`load_run_checkpoint`. This module imports
nothing from :mod:`rankfield.cli` itself, so the command modules can import it without an import cycle.
"""

from __future__ import annotations

import argparse
import math

from rankfield._config import Config
from rankfield._extras import pip_line
from rankfield.errors import InputError

# options that do not define a run: free to differ on --resume and not stored as the run's settings
RUN_FREE_OPTIONS = {"out", "resume", "device", "no_progress", "config", "threads", "test_time_refine", "compile",
                    "func", "command", "log"}


def run_options(args) -> dict:
    """The options that define a run (JSON-able), as stored in ``config.json`` and checkpoints."""
    return {k: v for k, v in vars(args).items() if not k.startswith("_") and k not in RUN_FREE_OPTIONS}


def apply_resume_options(args, stored: dict, checkpoint) -> list[str]:
    """Take the run-defining options stored in a checkpoint; explicit options must match them.

    Returns the ``--option value`` strings taken from the checkpoint (to report them).
    """
    explicit = getattr(args, "_explicit", set())
    taken = []
    for key, value in stored.items():
        if key in RUN_FREE_OPTIONS or not hasattr(args, key):
            continue
        current = getattr(args, key)
        if current == value:
            continue
        flag = "--" + key.replace("_", "-")
        if key == "steps" and key in explicit:  # continuing a run for longer is allowed (and said)
            taken.append(f"(planned for {value} steps: after step {value} the learning rate stays at its final value)")
            continue
        if key in explicit:
            shown = current if key not in ("data", "image", "signal", "csv") else repr(current)
            raise InputError(f"{flag} {shown} differs from the run in {checkpoint} ({value!r}); "
                             "resume with the run's own settings (or leave the option out)")
        setattr(args, key, value)
        taken.append(f"{flag} {value}")
    return taken


def add_common_options(p: argparse.ArgumentParser, default_out: str) -> None:
    """--out, --device, --seed, --no-progress, --config: the same meaning in every subcommand."""
    g = p.add_argument_group("run")
    g.add_argument("--out", default=default_out, help=f"output folder (default: {default_out})")
    g.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda (default: auto)")
    g.add_argument("--seed", type=seed_int, default=0, help="random seed, an integer in [0, 2^62) (default: 0)")
    g.add_argument("--no-progress", action="store_true", help="hide progress bars")
    g.add_argument("--config", default=None, metavar="CONFIG_JSON",
                   help="rerun with the options of a config.json written by an earlier run (options given "
                        "on the command line win)")


def add_log_option(p: argparse.ArgumentParser) -> None:
    """--log: where training curves go besides history/metrics.json (training commands only)."""
    p.add_argument("--log", choices=["none", "tensorboard"], default="none",
                   help="tensorboard: also log loss, PSNR, learning rates and images (10 per run) to "
                        f"<out>/tensorboard; needs {pip_line('tensorboard')} (default: none)")


def log_callbacks(args, out, images=None) -> list:
    """The engine callbacks that ``--log`` asks for (checked before anything is written)."""
    if getattr(args, "log", "none") != "tensorboard":
        return []
    from pathlib import Path

    from rankfield.tensorboard import TensorBoardLogger

    return [TensorBoardLogger(Path(out) / "tensorboard", images=images, image_every=max(int(args.steps) // 10, 1))]


def require_pictures() -> None:
    """Every command writes figures: say which extra is missing before any training starts."""
    from rankfield._extras import require

    require("matplotlib.figure", "plot", "pictures")


def seed_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= v < 2 ** 62:
        raise argparse.ArgumentTypeError(f"seed must be in [0, 2^62), got {v}")
    return v


def _number(name: str, convert, ok, expected: str, expected_finite: str):
    """An argparse type: ``convert`` the text, then check ``ok`` (and finiteness, for floats)."""
    def parse(text: str):
        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ((convert is int or math.isfinite(v)) and ok(v)):
            raise argparse.ArgumentTypeError(f"expected {expected_finite}, got {text if convert is float else v}")
        return v
    parse.__name__ = parse.__qualname__ = name
    return parse


positive_int = _number("positive_int", int, lambda v: v > 0, "a positive integer", "a positive integer")
nonneg_int = _number("nonneg_int", int, lambda v: v >= 0, "an integer >= 0", "an integer >= 0")
positive_float = _number("positive_float", float, lambda v: v > 0, "a positive number", "a finite positive number")
nonneg_float = _number("nonneg_float", float, lambda v: v >= 0, "a number >= 0", "a finite number >= 0")
open_fraction = _number("open_fraction", float, lambda v: 0 < v < 1, "a number in (0, 1)", "a number in (0, 1)")


def load_run_checkpoint(args, kind: str):
    """Read ``--resume``'s checkpoint (``weights_only``), take its stored options (explicit ones must match)
    and report the ones taken. Returns the checkpoint dict, or ``None`` without ``--resume``."""
    if not args.resume:
        return None
    from rankfield._engine import load_checkpoint

    ck = load_checkpoint(args.resume, kind=kind)
    stored = (ck.get("extra") or {}).get("cli")
    if not isinstance(stored, dict) or stored.get("command") != args.command:
        raise InputError(f"{args.resume} was not written by 'rankfield {args.command}'")
    taken = apply_resume_options(args, stored["options"], args.resume)
    args._stored_configs, args._stored_from = stored.get("configs"), str(args.resume)
    print(f"resuming {args.resume} at step {ck['step']} of {ck['steps']}"
          + (f" with its settings {', '.join(taken)}" if taken else ""))
    return ck


def cli_record(args) -> dict:
    """What a checkpoint stores about the command line that wrote it: its options and its configs."""
    return {"command": args.command, "options": run_options(args), "configs": getattr(args, "_configs", {})}


# config fields that do not define a run (how it is shown, where it runs or writes): never taken from a stored run
RUN_FREE_FIELDS = {"steps", "progress", "device", "compile", "checkpoint_path", "checkpoint_every", "log_every",
                   "eval_chunk", "seed"}
_UNRECORDED_FIELDS = {"checkpoint_path"}  # an output path, not a setting: left out of config.json


def _adopt(cfg, stored: dict, prefix: str, taken: list[str]) -> dict:
    """``cfg.to_dict()`` with the stored values put in (nested configs field by field), noting each one taken."""
    out = cfg.to_dict()
    for key, value in stored.items():
        if key in RUN_FREE_FIELDS or key not in out:
            continue
        sub = getattr(cfg, key)
        if isinstance(sub, Config) and isinstance(value, dict):
            out[key] = _adopt(sub, value, f"{prefix}{key}.", taken)
        elif value != out[key]:
            taken.append(f"{prefix}{key} {value!r} (this version's default: {out[key]!r})")
            out[key] = value
    return out


def adopt_stored_configs(args, **configs):
    """The configs a command runs with, recorded for ``config.json`` and checkpoints (``args._configs``).

    With ``--resume``, and with ``--config`` when no run-defining option is given beside it, the configs are
    the stored run's: a field whose value differs from the one this version builds from the same options (a
    default that changed between versions, or one no option sets) takes the stored value, and the fields taken
    are reported. Fields in :data:`RUN_FREE_FIELDS` keep this run's value. Returns the configs in the order
    given.

    Args:
        args: the parsed command line (its ``_stored_configs`` is set by ``--resume``/``--config``).
        **configs: name -> config as built from the options (``train=TrainConfig(...)``).
    """
    stored = getattr(args, "_stored_configs", None) or {}
    taken: list[str] = []
    out = {}
    for name, cfg in configs.items():
        mine = stored.get(name)
        if isinstance(mine, dict):
            data = _adopt(cfg, mine, f"{name}.", taken)
            try:
                cfg = type(cfg).from_dict(data).validate()
            except InputError as exc:
                raise InputError(f"{args._stored_from}: {exc}") from None
        out[name] = cfg
    if taken:
        print(f"settings of {args._stored_from} kept where this version builds others: " + "; ".join(taken))
    args._configs = {name: {k: v for k, v in cfg.to_dict().items() if k not in _UNRECORDED_FIELDS}
                     for name, cfg in out.items()}
    return tuple(out.values())
