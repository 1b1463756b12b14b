"""Joint optimisation of the radiance field and the camera poses, with checkpoints and resume.

The field and the pose model have separate Adam optimisers with separate exponential LR schedules
(``lr -> lr_end`` over ``steps``). Each step draws ``rays_per_step`` rays spread evenly over
``frames_per_step`` random training frames.

Example:
    >>> import tempfile
    >>> from rankfield.nerf import data, poses, field
    >>> root = data.generate_procedural_scene(tempfile.mkdtemp(), n_train=3, n_test=0, size=8)
    >>> scene = data.load_blender(root)
    >>> result = train_scene(scene, field.RadianceField(field.FieldConfig(width=16, depth=1)),
    ...                      poses.SE3Refinement(scene.poses), TrainConfig(steps=2, rays_per_step=32, progress=False))
    >>> len(result.history["loss"])
    2
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field as dc_field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from rankfield.errors import InputError, TrainingDivergedError
from rankfield.nerf.camera import pixel_points
from rankfield.nerf.render import RenderConfig, render_rays

__all__ = ["TrainConfig", "TrainResult", "train_scene", "save_checkpoint", "load_checkpoint"]


@dataclass
class TrainConfig:
    """Optimisation settings (authors' Blender values in brackets; the defaults suit short CPU runs).

    Attributes:
        steps: optimisation steps [200k].
        rays_per_step: rays per step [1024 Blender, 2048 LLFF].
        frames_per_step: frames the rays are drawn from each step (``None``: all frames).
        lr_field, lr_field_end: field Adam LR, decayed exponentially [5e-4 -> 1e-4].
        lr_pose, lr_pose_end: pose-model Adam LR [1e-3 -> 1e-5].
        pose_warmup: steps before the poses start moving (the field first settles).
        render: sampling/compositing settings.
        checkpoint_every: steps between checkpoints (0: only at the end).
        progress: show a tqdm bar.
        seed: seed of the ray sampling.
    """

    steps: int = 1500
    rays_per_step: int = 1024
    frames_per_step: int | None = None
    lr_field: float = 1e-3
    lr_field_end: float = 1e-4
    lr_pose: float = 3e-3
    lr_pose_end: float = 1e-4
    pose_warmup: int = 0
    render: RenderConfig = dc_field(default_factory=RenderConfig)
    checkpoint_every: int = 0
    progress: bool = True
    seed: int = 0

    def validate(self) -> "TrainConfig":
        if self.steps < 1 or self.rays_per_step < 1:
            raise InputError("steps and rays_per_step must be >= 1")
        for name in ("lr_field", "lr_field_end", "lr_pose", "lr_pose_end"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """Outcome of :func:`train_scene`: loss/PSNR history, seconds, steps done, last checkpoint path."""

    history: dict
    seconds: float
    steps: int
    checkpoint: str | None = None


def _optimizers(field, pose_model, cfg: TrainConfig):
    opt_f = torch.optim.Adam(field.parameters(), lr=cfg.lr_field)
    pose_params = [p for p in pose_model.parameters() if p.requires_grad]
    opt_p = torch.optim.Adam(pose_params, lr=cfg.lr_pose) if pose_params else None
    g_f = (cfg.lr_field_end / cfg.lr_field) ** (1.0 / cfg.steps)
    g_p = (cfg.lr_pose_end / cfg.lr_pose) ** (1.0 / max(1, cfg.steps - cfg.pose_warmup))
    sch_f = torch.optim.lr_scheduler.ExponentialLR(opt_f, g_f)
    sch_p = torch.optim.lr_scheduler.ExponentialLR(opt_p, g_p) if opt_p else None
    return opt_f, opt_p, sch_f, sch_p


def save_checkpoint(path, field, pose_model, step: int, history: dict, optimizers=(), extra: dict | None = None) -> Path:
    """Write field + pose model (+ optimiser/scheduler states) atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"step": step, "field": field.state_dict(), "pose_model": pose_model.state_dict(),
             "pose_kind": type(pose_model).__name__, "history": history,
             "optimizers": [o.state_dict() if o is not None else None for o in optimizers],
             "field_config": field.config.to_dict(), "extra": extra or {}}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (raises :class:`InputError` if unreadable)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"cannot read checkpoint {path}: {exc}") from exc


