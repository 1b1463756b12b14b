"""The ``rankfield`` console script: a thin layer over the public API.

Each package contributes subcommands through a module here exposing ``register(subparsers)``. What is
common to every subcommand lives here, once:

* user errors (:class:`rankfield.InputError`, unreadable files, a closed stdout pipe, too little memory)
  print exactly one line ``rankfield: error: <what is wrong>`` and exit with code 2, and every file or
  folder the failed command created is removed again (nothing half-written);
* Ctrl-C during training checkpoints the last finished step and exits 130 naming the checkpoint;
  a diverged run exits 3 and keeps its last good checkpoint;
* ``--config FILE`` reruns a command from the ``config.json`` written next to its outputs (options
  given on the command line win); a plain rerun (no run-defining option beside it) runs the file's
  configs, so a default changed since the run does not change the rerun (the fields kept are printed);
* ``--resume CHECKPOINT`` takes the run's stored options and configs; options given explicitly must match them;
* third-party warnings are not printed (the console shows rankfield's own lines only);
* under ``torchrun`` (``WORLD_SIZE`` > 1) the command joins the process group (NCCL on CUDA, gloo on
  CPU), the training engine averages gradients over the processes, and only rank 0 prints and writes
  ``--out``: the other ranks run the same command into a private temporary folder that is removed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import sys
import warnings
from pathlib import Path

# What the command modules share lives in _common, which imports nothing from this package's __init__ (they
# load through importlib below, so an import back from here would be a hidden cycle); re-exported here.
from rankfield.cli._common import RUN_FREE_OPTIONS, apply_resume_options, run_options  # noqa: F401
from rankfield.errors import InputError, TrainingDivergedError

# Modules that add subcommands; each defines register(subparsers).
_COMMAND_MODULES = ["rankfield.cli.inr_commands", "rankfield.cli.nerf_commands", "rankfield.cli.dynamics_commands"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        self.exit(2, f"rankfield: error: {message.splitlines()[0] if message else 'bad arguments'}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``rankfield`` argument parser (subcommands from every package).

    Examples:
        >>> sorted(build_parser()._rankfield_commands)
        ['discover', 'fit-image', 'fit-images', 'fit-scene', 'fit-signal']
    """
    parser = _Parser(prog="rankfield", description="Neural fields: fit images/signals/shapes, scenes with "
                     "unknown poses, and discover equations from noisy trajectories.")
    from rankfield import __version__
    parser.add_argument("--version", action="version", version=f"rankfield {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    parser._rankfield_commands = dict(sub.choices)
    return parser


def _explicit_options(subparser: argparse.ArgumentParser, argv: list[str], args) -> set[str]:
    """Destinations the user gave on the command line (options by flag, positionals by presence)."""
    given = {tok.split("=", 1)[0] for tok in argv if tok.startswith("-")}
    out = set()
    for action in subparser._actions:
        if action.option_strings:
            if any(o in given for o in action.option_strings):
                out.add(action.dest)
        elif action.dest != "help" and getattr(args, action.dest, None) is not None:
            out.add(action.dest)
    return out


def _apply_config_file(args, explicit: set[str]) -> None:
    path = Path(args.config)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"--config {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"--config {path}: not a JSON config ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("options"), dict):
        raise InputError(f"--config {path}: not a rankfield config.json (no 'options')")
    if data.get("command") != args.command:
        raise InputError(f"--config {path} is a config of '{data.get('command')}', not of '{args.command}'")
    known = set(run_options(args))
    unknown = sorted(set(data["options"]) - known)
    if unknown:
        raise InputError(f"--config {path}: unknown option(s) {', '.join(unknown)}")
    for key, value in data["options"].items():
        if key not in explicit:
            setattr(args, key, value)
    if not explicit - RUN_FREE_OPTIONS:  # a plain rerun: the file's configs, whatever this version's defaults
        args._stored_configs = {k: v for k, v in data.items() if isinstance(v, dict) and k != "options"}
        args._stored_from = str(path)


