"""Fitting coordinate MLPs: one training loop (:func:`fit`) and task wrappers for signals, images, shapes.

The loop has no per-sample Python work and syncs with the device only every ``log_every`` steps:
full-batch or random mini-batches drawn on the device, bf16 autocast on CUDA, optional
``torch.compile``. It records loss/PSNR history, checkpoints, resumes, and stops on NaN.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

from rankfield._device import autocast_context, resolve_device, seed_everything
from rankfield.errors import InputError, TrainingDivergedError
from rankfield.inr.data import check_finite, grid_coordinates, image_coordinates, shape_occupancy
from rankfield.inr.metrics import iou, mse_to_psnr, psnr, ssim
from rankfield.inr.mlp import CoordinateMLP, MLPConfig

__all__ = ["FitConfig", "FitResult", "fit", "predict", "fit_signal", "fit_image", "fit_occupancy",
           "save_checkpoint", "load_model", "make_optimizer"]


@dataclass
class FitConfig:
    """Training options of :func:`fit`.

    Attributes:
        steps: optimizer steps.
        lr: peak learning rate.
        optimizer: ``adam`` or ``muon`` (Muon on hidden-to-hidden weight matrices, Adam on the rest).
        betas: Adam betas.
        eps: Adam epsilon.
        lr_schedule: ``cosine`` (to ``final_lr_factor``), ``exponential`` (same end point) or ``constant``.
        final_lr_factor: learning rate at the end as a fraction of ``lr``.
        batch_size: samples per step; ``None`` = full batch.
        loss: ``mse`` or ``bce`` (binary cross-entropy on logits, for occupancy).
        device: ``auto``, ``cpu`` or ``cuda``.
        amp: bf16 autocast on CUDA (ignored on CPU).
        compile: wrap the model in ``torch.compile``.
        log_every: steps between history entries (and NaN checks, progress-bar updates).
        progress: show a tqdm progress bar.
        checkpoint_path: where to save checkpoints (``None``: no checkpoints).
        checkpoint_every: steps between checkpoints (a final one is always written).
        eval_chunk: samples per chunk when predicting everything (bounds memory).
        seed: seed of mini-batch sampling.
    """

    steps: int = 1000
    lr: float = 1e-3
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    lr_schedule: str = "cosine"
    final_lr_factor: float = 0.1
    batch_size: int | None = None
    loss: str = "mse"
    device: str = "auto"
    amp: bool = True
    compile: bool = False
    log_every: int = 25
    progress: bool = True
    checkpoint_path: str | None = None
    checkpoint_every: int = 500
    eval_chunk: int = 65536
    seed: int = 0

    def validate(self) -> "FitConfig":
        if not isinstance(self.steps, int) or self.steps <= 0:
            raise InputError(f"steps must be a positive integer, got {self.steps!r}")
        if not self.lr > 0:
            raise InputError(f"lr must be > 0, got {self.lr}")
        if self.optimizer not in ("adam", "muon"):
            raise InputError(f"optimizer must be adam or muon, got {self.optimizer!r}")
        if self.lr_schedule not in ("cosine", "exponential", "constant"):
            raise InputError(f"lr_schedule must be cosine, exponential or constant, got {self.lr_schedule!r}")
        if not 0 < self.final_lr_factor <= 1:
            raise InputError(f"final_lr_factor must be in (0, 1], got {self.final_lr_factor}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size <= 0):
            raise InputError(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        if self.loss not in ("mse", "bce"):
            raise InputError(f"loss must be mse or bce, got {self.loss!r}")
        if self.log_every <= 0 or self.checkpoint_every <= 0 or self.eval_chunk <= 0:
            raise InputError("log_every, checkpoint_every and eval_chunk must be positive")
        return self


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model, its history and final metrics."""

    model: nn.Module
    history: dict = field(default_factory=lambda: {"step": [], "loss": [], "psnr": [], "lr": [], "time": []})
    metrics: dict = field(default_factory=dict)
    prediction: torch.Tensor | None = None


def make_optimizer(model: nn.Module, config: FitConfig) -> list[torch.optim.Optimizer]:
    """Adam over all parameters, or Muon over hidden-to-hidden weight matrices plus Adam over the rest."""
    params = [p for p in model.parameters() if p.requires_grad]
    adam_kw = dict(lr=config.lr, betas=config.betas, eps=config.eps)
    if all(not p.is_complex() for p in params):
        adam_kw["fused"] = True  # one kernel for all parameters (CPU and CUDA)
    if config.optimizer == "adam":
        return [torch.optim.Adam(params, **adam_kw)]
    if not hasattr(torch.optim, "Muon"):
        raise InputError("optimizer='muon' needs torch >= 2.9 (torch.optim.Muon)")
    hidden = list(getattr(model, "linears", [])[1:])
    muon_params = [p for layer in hidden for n, p in layer.named_parameters()
                   if p.ndim == 2 and not p.is_complex() and p.requires_grad and min(p.shape) > 1]
    ids = {id(p) for p in muon_params}
    rest = [p for p in params if id(p) not in ids]
    opts = [torch.optim.Adam(rest, **adam_kw)]
    if muon_params:
        opts.append(torch.optim.Muon(muon_params, lr=config.lr, weight_decay=0.0, adjust_lr_fn="match_rms_adamw"))
    return opts


