"""Run a command where the only network is the loopback: `python -m evolution.loopback CMD [ARG ...]`.

A local Ray binds its gRPC servers to every interface (0.0.0.0) whatever node IP it is given, looks for its own
address by routing towards 8.8.8.8, and leaves agents running when its driver is killed. This module runs CMD in
new user, network, PID and mount namespaces (`unshare` from util-linux, no privileges where the kernel allows
unprivileged user namespaces): the network has one interface, `lo`, brought up here, so nothing started inside can
reach another machine or be reached from one; and when CMD ends, the kernel kills whatever it left running (this
module is the namespace's first process, and exits with CMD). Files written inside belong to the calling user.

Signals: SIGINT (Ctrl-C), SIGTERM and SIGHUP sent to the outer process reach CMD once, also those sent while the
namespace is still being made, unless the outer process started with them ignored: then CMD starts with them
ignored too (`nohup` keeps a run going after logout; a shell's background job ignores Ctrl-C). If the outer
process is killed, everything inside is killed with it. CMD runs in a session of
its own: it has no controlling terminal, and Ctrl-Z stops the outer process only. The exit status is CMD's
(128 + N when signal N ended it; 127 / 126 when CMD cannot be found / run, with one line saying so).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Collection, Sequence
from types import FrameType

NAMESPACES = (
    *("setpriv", "--pdeathsig", "KILL", "--"),  # unshare dies with the outer process, however that ends
    *("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork", "--mount", "--mount-proc", "--kill-child"),
)
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PROBE_TIMEOUT_S = 60.0
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


def isolated() -> bool:
    """True in a network namespace whose only interface is the loopback (as inside `command`)."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def command(argv: Sequence[str], ready_fd: int, ignored: Collection[int] = ()) -> list[str]:
    """The command line that runs `argv` isolated (needs `unavailable()` to be None). The namespace's init writes
    one byte to `ready_fd` once it forwards signals; the signals `ignored` stay ignored for `argv`, the other
    FORWARDED ones get their default actions (whatever `unshare` left them: 2.36-2.37 ignore SIGINT and SIGTERM
    in the child they fork)."""
    ignore = ",".join(str(int(sig)) for sig in ignored)
    return [*NAMESPACES, sys.executable, "-m", "evolution.loopback", "--inside", str(ready_fd), ignore, "--", *argv]


def unavailable() -> str | None:
    """None where `command` can run on this machine, else why not (one line)."""
    for tool in ("setpriv", "unshare"):
        if shutil.which(tool) is None:
            return f"the {tool} command (util-linux) is not installed"
    try:
        probe = subprocess.run([*NAMESPACES, "true"], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return f"making the namespaces took over {PROBE_TIMEOUT_S:.0f} s"
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
        return f"user and network namespaces are refused here ({reason})"
    return None


def _shell_status(code: int) -> int:
    """A child's exit code as a shell reports it: 128 + N for a child that signal N ended."""
    return code if code >= 0 else 128 - code


def _send(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, signum)


class _Forwarder:
    """Forwards FORWARDED signals to a target pid; those that arrive before the target is known are kept and
    sent when it is. The signals in `ignored` are set to be ignored instead (and so, through fork and exec, for
    the processes started after it)."""

    def __init__(self, ignored: Collection[int]) -> None:
        self.target: int | None = None
        self.pending: list[int] = []
        for sig in FORWARDED:
            signal.signal(sig, signal.SIG_IGN if sig in ignored else self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.target is None:
            self.pending.append(signum)
        else:
            _send(self.target, signum)

    def start(self, target: int) -> None:
        self.target = target
        for signum in self.pending:
            _send(target, signum)
        self.pending.clear()


def _bring_up_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | _IFF_UP))


def _inside(argv: Sequence[str], ready_fd: int, ignored: Collection[int]) -> int:
    """The namespace's init: bring `lo` up, run `argv`, forward signals to it, reap orphans, return its status."""
    forwarder = _Forwarder(ignored)  # handlers first: CMD then starts with default actions (exec resets handlers),
    # but for the signals the outer process had ignored
    os.write(ready_fd, b"1")
    os.close(ready_fd)
    _bring_up_loopback()
    if not isolated():
        print("loopback: the new network namespace has other interfaces than lo; not running", file=sys.stderr)
        return 2
    try:
        child = subprocess.Popen(argv)
    except OSError as exc:
        print(f"loopback: cannot run {argv[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127 if isinstance(exc, FileNotFoundError) else 126
    forwarder.start(child.pid)
    while True:  # as init, reap every orphan until the command itself ends
        pid, status = os.waitpid(-1, 0)
        if pid == child.pid:
            return _shell_status(os.waitstatus_to_exitcode(status))


def children(pid: int) -> list[int]:
    """The PIDs of process `pid`'s children (none once it has ended)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listed:
            return [int(child) for child in listed.read().split()]
    except OSError:
        return []


def run(argv: Sequence[str]) -> int:
    """Run `argv` isolated and return its exit status (2 with a one-line reason where it cannot be isolated)."""
    ignored = [sig for sig in FORWARDED if signal.getsignal(sig) is signal.SIG_IGN]  # (nohup, a background job)
    forwarder = _Forwarder(ignored)  # signals from here on are kept until the init forwards them
    reason = unavailable()
    if reason is not None:
        print(f"loopback: cannot isolate the network: {reason}", file=sys.stderr)
        return 2
    if forwarder.pending:
        return _shell_status(-forwarder.pending[0])  # stopped before anything ran
    ready_read, ready_write = os.pipe()
    # Its own session: the terminal's Ctrl-C reaches only this process, which forwards it once.
    proc = subprocess.Popen(command(argv, ready_write, ignored), start_new_session=True, pass_fds=(ready_write,))
    os.close(ready_write)
    with os.fdopen(ready_read, "rb") as ready:
        started = ready.read(1) == b"1"  # EOF instead: the init never started
    init = children(proc.pid) if started else []  # unshare's child: the namespace's init (`_inside`)
    if init:
        forwarder.start(init[0])
    return _shell_status(proc.wait())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--inside"]:  # as `command` writes it: --inside READY_FD IGNORED -- CMD ...
        ready_fd, ignored = int(args[1]), [int(sig) for sig in args[2].split(",") if sig]
        return _inside(args[4:], ready_fd, ignored)
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 0 if args else 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
