"""RKTV-INR: denoise a trajectory with a SIREN of time, a Runge-Kutta consistency term and total variation.

A SIREN ``chi(s)`` of the rescaled time ``s = 2 (t - t_0) / (t_N - t_0) - 1`` (in ``[-1, 1]``) is fitted
to the *standardized* noisy samples ``z_i = (y_i - mean) / std`` (per state). The loss is::

    L = w_data * mean_i |chi(s_i) - z_i|^2                                         (data)
      + w_rk   * mean_i |(chi(s_{i+1}) - chi(s_i)) / h_i
                         - (chi'(s_i) + 4 chi'(s_i + h_i/2) + chi'(s_{i+1})) / 6|^2   (Runge-Kutta / Simpson)
      + w_tv   * mean_i |chi'(s_{i+1}) - chi'(s_i)|                                 (total variation of chi')

``chi'`` is the exact derivative of the network (forward-mode autodiff), so ``dx/dt = std * chi'(s) *
2 / (t_N - t_0)`` (chain rule). The RK term states that the increment between consecutive samples is the
Simpson quadrature of the network's own vector field. It is *anchored on the model* (``rk_anchor="model"``:
``chi(s_{i+1}) - chi(s_i)``) rather than on the noisy data (``"data"``: ``z_{i+1} - z_i``): with data anchoring
the residual carries the noise amplified by ``1/h`` and pulls ``chi'`` towards finite differences of the noise
(measured: worse derivatives, ``docs/guide/dynamics.md#rktv-inr-settings``).
Anchored on the model, the term is small for any trajectory that is smooth on the scale of the sampling
step and large for the sample-to-sample wiggles a SIREN needs to interpolate noise, so it acts as a
dynamics-consistent high-frequency penalty. Non-uniform sampling enters through ``h_i``.

The TV term is on ``chi'`` (``tv_target="derivative"``): it is what makes the derivatives usable at 10%
noise; TV on the state (``"state"``) is kept for ablations.

Examples:
    >>> import numpy as np
    >>> from rankfield.dynamics import RKTVConfig, RKTVDenoiser, get_system, add_noise
    >>> t, x = get_system("lorenz").simulate(n_samples=400)
    >>> den = RKTVDenoiser(RKTVConfig(steps=300, progress=False)).fit(add_noise(x, 0.1), t)
    >>> x_hat, dx_hat = den.predict(t), den.derivative(t)
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from rankfield._config import Config
from rankfield._device import check_seed, resolve_device
from rankfield._engine import Optim, Trainer
from rankfield.dynamics._checks import check_trajectories
from rankfield.errors import InputError, TrainingDivergedError
from rankfield.inr import CoordinateMLP
from rankfield.inr.activations import Sine

__all__ = ["RKTVConfig", "RKTVDenoiser", "denoise", "estimate_noise", "bandwidth_settings"]


@dataclass
class RKTVConfig(Config):
    """Settings of the RKTV-INR denoiser. Every field has a measured default.

    ``omega0`` and ``weight_tv`` default to ``"auto"``: each record gets a bandwidth from its spectrum and a TV
    weight from its estimated noise (:func:`bandwidth_settings` shows the choice). Evidence:
    ``docs/guide/dynamics.md#rktv-inr-settings``.

    Attributes:
        width: SIREN hidden width (the first author's code uses 80; why 48: ``docs/guide/dynamics.md#speed``).
        depth: SIREN hidden layers.
        omega0: SIREN frequency ``omega_0`` (time is rescaled to ``[-1, 1]``), or ``"auto"`` (default):
            ``omega0 = 5 * max(1, c99 / 35)``, where ``c99`` is the number of cycles per record below which 99% of
            the signal's energy lies (bins above ten times the noise floor of :func:`estimate_noise`, the largest
            over the states): the best value on Lorenz (``c99`` = 35), scaled to the record's bandwidth.
        steps: full-batch Adam steps.
        lr: initial Adam learning rate; decays with a cosine schedule to ``lr_end``.
        lr_end: final learning rate (``None``: ``lr / 50``).
        weight_data: weight of the data term (standardized units).
        weight_rk: weight of the Runge-Kutta (Simpson) consistency term; 0 disables it (ablation).
        weight_tv: weight of the total-variation term; 0 disables it (ablation); ``"auto"`` (default): ``1e-3 *
            clip(r / 0.1, 0.1, 1)`` where ``r`` is the record's noise-to-signal ratio from :func:`estimate_noise`
            (mean over states): 1e-3 from 10% noise on, 1e-4 at 1% (at low noise TV's bias, not the noise,
            limits the derivative).
        rk_anchor: ``"model"`` (increments of chi; default) or ``"data"`` (increments of the noisy samples,
            which fits differences of the noise).
        tv_target: ``"derivative"`` (TV of chi', default) or ``"state"`` (TV of chi).
        standardize: fit standardized states (per-column mean/std); keeps the weights scale-free.
        device: ``auto | cpu | cuda``.
        lockstep: several trajectories of one length trained together (stacked networks, one vectorized
            step, identical results): ``auto`` does it on CUDA, where one small network's step is all launch
            overhead, and keeps the loop on CPU, where stacking measured slower. ``on`` / ``off`` force it.
        seed: seed of the network init (trajectory k uses ``seed + k``).
        progress: show a tqdm progress bar.
        weight_model: weight of the model-consistency term of :meth:`RKTVDenoiser.refine` (the fitted
            trajectory's derivative against ``Theta(x) Xi`` of a discovered polynomial model, in state
            standard deviations per unit time, squared). Used only by refinement.
        refine_steps: Adam steps of each refinement pass (warm-started from the previous fit).
        stop_tol: stop a fit or refinement pass early once its loss (mean over each 50-step interval) fell by less
            than this fraction over the last 200 steps (default 0.01); ``None`` runs every step. The learning-rate
            schedule keeps the planned length, so a stopped run ends at a higher learning rate.

    Examples:
        >>> from rankfield.dynamics import RKTVConfig
        >>> RKTVConfig(steps=500, weight_tv=1e-3).validate().omega0
        'auto'
    """

    width: int = 48
    depth: int = 3
    omega0: float | Literal["auto"] = "auto"
    steps: int = 2000
    lr: float = 1e-3
    lr_end: float | None = None
    weight_data: float = 1.0
    weight_rk: float = 100.0
    weight_tv: float | Literal["auto"] = "auto"
    rk_anchor: Literal["model", "data"] = "model"
    tv_target: Literal["derivative", "state"] = "derivative"
    standardize: bool = True
    device: str = "auto"
    lockstep: Literal["auto", "on", "off"] = "auto"
    seed: int = 0
    progress: bool = True
    weight_model: float = 1e-2
    refine_steps: int = 1000
    stop_tol: float | None = 0.01

    def validate(self) -> "RKTVConfig":
        """Raise :class:`InputError` naming the first invalid field; return ``self``."""
        super().validate()
        check_seed(self.seed)
        for name in ("width", "depth", "steps", "refine_steps"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                raise InputError(f"{name} must be a positive integer, got {v!r}")
        if self.lr_end is not None and not 0 < self.lr_end <= self.lr:
            raise InputError(f"lr_end must be in (0, lr={self.lr}], got {self.lr_end!r}")
        for name in ("omega0", "lr"):
            v = getattr(self, name)
            if name == "omega0" and v == "auto":
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                extra = ' or "auto"' if name == "omega0" else ""
                raise InputError(f"{name} must be > 0{extra}, got {v!r}")
        for name in ("weight_data", "weight_rk", "weight_tv", "weight_model"):
            v = getattr(self, name)
            if name == "weight_tv" and v == "auto":
                continue
            if isinstance(v, bool) or not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise InputError(f"{name} must be a finite number >= 0, got {v!r}")
        if self.weight_data <= 0:
            raise InputError("weight_data must be > 0: without the data term the fit ignores the data")
        if self.stop_tol is not None and (isinstance(self.stop_tol, bool) or not isinstance(self.stop_tol, (int, float))
                                          or not 0 < self.stop_tol < 1):
            raise InputError(f"stop_tol must be in (0, 1) or None, got {self.stop_tol!r}")
        return self


# -- data-driven settings ---------------------------------------------------------------------------------
_DIFF_ORDER = 4  # the 4th difference of a smooth record is ~0 at a fine sampling; of white noise, var 70 sigma^2


def estimate_noise(x) -> np.ndarray:
    """Per-state standard deviation of additive white noise in a sampled record ``x`` (``(n, d)``).

    The 4th finite difference removes a smooth signal and multiplies white noise's variance by
    ``C(8, 4) = 70``; the median absolute deviation (``/ 0.6745``) makes it robust to the few samples where
    the signal is not smooth on the sampling scale (spikes). Measured on the library's five benchmark
    systems (1000 samples, noise ``level * std``, 1-30%): within 10% of the true level. Assumes roughly
    uniform sampling and a signal resolved by several samples per feature; needs at least 9 samples.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics.denoise import estimate_noise
        >>> t = np.linspace(0, 10, 1000)
        >>> x = np.sin(t)[:, None] + 0.05 * np.random.default_rng(0).standard_normal((1000, 1))
        >>> float(estimate_noise(x)[0].round(2))
        0.05
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] < 2 * _DIFF_ORDER + 1:
        raise InputError(f"estimate_noise needs at least {2 * _DIFF_ORDER + 1} samples, got {x.shape[0]}")
    d = np.diff(x, n=_DIFF_ORDER, axis=0)
    mad = np.median(np.abs(d - np.median(d, axis=0)), axis=0) / 0.6745
    return mad / math.sqrt(math.comb(2 * _DIFF_ORDER, _DIFF_ORDER))


