"""Crash-safe writes: a failure part-way leaves the previous content and no temporaries."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from snncontrol import atomic


def test_directory_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "art"
    atomic.write_directory(target, {"a.json": b"1", "b.bin": b"2"})
    atomic.write_directory(target, {"a.json": b"3", "b.bin": b"4"})
    assert sorted(p.name for p in target.iterdir()) == ["a.json", "b.bin"] and (target / "a.json").read_bytes() == b"3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_failure_while_writing_keeps_the_old_directory(tmp_path: Path) -> None:
    target = atomic.write_directory(tmp_path / "art", {"a.json": b"old"})
    with pytest.raises(TypeError):
        atomic.write_directory(target, {"a.json": b"new", "b.bin": "not bytes"})  # type: ignore[dict-item]
    assert (target / "a.json").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]


def test_an_interrupt_between_the_two_renames_puts_the_old_directory_back(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C after the earlier output was renamed aside and before the new one was renamed in: the new one was
    removed and the earlier one stayed hidden in .NAME.old.*, nothing at the path."""
    target = atomic.write_directory(tmp_path / "art", {"a.json": b"old"})
    real, calls = os.replace, []

    def interrupted_second_rename(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", interrupted_second_rename)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_directory(target, {"a.json": b"new"})
    monkeypatch.setattr(atomic.os, "replace", real)
    assert (target / "a.json").read_bytes() == b"old"


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


def test_a_directory_of_the_users_is_never_replaced(tmp_path: Path) -> None:
    """Only an earlier output of the same kind (regular files named as those written, nothing else) or an empty
    directory: a directory holding a controller.json beside the user's own files was replaced whole."""
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    with pytest.raises(FileExistsError, match=r"thesis\.txt"):
        atomic.write_directory(mine, {"a.json": b"1"})
    (mine / "a.json").write_text("{}")  # one of the names written, beside the user's file
    with pytest.raises(FileExistsError, match=r"holds thesis\.txt, not an output of this kind"):
        atomic.write_directory(mine, {"a.json": b"1", "b.bin": b"2"})
    assert (mine / "thesis.txt").read_text() == "years of work"
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="not a directory"):
        atomic.write_directory(tmp_path / "file", {"a.json": b"1"})
    artifact = atomic.write_directory(tmp_path / "art", {"a.json": b"1"})
    (artifact / "runs").mkdir()
    with pytest.raises(FileExistsError, match="runs"):
        atomic.write_directory(artifact, {"a.json": b"2"})
    (tmp_path / "empty").mkdir()
    assert (atomic.write_directory(tmp_path / "empty", {"a.json": b"1"}) / "a.json").read_bytes() == b"1"


def test_a_file_write_replaces_a_links_target_and_never_a_special_file(tmp_path: Path) -> None:
    target = atomic.write_text(tmp_path / "real.nir", "old")
    link = tmp_path / "link.nir"
    link.symlink_to(target)
    assert atomic.write_text(link, "new") == target
    assert link.is_symlink() and target.read_text() == "new"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(FileExistsError, match="not a regular file"):
        atomic.write_text(fifo, "x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    with pytest.raises(FileExistsError, match="not a regular file"):
        atomic.write_text(tmp_path, "x")


def test_write_through_keeps_the_old_file_when_the_writer_fails(tmp_path: Path) -> None:
    target = atomic.write_text(tmp_path / "swim.mp4", "old")

    def dies(path: Path) -> None:
        path.write_text("half a video")
        raise RuntimeError("the encoder died")

    with pytest.raises(RuntimeError):
        atomic.write_through(target, dies)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["swim.mp4"]
    suffixes: list[str] = []
    atomic.write_through(target, lambda path: suffixes.append(path.suffix) or path.write_text("new"))
    assert target.read_text() == "new" and suffixes == [".mp4"]  # the writer sees the suffix (the format)


def test_an_output_in_a_folder_that_takes_no_files_is_refused_before_the_work(tmp_path: Path) -> None:
    """/proc (or a read-only mount) exists but takes no new file: the work ran, then the write failed naming a
    hidden temporary."""
    for check in (lambda: atomic.writable_file("/proc/out.mp4"), lambda: atomic.writable_directory("/proc/ens", {})):
        with pytest.raises(OSError, match="cannot write /proc/"):
            check()
    assert atomic.writable_file(tmp_path / "a" / "b.txt") == tmp_path / "a" / "b.txt"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == []  # the probe leaves nothing behind


class Killed(BaseException):
    """The process dying: nothing after it runs, not even the except clause that puts the old output back."""


def kill_between_the_two_renames(monkeypatch, write) -> None:
    """Run `write` (a directory replacement) as a kill right after its first rename leaves it: the earlier output
    renamed aside into .NAME.old.*, nothing at its path (every os.replace after the first dies)."""
    real, calls = os.replace, []

    def dies_after_the_first(src, dst):
        calls.append(dst)
        if len(calls) > 1:
            raise Killed
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", dies_after_the_first)
    with pytest.raises(Killed):
        write()
    monkeypatch.setattr(atomic.os, "replace", real)
    assert len(calls) == 3  # aside, in (killed), back (killed)


def test_the_next_write_puts_back_an_output_a_kill_left_renamed_aside(tmp_path: Path, monkeypatch) -> None:
    """Nothing outside evolution / ROS ran `restore_aside`: the artifact stayed hidden in .NAME.old.*."""
    target = atomic.write_directory(tmp_path / "art[1]", {"a.json": b"old"})  # (a name that is a glob pattern)
    kill_between_the_two_renames(monkeypatch, lambda: atomic.write_directory(target, {"a.json": b"new"}))
    assert not target.exists()
    assert (atomic.write_directory(target, {"a.json": b"newer"}) / "a.json").read_bytes() == b"newer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art[1]"]  # no hidden copy of the old one left


