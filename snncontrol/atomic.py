"""Crash-safe writes: a temporary sibling is written and fsynced, then renamed into place (atomic on POSIX).

A crash leaves either the old file or directory or the new one, never a torn one. Used for every result a
user must not lose: controller artifacts, checkpoints, datasets, ensembles, figures.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def _read_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()  # read once, at import: os.umask can only be read by setting it, which threads would race


def _default_mode(directory: bool) -> int:
    """The permissions a plain `open` / `mkdir` would give under the process umask (the temporary files and
    directories of `tempfile` are private to the user, which a shipped or shared artifact must not stay)."""
    return (0o777 if directory else 0o666) & ~_UMASK


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace the file `path` with `data`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, _default_mode(directory=False))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def write_directory(path: str | os.PathLike[str], files: dict[str, bytes]) -> Path:
    """Replace the directory `path` with one holding exactly `files` (name -> content).

    The new directory is complete on disk before it is renamed into place; an existing one is first renamed
    aside (into a hidden sibling) and removed afterwards, so a crash in between leaves it recoverable there.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        tmp.chmod(_default_mode(directory=True))
        for name, data in files.items():
            with open(tmp / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def clean_up(directory: str | os.PathLike[str], names: str = "*") -> None:
    """Remove what writes killed mid-way left in `directory`: the hidden temporaries `.NAME.*` of `write_bytes`
    and `write_directory` for the NAMEs matching the glob `names`. A directory that a kill left renamed aside,
    with nothing in its place, is put back first. Call it only while nothing writes there (e.g. when a run
    (re)starts)."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    leftovers = sorted(directory.glob(f".{names}.*"))
    for aside in leftovers:
        name = aside.name[1 : aside.name.rfind(".old.")]
        if ".old." in aside.name and (aside / name).is_dir() and not (directory / name).exists():
            os.replace(aside / name, directory / name)
    for leftover in leftovers:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
