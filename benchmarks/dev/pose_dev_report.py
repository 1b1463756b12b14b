"""Issue 33's development measurements as one section of docs/benchmarks.md (`pose_nerf_dev`) with a figure.

Reads the logs of `fern_basin.py`, `fern_identity.py` (GT controls and BARF-prefix runs) and `file_poses_exp.py`
in benchmarks/dev/ and draws docs/pose_nerf_dev.png: the basin curve of fields trained at GT, and the per-step
relative rotation error of the fern runs.

    .venv/bin/python benchmarks/dev/pose_dev_report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # a script, not the library
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _report import DOCS, markdown_table, write_section  # noqa: E402


def read_runs(path: Path) -> list[dict]:
    """fern_identity.py logs: one dict per run with its curve (probe lines before the final line)."""
    runs, curve = [], []
    for line in path.read_text().splitlines():
        d = json.loads(line)
        if "tag" in d:
            runs.append({**d, "curve": curve})
            curve = []
        elif "step" in d:
            curve.append(d)
    return runs


def main():
    basin = [json.loads(x) for x in (HERE / "fern_basin.log").read_text().splitlines()]
    runs = []
    for name in ("fern_gt_control.log", "fern_barf_prefix.log", "fern_coarse_gt.log"):
        if (HERE / name).exists():
            runs += read_runs(HERE / name)
    fig, ax = plt.subplots(1, 2, figsize=(15, 4.5), gridspec_kw={"width_ratios": [1, 1.3]})
    for b in basin:
        degs = [float(k) for k in b["mse_ratio"]]
        ax[0].plot(degs, list(b["mse_ratio"].values()), "o-",
                   label=b.get("tag") or " ".join(b["set"]) or "default (bound 2, 6 bands)")
    ax[0].set(xlabel="rotation injected into every camera (deg)", ylabel="photometric MSE / MSE at GT",
              title="fern 1/16: basin of a field trained at GT poses")
    ax[0].legend(fontsize=8)
    for r in runs:  # at step 0: 0 deg from GT, 7.76 deg from identity
        ls = "-" if r["init"] == "gt" else "--"
        ax[1].plot([c["step"] for c in r["curve"]], [c["rel_rot"] for c in r["curve"]], ls, label=r["tag"].strip())
    ax[1].axhline(1.0, color="k", lw=0.5, ls=":")
    ax[1].axhline(7.76, color="grey", lw=0.5, ls=":")
    ax[1].set(xlabel="step", ylabel="relative rotation error (deg)", xscale="log",
              title="fern 1/16, se(3), seed 1: from GT (solid), from identity (dashed)")
    ax[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    png = DOCS / "pose_nerf_dev.png"
    fig.savefig(png, dpi=110)
    rows_b = [{"field": b.get("tag") or " ".join(b["set"]) or "default", "steps": b["steps"],
               "train PSNR": b["train_psnr_last100"], "GT refined, frozen field (deg)": b.get("refined_rel_rot", ""),
               **{f"{k} deg": v for k, v in b["mse_ratio"].items() if k != "0.0"}} for b in basin]
    rows_r = [{"run": r["tag"].strip(), "steps": r["steps"], "most on the way": max(c["rel_rot"] for c in r["curve"]),
               "final relative rotation (deg)": r["rel_rot"], "Sim(3) rotation": r["rot"],
               "train PSNR": r["psnr_last100"], "minutes": round(r["seconds"] / 60, 1)} for r in runs]
    body = ("Development measurements for issue 33 (dev seed 1, not the benchmark's seed 0; 480 rays x 24 samples, "
            "the CPU field 3x64), from the logs of `benchmarks/dev/fern_basin.py` and `fern_identity.py` "
            "(journal: `benchmarks/dev/README.md`).\n\n"
            "![basin and curves](pose_nerf_dev.png)\n\n"
            "**Basin.** A field trained at GT poses, frozen; every camera turned by the angle about its own centre; "
            "MSE over 2048 fixed pixels a frame, relative to GT's:\n\n" + markdown_table(rows_b) +
            "\n**Runs** (`--init gt`: the control, poses free from step 0 at GT; `identity`: BARF's LLFF protocol). "
            "Relative rotation error: alignment-free, against GT's relative rotations:\n\n" + markdown_table(rows_r))
    write_section("pose_nerf_dev", "Pose NeRF development: basin, GT control, BARF's schedule (issue 33)", body)
    print(markdown_table(rows_r))


if __name__ == "__main__":
    main()
