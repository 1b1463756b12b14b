"""``rankfield fit-image``, ``rankfield fit-images`` and ``rankfield fit-signal``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rankfield._io import atomic_write, check_memory
from rankfield.cli._common import (add_common_options, add_log_option, adopt_stored_configs, cli_record,
                                  load_run_checkpoint, log_callbacks, positive_float, positive_int, require_pictures)
from rankfield.cli._options import ConfigOption as Opt, add_config_options, config_from_args
from rankfield.errors import InputError


# MLPConfig fields set by options: default from the command's preset (_model_preset), help from MLPConfig's docstring
_MODEL_OPTIONS = (Opt("width", "--width", positive_int), Opt("depth", "--depth", positive_int),
                  Opt("rank", "--rank", positive_int),
                  Opt("omega0", "--omega0", positive_float, shown="the activation's paper value"),
                  Opt("first_bias_scale", "--first-bias-scale", positive_float, shown="the layer's default bias"),
                  Opt("gauss_scale", "--gauss-scale", positive_float), Opt("wire_sigma0", "--wire-sigma", positive_float),
                  Opt("sine_omega", "--sine-omega", positive_float), Opt("batchnorm", "--batchnorm"))
# options that only one activation, encoding or layer type reads: giving one to another is an error
_USED_BY = {"first_bias_scale": ("activation", ("finer",)), "gauss_scale": ("activation", ("gauss",)),
            "wire_sigma": ("activation", ("wire",)), "omega0": ("activation", ("sine", "finer", "wire")),
            "sine_omega": ("linear", ("sine_lowrank",)), "rank": ("linear", ("lowrank", "sine_lowrank"))}


def _model_preset(command: str):
    """The model a command fits unless options say otherwise (its defaults are the options' defaults)."""
    from rankfield.inr import MLPConfig

    width = {"fit-image": 256, "fit-images": 64, "fit-signal": 128}[command]
    return MLPConfig(activation="sine", width=width, depth=3)


def _add_model_options(p: argparse.ArgumentParser, command: str) -> None:
    from rankfield.inr.activations import ACTIVATIONS
    from rankfield.inr.encodings import ENCODINGS
    from rankfield.inr.layers import LINEAR_TYPES
    from rankfield.inr.mlp import INITS

    preset = _model_preset(command)
    p.set_defaults(_model_preset=preset)
    g = p.add_argument_group("model")
    add_config_options(g, preset, (Opt("activation", "--activation", choices=ACTIVATIONS.names()),
                                   Opt("init", "--init", choices=INITS.names()),
                                   Opt("encoding", "--encoding", choices=("none",) + ENCODINGS.names(), default="none"),
                                   Opt("linear", "--linear", choices=LINEAR_TYPES)) + _MODEL_OPTIONS)
    g.add_argument("--frequencies", type=positive_int, default=None,
                   help="positional encoding: frequencies per axis (default: 10); fourier: features (default: 256)")
    g.add_argument("--fourier-sigma", type=positive_float, default=None,
                   help="standard deviation of the Fourier-feature matrix (default: 10)")


# FitConfig fields set by options: default, help and type from FitConfig's defaults and docstring
_FIT_OPTIONS = (Opt("lr", "--lr", positive_float), Opt("lr_schedule", "--lr-schedule"),
                Opt("lr_end", "--lr-end", positive_float, shown="lr / 10"),
                Opt("batch_size", "--batch-size", positive_int, shown="full batch"))
_FIT_SINGLE_OPTIONS = (Opt("optimizer", "--optimizer"), Opt("amp", "--amp"), Opt("compile", "--compile"))


def _add_train_options(p: argparse.ArgumentParser, steps: int, single: bool = True) -> None:
    from rankfield.inr import FitConfig

    g = p.add_argument_group("training")
    g.add_argument("--steps", type=positive_int, default=steps, help=f"optimizer steps (default: {steps})")
    add_config_options(g, FitConfig(), _FIT_OPTIONS)
    if not single:  # fit-images: Adam, full precision, no checkpoints
        return
    add_config_options(g, FitConfig(), _FIT_SINGLE_OPTIONS)
    g.add_argument("--resume", default=None, help="continue from a checkpoint written by an earlier run")


def register(sub) -> None:
    p = sub.add_parser("fit-image", help="fit a coordinate MLP to an image",
                       description="Fit a coordinate MLP to an image and write the reconstruction, an error map, "
                                   "a PSNR curve, metrics.json, config.json and a checkpoint into --out. With no "
                                   "IMAGE, fits scikit-image's bundled 'astronaut' photograph.")
    p.add_argument("image", nargs="?", default=None,
                   help="image file (PNG/JPEG/TIFF..., gray/RGB/RGBA, 8/16-bit) or .npy array; default: astronaut")
    p.add_argument("--size", type=positive_int, default=128,
                   help="resize so the longer side has this many pixels (default: 128)")
    p.add_argument("--full-size", action="store_true", help="keep the image's own size (ignores --size)")
    p.add_argument("--holdout", action="store_true",
                   help="train on the every-other-pixel grid and report PSNR on the held-out pixels")
    _add_model_options(p, "fit-image")
    _add_train_options(p, 300)
    add_log_option(p)
    add_common_options(p, "outputs/fit-image")
    p.set_defaults(func=run_fit_image)

    m = sub.add_parser("fit-images", help="fit one coordinate MLP per image for a folder of images, all at once",
                       description="Fit one coordinate MLP to every image of a folder in lock-step (stacked networks, "
                                   "torch.func.vmap; the same result as fitting each image alone). Images are "
                                   "centre-cropped to squares and resized to --size. Writes reconstructions/<name>.png, "
                                   "grid.png (targets above reconstructions), metrics.json (per image and summary), "
                                   "summary.md and config.json into --out. With no FOLDER, fits five photographs "
                                   "bundled with scikit-image.")
    m.add_argument("folder", nargs="?", default=None,
                   help="folder of images (png/jpg/jpeg/tif/tiff/bmp/npy; other files are skipped)")
    m.add_argument("--size", type=positive_int, default=64, help="side of the square images (default: 64)")
    m.add_argument("--holdout", action="store_true",
                   help="train on the every-other-pixel grid and report PSNR on the held-out pixels")
    m.add_argument("--chunk-size", type=positive_int, default=None,
                   help="images trained together (default: as many as fit a memory budget)")
    m.add_argument("--target-psnr", type=positive_float, default=None,
                   help="stop each image's network once its training PSNR reaches this (dB)")
    _add_model_options(m, "fit-images")
    _add_train_options(m, 300, single=False)
    add_common_options(m, "outputs/fit-images")
    m.set_defaults(func=run_fit_images)

    q = sub.add_parser("fit-signal", help="fit a coordinate MLP to a 1-D signal",
                       description="Fit a coordinate MLP to a 1-D signal (.npy; .csv/.txt numeric columns, one "
                                   "sample per row, optionally below a one-line header; a first column headed t or time gives the "
                                   "sample times; .wav) and write a plot of the fit, a PSNR curve, metrics.json, config.json and a checkpoint into "
                                   "--out. With no SIGNAL, fits a generated chirp.")
    q.add_argument("signal", nargs="?", default=None, help="signal file; default: a chirp from 2 to 60 cycles")
    q.add_argument("--samples", type=positive_int, default=2048, help="samples of the generated chirp (default: 2048)")
    _add_model_options(q, "fit-signal")
    _add_train_options(q, 500)
    add_log_option(q)
    add_common_options(q, "outputs/fit-signal")
    q.set_defaults(func=run_fit_signal)


def _model_and_config(args, in_features: int, out_features: int, out: Path):
    from rankfield._device import resolve_device
    from rankfield.inr import CoordinateMLP, FitConfig, MLPConfig
    from rankfield.inr.activations import paper_omega0

    resolve_device(args.device)  # fail on an unavailable device before anything is written
    explicit = getattr(args, "_explicit", set())
    if args.init in ("rank_expanding", "hat_basis") and "activation" not in explicit and args.activation != "relu":
        args.activation = "relu"  # both rank-expanding inits are ReLU inits: asking for one asks for ReLU
    encoding = None if args.encoding == "none" else args.encoding
    options = {}
    if args.frequencies is not None:
        if encoding not in ("positional", "fourier"):
            raise InputError("--frequencies is used by --encoding positional or fourier")
        options["n_frequencies" if encoding == "positional" else "n_features"] = args.frequencies
    if args.fourier_sigma is not None:
        if encoding != "fourier":
            raise InputError("--fourier-sigma is used by --encoding fourier")
        options["sigma"] = args.fourier_sigma
    preset = args._model_preset
    for dest, (chooser, users) in _USED_BY.items():
        if getattr(args, dest) is None:  # a config.json or checkpoint of an earlier version: the preset's value
            setattr(args, dest, getattr(preset, "wire_sigma0" if dest == "wire_sigma" else dest))
        elif dest in explicit and getattr(args, chooser) not in users:
            flag, used = "--" + dest.replace("_", "-"), " or ".join(users)
            raise InputError(f"{flag} is used by --{chooser} {used}, not by --{chooser} {getattr(args, chooser)}")
    if getattr(args, "batchnorm", False) and args.command == "fit-images":
        raise InputError("--batchnorm is not supported by fit-images (BatchNorm statistics are per-network state)")
    if args.command == "fit-images" and args.activation == "wire":
        raise InputError("--activation wire is not supported by fit-images (complex weights); use fit-image")
    omega0 = args.omega0 if args.omega0 is not None else paper_omega0(args.activation)
    mlp = config_from_args(args, preset, _MODEL_OPTIONS, activation=args.activation, init=args.init,
                           linear=args.linear, in_features=in_features, out_features=out_features, encoding=encoding,
                           encoding_options=options, omega0=omega0, seed=args.seed).validate()
    single = args.command != "fit-images"
    cfg = config_from_args(args, FitConfig(), _FIT_OPTIONS + (_FIT_SINGLE_OPTIONS if single else ()),
                           steps=args.steps, device=args.device, progress=not args.no_progress, seed=args.seed,
                           **(dict(checkpoint_path=str(out / "checkpoint.pt")) if single else {})).validate()
    mlp, cfg = adopt_stored_configs(args, model=mlp, fit=cfg)
    return CoordinateMLP(mlp), cfg


def _describe(args) -> str:
    what = args.activation
    if args.init == "rank_expanding":
        what += " + rank-expanding init"
    elif args.init == "hat_basis":
        what += " + hat-basis init (ours, two layers)"
    if args.encoding != "none":
        what += f" + {args.encoding} encoding"
    if args.linear != "dense":
        what += f" ({args.linear} hidden layers" + (f", rank {args.rank})" if args.rank else ")")
    return what


def run_fit_image(args) -> int:
    require_pictures()
    from rankfield.inr import default_image, fit_image, image_coordinates, load_image, predict
    from rankfield.inr.fitting import CHECKPOINT_KIND
    from rankfield.inr.plotting import save_comparison, save_curves, save_error_map, save_image

    load_run_checkpoint(args, CHECKPOINT_KIND)
    image = default_image(None) if args.image is None else load_image(args.image)
    source = "scikit-image astronaut" if args.image is None else args.image
    if not args.full_size:
        from rankfield.inr.data import resize_image

        own = tuple(image.shape[:2])
        image = resize_image(image, args.size)
        if tuple(image.shape[:2]) != own:
            print(f"resized {own[0]}x{own[1]} to {image.shape[0]}x{image.shape[1]} (--size {args.size} sets the "
                  "longer side; --full-size keeps the image's own size)")
    out = Path(args.out)
    model, cfg = _model_and_config(args, 2, image.shape[-1], out)  # validate before writing anything
    coords = image_coordinates(*image.shape[:2])
    callbacks = log_callbacks(args, out, images=lambda trainer: {"reconstruction": predict(model, coords),
                                                                  "target": image})
    out.mkdir(parents=True, exist_ok=True)
    what = _describe(args)
    print(f"fitting {source} ({image.shape[0]}x{image.shape[1]}, {image.shape[2]} channel(s)) with "
          f"{what} {args.width}x{args.depth}, {model.num_parameters()} parameters, {args.steps} steps")
    res = fit_image(image, model=model, config=cfg, holdout=args.holdout, resume=args.resume,
                    extra={"cli": cli_record(args)}, callbacks=callbacks)
    for cb in callbacks:
        cb.close()
    pred = res.prediction
    save_image(out / "target.png", image)
    save_image(out / "reconstruction.png", pred)
    save_error_map(out / "error_map.png", pred, image)
    save_comparison(out / "comparison.png", image, pred, title=f"{what}: {res.metrics['psnr']:.2f} dB")
    save_curves(out / "psnr_curve.png", res.history)
    metrics = {"source": source, "height": image.shape[0], "width": image.shape[1], "channels": image.shape[2],
               "parameters": model.num_parameters(), "model": model.config.to_dict(), **res.metrics}
    atomic_write(out / "metrics.json", json.dumps(metrics, indent=2))
    line = f"PSNR {res.metrics['psnr']:.2f} dB, SSIM {res.metrics['ssim']:.4f}"
    if args.holdout:
        line += f"; held-out pixels {res.metrics['psnr_heldout']:.2f} dB, training pixels {res.metrics['psnr_train']:.2f} dB"
    print(line + f" ({res.metrics['steps_per_s']:.1f} steps/s)")
    print(f"wrote target.png, reconstruction.png, comparison.png, error_map.png, psnr_curve.png, metrics.json, "
          f"config.json, checkpoint.pt to {out}/")
    return 0


_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".npy")
_BUNDLED = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry")


