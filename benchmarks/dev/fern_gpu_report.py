"""Report of the fern-from-identity GPU sweeps (``fern_gpu_sweep.sh``, one H200, 2026-12-04).

    python benchmarks/dev/fern_gpu_report.py

Reads ``fern_gpu_sweep{1,2}.jsonl`` (final numbers), ``fern_gpu_logs/*.log`` (pose errors every 500 steps) and
``gpu_h200_a.json`` (the suite's SIREN and hash-grid parts) beside this file; writes the section
``fern_gpu_dev`` of docs/benchmarks.md, ``docs/fern_gpu_sweep.json`` (raw numbers) and
``docs/fern_gpu_curves.png``. Measures nothing itself.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from _report import DOCS, markdown_table, write_section  # noqa: E402

GT_SPREAD = 0.2523  # mean distance of fern's GT camera centres from their mean (loader's units)
DESCRIBE = {
    "se3_suite": "se3, the suite's setting: 4x128 field, 8 bands, 1024 rays x 64 samples, field LR 1e-3, pose 3e-3 -> 1e-4",
    "se3_suite_rays4096": "se3, suite setting with 4096 rays a step",
    "se3_suite_lrpose1e-3": "se3, suite setting, pose LR 1e-3 -> 1e-5",
    "se3_suite_lrfield3e-4": "se3, suite setting, field LR 3e-4 -> 3e-5",
    "se3_barf": "se3, BARF's LLFF field: 8x256 with a skip, 10 bands, 2048 rays x 128 samples, pose 3e-3 -> 1e-5",
    "se3_barf_far": "se3, BARF's field and depth range: near 1, far 1000 (BARF samples disparity down to 0)",
    "se3_barf_lrpose1e-3": "se3, BARF's field, pose LR 1e-3 -> 1e-5",
    "warp_suite": "invertible warp, suite setting",
    "warp_suite_lrpose1e-3": "invertible warp, suite setting, pose LR 1e-3 -> 1e-5",
    "se3_suite_from_gt_warm500": "control: se3 started AT the GT poses, poses frozen for 500 steps, suite setting",
}


def load():
    finals = [json.loads(line) for f in sorted(HERE.glob("fern_gpu_sweep*.jsonl")) for line in f.read_text().splitlines()]
    curves = {}
    for log in sorted((HERE / "fern_gpu_logs").glob("*.log")):
        pts, tag = [], None
        for line in log.read_text().splitlines():
            if line.startswith('{"step"'):
                pts.append(json.loads(line))
            elif line.startswith('{"tag"'):
                tag = json.loads(line)["tag"]
        if tag:
            curves[tag] = pts
    return finals, curves


def plot(curves, path):
    import matplotlib
    matplotlib.use("Agg")  # a script, not the library
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for tag, pts in curves.items():
        steps = [p["step"] for p in pts]
        ls = "--" if "from_gt" in tag else "-"
        axes[0].plot(steps, [p["rel_rot"] for p in pts], ls, label=tag)
        axes[1].plot(steps, [p["raw_spread"] / GT_SPREAD for p in pts], ls, label=tag)
    axes[0].set(xlabel="step", ylabel="relative rotation error (deg)", title="gauge-free rotation error")
    axes[1].set(xlabel="step", ylabel="camera-centre spread / GT's", title="how far the cameras spread")
    axes[1].axhline(1.0, color="k", lw=0.5)
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    finals, curves = load()
    suite = json.loads((HERE / "gpu_h200_a.json").read_text())
    rows = []
    for d in finals:
        c = curves.get(d["tag"], [])
        rows.append({"run": d["tag"], "steps": d["steps"], "minutes": d["seconds"] / 60,
                     "rot Sim(3) (deg)": d["rot"], "relative rot (deg)": d["rel_rot"], "trans (x100)": d["trans100"],
                     "centre spread / GT": (c[-1]["raw_spread"] / GT_SPREAD) if c else float("nan"),
                     "train PSNR": d["psnr_last100"]})
    rows.sort(key=lambda r: r["relative rot (deg)"])
    raw = {"device": suite["device"], "torch": suite["torch"], "date": "2026-12-04", "gt_centre_spread": GT_SPREAD,
           "runs": [{**{k: v for k, v in d.items() if k != "poses"}, "curve": curves.get(d["tag"], [])} for d in finals],
           "suite_parts": suite["parts"]}
    (DOCS / "fern_gpu_sweep.json").write_text(json.dumps(raw, indent=1))
    plot(curves, DOCS / "fern_gpu_curves.png")
    sp, hg = suite["parts"]["siren_speed"], suite["parts"]["hashgrid_to_30db"]
    body = "\n".join([
        f"Measured on: {suite['device']}, torch {suite['torch']}, 2026-12-04 (two 10-minute calls of the lent machine; "
        "this section is written on the CPU from their outputs: `benchmarks/dev/fern_gpu_report.py`). Raw numbers: "
        "`fern_gpu_sweep.json`.",
        "",
        "**Quick suite parts** (`python benchmarks/gpu_suite.py --parts tests,siren,hashgrid`): SIREN 3x256 on "
        f"512x512, full batch, {sp['rankfield_fp32_steps_per_s']:.1f} steps/s fp32 ({sp['ratio_fp32']:.2f}x a plain "
        f"PyTorch loop), {sp['rankfield_bf16_steps_per_s']:.1f} bf16 ({sp['ratio_bf16']:.2f}x); pure-PyTorch hash grid "
        f"to 30 dB on a 512x512 image in {hg['torch_steps_to_30db']:.0f} steps, {hg['torch_seconds_to_30db']:.1f} s. "
        "The `gpu` tests, run by path with PySINDy carried as wheels (`pytest -m gpu tests/inr/test_gpu.py "
        "tests/dynamics/test_denoise.py`): 5 passed. (The suite's own `tests` part collects the whole tree and "
        "stopped at 18 collection errors: the GPU image has no PySINDy.)",
        "",
        "**Fern 1/8 (504x378, 20 frames) from identity poses** (nine runs, and one control started at GT), development seed 1 (the suite's fern part uses 0), "
        "several configurations at once on the one GPU (each process is small next to it; a timed probe set each "
        "run's step count to fill its budget: 5 minutes in the first call, 4 in the second). Sorted by the "
        "gauge-free relative rotation error: the mean over frame pairs of the angle between estimated and GT "
        "`R_i^T R_j` (identity poses: 7.76 deg). The Sim(3) rotation error is ill-conditioned on fern, whose "
        "camera centres lie close to a line (std 0.27 / 0.09 / 0.03 along x / y / z), so a rotation about that "
        "line is barely fixed by the centres: the rows that read 150-180 deg say more about the alignment than about "
        "the poses (their relative errors are 5.9-11.0 deg).",
        "",
        markdown_table(rows),
        "![fern from identity on one H200: relative rotation error and camera spread per step](fern_gpu_curves.png)",
        "",
        "Runs: " + "; ".join(f"`{k}`: {v}" for k, v in DESCRIBE.items()) + ".",
        "",
        "What it shows: **no configuration registers fern from identity within 3-5 GPU minutes** (the issue's "
        "target: < 0.5 deg within 10 minutes; best relative rotation error 4.4 deg). Every run settles where the "
        "2-core CPU runs at 1/16 settle (`fern_identity.py`, 3000-6000 steps: 4.4-5.2 deg): the cameras move "
        "*part* of the way, rotations and translations alike (frame by frame about 40-50% of the GT motion, "
        "centre spread 0.3-0.85 of GT's); at the suite's field size their training PSNR (18.3-19.5 dB) stays "
        "below the control's at GT (20.5). A field 8x larger (BARF's), a lower pose LR or BARF's depth range end "
        "within 0.7 deg of the suite's setting at best (4.4-5.0 deg); 4x the rays and a lower field LR end worse "
        "(11.0, 6.7 deg). The control started at GT says why: the moment the poses are released (step 500, the field still "
        "blurry: coarse-to-fine has not opened a band yet), Adam's normalised steps move them 4.3 deg away within "
        "500 steps, and they find their way back only slowly (1.34 deg after 12000 steps, 4 minutes), so GT is "
        "an attractor of the joint optimisation but a weak one next to the early drift while the field is young "
        "(on the CPU, poses freed at GT once all bands are open stay at 0.5 deg, and a run with every band open "
        "from the start ends where the others do: it is the young field, not coarse-to-fine as such).",
    ])
    print(body)
    write_section("fern_gpu_dev", "Fern from identity on a GPU: development sweeps (benchmarks/dev/fern_gpu_sweep.sh)",
                  body)


if __name__ == "__main__":
    main()
