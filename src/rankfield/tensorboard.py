"""TensorBoard logging through the training engine's callbacks (needs the ``tensorboard`` extra).

:class:`TensorBoardLogger` is a callback for every training function of rankfield (``callbacks=[...]``
of :func:`rankfield.inr.fit`, :func:`rankfield.inr.fit_image`, :func:`rankfield.nerf.train_scene`, ...).
At each log step it writes every logged scalar (``loss``, ``psnr``, ``mse``, ...), the learning rate
(``lr``, or ``lr/<name>`` per optimizer when there are several) and, every ``image_every`` steps, the images
that ``images(trainer)`` returns. On the command line: ``--log tensorboard`` writes to ``<out>/tensorboard``; view it with
``tensorboard --logdir <out>/tensorboard``.

Examples:
    >>> import tempfile, torch
    >>> from rankfield.inr import CoordinateMLP, FitConfig, MLPConfig, fit_image
    >>> image = torch.rand(16, 16, 3, generator=torch.Generator().manual_seed(0))
    >>> model = CoordinateMLP(MLPConfig(in_features=2, out_features=3, width=32, depth=2))
    >>> folder = tempfile.mkdtemp()
    >>> logger = TensorBoardLogger(folder, images=lambda trainer: {"target": image}, image_every=50)
    >>> res = fit_image(image, model, FitConfig(steps=50, progress=False), callbacks=[logger])
    >>> logger.close()
    >>> sorted(logger.tags)[:3]
    ['images/target', 'loss', 'lr']
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch

from rankfield._extras import require

__all__ = ["TensorBoardLogger"]


class TensorBoardLogger:
    """Engine callback writing scalars and images to a TensorBoard log folder.

    Args:
        log_dir: the folder of the event files (created).
        images: ``trainer -> {name: (H, W, C) tensor in [0, 1]}``, called every ``image_every`` steps
            and at the last step (``None``: scalars only).
        image_every: steps between image writes (rounded to the trainer's log interval; 0: only at the end).

    Under ``torch.distributed`` only rank 0 writes. ``tags`` lists what was written.

    Example:
        >>> import pathlib, tempfile
        >>> from rankfield import TensorBoardLogger
        >>> from rankfield.inr import CoordinateMLP, FitConfig, chirp, fit_signal
        >>> t, y = chirp(n=64)
        >>> logger = TensorBoardLogger(pathlib.Path(tempfile.mkdtemp()) / "tb")
        >>> cfg = FitConfig(steps=4, log_every=2, device="cpu", progress=False)
        >>> model = CoordinateMLP(in_features=1, out_features=1, width=8, depth=1)
        >>> result = fit_signal(y, t, model=model, config=cfg, callbacks=[logger])
        >>> "loss" in " ".join(logger.tags), any(logger.log_dir.iterdir())
        (True, True)
    """

    def __init__(self, log_dir, images: Callable | None = None, image_every: int = 0):
        writer_cls = require("torch.utils.tensorboard", "tensorboard", "TensorBoard logging").SummaryWriter
        self.log_dir = Path(log_dir)
        self.images, self.image_every = images, int(image_every)
        self.tags: set[str] = set()
        self._writer_cls, self._writer = writer_cls, None
        self._last_image = None

    def _write_scalar(self, tag: str, value, step: int) -> None:
        self._writer.add_scalar(tag, float(value), step)
        self.tags.add(tag)

    def __call__(self, trainer, record: dict) -> None:
        if getattr(trainer, "rank", 0) != 0:
            return
        if self._writer is None:
            self._writer = self._writer_cls(log_dir=str(self.log_dir))
        step = int(record["step"])
        for key, value in record.items():
            if key in ("step", "time", "lr"):
                continue
            if isinstance(value, (int, float)):
                self._write_scalar(key, value, step)
            elif isinstance(value, (list, tuple)):  # one value per signal (fit_many)
                for i, v in enumerate(value):
                    self._write_scalar(f"{key}/{i}", v, step)
        for name, optim in trainer.optims.items():
            tag = "lr" if len(trainer.optims) == 1 else f"lr/{name}"
            self._write_scalar(tag, optim.optimizer.param_groups[0]["lr"], step)
        last = step >= trainer.steps
        due = self.image_every > 0 and (self._last_image is None or step - self._last_image >= self.image_every)
        if self.images is not None and (due or last):
            with torch.no_grad():
                for name, img in self.images(trainer).items():
                    img = img.detach().float().clamp(0, 1).cpu()
                    if img.ndim == 2:
                        img = img[..., None]
                    self._writer.add_image(f"images/{name}", img, step, dataformats="HWC")
                    self.tags.add(f"images/{name}")
            self._last_image = step
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