class _OutputGuard:
    """Remembers what ``--out`` held before a command; :meth:`rollback` removes what the command added."""

    def __init__(self, out):
        self.out = Path(out)
        self.created_root = None
        p = self.out.absolute()
        while not p.exists():  # the outermost folder this command would create
            self.created_root = p
            p = p.parent
        self.before = set()
        if self.created_root is None and self.out.is_dir():
            self.before = {q for q in self.out.rglob("*")}

    def rollback(self) -> None:
        try:
            if self.created_root is not None:
                if self.created_root.is_dir() and not self.created_root.is_symlink():
                    shutil.rmtree(self.created_root, ignore_errors=True)
                return
            if self.out.is_dir():
                for q in sorted(self.out.rglob("*"), key=lambda q: -len(q.parts)):
                    if q not in self.before:
                        if q.is_dir() and not q.is_symlink():
                            shutil.rmtree(q, ignore_errors=True)
                        else:
                            q.unlink(missing_ok=True)
        except OSError:
            pass


def _error_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and getattr(exc, "filename", None):
        return f"{exc.strerror or type(exc).__name__}: {exc.filename}"
    if isinstance(exc, MemoryError):
        return "not enough memory for this request (try a smaller size, batch or resolution)"
    if isinstance(exc, BrokenPipeError):
        return "standard output was closed (broken pipe); stopped"
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())  # exactly one line


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _write_config(args) -> None:
    from rankfield import __version__
    from rankfield._io import atomic_write

    out = Path(args.out)
    if not out.is_dir():
        return
    data = {"command": args.command, "rankfield_version": __version__, "options": run_options(args),
            **getattr(args, "_configs", {})}
    atomic_write(out / "config.json", json.dumps(data, indent=2, default=str) + "\n")


def _distributed_setup(args):
    """Join the ``torchrun`` process group when ``WORLD_SIZE`` > 1; returns this process's rank (0 alone).

    Ranks other than 0 get a private temporary ``--out`` (removed at the end) and a silent stdout."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return 0
    import tempfile

    import torch
    import torch.distributed as dist

    use_cuda = torch.cuda.is_available() and str(getattr(args, "device", "auto")) != "cpu"
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    rank = dist.get_rank()
    if rank != 0:
        args.out = tempfile.mkdtemp(prefix=f"rankfield-rank{rank}-")
        args._private_out = args.out
        args.no_progress = True
        _silence_stdout()
    return rank


def _distributed_teardown(args) -> None:
    """Remove a rank's private output folder and leave the process group."""
    private = getattr(args, "_private_out", None)
    if private:
        shutil.rmtree(private, ignore_errors=True)
    try:
        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    except Exception:  # noqa: BLE001 - tearing down after an error must not raise another
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the ``rankfield`` command line; returns the exit code.

    Examples:
        >>> main(["fit-image", "--steps", "0"])
        2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party warnings stay off the console...
        warnings.filterwarnings("default", module=r"rankfield(\.|$)")  # ...rankfield's own are shown,
        warnings.showwarning = _one_line_warning  # as one line each
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            return int(exc.code or 0)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        guard = None
        try:
            _distributed_setup(args)
            sub = parser._rankfield_commands[args.command]
            args._explicit = _explicit_options(sub, argv, args)
            if getattr(args, "config", None):
                _apply_config_file(args, args._explicit)
            from rankfield._io import check_output_dir

            check_output_dir(args.out)
            guard = _OutputGuard(args.out)
            code = int(args.func(args) or 0)
            _write_config(args)
            return code
        except (InputError, OSError, MemoryError, UnicodeError) as exc:
            if isinstance(exc, BrokenPipeError):
                _silence_stdout()
            if guard is not None:
                guard.rollback()
            print(f"rankfield: error: {_error_line(exc)}", file=sys.stderr)
            return 2
        except TrainingDivergedError as exc:
            _write_config_quietly(args)
            print(f"rankfield: training diverged: {_error_line(exc)}", file=sys.stderr)
            return 3
        except KeyboardInterrupt as exc:
            from rankfield._engine import TrainingInterrupted

            if isinstance(exc, TrainingInterrupted) and exc.checkpoint:
                _write_config_quietly(args)
                print(f"rankfield: interrupted after step {exc.step}; checkpoint saved to {exc.checkpoint} "
                      f"(continue with --resume {exc.checkpoint})", file=sys.stderr)
            else:  # a second Ctrl-C, or one outside training: files already written are complete (atomic)
                print("rankfield: interrupted", file=sys.stderr)
            return 130
        finally:
            if int(os.environ.get("WORLD_SIZE", "1") or 1) > 1:
                _distributed_teardown(args)


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"rankfield: warning: {' '.join(str(message).split())}", file=sys.stderr)


def _write_config_quietly(args) -> None:
    try:
        _write_config(args)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
