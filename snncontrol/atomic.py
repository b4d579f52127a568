"""Crash-safe writes: a temporary sibling is written and fsynced, then renamed into place (atomic on POSIX).

A crash leaves either the old file or directory or the new one, never a torn one. Used for every result a
user must not lose: controller artifacts, checkpoints, datasets, ensembles, figures. A write replaces only what
such a write made: a regular file (through a symbolic link, its target), or a directory that holds only files
named as those it writes (an earlier output of the same kind); anything else at the path (a device, a FIFO, a
directory of the user's) is refused with FileExistsError, so that a mistyped output path destroys nothing. An
output whose folder cannot be made (a part of its path is a file) or written in (/proc, a read-only mount) is one
OSError line naming the output, before any temporary is made.
"""

from __future__ import annotations

import contextlib
import glob
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from snncontrol.errors import SnnControlError


def _read_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()  # read once, at import: os.umask can only be read by setting it, which threads would race


def _default_mode(directory: bool) -> int:
    """The permissions a plain `open` / `mkdir` would give under the process umask (the temporary files and
    directories of `tempfile` are private to the user, which a shipped or shared artifact must not stay)."""
    return (0o777 if directory else 0o666) & ~_UMASK


def writable_file(path: str | os.PathLike[str]) -> Path:
    """The file a write to `path` replaces (a symbolic link's target), with its directory made: FileExistsError
    where something other than a regular file is there. Commands call it before the work whose result goes
    there, so that a bad output path fails at once, not after the run."""
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()
    if path.exists() and not path.is_file():
        raise FileExistsError(f"{path} exists and is not a regular file: not replaced (give another path)")
    make_folder(path.parent, path)
    check_can_create_in(path.parent, path)
    return path


def check_suffix(
    path: str | os.PathLike[str], suffixes: Sequence[str], what: str, error: type[Exception] = SnnControlError
) -> None:
    """One `error` line unless the output `path` ends in one of `suffixes` (any case, e.g. (".npz",)), saying
    `what` the output is: a mistyped name (an artifact's controller.json, a dataset, a NIR file) is not written
    over with data of another kind. A directory passes: `writable_file` refuses it, saying so."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() in suffixes:
        return
    names = suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"
    raise error(f"{os.fspath(path)}: {what}: give a name ending in {names}")


def make_folder(folder: Path, output: Path) -> None:
    """`folder` (the folder of the output `output`) and its parents, made where missing; one OSError line naming
    `output` where that cannot be: a part of the path that is a file (mkdir said only '<part>: File exists'),
    no permission."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        part = next((p for p in reversed((folder, *folder.parents)) if p.exists() and not p.is_dir()), folder)
        kind = "a file, not a directory" if part.is_file() else "not a directory"
        raise NotADirectoryError(f"cannot write {output}: {part} is {kind}") from None
    except OSError as exc:
        raise OSError(f"cannot write {output}: {exc.strerror or exc}") from None


