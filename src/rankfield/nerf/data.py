"""Scenes: the :class:`Scene` container and the Blender / Instant-NGP and LLFF loaders.

Every loader returns a :class:`Scene` in the convention of :mod:`rankfield.nerf.camera`
(camera-to-world, OpenGL axes, images ``(N, H, W, 3)`` float in ``[0, 1]``). Loaders validate
everything before returning (no files are written by them) and raise :class:`InputError` with a
one-line message for bad input.

The procedural scene lives in :mod:`rankfield.nerf.procedural`, the pose perturbations in
:mod:`rankfield.nerf.poses`; both are re-exported here so older imports keep working.

Examples:
    >>> import tempfile
    >>> from rankfield.nerf import generate_procedural_scene
    >>> scene = load_blender(generate_procedural_scene(tempfile.mkdtemp(), n_train=8, n_test=2, size=16), "train")
    >>> train, test = holdout_split(scene, 4)  # frames 0 and 4 become test views
    >>> len(train), len(test)
    (6, 2)
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rankfield._io import inside
from rankfield.errors import InputError
from rankfield.nerf.camera import Intrinsics
from rankfield.nerf.geometry import compose, invert
# Moved out of this module (issue 34); re-exported so `from rankfield.nerf.data import ...` keeps working.
# The procedural scene now lives in rankfield.nerf.procedural, the pose perturbations in rankfield.nerf.poses.
from rankfield.nerf.poses import identity_poses, perturb_poses_barf, perturb_poses_l2g  # noqa: F401
from rankfield.nerf.procedural import generate_procedural_scene, procedural_camera_poses  # noqa: F401

__all__ = ["Scene", "load_blender", "load_llff", "load_scene", "generate_procedural_scene",
           "perturb_poses_barf", "perturb_poses_l2g", "identity_poses", "MissingFramesWarning", "undistort_images",
           "holdout_split"]

_IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG", ".exr", ".tif", ".tiff")


class MissingFramesWarning(UserWarning):
    """Some frames of a transforms file list images that do not exist; they were skipped."""


@dataclass
class Scene:
    """A set of posed images.

    Attributes:
        images: ``(N, H, W, 3)`` float32 in ``[0, 1]`` (alpha already composited on the background).
        poses: ``(N, 3, 4)`` float32 camera-to-world, OpenGL axes.
        intrinsics: shared :class:`Intrinsics`.
        near, far: depth range of the samples along each ray (distance along the optical axis).
        white_background: composite colour of empty space (True: white, False: black).
        forward_facing: sample in inverse depth (LLFF-style scenes).
        names: image file names, one per frame.
        source: where the scene was read from.

    Example:
        >>> import tempfile
        >>> from rankfield.nerf import generate_procedural_scene, load_blender
        >>> scene = load_blender(generate_procedural_scene(tempfile.mkdtemp(), n_train=3, n_test=1, size=8))
        >>> len(scene), scene.images.shape, scene.poses.shape, scene.white_background
        (3, torch.Size([3, 8, 8, 3]), torch.Size([3, 3, 4]), True)
    """

    images: torch.Tensor
    poses: torch.Tensor
    intrinsics: Intrinsics
    near: float
    far: float
    white_background: bool = True
    forward_facing: bool = False
    names: list[str] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def subset(self, index) -> "Scene":
        """The frames ``index`` (a list/slice) as a new scene."""
        idx = list(range(len(self)))[index] if isinstance(index, slice) else list(index)
        return replace(self, images=self.images[idx], poses=self.poses[idx],
                       names=[self.names[i] for i in idx] if self.names else [])

    def resized(self, factor: float) -> "Scene":
        """Images and intrinsics resized by ``factor`` (area filter when shrinking)."""
        if factor == 1:
            return self
        if not (math.isfinite(factor) and factor > 0):
            raise InputError(f"downscale factor must be a finite number > 0, got {factor}")
        cam = self.intrinsics.scaled(factor)
        if min(cam.width, cam.height) < 4:
            raise InputError(f"downscaling {self.intrinsics.width}x{self.intrinsics.height} images by {factor} "
                             f"leaves {cam.width}x{cam.height} pixels; use a larger factor")
        imgs = F.interpolate(self.images.permute(0, 3, 1, 2), size=(cam.height, cam.width), mode="area"
                             if factor < 1 else "bilinear").permute(0, 2, 3, 1).contiguous()
        return replace(self, images=imgs, intrinsics=cam)


# ----------------------------------------------------------------------------------------------- images
def _read_image(path: Path, white_background: bool) -> np.ndarray:
    import imageio.v3 as iio

    try:
        img = np.asarray(iio.imread(path))
    except Exception as exc:  # noqa: BLE001 -- any decoder failure is a bad input file
        raise InputError(f"cannot read image {path}: {exc}") from exc
    if img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    elif img.dtype == np.uint16:
        img = img.astype(np.float32) / 65535.0
    else:
        img = img.astype(np.float32)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, -1)
    if img.shape[-1] == 4:
        a = img[..., 3:]
        bg = 1.0 if white_background else 0.0
        img = img[..., :3] * a + bg * (1 - a)
    elif img.shape[-1] != 3:
        raise InputError(f"image {path} has {img.shape[-1]} channels; expected 1, 3 or 4")
    return img


def _stack_images(imgs: list[np.ndarray], names: list[str], what: str) -> torch.Tensor:
    sizes = {im.shape[:2] for im in imgs}
    if len(sizes) > 1:
        first = imgs[0].shape[:2]
        odd = next(n for n, im in zip(names, imgs) if im.shape[:2] != first)
        raise InputError(f"{what}: images of mixed sizes {sorted(sizes)} (e.g. {odd} is {imgs[names.index(odd)].shape[1]}x"
                         f"{imgs[names.index(odd)].shape[0]}, {names[0]} is {first[1]}x{first[0]}); all frames must "
                         "share one size")
    return torch.from_numpy(np.stack(imgs)).float()


def _find_image(base: Path, file_path: str) -> Path | None:
    """The image a frame names, which must lie inside the scene folder ``base`` (no absolute paths, no
    ``..`` escapes, no symlinks pointing out): a scene file never makes rankfield read elsewhere."""
    if Path(file_path).is_absolute() or not inside(base / file_path, base):
        raise InputError(f"{base}: frame file_path {file_path!r} points outside the scene folder")
    p = (base / file_path)
    if p.suffix and p.is_file():
        return p
    for ext in _IMAGE_EXTS:
        q = p.with_name(p.name + ext)
        if q.is_file():
            return q
    return None


_DISTORTION = ("k1", "k2", "k3", "p1", "p2")


def _resize_np(img: np.ndarray, factor: float) -> np.ndarray:
    H, W = img.shape[:2]
    h, w = int(round(H * factor)), int(round(W * factor))
    if min(h, w) < 4:
        raise InputError(f"downscaling {W}x{H} images by {factor} leaves {w}x{h} pixels; use a larger factor")
    x = torch.from_numpy(np.ascontiguousarray(img)).float().permute(2, 0, 1)[None]
    out = F.interpolate(x, size=(h, w), mode="area" if factor < 1 else "bilinear")
    return out[0].permute(1, 2, 0).numpy()


def _bounds_from_cameras(centres: np.ndarray, meta: dict, path) -> tuple[float, float]:
    """Near/far for a capture whose cameras look at the origin: the scene is a ball of radius ``R`` about
    the origin (``R = 1.5 * aabb_scale``: Instant-NGP maps ``[-0.5/0.33, 0.5/0.33]^3`` of the file's
    units to its unit cube, times ``aabb_scale``; without it, the largest camera distance), so every ray
    that can hit it lies within ``[max(d_min - R, 0.05 d_min), d_max + R]``.
    """
    d = np.linalg.norm(centres, axis=-1)
    R = 1.5 * _meta_number(meta, "aabb_scale", path, 0.0) if "aabb_scale" in meta else float(d.max())
    near = max(float(d.min()) - R, 0.05 * float(d.min()), 1e-3)
    return near, float(d.max()) + R


def undistort_images(images: torch.Tensor, cam: Intrinsics, k1: float = 0.0, k2: float = 0.0, k3: float = 0.0,
                     p1: float = 0.0, p2: float = 0.0) -> torch.Tensor:
    """Undistort ``(N, H, W, C)`` images taken through OpenCV's radial-tangential model with ``cam``.

    For every pixel of the undistorted (pinhole) image, its normalised ray ``(x, y)`` is pushed through the
    distortion model (``r^2 = x^2 + y^2``, ``x_d = x (1 + k1 r^2 + k2 r^4 + k3 r^6) + 2 p1 x y + p2 (r^2 + 2 x^2)``,
    likewise ``y_d``) and the distorted image is sampled there (bilinear; outside the frame: edge values).

    Examples:
        >>> import torch
        >>> from rankfield.nerf import Intrinsics
        >>> from rankfield.nerf.data import undistort_images
        >>> cam = Intrinsics(fx=20.0, fy=20.0, cx=10.0, cy=8.0, width=20, height=16)
        >>> img = torch.rand(1, 16, 20, 3)
        >>> torch.allclose(undistort_images(img, cam), img, atol=1e-6)  # no distortion: unchanged
        True
    """
    N, H, W, C = images.shape
    v, u = torch.meshgrid(torch.arange(H, dtype=torch.float64), torch.arange(W, dtype=torch.float64), indexing="ij")
    x, y = (u + 0.5 - cam.cx) / cam.fx, (v + 0.5 - cam.cy) / cam.fy
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 ** 2 + k3 * r2 ** 3
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    ud, vd = xd * cam.fx + cam.cx, yd * cam.fy + cam.cy  # continuous pixel coordinates (edges at 0 and W)
    grid = torch.stack([2 * ud / W - 1, 2 * vd / H - 1], -1).float()[None].expand(N, H, W, 2)
    out = F.grid_sample(images.permute(0, 3, 1, 2), grid, mode="bilinear", padding_mode="border", align_corners=False)
    return out.permute(0, 2, 3, 1).contiguous()


def _meta_number(meta: dict, key: str, path, low: float | None = None, high: float | None = None) -> float:
    """``meta[key]`` as a finite float in ``(low, high)``; anything else is an :class:`InputError`."""
    try:
        v = float(meta[key])
    except (TypeError, ValueError):
        raise InputError(f"{path}: {key} must be a number, got {meta[key]!r}") from None
    if not math.isfinite(v) or (low is not None and v <= low) or (high is not None and v >= high):
        bounds = f" in ({low:g}, {high:g})" if high is not None else (f" > {low:g}" if low is not None else "")
        raise InputError(f"{path}: {key} must be a finite number{bounds}, got {meta[key]!r}")
    return v


# ----------------------------------------------------------------------------------------------- Blender
def load_blender(root: str | os.PathLike, split: str = "train", *, white_background: bool = True,
                 downscale: float = 1.0, near: float | None = None, far: float | None = None,
                 max_frames: int | None = None) -> Scene:
    """Load a Blender (NeRF-synthetic) or Instant-NGP ``transforms`` scene.

    Reads ``root/transforms_{split}.json`` (or ``root/transforms.json``, or ``root`` itself when it is a
    JSON file). ``transform_matrix`` is camera-to-world in OpenGL axes.

    * Intrinsics: Instant-NGP's ``fl_x``/``fl_y``/``cx``/``cy`` (at ``w``x``h``) when present -- they win
      over ``camera_angle_x``, which files often carry as well --, else Blender's ``camera_angle_x``.
    * Distortion: OpenCV ``k1 k2 k3 p1 p2`` are undistorted on load (:func:`undistort_images`); fisheye
      models are refused with one line.
    * ``downscale`` resizes every image as it is read (area filter), so full-size frames are never all in
      memory; intrinsics scale with them.
    * Depth range: ``[2, 6]`` for Blender scenes (``camera_angle_x`` only); for captures with ``fl_x``, from
      the camera distances and ``aabb_scale`` (see :func:`_bounds_from_cameras`).
    * Frames whose image is missing are skipped with one :class:`MissingFramesWarning` that counts them;
      a ``file_path`` that leaves the scene folder is refused.

    Raises:
        InputError: no ``frames``, non-finite, malformed or singular matrices, invalid intrinsics, images
            of mixed sizes, no images found.

    Example:
        >>> import tempfile
        >>> from rankfield.nerf import generate_procedural_scene, load_blender
        >>> root = generate_procedural_scene(tempfile.mkdtemp(), n_train=4, n_test=2, size=16)
        >>> train, test = load_blender(root, "train"), load_blender(root, "test", downscale=0.5)
        >>> train.images.shape, test.images.shape, test.intrinsics.width
        (torch.Size([4, 16, 16, 3]), torch.Size([2, 8, 8, 3]), 8)
    """
    root = Path(root)
    if not (isinstance(downscale, (int, float)) and math.isfinite(downscale) and downscale > 0):
        raise InputError(f"downscale must be a finite number > 0, got {downscale!r}")
    if root.is_file():
        path = root
    else:
        if not root.exists():
            raise FileNotFoundError(2, "No such file or directory", str(root))
        candidates = [root / f"transforms_{split}.json", root / "transforms.json"]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            raise InputError(f"{root}: no transforms_{split}.json or transforms.json found")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("frames"), list) or not meta["frames"]:
        raise InputError(f"{path}: has no frames (expected a non-empty 'frames' list)")
    frames = meta["frames"]
    if max_frames is not None:
        frames = frames[:max_frames]

    poses, imgs, names, missing = [], [], [], 0
    for i, fr in enumerate(frames):
        if not isinstance(fr, dict) or "transform_matrix" not in fr or "file_path" not in fr:
            raise InputError(f"{path}: frame {i} needs 'file_path' and 'transform_matrix'")
        try:
            M = np.asarray(fr["transform_matrix"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{path}: frame {i} transform_matrix is not a numeric matrix") from exc
        if M.shape not in ((4, 4), (3, 4)):
            raise InputError(f"{path}: frame {i} transform_matrix has shape {M.shape}; expected 4x4 or 3x4")
        if not np.all(np.isfinite(M)):
            raise InputError(f"{path}: frame {i} ({fr['file_path']}) transform_matrix has non-finite values")
        if not np.all(np.isfinite(M)) or abs(np.linalg.det(M[:3, :3])) < 1e-6:
            raise InputError(f"{path}: frame {i} ({fr['file_path']}) transform_matrix is degenerate "
                             "(its rotation part is singular)")
        img_path = _find_image(path.parent, str(fr["file_path"]))
        if img_path is not None and not inside(img_path, path.parent):
            raise InputError(f"{path}: frame {i} image {img_path.name} is a link pointing outside the scene folder")
        if img_path is None:
            missing += 1
            continue
        poses.append(M[:3, :4])
        img = _read_image(img_path, white_background)
        if not imgs:
            full_hw = img.shape[:2]
        if downscale != 1:  # on load: full-size frames are never all held in memory at once
            img = _resize_np(img, downscale)
        imgs.append(img)
        names.append(img_path.name)
    if missing:
        warnings.warn(f"{path}: {missing} of {len(frames)} frames skipped because their image is missing",
                      MissingFramesWarning, stacklevel=2)
    if not imgs:
        raise InputError(f"{path}: none of the {len(frames)} frames' images exist")
    images = _stack_images(imgs, names, str(path))
    H, W = full_hw  # intrinsics are built at the files' resolution, then scaled with the images
    centres = np.stack(poses)[:, :3, 3]
    if "fl_x" in meta:  # Instant-NGP / nerfstudio intrinsics win over camera_angle_x when both are given
        w0 = _meta_number(meta, "w", path, 0.0) if "w" in meta else W
        h0 = _meta_number(meta, "h", path, 0.0) if "h" in meta else H
        sx, sy = W / w0, H / h0
        fx = _meta_number(meta, "fl_x", path, 0.0) * sx
        fy = (_meta_number(meta, "fl_y", path, 0.0) if "fl_y" in meta else fx / sx) * sy
        cx = _meta_number(meta, "cx", path) if "cx" in meta else w0 / 2
        cy = _meta_number(meta, "cy", path) if "cy" in meta else h0 / 2
        cam = Intrinsics(fx, fy, cx * sx, cy * sy, W, H)
        default_near, default_far = _bounds_from_cameras(centres, meta, path)
    elif "camera_angle_x" in meta:
        cam = Intrinsics.from_fov(W, H, _meta_number(meta, "camera_angle_x", path, 0.0, math.pi))
        default_near, default_far = 2.0, 6.0
    else:
        raise InputError(f"{path}: needs camera_angle_x or fl_x for the focal length")
    vals = [cam.fx, cam.fy, cam.cx, cam.cy]
    if not all(math.isfinite(v) for v in vals) or cam.fx <= 0 or cam.fy <= 0:
        raise InputError(f"{path}: invalid intrinsics {vals}")
    if downscale != 1:
        cam = cam.scaled(downscale)
        cam = replace(cam, width=images.shape[2], height=images.shape[1])
    distortion = {k: _meta_number(meta, k, path) for k in _DISTORTION if k in meta}
    if meta.get("is_fisheye") or meta.get("camera_model", "OPENCV") not in ("OPENCV", "PINHOLE", "SIMPLE_PINHOLE"):
        raise InputError(f"{path}: camera model {meta.get('camera_model', 'fisheye')!r} is not supported "
                         "(rankfield undistorts OPENCV radial-tangential k1 k2 k3 p1 p2 only)")
    if any(v != 0 for v in distortion.values()):
        images = undistort_images(images, cam, **distortion)
    scene = Scene(images=images, poses=torch.from_numpy(np.stack(poses)).float(), intrinsics=cam,
                  near=near if near is not None else default_near, far=far if far is not None else default_far,
                  white_background=white_background, forward_facing=False, names=names, source=str(path))
    return scene


def holdout_split(scene: Scene, every: int = 8) -> tuple[Scene, Scene]:
    """Split ``scene`` into training frames and test frames ``0, every, 2 every, ...`` (the LLFF convention
    of BARF and NeRF), for files that have no test split of their own.

    Examples:
        >>> import torch
        >>> from rankfield.nerf import Intrinsics, Scene
        >>> from rankfield.nerf.data import holdout_split
        >>> s = Scene(images=torch.zeros(10, 4, 4, 3), poses=torch.eye(4)[:3].repeat(10, 1, 1),
        ...           intrinsics=Intrinsics(4.0, 4.0, 2.0, 2.0, 4, 4), near=1.0, far=2.0)
        >>> [len(x) for x in holdout_split(s, 4)]
        [7, 3]
    """
    if every < 2 or len(scene) < 2:
        raise InputError(f"a hold-out needs every >= 2 and at least 2 frames (got every={every}, {len(scene)} frames)")
    test_idx = list(range(0, len(scene), every))
    train_idx = [i for i in range(len(scene)) if i % every]
    return scene.subset(train_idx), scene.subset(test_idx)


# ----------------------------------------------------------------------------------------------- LLFF
def _normalize(v):
    return v / np.linalg.norm(v)


def _average_pose(poses: np.ndarray) -> np.ndarray:
    center = poses[:, :3, 3].mean(0)
    z = _normalize(poses[:, :3, 2].sum(0))
    up = poses[:, :3, 1].sum(0)
    x = _normalize(np.cross(up, z))
    y = np.cross(z, x)
    return np.stack([x, y, z, center], 1)


def load_llff(root: str | os.PathLike, factor: int = 8, *, recenter: bool = True, bd_factor: float = 0.75) -> Scene:
    """Load an LLFF scene (``poses_bounds.npy`` + ``images_{factor}/``).

    ``poses_bounds.npy`` is ``N x 17``: a flattened ``3 x 5`` ``[R | t | (H, W, f)]`` camera-to-world
    with rotation columns ``[down, right, backwards]`` then near/far bounds. The loader reorders to
    ``[right, up, backwards]`` (OpenGL), scales positions and bounds by ``1 / (bd_factor * min bound)``,
    recentres on the average pose and scales the focal length to the chosen images. Returned scenes are
    ``forward_facing`` (inverse-depth sampling) with a black background.

    Raises:
        InputError: wrong array shape, non-finite values, image count != pose count, mixed image sizes.

    Example:
        >>> import pathlib, tempfile
        >>> import imageio.v3 as iio
        >>> import numpy as np
        >>> from rankfield.nerf import load_llff
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> (root / "images_8").mkdir()
        >>> for i in range(3):
        ...     iio.imwrite(root / "images_8" / f"{i:03d}.png", np.full((6, 8, 3), 40 * i, dtype=np.uint8))
        >>> R = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
        >>> poses = [np.concatenate([R, [[0.1 * i], [0.0], [0.0]], [[48.0], [64.0], [50.0]]], 1) for i in range(3)]
        >>> np.save(root / "poses_bounds.npy", np.array([np.r_[p.ravel(), 2.0, 6.0] for p in poses]))
        >>> scene = load_llff(root, factor=8)
        >>> scene.images.shape, scene.forward_facing, scene.white_background, round(scene.intrinsics.fx, 2)
        (torch.Size([3, 6, 8, 3]), True, False, 6.25)
    """
    root = Path(root)
    pb_path = root / "poses_bounds.npy"
    if not pb_path.is_file():
        raise InputError(f"{root}: no poses_bounds.npy (not an LLFF scene)")
    try:
        pb = np.load(pb_path)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{pb_path}: cannot read ({exc})") from exc
    if pb.ndim != 2 or pb.shape[1] != 17 or pb.shape[0] < 1:
        raise InputError(f"{pb_path}: array of shape {pb.shape}; expected N x 17 (flattened 3x5 pose + 2 bounds)")
    if not np.all(np.isfinite(pb)):
        raise InputError(f"{pb_path}: contains non-finite values")
    img_dir = root / (f"images_{factor}" if factor != 1 else "images")
    if not img_dir.is_dir():
        raise InputError(f"{root}: no {img_dir.name}/ folder (choose --llff-factor among the existing images_N)")
    files = sorted(p for p in img_dir.iterdir() if p.suffix in _IMAGE_EXTS)
    if len(files) != pb.shape[0]:
        raise InputError(f"{root}: {pb.shape[0]} poses in poses_bounds.npy but {len(files)} images in {img_dir.name}/")
    imgs = [_read_image(p, white_background=False) for p in files]
    images = _stack_images(imgs, [p.name for p in files], str(img_dir))
    poses = pb[:, :15].reshape(-1, 3, 5).astype(np.float64)
    bds = pb[:, 15:].astype(np.float64)
    if np.any(bds <= 0):
        raise InputError(f"{pb_path}: near/far bounds must be positive")
    H, W = images.shape[1:3]
    h0, w0, f0 = poses[0, :, 4]
    if not (h0 > 0 and w0 > 0 and f0 > 0):
        raise InputError(f"{pb_path}: image size and focal length must be > 0, got H={h0:g} W={w0:g} f={f0:g}")
    if np.any(np.abs(np.linalg.det(poses[:, :, :3])) < 1e-6):
        raise InputError(f"{pb_path}: some camera rotations are degenerate (singular 3x3 blocks)")
    f = float(f0 * W / w0)
    R = np.concatenate([poses[:, :, 1:2], -poses[:, :, 0:1], poses[:, :, 2:3]], 2)
    c2w = np.concatenate([R, poses[:, :, 3:4]], 2)
    sc = 1.0 / (bds.min() * bd_factor)
    c2w[:, :, 3] *= sc
    bds = bds * sc
    if recenter:
        avg = torch.from_numpy(_average_pose(c2w))
        c2w = compose(invert(avg)[None], torch.from_numpy(c2w)).numpy()
    cam = Intrinsics(f, f, W / 2, H / 2, W, H)
    return Scene(images=images, poses=torch.from_numpy(c2w).float(), intrinsics=cam, near=float(bds.min() * 0.9),
                 far=float(bds.max() * 1.0), white_background=False, forward_facing=True,
                 names=[p.name for p in files], source=str(root))


def load_scene(path: str | os.PathLike, split: str = "train", **kwargs) -> Scene:
    """Load ``path`` as LLFF when it holds ``poses_bounds.npy``, else as a Blender/Instant-NGP scene.

    Example:
        >>> import tempfile
        >>> from rankfield.nerf import generate_procedural_scene, load_scene
        >>> root = generate_procedural_scene(tempfile.mkdtemp(), n_train=2, n_test=1, size=8)
        >>> scene = load_scene(root, "test")
        >>> len(scene), scene.forward_facing
        (1, False)
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(2, "No such file or directory", str(p))
    if p.is_dir() and (p / "poses_bounds.npy").exists():
        return load_llff(p, **{k: v for k, v in kwargs.items() if k in ("factor", "recenter", "bd_factor")})
    return load_blender(p, split, **{k: v for k, v in kwargs.items() if k not in ("factor", "recenter", "bd_factor")})
