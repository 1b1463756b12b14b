import math

import numpy as np
import pytest
import torch

from rankfield import InputError
from rankfield.inr import load_image
from rankfield.inr.metrics import iou, psnr, ssim
from rankfield.inr.data import grid_coordinates, shape_occupancy


def test_psnr_and_ssim_known_values():
    a = torch.zeros(8, 8, 3)
    assert math.isclose(psnr(a, a + 0.1), 20.0, rel_tol=1e-6)
    img = torch.rand(40, 40, 3, generator=torch.Generator().manual_seed(0))
    assert math.isclose(ssim(img, img), 1.0, rel_tol=1e-9)
    noisy = (img + 0.3 * torch.randn(40, 40, 3, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    assert ssim(noisy, img) < 0.8
    # SSIM agrees with scikit-image's Gaussian-window implementation
    from skimage.metrics import structural_similarity
    ref = structural_similarity(noisy.numpy(), img.numpy(), channel_axis=2, data_range=1.0,
                                gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    assert abs(ssim(noisy, img) - ref) < 1e-3


def test_iou_of_spheres():
    p = grid_coordinates(48, 48, 48).reshape(-1, 3)
    a = (p.norm(dim=-1) < 0.5).float()
    b = (p.norm(dim=-1) < 0.4).float()
    assert abs(iou(b, a) - 0.4 ** 3 / 0.5 ** 3) < 0.03
    assert shape_occupancy("sphere", torch.zeros(1, 3)).item() == 1.0


def test_load_image_formats(tmp_path):
    import imageio.v3 as iio
    g8 = (np.arange(64, dtype=np.uint8).reshape(8, 8) * 4)
    iio.imwrite(tmp_path / "g8.png", g8)
    img = load_image(tmp_path / "g8.png")
    assert img.shape == (8, 8, 1) and math.isclose(img.max().item(), 252 / 255, rel_tol=1e-6)
    g16 = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    iio.imwrite(tmp_path / "g16.png", g16)
    img16 = load_image(tmp_path / "g16.png")
    assert math.isclose(img16.max().item(), 63000 / 65535, rel_tol=1e-6)
    rgba = np.zeros((6, 10, 4), dtype=np.uint8)
    rgba[..., 3] = 255
    iio.imwrite(tmp_path / "rgba.png", rgba)
    assert load_image(tmp_path / "rgba.png").shape == (6, 10, 4)
    assert load_image(tmp_path / "rgba.png", size=5).shape == (3, 5, 4)


def test_load_image_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(InputError, match="cannot be read as an image"):
        load_image(tmp_path / "text.png")
    np.save(tmp_path / "nan.npy", np.full((4, 4), np.nan, dtype=np.float32))
    with pytest.raises(InputError, match="NaN"):
        load_image(tmp_path / "nan.npy")
    np.save(tmp_path / "empty.npy", np.zeros((0, 4), dtype=np.float32))
    with pytest.raises(InputError, match="zero"):
        load_image(tmp_path / "empty.npy")
    np.save(tmp_path / "cube.npy", np.zeros((4, 4, 4, 4, 4), dtype=np.float32))
    with pytest.raises(InputError, match="expected an image"):
        load_image(tmp_path / "cube.npy")
