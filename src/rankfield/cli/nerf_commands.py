"""``rankfield fit-scene``: NeRF with camera poses optimised jointly with the scene."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from rankfield._io import atomic_write, check_memory
from rankfield.cli._common import (add_common_options, add_log_option, adopt_stored_configs, cli_record,
                                   load_run_checkpoint, log_callbacks, nonneg_float, nonneg_int, positive_float,
                                   positive_int, require_pictures)
from rankfield.errors import InputError
from rankfield.cli._options import ConfigOption as Opt, add_config_options, config_from_args, show
from rankfield.nerf.poses import POSE_MODELS, default_lr_pose_end
from rankfield.nerf.train import CPU_PROTOCOL, FORWARD_FACING, GIVEN_POSES

_DEFAULT_STEPS_DATA = 3000


def _given_or_protocol(name: str, why: str = "") -> str:
    """Help text of a default that depends on --init and the data: GIVEN_POSES for poses from a file,
    FORWARD_FACING for registering a forward-facing capture, else the protocol's."""
    parts = [f"{show(GIVEN_POSES[name])} for --init file{why}"] if name in GIVEN_POSES else []
    if name in FORWARD_FACING:
        parts.append(f"{show(FORWARD_FACING[name])} to register forward-facing (LLFF) data")
    return "; ".join(parts + [f"{show(getattr(CPU_PROTOCOL, name))} otherwise"])


# TrainConfig fields set by options: default, help and type from CPU_PROTOCOL and TrainConfig's docstring;
# default=None where the command resolves the default itself (from the data, --init or --pose-model)
_TRAIN_OPTIONS = (
    Opt("steps", "--steps", positive_int, default=None,
        shown=f"{CPU_PROTOCOL.steps} procedural, {_DEFAULT_STEPS_DATA} data"),
    Opt("schedule_steps", "--schedule-steps", positive_int, shown="--steps"),
    Opt("pose_warmup", "--pose-warmup", nonneg_int, default=None,
        shown=_given_or_protocol("pose_warmup", ", where the field should take shape before it judges good poses")),
    Opt("pose_lr_ramp", "--pose-lr-ramp", nonneg_int, default=None, shown=_given_or_protocol("pose_lr_ramp")),
    Opt("pose_prior", "--pose-prior", nonneg_float, default=None,
        shown=_given_or_protocol("pose_prior", ", which keeps given poses from drifting")),
    Opt("rays_per_step", "--rays", positive_int),
    Opt("render.n_samples", "--samples", positive_int, default=None, shown=show(CPU_PROTOCOL.render.n_samples)),
    Opt("render.n_importance", "--importance", nonneg_int, default=None, shown=show(CPU_PROTOCOL.render.n_importance)),
    Opt("lr_field", "--lr-field", positive_float, default=None, shown=_given_or_protocol("lr_field")),
    Opt("lr_pose", "--lr-pose", positive_float, default=None, shown=_given_or_protocol("lr_pose")),
    Opt("lr_pose_end", "--lr-pose-end", positive_float,
        shown=f"{default_lr_pose_end('se3'):g} for se3, {default_lr_pose_end('warp'):g} for the warp, at most "
              f"--lr-pose; {show(FORWARD_FACING['lr_pose_end'])} (held) to register forward-facing data"),
)