def _square(img, size: int):
    from rankfield.inr.data import center_square, resize_image

    return resize_image(center_square(img), (size, size))


def _load_folder(folder, size: int):
    """``(names, images (N, size, size, C))`` from a folder: centre-cropped squares, one channel count."""
    import torch

    from rankfield.inr.data import load_image, to_float_image

    if folder is None:
        from rankfield._extras import require

        data = require("skimage.data", "plot", "the sample photographs")

        names = list(_BUNDLED)
        images = [_square(to_float_image(getattr(data, n)(), f"skimage {n}"), size) for n in names]
    else:
        root = Path(folder)
        if not root.exists():
            raise InputError(f"folder {root} does not exist")
        if not root.is_dir():
            raise InputError(f"{root} is a file; fit-images takes a folder of images (fit-image takes one file)")
        files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)
        if not files:
            raise InputError(f"{root} holds no image files ({', '.join(_IMAGE_SUFFIXES)})")
        names = [p.stem for p in files]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})[0]
            raise InputError(f"{root}: several files are named {dup!r} (with different extensions); rename one")
        images = [_square(load_image(p), size) for p in files]
    channels = max(im.shape[-1] for im in images)
    if channels == 4 or channels == 2:  # alpha is not fitted
        channels -= 1
        images = [im[..., :channels] if im.shape[-1] > channels else im for im in images]
    images = [im.expand(-1, -1, channels) if im.shape[-1] == 1 else im[..., :channels] for im in images]
    return names, torch.stack(images)


