"""Safe file output and resource checks shared by every package (private).

* :func:`atomic_write` writes through a fresh temp file in the target folder and renames it over the
  target, so a crash never leaves a half-written file and a symlink at the target is replaced, never
  followed.
* :func:`check_output_dir` refuses ``--out`` values that cannot be a folder (empty, a file, under a file).
* :func:`check_memory` refuses work whose estimated memory exceeds what the machine has available.
* :func:`inside` tells whether a path stays inside a folder (scene files must not escape theirs).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from rankfield.errors import InputError

__all__ = ["atomic_write", "atomic_path", "save_figure", "write_image", "check_output_dir", "check_memory", "available_memory", "inside"]


@contextmanager
def atomic_path(path, suffix: str | None = None):
    """Yield a temp path next to ``path``; on success it is renamed over ``path`` (not following a symlink).

    Examples:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> with atomic_path(target) as tmp:
        ...     _ = tmp.write_text("hello")
        >>> target.read_text()
        'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix,
                               dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path, data: str | bytes) -> Path:
    """Write text or bytes to ``path`` atomically.

    Examples:
        >>> import tempfile, pathlib
        >>> p = atomic_write(pathlib.Path(tempfile.mkdtemp()) / "m.json", "{}")
        >>> p.read_text()
        '{}'
    """
    with atomic_path(path) as tmp:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data)
    return Path(path)


def save_figure(fig, path, **kwargs) -> Path:
    """``fig.savefig`` through :func:`atomic_path` (the format follows ``path``'s suffix).

    Examples:
        >>> import tempfile, pathlib
        >>> from matplotlib.figure import Figure
        >>> save_figure(Figure(), pathlib.Path(tempfile.mkdtemp()) / "f.png").stat().st_size > 0
        True
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", **kwargs)
    return path


def write_image(path, image, **kwargs) -> Path:
    """``imageio.v3.imwrite`` through :func:`atomic_path` (the format follows ``path``'s suffix)."""
    import imageio.v3 as iio

    path = Path(path)
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, image, extension=path.suffix, **kwargs)
    return path


def check_output_dir(out) -> Path:
    """``out`` as a :class:`Path` if it can be (or is) a folder; else an :class:`InputError`.

    Examples:
        >>> check_output_dir("")
        Traceback (most recent call last):
        ...
        rankfield.errors.InputError: --out must name a folder, got an empty string
    """
    if out is None or str(out).strip() == "":
        raise InputError("--out must name a folder, got an empty string")
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    for parent in p.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"--out {out} is under {parent}, which is a file")
            if not os.access(parent, os.W_OK) and not p.exists():
                raise InputError(f"--out {out}: cannot create it in {parent} (no write permission)")
            break
    if p.exists() and not os.access(p, os.W_OK):
        raise InputError(f"--out {out} is not writable")
    return p


def available_memory() -> int:
    """Bytes of memory available to new allocations (``MemAvailable``; total RAM as a fallback)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def check_memory(n_bytes: float, what: str, device=None) -> None:
    """Refuse (:class:`InputError`) when ``what`` needs about ``n_bytes`` and the device has less.

    Examples:
        >>> check_memory(1e30, "a 10^30-byte request")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rankfield.errors.InputError: a 10^30-byte request needs about 1e+21 GB of memory; ... available
    """
    if device is not None and getattr(device, "type", str(device)) == "cuda":
        import torch

        free = torch.cuda.mem_get_info(device)[0]
        where = "GPU memory"
    else:
        free = available_memory()
        where = "memory"
    if n_bytes > free:
        raise InputError(f"{what} needs about {n_bytes / 1e9:.3g} GB of {where}; {free / 1e9:.3g} GB available")


def inside(path, folder) -> bool:
    """Whether ``path`` (resolved, symlinks followed) lies inside ``folder``.

    Examples:
        >>> inside("/data/scene/images/a.png", "/data/scene"), inside("/data/scene/../x.png", "/data/scene")
        (True, False)
    """
    p = Path(os.path.realpath(path))
    f = Path(os.path.realpath(folder))
    return p == f or f in p.parents
