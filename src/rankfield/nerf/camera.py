"""Cameras and rays: the one convention used throughout :mod:`rankfield.nerf`.

Convention
----------
* Poses are **camera-to-world** ``(N, 3, 4)`` matrices ``[R | c]`` in **OpenGL/Blender axes**: camera
  +X right, +Y up, the camera looks down **-Z**. ``c`` is the camera centre in world coordinates.
  (COLMAP/OpenCV poses are converted by flipping the camera's Y and Z axes; LLFF's
  ``[down, right, backwards]`` columns are reordered to ``[right, up, backwards]`` by the loader.)
* Pixels: row ``v`` (down), column ``u`` (right); the ray of pixel ``(v, u)`` passes through its centre
  ``(u + 0.5, v + 0.5)``. Intrinsics ``(fx, fy, cx, cy)`` in pixels.
* Camera-frame point of a pixel on the ``z = -1`` plane:
  ``x_C = ((u + .5 - cx) / fx, -(v + .5 - cy) / fy, -1)``.
  A ray is ``origin = c``, ``direction = R x_C`` (not normalised: the sample depth ``t`` is then the
  distance along the camera's optical axis, as in NeRF's ``near``/``far``).

Examples:
    >>> cam = Intrinsics(fx=50., fy=50., cx=16., cy=16., width=32, height=32)
    >>> pts = pixel_points(cam)           # (32*32, 3) on the z=-1 plane
    >>> o, d = rays_from_poses(torch.eye(4)[:3].expand(1, 3, 4), pts[None])
    >>> tuple(d.shape)
    (1, 1024, 3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Intrinsics", "pixel_points", "rays_from_poses", "look_at", "opencv_to_opengl"]


@dataclass
class Intrinsics:
    """Pinhole intrinsics in pixels.

    Attributes:
        fx, fy: focal lengths in pixels.
        cx, cy: principal point in pixels (``W/2``, ``H/2`` for a centred camera).
        width, height: image size in pixels.

    Example:
        >>> from rankfield.nerf import Intrinsics
        >>> cam = Intrinsics.from_fov(64, 48, camera_angle_x=0.69)
        >>> cam.width, cam.height, cam.cx, cam.cy, round(cam.fx, 2)
        (64, 48, 32.0, 24.0, 89.04)
        >>> cam.scaled(0.5).to_dict()["width"]
        32
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def from_fov(cls, width: int, height: int, camera_angle_x: float) -> "Intrinsics":
        """Blender style: ``focal = 0.5 W / tan(0.5 camera_angle_x)``, square pixels, centred."""
        f = 0.5 * width / math.tan(0.5 * camera_angle_x)
        return cls(f, f, width / 2, height / 2, width, height)

    def scaled(self, factor: float) -> "Intrinsics":
        """Intrinsics of the image resized by ``factor`` (e.g. 0.5 halves the resolution)."""
        return Intrinsics(self.fx * factor, self.fy * factor, self.cx * factor, self.cy * factor,
                          int(round(self.width * factor)), int(round(self.height * factor)))

    def to_dict(self) -> dict:
        return dict(fx=self.fx, fy=self.fy, cx=self.cx, cy=self.cy, width=self.width, height=self.height)


def pixel_points(cam: Intrinsics, pixels: torch.Tensor | None = None, device=None) -> torch.Tensor:
    """Camera-frame points of pixels on the ``z = -1`` plane.

    Args:
        cam: intrinsics.
        pixels: ``(..., 2)`` integer or float ``(v, u)`` = (row, column); default all pixels, row-major.
    Returns:
        ``(..., 3)`` float32 points.

    Example:
        >>> from rankfield.nerf import Intrinsics
        >>> from rankfield.nerf.camera import pixel_points
        >>> cam = Intrinsics(fx=4.0, fy=4.0, cx=2.0, cy=2.0, width=4, height=4)
        >>> pts = pixel_points(cam)
        >>> pts.shape, bool((pts[..., 2] == -1).all())
        (torch.Size([16, 3]), True)
    """
    if pixels is None:
        v, u = torch.meshgrid(torch.arange(cam.height, device=device), torch.arange(cam.width, device=device),
                              indexing="ij")
        pixels = torch.stack([v, u], -1).reshape(-1, 2)
    pixels = pixels.float()
    x = (pixels[..., 1] + 0.5 - cam.cx) / cam.fx
    y = -(pixels[..., 0] + 0.5 - cam.cy) / cam.fy
    return torch.stack([x, y, -torch.ones_like(x)], -1)


