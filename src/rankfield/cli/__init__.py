"""The ``rankfield`` console script: a thin layer over the public API.

Each package contributes subcommands through a module here exposing ``register(subparsers)``;
user errors (:class:`rankfield.InputError`, missing files) print one line and exit with code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from rankfield.errors import InputError, TrainingDivergedError

# Modules that add subcommands; each defines register(subparsers).
_COMMAND_MODULES = ["rankfield.cli.inr_commands", "rankfield.cli.nerf_commands", "rankfield.cli.dynamics_commands"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        self.exit(2, f"rankfield: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rankfield", description="Neural fields: fit images/signals/shapes, scenes with "
                     "unknown poses, and discover equations from noisy trajectories.")
    from rankfield import __version__
    parser.add_argument("--version", action="version", version=f"rankfield {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that package's commands are not written yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (InputError, FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        msg = str(exc) if not isinstance(exc, OSError) or not exc.filename else f"{exc.strerror}: {exc.filename}"
        print(f"rankfield: error: {msg}", file=sys.stderr)
        return 2
    except TrainingDivergedError as exc:
        print(f"rankfield: training diverged: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("rankfield: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