def register(sub) -> None:
    p = sub.add_parser(
        "fit-scene", help="fit a NeRF while optimising its camera poses",
        description="Train a radiance field jointly with the camera poses (fixed, BARF se(3) refinement, or the "
                    "invertible neural warp) and write rendered test views, a turntable GIF, a camera-position plot "
                    "(ground truth / initial / estimated), metrics.json and a checkpoint into --out. With no DATA, "
                    "renders the built-in procedural scene (exact poses), perturbs its poses and registers them.")
    p.add_argument("data", nargs="?", default=None,
                   help="Blender/Instant-NGP scene folder or transforms JSON, or an LLFF folder (poses_bounds.npy); "
                        "default: the procedural scene")
    p.add_argument("--pose-model", default="se3", choices=POSE_MODELS.names(),
                   help="fixed poses; se3: BARF's per-frame se(3) correction, on the world side as in BARF's code; "
                        "se3_camera: the same on the camera side; warp: the invertible neural warp (default: se3; "
                        "docs/benchmarks.md compares them)")
    p.add_argument("--init", default=None, choices=["file", "noisy", "identity", "gt"],
                   help="initial poses: 'file' refines the poses the data gives (default for DATA), 'noisy' adds "
                        "BARF's world-side se(3) noise to them (BARF's evaluation protocol; default for the procedural "
                        "scene), 'identity' starts every camera at the origin (BARF's LLFF protocol); 'gt' is "
                        "another name for 'file'")
    p.add_argument("--noise", type=positive_float, default=None,
                   help="BARF se(3) noise sigma for --init noisy (default: 0.08 procedural, 0.15 otherwise)")
    add_config_options(p, CPU_PROTOCOL, _TRAIN_OPTIONS)
    p.add_argument("--size", type=positive_int, default=32, help="procedural scene image size (default: 32)")
    p.add_argument("--views", type=positive_int, default=24, help="procedural scene training views (default: 24)")
    p.add_argument("--downscale", type=_downscale, default=1.0,
                   help="resize Blender images by this factor, e.g. 0.5 (default: 1)")
    p.add_argument("--llff-factor", type=positive_int, default=8, help="LLFF images_N folder to use (default: 8)")
    p.add_argument("--max-frames", type=positive_int, default=None, help="use at most this many training frames")
    p.add_argument("--holdout-every", type=nonneg_int, default=8,
                   help="when DATA has no test split, hold out frames 0, N, 2N, ... as test views (default: 8, "
                        "the LLFF convention; 0 keeps every frame for training)")
    p.add_argument("--test-time-refine", type=nonneg_int, default=100,
                   help="steps of photometric test-pose refinement before measuring test PSNR, BARF's protocol "
                        "(default: 100; 0 turns it off)")
    p.add_argument("--large", action="store_true", help="bigger field/warp (BARF-like widths); slower")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads for torch (default: one per core, at most 4)")
    p.add_argument("--resume", default=None, help="continue from a checkpoint written by an earlier fit-scene run")
    add_log_option(p)
    add_common_options(p, "outputs/fit-scene")
    p.set_defaults(func=run_fit_scene)


def _downscale(text: str) -> float:
    v = positive_float(text)
    if not 1e-3 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a factor in [0.001, 1] (images are only made smaller), got {text}")
    return v