def rays_from_poses(c2w: torch.Tensor, points_cam: torch.Tensor):
    """Rays of camera-frame points under camera-to-world poses.

    Args:
        c2w: ``(B, 3, 4)`` poses.
        points_cam: ``(B, N, 3)`` points on the ``z = -1`` plane.
    Returns:
        ``origins (B, N, 3)``, ``directions (B, N, 3)`` (unnormalised, ``z_cam = -1``).

    Example:
        >>> import torch
        >>> from rankfield.nerf import Intrinsics
        >>> from rankfield.nerf.camera import look_at
        >>> from rankfield.nerf.camera import pixel_points, rays_from_poses
        >>> cam = Intrinsics(fx=4.0, fy=4.0, cx=2.0, cy=2.0, width=4, height=4)
        >>> c2w = look_at(torch.tensor([[0.0, -4.0, 0.0]])).float()
        >>> origins, dirs = rays_from_poses(c2w, pixel_points(cam)[None])
        >>> origins.shape, dirs.shape, origins[0, 0].tolist()
        (torch.Size([1, 16, 3]), torch.Size([1, 16, 3]), [0.0, -4.0, 0.0])
    """
    R, c = c2w[..., :3, :3], c2w[..., :3, 3]
    d = points_cam @ R.transpose(-1, -2)
    return c[..., None, :].expand_as(d), d


def look_at(eye: torch.Tensor, target: torch.Tensor | None = None, up=(0.0, 0.0, 1.0)) -> torch.Tensor:
    """Camera-to-world pose(s) ``(..., 3, 4)`` at ``eye`` looking at ``target`` (OpenGL axes, world +Z up).

    Example:
        >>> import torch
        >>> from rankfield.nerf.camera import look_at
        >>> c2w = look_at(torch.tensor([0.0, -4.0, 0.0]))
        >>> c2w.shape, c2w[:, 3].tolist()
        (torch.Size([3, 4]), [0.0, -4.0, 0.0])
        >>> torch.allclose(-c2w[:, 2], torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
        True
    """
    eye = torch.as_tensor(eye, dtype=torch.float64)
    target = torch.zeros_like(eye) if target is None else torch.as_tensor(target, dtype=torch.float64).expand_as(eye)
    up = torch.as_tensor(up, dtype=torch.float64).expand_as(eye)
    back = eye - target
    back = back / back.norm(dim=-1, keepdim=True)
    right = torch.linalg.cross(up, back)
    right = right / right.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    new_up = torch.linalg.cross(back, right)
    R = torch.stack([right, new_up, back], -1)
    return torch.cat([R, eye[..., None]], -1)


def opencv_to_opengl(c2w: torch.Tensor) -> torch.Tensor:
    """Flip the camera's Y and Z axes (COLMAP/OpenCV ``[right, down, forward]`` -> OpenGL); the centre stays.

    Examples:
        >>> import torch
        >>> from rankfield.nerf.camera import opencv_to_opengl
        >>> c2w = torch.eye(4)[:3]
        >>> opencv_to_opengl(c2w).diagonal().tolist(), opencv_to_opengl(opencv_to_opengl(c2w)).equal(c2w)
        ([1.0, -1.0, -1.0], True)
    """
    out = c2w.clone()
    out[..., :3, 1:3] *= -1
    return out
