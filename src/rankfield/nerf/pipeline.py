"""End-to-end: build field + pose model, train jointly, evaluate poses and test views.

Examples:
    >>> import tempfile
    >>> from rankfield.nerf import generate_procedural_scene, load_blender, perturb_poses_barf
    >>> root = generate_procedural_scene(tempfile.mkdtemp(), n_train=6, n_test=1, size=12)
    >>> tr, te = load_blender(root, "train"), load_blender(root, "test")
    >>> res = fit_pose_nerf(tr, te, perturb_poses_barf(tr.poses, 0.05), "se3",
    ...                     train_config=TrainConfig(steps=3, rays_per_step=64, progress=False),
    ...                     field_config=FieldConfig(width=16, depth=1))
    >>> res.metrics["pose_model"], res.metrics["test_time_refine"], res.metrics["alignment"]
    ('se3', 100, 'sim3')
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from rankfield._device import fork_rng, resolve_device
from rankfield.errors import InputError
from rankfield.nerf.evaluate import evaluate_views, pose_errors
from rankfield.nerf.field import FieldConfig, RadianceField
from rankfield.nerf.poses import POSE_MODELS, PoseModel, WarpConfig
from rankfield.nerf.train import TrainConfig, TrainResult, train_scene

__all__ = ["PoseNerfResult", "fit_pose_nerf", "default_configs"]


@dataclass
class PoseNerfResult:
    """Trained ``field`` and ``pose_model``, the :class:`TrainResult`, ``metrics`` (JSON-ready), evaluation
    details ``errors`` (from :func:`pose_errors`) and ``views`` (from :func:`evaluate_views`, or ``None``)."""

    field: RadianceField
    pose_model: PoseModel
    train: TrainResult
    metrics: dict
    errors: dict
    views: dict | None


def default_configs(scene, quick: bool = False):
    """Field/warp/render settings suited to ``scene`` on CPU-sized budgets (forward-facing -> inverse depth,
    black background; object scenes -> white background; every band of the field's encoding open from the first
    step, ``FieldConfig``'s default)."""
    field = FieldConfig(width=64 if quick else 128, depth=3 if quick else 4, n_frequencies=6 if quick else 8,
                        dir_frequencies=2 if quick else 4,
                        bound=1.5 if not scene.forward_facing else max(2.0, float(scene.poses[:, :3, 3].abs().max()) + 1))
    warp = WarpConfig(latent_dim=32 if quick else 128, hidden=64 if quick else 128,
                      rigidity_weight=1e3 if not scene.forward_facing else 1e4)
    return field, warp


def _mean_last(history: dict, n_steps: int) -> float:
    """Mean training PSNR over the log entries of the last ``n_steps`` steps."""
    last = history["step"][-1]
    vals = [p for s, p in zip(history["step"], history["psnr"]) if s > last - n_steps]
    return sum(vals) / len(vals)


def fit_pose_nerf(train: "Scene", test_scene: "Scene | None", init_c2w: torch.Tensor, pose_model: str = "se3",
                  *, field_config: FieldConfig | None = None, warp_config: WarpConfig | None = None,
                  train_config: TrainConfig | None = None, device="auto", seed: int = 0, checkpoint_path=None,
                  resume=None, test_time_refine: int = 100, callbacks=(), extra: dict | None = None,
                  pose_curve_every: int = 0) -> PoseNerfResult:
    """Train a radiance field jointly with ``pose_model`` (``fixed``/``se3``/``warp``) from ``init_c2w``, then
    evaluate against ``train.poses`` (ground truth) and render ``test_scene`` at aligned poses.

    Test views follow BARF's protocol: their GT poses are mapped into the learned frame, then refined for
    ``test_time_refine`` photometric steps with the field frozen (default 100, BARF's; not for ``fixed``
    poses); ``metrics["test_psnr_unrefined"]`` keeps the PSNR before that refinement.

    ``pose_curve_every=N`` records the pose errors against ``train.poses`` every ``N`` steps (a multiple of
    the config's ``log_every``) in ``metrics["pose_curve"]`` (``step``, ``rotation_deg``, ``translation``,
    ``relative_rotation_deg``). ``metrics["relative_rotation_deg"]`` is the alignment-free rotation error of
    :func:`~rankfield.nerf.evaluate.pose_errors` (trust it over ``rotation_deg`` when the camera centres lie
    close to a line, as in forward-facing captures).

    Args:
        train: the training scene; its ``poses`` are the ground truth the errors are measured against.
        test_scene: test views rendered and scored at the end (``None``: no test metrics).
        init_c2w: ``(N, 4, 4)`` camera-to-world poses the pose model starts from (e.g. ``perturb_poses_barf``).
        pose_model: ``fixed``, ``se3``, ``se3_camera`` or ``warp``.
        field_config: the radiance field (default: :func:`default_configs`, CPU-sized).
        warp_config: the invertible warp, for ``pose_model="warp"`` (default: :func:`default_configs`).
        train_config: optimisation settings (default ``TrainConfig()``; the CLI uses ``CPU_PROTOCOL``).
        device: ``auto``, ``cpu`` or ``cuda``.
        seed: seed of the field's and pose model's initialisation.
        checkpoint_path: where to write checkpoints (``None``: none).
        resume: a checkpoint of the same configuration to continue from.
        test_time_refine: test-pose refinement steps before scoring the test views (0: none).
        callbacks: engine callbacks ``callback(trainer, record)`` at each log step.
        extra: JSON-able data stored in the checkpoint.
        pose_curve_every: record the pose errors every this many steps (0: off).

    Returns:
        A :class:`PoseNerfResult`: the trained field and pose model, ``metrics``, ``errors`` and ``views``.

    Example:
        >>> import tempfile
        >>> from rankfield.nerf import FieldConfig, TrainConfig, generate_procedural_scene, load_blender
        >>> from rankfield.nerf import fit_pose_nerf, perturb_poses_barf
        >>> root = generate_procedural_scene(tempfile.mkdtemp(), n_train=4, n_test=1, size=8)
        >>> train, test = load_blender(root, "train"), load_blender(root, "test")
        >>> res = fit_pose_nerf(train, test, perturb_poses_barf(train.poses, 0.05), "se3", test_time_refine=0,
        ...                     train_config=TrainConfig(steps=2, rays_per_step=32, progress=False),
        ...                     field_config=FieldConfig(width=8, depth=1), device="cpu")
        >>> res.metrics["pose_model"], res.views is not None, res.pose_model.n_frames
        ('se3', True, 4)
    """
    dev = resolve_device(device)
    if init_c2w.shape != train.poses.shape:
        raise InputError(f"initial poses {tuple(init_c2w.shape)} do not match the scene's {tuple(train.poses.shape)}")
    fcfg, wcfg = default_configs(train, quick=True)  # CPU-sized; pass configs for the authors' sizes
    field_config = field_config or fcfg
    warp_config = warp_config or wcfg
    cfg = train_config or TrainConfig()
    cfg = replace(cfg, render=replace(cfg.render, white_background=train.white_background,
                                      inverse_depth=train.forward_facing))
    POSE_MODELS.get(pose_model)
    warp_config.validate()
    with fork_rng(seed, dev):  # one local seed for both inits; the caller's RNG state is left as it was
        field = RadianceField(field_config, device=dev)
        pm = POSE_MODELS.build(pose_model, init_c2w.to(dev), warp_config, seed=seed)
    init_err = pose_errors(init_c2w, train.poses)
    curve = {"step": [0], "rotation_deg": [init_err["rotation_deg_mean"]], "translation": [init_err["translation_mean"]],
             "relative_rotation_deg": [init_err["relative_rotation_deg_mean"]]}

    def record_curve(trainer, record):
        if pose_curve_every and trainer.step % pose_curve_every == 0:
            e = pose_errors(trainer.modules["pose_model"].poses().cpu(), train.poses)
            curve["step"].append(trainer.step)
            curve["rotation_deg"].append(e["rotation_deg_mean"])
            curve["translation"].append(e["translation_mean"])
            curve["relative_rotation_deg"].append(e["relative_rotation_deg_mean"])

    if pose_curve_every and pose_curve_every % cfg.log_every:
        raise InputError(f"pose_curve_every={pose_curve_every} must be a multiple of log_every={cfg.log_every}")
    result = train_scene(train, field, pm, cfg, checkpoint_path=checkpoint_path, resume=resume,
                         callbacks=[*callbacks, record_curve], extra=extra)
    err = pose_errors(pm.poses().cpu(), train.poses)
    metrics = {"pose_model": pose_model, "steps": result.steps, "train_seconds": round(result.seconds, 2),
               "initial_rotation_deg": init_err["rotation_deg_mean"], "initial_translation": init_err["translation_mean"],
               "initial_centre_distance": init_err["centre_distance_mean"],
               "rotation_deg": err["rotation_deg_mean"], "rotation_deg_median": err["rotation_deg_median"],
               "initial_relative_rotation_deg": init_err["relative_rotation_deg_mean"],
               "relative_rotation_deg": err["relative_rotation_deg_mean"],
               "translation": err["translation_mean"], "centre_distance": err["centre_distance_mean"],
               "alignment": err["alignment"],
               "train_psnr_last100": _mean_last(result.history, 100)}
    if pose_curve_every:
        metrics["pose_curve"] = curve
    views = None
    if test_scene is not None and len(test_scene) > 0:
        sim = None if pose_model == "fixed" else err["sim"]
        refine = test_time_refine if pose_model != "fixed" else 0
        views = evaluate_views(field, test_scene, sim, cfg.render, test_time_refine=refine)
        metrics.update(test_psnr=views["psnr"], test_ssim=views["ssim"], test_views=len(test_scene),
                       test_time_refine=refine)
        if refine:  # the same views without the refinement, for comparison
            plain = evaluate_views(field, test_scene, sim, cfg.render, test_time_refine=0)
            metrics.update(test_psnr_unrefined=plain["psnr"])
    return PoseNerfResult(field, pm, result, metrics, err, views)