def check_can_create_in(folder: Path, output: Path) -> None:
    """OSError naming `output` unless a file can be created in `folder` (e.g. /proc, a read-only mount): checked
    with a temporary file, before the work whose result goes there."""
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{output.name}.", dir=folder)
    except OSError as exc:
        raise OSError(f"cannot write {output}: {folder} takes no new file ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)


def writable_directory(path: str | os.PathLike[str], names: Collection[str]) -> Path:
    """`path` for a directory output of files named `names` (`write_directory`), checked before the work: it may
    be replaced (`check_replaceable`) and its folder takes new entries."""
    path = Path(path)
    check_replaceable(path, set(names), files_only=True)
    make_folder(path.parent, path)
    check_can_create_in(path.parent, path)
    return path


def write_through(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Replace the file `path` with what `write(tmp)` writes to a temporary sibling of the same suffix (for
    writers that take a path, e.g. a video encoder), renamed into place once `write` returns. Returns the path
    written (a link's target)."""
    path = writable_file(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)  # see clean_up
    os.close(fd)
    try:
        os.chmod(tmp, _default_mode(directory=False))
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_npz(path: str | os.PathLike[str], arrays: Mapping[str, Any], compressed: bool = False) -> Path:
    """Replace the file `path` with the `.npz` of `arrays` (numpy's savez, or savez_compressed), written whole in
    memory first. Returns the path written."""
    import numpy as np

    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return write_bytes(path, buffer.getvalue())


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace the file `path` with `data` (a symbolic link stays: its target is replaced). Returns the path
    written."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    return write_through(path, write)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def json_ready(value: Any) -> Any:
    """`value` ready for strict JSON: every non-finite float (NaN, +-inf) as None (a figure that does not exist is
    null), tuples and arrays as lists, NumPy scalars as Python ones."""
    import numpy as np

    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike[str], document: Any, indent: int = 1) -> Path:
    """Replace the file `path` with `document` as strict JSON (`json_ready`: NaN and infinities null),
    atomically. Returns the path written."""
    return write_text(path, json.dumps(json_ready(document), indent=indent, allow_nan=False) + "\n")


def write_directory(path: str | os.PathLike[str], files: dict[str, bytes]) -> Path:
    """Replace the directory `path` with one holding exactly `files` (name -> content).

    The new directory is complete on disk before it is renamed into place; an existing one is first renamed
    aside (into a hidden sibling) and removed afterwards, so a crash in between leaves it recoverable there: the
    next write to `path` puts it back first (`restore_aside`). An existing `path` that is not an earlier output of
    this kind (a directory of regular files named as `files` only) is refused (FileExistsError).
    """
    path = Path(path)
    if path.parent.is_dir():
        restore_aside(path.parent, glob.escape(path.name))
    writable_directory(path, files)
    tmp = new_sibling_folder(path)
    try:
        for name, data in files.items():
            with open(tmp / name, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        replace_directory(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def new_sibling_folder(path: Path, tag: str = "") -> Path:
    """A new, empty hidden folder beside `path` (`.NAME.TAG*`, which `clean_up` removes after a kill) with the
    permissions a plain mkdir gives, to be filled and then renamed into place (`replace_directory`)."""
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.{tag}", dir=path.parent))
    folder.chmod(_default_mode(directory=True))
    return folder


def check_replaceable(path: Path, names: Collection[str], files_only: bool = False) -> None:
    """FileExistsError unless `path` is absent, an empty directory, or an earlier output of one kind: a directory
    (not a link) whose every entry is named as one of `names` (and, with `files_only`, is a regular file). A
    directory holding anything else, a file or a device is never replaced: replacing deletes what it holds."""
    if not (path.exists() or path.is_symlink()):
        return
    if path.is_symlink() or not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a directory this program writes: not replaced "
                              "(give another path)")
    others = [entry for entry in path.iterdir()
              if entry.name not in names or (files_only and (entry.is_symlink() or not entry.is_file()))]
    if others:
        listed = ", ".join(sorted(entry.name for entry in others)[:3])
        raise FileExistsError(f"{path} holds {listed}{', ...' if len(others) > 3 else ''}, not an output of this "
                              "kind: not replaced (give another path or remove it)")


def replace_directory(tmp: Path, path: Path) -> None:
    """Rename the complete directory `tmp` (a sibling of `path`) to `path`; an existing `path` is renamed aside
    first and removed once the new one is in place."""
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
        aside = old / path.name
        try:
            os.replace(path, aside)
            os.replace(tmp, path)
        except BaseException:  # e.g. Ctrl-C between the two renames: the earlier output goes back, not lost
            if aside.exists() and not path.exists():
                os.replace(aside, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def restore_aside(directory: str | os.PathLike[str], names: str = "*") -> None:
    """Put back, in `directory`, each earlier output (a NAME matching the glob `names`; `glob.escape` a plain name)
    that a kill between the two renames of `replace_directory` left renamed aside with nothing in its place. Meant
    for the one writer of those outputs before it writes (a run, a launcher): a writer of the same NAME that is
    between its own two renames right then may find the earlier output back in its place (its second rename then
    fails); where a new output appears first, the earlier one stays aside."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    for aside in sorted(directory.glob(f".{names}.old.*")):
        name = aside.name[1 : aside.name.rfind(".old.")]
        if (aside / name).is_dir() and not (directory / name).exists():
            try:
                os.replace(aside / name, directory / name)
            except OSError:  # a new output took the place meanwhile (a non-empty directory is not replaced)
                continue
            with contextlib.suppress(OSError):
                aside.rmdir()  # the hidden folder it was renamed into, now empty


def clean_up(directory: str | os.PathLike[str], names: str = "*") -> None:
    """Remove what writes killed mid-way left in `directory`: the hidden temporaries `.NAME.*` of `write_bytes`
    and `write_directory` for the NAMEs matching the glob `names`. A directory that a kill left renamed aside,
    with nothing in its place, is put back first. Call it only while nothing writes there (e.g. when a run
    (re)starts)."""
    directory = Path(directory)
    if not directory.is_dir():
        return
    restore_aside(directory, names)
    leftovers = sorted(directory.glob(f".{names}.*"))
    for leftover in leftovers:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