def test_an_artifact_a_kill_left_renamed_aside_is_put_back_by_the_next_save_not_by_a_read(
    tmp_path: Path, monkeypatch
) -> None:
    """A read must not move the earlier artifact back: a writer may be between its two renames right then, and its
    second rename would then fail (an evolution run writing best/ while `snncontrol info` reads it)."""
    from snncontrol.artifacts import read_artifact, save_controller
    from snncontrol.errors import ArtifactError
    from snncontrol.layers import leaky_readout
    from snncontrol.spec import NetworkSpec

    spec = NetworkSpec(1, (leaky_readout(),))
    path = save_controller(tmp_path / "ctrl", spec, spec.parameters.initial())
    other = spec.parameters.sample(1, np.random.default_rng(0))[0]
    kill_between_the_two_renames(monkeypatch, lambda: save_controller(path, spec, other))
    with pytest.raises(ArtifactError, match="not found"):
        read_artifact(path)
    assert not path.exists() and any(p.name.startswith(".ctrl.old.") for p in tmp_path.iterdir())
    save_controller(path, spec, other)
    np.testing.assert_array_equal(read_artifact(path)[1], other)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ctrl"]


def test_an_output_under_a_file_says_the_file_is_no_directory(tmp_path: Path) -> None:
    """mkdir said only '<path>: File exists'."""
    (tmp_path / "file").write_text("x")
    for write in (lambda out: atomic.write_text(out, "x"), lambda out: atomic.write_directory(out, {"a": b"1"}),
                  lambda out: atomic.writable_directory(out, {"a"})):
        for output in (tmp_path / "file" / "out", tmp_path / "file" / "deeper" / "out"):
            with pytest.raises(NotADirectoryError, match=rf"cannot write {output}: {tmp_path / 'file'} is a file, not "
                               "a directory$"):
                write(output)
    assert (tmp_path / "file").read_text() == "x"


def test_check_suffix_names_the_output_and_the_suffixes_it_takes(tmp_path: Path) -> None:
    from snncontrol.errors import SnnControlError

    atomic.check_suffix(tmp_path / "a.NPZ", (".npz",), "a dataset")
    atomic.check_suffix(tmp_path, (".npz",), "a dataset")  # a directory: writable_file says what it is
    with pytest.raises(SnnControlError, match=r"x\.json: a graph: give a name ending in \.nir, \.h5 or \.hdf5$"):
        atomic.check_suffix(tmp_path / "x.json", (".nir", ".h5", ".hdf5"), "a graph")
    with pytest.raises(ValueError, match=r"give a name ending in \.npz$"):
        atomic.check_suffix("x", (".npz",), "a dataset", ValueError)
