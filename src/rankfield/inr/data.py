"""Targets for coordinate MLPs: images, 1-D signals and 3-D occupancy of analytic shapes.

Coordinate convention (every fitting function): coordinates are in ``[-1, 1]`` at sample centres.
Images use ``(row, col)`` order, i.e. ``coords[i, j] = (y_i, x_j)`` with ``y`` running down the image.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rankfield._extras import require
from rankfield._io import check_memory
from rankfield.errors import InputError

__all__ = ["load_image", "default_image", "resize_image", "grid_coordinates", "image_coordinates",
           "chirp", "load_signal", "SHAPES", "shape_occupancy", "check_finite", "to_float_image"]


def check_finite(name: str, t: torch.Tensor) -> torch.Tensor:
    """Raise :class:`InputError` if ``t`` is empty or holds NaN/Inf."""
    if t.numel() == 0:
        raise InputError(f"{name} is empty (zero size)")
    if not torch.isfinite(t).all():
        bad = int((~torch.isfinite(t)).sum())
        raise InputError(f"{name} contains {bad} NaN/Inf value(s)")
    return t


def to_float_image(arr: np.ndarray, source: str) -> torch.Tensor:
    """A decoded image array as a float ``(H, W, C)`` tensor in ``[0, 1]`` (C in 1..4), checked.

    Integer pixels are scaled by their type's range, booleans become 0/1, floats are kept; a 2-D array gets one
    channel. Anything else (another pixel type or shape, a zero-size or non-finite image) raises
    :class:`InputError` naming ``source``. What :func:`load_image` applies to a decoded file.

    Examples:
        >>> import numpy as np
        >>> to_float_image(np.full((2, 3), 255, dtype=np.uint8), "demo").shape
        torch.Size([2, 3, 1])
    """
    if arr.dtype == np.bool_:
        arr = arr.astype(np.float32)
    elif arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.uint16:
        arr = arr.astype(np.float32) / 65535.0
    elif np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        arr = (arr.astype(np.float64) - info.min) / (info.max - info.min)
    elif np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    else:
        raise InputError(f"{source}: unsupported pixel type {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise InputError(f"{source}: expected an image of shape (H, W) or (H, W, C) with C in 1..4, got {arr.shape}")
    img = torch.from_numpy(np.ascontiguousarray(arr)).float()
    check_finite(f"{source}", img)
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise InputError(f"{source}: zero-size image {tuple(img.shape)}")
    return img


def load_image(path: str | Path, size: int | None = None) -> torch.Tensor:
    """Read an image file as a float tensor ``(H, W, C)`` in ``[0, 1]`` (gray, RGB, RGBA; 8/16-bit).

    ``size`` resizes so that the longer side is ``size`` pixels (antialiased). ``.npy`` arrays are
    accepted too (floats taken as they are).

    Examples:
        >>> import tempfile, numpy as np
        >>> from rankfield.inr import load_image
        >>> path = tempfile.mkdtemp() + "/ramp.npy"
        >>> np.save(path, np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4))
        >>> load_image(path, size=8).shape
        torch.Size([6, 8, 1])
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an image file")
    if path.suffix.lower() == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise InputError(f"{path}: not a readable .npy array ({exc})") from None
    else:
        import imageio.v3 as iio
        try:
            props = iio.improps(path)
        except Exception as exc:
            raise InputError(f"{path}: cannot be read as an image ({type(exc).__name__})") from None
        check_memory(3.0 * 8 * max(1, int(np.prod(props.shape))), f"decoding {path} ({'x'.join(map(str, props.shape))})")
        try:
            arr = iio.imread(path)
        except Exception as exc:
            raise InputError(f"{path}: cannot be read as an image ({type(exc).__name__})") from None
        if arr.ndim == 4:  # animated/multi-page: take the first frame
            arr = arr[0]
    img = to_float_image(np.asarray(arr), str(path))
    return resize_image(img, size) if size else img


def default_image(size: int | None = 256) -> torch.Tensor:
    """scikit-image's bundled 'astronaut' photograph (512x512 RGB), optionally resized.

    Example:
        >>> from rankfield.inr import default_image
        >>> img = default_image(size=32)
        >>> img.shape, bool(img.min() >= 0), bool(img.max() <= 1)
        (torch.Size([32, 32, 3]), True, True)
    """
    data = require("skimage.data", "plot", "the sample photograph")
    img = to_float_image(data.astronaut(), "skimage astronaut")
    return resize_image(img, size) if size else img