def train_scene(scene, field, pose_model, config: TrainConfig | None = None, *, checkpoint_path=None,
                resume: str | os.PathLike | None = None, callback=None, extra: dict | None = None) -> TrainResult:
    """Optimise ``field`` and ``pose_model`` on ``scene`` (images are the targets; the pose model holds the
    initial poses). ``callback(step, stats)`` is called every 50 steps. ``resume`` continues a checkpoint
    written by an earlier call with the same configuration.

    Raises:
        TrainingDivergedError: the loss became non-finite (the message names the last checkpoint).
    """
    cfg = (config or TrainConfig()).validate()
    device = scene.images.device if scene.images.device == next(field.parameters()).device else \
        next(field.parameters()).device
    images = scene.images.to(device)
    cam = scene.intrinsics
    N, H, W = images.shape[:3]
    if pose_model.n_frames != N:
        raise InputError(f"pose model has {pose_model.n_frames} frames but the scene has {N} images")
    opt_f, opt_p, sch_f, sch_p = _optimizers(field, pose_model, cfg)
    history = {"step": [], "loss": [], "psnr": [], "reg": []}
    start = 0
    if resume is not None:
        ck = load_checkpoint(resume, map_location=device)
        field.load_state_dict(ck["field"])
        pose_model.load_state_dict(ck["pose_model"])
        states = ck.get("optimizers", [])
        for obj, st in zip((opt_f, opt_p, sch_f, sch_p), states):
            if obj is not None and st is not None:
                obj.load_state_dict(st)
        history = ck["history"]
        start = int(ck["step"])
    gen = torch.Generator().manual_seed(cfg.seed + start)
    fps = min(N, cfg.frames_per_step or N)
    per_frame = max(1, cfg.rays_per_step // fps)
    last_ckpt = str(resume) if resume else None
    t0 = time.perf_counter()
    bar = tqdm(range(start, cfg.steps), disable=not cfg.progress, desc="fit-scene", leave=False,
               initial=start, total=cfg.steps)
    field.train()
    for step in bar:
        progress = step / cfg.steps
        field.set_progress(progress)
        pose_model.set_progress(progress)
        idx = torch.randperm(N, generator=gen)[:fps].to(device)
        v = torch.randint(0, H, (fps, per_frame), generator=gen).to(device)
        u = torch.randint(0, W, (fps, per_frame), generator=gen).to(device)
        pts = pixel_points(cam, torch.stack([v, u], -1))
        target = images[idx[:, None], v, u]
        o, d, reg = pose_model.rays_and_regularization(idx, pts)
        out = render_rays(field, o.reshape(-1, 3), d.reshape(-1, 3), cfg.render, scene.near, scene.far,
                          train=True, generator=gen)
        mse = ((out["rgb"] - target.reshape(-1, 3)) ** 2).mean()
        loss = mse + reg
        if not torch.isfinite(loss):
            raise TrainingDivergedError(f"non-finite loss at step {step}; last checkpoint: {last_ckpt or 'none'}")
        opt_f.zero_grad(set_to_none=True)
        if opt_p is not None:
            opt_p.zero_grad(set_to_none=True)
        loss.backward()
        opt_f.step()
        sch_f.step()
        if opt_p is not None and step >= cfg.pose_warmup:
            opt_p.step()
            sch_p.step()
        psnr = -10 * math.log10(max(mse.item(), 1e-12))
        history["step"].append(step)
        history["loss"].append(float(loss.item()))
        history["psnr"].append(psnr)
        history["reg"].append(float(reg.item()))
        if step % 50 == 0:
            bar.set_postfix(psnr=f"{psnr:.2f}")
            if callback is not None:
                callback(step, {"psnr": psnr, "loss": float(loss.item())})
        if checkpoint_path and cfg.checkpoint_every and (step + 1) % cfg.checkpoint_every == 0:
            last_ckpt = str(save_checkpoint(checkpoint_path, field, pose_model, step + 1, history,
                                            (opt_f, opt_p, sch_f, sch_p), extra))
    bar.close()
    if checkpoint_path:
        last_ckpt = str(save_checkpoint(checkpoint_path, field, pose_model, cfg.steps, history,
                                        (opt_f, opt_p, sch_f, sch_p), extra))
    return TrainResult(history=history, seconds=time.perf_counter() - t0, steps=cfg.steps, checkpoint=last_ckpt)