def _load(args, scratch: Path):
    """Training scene, test scene (or None) and a description; validates before anything is written.

    Warnings while reading (frames skipped for missing images) are shown once the scene has loaded: when it
    fails, the error is the one line printed."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        loaded = _load_scene(args, scratch)
    for w in caught:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return loaded


def _load_scene(args, scratch: Path):
    from rankfield.nerf.data import holdout_split, load_blender, load_llff
    from rankfield.nerf.procedural import generate_procedural_scene

    if args.data is None:
        root = generate_procedural_scene(scratch / "scene", n_train=args.views, n_test=6, size=args.size, seed=args.seed)
        return load_blender(root, "train"), load_blender(root, "test"), "procedural scene"
    path = Path(args.data)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    if path.is_dir() and (path / "poses_bounds.npy").exists():
        train, test, what = load_llff(path, factor=args.llff_factor), None, f"LLFF {path}"
        if args.max_frames:
            train = train.subset(slice(0, args.max_frames))
    else:
        train, what = load_blender(path, "train", downscale=args.downscale, max_frames=args.max_frames), f"Blender {path}"
        test = None
        if path.is_dir() and (path / "transforms_test.json").exists():
            test = load_blender(path, "test", downscale=args.downscale, max_frames=8)
    if test is None and args.holdout_every and len(train) >= 2 * args.holdout_every:
        train, test = holdout_split(train, args.holdout_every)
        what += f" (frames 0, {args.holdout_every}, ... held out as {len(test)} test views)"
    return train, test, what


def run_fit_scene(args: argparse.Namespace) -> int:
    require_pictures()
    import tempfile

    import torch

    from rankfield._device import resolve_device
    from rankfield.errors import InputError
    from rankfield.nerf.evaluate import pose_errors
    from rankfield.nerf.pipeline import default_configs, fit_pose_nerf
    from rankfield.nerf.plotting import plot_cameras, save_turntable, save_view_grid, turntable_poses
    from rankfield.nerf.poses import identity_poses, perturb_poses_barf
    from rankfield.nerf.train import CHECKPOINT_KIND

    device = resolve_device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(args.threads or min(4, torch.get_num_threads()))
    ck = load_run_checkpoint(args, CHECKPOINT_KIND)
    init_c2w = ck["extra"].get("init_c2w") if ck is not None else None
    check_memory(4.0 * 3 * 4 * args.views * args.size ** 2 if args.data is None else 0, "the procedural scene")
    out = Path(args.out)
    with tempfile.TemporaryDirectory() as tmp:  # the procedural scene is rendered there and read back
        train, test, what = _load(args, Path(tmp))
    kind = args.init or ("noisy" if args.data is None else "file")
    if args.steps is None:
        args.steps = CPU_PROTOCOL.steps if args.data is None else _DEFAULT_STEPS_DATA
    if args.noise is None:
        args.noise = 0.08 if args.data is None else 0.15
    if init_c2w is None:
        init_c2w = {"noisy": lambda: perturb_poses_barf(train.poses, args.noise, seed=args.seed + 1),
                    "identity": lambda: identity_poses(len(train)), "gt": lambda: train.poses.clone(),
                    "file": lambda: train.poses.clone()}[kind]()
    field_cfg, warp_cfg = default_configs(train, quick=not args.large)
    given = GIVEN_POSES if kind in ("file", "gt") else {name: getattr(CPU_PROTOCOL, name) for name in GIVEN_POSES}
    given = {"lr_field": CPU_PROTOCOL.lr_field, "pose_lr_ramp": CPU_PROTOCOL.pose_lr_ramp, **given}
    if train.forward_facing and kind not in ("file", "gt"):
        given.update(FORWARD_FACING)
    render = CPU_PROTOCOL.render  # every init and scene renders the protocol's samples
    given.update(samples=render.n_samples, importance=render.n_importance)
    for name, value in given.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    samples = args.samples + args.importance  # the pass with gradients holds both
    check_memory(4.0 * args.rays * samples * 2000, f"{args.rays} rays x {samples} samples per step", device)
    cfg = config_from_args(args, CPU_PROTOCOL, _TRAIN_OPTIONS, lr_field_end=min(CPU_PROTOCOL.lr_field_end, args.lr_field),
                           lr_pose_end=min(args.lr_pose_end or default_lr_pose_end(args.pose_model), args.lr_pose),
                           progress=not args.no_progress, seed=args.seed).validate()
    cfg, field_cfg, warp_cfg = adopt_stored_configs(args, train=cfg, field=field_cfg, warp=warp_cfg)
    rcfg = replace(cfg.render, white_background=train.white_background, inverse_depth=train.forward_facing)

    def first_view(trainer):  # training view 0 rendered at its current estimated pose, beside its photograph
        from rankfield.nerf.evaluate import render_view

        c2w = trainer.modules["pose_model"].poses()[0].detach()
        rgb = render_view(trainer.modules["field"], c2w, train.intrinsics, rcfg, train.near, train.far)["rgb"]
        return {"view0_render": rgb, "view0_photo": train.images[0]}

    callbacks = log_callbacks(args, out, images=first_view)
    out.mkdir(parents=True, exist_ok=True)
    print(f"fit-scene: {what}, {len(train)} views {train.intrinsics.width}x{train.intrinsics.height}, "
          f"init={kind}" + (f" (sigma={args.noise})" if kind == "noisy" else "") +
          f", pose model={args.pose_model}, {args.steps} steps on {device}")
    if kind in ("file", "gt") and args.pose_model != "fixed":
        print(f"poses: held near the file's (they start at step {cfg.pose_warmup}, pose LR {cfg.lr_pose:g}, prior "
              f"{cfg.pose_prior:g}; --pose-prior 0 --pose-warmup 0 --lr-pose {CPU_PROTOCOL.lr_pose:g} to register "
              "rough poses)")
    t0 = time.perf_counter()
    res = fit_pose_nerf(train, test, init_c2w, args.pose_model, field_config=field_cfg, warp_config=warp_cfg,
                        train_config=cfg, device=device, seed=args.seed, checkpoint_path=out / "checkpoint.pt",
                        resume=args.resume, test_time_refine=args.test_time_refine, callbacks=callbacks,
                        extra={"cli": cli_record(args), "init_c2w": init_c2w})
    for cb in callbacks:
        cb.close()
    m = res.metrics
    sim = res.errors["sim"] if args.pose_model != "fixed" else None
    written = []
    if res.views is not None:
        written.append(save_view_grid(res.views["renders"], test.images, out / "test_views.png"))
    else:  # no test split: show training views rendered at their estimated poses
        from rankfield.nerf.evaluate import render_view

        est = res.pose_model.poses().cpu()
        n = min(6, len(train))
        renders = torch.stack([render_view(res.field, est[i], train.intrinsics, rcfg, train.near, train.far)["rgb"].cpu()
                               for i in range(n)])
        written.append(save_view_grid(renders, train.images[:n], out / "train_views.png"))
    init_aligned = pose_errors(init_c2w, train.poses)["aligned"] if kind != "identity" else None
    written.append(plot_cameras(train.poses, init_aligned, res.errors["aligned"], out / "cameras.png",
                                title=f"{args.pose_model}: rot {m['rotation_deg']:.2f} deg (init {m['initial_rotation_deg']:.2f})"))
    tt = turntable_poses(train.poses, n=24, forward_facing=train.forward_facing)
    tt_cam = train.intrinsics.scaled(2.0) if max(train.intrinsics.width, train.intrinsics.height) < 64 else train.intrinsics
    written.append(save_turntable(res.field, tt_cam, tt, sim, rcfg, train.near, train.far, out / "turntable.gif"))
    m["total_seconds"] = round(time.perf_counter() - t0, 2)
    m["data"] = what
    atomic_write(out / "metrics.json", json.dumps(m, indent=2))
    written += [out / "metrics.json", out / "config.json", out / "checkpoint.pt"]
    if kind in ("file", "gt"):
        print(f"poses: refined away from the file's poses by {m['rotation_deg']:.3f} deg rotation and "
              f"{m['centre_distance']:.4f} camera-centre distance (mean; the file's poses are the reference)")
    else:
        print(f"poses: rotation error {m['initial_rotation_deg']:.3f} -> {m['rotation_deg']:.3f} deg (relative, "
              f"free of the alignment: {m['initial_relative_rotation_deg']:.3f} -> {m['relative_rotation_deg']:.3f}), "
              f"translation (BARF's, w2c) {m['initial_translation']:.4f} -> {m['translation']:.4f}, "
              f"camera-centre distance {m['initial_centre_distance']:.4f} -> {m['centre_distance']:.4f}"
              + ("" if m["alignment"] == "sim3" else " (aligned by translation only: the estimated centres coincide)"))
    if "test_psnr" in m:
        print(f"test views: PSNR {m['test_psnr']:.2f} dB, SSIM {m['test_ssim']:.3f}")
    print(f"train PSNR (last 100 steps) {m['train_psnr_last100']:.2f} dB; training {m['train_seconds']:.1f} s, "
          f"evaluation and pictures {m['total_seconds'] - m['train_seconds']:.1f} s"
          + (f" (test views refined for {args.test_time_refine} steps each)" if m.get("test_time_refine") else ""))
    print(f"outputs written to {out}/: " + ", ".join(Path(w).name for w in written))
    return 0
