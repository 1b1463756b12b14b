"""Write a benchmark's section into docs/benchmarks.md (shared by all benchmarks).

Each benchmark owns one section between ``<!-- BEGIN name -->`` and ``<!-- END name -->``; rerunning
it replaces only that section, so benchmarks of different packages can be run independently.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from pathlib import Path

import torch

DOCS = Path(__file__).resolve().parent.parent / "docs"
REPORT = DOCS / "benchmarks.md"
HEADER = "# rankfield benchmarks\n\nEach section is written by the benchmark named in it; rerun the command to refresh it.\n"


def machine_description() -> str:
    """One line: CPU/GPU, core count, torch version."""
    if torch.cuda.is_available():
        dev = f"GPU {torch.cuda.get_device_name(0)}"
    else:
        dev = f"CPU only ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    return f"{dev}; Python {platform.python_version()}, torch {torch.__version__}, threads {torch.get_num_threads()}"


def command_line() -> str:
    """The invocation, with a ``--note`` text (printed in the section itself) shortened to ``'<note below>'``."""
    args = list(sys.argv)
    for i, a in enumerate(args[:-1]):
        if a == "--note":
            args[i + 1] = "<note below>"
    return "python " + " ".join(shlex.quote(a) for a in args)


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A markdown table from a list of dicts (floats formatted to 3 significant decimals)."""
    if not rows:
        return "(no rows)\n"
    columns = columns or list(rows[0])
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def write_section(name: str, title: str, body: str) -> Path:
    """Replace (or append) section ``name`` of docs/benchmarks.md with ``body``, stamped with command/machine/date."""
    DOCS.mkdir(exist_ok=True)
    text = REPORT.read_text() if REPORT.exists() else HEADER
    stamp = (f"Command: `{command_line()}`  \nMachine: {machine_description()}  \n"
             f"Date: {datetime.date.today().isoformat()}\n\n")
    block = f"<!-- BEGIN {name} -->\n## {title}\n\n{stamp}{body.rstrip()}\n<!-- END {name} -->\n"
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    if begin in text and end in text:
        pre, rest = text.split(begin, 1)
        post = rest.split(end, 1)[1].lstrip("\n")
        text = pre + block + ("\n" + post if post else "")
    else:
        text = text.rstrip() + "\n\n" + block
    REPORT.write_text(text)
    return REPORT


def publish(name: str, title: str, body: list[str]) -> Path:
    """Write section ``name`` from ``body`` (lines joined by newlines) with :func:`write_section`, print it and
    where it went; returns the report's path."""
    text = "\n".join(body)
    path = write_section(name, title, text)
    print(text)
    print(f"wrote {path}")
    return path
