"""`python -m evolution.loopback CMD`: CMD sees one network interface, the loopback, and a server it binds on
every interface cannot be reached from outside; what CMD leaves running dies with it; a signal sent to the outer
process's group (as a terminal's Ctrl-C) reaches CMD once, even one sent before the namespace is made; CMD's exit
status comes back; a CMD that cannot run, or namespaces that cannot be made, are one line."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from evo_support import require_loopback

from evolution import loopback

LOOPBACK = [sys.executable, "-m", "evolution.loopback"]


@pytest.fixture
def namespaces() -> None:
    require_loopback()


def _running(token: str, exactly: bool = False) -> list[int]:
    """PIDs whose command line contains `token` (`exactly`: is `token`, not a launcher passing it on)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            line = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if line == token or (token in line and not exactly):
            found.append(int(cmdline.parent.name))
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
                             start_new_session=True, preexec_fn=_interruptible)
    assert outer.stdout is not None and outer.stdout.readline() == "ready\n"
    os.killpg(outer.pid, signal.SIGINT)  # as a terminal sends Ctrl-C: to the whole foreground group
    time.sleep(0.3)
    os.killpg(outer.pid, signal.SIGTERM)
    assert outer.wait(timeout=30) == 22  # two signals, two kinds: each arrived once


def _interruptible() -> None:
    """Ctrl-C at its default action in the child, as a terminal leaves it (a CI runner that starts this suite in
    the background passes it on ignored, and an ignored Ctrl-C stays ignored inside, as it should)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _making_the_namespace(outer: int) -> bool:
    """Whether the outer process `outer` has started making the namespace (past its probe): a child of it runs
    the command line that starts the namespace's init (`--inside`)."""
    try:
        return any(b"--inside" in Path(f"/proc/{child}/cmdline").read_bytes() for child in loopback.children(outer))
    except OSError:  # the child ended meanwhile
        return False


def test_a_signal_sent_while_the_namespace_is_made_is_not_lost(namespaces):
    """Sent once the outer process starts making the namespace, before its init forwards: it was dropped (or
    raised in the init's imports); now it is kept and forwarded."""
    outer = subprocess.Popen([*LOOPBACK, "sleep", "20"], stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 10
    while not _making_the_namespace(outer.pid) and time.monotonic() < deadline:
        time.sleep(0.001)
    assert _making_the_namespace(outer.pid), "the namespace was never made"
    outer.send_signal(signal.SIGTERM)
    _, stderr = outer.communicate(timeout=15)
    assert outer.returncode == 128 + signal.SIGTERM and stderr == ""  # SIGTERM ended sleep


def test_a_signal_ignored_outside_stays_ignored_inside(namespaces):
    """`nohup`: a hangup of the outer process killed the run inside (the init gave CMD SIGHUP's default action)."""
    outer = subprocess.Popen([*LOOPBACK, "sh", "-c", "sleep 1; echo survived"], stdout=subprocess.PIPE, text=True,
                             start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    time.sleep(0.5)
    outer.send_signal(signal.SIGHUP)
    out, _ = outer.communicate(timeout=30)
    assert outer.returncode == 0 and out == "survived\n"


def test_signals_reach_the_command_where_unshare_leaves_them_ignored(namespaces, tmp_path):
    """util-linux 2.36-2.37 (Debian 11, Ubuntu 22.04) fork the namespace's first process with SIGINT and SIGTERM
    ignored: the init then forwarded neither, and a Ray run inside ignored Ctrl-C."""
    wrapper = tmp_path / "unshare"  # found before the real one: the old unshare's dispositions
    wrapper.write_text(f"#!/bin/sh\ntrap '' INT TERM\nexec {shutil.which('unshare')} \"$@\"\n")
    wrapper.chmod(0o755)
    token = f"sleep {600_000 + os.getpid() % 10_000}"
    path = f"{tmp_path}:{os.environ['PATH']}"
    outer = subprocess.Popen([*LOOPBACK, *token.split()], env={**os.environ, "PATH": path}, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not _running(token, exactly=True) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _running(token, exactly=True), "the command never started"
        outer.send_signal(signal.SIGTERM)
        assert outer.wait(timeout=15) == 128 + signal.SIGTERM
    finally:
        outer.kill()


def test_where_util_linux_is_missing_it_says_so_in_one_line(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # neither setpriv nor unshare there
    proc = subprocess.run([*LOOPBACK, "true"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "loopback: cannot isolate the network: the setpriv command (util-linux) is not installed"
    ]
