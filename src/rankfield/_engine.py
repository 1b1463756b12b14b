"""The one training engine of rankfield (private): every training loop of the library runs on it.

A loop is a ``step_fn(step) -> {"loss": tensor, other: tensor, ...}`` that does the forward pass; the
:class:`Trainer` does everything else, the same way for every package:

* ``zero_grad`` / ``backward`` / optimizer and LR-scheduler steps (:class:`Optim`: an optimizer, its
  schedule, and the step it starts at, for warm-ups);
* a NaN/Inf guard, checked with one host sync per log interval and before every checkpoint;
* a history (``{"step": [...], "loss": [...], ..., "lr": [...], "time": [...]}``), one entry per
  ``log_every`` steps, averaging the step values of the interval;
* checkpoints in one format (:func:`save_checkpoint` / :func:`load_checkpoint`): modules, optimizer and
  scheduler states, RNG generator states, step, history and the run's config as plain data. They are
  written atomically (temp file + rename) and only when every parameter is finite, so a diverging step
  never overwrites the last good checkpoint. They load with ``torch.load(weights_only=True)``;
* resume (:meth:`Trainer.resume`), bit-identical to an uninterrupted run: generator states and the
  partial log interval are part of the checkpoint;
* Ctrl-C: the step in flight finishes, a checkpoint of it is written, :class:`TrainingInterrupted` is
  raised (a ``KeyboardInterrupt`` naming the checkpoint);
* a tqdm progress bar and callbacks (``callback(trainer, record)`` at every log step); a callback may
  end the run early with :meth:`Trainer.request_stop` (e.g. a target reached);
* data parallelism under ``torch.distributed`` (``torchrun``): when a process group with more than one
  process is initialized, every step's gradients are averaged over the processes (one all-reduce of all
  gradients), the logged values are averaged likewise, and only rank 0 shows a progress bar and writes
  checkpoints. The loop's ``step_fn`` takes its share of the data (see :func:`process_share`).

Examples:
    >>> import torch
    >>> w = torch.nn.Linear(1, 1)
    >>> x = torch.linspace(-1, 1, 32)[:, None]
    >>> opt = Optim(torch.optim.Adam(w.parameters(), lr=0.1))
    >>> trainer = Trainer(lambda step: {"loss": ((w(x) - 3 * x) ** 2).mean()}, {"model": w}, {"main": opt},
    ...                   steps=200, kind="demo", log_every=50, progress=False)
    >>> history = trainer.run()
    >>> history["step"], history["loss"][-1] < 1e-3
    ([50, 100, 150, 200], True)
"""

from __future__ import annotations

import math
import os
import pickle
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from rankfield.errors import InputError, TrainingDivergedError

__all__ = ["Optim", "Trainer", "TrainingInterrupted", "lr_lambda", "save_checkpoint", "load_checkpoint",
           "CHECKPOINT_FORMAT", "distributed_rank_world", "process_share"]

