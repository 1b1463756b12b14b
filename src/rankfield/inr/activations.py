"""Activations of coordinate MLPs and their papers' initializations.

=========  ==========================================  =============================================
name       activation                                  initialization (``init="paper"``)
=========  ==========================================  =============================================
relu       ``max(z, 0)``                               PyTorch default (Kaiming-uniform, a=sqrt(5))
sine       ``sin(omega0 z)`` (SIREN)                   first ``U(-1/n, 1/n)``, hidden ``U(+-sqrt(6/n)/omega0)``
finer      ``sin(omega0 (|z| + 1) z)``, scale no grad  SIREN's; optional first bias ``U(-k, k)``
gauss      ``exp(-(s z)^2)``                           PyTorch default
wire       ``exp(j omega0 z - |sigma0 z|^2)`` complex  PyTorch default (complex layers after the first)
=========  ==========================================  =============================================
"""

from __future__ import annotations

import inspect

import math

import torch
from torch import nn

from rankfield._registry import Registry
from rankfield.errors import InputError

__all__ = ["Sine", "Finer", "Gauss", "Wire", "ACTIVATIONS", "make_activation", "siren_init_"]


class Sine(nn.Module):
    """SIREN activation ``sin(omega0 * z)``.

    Example:
        >>> import torch
        >>> from rankfield.inr.activations import Sine
        >>> Sine(omega0=30.0)(torch.tensor([0.0, torch.pi / 60])).round(decimals=4)
        tensor([0., 1.])
    """

    def __init__(self, omega0: float = 30.0):
        super().__init__()
        self.omega0 = float(omega0)

    def forward(self, z):
        return torch.sin(self.omega0 * z)

    def extra_repr(self):
        return f"omega0={self.omega0}"


class Finer(nn.Module):
    """FINER activation ``sin(omega0 * (|z| + 1) * z)``; the scale ``|z| + 1`` carries no gradient.

    Example:
        >>> import torch
        >>> from rankfield.inr.activations import Finer
        >>> act = Finer(omega0=30.0)
        >>> act(torch.zeros(3)).tolist(), act(torch.linspace(-1, 1, 5)).shape
        ([0.0, 0.0, 0.0], torch.Size([5]))
    """

    def __init__(self, omega0: float = 30.0):
        super().__init__()
        self.omega0 = float(omega0)

    def forward(self, z):
        scale = (z.detach().abs() + 1)
        return torch.sin(self.omega0 * scale * z)

    def extra_repr(self):
        return f"omega0={self.omega0}"


class Gauss(nn.Module):
    """Gaussian activation ``exp(-(scale * z)^2)`` (Ramasinghe & Lucey; GARF).

    Example:
        >>> import torch
        >>> from rankfield.inr.activations import Gauss
        >>> Gauss(scale=10.0)(torch.tensor([0.0, 0.1])).round(decimals=4)
        tensor([1.0000, 0.3679])
    """

    def __init__(self, scale: float = 10.0):
        super().__init__()
        self.scale = float(scale)

    def forward(self, z):
        return torch.exp(-(self.scale * z) ** 2)

    def extra_repr(self):
        return f"scale={self.scale}"


class Wire(nn.Module):
    """WIRE complex Gabor wavelet ``exp(j omega0 z - |sigma0 z|^2)``; returns a complex tensor.

    Example:
        >>> import torch
        >>> from rankfield.inr.activations import Wire
        >>> out = Wire(omega0=20.0, sigma0=10.0)(torch.zeros(2, 3))
        >>> out.dtype, out.real.tolist()[0]
        (torch.complex64, [1.0, 1.0, 1.0])
    """

    def __init__(self, omega0: float = 20.0, sigma0: float = 10.0):
        super().__init__()
        self.omega0, self.sigma0 = float(omega0), float(sigma0)

    def forward(self, z):
        if not z.is_complex():
            z = z.to(torch.complex64 if z.dtype != torch.float64 else torch.complex128)
        return torch.exp(1j * self.omega0 * z - (self.sigma0 * z).abs() ** 2)

    def extra_repr(self):
        return f"omega0={self.omega0}, sigma0={self.sigma0}"


def _given(**kwargs) -> dict:
    """The keyword arguments that are not ``None`` (``None``: the activation's own default)."""
    return {k: v for k, v in kwargs.items() if v is not None}


ACTIVATIONS = Registry("activation")
ACTIVATIONS.register("relu", lambda omega0=None, gauss_scale=None, wire_sigma0=None: nn.ReLU())
ACTIVATIONS.register("sine", lambda omega0=None, gauss_scale=None, wire_sigma0=None: Sine(**_given(omega0=omega0)))
ACTIVATIONS.register("finer", lambda omega0=None, gauss_scale=None, wire_sigma0=None: Finer(**_given(omega0=omega0)))
ACTIVATIONS.register("gauss", lambda omega0=None, gauss_scale=None, wire_sigma0=None:
                     Gauss(**_given(scale=gauss_scale)))
ACTIVATIONS.register("wire", lambda omega0=None, gauss_scale=None, wire_sigma0=None:
                     Wire(**_given(omega0=omega0, sigma0=wire_sigma0)))


def paper_omega0(name: str) -> float:
    """The frequency ``omega0`` that activation ``name`` uses by default (its paper's: 30 for ``sine`` and
    ``finer``, 20 for ``wire``; SIREN's 30 for the others, which do not use it).

    Examples:
        >>> from rankfield.inr.activations import paper_omega0
        >>> paper_omega0("sine"), paper_omega0("wire")
        (30.0, 20.0)
    """
    ACTIVATIONS.get(name)  # one-line error for an unknown name
    cls = {"finer": Finer, "wire": Wire}.get(name, Sine)
    return float(inspect.signature(cls).parameters["omega0"].default)


def make_activation(name: str, omega0: float | None = None, gauss_scale: float | None = None,
                    wire_sigma0: float | None = None) -> nn.Module:
    """Activation module by name (one of ``ACTIVATIONS.names()``); a parameter left ``None`` takes the
    activation's own default (:func:`paper_omega0`, ``Gauss``'s scale 10, ``Wire``'s sigma0 10).

    Examples:
        >>> from rankfield.inr.activations import make_activation
        >>> make_activation("sine", omega0=20.0)
        Sine(omega0=20.0)
        >>> make_activation("wire")
        Wire(omega0=20.0, sigma0=10.0)
    """
    return ACTIVATIONS.build(name, omega0=omega0, gauss_scale=gauss_scale, wire_sigma0=wire_sigma0)


@torch.no_grad()
def siren_init_(weight: torch.Tensor, omega0: float, is_first: bool) -> torch.Tensor:
    """SIREN initialization in place: first layer ``U(-1/n, 1/n)``, others ``U(+-sqrt(6/n)/omega0)``.

    Example:
        >>> import torch
        >>> from rankfield.inr.activations import siren_init_
        >>> w = torch.empty(64, 16)
        >>> _ = siren_init_(w, omega0=30.0, is_first=False)
        >>> bool(w.abs().max() <= (6 / 16) ** 0.5 / 30)
        True
        >>> _ = siren_init_(w, omega0=30.0, is_first=True)
        >>> bool(w.abs().max() <= 1 / 16)
        True
    """
    n = weight.shape[1]
    bound = 1.0 / n if is_first else math.sqrt(6.0 / n) / omega0
    return weight.uniform_(-bound, bound)