def noise_to_signal(x: np.ndarray) -> np.ndarray:
    """Per state: :func:`estimate_noise` over the state's standard deviation (a constant state counts as 1).

    Example:
        >>> import numpy as np
        >>> t = np.linspace(0, 10, 2000)
        >>> x = np.sin(t)[:, None] + 0.05 * np.random.default_rng(0).standard_normal((2000, 1))
        >>> bool(0.05 < noise_to_signal(x)[0] < 0.09)  # 0.05 noise over a std of ~0.7
        True
    """
    std = x.std(axis=0)
    return estimate_noise(x) / np.where(std > 0, std, 1.0)


def bandwidth_settings(x) -> dict:
    """The ``"auto"`` rules of :class:`RKTVConfig` for one record ``x`` (``(n, d)``, roughly uniform sampling).

    Returns ``noise_to_signal`` (per state: :func:`estimate_noise` over the state's standard deviation),
    ``cycles_99`` (per state: cycles per record below which 99% of the signal's energy lies, counting the
    periodogram bins above ten times the white-noise floor that the noise estimate predicts),
    ``omega0 = 5 * max(1, max(cycles_99) / 35)`` and ``weight_tv = 1e-3 * clip(mean(noise_to_signal) / 0.1,
    0.1, 1)``. The constants are the settings measured best on Lorenz at 10% noise (omega0 5, TV 1e-3) and
    Lorenz's ``cycles_99`` (35); see :class:`RKTVConfig` for the measurements.

    Examples:
        >>> from rankfield.dynamics import add_noise, get_system
        >>> from rankfield.dynamics.denoise import bandwidth_settings
        >>> t, x = get_system("rossler").simulate()
        >>> s = bandwidth_settings(add_noise(x, 0.01, seed=0))
        >>> round(s["omega0"], 1), s["weight_tv"]
        (9.4, 0.0001)
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    n = x.shape[0]
    std = x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    nsr = noise_to_signal(x)
    z = (x - x.mean(axis=0)) / std
    power = np.abs(np.fft.rfft(z, axis=0)) ** 2
    floor = n * nsr ** 2  # expected periodogram of white noise of standardized variance nsr^2
    signal = np.where(power > 10 * floor, power - floor, 0.0)
    signal[0] = 0.0
    total = signal.sum(axis=0)
    cycles = [int(np.searchsorted(np.cumsum(signal[:, j]) / total[j], 0.99)) if total[j] > 0 else 0
              for j in range(x.shape[1])]
    omega0 = 5.0 * max(1.0, max(cycles) / 35.0)
    weight_tv = 1e-3 * float(np.clip(nsr.mean() / 0.1, 0.1, 1.0))
    return {"noise_to_signal": [float(v) for v in nsr], "cycles_99": cycles, "omega0": float(omega0),
            "weight_tv": weight_tv}


def _resolved(config: "RKTVConfig", xs) -> tuple["RKTVConfig", dict]:
    """``config`` with its ``"auto"`` fields set from the records ``xs`` (several: the states' noise ratios are
    averaged and the largest bandwidth is kept, so that networks trained in lock-step share one setting)."""
    auto_w, auto_tv = config.omega0 == "auto", config.weight_tv == "auto"
    if not (auto_w or auto_tv):
        return config, {"omega0": config.omega0, "weight_tv": config.weight_tv}
    if any(len(x) < 2 * _DIFF_ORDER + 1 for x in xs):
        info = {"omega0": 5.0, "weight_tv": 1e-3, "note": "record too short for the automatic rules"}
    else:
        per = [bandwidth_settings(x) for x in xs]
        info = {"omega0": max(p["omega0"] for p in per), "weight_tv": float(np.mean([p["weight_tv"] for p in per])),
                "noise_to_signal": np.mean([p["noise_to_signal"] for p in per], axis=0).tolist(),
                "cycles_99": np.max([p["cycles_99"] for p in per], axis=0).tolist()}
    out = dataclasses.replace(config, omega0=info["omega0"] if auto_w else config.omega0,
                              weight_tv=info["weight_tv"] if auto_tv else config.weight_tv)
    info.update(omega0=out.omega0, weight_tv=out.weight_tv)
    return out, info


def _is_plain_siren(net) -> bool:
    return (isinstance(net, CoordinateMLP) and net.encoding is None
            and all(type(lin) is torch.nn.Linear for lin in list(net.linears) + [net.output])
            and all(isinstance(a, Sine) for a in net.activations)
            and all(isinstance(b, torch.nn.Identity) for b in net.norms)
            and isinstance(net.output_activation, torch.nn.Identity))


def _value_and_derivative(net: torch.nn.Module, s: torch.Tensor):
    """``chi(s)`` and ``d chi / d s`` for ``s`` of shape ``(m, 1)`` in one pass.

    For a plain SIREN the derivative is propagated by hand alongside the activations
    (``d sin(w a) = w cos(w a) da``), about 1.6x faster than ``torch.func.jvp``, which is the fallback.
    """
    if not _is_plain_siren(net):
        return torch.func.jvp(net, (s,), (torch.ones_like(s),))
    h, dh = s, torch.ones_like(s)
    for lin, act in zip(net.linears, net.activations):
        a = act.omega0 * torch.nn.functional.linear(h, lin.weight, lin.bias)
        dh = (act.omega0 * torch.cos(a)) * (dh @ lin.weight.T)
        h = torch.sin(a)
    return net.output(h), dh @ net.output.weight.T


_LOG_EVERY = 50  # steps per history entry
_PLATEAU_ENTRIES = 4  # stop_tol compares the loss with the one this many history entries (200 steps) earlier


class _PlateauStop:
    """Trainer callback: ends the run once the logged loss fell by less than ``tol`` (relative) over the last
    ``_PLATEAU_ENTRIES`` history entries."""

    def __init__(self, tol: float):
        self.tol = tol

    def __call__(self, trainer, record) -> None:
        losses = trainer.history.get("loss", [])
        if len(losses) > _PLATEAU_ENTRIES:
            before, now = losses[-1 - _PLATEAU_ENTRIES], losses[-1]
            if before - now < self.tol * abs(before):
                trainer.request_stop()


class _Objective(torch.nn.Module):
    """The RKTV-INR loss of one network as a module (so that several can be stacked and vmap-ed)."""

    def __init__(self, net: torch.nn.Module, config: RKTVConfig, model_term: "_ModelTerm | None" = None):
        super().__init__()
        self.net, self.cfg, self.model_term = net, config, model_term

    def forward(self, s_all, z, h):
        """``stack([loss, data, rk, tv])`` for the nodes+midpoints ``s_all``, standardized samples ``z``
        and steps ``h`` (and the model-consistency term last when there is one)."""
        cfg, n = self.cfg, z.shape[0]
        val, der = _value_and_derivative(self.net, s_all)
        chi, dchi, dmid = val[:n], der[:n], der[n:]
        data = ((chi - z) ** 2).mean()
        loss = cfg.weight_data * data
        rk = tv = torch.zeros((), device=z.device, dtype=z.dtype)
        if cfg.weight_rk > 0:
            inc = (chi[1:] - chi[:-1]) if cfg.rk_anchor == "model" else (z[1:] - z[:-1])
            simpson = (dchi[:-1] + 4 * dmid + dchi[1:]) / 6.0
            rk = ((inc / h - simpson) ** 2).mean()
            loss = loss + cfg.weight_rk * rk
        if cfg.weight_tv > 0:
            target = dchi if cfg.tv_target == "derivative" else chi
            tv = (target[1:] - target[:-1]).abs().mean()
            loss = loss + cfg.weight_tv * tv
        if self.model_term is not None:
            model = self.model_term(val, der)
            return torch.stack([loss + cfg.weight_model * model, data, rk, tv, model])
        return torch.stack([loss, data, rk, tv])


class _ModelTerm:
    """Mean squared mismatch between a fitted trajectory's derivative and a polynomial model ``Theta(x) Xi^T``.

    ``Xi`` is re-solved by least squares on the current trajectory at every call (alternating minimization,
    no gradient through it), restricted to ``support`` (``(d, p)`` booleans); the residual is measured in state
    standard deviations per unit time, so the weight does not depend on the record's units. The ``d``
    restricted problems are one batched solve of masked normal equations on the unit-RMS columns (a column
    outside the support gets an identity row, so its coefficient is 0): no host sync inside the step.
    """

    def __init__(self, fit: "_Fit", powers: np.ndarray, support: np.ndarray):
        dev = fit.device
        self.powers = torch.as_tensor(np.asarray(powers), dtype=torch.float32, device=dev)
        self.mask = torch.as_tensor(np.asarray(support, dtype=bool), dtype=torch.float64, device=dev)
        self.mean = torch.as_tensor(fit.mean, dtype=torch.float32, device=dev)
        self.std = torch.as_tensor(fit.std, dtype=torch.float32, device=dev)
        self.rate = 2.0 / (fit.t1 - fit.t0)
        self.xi = torch.zeros_like(self.mask)

    @property
    def coefficients(self) -> np.ndarray:
        """The last ``Xi``, ``(d, p)``, in the data's units."""
        return self.xi.cpu().numpy()

    def __call__(self, val, der):
        x = val * self.std + self.mean
        x_dot = der * self.std * self.rate
        theta = torch.prod(x[:, None, :] ** self.powers[None], dim=-1)
        with torch.no_grad():
            th = theta.double()
            norms = th.pow(2).mean(0).sqrt().clamp(min=1e-12)
            a = th / norms
            gram, rhs = a.T @ a, (a.T @ x_dot.double()).T  # (p, p), (d, p)
            m = self.mask
            lhs = m[:, :, None] * gram[None] * m[:, None, :] + torch.diag_embed(1 - m)
            self.xi = torch.linalg.solve(lhs, m * rhs) / norms
        residual = (x_dot - theta @ self.xi.to(theta.dtype).T) / self.std
        return residual.pow(2).mean()


