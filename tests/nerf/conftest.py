import json

import numpy as np
import pytest


def write_png(path, h=6, w=8, channels=4, value=128):
    import imageio.v3 as iio

    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, np.full((h, w, channels), value, np.uint8))


@pytest.fixture
def blender_dir(tmp_path):
    """A tiny Blender scene: 3 frames of 8x6 RGBA images."""
    frames = []
    for i in range(3):
        write_png(tmp_path / "train" / f"r_{i}.png")
        M = np.eye(4)
        M[:3, 3] = [0, 0, 4 + i]
        frames.append({"file_path": f"./train/r_{i}", "transform_matrix": M.tolist()})
    (tmp_path / "transforms_train.json").write_text(json.dumps({"camera_angle_x": 0.7, "frames": frames}))
    return tmp_path


@pytest.fixture
def llff_dir(tmp_path):
    """A tiny LLFF scene: 4 poses, images_8/ with 4 images of 8x6, full-res 48x64, focal 50."""
    n = 4
    pb = np.zeros((n, 17))
    for i in range(n):
        # LLFF columns [down, right, backwards]: camera looking down -z in OpenGL = R_gl = I
        R = np.stack([[0, -1, 0], [1, 0, 0], [0, 0, 1]], 1).astype(float)  # columns: down, right, back
        pose = np.concatenate([R, np.array([[0.1 * i], [0.0], [0.0]]), np.array([[48], [64], [50.0]])], 1)
        pb[i, :15] = pose.reshape(-1)
        pb[i, 15:] = [2.0, 10.0]
    np.save(tmp_path / "poses_bounds.npy", pb)
    for i in range(n):
        write_png(tmp_path / "images_8" / f"img{i:02d}.png", h=6, w=8, channels=3)
    return tmp_path


@pytest.fixture(autouse=True)
def _one_thread():
    """Small NeRF ops oversubscribe a shared 2-core machine badly with 2 threads (10x slower): use 1."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