CHECKPOINT_FORMAT = "rankfield-checkpoint"
CHECKPOINT_VERSION = 1


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the last finished ``step`` was saved to ``checkpoint`` (``None`` if the run
    had no checkpoint path)."""

    def __init__(self, step: int, checkpoint: str | None):
        self.step, self.checkpoint = step, checkpoint
        where = f"; checkpoint of step {step} saved to {checkpoint}" if checkpoint else " (no checkpoint path was set)"
        super().__init__(f"interrupted after step {step}{where}")


def distributed_rank_world() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialized ``torch.distributed`` process group, else ``(0, 1)``.

    Examples:
        >>> distributed_rank_world()
        (0, 1)
    """
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def process_share(n: int) -> tuple[slice, float]:
    """This process's share of ``n`` items under data parallelism: ``(slice, weight)``.

    Process ``r`` of ``w`` takes the contiguous block ``r``; a loss that is a mean over the share is
    multiplied by ``weight = w * len(share) / n`` so that the engine's average over processes equals
    the mean over all ``n`` items exactly, whatever the remainder.

    Examples:
        >>> process_share(10)
        (slice(0, 10, None), 1.0)
    """
    rank, world = distributed_rank_world()
    if world == 1:
        return slice(0, n), 1.0
    bounds = [n * r // world for r in range(world + 1)]
    lo, hi = bounds[rank], bounds[rank + 1]
    if hi <= lo:
        raise InputError(f"{n} items cannot be shared among {world} processes; use fewer processes")
    return slice(lo, hi), world * (hi - lo) / n


def _allreduce_mean_(tensors: list[torch.Tensor], world: int) -> None:
    """Average ``tensors`` in place over the processes with one all-reduce of their concatenation."""
    import torch.distributed as dist
    if not tensors:
        return
    flat = torch.cat([t.reshape(-1).to(torch.float64 if t.dtype == torch.float64 else torch.float32)
                      for t in tensors])
    dist.all_reduce(flat)
    flat /= world
    offset = 0
    for t in tensors:
        k = t.numel()
        t.copy_(flat[offset:offset + k].view_as(t).to(t.dtype))
        offset += k


def lr_lambda(schedule: str, steps: int, end_ratio: float, ramp: int = 0) -> Callable[[int], float]:
    """LR multiplier of step ``s`` for ``cosine`` / ``exponential`` / ``constant`` schedules that go from
    1 at step 0 to ``end_ratio`` at ``steps`` (and stay there); with ``ramp`` > 0 the multiplier is also scaled
    by ``min(1, (s + 1) / ramp)`` (a linear warm-up of the learning rate over the first ``ramp`` steps).

    Examples:
        >>> f = lr_lambda("cosine", 100, 0.1)
        >>> f(0), round(f(50), 3), round(f(100), 3)
        (1.0, 0.55, 0.1)
        >>> g = lr_lambda("constant", 100, 1.0, ramp=10)
        >>> g(0), g(4), g(9), g(50)
        (0.1, 0.5, 1.0, 1.0)
    """
    T, r, R = max(1, int(steps)), float(end_ratio), max(0, int(ramp))
    if schedule == "cosine":
        f = lambda s: r + (1 - r) * 0.5 * (1 + math.cos(math.pi * min(s, T) / T))  # noqa: E731
    elif schedule == "exponential":
        f = lambda s: r ** (min(s, T) / T)  # noqa: E731
    elif schedule == "constant":
        f = lambda s: 1.0  # noqa: E731
    else:
        raise InputError(f"unknown lr schedule {schedule!r}; choose cosine, exponential or constant")
    return f if R == 0 else (lambda s: f(s) * min(1.0, (s + 1) / R))


@dataclass
class Optim:
    """An optimizer, its LR scheduler (or ``None``) and the step from which both step (warm-ups)."""

    optimizer: torch.optim.Optimizer
    scheduler: object | None = None
    start: int = 0

    @classmethod
    def scheduled(cls, optimizer, schedule: str, steps: int, end_ratio: float, start: int = 0,
                  ramp: int = 0) -> "Optim":
        """``optimizer`` with a :func:`lr_lambda` schedule over ``steps`` scheduler steps (``ramp``: linear LR
        warm-up steps)."""
        sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(schedule, steps, end_ratio, ramp))
        return cls(optimizer, sched, start)


def _all_finite(modules: dict[str, nn.Module]) -> bool:
    flags = [torch.isfinite(p).all() for m in modules.values() for p in m.parameters()]
    return bool(torch.stack(flags).all()) if flags else True


