"""The one training engine: checkpoints, NaN guard, resume, Ctrl-C, RNG hygiene, configs."""

import json
import os
import pickle
import signal

import numpy as np
import pytest
import torch
from torch import nn

from rankfield import InputError, TrainingDivergedError, TrainingInterrupted, load_checkpoint
from rankfield._engine import Optim, Trainer, lr_lambda, save_checkpoint
from rankfield.inr import CoordinateMLP, FitConfig, MLPConfig, chirp, fit, fit_image, predict


def _quad_trainer(steps=100, **kw):
    w = nn.Linear(1, 1)
    x = torch.linspace(-1, 1, 16)[:, None]
    opt = Optim.scheduled(torch.optim.SGD(w.parameters(), lr=0.1), "constant", steps, 1.0)
    return w, Trainer(lambda s: {"loss": ((w(x) - 2 * x) ** 2).mean()}, {"model": w}, {"sgd": opt}, steps,
                      kind="test", progress=False, **kw)


def test_history_has_one_entry_per_log_interval_with_interval_means():
    w, tr = _quad_trainer(steps=30, log_every=10)
    tr.run()
    assert tr.history["step"] == [10, 20, 30]
    assert tr.history["loss"][0] > tr.history["loss"][1] > tr.history["loss"][2]
    assert tr.history["lr"] == [0.1, 0.1, 0.1]


def test_lr_schedules_end_where_asked():
    for kind in ("cosine", "exponential"):
        f = lr_lambda(kind, 200, 0.05)
        assert f(0) == pytest.approx(1.0) and f(200) == pytest.approx(0.05) and f(500) == pytest.approx(0.05)
    assert lr_lambda("constant", 10, 0.5)(7) == 1.0
    with pytest.raises(InputError, match="schedule"):
        lr_lambda("linear", 10, 0.1)


class _Explodes(nn.Module):
    def __init__(self, at):
        super().__init__()
        self.lin, self.calls, self.at = nn.Linear(2, 3), 0, at

    def forward(self, x):
        self.calls += 1
        y = self.lin(x)
        return y * float("nan") if self.calls > self.at else y


def test_nan_step_never_overwrites_the_last_good_checkpoint(tmp_path):
    ck = tmp_path / "ck.pt"
    cfg = FitConfig(steps=100, log_every=10, checkpoint_path=str(ck), checkpoint_every=5, progress=False)
    with pytest.raises(TrainingDivergedError, match="last good checkpoint"):
        fit(_Explodes(at=33), torch.rand(10, 2), torch.rand(10, 3), cfg)
    state = load_checkpoint(ck)
    # checkpoints every 5 steps; NaN from step 34: step 35's checkpoint is refused (non-finite), 30 stays
    assert state["step"] == 30
    assert all(torch.isfinite(v).all() for v in state["modules"]["model"].values())


def test_save_refuses_non_finite_parameters(tmp_path):
    m = nn.Linear(2, 2)
    with torch.no_grad():
        m.weight[0, 0] = float("inf")
    with pytest.raises(TrainingDivergedError, match="not finite"):
        save_checkpoint(tmp_path / "x.pt", kind="t", step=1, steps=2, modules={"m": m})
    assert not (tmp_path / "x.pt").exists() and list(tmp_path.iterdir()) == []


