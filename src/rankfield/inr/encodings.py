"""Input encodings for coordinate MLPs.

All encodings take coordinates in ``[-1, 1]^d`` (the library-wide convention) with shape
``(..., d)`` and return features of shape ``(..., out_dim)``.

* :class:`PositionalEncoding` -- NeRF's ``[x, sin(2^k pi x), cos(2^k pi x)]`` with BARF's
  coarse-to-fine band window.
* :class:`FourierFeatures` -- Gaussian random Fourier features ``[sin, cos](2 pi B x)``.
* :class:`HashGridEncoding` -- Instant-NGP multiresolution hash grid in pure PyTorch,
  accepting tiny-cuda-nn's config keys, using ``tinycudann`` when installed and on CUDA.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rankfield._registry import Registry
from rankfield.errors import InputError

__all__ = ["PositionalEncoding", "FourierFeatures", "HashGridEncoding", "make_encoding"]


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InputError(f"{name} must be a positive integer, got {value!r}")


def _check_window(coarse_to_fine) -> None:
    if coarse_to_fine is not None and not 0.0 <= coarse_to_fine[0] < coarse_to_fine[1]:
        raise InputError(f"coarse_to_fine must be (start, end) with 0 <= start < end, got {coarse_to_fine}")


def _cosine_window(progress: torch.Tensor, coarse_to_fine, n: int) -> torch.Tensor:
    """BARF's weights of ``n`` bands/levels: ``(1 - cos(pi * clamp(alpha - k, 0, 1))) / 2``,
    ``alpha = n * (progress - start) / (end - start)``; ones without a window."""
    if coarse_to_fine is None:
        return torch.ones(n, device=progress.device, dtype=progress.dtype)
    start, end = coarse_to_fine
    alpha = (progress - start) / (end - start) * n
    k = torch.arange(n, device=progress.device, dtype=progress.dtype)
    return (1 - torch.cos(math.pi * (alpha - k).clamp(0, 1))) / 2


class PositionalEncoding(nn.Module):
    """NeRF positional encoding with the BARF coarse-to-fine window.

    ``gamma(x) = [x, sin(2^0 pi x), cos(2^0 pi x), ..., sin(2^{L-1} pi x), cos(2^{L-1} pi x)]``.
    Band ``k`` is multiplied by ``w_k = (1 - cos(pi * clamp(alpha - k, 0, 1))) / 2`` where
    ``alpha = L * (progress - start) / (end - start)`` and ``progress`` in ``[0, 1]`` is the
    fraction of training done (set with :meth:`set_progress`). With ``coarse_to_fine=None``
    (default) all bands have weight 1.

    Examples:
        >>> import torch
        >>> from rankfield.inr.encodings import PositionalEncoding
        >>> enc = PositionalEncoding(2, n_frequencies=6, coarse_to_fine=(0.1, 0.5))
        >>> enc.set_progress(0.0); enc.band_weights()[0].item()
        0.0
        >>> enc(torch.zeros(5, 2)).shape
        torch.Size([5, 26])
    """

    def __init__(self, in_dim: int, n_frequencies: int = 10, include_input: bool = True,
                 coarse_to_fine: tuple[float, float] | None = None):
        super().__init__()
        _check_positive_int("in_dim", in_dim)
        _check_positive_int("n_frequencies", n_frequencies)
        _check_window(coarse_to_fine)
        self.in_dim = in_dim
        self.n_frequencies = n_frequencies
        self.include_input = include_input
        self.coarse_to_fine = coarse_to_fine
        self.register_buffer("freqs", math.pi * 2.0 ** torch.arange(n_frequencies, dtype=torch.float32))
        self.register_buffer("progress", torch.tensor(1.0))
        self.out_dim = in_dim * (2 * n_frequencies + int(include_input))

    def set_progress(self, progress: float) -> None:
        """Set the fraction of training done, in ``[0, 1]``; drives the coarse-to-fine window."""
        self.progress.fill_(float(progress))

    def band_weights(self) -> torch.Tensor:
        """Weight of each frequency band, shape ``(n_frequencies,)``."""
        return _cosine_window(self.progress, self.coarse_to_fine, self.n_frequencies).to(self.freqs.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x[..., None] * self.freqs  # (..., d, L)
        w = self.band_weights()
        enc = torch.cat([torch.sin(z) * w, torch.cos(z) * w], dim=-1)  # (..., d, 2L)
        enc = enc.flatten(-2)
        return torch.cat([x, enc], dim=-1) if self.include_input else enc


class FourierFeatures(nn.Module):
    """Gaussian random Fourier features ``[sin(2 pi B x), cos(2 pi B x)]``, ``B ~ N(0, sigma^2)``.

    ``n_features`` rows of ``B`` give ``2 * n_features`` outputs. ``B`` is a fixed buffer drawn
    from ``seed`` (Tancik et al. 2020).

    Examples:
        >>> import torch
        >>> from rankfield.inr.encodings import FourierFeatures
        >>> ff = FourierFeatures(2, n_features=128, sigma=10.0)
        >>> ff(torch.rand(4, 2)).shape
        torch.Size([4, 256])
    """

    def __init__(self, in_dim: int, n_features: int = 256, sigma: float = 10.0, seed: int = 0):
        super().__init__()
        _check_positive_int("in_dim", in_dim)
        _check_positive_int("n_features", n_features)
        if not sigma > 0:
            raise InputError(f"sigma must be > 0, got {sigma}")
        gen = torch.Generator().manual_seed(seed)
        # Coordinates are in [-1, 1] (span 2) where Tancik et al. use [0, 1]: halve B to keep sigma's meaning.
        self.register_buffer("B", torch.randn(n_features, in_dim, generator=gen) * sigma / 2)
        self.in_dim = in_dim
        self.out_dim = 2 * n_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = 2 * math.pi * x @ self.B.T
        return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)


_PRIMES = (1, 2654435761, 805459861, 3674653429)


def _try_tinycudann():
    try:
        import tinycudann  # noqa: F401
    except Exception:  # ImportError, or a broken CUDA build
        return None
    return tinycudann


class HashGridEncoding(nn.Module):
    """Multiresolution hash grid (Instant-NGP), pure PyTorch, tiny-cuda-nn config keys.

    Level ``l`` has resolution ``N_l = floor(base_resolution * per_level_scale**l)``; a point
    ``u = (x + 1) / 2`` in ``[0, 1]^d`` is scaled to ``u * N_l`` and its ``2^d`` surrounding
    integer vertices are looked up in a table of ``T = 2**log2_hashmap_size`` entries of
    ``n_features_per_level`` features, then (bi/tri)linearly interpolated. A level whose
    ``(N_l + 1)^d`` vertices fit in ``T`` is indexed densely (one-to-one); finer levels use
    the spatial hash ``xor_i(v_i * pi_i) mod T`` with Instant-NGP's primes. The output
    concatenates all levels: ``n_levels * n_features_per_level`` features.

    ``backend="auto"`` uses ``tinycudann.Encoding`` when it is importable and the module is on
    CUDA at construction (``device="cuda"``); ``"torch"`` always uses the pure-PyTorch path.
    Table entries are initialised ``U(-1e-4, 1e-4)`` as in Instant-NGP.

    For camera-pose refinement (Heo et al., ICML 2023): ``coarse_to_fine=(start, end)`` weights level ``l``
    by BARF's cosine window ``(1 - cos(pi * clamp(alpha - l, 0, 1))) / 2`` with
    ``alpha = n_levels * (progress - start) / (end - start)`` (set with :meth:`set_progress`), so the fine
    levels join late; ``interpolation="smoothstep"`` replaces the linear weights ``f`` by
    ``3f^2 - 2f^3``, whose gradient with respect to the position is continuous across cells
    (Instant-NGP's and tiny-cuda-nn's ``Smoothstep`` option).

    Examples:
        >>> import torch
        >>> from rankfield.inr.encodings import HashGridEncoding
        >>> enc = HashGridEncoding(2, n_levels=8, log2_hashmap_size=14)
        >>> enc(torch.rand(10, 2) * 2 - 1).shape
        torch.Size([10, 16])
    """

    def __init__(self, in_dim: int, n_levels: int = 16, n_features_per_level: int = 2,
                 log2_hashmap_size: int = 19, base_resolution: int = 16, per_level_scale: float = 2.0,
                 backend: str = "auto", device=None, seed: int = 0,
                 coarse_to_fine: tuple[float, float] | None = None, interpolation: str = "linear"):
        super().__init__()
        if interpolation not in ("linear", "smoothstep"):
            raise InputError(f"interpolation must be 'linear' or 'smoothstep', got {interpolation!r}")
        _check_window(coarse_to_fine)
        self.coarse_to_fine, self.interpolation = coarse_to_fine, interpolation
        self.register_buffer("progress", torch.tensor(1.0, device=device), persistent=False)  # old checkpoints load
        for name, v in [("in_dim", in_dim), ("n_levels", n_levels), ("n_features_per_level", n_features_per_level),
                        ("log2_hashmap_size", log2_hashmap_size), ("base_resolution", base_resolution)]:
            _check_positive_int(name, v)
        if in_dim > len(_PRIMES):
            raise InputError(f"HashGridEncoding supports in_dim <= {len(_PRIMES)}, got {in_dim}")
        if not per_level_scale >= 1.0:
            raise InputError(f"per_level_scale must be >= 1, got {per_level_scale}")
        if log2_hashmap_size > 26:
            raise InputError(f"log2_hashmap_size must be <= 26, got {log2_hashmap_size}")
        if backend not in ("auto", "torch", "tcnn"):
            raise InputError(f"backend must be auto, torch or tcnn, got {backend!r}")
        self.in_dim, self.n_levels, self.n_features_per_level = in_dim, n_levels, n_features_per_level
        self.log2_hashmap_size, self.base_resolution, self.per_level_scale = log2_hashmap_size, base_resolution, per_level_scale
        self.out_dim = n_levels * n_features_per_level
        self.table_size = 2 ** log2_hashmap_size
        device = torch.device(device) if device is not None else torch.device("cpu")
        self._tcnn = None
        tcnn = _try_tinycudann() if backend != "torch" else None
        if backend == "tcnn" and (tcnn is None or device.type != "cuda"):
            raise InputError("backend='tcnn' needs tinycudann installed and device='cuda'")
        if tcnn is not None and device.type == "cuda":
            self._tcnn = tcnn.Encoding(in_dim, self.tcnn_config())
            self.backend = "tcnn"
            return
        self.backend = "torch"
        res = torch.tensor([math.floor(base_resolution * per_level_scale ** l) for l in range(n_levels)],
                           dtype=torch.int64)
        dense = (res + 1).double() ** in_dim <= self.table_size
        self.register_buffer("resolutions", res.to(device))
        self.register_buffer("dense_levels", dense.to(device))
        corners = torch.tensor([[(c >> i) & 1 for i in range(in_dim)] for c in range(2 ** in_dim)], dtype=torch.int64)
        self.register_buffer("corners", corners.to(device))  # (2^d, d)
        self.register_buffer("primes", torch.tensor(_PRIMES[:in_dim], dtype=torch.int64, device=device))
        gen = torch.Generator().manual_seed(seed)
        table = (torch.rand(n_levels, self.table_size, n_features_per_level, generator=gen) * 2 - 1) * 1e-4
        self.table = nn.Parameter(table.to(device))

    def tcnn_config(self) -> dict:
        """The equivalent ``tinycudann`` encoding config."""
        return {"otype": "HashGrid", "n_levels": self.n_levels, "n_features_per_level": self.n_features_per_level,
                "log2_hashmap_size": self.log2_hashmap_size, "base_resolution": self.base_resolution,
                "per_level_scale": self.per_level_scale,
                "interpolation": "Smoothstep" if self.interpolation == "smoothstep" else "Linear"}

    def set_progress(self, progress: float) -> None:
        """Set the fraction of training done, in ``[0, 1]``; drives the coarse-to-fine level window."""
        self.progress.fill_(float(progress))

    def level_weights(self) -> torch.Tensor:
        """Weight of each level, shape ``(n_levels,)`` (all ones without ``coarse_to_fine``)."""
        return _cosine_window(self.progress, self.coarse_to_fine, self.n_levels)

    def _weighted(self, out: torch.Tensor) -> torch.Tensor:
        """``(N, L, F)`` level features times the coarse-to-fine window."""
        if self.coarse_to_fine is None:
            return out
        return out * self.level_weights().to(out.dtype)[:, None]

    def vertex_indices(self, vertices: torch.Tensor) -> torch.Tensor:
        """Table index of integer ``vertices`` of shape ``(..., L, d)`` at each level -> ``(..., L)``."""
        stride = (self.resolutions[:, None] + 1) ** torch.arange(self.in_dim, device=vertices.device)  # (L, d)
        dense_idx = (vertices * stride).sum(-1)
        h = vertices * self.primes
        hashed = h[..., 0]
        for i in range(1, self.in_dim):
            hashed = torch.bitwise_xor(hashed, h[..., i])
        hashed = hashed & (self.table_size - 1)
        return torch.where(self.dense_levels, dense_idx, hashed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] != self.in_dim:
            raise InputError(f"HashGridEncoding expects (..., {self.in_dim}) inputs, got {tuple(x.shape)}")
        lead = x.shape[:-1]
        u = ((x.reshape(-1, self.in_dim) + 1) / 2).clamp(0, 1)
        if self._tcnn is not None:
            out = self._tcnn(u).to(x.dtype).reshape(-1, self.n_levels, self.n_features_per_level)
            return self._weighted(out).reshape(*lead, self.out_dim)
        pos = u[:, None, :].float() * self.resolutions[:, None].float()  # (N, L, d)
        base = pos.floor().clamp(max=self.resolutions[:, None].float() - 1).long().clamp(min=0)
        frac = pos - base  # (N, L, d)
        if self.interpolation == "smoothstep":
            frac = frac * frac * (3 - 2 * frac)
        verts = base[:, :, None, :] + self.corners  # (N, L, 2^d, d)
        idx = self.vertex_indices(verts.transpose(1, 2)).transpose(1, 2)  # (N, L, 2^d)
        w = torch.where(self.corners.bool(), frac[:, :, None, :], 1 - frac[:, :, None, :]).prod(-1)  # (N, L, 2^d)
        level = torch.arange(self.n_levels, device=x.device)[None, :, None]
        feats = self.table[level, idx]  # (N, L, 2^d, F)
        out = self._weighted((w[..., None] * feats).sum(2))  # (N, L, F)
        return out.reshape(*lead, self.out_dim).to(x.dtype)


ENCODINGS = Registry("encoding")
ENCODINGS.register("positional", PositionalEncoding)
ENCODINGS.register("fourier", FourierFeatures)
ENCODINGS.register("hashgrid", HashGridEncoding)


def make_encoding(name: str | None, in_dim: int, **kwargs) -> nn.Module | None:
    """Build an encoding by name: ``None``/``"none"`` or one of ``ENCODINGS.names()``.

    Examples:
        >>> from rankfield.inr.encodings import make_encoding
        >>> make_encoding("positional", 2, n_frequencies=4).out_dim
        18
    """
    if name in (None, "none", "identity"):
        return None
    try:
        return ENCODINGS.build(name, in_dim, **kwargs)
    except TypeError as exc:
        raise InputError(f"encoding {name!r}: {exc}") from None