class _Fit:
    """One trajectory's trained network and its scalings (and its training data, for refinement)."""

    def __init__(self, net, t0, t1, mean, std, device, config=None):
        self.net, self.t0, self.t1, self.mean, self.std, self.device = net, t0, t1, mean, std, device
        self.config = config  # the denoiser's config with its "auto" fields resolved for this record
        self.data = None

    def _s(self, t):
        t = np.asarray(t, dtype=float).reshape(-1)
        s = 2.0 * (t - self.t0) / (self.t1 - self.t0) - 1.0
        return torch.as_tensor(s, dtype=torch.float32, device=self.device)[:, None]

    @torch.no_grad()
    def predict(self, t):
        x = self.net(self._s(t)).double().cpu().numpy()
        return x * self.std + self.mean

    def derivative(self, t):
        s = self._s(t)
        with torch.no_grad():
            _, ds = _value_and_derivative(self.net, s)
        return ds.double().cpu().numpy() * self.std * (2.0 / (self.t1 - self.t0))


class RKTVDenoiser:
    """Fit RKTV-INR to one or several noisy trajectories; then evaluate ``x(t)`` and ``dx/dt(t)`` anywhere.

    Several trajectories (a list of ``(n_k, d)`` arrays with a list of times or one shared step) each get
    their own network; select one with ``trajectory=k``. Trajectories of one length train in lock-step
    (stacked networks, one vectorized step: :func:`rankfield.inr.many.stack_models`), with the same result
    as one by one. Training runs on CUDA when available
    (``config.device="auto"``). ``settings_`` holds, per trajectory, the ``omega0`` and ``weight_tv`` used and,
    when a field is ``"auto"``, what they were chosen from (:func:`bandwidth_settings`; several records share
    one setting: the mean noise ratio and the largest bandwidth).

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics import RKTVConfig, RKTVDenoiser
        >>> den = RKTVDenoiser(RKTVConfig(steps=200, progress=False))
        >>> den = den.fit(np.sin(np.linspace(0, 6, 200))[:, None], t=6 / 199)
        >>> den.derivative([0.0, 1.0]).shape
        (2, 1)
    """

    def __init__(self, config: RKTVConfig | None = None, **overrides):
        config = config or RKTVConfig()
        self.config = dataclasses.replace(config, **overrides).validate() if overrides else config.validate()
        self.fits_: list[_Fit] = []
        self.history_: list[dict] = []
        self.fit_seconds_: float = 0.0

    # -- training --------------------------------------------------------------------------------------
    def fit(self, x, t) -> "RKTVDenoiser":
        """Fit to ``x`` (``(n, d)`` or a list of them) sampled at ``t`` (step, ``(n,)``/``(n, 1)``, or a list)."""
        xs, ts, _ = check_trajectories(x, t, min_samples=4)
        cfg = self.config
        device = resolve_device(cfg.device)
        start = time.perf_counter()
        self.fits_, self.history_, self.model_coefficients_ = [], [], []
        # the "auto" fields, from all records together (several records share one setting, in lock-step or not)
        resolved, info = _resolved(cfg, xs)
        self.settings_ = [info] * len(xs)
        lockstep = cfg.lockstep == "on" or (cfg.lockstep == "auto" and device.type == "cuda")
        if lockstep and len(xs) > 1 and len({x.shape for x in xs}) == 1:
            self.fits_, self.history_ = self._fit_lockstep(xs, ts, device, resolved)
        else:
            for k, (xk, tk) in enumerate(zip(xs, ts)):
                fit, hist = self._fit_one(xk, tk, device, cfg.seed + k, f"RKTV-INR {k + 1}/{len(xs)}", resolved)
                self.fits_.append(fit)
                self.history_.append(hist)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _prepare(self, x, t, device, seed, resolved):
        """Scalings, rescaled times and the initial network of one trajectory (``resolved``: the config
        with its "auto" fields set)."""
        cfg = resolved
        n, d = x.shape
        mean = x.mean(0) if cfg.standardize else np.zeros(d)
        std = x.std(0) if cfg.standardize else np.ones(d)
        std = np.where(std > 0, std, 1.0)
        t0, t1 = float(t[0]), float(t[-1])
        s_np = 2.0 * (t - t0) / (t1 - t0) - 1.0
        f32 = dict(dtype=torch.float32, device=device)
        s = torch.as_tensor(s_np, **f32)[:, None]
        h = (s[1:] - s[:-1])
        s_all = torch.cat([s, s[:-1] + h / 2])  # nodes, then midpoints
        z = torch.as_tensor((x - mean) / std, **f32)
        net = CoordinateMLP(in_features=1, out_features=d, activation="sine", width=cfg.width,
                            depth=cfg.depth, omega0=cfg.omega0, seed=seed).to(device)
        fit = _Fit(net, t0, t1, mean, std, device, cfg)
        fit.data = (s_all, z, h)
        return fit, (s_all, z, h)

    def _optim(self, params, steps=None):
        cfg = self.config
        end_ratio = (cfg.lr_end if cfg.lr_end is not None else cfg.lr / 50) / cfg.lr
        params = list(params)
        fused = len({p.dtype for p in params}) == 1  # one kernel for all parameters (CPU and CUDA), as in inr
        adam = torch.optim.Adam(params, lr=cfg.lr, fused=fused or None)
        return {"adam": Optim.scheduled(adam, "cosine", steps or cfg.steps, end_ratio)}

    def _train(self, step_fn, module, optims, label, steps=None):
        cfg = self.config
        callbacks = [_PlateauStop(cfg.stop_tol)] if cfg.stop_tol is not None else []
        trainer = Trainer(step_fn, {"net": module}, optims, steps or cfg.steps, kind="dynamics.rktv", config=cfg.to_dict(),
                          log_every=_LOG_EVERY, progress=cfg.progress, desc=label, callbacks=callbacks)
        try:
            return trainer.run()
        except TrainingDivergedError as exc:
            raise TrainingDivergedError(f"RKTV-INR: {exc}; lower lr (now {cfg.lr}) or the RK/TV weights") from None

    def _fit_one(self, x, t, device, seed, label, resolved):
        fit, (s_all, z, h) = self._prepare(x, t, device, seed, resolved)
        objective = _Objective(fit.net, fit.config)

        def step_fn(step: int) -> dict:
            loss, data, rk, tv = objective(s_all, z, h)
            return {"loss": loss, "data": data, "rk": rk, "tv": tv}

        hist = self._train(step_fn, fit.net, self._optim(fit.net.parameters()), label)
        fit.net.eval()
        return fit, hist

    def _fit_lockstep(self, xs, ts, device, cfg):
        """Several trajectories of one length in lock-step (stacked networks, one vmap-ed step, see
        :func:`rankfield.inr.many.stack_models`); each network gets the update it would get alone."""
        from rankfield.inr.many import StackedParameters, stack_models
        prepared = [self._prepare(x, t, device, cfg.seed + k, cfg) for k, (x, t) in enumerate(zip(xs, ts))]
        fits = [f for f, _ in prepared]
        inputs = tuple(torch.stack([p[1][j] for p in prepared]) for j in range(3))  # s_all, z, h stacked
        call, params, _ = stack_models([_Objective(f.net, cfg) for f in fits])
        stacked = StackedParameters(params).to(device)

        def step_fn(step: int) -> dict:
            loss, data, rk, tv = call(stacked.as_dict(), inputs, 0).unbind(-1)  # each (K,)
            return {"loss": loss.sum(), "data": data, "rk": rk, "tv": tv}

        hist = self._train(step_fn, stacked, self._optim(stacked.parameters()),
                           label=f"RKTV-INR {len(xs)} trajectories")
        with torch.no_grad():
            for k, f in enumerate(fits):
                for name, p in f.net.named_parameters():
                    p.copy_(stacked.as_dict()["net." + name][k])
                f.net.eval()
        k_all = len(fits)
        histories = []
        for k in range(k_all):
            histories.append({key: ([v[k] for v in vals] if key in ("data", "rk", "tv") else list(vals))
                              for key, vals in hist.items() if key != "loss"})
            histories[-1]["loss"] = [cfg.weight_data * d + cfg.weight_rk * r + cfg.weight_tv * tv_ for d, r, tv_ in
                                     zip(histories[-1]["data"], histories[-1]["rk"], histories[-1]["tv"])]
        return fits, histories

    def refine(self, powers, support, trajectory: int | None = None) -> "RKTVDenoiser":
        """Continue training with a model-consistency term: the derivative must match a polynomial model.

        Each fitted trajectory's network trains ``config.refine_steps`` more steps on the RKTV-INR loss plus
        ``config.weight_model`` times the mean squared mismatch between its derivative and ``Theta(x) Xi``
        over the nodes and midpoints, where ``Theta`` has the polynomial features ``prod_j x_j^powers[k, j]``
        (PySINDy's ``PolynomialLibrary(...).powers_``) and ``Xi`` is re-solved by least squares on the
        current trajectory at every step, restricted to ``support`` (``(d, p)`` booleans, e.g. the terms a
        first discovery kept). The last ``Xi`` is kept in ``model_coefficients_`` (per trajectory).
        ``weight_model``, ``refine_steps`` and the learning rates come from the denoiser's current ``config``
        (they may be changed between passes); the other weights and the resolved ``"auto"`` fields stay those of
        the fit.

        Examples:
            >>> import numpy as np
            >>> from rankfield.dynamics import RKTVConfig, RKTVDenoiser
            >>> t = np.linspace(0, 6, 200)
            >>> x = np.exp(-0.5 * t)[:, None] + 0.01 * np.random.default_rng(0).standard_normal((200, 1))
            >>> den = RKTVDenoiser(RKTVConfig(steps=300, refine_steps=200, progress=False)).fit(x, t)
            >>> den = den.refine(powers=[[0], [1]], support=[[False, True]])  # dx/dt = c x
            >>> round(float(den.model_coefficients_[0][0, 1]), 1)
            -0.5
        """
        powers = np.asarray(powers)
        support = np.asarray(support, dtype=bool)
        if not self.fits_:
            raise InputError("the denoiser is not fitted yet; call fit(x, t) first")
        d = self.fits_[0].mean.shape[0]
        if powers.ndim != 2 or powers.shape[1] != d or support.shape != (d, powers.shape[0]):
            raise InputError(f"refine needs powers of shape (p, {d}) and support of shape ({d}, p); "
                             f"got {powers.shape} and {support.shape}")
        cfg = self.config
        which = range(len(self.fits_)) if trajectory is None else [trajectory]
        if len(getattr(self, "model_coefficients_", [])) != len(self.fits_):
            self.model_coefficients_ = [None] * len(self.fits_)
        for k in which:
            fit = self._fit_for(k)
            s_all, z, h = fit.data
            term = _ModelTerm(fit, powers, support)
            # the record's resolved "auto" fields, with the refinement settings of the denoiser's current config
            objective = _Objective(fit.net, dataclasses.replace(fit.config, weight_model=cfg.weight_model), term)
            fit.net.train()

            def step_fn(step: int, objective=objective, s_all=s_all, z=z, h=h) -> dict:
                loss, data, rk, tv, model = objective(s_all, z, h)
                return {"loss": loss, "data": data, "rk": rk, "tv": tv, "model": model}

            self.history_[k] = self._train(step_fn, fit.net, self._optim(fit.net.parameters(), cfg.refine_steps),
                                           f"RKTV-INR refine {k + 1}/{len(self.fits_)}", steps=cfg.refine_steps)
            fit.net.eval()
            self.model_coefficients_[k] = term.coefficients
        return self

    # -- evaluation ------------------------------------------------------------------------------------
    def _fit_for(self, trajectory: int) -> _Fit:
        if not self.fits_:
            raise InputError("the denoiser is not fitted yet; call fit(x, t) first")
        if not 0 <= trajectory < len(self.fits_):
            raise InputError(f"trajectory must be in [0, {len(self.fits_) - 1}], got {trajectory}")
        return self.fits_[trajectory]

    def predict(self, t, trajectory: int = 0) -> np.ndarray:
        """Denoised state ``x(t)``, shape ``(len(t), d)``, in the data's units."""
        return self._fit_for(trajectory).predict(t)

    def derivative(self, t, trajectory: int = 0) -> np.ndarray:
        """Time derivative ``dx/dt(t)`` of the fitted trajectory (exact derivative of the network)."""
        return self._fit_for(trajectory).derivative(t)


def denoise(x, t, config: RKTVConfig | None = None, **overrides):
    """Fit RKTV-INR to one trajectory and return ``(x_smooth, x_dot)`` at the sample times.

    Examples:
        >>> import numpy as np
        >>> from rankfield.dynamics import denoise
        >>> xs, dxs = denoise(np.sin(np.linspace(0, 6, 100))[:, None], 6 / 99, steps=100, progress=False)
    """
    den = RKTVDenoiser(config, **overrides).fit(x, t)
    tt = check_trajectories(x, t, min_samples=4)[1][0]
    return den.predict(tt), den.derivative(tt)
