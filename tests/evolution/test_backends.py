"""serial == process == ray for one seed (any worker count), a worker killed mid-evaluation is survived, and a
local Ray runs where the only network is the loopback (its checks: ray_checks.py, run through
`python -m evolution.loopback`), leaving nothing behind however its driver ends."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from evo_support import (
    check_killed_worker_run,
    check_same_as_serial,
    faulty_config,
    latest_generation,
    logbook,
    long_run_command,
    require_loopback,
    run,
    sphere_config,
)

from evolution import loopback
from evolution.errors import WorkerError

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
LOOPBACK = [sys.executable, "-m", "evolution.loopback"]
HUNG_AFTER_S = 20.0  # backend.timeout_s of the hung-worker tests: a spawned pool starts in 2-5 s here


def test_serial_and_process_give_identical_results(tmp_path):
    check_same_as_serial("process", 2, tmp_path)


def test_a_fitness_that_draws_when_it_is_built_is_the_same_in_every_run_and_worker(tmp_path):
    """It was built before the driver seeded the generators (another fitness each run in one process) and
    unseeded in the workers (another in each)."""
    data = sphere_config({"name": "cmaes", "population": 6}, generations=2)
    data["fitness"] = {"kind": "custom", "factory": "faulty:make_drawn", "objectives": ["sphere"]}
    run(data, tmp_path / "serial")
    run({**data, "backend": {"name": "process", "workers": 2}}, tmp_path / "process")
    run(data, tmp_path / "again")
    assert logbook(tmp_path / "serial") == logbook(tmp_path / "process") == logbook(tmp_path / "again")


def test_a_killed_process_worker_is_retried_and_nothing_is_lost(tmp_path):
    run(faulty_config(tmp_path, {"name": "process", "workers": 2, "max_retries": 2}), tmp_path / "run")
    check_killed_worker_run(tmp_path)


def test_a_hung_process_worker_is_killed_after_timeout_s_and_its_chunk_retried(tmp_path):
    """A stopped worker (SIGSTOP: as a deadlocked one, it neither dies nor answers) stalled the run for ever."""
    backend = {"name": "process", "workers": 2, "max_retries": 2, "timeout_s": HUNG_AFTER_S}
    run(faulty_config(tmp_path, backend, signal="SIGSTOP"), tmp_path / "run")
    check_killed_worker_run(tmp_path)


def test_a_chunk_that_stays_hung_ends_the_run_in_one_line(tmp_path):
    """Every worker stops every time: after max_retries + 1 attempts, WorkerError names what happened."""
    backend = {"name": "process", "workers": 1, "max_retries": 1, "timeout_s": 5.0}
    data = faulty_config(tmp_path, backend, signal="SIGSTOP")
    data["fitness"]["kwargs"]["every_time"] = True
    with pytest.raises(WorkerError, match=r"lost 1 chunk\(s\) in 2 attempts .*1 gave no result within"):
        run(data, tmp_path / "run")


def test_the_ray_checks_pass_where_the_only_network_is_the_loopback():
    pytest.importorskip("ray")
    require_loopback()
    checks = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(HERE / "ray_checks.py")]
    proc = subprocess.run([*LOOPBACK, *checks], cwd=ROOT, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert re.search(r"\b7 passed\b", proc.stdout) and "skipped" not in proc.stdout, proc.stdout[-3000:]


def _namespace_members(net_namespace: str) -> list[int]:
    """Processes in the network namespace `net_namespace` (a /proc/PID/ns/net link target)."""
    members = []
    for link in Path("/proc").glob("[0-9]*/ns/net"):
        try:
            if os.readlink(link) == net_namespace:
                members.append(int(link.parent.parent.name))
        except OSError:
            continue  # ended meanwhile
    return members


@pytest.mark.parametrize("ending", ["ctrl-c", "sigkill"])
def test_a_local_ray_run_leaves_nothing_behind(ending, tmp_path):
    """A long `snncontrol evolve --backend ray` in the loopback namespace: Ctrl-C ends it in one line with 130, a
    SIGKILL of the outer process ends it too; either way no process of its namespace (Ray's agents included) is
    left. Without the namespace, Ray's DashboardAgent and RuntimeEnvAgent outlived a killed driver."""
    pytest.importorskip("ray")
    require_loopback()
    # Ctrl-C at its default action, as a terminal leaves it (an ignored one stays ignored inside, as it should)
    outer = subprocess.Popen([*LOOPBACK, *long_run_command(tmp_path, "ray")], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    namespace = ""
    try:
        deadline = time.monotonic() + 180
        while latest_generation(tmp_path / "run") < 2 and outer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outer.poll() is None, "the run never started: " + (outer.stderr.read() if outer.stderr else "")
        (unshare,) = loopback.children(outer.pid)
        (namespace_init,) = loopback.children(unshare)  # evolution.loopback's init: lives as long as the run
        namespace = os.readlink(f"/proc/{namespace_init}/ns/net")
        assert namespace != os.readlink("/proc/self/ns/net")
        assert len(_namespace_members(namespace)) >= 5, "driver, GCS, raylet and 2 workers never ran"
        os.killpg(outer.pid, signal.SIGINT if ending == "ctrl-c" else signal.SIGKILL)  # as a terminal would
        _, stderr = outer.communicate(timeout=60)
        deadline = time.monotonic() + 10
        while _namespace_members(namespace) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _namespace_members(namespace) == []
    finally:
        if outer.poll() is None:
            outer.kill()
    if ending == "ctrl-c":
        assert outer.returncode == 130, stderr
        assert "snncontrol evolve: interrupted" in stderr.splitlines(), stderr
    assert latest_generation(tmp_path / "run") >= 2
