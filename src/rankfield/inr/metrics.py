"""Image and shape metrics: PSNR, SSIM, IoU. Values are in ``[0, 1]`` unless ``data_range`` says otherwise."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["psnr", "mse_to_psnr", "ssim", "iou"]


def mse_to_psnr(mse: float | torch.Tensor, data_range: float = 1.0):
    """PSNR in dB from a mean squared error (``10 log10(data_range^2 / mse)``); a tensor in, a tensor out.

    Examples:
        >>> from rankfield.inr.metrics import mse_to_psnr
        >>> mse_to_psnr(0.01), mse_to_psnr(1.0, data_range=255.0) > 48
        (20.0, True)
    """
    if isinstance(mse, torch.Tensor):
        return 10 * torch.log10(data_range ** 2 / mse.clamp(min=1e-20))
    return 10 * math.log10(data_range ** 2 / max(float(mse), 1e-20))


def psnr(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB over all elements.

    Examples:
        >>> import torch
        >>> from rankfield.inr.metrics import psnr
        >>> round(psnr(torch.zeros(4), torch.full((4,), 0.1)), 3)
        20.0
    """
    if pred.shape != target.shape:
        raise ValueError(f"psnr: shapes differ {tuple(pred.shape)} vs {tuple(target.shape)}")
    mse = F.mse_loss(pred.detach().double(), target.detach().double())
    return float(mse_to_psnr(mse, data_range))


def _gaussian_window(size: int, sigma: float, channels: int, device, dtype):
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(pred: torch.Tensor, target: torch.Tensor, data_range: float = 1.0, window: int = 11, sigma: float = 1.5) -> float:
    """Structural similarity (Wang et al. 2004, Gaussian 11x11 window, sigma 1.5), mean over pixels and channels.

    Images are ``(H, W)`` or ``(H, W, C)``; the window shrinks for images smaller than it.

    Examples:
        >>> import torch
        >>> from rankfield.inr.metrics import ssim
        >>> img = torch.rand(32, 32, 3)
        >>> round(ssim(img, img), 6)
        1.0
    """
    if pred.shape != target.shape:
        raise ValueError(f"ssim: shapes differ {tuple(pred.shape)} vs {tuple(target.shape)}")
    if pred.ndim == 2:
        pred, target = pred[..., None], target[..., None]
    x = pred.detach().double().permute(2, 0, 1)[None]
    y = target.detach().double().permute(2, 0, 1)[None]
    size = min(window, x.shape[-1], x.shape[-2])
    size -= (size + 1) % 2  # odd
    w = _gaussian_window(size, sigma, x.shape[1], x.device, x.dtype)
    conv = lambda t: F.conv2d(t, w, groups=x.shape[1])  # noqa: E731  (valid padding, as skimage/Wang)
    mu_x, mu_y = conv(x), conv(y)
    sxx = conv(x * x) - mu_x ** 2
    syy = conv(y * y) - mu_y ** 2
    sxy = conv(x * y) - mu_x * mu_y
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (sxx + syy + c2))
    return float(s.mean())


def iou(pred_occupancy: torch.Tensor, target_occupancy: torch.Tensor, threshold: float = 0.5) -> float:
    """Intersection over union of two occupancy fields (values above ``threshold`` are inside).

    Example:
        >>> import torch
        >>> from rankfield.inr.metrics import iou
        >>> pred = torch.tensor([0.9, 0.8, 0.2, 0.1])
        >>> target = torch.tensor([1.0, 0.0, 0.0, 1.0])
        >>> round(iou(pred, target), 4)
        0.3333
    """
    a = pred_occupancy.detach() > threshold
    b = target_occupancy.detach() > threshold
    union = (a | b).sum()
    return float((a & b).sum() / union) if union > 0 else 1.0
