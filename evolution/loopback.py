"""Run a command where the only network is the loopback: `python -m evolution.loopback CMD [ARG ...]`.

A local Ray binds its gRPC servers to every interface (0.0.0.0) whatever node IP it is given, looks for its own
address by routing towards 8.8.8.8, and leaves agents running when its driver is killed. This module runs CMD in
new user, network, PID and mount namespaces (`unshare` from util-linux, no privileges where the kernel allows
unprivileged user namespaces): the network has one interface, `lo`, brought up here, so nothing started inside can
reach another machine or be reached from one; and when CMD ends, the kernel kills whatever it left running (this
module is the namespace's first process, and exits with CMD). Files written inside belong to the calling user.

Signals: SIGINT (Ctrl-C), SIGTERM and SIGHUP sent to the outer process reach CMD once; if the outer process is
killed, everything inside is killed with it. The exit status is CMD's (128 + N when a signal N ended it).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Sequence

UNSHARE = (
    *("unshare", "--user", "--map-root-user", "--net", "--pid", "--fork"),
    *("--mount", "--mount-proc", "--kill-child"),
)
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_PR_SET_PDEATHSIG = 1


def isolated() -> bool:
    """True in a network namespace whose only interface is the loopback (as inside `command`)."""
    return [name for _, name in socket.if_nameindex()] == ["lo"]


def command(argv: Sequence[str]) -> list[str]:
    """The command line that runs `argv` isolated (needs `unavailable()` to be None)."""
    return [*UNSHARE, sys.executable, "-m", "evolution.loopback", "--inside", *argv]


def unavailable() -> str | None:
    """None where `command` can run on this machine, else why not (one line)."""
    if shutil.which("unshare") is None:
        return "the unshare command (util-linux) is not installed"
    probe = subprocess.run([*UNSHARE, "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
        return f"this kernel refuses unprivileged user and network namespaces ({reason})"
    return None


def _shell_status(code: int) -> int:
    """A child's exit code as a shell reports it: 128 + N for a child that signal N ended."""
    return code if code >= 0 else 128 - code


def _bring_up_loopback() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | _IFF_UP))


def _inside(argv: Sequence[str]) -> int:
    """The namespace's init: bring `lo` up, run `argv`, forward signals to it, reap orphans, return its status."""
    _bring_up_loopback()
    if not isolated():
        print("loopback: the new network namespace has other interfaces than lo; not running", file=sys.stderr)
        return 2
    child = subprocess.Popen(argv)
    for sig in FORWARDED:
        signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
    while True:  # as init, reap every orphan until the command itself ends
        pid, status = os.waitpid(-1, 0)
        if pid == child.pid:
            return _shell_status(os.waitstatus_to_exitcode(status))


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _namespace_init(unshare_pid: int) -> list[int]:
    """The outer PIDs of `unshare`'s children: the namespace's init (this module's `_inside`)."""
    try:
        with open(f"/proc/{unshare_pid}/task/{unshare_pid}/children") as children:
            return [int(pid) for pid in children.read().split()]
    except OSError:
        return []


def run(argv: Sequence[str]) -> int:
    """Run `argv` isolated and return its exit status (2 with a one-line reason where it cannot be isolated)."""
    reason = unavailable()
    if reason is not None:
        print(f"loopback: cannot isolate the network: {reason}", file=sys.stderr)
        return 2
    # Its own session: the terminal's Ctrl-C reaches only this process, which forwards it once.
    proc = subprocess.Popen(command(argv), start_new_session=True, preexec_fn=_die_with_parent)

    def forward(signum: int, _frame: object) -> None:
        for pid in _namespace_init(proc.pid):
            os.kill(pid, signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    return _shell_status(proc.wait())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--inside"]:
        return _inside(args[1:])
    if args[:1] == ["--"]:
        args = args[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 0 if args else 2
    try:
        return run(args)
    except KeyboardInterrupt:  # Ctrl-C before the command started
        return 130


if __name__ == "__main__":
    sys.exit(main())
