"""Input checks shared by the loops of :mod:`rankfield.inr.fitting` and :mod:`rankfield.inr.many` (private).

Examples:
    >>> import torch
    >>> as_float("coords", [[0, 1]], input_dtype(torch.nn.Linear(2, 1).double())).dtype
    torch.float64
"""

from __future__ import annotations

import torch
from torch import nn

from rankfield.errors import InputError

__all__ = ["input_dtype", "as_float"]


def input_dtype(model: nn.Module) -> torch.dtype:
    """The dtype inputs are cast to: that of ``model``'s first floating-point parameter, else torch's default."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.get_default_dtype()


def as_float(name: str, x, dtype) -> torch.Tensor:
    """``x`` as a tensor of ``dtype``; :class:`InputError` naming ``name`` for booleans or complex numbers."""
    x = torch.as_tensor(x)
    if x.dtype == torch.bool or x.is_complex():
        raise InputError(f"{name} must be real numbers, got dtype {x.dtype}")
    return x.to(dtype)
