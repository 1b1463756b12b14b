"""The data-driven ("auto") omega0 and TV weight of RKTV-INR: the noise estimate, the bandwidth rule, their use."""

import numpy as np
import pytest

from rankfield.dynamics import RKTVConfig, RKTVDenoiser
from rankfield.dynamics.denoise import bandwidth_settings, estimate_noise
from rankfield.errors import InputError


def _sines(cycles, n=2000, noise=0.0, seed=0):
    """Sines with a whole number of cycles per record (all their energy in one periodogram bin) plus noise."""
    s = np.arange(n) / n
    x = np.stack([np.sin(2 * np.pi * c * s + 0.3 * k) for k, c in enumerate(cycles)], 1)
    rng = np.random.default_rng(seed)
    return x + noise * x.std(0) * rng.standard_normal(x.shape)


@pytest.mark.parametrize("sigma", [0.01, 0.05, 0.2])
def test_noise_estimate_recovers_white_noise_on_a_smooth_signal(sigma):
    x = _sines([3, 7], n=4000, noise=sigma, seed=1)
    est = estimate_noise(x) / _sines([3, 7], n=4000).std(0)
    np.testing.assert_allclose(est, sigma, rtol=0.08)


def test_noise_estimate_is_zero_without_noise_and_robust_to_spikes():
    clean = _sines([3, 5], n=4000)
    assert estimate_noise(clean).max() < 1e-4
    noisy = _sines([3, 5], n=4000, noise=0.05, seed=2)
    spiky = noisy.copy()
    spiky[::200, 0] += 5.0  # 20 isolated spikes, 7 std tall
    np.testing.assert_allclose(estimate_noise(spiky), estimate_noise(noisy), rtol=0.1)
    with pytest.raises(InputError, match="at least 9 samples"):
        estimate_noise(np.zeros((8, 1)))


def test_bandwidth_rule_on_sines_of_known_frequency():
    # one bin each: the 99% cycle count is the frequency; omega0 = 5 * max(1, cycles / 35)
    s = bandwidth_settings(_sines([20, 70], noise=0.01))
    assert s["cycles_99"] == [20, 70]
    assert s["omega0"] == pytest.approx(10.0)
    assert bandwidth_settings(_sines([4, 12], noise=0.01))["omega0"] == 5.0  # slow records keep the floor
    # TV weight follows the noise: 1e-3 * clip(ratio / 0.1, 0.1, 1)
    assert bandwidth_settings(_sines([4, 12], noise=0.005))["weight_tv"] == pytest.approx(1e-4)
    assert bandwidth_settings(_sines([4, 12], noise=0.05))["weight_tv"] == pytest.approx(5e-4, rel=0.1)
    assert bandwidth_settings(_sines([4, 12], noise=0.3))["weight_tv"] == pytest.approx(1e-3)
    # heavy noise does not inflate the bandwidth (bins below ten noise floors are not counted)
    assert bandwidth_settings(_sines([20, 70], noise=0.3))["cycles_99"] == [20, 70]


def test_auto_settings_reach_the_network_and_are_reported():
    x = _sines([20, 70], n=600, noise=0.02)
    t = np.linspace(0, 6, 600)
    den = RKTVDenoiser(RKTVConfig(steps=2, progress=False)).fit(x, t)
    want = bandwidth_settings(x)
    got = den.settings_[0]
    assert got["omega0"] == pytest.approx(want["omega0"]) and got["weight_tv"] == pytest.approx(want["weight_tv"])
    assert got["omega0"] > 5.0
    net = den.fits_[0].net
    assert all(a.omega0 == pytest.approx(want["omega0"]) for a in net.activations)
    assert den.fits_[0].config.weight_tv == pytest.approx(want["weight_tv"])
    assert den.config.omega0 == "auto"  # the user's config is left as given
    fixed = RKTVDenoiser(RKTVConfig(steps=2, omega0=7.0, weight_tv=2e-3, progress=False)).fit(x, t)
    assert fixed.settings_ == [{"omega0": 7.0, "weight_tv": 2e-3}]
    assert all(a.omega0 == 7.0 for a in fixed.fits_[0].net.activations)


def test_several_records_share_one_setting_in_lockstep_or_not():
    t = np.linspace(0, 6, 300)
    xs = [_sines([10, 20], n=300, noise=0.01, seed=3), _sines([10, 60], n=300, noise=0.1, seed=4)]
    a = RKTVDenoiser(RKTVConfig(steps=20, progress=False, lockstep="off")).fit(xs, t)
    b = RKTVDenoiser(RKTVConfig(steps=20, progress=False, lockstep="on")).fit(xs, t)
    assert a.settings_[0] == a.settings_[1] == b.settings_[0]
    assert a.settings_[0]["omega0"] == pytest.approx(max(bandwidth_settings(x)["omega0"] for x in xs))
    np.testing.assert_allclose(a.derivative(t, 1), b.derivative(t, 1), rtol=1e-4, atol=1e-4)


def test_config_accepts_auto_and_rejects_other_words():
    cfg = RKTVConfig()
    assert cfg.omega0 == "auto" and cfg.weight_tv == "auto"
    assert RKTVConfig.from_dict(cfg.to_dict()) == cfg
    for bad in (dict(omega0="fast"), dict(omega0=0.0), dict(weight_tv="auto2"), dict(weight_tv=True)):
        with pytest.raises(InputError, match="omega0|weight_tv"):
            RKTVConfig(**bad).validate()
