"""Execute the gallery notebooks in place and store their outputs (text and figures).

A minimal runner that needs no Jupyter install: code cells run in order in one namespace, with this
folder as the working directory; printed text becomes a stream output and every open matplotlib figure
a PNG output. Use Jupyter instead if you have it (``jupyter nbconvert --execute --inplace``).

Run: ``.venv/bin/python examples/run_notebooks.py [NOTEBOOK ...]`` (default: every ``*.ipynb`` here).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent


def _figure_outputs() -> list[dict]:
    outs = []
    for num in plt.get_fignums():
        buf = io.BytesIO()
        plt.figure(num).savefig(buf, format="png", dpi=90, bbox_inches="tight")
        outs.append({"output_type": "display_data", "metadata": {},
                     "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": ["<Figure>"]}})
    plt.close("all")
    return outs


def run_notebook(path: Path) -> None:
    nb = json.loads(path.read_text())
    namespace: dict = {"__name__": "__main__"}
    count = 0
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            count += 1
            source = "".join(cell["source"])
            out = io.StringIO()
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(out):
                exec(compile(source, f"{path.name}[{count}]", "exec"), namespace)  # noqa: S102
            outputs = [{"output_type": "stream", "name": "stdout", "text": out.getvalue().splitlines(keepends=True)}] \
                if out.getvalue() else []
            cell["outputs"] = outputs + _figure_outputs()
            cell["execution_count"] = count
            print(f"  {path.name} cell {count}: {time.perf_counter() - t0:.1f} s", flush=True)
    finally:
        os.chdir(cwd)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted(HERE.glob("*.ipynb"))
    for p in paths:
        print(f"running {p.name}")
        run_notebook(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