def _lr_lambda(config: FitConfig):
    T, f = config.steps, config.final_lr_factor
    if config.lr_schedule == "cosine":
        return lambda s: f + (1 - f) * 0.5 * (1 + math.cos(math.pi * min(s, T) / T))
    if config.lr_schedule == "exponential":
        return lambda s: f ** (min(s, T) / T)
    return lambda s: 1.0


def save_checkpoint(path: str | Path, model: nn.Module, optimizers=(), schedulers=(), step: int = 0,
                    history: dict | None = None, fit_config: FitConfig | None = None, extra: dict | None = None) -> Path:
    """Write model/optimizer/scheduler state, step, history and configs to ``path`` (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mlp_config = getattr(model, "config", None)
    state = {
        "model": model.state_dict(),
        "mlp_config": mlp_config.to_dict() if isinstance(mlp_config, MLPConfig) else None,
        "optimizers": [o.state_dict() for o in optimizers],
        "schedulers": [s.state_dict() for s in schedulers],
        "step": step,
        "history": history or {},
        "fit_config": dataclasses.asdict(fit_config) if fit_config else None,
        "extra": extra or {},
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return path


def load_model(path: str | Path, device="cpu") -> tuple[CoordinateMLP, dict]:
    """Rebuild a :class:`CoordinateMLP` from a checkpoint; returns ``(model, checkpoint_dict)``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    try:
        ckpt = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:
        raise InputError(f"{path}: not a rankfield checkpoint ({type(exc).__name__})") from None
    if not isinstance(ckpt, dict) or not ckpt.get("mlp_config"):
        raise InputError(f"{path}: not a rankfield CoordinateMLP checkpoint")
    model = CoordinateMLP(MLPConfig(**ckpt["mlp_config"]))
    model.load_state_dict(ckpt["model"])
    return model.to(device), ckpt


@torch.no_grad()
def predict(model: nn.Module, coords: torch.Tensor, chunk: int = 65536, amp: bool = True) -> torch.Tensor:
    """Evaluate ``model`` on ``coords (..., d)`` in chunks (bounded memory), on the model's device."""
    device = next(model.parameters()).device
    flat = coords.reshape(-1, coords.shape[-1])
    was_training = model.training
    model.eval()
    outs = []
    with autocast_context(device, amp):
        for i in range(0, flat.shape[0], chunk):
            outs.append(model(flat[i:i + chunk].to(device)).float())
    model.train(was_training)
    out = torch.cat(outs)
    return out.reshape(*coords.shape[:-1], out.shape[-1])


