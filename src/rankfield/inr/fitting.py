"""Fitting coordinate MLPs: one training loop (:func:`fit`) and task wrappers for signals, images, shapes.

The loop runs on the library's one training engine (:mod:`rankfield._engine`): no per-sample Python work,
one device sync every ``log_every`` steps, full-batch or random mini-batches drawn on the device, opt-in
bf16 autocast on CUDA, optional ``torch.compile``, loss/PSNR history, checkpoints, bit-identical resume,
Ctrl-C checkpointing and a NaN guard.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn
import torch.nn.functional as F

from rankfield._config import Config
from rankfield._device import autocast_context, check_seed, resolve_device
from rankfield._engine import Optim, Trainer, load_checkpoint, process_share
from rankfield._io import check_memory
from rankfield.errors import InputError
from rankfield.inr._tensors import as_float, input_dtype
from rankfield.inr.data import check_finite, grid_coordinates, image_coordinates, shape_occupancy
from rankfield.inr.metrics import iou, mse_to_psnr, psnr, ssim
from rankfield.inr.mlp import CoordinateMLP, MLPConfig

__all__ = ["FitConfig", "FitResult", "fit", "predict", "fit_signal", "fit_image", "fit_occupancy", "load_model"]


Optimizer = Literal["adam", "muon"]
Schedule = Literal["cosine", "exponential", "constant"]

# fields of FitConfig that define the run: a resumed run must have the same values
_RUN_DEFINING = ("lr", "lr_end", "optimizer", "betas", "eps", "lr_schedule", "batch_size", "loss", "seed")


@dataclass
class FitConfig(Config):
    """Training options of :func:`fit`.

    Attributes:
        steps: optimizer steps.
        lr: peak learning rate.
        lr_end: learning rate at the last step (``None``: ``lr / 10``).
        lr_schedule: ``cosine`` or ``exponential`` from ``lr`` to ``lr_end``, or ``constant``.
        optimizer: ``adam`` or ``muon`` (Muon on hidden-to-hidden weight matrices, Adam on the rest).
        betas: Adam betas.
        eps: Adam epsilon.
        batch_size: samples per step; ``None`` = full batch.
        loss: ``mse`` or ``bce`` (binary cross-entropy on logits, for occupancy).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        amp: bf16 autocast on CUDA for training *and* evaluation (opt-in; ignored on CPU).
        compile: wrap the model in ``torch.compile``.
        log_every: steps between history entries (and NaN checks, progress-bar updates).
        progress: show a tqdm progress bar.
        checkpoint_path: where to save checkpoints (``None``: no checkpoints).
        checkpoint_every: steps between checkpoints (a final one is always written).
        eval_chunk: samples per chunk when predicting everything (bounds memory).
        seed: seed of mini-batch sampling.

    Examples:
        >>> from rankfield.inr import FitConfig
        >>> FitConfig(steps=500, lr=5e-4).validate().lr_end_value()
        5e-05
    """

    steps: int = 1000
    lr: float = 1e-3
    lr_end: float | None = None
    lr_schedule: Schedule = "cosine"
    optimizer: Optimizer = "adam"
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    batch_size: int | None = None
    loss: Literal["mse", "bce"] = "mse"
    device: str = "auto"
    amp: bool = False
    compile: bool = False
    log_every: int = 25
    progress: bool = True
    checkpoint_path: str | None = None
    checkpoint_every: int = 500
    eval_chunk: int = 65536
    seed: int = 0

    def validate(self) -> "FitConfig":
        """Raise :class:`InputError` naming the first invalid field; return ``self``."""
        super().validate()
        if not _is_int(self.steps) or self.steps <= 0:
            raise InputError(f"steps must be a positive integer, got {self.steps!r}")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr must be a finite number > 0, got {self.lr}")
        if self.lr_end is not None and not (math.isfinite(self.lr_end) and 0 < self.lr_end <= self.lr):
            raise InputError(f"lr_end must be in (0, lr={self.lr}], got {self.lr_end}")
        if self.batch_size is not None and (not _is_int(self.batch_size) or self.batch_size <= 0):
            raise InputError(f"batch_size must be a positive integer or None, got {self.batch_size!r}")
        for name in ("log_every", "checkpoint_every", "eval_chunk"):
            if not _is_int(getattr(self, name)) or getattr(self, name) <= 0:
                raise InputError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        check_seed(self.seed)
        return self

    def lr_end_value(self) -> float:
        """The learning rate at the last step."""
        return self.lr_end if self.lr_end is not None else self.lr / 10


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


@dataclass
class FitResult:
    """What :func:`fit` returns: the trained model, its history and final metrics.

    Example:
        >>> from rankfield.inr import CoordinateMLP, FitConfig, chirp, fit_signal
        >>> t, y = chirp(n=64)
        >>> model = CoordinateMLP(in_features=1, out_features=1, width=8, depth=1)
        >>> result = fit_signal(y, t, model=model, config=FitConfig(steps=4, log_every=2, device="cpu", progress=False))
        >>> result.model is model, result.history["step"], "psnr" in result.metrics
        (True, [2, 4], True)
    """

    model: nn.Module
    history: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    prediction: torch.Tensor | None = None


def make_optimizer(model: nn.Module, config: FitConfig) -> list[torch.optim.Optimizer]:
    """Adam over all parameters, or Muon over hidden-to-hidden weight matrices plus Adam over the rest.

    Examples:
        >>> from rankfield.inr import CoordinateMLP
        >>> [type(o).__name__ for o in make_optimizer(CoordinateMLP(width=16), FitConfig(optimizer="muon"))]
        ['Adam', 'Muon']
    """
    params = [p for p in model.parameters() if p.requires_grad]
    adam_kw = dict(lr=config.lr, betas=tuple(config.betas), eps=config.eps)
    if all(not p.is_complex() for p in params) and len({p.dtype for p in params}) <= 1:
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


def load_model(path: str | Path, device="cpu") -> tuple[CoordinateMLP, dict]:
    """Rebuild the :class:`CoordinateMLP` of a :func:`fit` checkpoint; returns ``(model, checkpoint)``.

    The checkpoint is read with ``torch.load(weights_only=True)``: it is plain data, never code.

    Examples:
        >>> import tempfile, torch
        >>> from rankfield.inr import CoordinateMLP, FitConfig, fit, load_model
        >>> path = tempfile.mkdtemp() + "/ck.pt"
        >>> x = torch.linspace(-1, 1, 16)[:, None]
        >>> _ = fit(CoordinateMLP(in_features=1, out_features=1, width=8), x, x,
        ...         FitConfig(steps=2, progress=False, checkpoint_path=path))
        >>> model, ck = load_model(path)
        >>> ck["step"], model.config.width
        (2, 8)
    """
    ck = load_checkpoint(path, kind=CHECKPOINT_KIND, map_location=device)
    mlp = ck["extra"].get("model_config")
    if not mlp:
        raise InputError(f"{path}: its model is not a CoordinateMLP (no model config stored)")
    model = CoordinateMLP(MLPConfig.from_dict(mlp))
    model.load_state_dict(ck["modules"]["model"])
    return model.to(device), ck


CHECKPOINT_KIND = "inr.fit"


@torch.no_grad()
def predict(model: nn.Module, coords: torch.Tensor, chunk: int = 65536, amp: bool = False) -> torch.Tensor:
    """Evaluate ``model`` on ``coords (..., d)`` in chunks (bounded memory), on the model's device and dtype.

    ``amp=True`` evaluates under bf16 autocast on CUDA (faster, less exact); the default is full precision.

    Examples:
        >>> import torch
        >>> from rankfield.inr import CoordinateMLP, predict
        >>> predict(CoordinateMLP(in_features=2, out_features=1, width=8), torch.zeros(4, 5, 2), chunk=7).shape
        torch.Size([4, 5, 1])
    """
    p0 = next(model.parameters())
    device = p0.device
    flat = coords.reshape(-1, coords.shape[-1])
    dtype = input_dtype(model)
    was_training = model.training
    model.eval()
    outs = []
    with autocast_context(device, amp):
        for i in range(0, flat.shape[0], chunk):
            out = model(flat[i:i + chunk].to(device=device, dtype=dtype))
            outs.append(out if out.dtype == dtype else out.to(dtype))
    model.train(was_training)
    out = torch.cat(outs)
    return out.reshape(*coords.shape[:-1], out.shape[-1])


def _check_fit_memory(model: nn.Module, n: int, device: torch.device) -> None:
    cfg = getattr(model, "config", None)
    if not isinstance(cfg, MLPConfig):
        return
    n_params = sum(p.numel() for p in model.parameters())
    per_sample = 6 * cfg.width * cfg.depth + 2 * cfg.in_features * 64  # activations, grads, encodings
    check_memory(4.0 * (n * per_sample + 4 * n_params), f"fitting {n} samples with a {cfg.depth}x{cfg.width} MLP",
                 device)


def fit(model: nn.Module, coords: torch.Tensor, targets: torch.Tensor, config: FitConfig | None = None,
        resume: str | Path | None = None, eval_fn=None, callbacks=(), extra: dict | None = None) -> FitResult:
    """Fit ``model(coords) ~ targets`` and return a :class:`FitResult`.

    Args:
        model: any module mapping ``(N, d)`` to ``(N, c)`` (a :class:`CoordinateMLP` usually). It keeps
            its dtype; ``coords``/``targets`` of another float dtype are cast to it.
        coords: ``(N, d)`` inputs; targets: ``(N, c)``.
        config: :class:`FitConfig`.
        resume: a checkpoint written by an earlier run of the same configuration: weights, optimizer,
            scheduler, RNG, step and history are restored and training continues to ``config.steps``
            (bit-identical to a run that was never interrupted).
        eval_fn: optional ``f(model) -> dict`` called at every log step; its values join the history.
        callbacks: ``callback(trainer, record)`` at every log step (see :mod:`rankfield._engine`).
        extra: plain data stored in the checkpoints (e.g. the command line that started the run).

    Under ``torchrun`` (an initialized ``torch.distributed`` process group) the samples of every step
    are split among the processes and the gradients averaged: the result matches one process with the
    same batch (tested with two CPU processes).

    ``history`` has ``step``, ``loss``, ``psnr`` (from the training MSE, targets in ``[0, 1]``), ``lr``,
    ``time``. A NaN/Inf loss raises :class:`TrainingDivergedError`; the last checkpoint on disk is the last
    good one. Ctrl-C raises ``TrainingInterrupted`` after checkpointing the last finished step.

    Examples:
        >>> from rankfield.inr import CoordinateMLP, FitConfig, chirp, fit
        >>> t, y = chirp(256)
        >>> res = fit(CoordinateMLP(in_features=1, out_features=1, activation="sine", width=64), t, y,
        ...           FitConfig(steps=200, progress=False))
        >>> res.history["psnr"][-1] > 30
        True
    """
    config = (config or FitConfig()).validate()
    device = resolve_device(config.device)
    model = model.to(device)
    dtype = input_dtype(model)
    coords, targets = as_float("coords", coords, dtype), as_float("targets", targets, dtype)
    if coords.ndim != 2 or targets.ndim != 2 or coords.shape[0] != targets.shape[0]:
        raise InputError(f"coords must be (N, d) and targets (N, c) with the same N; got {tuple(coords.shape)} "
                         f"and {tuple(targets.shape)}")
    check_finite("targets", targets)
    check_finite("coords", coords)
    n = coords.shape[0]
    full_batch = config.batch_size is None or config.batch_size >= n
    _check_fit_memory(model, n if full_batch else config.batch_size, device)
    coords, targets = coords.to(device), targets.to(device)
    ck = load_checkpoint(resume, kind=CHECKPOINT_KIND, map_location=device) if resume is not None else None
    # a resumed run keeps the schedule length of the run it continues (more steps hold the final LR)
    schedule_steps = int(ck["extra"].get("schedule_steps", ck["steps"])) if ck is not None else config.steps
    optimizers = make_optimizer(model, config)
    end_ratio = config.lr_end_value() / config.lr
    optims = {f"opt{i}": Optim.scheduled(o, config.lr_schedule, schedule_steps, end_ratio)
              for i, o in enumerate(optimizers)}
    gen = torch.Generator(device=device).manual_seed(config.seed)
    step_model = torch.compile(model) if config.compile else model
    loss_fn = F.binary_cross_entropy_with_logits if config.loss == "bce" else F.mse_loss
    set_progress = getattr(model, "set_progress", None)
    amp_ctx = autocast_context(device, config.amp)
    mlp_config = getattr(model, "config", None)
    model_dict = mlp_config.to_dict() if isinstance(mlp_config, MLPConfig) else None

    # under torch.distributed (torchrun) each process takes its share of every batch; the engine averages
    # the gradients, and the share's weight makes that average the loss of the whole batch
    share, weight = process_share(n if full_batch else config.batch_size)
    if full_batch and share != slice(0, n):
        coords, targets = coords[share], targets[share]

    def step_fn(step: int) -> dict:
        if set_progress is not None:
            set_progress(min(1.0, step / schedule_steps))
        if full_batch:
            x, y = coords, targets
        else:
            idx = torch.randint(0, n, (config.batch_size,), device=device, generator=gen)[share]
            x, y = coords[idx], targets[idx]
        with amp_ctx:
            pred = step_model(x)
        loss = loss_fn(pred.to(y.dtype), y)
        return {"loss": loss * weight if weight != 1.0 else loss}

    def log_fn(record: dict) -> dict:
        out = {"psnr": float(mse_to_psnr(record["loss"])) if config.loss == "mse" else float("nan")}
        if eval_fn is not None:
            out.update(eval_fn(model))
        return out

    trainer = Trainer(step_fn, {"model": model}, optims, config.steps, kind=CHECKPOINT_KIND,
                      config=config.to_dict(), log_every=config.log_every, progress=config.progress, desc="fit",
                      checkpoint_path=config.checkpoint_path, checkpoint_every=config.checkpoint_every,
                      generators={"batches": gen}, callbacks=callbacks, log_fn=log_fn,
                      extra={**(extra or {}), "model_config": model_dict}, schedule_steps=schedule_steps)
    if ck is not None:
        stored_model = ck["extra"].get("model_config")
        if stored_model is not None and model_dict is not None and stored_model != model_dict:
            diff = sorted(k for k in set(stored_model) | set(model_dict) if stored_model.get(k) != model_dict.get(k))
            raise InputError(f"{resume}: a checkpoint of another model (differs in {', '.join(diff)})")
        stored = ck.get("config") or {}
        current = config.to_dict()  # plain data like the stored one (tuples as lists)
        diff = [k for k in _RUN_DEFINING if k in stored and stored[k] != current[k]]
        if diff:
            shown = ", ".join(f"{k}={stored[k]!r}" for k in diff)
            raise InputError(f"{resume}: the checkpoint's run has {shown}; resume with the same settings")
        trainer.resume(ck)
    start = trainer.step
    trainer.run()
    result = FitResult(model=model, history=trainer.history)
    result.metrics["train_time_s"] = trainer.seconds
    result.metrics["steps_per_s"] = (config.steps - start) / max(trainer.seconds, 1e-9)
    return result


def _default_model(in_features: int, out_features: int, **overrides) -> CoordinateMLP:
    kw = dict(in_features=in_features, out_features=out_features, activation="sine", width=256, depth=3)
    kw.update(overrides)
    return CoordinateMLP(MLPConfig(**kw))


def fit_signal(signal: torch.Tensor, t: torch.Tensor | None = None, model: nn.Module | None = None,
               config: FitConfig | None = None, **kwargs) -> FitResult:
    """Fit a 1-D signal ``(N,)`` or ``(N, C)`` sampled at ``t`` (default: uniform on ``[-1, 1]``).

    The default model is a SIREN 3x256. ``metrics`` gets ``psnr`` (on the signal's own range).

    Examples:
        >>> from rankfield.inr import chirp, CoordinateMLP, FitConfig, fit_signal
        >>> t, y = chirp(200)
        >>> res = fit_signal(y, t, model=CoordinateMLP(in_features=1, out_features=1, activation="sine", width=32),
        ...                  config=FitConfig(steps=100, progress=False))
        >>> res.prediction.shape
        torch.Size([200, 1])
    """
    signal = torch.as_tensor(signal)
    if signal.ndim == 1:
        signal = signal[:, None]
    if signal.ndim != 2 or signal.shape[0] < 2:
        raise InputError(f"signal must be (N,) or (N, C) with N >= 2, got {tuple(signal.shape)}")
    if t is None:
        t = grid_coordinates(signal.shape[0])
    t = torch.as_tensor(t).reshape(-1, 1)
    if t.shape[0] != signal.shape[0]:
        raise InputError(f"t has {t.shape[0]} samples but the signal has {signal.shape[0]}")
    model = model or _default_model(1, signal.shape[1])
    cfg = (config or FitConfig()).validate()
    signal = as_float("signal", signal, input_dtype(model))
    check_finite("signal", signal)
    res = fit(model, t, signal, cfg, **kwargs)
    res.prediction = predict(res.model, t, chunk=cfg.eval_chunk, amp=cfg.amp).cpu()
    rng = float(signal.max() - signal.min()) or 1.0
    res.metrics["psnr"] = psnr(res.prediction, signal, data_range=rng)
    return res


def fit_image(image: torch.Tensor, model: nn.Module | None = None, config: FitConfig | None = None,
              holdout: bool = False, **kwargs) -> FitResult:
    """Fit an image ``(H, W, C)`` in ``[0, 1]``; ``prediction`` is the ``(H, W, C)`` reconstruction.

    ``holdout=True`` follows the Fourier-features generalization protocol: train on the pixels with
    even row and column index (the every-other-pixel grid), report ``psnr_heldout`` on the rest.
    ``metrics``: ``psnr``, ``ssim`` (full image), ``psnr_train`` and (with holdout) ``psnr_heldout``.
    Evaluation runs at the model's precision unless ``config.amp`` asks for bf16.

    Examples:
        >>> from rankfield.inr import CoordinateMLP, FitConfig, default_image, fit_image
        >>> res = fit_image(default_image(32), model=CoordinateMLP(activation="sine", width=64),
        ...                 config=FitConfig(steps=100, progress=False))
        >>> res.prediction.shape, res.metrics["psnr"] > 20
        (torch.Size([32, 32, 3]), True)
    """
    image = torch.as_tensor(image)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 2, 3, 4):
        raise InputError(f"image must be (H, W) or (H, W, C) with C in 1..4, got {tuple(image.shape)}")
    H, W, C = image.shape
    model = model or _default_model(2, C)
    cfg = (config or FitConfig()).validate()
    image = as_float("image", image, input_dtype(model))
    check_finite("image", image)
    coords = image_coordinates(H, W).to(image.dtype)
    if holdout:
        mask = torch.zeros(H, W, dtype=torch.bool)
        mask[::2, ::2] = True
    else:
        mask = torch.ones(H, W, dtype=torch.bool)
    res = fit(model, coords[mask], image[mask], cfg, **kwargs)
    pred = predict(res.model, coords, chunk=cfg.eval_chunk, amp=cfg.amp).cpu().clamp(0, 1)
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

    Examples:
        >>> from rankfield.inr import CoordinateMLP, FitConfig, fit_occupancy
        >>> res = fit_occupancy("sphere", model=CoordinateMLP(in_features=3, out_features=1, width=32), n_points=4000,
        ...                     eval_resolution=16, config=FitConfig(steps=150, lr=3e-3, batch_size=2000, progress=False))
        >>> res.metrics["iou"] > 0.8
        True
    """
    fn = occupancy_fn or (lambda p: shape_occupancy(shape, p))
    gen = torch.Generator().manual_seed(seed)
    n_surf = int(n_points * surface_fraction)
    check_memory(4 * 3 * 4 * 5.0 * n_points, f"sampling {n_points} occupancy points")
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
    cfg = dataclasses.replace(config or FitConfig(batch_size=20_000), loss="bce").validate()
    res = fit(model, points, occ, cfg, **kwargs)
    grid = grid_coordinates(eval_resolution, eval_resolution, eval_resolution).reshape(-1, 3)
    pred = torch.sigmoid(predict(res.model, grid, chunk=cfg.eval_chunk, amp=cfg.amp).cpu())
    res.prediction = pred.reshape(eval_resolution, eval_resolution, eval_resolution)
    res.metrics["iou"] = iou(pred[:, 0], fn(grid))
    return res
