"""Joint optimisation of the radiance field and the camera poses, with checkpoints and resume.

The field and the pose model have separate Adam optimisers with separate exponential LR schedules
(``lr -> lr_end`` over ``steps``), on the library's one training engine (:mod:`rankfield._engine`).
Each step draws ``rays_per_step`` rays spread evenly over
``frames_per_step`` random training frames.

Examples:
    >>> import tempfile
    >>> from rankfield.nerf import data, poses, field, procedural
    >>> root = procedural.generate_procedural_scene(tempfile.mkdtemp(), n_train=3, n_test=0, size=8)
    >>> scene = data.load_blender(root)
    >>> result = train_scene(scene, field.RadianceField(field.FieldConfig(width=16, depth=1)),
    ...                      poses.SE3Refinement(scene.poses), TrainConfig(steps=2, rays_per_step=32, progress=False))
    >>> result.history["step"]
    [2]
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field as dc_field

import torch

from rankfield._config import Config
from rankfield._device import check_seed
from rankfield._engine import distributed_rank_world, process_share, Optim, Trainer, load_checkpoint
from rankfield.errors import InputError
from rankfield.nerf.camera import pixel_points
from rankfield.nerf.render import RenderConfig, render_rays

__all__ = ["TrainConfig", "TrainResult", "train_scene", "pose_deviation", "GIVEN_POSES", "CPU_PROTOCOL"]


@dataclass
class TrainConfig(Config):
    """Optimisation settings of a pose-NeRF run; the defaults suit short CPU runs.

    BARF's and the invertible warp's authors train Blender scenes for 200k steps of 1024 rays (LLFF: 2048)
    with field LR 5e-4 -> 1e-4 and pose LR 1e-3 -> 1e-5; ``CPU_PROTOCOL`` is the preset of
    ``rankfield fit-scene`` and the benchmark.

    Attributes:
        steps: optimisation steps.
        schedule_steps: length of the protocol that the LR decays, the pose warm-up and the coarse-to-fine
            windows are laid out on; a run of fewer steps is its prefix, e.g. 30k steps of BARF's 200k
            (``None``: the run's own length).
        rays_per_step: rays per step.
        frames_per_step: frames the rays are drawn from each step (``None``: all frames).
        pixel_jitter: cast each training ray through a uniformly random point of its pixel instead of the
            pixel's centre, so that on average a ray sees the pixel's footprint (images downscaled by area
            averaging, e.g. lego_100 from 800 px). Evaluation always uses the centres.
        lr_field: field Adam learning rate at the start, decayed exponentially to ``lr_field_end``.
        lr_field_end: field learning rate at the end.
        lr_pose: pose-model Adam learning rate at the start, decayed exponentially to ``lr_pose_end``.
        lr_pose_end: pose-model learning rate at the end (``None``: the pose model's own,
            ``default_lr_pose_end``, at most ``lr_pose``).
        pose_warmup: steps before the poses start moving, while the field first takes shape.
        pose_lr_ramp: steps over which the pose learning rate rises linearly to ``lr_pose`` once the poses move
            (the poses are free from their first step, but a young field moves them little); 0: no ramp.
        pose_prior: weight of a prior that holds each camera near its initial pose, about weight x (angle^2 +
            shift^2) (radians, scene units; ``lambda * mean_i (||R_i - R0_i||_F^2 / 2 + ||c_i - c0_i||^2)``);
            for poses that are already good; 0 turns it off.
        render: sampling/compositing settings.
        log_every: steps per history entry (one host sync and NaN check each).
        checkpoint_every: steps between checkpoints (0: only at the end).
        progress: show a tqdm bar.
        seed: seed of the ray sampling.

    Example:
        >>> from rankfield.nerf import RenderConfig, TrainConfig
        >>> cfg = TrainConfig(steps=100, rays_per_step=256, render=RenderConfig(n_samples=32), progress=False)
        >>> cfg.steps, cfg.render.n_samples, cfg.validate() is cfg
        (100, 32, True)
    """

    steps: int = 1500
    schedule_steps: int | None = None
    rays_per_step: int = 1024
    frames_per_step: int | None = None
    pixel_jitter: bool = False
    lr_field: float = 1e-3
    lr_field_end: float = 1e-4
    lr_pose: float = 3e-3
    lr_pose_end: float | None = None
    pose_warmup: int = 0
    pose_lr_ramp: int = 0
    pose_prior: float = 0.0
    render: RenderConfig = dc_field(default_factory=RenderConfig)
    log_every: int = 10
    checkpoint_every: int = 0
    progress: bool = True
    seed: int = 0

    def validate(self) -> "TrainConfig":
        super().validate()
        if self.steps < 1 or self.rays_per_step < 1 or self.log_every < 1:
            raise InputError("steps, rays_per_step and log_every must be >= 1")
        if self.schedule_steps is not None and self.schedule_steps < 1:
            raise InputError(f"schedule_steps must be >= 1, got {self.schedule_steps}")
        if self.frames_per_step is not None and self.frames_per_step < 1:
            raise InputError(f"frames_per_step must be >= 1, got {self.frames_per_step}")
        if self.pose_warmup < 0 or self.pose_lr_ramp < 0 or self.checkpoint_every < 0 or not self.pose_prior >= 0:
            raise InputError("pose_warmup, pose_lr_ramp, pose_prior and checkpoint_every must be >= 0")
        for name in ("lr_field", "lr_field_end", "lr_pose", "lr_pose_end"):
            if name == "lr_pose_end" and self.lr_pose_end is None:
                continue
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be a finite number > 0, got {getattr(self, name)}")
        check_seed(self.seed)
        return self


#: TrainConfig fields for refining poses that are already good (``rankfield fit-scene DATA``, ``--init file``):
#: the poses wait 500 steps for the field to take shape, then move with a 10x smaller LR than registration's,
#: under a unit prior towards the given ones (evidence: ``docs/guide/nerf.md``, "Poses you already have").
GIVEN_POSES = {"pose_warmup": 500, "pose_prior": 1.0, "lr_pose": 3e-4}

#: TrainConfig fields for registering a forward-facing capture from rough or identity poses: the pose LR held at
#: 1e-3 for the whole run (no decay) after a linear ramp over the first 2000 steps (a young field pulls even true
#: poses away at full LR) and field LR 1e-3; samples per ray are the protocol's (16 + 24 importance, in disparity).
#: :func:`~rankfield.nerf.default_configs` gives a forward-facing field every band from the first step (BARF's
#: coarse-to-fine contracts fern's camera motion). Evidence: ``docs/guide/nerf.md``, "What fixes it".
FORWARD_FACING = {"lr_pose": 1e-3, "lr_pose_end": 1e-3, "lr_field": 1e-3, "pose_lr_ramp": 2000}

#: The short CPU protocol that ``rankfield fit-scene`` (its defaults) and ``benchmarks/pose_nerf.py`` share:
#: 480 rays a step, each with 16 stratified samples and 24 more drawn from their weights (NeRF's importance
#: sampling: the lego pose error of 24 uniform samples halves, at twice their cost a step; ``docs/guide/nerf.md``,
#: "Where it stands"), field LR 3e-3 decayed to 1e-4, a checkpoint every 500 steps where a checkpoint path is given.
#: The other fields are :class:`TrainConfig`'s defaults.
CPU_PROTOCOL = TrainConfig(rays_per_step=480, lr_field=3e-3, render=RenderConfig(n_samples=16, n_importance=24),
                           checkpoint_every=500)


@dataclass
class TrainResult:
    """Outcome of :func:`train_scene`: history (one entry per ``log_every`` steps: ``step``, ``loss``,
    ``mse``, ``reg``, ``psnr``, ``lr``, ``time``), seconds, steps done, last checkpoint path.

    :func:`train_scene` returns one; its example trains a scene.

    Example:
        >>> from rankfield.nerf import TrainResult
        >>> result = TrainResult(history={"step": [10, 20], "psnr": [12.0, 14.5]}, seconds=1.5, steps=20)
        >>> max(result.history["psnr"]), result.checkpoint is None
        (14.5, True)
    """

    history: dict
    seconds: float
    steps: int
    checkpoint: str | None = None


CHECKPOINT_KIND = "nerf.train_scene"


def pose_deviation(c2w: torch.Tensor, c2w_ref: torch.Tensor) -> torch.Tensor:
    """Per-frame squared deviation ``||R - R_ref||_F^2 / 2 + ||c - c_ref||^2`` of camera-to-world poses
    ``(B, 3, 4)``: ``2 (1 - cos theta) + d^2 ~ theta^2 + d^2`` (smooth at zero, unlike the angle itself).

    Examples:
        >>> import math
        >>> from rankfield.nerf.geometry import so3_exp
        >>> ref = torch.eye(4)[:3][None]
        >>> turned = torch.cat([so3_exp(torch.tensor([[0.0, 0.0, 0.1]])), torch.zeros(1, 3, 1)], -1)
        >>> round(pose_deviation(turned, ref).item(), 6) == round(2 * (1 - math.cos(0.1)), 6)
        True
    """
    rot = ((c2w[..., :3, :3] - c2w_ref[..., :3, :3]) ** 2).sum((-1, -2)) / 2
    return rot + ((c2w[..., :3, 3] - c2w_ref[..., :3, 3]) ** 2).sum(-1)


def train_scene(scene, field, pose_model, config: TrainConfig | None = None, *, checkpoint_path=None,
                resume: str | os.PathLike | None = None, callbacks=(), extra: dict | None = None) -> TrainResult:
    """Optimise ``field`` and ``pose_model`` on ``scene`` (images are the targets; the pose model holds the
    initial poses) on the library's training engine.

    ``callbacks``: ``callback(trainer, record)`` at every log step (``trainer.step``, ``record["psnr"]``;
    the pose model is ``trainer.modules["pose_model"]``, e.g. to record pose-error curves). ``resume``
    continues a checkpoint of the same configuration (bit-identical to an uninterrupted run).

    Raises:
        TrainingDivergedError: the loss became non-finite (the message names the last good checkpoint).

    Example:
        >>> import tempfile
        >>> import torch
        >>> from rankfield.nerf import FieldConfig, FixedPoses, RadianceField, TrainConfig, RenderConfig
        >>> from rankfield.nerf import generate_procedural_scene, load_blender, train_scene
        >>> scene = load_blender(generate_procedural_scene(tempfile.mkdtemp(), n_train=3, n_test=1, size=8))
        >>> field = RadianceField(FieldConfig(width=16, depth=1))
        >>> cfg = TrainConfig(steps=4, rays_per_step=32, log_every=2, render=RenderConfig(n_samples=8), progress=False)
        >>> result = train_scene(scene, field, FixedPoses(scene.poses), cfg)
        >>> result.steps, result.history["step"]
        (4, [2, 4])
    """
    cfg = (config or TrainConfig()).validate()
    device = next(field.parameters()).device
    images = scene.images.to(device)
    cam = scene.intrinsics
    N, H, W = images.shape[:3]
    if pose_model.n_frames != N:
        raise InputError(f"pose model has {pose_model.n_frames} frames but the scene has {N} images")
    ck = load_checkpoint(resume, kind=CHECKPOINT_KIND, map_location=device) if resume is not None else None
    # a resumed run keeps the schedule length of the run it continues (more steps hold the final LRs)
    T = int(ck["extra"].get("schedule_steps", ck["steps"])) if ck is not None else (cfg.schedule_steps or cfg.steps)
    opt_f = torch.optim.Adam(field.parameters(), lr=cfg.lr_field)
    optims = {"field": Optim.scheduled(opt_f, "exponential", T, cfg.lr_field_end / cfg.lr_field)}
    lr_pose_end = cfg.lr_pose_end if cfg.lr_pose_end is not None else min(pose_model.default_lr_pose_end, cfg.lr_pose)
    pose_params = [p for p in pose_model.parameters() if p.requires_grad]
    if pose_params:
        opt_p = torch.optim.Adam(pose_params, lr=cfg.lr_pose)
        optims["pose"] = Optim.scheduled(opt_p, "exponential", max(1, T - cfg.pose_warmup),
                                         lr_pose_end / cfg.lr_pose, start=cfg.pose_warmup, ramp=cfg.pose_lr_ramp)
    gen = torch.Generator().manual_seed(cfg.seed)
    fps = min(N, cfg.frames_per_step or N)
    per_frame = max(1, cfg.rays_per_step // fps)
    # under torch.distributed (torchrun) every process draws the same rays and renders its share of them;
    # the engine averages the gradients. The samples' jitter then comes from a per-process generator
    # (so the shared ray generator stays in step on every process).
    share, weight = process_share(fps * per_frame)
    rank, world = distributed_rank_world()
    jitter = gen if world == 1 else torch.Generator().manual_seed(cfg.seed + 7919 * (rank + 1))
    field.train()

    def step_fn(step: int) -> dict:
        progress = min(1.0, step / T)
        field.set_progress(progress)
        pose_model.set_progress(progress)
        idx = torch.randperm(N, generator=gen)[:fps].to(device)
        v = torch.randint(0, H, (fps, per_frame), generator=gen).to(device)
        u = torch.randint(0, W, (fps, per_frame), generator=gen).to(device)
        pix = torch.stack([v, u], -1).float()
        if cfg.pixel_jitter:
            pix = pix + (torch.rand(pix.shape, generator=gen) - 0.5).to(device)
        pts = pixel_points(cam, pix)
        target = images[idx[:, None], v, u]
        o, d, reg = pose_model.rays_and_regularization(idx, pts)
        if cfg.pose_prior > 0:
            reg = reg + cfg.pose_prior * pose_deviation(pose_model.poses_of(idx), pose_model.init_c2w[idx]).mean()
        o, d, target = o.reshape(-1, 3)[share], d.reshape(-1, 3)[share], target.reshape(-1, 3)[share]
        out = render_rays(field, o, d, cfg.render, scene.near, scene.far, train=True, generator=jitter)
        mse = ((out["rgb"] - target) ** 2).mean() * weight
        return {"loss": mse + reg, "mse": mse, "reg": torch.as_tensor(reg, dtype=mse.dtype, device=mse.device)}

    def log_fn(record: dict) -> dict:
        return {"psnr": -10 * math.log10(max(record["mse"], 1e-12))}

    stored_extra = {"pose_model": type(pose_model).__name__, **(extra or {})}
    trainer = Trainer(step_fn, {"field": field, "pose_model": pose_model}, optims, cfg.steps, kind=CHECKPOINT_KIND,
                      config={"train": cfg.to_dict(), "field": field.config.to_dict()}, log_every=cfg.log_every,
                      progress=cfg.progress, desc="fit-scene", checkpoint_path=checkpoint_path,
                      checkpoint_every=cfg.checkpoint_every, generators={"rays": gen}, callbacks=callbacks,
                      log_fn=log_fn, extra=stored_extra, schedule_steps=T)
    if ck is not None:
        kind = ck["extra"].get("pose_model")
        if kind != stored_extra["pose_model"]:
            raise InputError(f"{resume}: a checkpoint of pose model {kind}, not {stored_extra['pose_model']}")
        if ck["config"].get("field") != field.config.to_dict():
            raise InputError(f"{resume}: a checkpoint of another radiance field configuration")
        trainer.resume(ck)
    trainer.run()
    return TrainResult(history=trainer.history, seconds=trainer.seconds, steps=cfg.steps,
                       checkpoint=trainer.last_checkpoint)
