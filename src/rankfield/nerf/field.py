"""Radiance field built from :mod:`rankfield.inr` parts: density + view-dependent colour.

Examples:
    >>> f = RadianceField(FieldConfig(width=32, depth=2))
    >>> sigma, rgb = f(torch.rand(10, 3), torch.randn(10, 3))
    >>> sigma.shape, rgb.shape
    (torch.Size([10]), torch.Size([10, 3]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from rankfield._config import Config
from rankfield.errors import InputError
from rankfield.inr.activations import Gauss
from rankfield.inr.encodings import HashGridEncoding, PositionalEncoding

__all__ = ["FieldConfig", "RadianceField"]


@dataclass
class FieldConfig(Config):
    """Radiance field hyper-parameters.

    Attributes:
        encoding: position encoding, ``"positional"`` (NeRF/BARF PE), ``"hashgrid"`` (Instant-NGP) or
            ``"none"`` (GARF: raw coordinates into Gaussian activations).
        n_frequencies: PE frequencies of positions (BARF: 10).
        dir_frequencies: PE frequencies of view directions (0 disables view dependence).
        coarse_to_fine: BARF window ``(start, end)`` as fractions of training (BARF: ``(0.1, 0.5)``), or ``None``
            (default: every band from the first step, which registered further on lego and on fern at this
            library's CPU budgets; evidence: ``docs/guide/nerf.md``).
        anneal_directions: open the view-direction bands with the same window (BARF's code anneals every
            positional encoding, the view direction's included), so early on the colour depends on the
            direction only linearly and cannot explain a misregistered pose as view-dependent colour.
        activation: hidden activation, ``"relu"`` or ``"gauss"`` (GARF).
        gauss_sigma: GARF's ``sigma`` of ``exp(-z^2 / (2 sigma^2))`` (default 0.1).
        width, depth: hidden units and number of hidden layers of the density trunk (BARF: 256, 8).
        skip: hidden layer index that re-concatenates the encoded input (``None``: no skip).
        bound: positions are divided by ``bound`` before encoding (scene half-extent).
        hash_levels, hash_log2_size: hash-grid size when ``encoding="hashgrid"`` (``coarse_to_fine`` then
            windows its levels, Heo et al. 2023).
        hash_interpolation: ``"linear"`` or ``"smoothstep"`` (continuous position gradients, Heo et al.).
        density_noise: std of noise added to raw density during training (0 = off).

    Example:
        >>> from rankfield.nerf import FieldConfig
        >>> cfg = FieldConfig(width=32, depth=2, n_frequencies=4)
        >>> cfg.encoding, cfg.width, cfg.depth
        ('positional', 32, 2)
    """

    encoding: Literal["positional", "hashgrid", "none"] = "positional"
    n_frequencies: int = 8
    dir_frequencies: int = 4
    coarse_to_fine: tuple[float, float] | None = None
    anneal_directions: bool = False
    activation: Literal["relu", "gauss"] = "relu"
    gauss_sigma: float = 0.1
    width: int = 128
    depth: int = 4
    skip: int | None = None
    bound: float = 1.5
    hash_levels: int = 12
    hash_log2_size: int = 15
    hash_interpolation: Literal["linear", "smoothstep"] = "linear"
    density_noise: float = 0.0

    def validate(self) -> "FieldConfig":
        super().validate()
        if self.width < 1 or self.depth < 1 or not self.bound > 0:
            raise InputError("field width/depth must be >= 1 and bound > 0")
        return self



class RadianceField(nn.Module):
    """``(x, d) -> (sigma, rgb)``: a density trunk on encoded positions, a colour head on its features and
    the encoded view direction. Call :meth:`set_progress` each step to drive the coarse-to-fine window.

    Example:
        >>> import torch
        >>> from rankfield.nerf import FieldConfig, RadianceField
        >>> field = RadianceField(FieldConfig(width=16, depth=1))
        >>> sigma, rgb = field(torch.zeros(5, 3), torch.tensor([[0.0, 0.0, 1.0]]).expand(5, 3))
        >>> sigma.shape, rgb.shape, bool(((rgb >= 0) & (rgb <= 1)).all())
        (torch.Size([5]), torch.Size([5, 3]), True)
    """

    def __init__(self, config: FieldConfig | None = None, device=None):
        super().__init__()
        self.config = cfg = (config or FieldConfig()).validate()
        if cfg.encoding == "positional":
            self.encoder = PositionalEncoding(3, cfg.n_frequencies, include_input=True,
                                              coarse_to_fine=cfg.coarse_to_fine)
            in_dim = self.encoder.out_dim
        elif cfg.encoding == "hashgrid":
            self.encoder = HashGridEncoding(3, n_levels=cfg.hash_levels, log2_hashmap_size=cfg.hash_log2_size,
                                            base_resolution=8, per_level_scale=1.5, device=device,
                                            coarse_to_fine=cfg.coarse_to_fine, interpolation=cfg.hash_interpolation)
            in_dim = self.encoder.out_dim + 3
        else:
            self.encoder = None
            in_dim = 3
        self.dir_encoder = (PositionalEncoding(3, cfg.dir_frequencies, include_input=True,
                                               coarse_to_fine=cfg.coarse_to_fine if cfg.anneal_directions else None)
                            if cfg.dir_frequencies > 0 else None)
        dir_dim = self.dir_encoder.out_dim if self.dir_encoder is not None else 0
        act = (lambda: nn.ReLU()) if cfg.activation == "relu" else (lambda: Gauss(1.0 / (2 ** 0.5 * cfg.gauss_sigma)))
        layers, dims = nn.ModuleList(), in_dim
        for i in range(cfg.depth):
            if cfg.skip is not None and i == cfg.skip and i > 0:
                dims += in_dim
            layers.append(nn.Linear(dims, cfg.width))
            dims = cfg.width
        self.layers = layers
        self.act = act()
        self.sigma_head = nn.Linear(cfg.width, 1)
        self.feature = nn.Linear(cfg.width, cfg.width)
        self.color = nn.Sequential(nn.Linear(cfg.width + dir_dim, cfg.width // 2), act(),
                                   nn.Linear(cfg.width // 2, 3))
        if device is not None:
            self.to(device)

    def set_progress(self, progress: float) -> None:
        """Fraction of training done, in ``[0, 1]`` (coarse-to-fine PE bands or hash-grid levels)."""
        if self.encoder is not None:
            self.encoder.set_progress(progress)
        if self.dir_encoder is not None:
            self.dir_encoder.set_progress(progress)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        x = x / self.config.bound
        if self.encoder is None:
            return x
        if isinstance(self.encoder, HashGridEncoding):
            return torch.cat([x, self.encoder(x.clamp(-1, 1))], -1)
        return self.encoder(x)

    def forward(self, x: torch.Tensor, d: torch.Tensor | None = None):
        """Positions ``(..., 3)`` and directions ``(..., 3)`` -> density ``(...)`` (>= 0), colour ``(..., 3)``."""
        enc = self.encode(x)
        h = enc
        for i, layer in enumerate(self.layers):
            if self.config.skip is not None and i == self.config.skip and i > 0:
                h = torch.cat([h, enc], -1)
            h = self.act(layer(h))
        raw = self.sigma_head(h)[..., 0]
        if self.training and self.config.density_noise > 0:
            raw = raw + torch.randn_like(raw) * self.config.density_noise
        sigma = F.softplus(raw - 1.0)  # slight negative shift: starts mostly empty
        feat = self.feature(h)
        if self.dir_encoder is not None:
            if d is None:
                raise InputError("this radiance field is view-dependent: pass directions")
            dn = d / d.norm(dim=-1, keepdim=True).clamp(min=1e-9)
            feat = torch.cat([feat, self.dir_encoder(dn)], -1)
        rgb = torch.sigmoid(self.color(feat))
        return sigma, rgb
