"""Fit many coordinate MLPs of one architecture at once (functa-style data sets, sweeps).

:func:`fit_many` trains N independent networks in lock-step: their parameters are stacked
(``torch.func.stack_module_state``), one ``vmap``-ed ``functional_call`` evaluates all of them, and one
Adam updates the stack. Adam is element-wise and the loss is the *sum* of the per-signal losses, so
every network gets exactly the update it would get alone: the result equals fitting each signal with
:func:`~rankfield.inr.fit` and the same seed, within float tolerance (tested). Signals are processed in
chunks (``chunk_size``) so memory stays bounded; each chunk runs on the library's training engine.

When does it pay? It removes the per-network Python and kernel-launch overhead, so it wins when one
network's step is small (mini-batches, small networks, GPUs); on a CPU with full-batch steps that are
already compute-bound it gains little. ``docs/benchmarks.md`` (``make bench-many``) has the measured
ratios.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Sequence

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from rankfield._device import autocast_context, resolve_device
from rankfield._engine import Optim, Trainer, distributed_rank_world
from rankfield.errors import InputError
from rankfield.inr._tensors import as_float, input_dtype
from rankfield.inr.data import check_finite, image_coordinates
from rankfield.inr.fitting import FitConfig
from rankfield.inr.metrics import mse_to_psnr, psnr, ssim
from rankfield.inr.mlp import CoordinateMLP, MLPConfig

__all__ = ["ManyFitResult", "fit_many", "fit_images", "stack_models", "StackedParameters"]

# elements of one hidden activation tensor per chunk: keeps a CPU chunk in cache, a GPU chunk large
_CHUNK_ELEMENTS = {"cpu": 2 ** 22, "cuda": 2 ** 27}


@dataclass
class ManyFitResult:
    """What :func:`fit_many` returns.

    Attributes:
        models: the N trained networks (the ones passed in, trained in place).
        history: ``step`` (list), ``loss`` and ``psnr`` (one list of N values per log step; a stopped
            signal repeats its last values), ``lr``, ``time``.
        metrics: one dict per signal: ``psnr_train`` (from the last training loss), ``steps`` (where it
            stopped), plus what the task wrappers add (``psnr``, ``ssim``, ...).
        predictions: ``(N, ...)`` reconstructions (task wrappers only).
        seconds: wall time of the training.
    """

    models: list
    history: dict = field(default_factory=dict)
    metrics: list = field(default_factory=list)
    predictions: torch.Tensor | None = None
    seconds: float = 0.0


class StackedParameters(nn.Module):
    """The stacked parameters of N networks as one module (what the engine trains and checks).

    ``params`` is the dict of :func:`stack_models` (each tensor ``(N, ...)``); :meth:`as_dict` gives it back
    for the ``vmap``-ed call, or network ``index``'s slice of it. Used by :func:`fit_many` and by
    :class:`rankfield.dynamics.RKTVDenoiser`'s lock-step fits; not part of the package API.

    Examples:
        >>> import torch
        >>> call, params, _ = stack_models([torch.nn.Linear(2, 1) for _ in range(3)])
        >>> stacked = StackedParameters(params)
        >>> stacked.as_dict()["weight"].shape, stacked.as_dict(0)["weight"].shape
        (torch.Size([3, 1, 2]), torch.Size([1, 2]))
    """

    def __init__(self, params: dict[str, torch.Tensor]):
        super().__init__()
        self.names = list(params)
        self.stack = nn.ParameterList([nn.Parameter(params[k]) for k in self.names])

    def as_dict(self, index=None) -> dict[str, torch.Tensor]:
        if index is None:
            return dict(zip(self.names, self.stack))
        return {k: p[index] for k, p in zip(self.names, self.stack)}


def _check_same_architecture(models: Sequence[nn.Module]) -> None:
    if len(models) == 0:
        raise InputError("fit_many needs at least one model")
    first = models[0]
    shapes = {k: (v.shape, v.dtype) for k, v in first.state_dict().items()}
    for i, m in enumerate(models[1:], start=1):
        if type(m) is not type(first):
            raise InputError(f"model {i} is a {type(m).__name__}, model 0 a {type(first).__name__}; "
                             "fit_many needs one architecture")
        other = {k: (v.shape, v.dtype) for k, v in m.state_dict().items()}
        if other != shapes:
            raise InputError(f"model {i} has another architecture than model 0 (parameter shapes differ)")
        if isinstance(m, CoordinateMLP):
            a, b = dataclasses.replace(first.config, seed=0), dataclasses.replace(m.config, seed=0)
            if a != b:
                diff = [f.name for f in dataclasses.fields(a) if getattr(a, f.name) != getattr(b, f.name)]
                raise InputError(f"model {i} differs from model 0 in {', '.join(diff)}; fit_many needs one architecture")
    if any(isinstance(mod, nn.modules.batchnorm._BatchNorm) for mod in first.modules()):
        raise InputError("fit_many does not support BatchNorm (its running statistics are per-network state); "
                         "fit those models one by one with fit()")
    if any(p.is_complex() for p in first.parameters()):
        raise InputError("fit_many does not support complex parameters (WIRE); fit those models with fit()")


def stack_models(models: Sequence[nn.Module]):
    """Stack N same-architecture networks for ``vmap``: returns ``(call, params, base)``.

    ``params`` maps parameter names to ``(N, ...)`` tensors; ``call(params, x, in_dim)`` evaluates all
    networks (``x`` is ``(N, ..., d)`` with ``in_dim=0`` or shared ``(..., d)`` with ``in_dim=None``; a
    tuple ``x`` is passed as several arguments) and returns ``(N, ..., c)``. Buffers equal in every network (e.g. a coarse-to-fine progress) stay in
    ``base``, a copy of the first network; the others (e.g. per-seed Fourier matrices) are stacked.

    Examples:
        >>> from rankfield.inr import CoordinateMLP
        >>> nets = [CoordinateMLP(in_features=1, out_features=1, width=8, seed=s) for s in range(3)]
        >>> call, params, _ = stack_models(nets)
        >>> x = torch.linspace(-1, 1, 5)[:, None]
        >>> torch.allclose(call(params, x, None)[1], nets[1](x))
        True
    """
    _check_same_architecture(models)
    params, buffers = stack_module_state(list(models))
    params = {k: v.detach().clone() for k, v in params.items()}
    batched_buffers = {k: v for k, v in buffers.items() if not bool((v == v[:1]).all())}
    base = copy.deepcopy(models[0])
    for p in base.parameters():
        p.requires_grad_(False)

    def call(p, x, in_dim=0, module=None):
        target = module if module is not None else base

        def one(pp, bb, xx):
            return functional_call(target, (pp, bb), xx if isinstance(xx, tuple) else (xx,))
        return vmap(one, in_dims=(0, 0, in_dim))(p, batched_buffers, x)

    call.batched_buffers = batched_buffers
    return call, params, base


def _default_chunk(n: int, points: int, width: int, device: torch.device) -> int:
    budget = _CHUNK_ELEMENTS["cuda" if device.type == "cuda" else "cpu"]
    return max(1, min(n, budget // max(1, points * width)))


def fit_many(models: Sequence[nn.Module], coords: torch.Tensor, targets: torch.Tensor,
             config: FitConfig | None = None, chunk_size: int | None = None,
             target_psnr: float | None = None) -> ManyFitResult:
    """Fit ``models[i](coords[i]) ~ targets[i]`` for N networks of one architecture at once.

    Args:
        models: N networks of one architecture (e.g. ``CoordinateMLP``s differing only in ``seed``);
            trained in place.
        coords: ``(P, d)`` shared by all signals, or ``(N, P, d)``.
        targets: ``(N, P, c)``.
        config: a :class:`FitConfig` with the same meaning as for :func:`fit` (``batch_size`` is per
            signal; every signal sees the same sample indices, as separate fits with the same seed would).
            Adam only; checkpoints and ``compile`` are not supported here; ``amp`` as in :func:`fit`.
        chunk_size: signals trained together (default: as many as keep one hidden activation under
            ~4M elements on CPU, ~134M on CUDA).
        target_psnr: per-signal early stop: a signal whose training PSNR (mean over a log interval)
            reaches it is frozen from then on; a chunk ends when all its signals are frozen.

    Under ``torchrun`` the signals are split among the processes (process ``r`` trains the ``r``-th
    contiguous block, without any communication while training); at the end every process receives
    all trained networks, histories and metrics.

    Returns:
        :class:`ManyFitResult`; ``metrics[i]["steps"]`` is where signal ``i`` stopped.

    Examples:
        >>> import torch
        >>> from rankfield.inr import CoordinateMLP, FitConfig, fit_many
        >>> x = torch.linspace(-1, 1, 64)[:, None]
        >>> y = torch.stack([torch.sin(k * x) for k in (1.0, 2.0, 3.0)])
        >>> nets = [CoordinateMLP(in_features=1, out_features=1, activation="sine", width=32) for _ in range(3)]
        >>> res = fit_many(nets, x, y, FitConfig(steps=200, progress=False))
        >>> [round(m["psnr_train"]) > 40 for m in res.metrics]
        [True, True, True]
    """
    config = (config or FitConfig()).validate()
    if config.optimizer != "adam":
        raise InputError("fit_many trains with Adam only (optimizer='adam')")
    if config.checkpoint_path is not None:
        raise InputError("fit_many does not write checkpoints; fit one model with fit() to checkpoint it")
    if config.compile:
        raise InputError("fit_many does not support compile=True (torch.compile of vmap-ed stacks); leave it off")
    if target_psnr is not None and not (isinstance(target_psnr, (int, float)) and target_psnr > 0):
        raise InputError(f"target_psnr must be a number > 0, got {target_psnr!r}")
    if config.loss != "mse" and target_psnr is not None:
        raise InputError("target_psnr needs loss='mse'")
    models = list(models)
    _check_same_architecture(models)
    n = len(models)
    device = resolve_device(config.device)
    for m in models:
        m.to(device)
    dtype = input_dtype(models[0])
    coords, targets = as_float("coords", coords, dtype), as_float("targets", targets, dtype)
    shared = coords.ndim == 2
    if targets.ndim != 3 or targets.shape[0] != n:
        raise InputError(f"targets must be (N={n}, P, c), got {tuple(targets.shape)}")
    if coords.ndim not in (2, 3) or (coords.ndim == 3 and coords.shape[0] != n) or coords.shape[-2] != targets.shape[1]:
        raise InputError(f"coords must be (P, d) or (N={n}, P, d) with P = {targets.shape[1]}, got {tuple(coords.shape)}")
    check_finite("targets", targets)
    check_finite("coords", coords)
    points = targets.shape[1]
    full_batch = config.batch_size is None or config.batch_size >= points
    per_step = points if full_batch else config.batch_size
    width = getattr(getattr(models[0], "config", None), "width", 256)
    if chunk_size is None:
        chunk_size = _default_chunk(n, per_step, width, device)
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size <= 0:
        raise InputError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    coords, targets = coords.to(device), targets.to(device)

    result = ManyFitResult(models=models, metrics=[{} for _ in range(n)])
    rank, world = distributed_rank_world()
    bounds = [n * r // world for r in range(world + 1)]  # process r trains signals bounds[r]:bounds[r+1]
    histories = []
    for lo in range(bounds[rank], bounds[rank + 1], chunk_size):
        hi = min(bounds[rank + 1], lo + chunk_size)
        hist, stopped_at, seconds = _fit_chunk(models[lo:hi], coords if shared else coords[lo:hi], targets[lo:hi],
                                               config, shared, full_batch, device, target_psnr,
                                               desc=f"fit_many {lo + 1}-{hi}/{n}")
        histories.append(hist)
        result.seconds += seconds
        for j, i in enumerate(range(lo, hi)):
            result.metrics[i]["steps"] = stopped_at[j]
            result.metrics[i]["psnr_train"] = hist["psnr"][-1][j] if config.loss == "mse" else float("nan")
    if world > 1:
        histories = _share_results(models, result, histories, bounds, rank, world)
    result.history = _merge_histories(histories)
    return result


def _share_results(models, result: ManyFitResult, histories: list, bounds: list, rank: int, world: int) -> list:
    """Give every process all networks (broadcast from their owners), metrics and chunk histories."""
    import torch.distributed as dist
    with torch.no_grad():
        for r in range(world):
            for i in range(bounds[r], bounds[r + 1]):
                for p in models[i].parameters():
                    dist.broadcast(p.data, src=r)
    mine = (histories, result.metrics[bounds[rank]:bounds[rank + 1]], result.seconds)
    gathered = [None] * world
    dist.all_gather_object(gathered, mine)
    all_histories, metrics = [], []
    for hist, mets, _ in gathered:
        all_histories += hist
        metrics += mets
    result.metrics = metrics
    result.seconds = max(sec for _, _, sec in gathered)
    return all_histories


def _fit_chunk(models, coords, targets, config: FitConfig, shared: bool, full_batch: bool, device, target_psnr,
               desc: str):
    k = len(models)
    call, params, base = stack_models(models)
    stacked = StackedParameters(params).to(device)
    adam_kw = dict(lr=config.lr, betas=tuple(config.betas), eps=config.eps)
    if len({p.dtype for p in stacked.parameters()}) == 1:
        adam_kw["fused"] = True
    opt = torch.optim.Adam(stacked.parameters(), **adam_kw)
    optims = {"opt0": Optim.scheduled(opt, config.lr_schedule, config.steps, config.lr_end_value() / config.lr)}
    gen = torch.Generator(device=device).manual_seed(config.seed)
    points = targets.shape[1]
    set_progress = getattr(base, "set_progress", None)
    reduce_dims = tuple(range(1, targets.ndim))
    bce = config.loss == "bce"
    amp_ctx = autocast_context(device, config.amp)

    # per-signal freezing: after each optimizer step the frozen signals' parameters are put back
    frozen = torch.zeros(k, dtype=torch.bool, device=device)
    saved: dict[str, torch.Tensor] = {}
    stopped_at = [config.steps] * k

    def restore(*_):
        if saved:
            with torch.no_grad():
                for name, p in stacked.as_dict().items():
                    p[frozen] = saved[name][frozen]
    opt.register_step_post_hook(restore)

    def step_fn(step: int) -> dict:
        if set_progress is not None:
            set_progress(min(1.0, step / config.steps))
        if full_batch:
            x, y = coords, targets
        else:
            idx = torch.randint(0, points, (config.batch_size,), device=device, generator=gen)
            x, y = (coords[idx] if shared else coords[:, idx]), targets[:, idx]
        with amp_ctx:
            pred = call(stacked.as_dict(), x, None if shared else 0)
        pred = pred.to(y.dtype)
        if bce:
            each = torch.nn.functional.binary_cross_entropy_with_logits(pred, y, reduction="none").mean(reduce_dims)
        else:
            each = ((pred - y) ** 2).mean(reduce_dims)
        return {"loss": each.sum(), "each": each}

    def log_fn(record: dict) -> dict:
        each = torch.tensor(record["each"], dtype=torch.float64).reshape(-1)
        return {"psnr": [float(v) for v in mse_to_psnr(each)] if not bce else [float("nan")] * k}

    def early_stop(trainer, record):
        if target_psnr is None:
            return
        reached = torch.tensor([p >= target_psnr for p in record["psnr"]], device=device) & ~frozen
        if bool(reached.any()):
            with torch.no_grad():
                for name, p in stacked.as_dict().items():
                    if name not in saved:
                        saved[name] = p.detach().clone()
                    saved[name][reached] = p.detach()[reached]
            for j in reached.nonzero().flatten().tolist():
                stopped_at[j] = record["step"]
            frozen.copy_(frozen | reached)
        if bool(frozen.all()):
            trainer.request_stop()

    trainer = Trainer(step_fn, {"stack": stacked}, optims, config.steps, kind="inr.fit_many",
                      config=config.to_dict(), log_every=config.log_every, progress=config.progress, desc=desc,
                      generators={"batches": gen}, callbacks=[early_stop], log_fn=log_fn,
                      data_parallel=False)  # under torchrun each process trains its own signals
    hist = trainer.run()
    hist["each"] = [[v] if isinstance(v, float) else v for v in hist["each"]]
    restore()
    with torch.no_grad():
        for j, m in enumerate(models):
            for name, p in m.named_parameters():
                p.copy_(stacked.as_dict()[name][j])
    return hist, stopped_at, trainer.seconds


def _merge_histories(histories: list[dict]) -> dict:
    """Join the chunks' histories signal-wise; a chunk that stopped early repeats its last entry."""
    if len(histories) == 1:
        h = histories[0]
        return {"step": h["step"], "loss": [list(v) for v in h["each"]], "psnr": h["psnr"], "lr": h["lr"],
                "time": h["time"]}
    longest = max(histories, key=lambda h: len(h["step"]))
    T = len(longest["step"])

    def pad(seq):
        return list(seq) + [seq[-1]] * (T - len(seq))
    loss = [sum((list(v) for v in row), []) for row in zip(*[pad(h["each"]) for h in histories])]
    psnr_ = [sum((list(v) for v in row), []) for row in zip(*[pad(h["psnr"]) for h in histories])]
    time_ = [sum(row) for row in zip(*[pad(h["time"]) for h in histories])]
    return {"step": longest["step"], "loss": loss, "psnr": psnr_, "lr": longest["lr"], "time": time_}