class _Evil:
    def __reduce__(self):
        return (os.system, (f"touch {os.environ.get('RF_MARKER', '/tmp/rf_marker')}",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_a_crafted_pickle_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("RF_MARKER", str(marker))
    for i, write in enumerate((lambda obj, f: torch.save(obj, f), lambda obj, f: pickle.dump(obj, open(f, "wb")))):
        evil = tmp_path / f"evil{i}.pt"
        write({"format": "rankfield-checkpoint", "payload": _Evil()}, evil)
        with pytest.raises(InputError, match="refused to load"):
            load_checkpoint(evil)
        assert not marker.exists()
    from rankfield.cli import main
    assert main(["fit-signal", "--resume", str(evil), "--out", str(tmp_path / "o"), "--steps", "2"]) == 2
    assert not marker.exists() and not (tmp_path / "o").exists()


def test_checkpoints_hold_plain_data_only(tmp_path):
    ck = tmp_path / "ck.pt"
    fit(CoordinateMLP(in_features=1, out_features=1, width=8), *chirp(32),
        FitConfig(steps=3, checkpoint_path=str(ck), progress=False))
    raw = torch.load(ck, weights_only=True)  # would raise if anything but plain data were inside
    assert raw["format"] == "rankfield-checkpoint" and raw["kind"] == "inr.fit" and raw["step"] == 3
    assert raw["config"]["steps"] == 3 and raw["extra"]["model_config"]["width"] == 8
    assert not list(tmp_path.glob(".*tmp"))  # no temp file left behind


def _interrupt_at(step):
    def cb(trainer, record):
        if trainer.step == step:
            os.kill(os.getpid(), signal.SIGINT)
    return cb


def test_sigint_checkpoints_and_resume_is_bit_identical(tmp_path):
    t, y = chirp(200)
    mk = lambda: CoordinateMLP(in_features=1, out_features=1, activation="sine", width=32, seed=4)  # noqa: E731
    cfg = dict(steps=120, log_every=20, batch_size=64, progress=False)  # mini-batches: the RNG state matters
    before = signal.getsignal(signal.SIGINT)  # (SIG_IGN when the suite runs as a background job)
    straight = fit(mk(), t, y, FitConfig(**cfg))
    ck = tmp_path / "ck.pt"
    with pytest.raises(TrainingInterrupted) as info:
        fit(mk(), t, y, FitConfig(checkpoint_path=str(ck), **cfg), callbacks=[_interrupt_at(80)])
    assert info.value.step == 80 and info.value.checkpoint == str(ck)
    assert load_checkpoint(ck)["step"] == 80
    resumed = fit(mk(), t, y, FitConfig(checkpoint_path=str(ck), **cfg), resume=ck)
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    assert resumed.history["step"] == straight.history["step"] == [20, 40, 60, 80, 100, 120]
    assert resumed.history["loss"] == straight.history["loss"]
    assert signal.getsignal(signal.SIGINT) is before  # the caller's handler was restored


def test_resume_validates_what_it_continues(tmp_path):
    t, y = chirp(64)
    ck = tmp_path / "ck.pt"
    base = dict(steps=20, progress=False, checkpoint_path=str(ck), checkpoint_every=10)
    fit(CoordinateMLP(in_features=1, out_features=1, width=8), t, y, FitConfig(**base))
    with pytest.raises(InputError, match="another model"):  # same shapes, another activation
        fit(CoordinateMLP(in_features=1, out_features=1, width=8, activation="sine"), t, y, FitConfig(**base), resume=ck)
    with pytest.raises(InputError, match="another model"):
        fit(CoordinateMLP(in_features=1, out_features=1, width=16), t, y, FitConfig(**base), resume=ck)
    with pytest.raises(InputError, match="lr="):
        fit(CoordinateMLP(in_features=1, out_features=1, width=8), t, y, FitConfig(lr=0.1, **base), resume=ck)
    with pytest.raises(InputError, match="at step 20"):  # nothing left to do
        fit(CoordinateMLP(in_features=1, out_features=1, width=8), t, y, FitConfig(**base), resume=ck)
    other = tmp_path / "nerf.pt"
    save_checkpoint(other, kind="nerf.train_scene", step=1, steps=5, modules={"m": nn.Linear(1, 1)})
    with pytest.raises(InputError, match="nerf.train_scene"):
        fit(CoordinateMLP(in_features=1, out_features=1, width=8), t, y, FitConfig(**base), resume=other)
    (tmp_path / "junk.pt").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="not a plain-data rankfield checkpoint"):
        fit(CoordinateMLP(in_features=1, out_features=1, width=8), t, y, FitConfig(**base), resume=tmp_path / "junk.pt")


def test_continuing_longer_keeps_the_schedule_instead_of_stretching_it(tmp_path):
    t, y = chirp(64)
    ck = tmp_path / "ck.pt"
    mk = lambda: CoordinateMLP(in_features=1, out_features=1, width=8)  # noqa: E731
    first = fit(mk(), t, y, FitConfig(steps=40, log_every=10, progress=False, checkpoint_path=str(ck)))
    more = fit(mk(), t, y, FitConfig(steps=60, log_every=10, progress=False, checkpoint_path=str(ck)), resume=ck)
    lr_end = first.history["lr"][-1]
    assert lr_end == pytest.approx(1e-4)  # cosine from 1e-3 to lr/10 over the planned 40 steps
    assert more.history["lr"][4:] == [pytest.approx(lr_end)] * 2  # held at the end value, no jump back up


def test_the_callers_rng_state_is_untouched():
    torch.manual_seed(1234)
    np.random.seed(99)
    before, before_np = torch.get_rng_state(), np.random.get_state()[1].copy()
    model = CoordinateMLP(in_features=2, out_features=3, activation="relu", init="rank_expanding", width=16)
    fit_image(torch.rand(8, 8, 3, generator=torch.Generator().manual_seed(0)), model=model,
              config=FitConfig(steps=3, batch_size=16, progress=False))
    from rankfield.dynamics import RKTVConfig, RKTVDenoiser
    RKTVDenoiser(RKTVConfig(steps=3, progress=False)).fit(np.sin(np.linspace(0, 3, 30))[:, None], 0.1)
    from rankfield.nerf import planar
    planar.solve_planar(planar.make_planar_problem(seed=0), "warp", planar.PlanarConfig(steps=2, width=8))
    assert torch.equal(torch.get_rng_state(), before)
    assert np.array_equal(np.random.get_state()[1], before_np)


def test_models_built_with_one_seed_are_identical_whatever_the_global_state():
    torch.manual_seed(1)
    a = CoordinateMLP(width=16, activation="sine", seed=7)
    torch.manual_seed(2)
    b = CoordinateMLP(width=16, activation="sine", seed=7)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_full_precision_by_default_and_dtypes_respected():
    assert FitConfig().amp is False
    model = CoordinateMLP(in_features=2, out_features=1, width=16, activation="sine")
    x = torch.rand(50, 2) * 2 - 1
    assert torch.allclose(predict(model, x, chunk=7), model(x).detach(), atol=1e-6, rtol=0)  # fp32, not bf16
    # float64 inputs on a float32 model are cast; a float64 model keeps float64 end to end
    res = fit(model, x.double(), torch.rand(50, 1, dtype=torch.float64), FitConfig(steps=2, progress=False))
    assert res.history["step"] == [2]
    m64 = CoordinateMLP(in_features=2, out_features=1, width=16).double()
    fit(m64, x.double(), torch.rand(50, 1, dtype=torch.float64), FitConfig(steps=2, progress=False))
    assert predict(m64, x).dtype == torch.float64
    with pytest.raises(InputError, match="real numbers"):
        fit(model, torch.ones(4, 2, dtype=torch.bool), torch.rand(4, 1), FitConfig(steps=1, progress=False))


def test_plotting_never_chooses_a_matplotlib_backend(tmp_path):
    import matplotlib

    backend = matplotlib.rcParams._get_backend_or_none() if hasattr(matplotlib.rcParams, "_get_backend_or_none") \
        else matplotlib.rcParams["backend"]
    from rankfield.inr.plotting import save_curves
    save_curves(tmp_path / "c.png", {"step": [1, 2], "psnr": [10.0, 12.0]})
    now = matplotlib.rcParams._get_backend_or_none() if hasattr(matplotlib.rcParams, "_get_backend_or_none") \
        else matplotlib.rcParams["backend"]
    assert now == backend and (tmp_path / "c.png").stat().st_size > 1000


def test_configs_round_trip_through_json():
    from rankfield.dynamics import RKTVConfig
    from rankfield.nerf import FieldConfig, RenderConfig, TrainConfig, WarpConfig
    from rankfield.nerf.planar import PlanarConfig

    for cfg in (FitConfig(steps=7, betas=(0.8, 0.9)), MLPConfig(encoding="positional", encoding_options={"n": 3}),
                TrainConfig(render=RenderConfig(n_samples=12)), FieldConfig(coarse_to_fine=None), WarpConfig(),
                RKTVConfig(steps=5), PlanarConfig(c2f=(0.0, 0.4))):
        back = type(cfg).from_dict(json.loads(json.dumps(cfg.to_dict())))
        assert back == cfg and back.validate() == cfg
    with pytest.raises(InputError, match="unknown setting"):
        FitConfig.from_dict({"stepz": 3})
    with pytest.raises(InputError, match="must be one of adam, muon"):
        FitConfig(optimizer="sgd").validate()
    with pytest.raises(InputError, match="finite"):
        FitConfig(lr=float("inf")).validate()
    with pytest.raises(InputError, match="FieldConfig.encoding must be one of positional, hashgrid, none"):
        FieldConfig(encoding="fourier").validate()
    with pytest.raises(InputError, match="seed"):
        MLPConfig(seed=-1).validate()


def test_registries_drive_validation_and_cli_choices():
    from rankfield.cli import build_parser
    from rankfield.inr.activations import ACTIVATIONS
    from rankfield.nerf.poses import POSE_MODELS

    sub = build_parser()._rankfield_commands
    choices = {a.dest: a.choices for a in sub["fit-image"]._actions}
    assert tuple(choices["activation"]) == ACTIVATIONS.names() == ("relu", "sine", "finer", "gauss", "wire")
    assert tuple({a.dest: a.choices for a in sub["fit-scene"]._actions}["pose_model"]) == POSE_MODELS.names()
    with pytest.raises(InputError, match="unknown activation 'swish'; choose one of relu"):
        MLPConfig(activation="swish").validate()


def test_all_loops_run_on_the_engine(monkeypatch):
    """Every training loop of the library goes through Trainer.run (one engine)."""
    import rankfield._engine as engine

    kinds = []
    run = engine.Trainer.run

    def recording_run(self):
        kinds.append(self.kind)
        return run(self)

    monkeypatch.setattr(engine.Trainer, "run", recording_run)
    t, y = chirp(32)
    fit(CoordinateMLP(in_features=1, out_features=1, width=8), t, y, FitConfig(steps=2, progress=False))
    from rankfield.dynamics import RKTVConfig, RKTVDenoiser
    RKTVDenoiser(RKTVConfig(steps=2, progress=False)).fit(np.sin(np.linspace(0, 3, 30))[:, None], 0.1)
    from rankfield.nerf import planar
    planar.solve_planar(planar.make_planar_problem(seed=0), "homography", planar.PlanarConfig(steps=2, width=8))
    import tempfile

    from rankfield.nerf import (FieldConfig, TrainConfig, generate_procedural_scene, load_blender, perturb_poses_barf,
                                fit_pose_nerf)
    root = generate_procedural_scene(tempfile.mkdtemp(), n_train=3, n_test=1, size=8)
    tr, te = load_blender(root, "train"), load_blender(root, "test")
    fit_pose_nerf(tr, te, perturb_poses_barf(tr.poses, 0.05), "se3", field_config=FieldConfig(width=8, depth=1),
                  train_config=TrainConfig(steps=2, rays_per_step=16, progress=False), test_time_refine=2)
    assert set(kinds) == {"inr.fit", "dynamics.rktv", "nerf.planar", "nerf.train_scene", "nerf.refine_test_poses"}


def test_request_stop_ends_the_run_and_vector_values_are_logged_per_element(tmp_path):
    import torch as _t
    from rankfield._engine import Optim, Trainer
    w = _t.nn.Parameter(_t.zeros(3))
    target = _t.tensor([1.0, 2.0, 3.0])

    def step_fn(step):
        each = (w - target) ** 2
        return {"loss": each.sum(), "each": each}

    def stop_after_40(trainer, record):
        if record["step"] >= 40:
            trainer.request_stop()

    m = _t.nn.Module()
    m.w = w
    tr = Trainer(step_fn, {"m": m}, {"o": Optim(_t.optim.SGD([w], lr=0.1))}, 100, kind="t", log_every=20,
                 progress=False, callbacks=[stop_after_40], checkpoint_path=tmp_path / "ck.pt")
    hist = tr.run()
    assert tr.step == 40 and hist["step"] == [20, 40]
    assert len(hist["each"][-1]) == 3  # one value per element, interval means
    expected = ((target * 0.8 ** _t.arange(20, 40)[:, None]) ** 2).mean(0)  # steps 20..39; SGD: w - t shrinks by 0.8 a step
    assert hist["each"][-1] == pytest.approx(expected.tolist(), rel=1e-4)
    from rankfield._engine import load_checkpoint
    assert load_checkpoint(tmp_path / "ck.pt")["step"] == 40  # the stop wrote a final checkpoint
