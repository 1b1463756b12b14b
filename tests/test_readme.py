"""The README's commands are real: every `rankfield ...` line parses with the CLI as shipped, and (slow) every
Python block runs in a fresh interpreter from a folder that has the repository's example data."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from rankfield.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

pytestmark = pytest.mark.skipif(not README.exists(), reason="README.md not in this checkout")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(), re.S)


def _cli_lines() -> list[list[str]]:
    out = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("rankfield "):
                out.append(shlex.split(line)[1:])
    return out


def test_readme_has_cli_lines_and_python_blocks():
    assert len(_cli_lines()) >= 5
    assert len(_blocks("python")) >= 3


@pytest.mark.parametrize("argv", _cli_lines() if README.exists() else [], ids=lambda a: " ".join(a))
def test_every_readme_command_line_parses(argv):
    args = build_parser().parse_args(argv)
    assert callable(args.func)


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_blocks("python")) if README.exists() else 0))
def test_every_readme_python_block_runs(index, tmp_path):
    (tmp_path / "data").symlink_to(ROOT / "data")
    code = _blocks("python")[index]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                          env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip(), "each block prints its result"
