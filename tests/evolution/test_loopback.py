"""`python -m evolution.loopback CMD`: CMD sees one network interface, the loopback, and a server it binds on
every interface cannot be reached from outside; what CMD leaves running dies with it; a signal sent to the outer
process's group (as a terminal's Ctrl-C) reaches CMD once, even one sent before the namespace is made; CMD's exit
status comes back; a CMD that cannot run, or namespaces that cannot be made, are one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from evo_support import require_loopback

LOOPBACK = [sys.executable, "-m", "evolution.loopback"]


@pytest.fixture
def namespaces() -> None:
    require_loopback()


def _running(token: str) -> list[int]:
    """PIDs whose command line contains `token`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if token in cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


def test_the_command_sees_only_the_loopback_and_its_server_is_unreachable_from_outside(namespaces):
    server = (
        "import json, socket, sys\n"
        "s = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen()\n"
        "print(json.dumps([[n for _, n in socket.if_nameindex()], s.getsockname()[1]]), flush=True)\n"
        "sys.stdin.readline()\n"
    )
    proc = subprocess.Popen([*LOOPBACK, sys.executable, "-c", server], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        interfaces, port = json.loads(proc.stdout.readline())
        assert interfaces == ["lo"]
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_exit_status_is_the_commands(namespaces):
    assert subprocess.run([*LOOPBACK, "sh", "-c", "exit 7"], timeout=60).returncode == 7
    assert subprocess.run([*LOOPBACK, "sh", "-c", "kill -TERM $$"], timeout=60).returncode == 128 + signal.SIGTERM


@pytest.mark.parametrize(("program", "status", "reason"), [("no-such-program", 127, "No such file or directory"),
                                                           ("not-executable", 126, "Permission denied")])
def test_a_command_that_cannot_run_is_one_line(namespaces, tmp_path, program, status, reason):
    (tmp_path / "not-executable").write_text("#!/bin/sh\n")  # mode 644
    proc = subprocess.run([*LOOPBACK, program], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert proc.returncode == status
    assert proc.stderr.splitlines() == [f"loopback: cannot run {program}: {reason}"]


def test_what_the_command_leaves_running_dies_with_it(namespaces):
    token = f"sleep {900_000 + os.getpid() % 10_000}"
    # the command checks that what it leaves is running as it ends (kill -0: exit status 0 if so)
    subprocess.run([*LOOPBACK, "sh", "-c", f"setsid {token} & sleep 0.3; kill -0 $!"], timeout=60, check=True)
    deadline = time.monotonic() + 5
    while _running(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(token) == []


def test_killing_the_outer_process_kills_everything_inside(namespaces):
    token = f"sleep {800_000 + os.getpid() % 10_000}"
    outer = subprocess.Popen([*LOOPBACK, *token.split()])
    deadline = time.monotonic() + 30
    while not _running(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(token), "the command never started"
    outer.kill()
    outer.wait()
    deadline = time.monotonic() + 5
    while _running(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(token) == []


def test_a_signal_to_the_outer_process_group_reaches_the_command_once(namespaces):
    counter = (
        "import signal, sys, time\n"
        "seen = []\n"
        "for s in (signal.SIGINT, signal.SIGTERM): signal.signal(s, lambda n, f: seen.append(n))\n"
        "print('ready', flush=True)\n"
        "deadline = time.monotonic() + 3\n"
        "while time.monotonic() < deadline: time.sleep(0.02)\n"
        "sys.exit(10 * len(seen) + len(set(seen)))\n"
    )
    outer = subprocess.Popen([*LOOPBACK, sys.executable, "-c", counter], stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    assert outer.stdout is not None and outer.stdout.readline() == "ready\n"
    os.killpg(outer.pid, signal.SIGINT)  # as a terminal sends Ctrl-C: to the whole foreground group
    time.sleep(0.3)
    os.killpg(outer.pid, signal.SIGTERM)
    assert outer.wait(timeout=30) == 22  # two signals, two kinds: each arrived once


@pytest.mark.parametrize("delay_s", [0.1, 0.15, 0.2, 0.3])
def test_a_signal_sent_while_the_namespace_is_made_is_not_lost(namespaces, delay_s):
    """Sent before the namespace's init forwards signals, it was dropped (or raised in the init's imports). (The
    outer process takes it from its first statement on: here about 0.06 s after its start.)"""
    outer = subprocess.Popen([*LOOPBACK, "sleep", "20"], stderr=subprocess.PIPE, text=True, start_new_session=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # ignored as in a job
    time.sleep(delay_s)
    os.killpg(outer.pid, signal.SIGINT)
    _, stderr = outer.communicate(timeout=15)
    assert outer.returncode == 128 + signal.SIGINT, stderr  # SIGINT ended sleep
    assert stderr == ""


def test_where_util_linux_is_missing_it_says_so_in_one_line(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # neither setpriv nor unshare there
    proc = subprocess.run([*LOOPBACK, "true"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "loopback: cannot isolate the network: the setpriv command (util-linux) is not installed"
    ]