def run_fit_images(args) -> int:
    require_pictures()
    from rankfield.inr import CoordinateMLP, fit_images
    from rankfield.inr.plotting import save_image, save_image_grid

    names, images = _load_folder(args.folder, args.size)
    out = Path(args.out)
    model, cfg = _model_and_config(args, 2, images.shape[-1], out)  # validate before writing anything
    source = "scikit-image's bundled photographs" if args.folder is None else args.folder
    print(f"fitting {len(names)} images from {source} ({args.size}x{args.size}, {images.shape[-1]} channel(s)) with "
          f"one {_describe(args)} {args.width}x{args.depth} each ({model.num_parameters()} parameters), "
          f"{args.steps} steps, all at once")
    res = fit_images(images, model.config, cfg, holdout=args.holdout, chunk_size=args.chunk_size,
                     target_psnr=args.target_psnr)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reconstructions").mkdir(exist_ok=True)
    for name, pred in zip(names, res.predictions):
        save_image(out / "reconstructions" / f"{name}.png", pred)
    titles = [(name, f"{m['psnr']:.1f} dB") for name, m in zip(names, res.metrics)]
    save_image_grid(out / "grid.png", images, res.predictions, titles)
    keys = ["psnr", "ssim"] + (["psnr_heldout"] if args.holdout else []) + ["steps"]
    per_image = [{"name": n, **{k: m[k] for k in keys}} for n, m in zip(names, res.metrics)]
    psnrs = sorted(m["psnr"] for m in res.metrics)
    summary = {"images": len(names), "psnr_mean": sum(psnrs) / len(psnrs), "psnr_median": psnrs[len(psnrs) // 2],
               "psnr_min": psnrs[0], "seconds": res.seconds}
    atomic_write(out / "metrics.json", json.dumps({"source": str(source), "size": args.size,
                                                   "model": model.config.to_dict(), "per_image": per_image,
                                                   "summary": summary}, indent=2))
    header = "| image | " + " | ".join(keys) + " |"
    rows = [header, "|" + "---|" * (len(keys) + 1)]
    for r in per_image:
        rows.append(f"| {r['name']} | " + " | ".join(f"{r[k]:.4f}" if k == "ssim" else
                                                     f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k])
                                                     for k in keys) + " |")
    table = "\n".join(rows)
    atomic_write(out / "summary.md", f"# fit-images: {len(names)} images from {source}\n\n{table}\n\n"
                                     f"mean PSNR {summary['psnr_mean']:.2f} dB, median {summary['psnr_median']:.2f} dB, "
                                     f"training {res.seconds:.1f} s\n")
    print(table)
    print(f"mean PSNR {summary['psnr_mean']:.2f} dB (median {summary['psnr_median']:.2f}, min {summary['psnr_min']:.2f}); "
          f"{res.seconds:.1f} s of training")
    print(f"wrote reconstructions/ ({len(names)} PNGs), grid.png, metrics.json, summary.md, config.json to {out}/")
    return 0