def fit(model: nn.Module, coords: torch.Tensor, targets: torch.Tensor, config: FitConfig | None = None,
        resume: str | Path | None = None, eval_fn=None) -> FitResult:
    """Fit ``model(coords) ~ targets`` and return a :class:`FitResult`.

    Args:
        model: any module mapping ``(N, d)`` to ``(N, c)`` (a :class:`CoordinateMLP` usually).
        coords: ``(N, d)`` inputs; targets: ``(N, c)``.
        config: :class:`FitConfig`.
        resume: a checkpoint written by an earlier run: weights, optimizer, scheduler, step and
            history are restored and training continues to ``config.steps``.
        eval_fn: optional ``f(model) -> dict`` called at every log step; its values join the history.

    PSNR in the history is computed from the training loss (MSE, targets in ``[0, 1]``).
    A NaN/Inf loss raises :class:`TrainingDivergedError`; the last checkpoint on disk is the last good one.

    Example:
        >>> t, y = chirp(256)  # doctest: +SKIP
        >>> res = fit(CoordinateMLP(in_features=1, out_features=1, activation="sine"), t, y, FitConfig(steps=200))  # doctest: +SKIP
    """
    config = (config or FitConfig()).validate()
    if coords.ndim != 2 or targets.ndim != 2 or coords.shape[0] != targets.shape[0]:
        raise InputError(f"coords must be (N, d) and targets (N, c) with the same N; got {tuple(coords.shape)} and {tuple(targets.shape)}")
    check_finite("targets", targets)
    check_finite("coords", coords)
    device = resolve_device(config.device)
    gen = seed_everything(config.seed)
    model = model.to(device)
    coords, targets = coords.to(device), targets.to(device)
    optimizers = make_optimizer(model, config)
    schedulers = [torch.optim.lr_scheduler.LambdaLR(o, _lr_lambda(config)) for o in optimizers]
    result = FitResult(model=model)
    start = 0
    if resume is not None:
        resume = Path(resume)
        if not resume.exists():
            raise FileNotFoundError(2, "No such checkpoint", str(resume))
        ckpt = torch.load(resume, map_location=device, weights_only=False)
        model.load_state_dict(ckpt["model"])
        for o, s in zip(optimizers, ckpt["optimizers"]):
            o.load_state_dict(s)
        for sch, s in zip(schedulers, ckpt["schedulers"]):
            sch.load_state_dict(s)
        start = int(ckpt["step"])
        result.history = ckpt.get("history") or result.history
        gen.manual_seed(config.seed + start)
    step_model = torch.compile(model) if config.compile else model
    n = coords.shape[0]
    full_batch = config.batch_size is None or config.batch_size >= n
    loss_fn = F.binary_cross_entropy_with_logits if config.loss == "bce" else F.mse_loss
    dev_gen = torch.Generator(device=device).manual_seed(config.seed + start) if not full_batch else None
    last_good = None
    pbar = None
    if config.progress:
        from tqdm.auto import tqdm
        pbar = tqdm(total=config.steps, initial=start, desc="fit", unit="step", leave=False)
    t0 = time.perf_counter()
    running = torch.zeros((), device=device)
    count = 0
    set_progress = getattr(model, "set_progress", None)
    amp_ctx = autocast_context(device, config.amp)
    for step in range(start, config.steps):
        if set_progress is not None:
            set_progress(step / config.steps)
        if full_batch:
            x, y = coords, targets
        else:
            idx = torch.randint(0, n, (config.batch_size,), device=device, generator=dev_gen)
            x, y = coords[idx], targets[idx]
        with amp_ctx:
            pred = step_model(x)
        loss = loss_fn(pred.float(), y)
        for o in optimizers:
            o.zero_grad(set_to_none=True)
        loss.backward()
        for o in optimizers:
            o.step()
        for s in schedulers:
            s.step()
        running += loss.detach()
        count += 1
        done = step + 1
        if done % config.log_every == 0 or done == config.steps:
            mean_loss = float(running / count)  # the one host sync per log interval
            running.zero_()
            count = 0
            if not math.isfinite(mean_loss):
                if pbar:
                    pbar.close()
                where = f"; the last good checkpoint is {last_good}" if last_good else " (no checkpoint was written)"
                raise TrainingDivergedError(f"loss became {mean_loss} at step {done}{where}. Try a lower lr.")
            h = result.history
            h["step"].append(done)
            h["loss"].append(mean_loss)
            h["psnr"].append(float(mse_to_psnr(mean_loss)) if config.loss == "mse" else float("nan"))
            h["lr"].append(optimizers[0].param_groups[0]["lr"])
            h["time"].append(time.perf_counter() - t0)
            if eval_fn is not None:
                for k, v in eval_fn(model).items():
                    h.setdefault(k, []).append(v)
            if pbar:
                pbar.set_postfix(loss=f"{mean_loss:.3g}", psnr=f"{h['psnr'][-1]:.2f}")
            if config.checkpoint_path and (done % config.checkpoint_every == 0 or done == config.steps):
                last_good = save_checkpoint(config.checkpoint_path, model, optimizers, schedulers, done,
                                            result.history, config)
        if pbar:
            pbar.update(1)
    if pbar:
        pbar.close()
    result.metrics["train_time_s"] = time.perf_counter() - t0
    result.metrics["steps_per_s"] = (config.steps - start) / max(result.metrics["train_time_s"], 1e-9)
    return result


def _default_model(in_features: int, out_features: int, **overrides) -> CoordinateMLP:
    kw = dict(in_features=in_features, out_features=out_features, activation="sine", width=256, depth=3)
    kw.update(overrides)
    return CoordinateMLP(MLPConfig(**kw))


def fit_signal(signal: torch.Tensor, t: torch.Tensor | None = None, model: nn.Module | None = None,
               config: FitConfig | None = None, **kwargs) -> FitResult:
    """Fit a 1-D signal ``(N,)`` or ``(N, C)`` sampled at ``t`` (default: uniform on ``[-1, 1]``).

    The default model is a SIREN 3x256. ``metrics`` gets ``psnr`` (on the signal's own range).
    """
    signal = torch.as_tensor(signal, dtype=torch.float32)
    if signal.ndim == 1:
        signal = signal[:, None]
    if signal.ndim != 2 or signal.shape[0] < 2:
        raise InputError(f"signal must be (N,) or (N, C) with N >= 2, got {tuple(signal.shape)}")
    check_finite("signal", signal)
    if t is None:
        t = grid_coordinates(signal.shape[0])
    t = torch.as_tensor(t, dtype=torch.float32).reshape(-1, 1)
    if t.shape[0] != signal.shape[0]:
        raise InputError(f"t has {t.shape[0]} samples but the signal has {signal.shape[0]}")
    model = model or _default_model(1, signal.shape[1])
    res = fit(model, t, signal, config, **kwargs)
    res.prediction = predict(res.model, t).cpu()
    rng = float(signal.max() - signal.min()) or 1.0
    res.metrics["psnr"] = psnr(res.prediction, signal, data_range=rng)
    return res


