"""Input checks shared by the denoiser, the PySINDy plug-in, discover() and the CLI (private)."""

from __future__ import annotations

import numpy as np

from rankfield.errors import InputError


def as_time_vector(t, n: int, what: str = "t") -> np.ndarray:
    """Turn ``t`` (float step, ``(n,)`` or ``(n, 1)``) into a float ``(n,)`` array; check it."""
    if t is None:
        raise InputError(f"{what} is required: a time step (float) or one time per sample")
    if np.ndim(t) == 0:
        dt = float(t)
        if not np.isfinite(dt) or dt <= 0:
            raise InputError(f"time step must be a positive finite number, got {t!r}")
        return dt * np.arange(n, dtype=float)
    arr = np.asarray(t, dtype=float)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise InputError(f"{what} must be a float, shape (n,) or (n, 1); got shape {np.shape(t)}")
    if arr.shape[0] != n:
        raise InputError(f"length mismatch: {what} has {arr.shape[0]} values but x has {n} samples")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} contains NaN or Inf")
    if np.any(np.diff(arr) <= 0):
        i = int(np.argmax(np.diff(arr) <= 0))
        raise InputError(f"{what} must be strictly increasing (t[{i}]={arr[i]:g} >= t[{i + 1}]={arr[i + 1]:g})")
    return arr


def as_state_array(x, what: str = "x", min_samples: int = 3, names=None) -> np.ndarray:
    """Turn ``x`` into a float ``(n, d)`` array; reject NaN/Inf, too few samples and constant columns."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be a numeric array: {exc}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{what} must have shape (n_samples, n_states); got shape {arr.shape}")
    n, d = arr.shape
    if d == 0:
        raise InputError(f"{what} has no state columns")
    names = list(names) if names is not None else [f"column {j}" for j in range(d)]
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(f"{what} contains NaN or Inf ({bad.sum()} values; first at row {i}, {names[j]})")
    if n < min_samples:
        raise InputError(f"{what} has {n} samples; at least {min_samples} are needed")
    const = [names[j] for j in range(d) if np.ptp(arr[:, j]) == 0]
    if const:
        raise InputError(f"{what} has constant column(s) {', '.join(const)}: nothing to learn from; drop them")
    return arr


def check_trajectories(x, t, min_samples: int = 3, names=None):
    """Normalise one or several trajectories: returns ``(xs, ts, multiple)`` as lists of arrays."""
    multiple = isinstance(x, (list, tuple)) and len(x) > 0 and np.ndim(x[0]) == 2
    xs = list(x) if multiple else [x]
    if multiple and isinstance(t, (list, tuple)):
        if len(t) != len(xs):
            raise InputError(f"length mismatch: {len(xs)} trajectories but {len(t)} time arrays")
        ts_in = list(t)
    else:
        ts_in = [t] * len(xs)
    out_x, out_t = [], []
    for k, (xi, ti) in enumerate(zip(xs, ts_in)):
        label = f"x[{k}]" if multiple else "x"
        arr = as_state_array(xi, label, min_samples, names)
        out_x.append(arr)
        out_t.append(as_time_vector(ti, arr.shape[0], f"t[{k}]" if multiple else "t"))
    d = {a.shape[1] for a in out_x}
    if len(d) > 1:
        raise InputError(f"all trajectories must have the same number of states, got {sorted(d)}")
    return out_x, out_t, multiple
