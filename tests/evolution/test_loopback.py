"""`python -m evolution.loopback CMD`: CMD sees one network interface, the loopback, and a server it binds on
every interface cannot be reached from outside; what CMD leaves running dies with it; a signal sent to the outer
process reaches CMD once; CMD's exit status comes back; where namespaces cannot be made, one line and status 2."""

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


@pytest.fixture(autouse=True)
def _namespaces_available() -> None:
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


def test_the_command_sees_only_the_loopback_and_its_server_is_unreachable_from_outside():
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


def test_exit_status_is_the_commands():
    assert subprocess.run([*LOOPBACK, "sh", "-c", "exit 7"], timeout=60).returncode == 7
    assert subprocess.run([*LOOPBACK, "sh", "-c", "kill -TERM $$"], timeout=60).returncode == 128 + signal.SIGTERM


def test_what_the_command_leaves_running_dies_with_it():
    token = f"sleep {900_000 + os.getpid() % 10_000}"
    subprocess.run([*LOOPBACK, "sh", "-c", f"setsid {token} & sleep 0.3"], timeout=60, check=True)
    deadline = time.monotonic() + 5
    while _running(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running(token) == []


def test_killing_the_outer_process_kills_everything_inside():
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


def test_a_signal_to_the_outer_process_reaches_the_command_once(tmp_path):
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
    outer.send_signal(signal.SIGINT)
    time.sleep(0.3)
    outer.send_signal(signal.SIGTERM)
    assert outer.wait(timeout=30) == 22  # two signals, two kinds: each arrived once


def test_where_unshare_is_missing_it_says_so_in_one_line(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no unshare there
    proc = subprocess.run([*LOOPBACK, "true"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "loopback: cannot isolate the network: the unshare command (util-linux) is not installed"
    ]