@torch.no_grad()
def _predict_many(models, coords: torch.Tensor, chunk: int) -> torch.Tensor:
    call, params, _ = stack_models(models)
    device = next(models[0].parameters()).device
    params = {k: v.to(device) for k, v in params.items()}
    outs = [call(params, coords[i:i + chunk].to(device), None) for i in range(0, coords.shape[0], chunk)]
    return torch.cat(outs, dim=1)


def fit_images(images, model: MLPConfig | Sequence[nn.Module] | None = None, config: FitConfig | None = None,
               holdout: bool = False, chunk_size: int | None = None,
               target_psnr: float | None = None) -> ManyFitResult:
    """Fit N images of one size ``(N, H, W, C)`` (values in ``[0, 1]``) at once, one network each.

    ``model`` is an :class:`MLPConfig` (every image gets ``CoordinateMLP(model)``: the result equals
    ``fit_image(image, CoordinateMLP(model))`` for each image), a list of N networks, or ``None`` (the
    :func:`~rankfield.inr.fit_image` default, a SIREN 3x256). ``holdout`` as in ``fit_image``.
    ``predictions`` is ``(N, H, W, C)``; ``metrics[i]`` has ``psnr``, ``ssim``, ``psnr_train`` (and
    ``psnr_heldout``), ``steps``.

    Examples:
        >>> import torch
        >>> from rankfield.inr import MLPConfig, FitConfig, default_image, fit_images
        >>> img = default_image(16)
        >>> res = fit_images(torch.stack([img, img.flip(0)]), MLPConfig(activation="sine", width=32),
        ...                  FitConfig(steps=50, progress=False))
        >>> res.predictions.shape, len(res.metrics)
        (torch.Size([2, 16, 16, 3]), 2)
    """
    if isinstance(images, (list, tuple)):
        shapes = {tuple(torch.as_tensor(im).shape) for im in images}
        if len(shapes) > 1:
            raise InputError(f"fit_images needs images of one size; got {', '.join(map(str, sorted(shapes)))}")
        images = torch.stack([torch.as_tensor(im) for im in images])
    images = torch.as_tensor(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 2, 3, 4):
        raise InputError(f"images must be (N, H, W) or (N, H, W, C) with C in 1..4, got {tuple(images.shape)}")
    N, H, W, C = images.shape
    if model is None:
        model = MLPConfig(in_features=2, out_features=C, activation="sine", width=256, depth=3)
    models = [CoordinateMLP(model) for _ in range(N)] if isinstance(model, MLPConfig) else list(model)
    if len(models) != N:
        raise InputError(f"{len(models)} models for {N} images")
    cfg = (config or FitConfig()).validate()
    images = as_float("images", images, input_dtype(models[0]))
    check_finite("images", images)
    coords = image_coordinates(H, W).to(images.dtype)
    mask = torch.zeros(H, W, dtype=torch.bool)
    if holdout:
        mask[::2, ::2] = True
    else:
        mask[:] = True
    res = fit_many(models, coords[mask], images[:, mask], cfg, chunk_size=chunk_size, target_psnr=target_psnr)
    pred = _predict_many(res.models, coords.reshape(-1, 2), cfg.eval_chunk).cpu().clamp(0, 1).reshape(N, H, W, C)
    res.predictions = pred
    for i in range(N):
        res.metrics[i].update(psnr=psnr(pred[i], images[i]), ssim=ssim(pred[i], images[i]),
                              psnr_train=psnr(pred[i][mask], images[i][mask]))
        if holdout:
            res.metrics[i]["psnr_heldout"] = psnr(pred[i][~mask], images[i][~mask])
    return res