def _atomic_torch_save(obj, path: Path) -> None:
    """``torch.save`` to a fresh temp file in the same folder, then rename over ``path`` (never follows a
    symlink at ``path``: the link itself is replaced)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(path, *, kind: str, step: int, steps: int, modules: dict[str, nn.Module],
                    optims: dict[str, Optim] | None = None, generators: dict[str, torch.Generator] | None = None,
                    history: dict | None = None, config: dict | None = None, extra: dict | None = None,
                    accumulator: dict | None = None) -> Path:
    """Write one rankfield checkpoint atomically; refuses (``TrainingDivergedError``) if a parameter is
    not finite, so the previous checkpoint stays the last good one."""
    path = Path(path)
    if not _all_finite(modules):
        raise TrainingDivergedError(f"parameters are not finite at step {step}; checkpoint {path} not written")
    optims = optims or {}
    state = {
        "format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "kind": kind, "step": int(step),
        "steps": int(steps),
        "modules": {k: m.state_dict() for k, m in modules.items()},
        "optimizers": {k: o.optimizer.state_dict() for k, o in optims.items()},
        "schedulers": {k: o.scheduler.state_dict() for k, o in optims.items() if o.scheduler is not None},
        "generators": {k: g.get_state() for k, g in (generators or {}).items()},
        "history": history or {}, "config": config or {}, "extra": extra or {},
        "accumulator": accumulator or {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_torch_save(state, path)
    return path


def load_checkpoint(path, kind: str | None = None, map_location="cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` with ``torch.load(weights_only=True)``.

    Anything else (a file that is not a checkpoint, a pickle that would run code, a checkpoint of
    another ``kind``) is an :class:`InputError` with one line.

    Example:
        >>> import pathlib, tempfile
        >>> from rankfield import load_checkpoint
        >>> from rankfield.inr import CoordinateMLP, FitConfig, chirp, fit_signal
        >>> t, y = chirp(n=64)
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.pt"
        >>> cfg = FitConfig(steps=3, device="cpu", progress=False, checkpoint_path=str(path))
        >>> result = fit_signal(y, t, model=CoordinateMLP(in_features=1, out_features=1, width=8, depth=1), config=cfg)
        >>> ck = load_checkpoint(path)
        >>> ck["step"], ck["steps"], sorted(ck["modules"])
        (3, 3, ['model'])
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise InputError(f"checkpoint {path} is not a file")
    try:
        ck = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(f"{path}: refused to load: not a plain-data rankfield checkpoint (checkpoints are read "
                         "with weights_only=True; objects that would run code are never unpickled)") from None
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's input problem
        raise InputError(f"{path}: not a rankfield checkpoint ({type(exc).__name__})") from None
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise InputError(f"{path}: not a rankfield checkpoint")
    if ck.get("version") != CHECKPOINT_VERSION:
        raise InputError(f"{path}: checkpoint version {ck.get('version')} is not supported "
                         f"(this rankfield reads version {CHECKPOINT_VERSION})")
    if kind is not None and ck.get("kind") != kind:
        raise InputError(f"{path}: a checkpoint of {ck.get('kind')!r}, not of {kind!r}")
    return ck


class Trainer:
    """Runs ``step_fn`` for ``steps`` steps with the bookkeeping described in the module docstring.

    Args:
        step_fn: ``step -> dict`` of scalar tensors; ``"loss"`` is back-propagated, the rest are logged.
        modules: the trained modules by name (checkpointed; their parameters are NaN-checked).
        optims: :class:`Optim` by name.
        steps: total steps of the run.
        kind: what the checkpoint belongs to (resume refuses another kind).
        config: the run's config as plain data (stored in checkpoints).
        log_every: steps per history entry (one host sync each).
        progress: show a tqdm bar named ``desc``.
        checkpoint_path, checkpoint_every: where and how often (0: only at the end) to checkpoint.
        generators: RNG generators whose states are checkpointed (bit-identical resume).
        callbacks: ``callback(trainer, record)`` after every history entry.
        log_fn: ``record -> dict`` adding derived values (e.g. PSNR) to each history entry.
        extra: plain data stored in checkpoints.
        schedule_steps: the length the LR schedules were built for (default ``steps``). A resumed run may
            ask for more steps than it was planned for: its schedules keep their original length (the LR
            then stays at its final value) instead of being stretched.
        data_parallel: under ``torch.distributed``, average gradients and logged values over the
            processes (default). ``False`` when the processes train different things (e.g. ``fit_many``
            gives each process its own signals): no communication at all.
    """

    def __init__(self, step_fn, modules: dict[str, nn.Module], optims: dict[str, Optim], steps: int, *,
                 kind: str, config: dict | None = None, log_every: int = 25, progress: bool = True,
                 desc: str = "train", checkpoint_path=None, checkpoint_every: int = 0,
                 generators: dict[str, torch.Generator] | None = None, callbacks=(), log_fn=None,
                 extra: dict | None = None, schedule_steps: int | None = None, data_parallel: bool = True):
        if int(steps) < 1:
            raise InputError(f"steps must be >= 1, got {steps}")
        if int(log_every) < 1:
            raise InputError(f"log_every must be >= 1, got {log_every}")
        self.step_fn, self.modules, self.optims = step_fn, modules, optims
        self.steps, self.kind, self.config = int(steps), kind, config or {}
        self.log_every, self.progress, self.desc = int(log_every), progress, desc
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        self.checkpoint_every = int(checkpoint_every or 0)
        self.generators = generators or {}
        self.callbacks = list(callbacks)
        self.log_fn, self.extra = log_fn, extra or {}
        self.schedule_steps = int(schedule_steps or steps)
        self.step = 0
        self.history: dict = {}
        self.last_checkpoint: str | None = None
        self.seconds = 0.0
        self._sums: dict[str, torch.Tensor] = {}
        self._count = 0
        self._stop = False
        self._finish = False
        self.rank, self.world = distributed_rank_world()
        self.sync = data_parallel and self.world > 1

    def request_stop(self) -> None:
        """End the run after the current step (from a callback): a final checkpoint is written (when a
        path is set) and :meth:`run` returns normally; ``step`` tells where it stopped."""
        self._finish = True

    # -- checkpoints ----------------------------------------------------------------------------------
    def save(self, path=None) -> Path:
        """Checkpoint the current state (finite parameters only) to ``path`` or ``checkpoint_path``.

        Under data parallelism only rank 0 writes (the state is the same on every process)."""
        path = Path(path or self.checkpoint_path)
        if self.rank != 0:
            return path
        last = f"; the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint else ""
        if "loss" in self._sums and not math.isfinite(float(self._sums["loss"])):
            raise TrainingDivergedError(f"loss became non-finite by step {self.step}; not checkpointed{last}")
        if not _all_finite(self.modules):
            raise TrainingDivergedError(f"parameters became non-finite by step {self.step}; not checkpointed{last}")
        out = save_checkpoint(path, kind=self.kind, step=self.step, steps=self.steps, modules=self.modules,
                              optims=self.optims, generators=self.generators, history=self.history,
                              config=self.config, extra={**self.extra, "schedule_steps": self.schedule_steps},
                              accumulator={"count": self._count, "sums": dict(self._sums)})
        self.last_checkpoint = str(out)
        return out

    def resume(self, checkpoint) -> dict:
        """Restore a checkpoint (a path or a loaded dict) of this run; returns the checkpoint dict.

        Refuses another ``kind``, another architecture (state-dict mismatch), LR schedules of another
        length than the checkpoint's, and a checkpoint already at or past ``steps``, each with one line.
        """
        ck = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint, self.kind)
        name = checkpoint if not isinstance(checkpoint, dict) else "the checkpoint"
        if ck.get("kind") != self.kind:
            raise InputError(f"{name}: a checkpoint of {ck.get('kind')!r}, not of {self.kind!r}")
        step = int(ck["step"])
        planned = int((ck.get("extra") or {}).get("schedule_steps", ck["steps"]))
        if step >= self.steps:
            raise InputError(f"{name} is at step {step}; resuming needs more steps than that (asked: {self.steps})")
        if planned != self.schedule_steps:
            raise InputError(f"{name}: its LR schedules run over {planned} steps, this run's over "
                             f"{self.schedule_steps}; build the schedules with schedule_steps={planned}")
        missing = sorted(set(self.modules) ^ set(ck["modules"]))
        if missing:
            raise InputError(f"{name} does not hold the same modules ({', '.join(missing)} differ)")
        for key, module in self.modules.items():
            try:
                module.load_state_dict(ck["modules"][key])
            except (RuntimeError, KeyError, ValueError) as exc:
                first = str(exc).strip().splitlines()
                detail = first[1].strip() if len(first) > 1 else (first[0] if first else "")
                raise InputError(f"{name}: its {key} has another architecture than this run's ({detail})") from None
        for key, o in self.optims.items():
            try:
                if key in ck["optimizers"]:
                    o.optimizer.load_state_dict(ck["optimizers"][key])
                if o.scheduler is not None and key in ck["schedulers"]:
                    o.scheduler.load_state_dict(ck["schedulers"][key])
            except (ValueError, KeyError, RuntimeError) as exc:
                raise InputError(f"{name}: optimizer {key!r} does not match this run ({exc})") from None
        for key, g in self.generators.items():
            if key in ck["generators"]:
                g.set_state(ck["generators"][key].to("cpu"))
        self.step = step
        self.history = ck["history"]
        acc = ck.get("accumulator") or {}
        dev = self._device()
        self._count = int(acc.get("count", 0))
        self._sums = {k: v.to(dev) for k, v in (acc.get("sums") or {}).items()}
        self.last_checkpoint = str(name) if not isinstance(checkpoint, dict) else None
        return ck

    def _device(self):
        for m in self.modules.values():
            for p in m.parameters():
                return p.device
        return torch.device("cpu")

    # -- the loop -------------------------------------------------------------------------------------
    def _on_sigint(self, signum, frame):
        if self._stop:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self._stop = True

    def _log(self, done: int, t_start: float) -> dict:
        if self.sync:  # the logged values are the average over the processes
            _allreduce_mean_(list(self._sums.values()), self.world)
        values = {k: (v / max(self._count, 1)) for k, v in self._sums.items()}
        values = {k: (float(v) if v.numel() == 1 else v.cpu().tolist()) for k, v in values.items()}  # the host sync
        self._sums, self._count = {}, 0
        loss = values.get("loss", 0.0)
        if not isinstance(loss, float):
            loss = float(sum(loss))
        if not math.isfinite(loss):
            where = f"; the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint else \
                " (no checkpoint was written)"
            raise TrainingDivergedError(f"loss became {loss} at step {done}{where}; try a lower learning rate")
        record = {"step": done, **values}
        first = next(iter(self.optims.values()), None)
        if first is not None:
            record["lr"] = first.optimizer.param_groups[0]["lr"]
        prev = self.history.get("time", [])
        record["time"] = (prev[-1] if prev else 0.0) + (time.perf_counter() - t_start)
        if self.log_fn is not None:
            record.update(self.log_fn(record))
        for k, v in record.items():
            self.history.setdefault(k, []).append(v)
        for cb in self.callbacks:
            cb(self, record)
        return record

    def run(self) -> dict:
        """Train from the current step to ``steps``; returns the history."""
        use_signal = threading.current_thread() is threading.main_thread()
        old_handler = signal.signal(signal.SIGINT, self._on_sigint) if use_signal else None
        self._stop = False
        bar = None
        self._finish = False
        if self.progress and self.rank == 0:
            from tqdm.auto import tqdm
            bar = tqdm(total=self.steps, initial=self.step, desc=self.desc, unit="step", leave=False,
                       dynamic_ncols=True)
        t_run = t_log = time.perf_counter()
        try:
            for step in range(self.step, self.steps):
                out = self.step_fn(step)
                loss = out["loss"]
                active = [o for o in self.optims.values() if step >= o.start]
                for o in self.optims.values():
                    o.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if self.sync:
                    _allreduce_mean_([p.grad for o in active for g in o.optimizer.param_groups
                                      for p in g["params"] if p.grad is not None], self.world)
                for o in active:
                    o.optimizer.step()
                    if o.scheduler is not None:
                        o.scheduler.step()
                for k, v in out.items():
                    v = v.detach().float()
                    self._sums[k] = self._sums[k] + v if k in self._sums else v.clone()
                self._count += 1
                self.step = done = step + 1
                if bar is not None:
                    bar.update(1)
                want_ckpt = self.checkpoint_path is not None and (
                    done == self.steps or (self.checkpoint_every and done % self.checkpoint_every == 0))
                if self._finish and done % self.log_every != 0 and done != self.steps:
                    self._log(done, t_log)  # a stop requested outside a log step: log the partial interval
                    t_log = time.perf_counter()
                if done % self.log_every == 0 or done == self.steps:
                    record = self._log(done, t_log)
                    t_log = time.perf_counter()
                    if bar is not None:
                        bar.set_postfix({k: f"{v:.4g}" for k, v in record.items()
                                         if k in ("loss", "psnr") and isinstance(v, float)})
                if self._finish:
                    if self.checkpoint_path is not None:
                        self.save()
                    break
                if want_ckpt:
                    self.save()
                if self._stop and done != self.steps:  # (a Ctrl-C during the last step lets the run finish)
                    if self.checkpoint_path is not None:
                        self.save()  # refuses a non-finite loss or parameters, like every checkpoint
                    raise TrainingInterrupted(done, str(self.checkpoint_path) if self.checkpoint_path else None)
        finally:
            if bar is not None:
                bar.close()
            if use_signal:
                signal.signal(signal.SIGINT, old_handler)
            self.seconds = time.perf_counter() - t_run
        return self.history
