"""Device, dtype and seeding helpers used by every package (private)."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from rankfield.errors import InputError


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Map ``"auto" | "cpu" | "cuda" | "cuda:N" | torch.device`` to a :class:`torch.device`.

    ``"auto"`` picks CUDA when available, else CPU. Asking for CUDA without it is an
    :class:`InputError`.
    """
    if isinstance(device, torch.device):
        dev = device
    elif device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(f"unknown device {device!r}: use auto, cpu or cuda") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InputError("device 'cuda' was requested but CUDA is not available; use --device cpu or auto")
    return dev


def autocast_context(device: torch.device, enabled: bool):
    """bf16 autocast on CUDA when ``enabled``; a no-op elsewhere (AMP is CUDA-only here)."""
    if not (enabled and device.type == "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def check_seed(seed) -> int:
    """A seed must be an integer in ``[0, 2**63)`` (what ``torch.Generator.manual_seed`` takes)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) < 2 ** 63:
        raise InputError(f"seed must be an integer in [0, 2**63), got {seed!r}")
    return int(seed)


@contextlib.contextmanager
def fork_rng(seed: int, device: torch.device | None = None):
    """A context in which torch's default generators (the CPU one, and the one of ``device`` when it is a CUDA
    device) start from ``seed``; their states are restored afterwards, so the caller's RNG is untouched. Used to
    build modules whose init draws from the default generators; no other device's generator is touched.

    Examples:
        >>> before = torch.get_rng_state()
        >>> with fork_rng(3):
        ...     a = torch.rand(2)
        >>> with fork_rng(3):
        ...     b = torch.rand(2)
        >>> torch.equal(a, b), torch.equal(torch.get_rng_state(), before)
        (True, True)
    """
    seed = check_seed(seed)
    dev = torch.device(device) if device is not None else None
    cuda_index = None
    if dev is not None and dev.type == "cuda":
        cuda_index = dev.index if dev.index is not None else torch.cuda.current_device()
    with torch.random.fork_rng(devices=[cuda_index] if cuda_index is not None else []):
        torch.default_generator.manual_seed(seed)
        if cuda_index is not None:
            torch.cuda.default_generators[cuda_index].manual_seed(seed)
        yield