_SIGNAL_FORMAT = "numeric columns, one sample per row, optionally below a one-line header"


def _read_signal(path, load_signal):
    """A signal file as ``(signal (N, C), times (N, 1) or None)``: ``.csv``/``.txt`` are read here (numeric
    columns, blank lines and ``#`` comments skipped, a first row that is not numeric taken as a header and said; a
    first column headed ``t``/``time`` is the sample times, mapped linearly onto the span of
    ``grid_coordinates(N)``); other files by :func:`~rankfield.inr.load_signal`."""
    import warnings

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".txt") or not path.is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a reader's warning before the error line would be a second line
            return load_signal(path), None
    check_memory(40.0 * path.stat().st_size, f"reading {path}")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file (expected {_SIGNAL_FORMAT})") from None
    comma = path.suffix.lower() == ".csv"
    rows = []  # (line number, fields)
    for i, line in enumerate(lines):
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append((i + 1, [f.strip() for f in line.split(",")] if comma else line.split()))
    if not rows:
        raise InputError(f"{path}: holds no samples (expected {_SIGNAL_FORMAT})")
    header = None
    if not all(_is_number(f) for f in rows[0][1]):
        header, rows = rows[0][1], rows[1:]
        if not rows:
            raise InputError(f"{path}: a header row and no samples (expected {_SIGNAL_FORMAT})")
    width = len(header or rows[0][1])
    values = []
    for number, row in rows:
        if len(row) != width:
            raise InputError(f"{path}: line {number} has {len(row)} field(s), the "
                             f"{'header' if header else 'first row'} has {width} (expected {_SIGNAL_FORMAT})")
        bad = next((f for f in row if not _is_number(f)), None)
        if bad is not None:
            raise InputError(f"{path}: line {number}: not a number: {bad!r} (expected {_SIGNAL_FORMAT})")
        values.append([float(f) for f in row])
    import torch

    from rankfield.inr.data import check_finite

    sig = check_finite(str(path), torch.tensor(values, dtype=torch.float64).float())
    if sig.shape[0] < 2:
        raise InputError(f"{path}: a signal needs at least 2 samples, got {sig.shape[0]}")
    times = None
    if header and header[0].strip().lower() in _TIME_NAMES and sig.shape[1] >= 2:
        times, sig = sig[:, 0].double(), sig[:, 1:]
        if not bool((times[1:] > times[:-1]).all()):
            raise InputError(f"{path}: its time column {header[0]!r} must increase strictly from row to row")
        n = sig.shape[0]  # onto the span of grid_coordinates(n): uniform times give exactly its coordinates
        lo, hi = -1 + 1 / n, 1 - 1 / n
        times = (lo + (times - times[0]) / (times[-1] - times[0]) * (hi - lo)).float().unsqueeze(-1)
    if header:
        used = (f"column {header[0]!r} taken as the sample times, {sig.shape[1]} signal column(s)"
                if times is not None else f"{sig.shape[1]} column(s)")
        print(f"{path}: skipped its header row ({', '.join(header)}); {sig.shape[0]} samples, {used}")
    return sig, times