def fit_image(image: torch.Tensor, model: nn.Module | None = None, config: FitConfig | None = None,
              holdout: bool = False, **kwargs) -> FitResult:
    """Fit an image ``(H, W, C)`` in ``[0, 1]``; ``prediction`` is the ``(H, W, C)`` reconstruction.

    ``holdout=True`` follows the Fourier-features generalization protocol: train on the pixels with
    even row and column index (the every-other-pixel grid), report ``psnr_heldout`` on the rest.
    ``metrics``: ``psnr``, ``ssim`` (full image), ``psnr_train`` and (with holdout) ``psnr_heldout``.

    Example:
        >>> from rankfield.inr.data import default_image
        >>> res = fit_image(default_image(64), config=FitConfig(steps=100, progress=False))  # doctest: +SKIP
    """
    image = torch.as_tensor(image, dtype=torch.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4):
        raise InputError(f"image must be (H, W) or (H, W, C) with C in 1..4, got {tuple(image.shape)}")
    check_finite("image", image)
    H, W, C = image.shape
    coords = image_coordinates(H, W)
    if holdout:
        mask = torch.zeros(H, W, dtype=torch.bool)
        mask[::2, ::2] = True
    else:
        mask = torch.ones(H, W, dtype=torch.bool)
    model = model or _default_model(2, C)
    res = fit(model, coords[mask], image[mask], config, **kwargs)
    cfg = config or FitConfig()
    pred = predict(res.model, coords, chunk=cfg.eval_chunk).cpu().clamp(0, 1)
    res.prediction = pred
    res.metrics.update(psnr=psnr(pred, image), ssim=ssim(pred, image), psnr_train=psnr(pred[mask], image[mask]))
    if holdout:
        res.metrics["psnr_heldout"] = psnr(pred[~mask], image[~mask])
    return res


def fit_occupancy(shape: str = "composite", model: nn.Module | None = None, config: FitConfig | None = None,
                  n_points: int = 200_000, eval_resolution: int = 64, surface_fraction: float = 0.5,
                  occupancy_fn=None, seed: int = 0, **kwargs) -> FitResult:
    """Fit the 3-D occupancy of an analytic shape (or ``occupancy_fn(points) -> {0,1}``) with BCE.

    Training points: ``n_points`` in ``[-1, 1]^3``, ``surface_fraction`` of them jittered near the
    surface (found by rejection on a dense uniform pool). ``metrics["iou"]`` is measured on an
    ``eval_resolution^3`` grid. The default model is a ReLU MLP with positional encoding.
    """
    fn = occupancy_fn or (lambda p: shape_occupancy(shape, p))
    gen = torch.Generator().manual_seed(seed)
    n_surf = int(n_points * surface_fraction)
    uniform = torch.rand(n_points - n_surf, 3, generator=gen) * 2 - 1
    pool = torch.rand(n_points * 4, 3, generator=gen) * 2 - 1
    occ_pool = fn(pool)
    # near-surface: points whose occupancy flips under a small jitter
    jitter = torch.randn(pool.shape, generator=gen) * 0.02
    near = pool[fn(pool + jitter) != occ_pool]
    if near.shape[0] == 0:
        raise InputError("the shape has no surface inside [-1, 1]^3")
    near = near[torch.randint(0, near.shape[0], (n_surf,), generator=gen)] + torch.randn(n_surf, 3, generator=gen) * 0.01
    points = torch.cat([uniform, near]).clamp(-1, 1)
    occ = fn(points)[:, None]
    model = model or CoordinateMLP(in_features=3, out_features=1, activation="relu", width=256, depth=4,
                                   encoding="positional", encoding_options={"n_frequencies": 6})
    cfg = dataclasses.replace(config or FitConfig(batch_size=20_000), loss="bce")
    res = fit(model, points, occ, cfg, **kwargs)
    grid = grid_coordinates(eval_resolution, eval_resolution, eval_resolution).reshape(-1, 3)
    pred = torch.sigmoid(predict(res.model, grid, chunk=cfg.eval_chunk).cpu())
    res.prediction = pred.reshape(eval_resolution, eval_resolution, eval_resolution)
    res.metrics["iou"] = iou(pred[:, 0], fn(grid))
    return res