def resize_image(img: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize ``(H, W, C)``: an int is the longer side, a pair is ``(H, W)``. Antialiased bilinear."""
    H, W = img.shape[:2]
    if isinstance(size, int):
        if size <= 0:
            raise InputError(f"size must be positive, got {size}")
        s = size / max(H, W)
        size = (max(1, round(H * s)), max(1, round(W * s)))
    if tuple(size) == (H, W):
        return img
    check_memory(4.0 * 4 * img.shape[2] * (size[0] * size[1] + H * W), f"resizing to {size[0]}x{size[1]}")
    x = img.permute(2, 0, 1)[None]
    out = F.interpolate(x, size=tuple(size), mode="bilinear", antialias=True, align_corners=False)
    return out[0].permute(1, 2, 0).clamp(0, 1).contiguous()


def center_square(img: torch.Tensor) -> torch.Tensor:
    """The largest centred square of an ``(H, W, C)`` image (a data set's usual crop before resizing).

    Examples:
        >>> center_square(torch.zeros(4, 6, 3)).shape
        torch.Size([4, 4, 3])
    """
    H, W = img.shape[:2]
    k = min(H, W)
    top, left = (H - k) // 2, (W - k) // 2
    return img[top:top + k, left:left + k]


def grid_coordinates(*shape: int, device=None) -> torch.Tensor:
    """Sample-centre coordinates in ``[-1, 1]`` of a regular grid: shape ``(*shape, len(shape))``.

    Examples:
        >>> from rankfield.inr import grid_coordinates
        >>> grid_coordinates(2, 2)[0, 0]
        tensor([-0.5000, -0.5000])
    """
    axes = [(torch.arange(n, device=device, dtype=torch.float32) + 0.5) / n * 2 - 1 for n in shape]
    return torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)


def image_coordinates(height: int, width: int, device=None) -> torch.Tensor:
    """``(H, W, 2)`` pixel-centre coordinates ``(y, x)`` in ``[-1, 1]``.

    Example:
        >>> from rankfield.inr import image_coordinates
        >>> xy = image_coordinates(2, 3)
        >>> xy.shape
        torch.Size([2, 3, 2])
        >>> xy[0, 0], xy[-1, -1]
        (tensor([-0.5000, -0.6667]), tensor([0.5000, 0.6667]))
    """
    return grid_coordinates(height, width, device=device)


def chirp(n: int = 2048, f0: float = 2.0, f1: float = 60.0) -> tuple[torch.Tensor, torch.Tensor]:
    """A linear chirp on ``t`` in ``[-1, 1]`` whose frequency rises from ``f0`` to ``f1`` cycles per unit.

    Returns ``(t, signal)`` with shapes ``(n, 1)`` and ``(n, 1)``; the signal is in ``[-1, 1]``.

    Example:
        >>> from rankfield.inr import chirp
        >>> t, y = chirp(n=256, f0=2.0, f1=20.0)
        >>> t.shape, y.shape, t[0].item(), t[-1].item(), bool(y.abs().max() <= 1)
        (torch.Size([256, 1]), torch.Size([256, 1]), -0.99609375, 0.99609375, True)
    """
    t = grid_coordinates(n)
    u = (t + 1) / 2  # [0, 1]
    phase = 2 * math.pi * (f0 * u + 0.5 * (f1 - f0) * u ** 2) * 2  # 2 units of t span
    return t, torch.sin(phase)


def load_signal(path: str | Path, column: int = 0) -> torch.Tensor:
    """Read a 1-D signal ``(N, C)`` from ``.npy``, ``.csv``/``.txt`` (numeric columns) or ``.wav``.

    Example:
        >>> import pathlib, tempfile
        >>> import numpy as np
        >>> from rankfield.inr import load_signal
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "signal.npy"
        >>> np.save(path, np.sin(np.linspace(0, 6.28, 100)))
        >>> load_signal(path).shape
        torch.Size([100, 1])
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(2, "No such file", str(path))
    suffix = path.suffix.lower()
    if suffix == ".wav":
        wavfile = require("scipy.io.wavfile", "plot", "reading .wav files")
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif suffix == ".wav":
            rate, arr = wavfile.read(path)
            arr = arr.astype(np.float64)
            arr = arr / max(np.abs(arr).max(), 1e-12)
        else:
            arr = np.loadtxt(path, delimiter="," if suffix == ".csv" else None, ndmin=2)
    except Exception as exc:
        raise InputError(f"{path}: cannot be read as a numeric signal ({type(exc).__name__}: {exc})") from None
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{path}: expected a 1-D signal (N,) or (N, C), got shape {arr.shape}")
    sig = torch.from_numpy(arr).float()
    check_finite(str(path), sig)
    if sig.shape[0] < 2:
        raise InputError(f"{path}: a signal needs at least 2 samples, got {sig.shape[0]}")
    return sig


# --- analytic 3-D shapes (signed distances; inside < 0), all inside [-1, 1]^3 ---------------------

def _sphere(p, r=0.6):
    return p.norm(dim=-1) - r


def _torus(p, R=0.55, r=0.2):
    q = torch.stack([p[..., [0, 1]].norm(dim=-1) - R, p[..., 2]], dim=-1)
    return q.norm(dim=-1) - r


def _box(p, half=0.5):
    q = p.abs() - half
    return q.clamp(min=0).norm(dim=-1) + q.max(dim=-1).values.clamp(max=0)


def _composite(p):
    """A box with a spherical bite and a torus around it: thin and curved parts, good for IoU."""
    box = _box(p, 0.4)
    bite = _sphere(p - torch.tensor([0.35, 0.35, 0.35], device=p.device), 0.35)
    carved = torch.maximum(box, -bite)
    ring = _torus(p, 0.7, 0.08)
    return torch.minimum(carved, ring)


SHAPES = {"sphere": _sphere, "torus": _torus, "box": _box, "composite": _composite}


def shape_occupancy(name: str, points: torch.Tensor) -> torch.Tensor:
    """Occupancy (1 inside, 0 outside) of analytic shape ``name`` at ``points (..., 3)``.

    Example:
        >>> import torch
        >>> from rankfield.inr import shape_occupancy
        >>> points = torch.tensor([[0.0, 0.0, 0.0], [0.9, 0.9, 0.9]])
        >>> shape_occupancy("sphere", points).tolist(), shape_occupancy("box", points).tolist()
        ([1.0, 0.0], [1.0, 0.0])
    """
    if name not in SHAPES:
        raise InputError(f"unknown shape {name!r}; choose one of {', '.join(SHAPES)}")
    if points.shape[-1] != 3:
        raise InputError(f"shape points must be (..., 3), got {tuple(points.shape)}")
    return (SHAPES[name](points) < 0).float()
