"""The process backend's workers die with their driver: a driver killed with SIGKILL (no clean-up runs) leaves
no process behind, neither a worker nor multiprocessing's resource tracker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from evo_support import latest_generation, long_run_command, sphere_config


def _session_members(session: int) -> list[int]:
    """Live (not zombie) processes of the session `session`, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        state, session_id = fields[0], int(fields[3])
        if session_id == session and state != "Z":
            members.append(int(stat.parent.name))
    return members


def _members_after_its_end(session: int, grace_s: float = 5.0) -> list[int]:
    """The session's live processes once they have had `grace_s` s to end after its leader did (a process of the
    session, e.g. multiprocessing's resource tracker, which ends when the leader's pipe to it closes, may outlive the
    leader by a moment)."""
    deadline = time.monotonic() + grace_s
    while _session_members(session) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _session_members(session)


def test_ctrl_c_stops_the_run_in_one_line_and_its_checkpoints_load(tmp_path):
    """The terminal's Ctrl-C reaches the whole process group: the workers leave it to the driver (each printed a
    KeyboardInterrupt traceback before), which says `interrupted` and exits with 130."""
    # SIGINT as a terminal leaves it: a shell ignores it for the jobs it starts in the background (as a CI runner
    # may start this suite), and a child inherits that; Python installs its handler only where it is not ignored
    command = long_run_command(tmp_path, "process")
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while latest_generation(tmp_path / "run") < 2 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.poll() is None, "the run never started"
        os.killpg(driver.pid, signal.SIGINT)
        _, stderr = driver.communicate(timeout=60)
    finally:
        if _session_members(driver.pid):
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 130 and stderr.strip().splitlines() == ["snncontrol evolve: interrupted"], stderr
    assert latest_generation(tmp_path / "run") >= 2


def test_ctrl_c_does_not_wait_for_the_chunks_still_running(tmp_path):
    """The pool's shutdown waited for every running chunk (a generation of a long plant flight: minutes), and a
    second Ctrl-C then hung the driver for good: its workers are killed instead."""
    config = sphere_config({"name": "cmaes", "population": 8}, generations=3)
    config["fitness"] = {"kind": "custom", "factory": "faulty:make_slow", "objectives": ["sphere"],
                         "kwargs": {"marker": str(tmp_path / "started"), "seconds": 60}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snncontrol.cli", "evolve", str(tmp_path / "config.yaml"), "--run-dir",
               str(tmp_path / "run"), "--backend", "process", "--workers", "2", "--quiet", "--allow-import", "faulty"]
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True, cwd=Path(__file__).parent,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "started").exists() and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.poll() is None, "the run never started"
        os.killpg(driver.pid, signal.SIGINT)
        stopping = time.monotonic()
        _, stderr = driver.communicate(timeout=50)
        assert time.monotonic() - stopping < 20, "the driver waited for the running chunks"
    finally:
        if _session_members(driver.pid):
            os.killpg(driver.pid, signal.SIGKILL)
    assert driver.returncode == 130 and stderr.strip().splitlines() == ["snncontrol evolve: interrupted"], stderr
    assert not _members_after_its_end(driver.pid)


def test_sigkill_of_the_driver_leaves_no_process_behind(tmp_path):
    driver = subprocess.Popen(long_run_command(tmp_path, "process"), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while latest_generation(tmp_path / "run") < 1 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.poll() is None and len(_session_members(driver.pid)) >= 3, "driver + 2 workers never ran"
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        assert _members_after_its_end(driver.pid) == []
    finally:
        if _session_members(driver.pid):
            os.killpg(driver.pid, signal.SIGKILL)
