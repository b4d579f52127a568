"""Crash-safe writes: a failure part-way leaves the previous content and no temporaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from snncontrol import atomic


def test_directory_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "art"
    atomic.write_directory(target, {"a.json": b"1", "b.bin": b"2"})
    atomic.write_directory(target, {"a.json": b"3"})
    assert sorted(p.name for p in target.iterdir()) == ["a.json"] and (target / "a.json").read_bytes() == b"3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_failure_while_writing_keeps_the_old_directory(tmp_path: Path) -> None:
    target = atomic.write_directory(tmp_path / "art", {"a.json": b"old"})
    with pytest.raises(TypeError):
        atomic.write_directory(target, {"a.json": b"new", "b.bin": "not bytes"})  # type: ignore[dict-item]
    assert (target / "a.json").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_failure_while_writing_a_file_keeps_the_old_file(tmp_path: Path) -> None:
    target = atomic.write_text(tmp_path / "log.csv", "old")
    with pytest.raises(TypeError):
        atomic.write_bytes(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_written_files_and_directories_get_the_usual_permissions(tmp_path: Path) -> None:
    """Not tempfile's private 0600 / 0700: an artifact others must read (a shipped controller) stays readable."""
    import os
    import stat

    umask = os.umask(0o022)
    os.umask(umask)
    file = atomic.write_text(tmp_path / "a.txt", "x")
    directory = atomic.write_directory(tmp_path / "art", {"a.json": b"1"})
    assert stat.S_IMODE(file.stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE(directory.stat().st_mode) == 0o777 & ~umask
