"""The procedural synthetic scene: two textured spheres, a box and a checkered ground disk, ray-cast.

:func:`generate_procedural_scene` renders it from exact camera poses (:func:`procedural_camera_poses`) and
writes it in Blender format, so :func:`rankfield.nerf.load_blender` reads it back like any other scene.
Rendering is analytic ray casting in NumPy; nothing is learned.

Examples:
    >>> import tempfile
    >>> from rankfield.nerf import load_blender
    >>> root = generate_procedural_scene(tempfile.mkdtemp(), n_train=4, n_test=2, size=16)
    >>> scene = load_blender(root, "train")
    >>> scene.images.shape[0], scene.intrinsics.width
    (4, 16)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from rankfield.errors import InputError
from rankfield.nerf.camera import Intrinsics, look_at

__all__ = ["generate_procedural_scene", "procedural_camera_poses"]


def _hit_sphere(o, d, c, r):
    oc = o - c
    b = (oc * d).sum(-1)
    cc = (oc * oc).sum(-1) - r * r
    disc = b * b - cc
    t = -b - np.sqrt(np.maximum(disc, 0))
    return np.where((disc > 0) & (t > 1e-4), t, np.inf)


def _hit_box(o, d, lo, hi):
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / np.where(np.abs(d) < 1e-12, 1e-12, d)
        t0, t1 = (lo - o) * inv, (hi - o) * inv
    tmin = np.minimum(t0, t1).max(-1)
    tmax = np.maximum(t0, t1).min(-1)
    return np.where((tmax >= tmin) & (tmin > 1e-4), tmin, np.inf)


def _hit_disk(o, d, z, radius):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (z - o[..., 2]) / d[..., 2]
    p = o + t[..., None] * d
    ok = (t > 1e-4) & (p[..., 0] ** 2 + p[..., 1] ** 2 < radius ** 2)
    return np.where(ok, t, np.inf)


def _shade(o, d):
    """Colour and alpha of unit rays ``(M, 3)`` hitting the procedural objects."""
    s1c, s1r = np.array([0.0, 0.0, 0.05]), 0.55
    s2c, s2r = np.array([0.75, -0.6, -0.2]), 0.3
    lo, hi = np.array([-1.05, 0.15, -0.5]), np.array([-0.35, 0.85, 0.2])
    tz = -0.5
    ts = np.stack([_hit_sphere(o, d, s1c, s1r), _hit_sphere(o, d, s2c, s2r), _hit_box(o, d, lo, hi),
                   _hit_disk(o, d, tz, 1.35)], -1)
    which = ts.argmin(-1)
    t = ts.min(-1)
    hit = np.isfinite(t)
    p = o + np.where(hit, t, 0)[..., None] * d
    col = np.zeros_like(p)
    nrm = np.zeros_like(p)
    # sphere 1: checker in longitude/latitude
    m = which == 0
    q = (p[m] - s1c) / s1r
    nrm[m] = q
    lon, lat = np.arctan2(q[:, 1], q[:, 0]), np.arcsin(np.clip(q[:, 2], -1, 1))
    chk = (np.floor(lon / (np.pi / 3)) + np.floor(lat / (np.pi / 3))) % 2
    col[m] = np.where(chk[:, None] > 0, [0.9, 0.25, 0.15], [0.95, 0.85, 0.2])
    # sphere 2: horizontal bands
    m = which == 1
    q = (p[m] - s2c) / s2r
    nrm[m] = q
    band = np.floor((q[:, 2] + 1) * 2) % 2
    col[m] = np.where(band[:, None] > 0, [0.15, 0.35, 0.9], [0.6, 0.9, 1.0])
    # box: per-face colour with stripes
    m = which == 2
    q = p[m]
    cen, half = (lo + hi) / 2, (hi - lo) / 2
    rel = (q - cen) / half
    ax = np.abs(rel).argmax(-1)
    n = np.zeros_like(q)
    n[np.arange(len(q)), ax] = np.sign(rel[np.arange(len(q)), ax])
    nrm[m] = n
    stripe = (np.floor((q[:, 0] + q[:, 1] + q[:, 2]) * 3) % 2)[:, None]
    face_cols = np.array([[0.2, 0.7, 0.3], [0.55, 0.3, 0.75], [0.95, 0.55, 0.1]])
    col[m] = face_cols[ax] * (0.55 + 0.45 * stripe)
    # ground disk: checkerboard
    m = which == 3
    q = p[m]
    nrm[m] = [0, 0, 1]
    chk = (np.floor(q[:, 0] / 0.45) + np.floor(q[:, 1] / 0.45)) % 2
    col[m] = np.where(chk[:, None] > 0, [0.25, 0.25, 0.3], [0.8, 0.8, 0.75])
    light = np.array([0.4, -0.3, 0.85])
    light = light / np.linalg.norm(light)
    lam = np.clip((nrm * light).sum(-1), 0, 1)
    col = col * (0.45 + 0.55 * lam)[:, None]
    return np.clip(col, 0, 1), hit.astype(np.float64)


def _render_view(c2w: np.ndarray, cam: Intrinsics, supersample: int = 3) -> np.ndarray:
    H, W, ss = cam.height, cam.width, supersample
    off = (np.arange(ss) + 0.5) / ss
    v = (np.arange(H)[:, None] + off[None, :]).reshape(-1)
    u = (np.arange(W)[:, None] + off[None, :]).reshape(-1)
    vv, uu = np.meshgrid(v, u, indexing="ij")
    dirs = np.stack([(uu - cam.cx) / cam.fx, -(vv - cam.cy) / cam.fy, -np.ones_like(uu)], -1).reshape(-1, 3)
    d = dirs @ c2w[:3, :3].T
    d = d / np.linalg.norm(d, axis=-1, keepdims=True)
    o = np.broadcast_to(c2w[:3, 3], d.shape)
    col, a = _shade(o, d)
    rgba = np.concatenate([col * a[:, None], a[:, None]], -1).reshape(H, ss, W, ss, 4).mean((1, 3))
    rgb = np.where(rgba[..., 3:] > 0, rgba[..., :3] / np.maximum(rgba[..., 3:], 1e-8), 0)  # un-premultiply
    return np.concatenate([rgb, rgba[..., 3:]], -1)


def procedural_camera_poses(n: int, radius: float = 4.0, seed: int = 0, elevation=(15.0, 60.0),
                            offset: float = 0.0) -> torch.Tensor:
    """``n`` camera-to-world poses on a sphere of ``radius`` looking at the origin (golden-angle azimuths)."""
    rng = np.random.default_rng(seed)
    az = (np.arange(n) * 137.50776 + offset + rng.uniform(-10, 10, n)) % 360
    el = rng.uniform(*elevation, n)
    a, e = np.deg2rad(az), np.deg2rad(el)
    eye = radius * np.stack([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)], -1)
    return look_at(torch.from_numpy(eye), torch.tensor([0.0, 0.0, -0.1], dtype=torch.float64))


def generate_procedural_scene(out_dir: str | os.PathLike, n_train: int = 24, n_test: int = 6, size: int = 48,
                              camera_angle_x: float = 0.69, radius: float = 4.0, seed: int = 0) -> Path:
    """Render the built-in textured scene (two spheres, a box, a checkered ground disk) in Blender format.

    Writes ``transforms_train.json``, ``transforms_test.json`` and RGBA PNGs under ``train/``/``test/``
    into ``out_dir`` and returns it. Poses are exact (they are the ones rendered). Objects lie within
    radius ~1.4 of the origin; cameras at ``radius`` looking at it, so the Blender depth range ``[2, 6]``
    applies. Rendering is analytic ray casting with 3x3 supersampling (``size=48``, 30 views: ~1 s).

    Examples:
        >>> import tempfile
        >>> from rankfield.nerf import generate_procedural_scene
        >>> p = generate_procedural_scene(tempfile.mkdtemp(), n_train=2, n_test=1, size=8)
        >>> sorted(x.name for x in p.glob("*.json"))
        ['transforms_test.json', 'transforms_train.json']
    """
    import imageio.v3 as iio

    if size < 4 or n_train < 1 or n_test < 0:
        raise InputError(f"procedural scene needs size >= 4 and n_train >= 1 (got size={size}, n_train={n_train})")
    out = Path(out_dir)
    cam = Intrinsics.from_fov(size, size, camera_angle_x)
    splits = {"train": procedural_camera_poses(n_train, radius, seed),
              "test": procedural_camera_poses(n_test, radius, seed + 1, offset=68.75)}
    for split, poses in splits.items():
        if split == "test" and n_test == 0:
            continue
        (out / split).mkdir(parents=True, exist_ok=True)
        frames = []
        for i, c2w in enumerate(poses.numpy()):
            rgba = _render_view(c2w, cam)
            iio.imwrite(out / split / f"r_{i}.png", (rgba * 255 + 0.5).clip(0, 255).astype(np.uint8))
            M = np.eye(4)
            M[:3] = c2w
            frames.append({"file_path": f"./{split}/r_{i}", "transform_matrix": M.tolist()})
        (out / f"transforms_{split}.json").write_text(json.dumps({"camera_angle_x": camera_angle_x,
                                                                  "frames": frames}, indent=1))
    return out
