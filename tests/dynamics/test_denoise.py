import numpy as np
import pysindy as ps
import pytest
import torch

from rankfield.dynamics import RKTVConfig, RKTVDenoiser, add_noise, denoise, get_system, metrics
from rankfield.errors import InputError

FAST = dict(steps=400, progress=False)


def _vdp(n=300, noise=0.1, seed=0):
    system = get_system("vanderpol")
    t, x = system.simulate(n_samples=n)
    return t, x, system.rhs(x), add_noise(x, noise, seed=seed)


def test_denoiser_beats_finite_differences_by_a_margin():
    t, x, dx, y = _vdp()
    den = RKTVDenoiser(RKTVConfig(**FAST)).fit(y, t)
    err = metrics.derivative_error(den.derivative(t), dx)
    err_fd = metrics.derivative_error(ps.FiniteDifference()(y, t), dx)
    assert err < 0.4 * err_fd, (err, err_fd)
    assert metrics.state_error(den.predict(t), x) < 0.7 * metrics.state_error(y, x)


def test_evaluates_anywhere_and_handles_nonuniform_sampling():
    system = get_system("vanderpol")
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 20, 300))
    t[0], t[-1] = 0.0, 20.0
    _, x = system.simulate(t=t)
    den = RKTVDenoiser(RKTVConfig(**FAST)).fit(add_noise(x, 0.05, seed=1), t)
    tq = np.linspace(1, 19, 157)  # between the samples
    _, xq = system.simulate(t=np.concatenate([[0.0], tq]))
    xq = xq[1:]
    assert metrics.state_error(den.predict(tq), xq) < 0.05
    assert metrics.derivative_error(den.derivative(tq), system.rhs(xq)) < 0.2


def test_several_trajectories_get_one_network_each():
    t, x, _, y = _vdp(n=150)
    den = RKTVDenoiser(RKTVConfig(steps=50, progress=False)).fit([y, y[::-1] * 0.5 + 0.1], t)
    assert len(den.fits_) == 2
    assert den.predict(t, trajectory=1).shape == (150, 2)
    with pytest.raises(InputError, match="trajectory"):
        den.predict(t, trajectory=2)


def test_seeded_fits_are_reproducible():
    t, _, _, y = _vdp(n=100)
    a = denoise(y, t, steps=30, progress=False)[1]
    b = denoise(y, t, steps=30, progress=False)[1]
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_manual_derivative_matches_autograd():
    from rankfield.dynamics.denoise import _value_and_derivative
    from rankfield.inr import CoordinateMLP

    net = CoordinateMLP(in_features=1, out_features=3, activation="sine", width=16, depth=2, omega0=5.0)
    s = torch.linspace(-1, 1, 17)[:, None].requires_grad_(True)
    _, d = _value_and_derivative(net, s)
    y = net(s)
    ref = torch.stack([torch.autograd.grad(y[:, k].sum(), s, retain_graph=True)[0][:, 0] for k in range(3)], 1)
    torch.testing.assert_close(d, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("bad, match", [
    (dict(steps=0), "steps"), (dict(weight_tv=-1.0), "weight_tv"), (dict(weight_data=0.0), "weight_data"),
    (dict(rk_anchor="x"), "rk_anchor"), (dict(tv_target="x"), "tv_target"), (dict(lr=0.0), "lr"),
    (dict(stop_tol=0.0), "stop_tol"), (dict(stop_tol=1.0), "stop_tol"), (dict(stop_tol=True), "stop_tol")])
def test_config_errors(bad, match):
    with pytest.raises(InputError, match=match):
        RKTVDenoiser(RKTVConfig(**bad))


class _History:
    def __init__(self, losses):
        self.history, self.stopped = {"loss": losses}, False

    def request_stop(self):
        self.stopped = True


@pytest.mark.parametrize("losses, stops", [
    ([1.0, 0.999, 0.998, 0.997, 0.996], True),   # 0.4% over 200 steps < 1%
    ([1.0, 0.9, 0.8, 0.7, 0.6], False),          # still falling 40%
    ([1.0, 0.999, 0.998, 0.997], False),         # too early to judge (fewer than 200 steps)
    ([2.0, 1.0, 1.0, 1.0, 1.0, 1.02], True),     # went up: no progress
])
def test_plateau_stop_compares_the_loss_with_200_steps_earlier(losses, stops):
    from rankfield.dynamics.denoise import _PlateauStop

    trainer = _History(losses)
    _PlateauStop(0.01)(trainer, {})
    assert trainer.stopped is stops


def test_stop_tol_ends_a_converged_fit_early_and_keeps_the_fit():
    t, x, dx, y = _vdp()
    full = RKTVDenoiser(RKTVConfig(steps=1500, stop_tol=None, progress=False)).fit(y, t)
    early = RKTVDenoiser(RKTVConfig(steps=1500, stop_tol=0.02, progress=False)).fit(y, t)
    assert full.history_[0]["step"][-1] == 1500
    stopped_at = early.history_[0]["step"][-1]
    assert 250 <= stopped_at < 1500 and stopped_at % 50 == 0
    # the loss had flattened: the derivative is about as good as after every step
    e_full = metrics.derivative_error(full.derivative(t), dx)
    e_early = metrics.derivative_error(early.derivative(t), dx)
    assert e_early < 1.5 * e_full, (stopped_at, e_early, e_full)


def test_the_fit_steps_with_fused_adam_and_matches_the_per_parameter_loop(monkeypatch):
    t, x, dx, y = _vdp()
    cfg = RKTVConfig(steps=60, stop_tol=None, progress=False)
    den = RKTVDenoiser(cfg)
    assert den._optim([torch.zeros(3, requires_grad=True)])["adam"].optimizer.defaults["fused"] is True
    fused = RKTVDenoiser(cfg).fit(y, t)
    adam = torch.optim.Adam
    monkeypatch.setattr(torch.optim, "Adam", lambda params, **kw: adam(params, **{**kw, "fused": None}))
    loop = RKTVDenoiser(cfg).fit(y, t)
    assert fused.history_[0]["loss"][-1] < 0.5 * fused.history_[0]["loss"][0]  # it trained
    np.testing.assert_allclose(fused.history_[0]["loss"], loop.history_[0]["loss"], rtol=1e-4)


@pytest.mark.parametrize("x, t, match", [
    (np.array([[1.0, 2.0], [np.nan, 1.0], [2.0, 3.0], [1.0, 0.0]]), 0.1, "NaN"),
    (np.array([[1.0], [np.inf], [2.0], [1.0]]), 0.1, "NaN or Inf"),
    (np.arange(8.0)[:, None], np.array([0, 1, 2, 2, 3, 4, 5, 6.0]), "strictly increasing"),
    (np.arange(8.0)[:, None], np.arange(7.0), "length mismatch"),
    (np.arange(3.0)[:, None], 0.1, "at least"),
    (np.c_[np.arange(8.0), np.ones(8)], 0.1, "constant"),
    (np.arange(8.0)[:, None], -0.1, "positive"),
])
def test_input_errors(x, t, match):
    with pytest.raises(InputError, match=match):
        RKTVDenoiser(RKTVConfig(steps=1, progress=False)).fit(x, t)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_gpu():
    t, _, _, y = _vdp(n=100)
    den = RKTVDenoiser(RKTVConfig(steps=20, progress=False, device="cuda")).fit(y, t)
    assert den.fits_[0].device.type == "cuda"