_TIME_NAMES = ("t", "time", "times", "time_s", "seconds")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def run_fit_signal(args) -> int:
    require_pictures()
    from rankfield.inr import chirp, fit_signal, grid_coordinates, load_signal
    from rankfield.inr.fitting import CHECKPOINT_KIND
    from rankfield.inr.plotting import save_curves, save_signal_plot

    load_run_checkpoint(args, CHECKPOINT_KIND)
    if args.signal is None:
        check_memory(4 * 40.0 * args.samples, f"a chirp of {args.samples} samples")
        t, signal = chirp(args.samples)
        source = f"chirp ({args.samples} samples)"
    else:
        signal, t = _read_signal(args.signal, load_signal)
        t = grid_coordinates(signal.shape[0]) if t is None else t
        source = args.signal
    out = Path(args.out)
    model, cfg = _model_and_config(args, 1, signal.shape[1], out)
    callbacks = log_callbacks(args, out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"fitting {source} with {_describe(args)} {args.width}x{args.depth}, {args.steps} steps")
    res = fit_signal(signal, t=t, model=model, config=cfg, resume=args.resume, extra={"cli": cli_record(args)},
                     callbacks=callbacks)
    for cb in callbacks:
        cb.close()
    save_signal_plot(out / "signal_fit.png", t, signal, res.prediction)
    save_curves(out / "psnr_curve.png", res.history)
    atomic_write(out / "metrics.json", json.dumps({"source": source, "samples": signal.shape[0],
                                                   "model": model.config.to_dict(), **res.metrics}, indent=2))
    print(f"PSNR {res.metrics['psnr']:.2f} dB")
    print(f"wrote signal_fit.png, psnr_curve.png, metrics.json, config.json, checkpoint.pt to {out}/")
    return 0
