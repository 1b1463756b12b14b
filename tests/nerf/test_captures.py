"""Real captures as users bring them: Instant-NGP intrinsics, distortion, bounds, downscale on load, hold-out."""

import json
import math

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from rankfield import InputError
from rankfield.nerf.camera import look_at
from rankfield.nerf.camera import Intrinsics
from rankfield.nerf.data import holdout_split, load_blender, undistort_images


def _capture(tmp_path, n=6, size=(24, 32), **meta):
    (tmp_path / "images").mkdir(parents=True)
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    poses = look_at(torch.tensor(np.stack([3 * np.cos(a), 3 * np.sin(a), np.full(n, 0.5)], -1)))
    frames = []
    for i in range(n):
        img = (np.random.default_rng(i).random((*size, 3)) * 255).astype(np.uint8)
        iio.imwrite(tmp_path / "images" / f"{i}.png", img)
        M = np.eye(4)
        M[:3] = poses[i].numpy()
        frames.append({"file_path": f"images/{i}.png", "transform_matrix": M.tolist()})
    (tmp_path / "transforms.json").write_text(json.dumps({"frames": frames, **meta}))
    return tmp_path


def test_ngp_intrinsics_win_over_camera_angle_x(tmp_path):
    root = _capture(tmp_path, camera_angle_x=0.9, fl_x=30.0, fl_y=28.0, cx=15.0, cy=11.0, w=32, h=24)
    cam = load_blender(root).intrinsics
    assert (cam.fx, cam.fy, cam.cx, cam.cy, cam.width, cam.height) == (30.0, 28.0, 15.0, 11.0, 32, 24)


def test_downscale_on_load_scales_images_and_intrinsics(tmp_path):
    root = _capture(tmp_path, fl_x=30.0, fl_y=28.0, cx=15.0, cy=11.0, w=32, h=24)
    full, half = load_blender(root), load_blender(root, downscale=0.5)
    assert tuple(half.images.shape[1:3]) == (12, 16)
    assert (half.intrinsics.fx, half.intrinsics.cx, half.intrinsics.width) == (15.0, 7.5, 16)
    assert torch.allclose(half.images[0], torch.nn.functional.avg_pool2d(full.images[0].permute(2, 0, 1), 2)
                          .permute(1, 2, 0), atol=1e-6)


def test_bounds_come_from_the_cameras_and_aabb_scale(tmp_path):
    root = _capture(tmp_path, fl_x=30.0, w=32, h=24, aabb_scale=1)
    s = load_blender(root)
    d = math.hypot(3.0, 0.5)
    assert s.near == pytest.approx(d - 1.5) and s.far == pytest.approx(d + 1.5)


def test_undistortion_inverts_a_known_distortion():
    cam = Intrinsics(fx=40.0, fy=40.0, cx=32.0, cy=24.0, width=64, height=48)
    v, u = torch.meshgrid(torch.arange(48.0), torch.arange(64.0), indexing="ij")
    x, y = (u + 0.5 - cam.cx) / cam.fx, (v + 0.5 - cam.cy) / cam.fy

    def pattern(x, y):  # a smooth image defined on normalised (pinhole) coordinates
        return torch.stack([0.5 + 0.4 * torch.sin(3 * x), 0.5 + 0.4 * torch.cos(2 * y), 0.5 + 0.3 * x * y], -1)

    k1, k2, p1, p2 = -0.2, 0.05, 0.01, -0.005
    # the distorted photo: pixel (u, v) sees the ray whose distortion lands on it; invert by fixed point
    xu, yu = x.clone(), y.clone()
    for _ in range(50):
        r2 = xu ** 2 + yu ** 2
        rad = 1 + k1 * r2 + k2 * r2 ** 2
        dx, dy = 2 * p1 * xu * yu + p2 * (r2 + 2 * xu ** 2), p1 * (r2 + 2 * yu ** 2) + 2 * p2 * xu * yu
        xu, yu = (x - dx) / rad, (y - dy) / rad
    distorted = pattern(xu, yu)[None]
    out = undistort_images(distorted, cam, k1=k1, k2=k2, p1=p1, p2=p2)[0]
    inner = (slice(6, -6), slice(6, -6))  # away from the border, where edge padding takes over
    assert (out[inner] - pattern(x, y)[inner]).abs().max() < 5e-3
    assert (distorted[0][inner] - pattern(x, y)[inner]).abs().max() > 0.05  # the distortion was real


def test_distorted_capture_is_undistorted_on_load_and_fisheye_refused(tmp_path):
    root = _capture(tmp_path / "a", fl_x=30.0, w=32, h=24, k1=-0.1)
    plain = _capture(tmp_path / "b", fl_x=30.0, w=32, h=24)
    assert not torch.allclose(load_blender(root).images, load_blender(plain).images)
    fish = _capture(tmp_path / "c", fl_x=30.0, w=32, h=24, is_fisheye=True)
    with pytest.raises(InputError, match="not supported"):
        load_blender(fish)


def test_holdout_split_takes_every_nth_frame(tmp_path):
    s = load_blender(_capture(tmp_path, n=10, fl_x=30.0, w=32, h=24))
    train, test = holdout_split(s, 4)
    assert test.names == ["0.png", "4.png", "8.png"] and len(train) == 7


def test_cli_refines_the_files_poses_and_holds_out_test_views(tmp_path, capsys):
    from rankfield.cli import main

    root = _capture(tmp_path / "cap", n=8, fl_x=30.0, w=32, h=24, aabb_scale=1)
    out = tmp_path / "o"
    assert main(["fit-scene", str(root), "--steps", "3", "--rays", "32", "--samples", "4", "--holdout-every", "4",
                 "--test-time-refine", "2", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "init=file" in printed and "2 test views" in printed and "refined away from the file's poses" in printed
    m = json.loads((out / "metrics.json").read_text())
    assert m["test_views"] == 2 and m["initial_rotation_deg"] < 1e-3
