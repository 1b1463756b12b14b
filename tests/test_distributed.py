"""Data parallelism with torch.distributed: two gloo processes on CPU against one process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from rankfield._engine import process_share
from rankfield.inr import CoordinateMLP, FitConfig, fit


def _data():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(301, 2, generator=g) * 2 - 1  # 301: the processes' shares differ in size
    y = torch.sin(3 * x[:, :1]) * torch.cos(2 * x[:, 1:]) + 0.1 * torch.rand(301, 1, generator=g)
    return x, y


def _model():
    return CoordinateMLP(in_features=2, out_features=1, activation="sine", width=32, depth=2, omega0=10.0, seed=5)


def _config(tmp, **kw):
    return FitConfig(steps=kw.pop("steps", 40), lr=1e-3, progress=False, log_every=20, seed=1, device="cpu", **kw)


def _init(rank, world, store):
    # loopback: the CI machine's hostname may resolve to an interface gloo connects through unreliably
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group("gloo", init_method=store, rank=rank, world_size=world)


def _worker(rank, world, tmp, batch_size, steps, resume):
    _init(rank, world, f"file://{tmp}/store")
    try:
        torch.set_num_threads(1)
        x, y = _data()
        copied = {}

        def keep_step_20(trainer, record):  # the checkpoint on disk at step 40's log is the one of step 20
            if record["step"] == 40 and rank == 0 and Path(f"{tmp}/ck.pt").exists():
                shutil.copy(f"{tmp}/ck.pt", f"{tmp}/ck20.pt")
                copied["ok"] = True

        cfg = _config(tmp, steps=steps, batch_size=batch_size, checkpoint_path=f"{tmp}/ck.pt", checkpoint_every=20)
        res = fit(_model(), x, y, cfg, resume=resume, callbacks=[keep_step_20])
        if rank == 0:
            torch.save({"params": [p.detach() for p in res.model.parameters()], "loss": res.history["loss"]},
                       f"{tmp}/result.pt")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _run_two(tmp, batch_size=None, steps=40, resume=None):
    mp.spawn(_worker, args=(2, str(tmp), batch_size, steps, resume), nprocs=2, join=True)
    return torch.load(f"{tmp}/result.pt", weights_only=True)


def test_process_share_alone_is_everything():
    assert process_share(7) == (slice(0, 7), 1.0)


@pytest.mark.parametrize("batch_size", [None, 64])
def test_two_gloo_processes_match_one(tmp_path, batch_size):
    two = _run_two(tmp_path, batch_size)
    x, y = _data()
    one = fit(_model(), x, y, _config(tmp_path, batch_size=batch_size))
    for p, q in zip(two["params"], one.model.parameters()):
        torch.testing.assert_close(p, q.detach(), atol=2e-5, rtol=1e-4)
    # the logged loss is the whole batch's (the shares' weighted average)
    assert two["loss"] == pytest.approx(one.history["loss"], rel=1e-4)
    # a rank other than 0 wrote nothing: the checkpoint is rank 0's and holds the shared state
    assert (tmp_path / "ck.pt").exists()


def test_resume_with_another_number_of_processes(tmp_path):
    _run_two(tmp_path, steps=40)  # keeps the step-20 checkpoint of the 2-process run as ck20.pt
    assert (tmp_path / "ck20.pt").exists()
    x, y = _data()
    resumed = fit(_model(), x, y, _config(tmp_path), resume=tmp_path / "ck20.pt")
    alone = fit(_model(), x, y, _config(tmp_path))
    for p, q in zip(resumed.model.parameters(), alone.model.parameters()):
        torch.testing.assert_close(p, q, atol=2e-5, rtol=1e-4)


def test_torchrun_cli_writes_once_and_matches_one_process(tmp_path):
    common = ["fit-image", "--size", "16", "--width", "16", "--depth", "2", "--steps", "20", "--no-progress",
              "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "GLOO_SOCKET_IFNAME": os.environ.get("GLOO_SOCKET_IFNAME", "lo")}
    two = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          "-m", "rankfield", *common, "--out", str(tmp_path / "two")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert two.returncode == 0, two.stderr[-2000:]
    one = subprocess.run([sys.executable, "-m", "rankfield", *common, "--out", str(tmp_path / "one")],
                         capture_output=True, text=True, env=env, timeout=300)
    assert one.returncode == 0, one.stderr[-2000:]
    m2 = json.loads((tmp_path / "two" / "metrics.json").read_text())
    m1 = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert m2["psnr"] == pytest.approx(m1["psnr"], abs=1e-3)
    assert two.stdout.count("PSNR") == 1  # only rank 0 prints
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    assert not list(Path(os.environ.get("TMPDIR", "/tmp")).glob("rankfield-rank1-*"))


def _many_worker(rank, world, tmp):
    _init(rank, world, f"file://{tmp}/store_many")
    try:
        torch.set_num_threads(1)
        from rankfield.inr import fit_many
        x, _ = _data()
        ys = torch.stack([torch.sin(k * x[:, :1]) for k in range(1, 6)])
        nets = [_model_seeded(i) for i in range(5)]
        res = fit_many(nets, x, ys, _config(tmp, steps=30), chunk_size=2)
        torch.save({"params": [[p.detach() for p in m.parameters()] for m in nets], "psnr": res.history["psnr"],
                    "metrics": res.metrics}, f"{tmp}/many{rank}.pt")
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _model_seeded(i):
    return CoordinateMLP(in_features=2, out_features=1, activation="sine", width=16, depth=2, omega0=10.0, seed=i)


def test_fit_many_splits_signals_among_processes(tmp_path):
    from rankfield.inr import fit_many
    mp.spawn(_many_worker, args=(2, str(tmp_path)), nprocs=2, join=True)
    x, _ = _data()
    ys = torch.stack([torch.sin(k * x[:, :1]) for k in range(1, 6)])
    nets = [_model_seeded(i) for i in range(5)]
    alone = fit_many(nets, x, ys, _config(tmp_path, steps=30), chunk_size=2)
    for rank in (0, 1):  # every process ends with all five trained networks and the full history
        got = torch.load(tmp_path / f"many{rank}.pt", weights_only=True)
        for params, net in zip(got["params"], nets):
            for p, q in zip(params, net.parameters()):
                torch.testing.assert_close(p, q.detach(), atol=1e-6, rtol=1e-5)
        np.testing.assert_allclose(got["psnr"], alone.history["psnr"], atol=1e-4)
        assert [m["steps"] for m in got["metrics"]] == [30] * 5
