"""Options shared by subcommands (private)."""

from __future__ import annotations

import argparse


def add_common_options(p: argparse.ArgumentParser, default_out: str) -> None:
    """--out, --device, --seed, --no-progress: the same meaning in every subcommand."""
    p.add_argument("--out", default=default_out, help=f"output folder (default: {default_out})")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda (default: auto)")
    p.add_argument("--seed", type=int, default=0, help="random seed for everything random (default: 0)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {v}")
    return v


def positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {v}")
    return v
