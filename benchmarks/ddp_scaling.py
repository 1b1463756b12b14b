"""Data parallelism: the same command with 1 process and with N processes under torchrun.

Runs each job once per process count, side by side, and reports training seconds, the ratio and the
result (PSNR), so the README can say when several processes pay. On a CPU the processes share the
machine's cores: 1 process gets all threads, N processes get threads/N each (what torchrun does).

CPU default (~4 min on 2 cores):  python benchmarks/ddp_scaling.py
On GPUs:                          python benchmarks/ddp_scaling.py --nproc 2 --device cuda
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import DOCS, markdown_table, write_section  # noqa: E402

JOBS = {
    "fit-image 256x256, SIREN 3x256, full batch": ["fit-image", "--size", "256", "--width", "256", "--steps", "60"],
    "fit-image 64x64, SIREN 3x64, full batch": ["fit-image", "--size", "64", "--width", "64", "--steps", "200"],
    "fit-scene procedural, 480 rays a step": ["fit-scene", "--steps", "200", "--test-time-refine", "0"],
}


def run(job: list[str], nproc: int, threads: int, device: str, out: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(max(1, threads // nproc))}
    cmd = [sys.executable, "-m", "rankfield", *job, "--no-progress", "--device", device, "--out", str(out)]
    if nproc > 1:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               *cmd[1:]]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"ddp_scaling: {' '.join(job)} with {nproc} process(es) failed: {proc.stderr[-500:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    text = proc.stdout
    seconds = metrics.get("train_time_s") or metrics.get("train_seconds")
    if seconds is None:
        m = re.search(r"; ([0-9.]+) s", text)
        seconds = float(m.group(1)) if m else wall
    psnr = metrics.get("psnr", metrics.get("train_psnr_last100", float("nan")))
    return {"train_s": float(seconds), "wall_s": wall, "psnr": float(psnr)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads shared by the processes")
    p.add_argument("--device", default="cpu")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, job in JOBS.items():
            r1 = run(job, 1, args.threads, args.device, Path(tmp) / "one")
            rn = run(job, args.nproc, args.threads, args.device, Path(tmp) / "many")
            row = {"job": name, "1 process: train s": r1["train_s"], f"{args.nproc} processes: train s": rn["train_s"],
                   "speedup (train)": r1["train_s"] / rn["train_s"], "1 process: wall s": r1["wall_s"],
                   f"{args.nproc} processes: wall s": rn["wall_s"], "PSNR 1": r1["psnr"], f"PSNR {args.nproc}": rn["psnr"]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    table = markdown_table(rows)
    print(table)
    if args.no_write:
        return 0
    body = (f"Each job run with 1 process and under `torchrun --standalone --nproc_per_node={args.nproc}` "
            f"({args.device}; on the CPU the {args.threads} threads are split among the processes). `train s` is "
            "the training time the command reports, `wall s` includes start-up (torchrun, imports) and "
            "evaluation, which every process repeats. PSNR: the result (fit-image: the image; fit-scene: "
            "training PSNR of the last steps), which should agree within run-to-run noise (fit-scene's sample "
            f"jitter differs per process).\n\n{table}\n")
    write_section("ddp_scaling", "Data parallelism: 1 process against several (torchrun)", body)
    (DOCS / "ddp_scaling.json").write_text(json.dumps({"settings": vars(args), "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
