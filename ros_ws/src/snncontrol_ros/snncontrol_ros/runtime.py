"""Running nodes: executor choice, real-time scheduling, clean shutdown on SIGINT/SIGTERM (the node gets to send
its safe command before the context goes down), declaring parameters with descriptions, refusing changes to
parameters a node reads only at start (`fixed_at_start`) and parameters it does not declare (`check_declared`),
and command lines whose bad values are one line (`OneLineParser`, `snncontrol.arguments.bounded`)."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import rclpy
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.exceptions import NameValidationException, ParameterException, ParameterUninitializedException
from rclpy.executors import Executor, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from snncontrol.errors import SnnControlError

EXECUTORS = ("single", "multi", "events")
#: the ROS_DOMAIN_IDs a node can use (Fast DDS derives its ports from the id; the benchmarks take the same)
DOMAIN_IDS = (0, 232)


def make_executor(kind: str, context: rclpy.Context | None = None) -> Executor:
    """single: rclpy's SingleThreadedExecutor; multi: MultiThreadedExecutor (2 threads); events: the C++
    EventsExecutor of rclpy.experimental (no wait-set rebuild per callback; lowest overhead)."""
    if kind == "single":
        return SingleThreadedExecutor(context=context)
    if kind == "multi":
        return MultiThreadedExecutor(num_threads=2, context=context)
    if kind == "events":
        from rclpy.experimental import EventsExecutor

        return EventsExecutor(context=context)
    raise ValueError(f"executor must be one of {EXECUTORS}, got {kind!r}")


def threads() -> set[int]:
    """The ids of this process's threads (Linux)."""
    return {int(t) for t in os.listdir("/proc/self/task")}


def _check_priority(priority: int) -> int:
    if not 0 <= priority <= 99:
        raise ValueError(f"must be 0 (off) or 1..99, got {priority}")
    return priority


def set_realtime_priority(priority: int, tids: Iterable[int] = (0,)) -> str | None:
    """Run the threads `tids` (default: the calling one; threads they start later inherit it) under SCHED_FIFO
    at `priority` (1-99); 0 leaves the scheduling as it is. Returns why the system refused (None: done), e.g.
    a user without CAP_SYS_NICE or an rtprio limit in /etc/security/limits.conf."""
    if _check_priority(priority) == 0:
        return None
    try:
        for tid in tids:
            with contextlib.suppress(ProcessLookupError):  # a thread that has ended meanwhile
                os.sched_setscheduler(tid, os.SCHED_FIFO, os.sched_param(priority))
    except OSError as exc:
        return f"SCHED_FIFO {priority} refused ({exc.strerror or exc}); running with normal scheduling"
    return None


def set_cpu_affinity(cpus: Sequence[int]) -> str | None:
    """Keep every thread of this process on `cpus` (those it has, e.g. the numerical libraries' started on
    import, and those it starts later, which inherit it); empty: anywhere. Returns why the system refused
    (None: done)."""
    if not cpus:
        return None
    try:
        for tid in threads():
            with contextlib.suppress(ProcessLookupError):
                os.sched_setaffinity(tid, set(cpus))
    except OSError as exc:
        return f"CPU affinity {sorted(cpus)} refused ({exc.strerror or exc}); running on any CPU"
    return None


def declare(node: Node, name: str, default: Any, description: str, *, read_only: bool = False,
            low: float | None = None, high: float | None = None) -> Any:
    """Declare a parameter with a description (and a numeric range); return its value. An empty array default
    is given as its type, `Parameter.Type.DOUBLE_ARRAY` or `Parameter.Type.STRING_ARRAY` (it reads as [])."""
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if low is not None and high is not None:
        if isinstance(default, int) and not isinstance(default, bool):
            descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
        else:
            descriptor.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high))]
    node.declare_parameter(name, default, descriptor)
    return value(node, name)


def fixed_at_start(node: Node) -> None:
    """Refuse every later change of `node`'s parameters (`ros2 param set`) with the reason: a node that reads its
    parameters once, at start, would report the change as set and go on with the old value (a sim node's
    safe command, a recorder's reliability). use_sim_time too: the node's clock and timers were made with it."""

    def refuse(parameters: list) -> SetParametersResult:
        names = ", ".join(p.name for p in parameters)
        return SetParametersResult(successful=False, reason=f"{names}: read at start; restart the node to change")

    node.add_on_set_parameters_callback(refuse)


def check_declared(node: Node, given: Iterable[str] | None = None) -> None:
    """ValueError naming every parameter in `given` (default: those the node was started with: `-p`, a parameter
    file, `parameter_overrides`) that `node` does not declare, each with the closest declared name: a misspelt
    parameter would otherwise be dropped silently and the node run on its default. rclpy's own `qos_overrides.*`
    pass. Call it once every parameter is declared, before the node does anything."""
    names = list(node._parameter_overrides if given is None else given)  # (rclpy offers no public view of them)
    unknown = [name for name in names if not node.has_parameter(name) and not name.startswith("qos_overrides.")]
    if unknown:
        declared = list(node.list_parameters([], 0).names)
        hints = [f"{name!r}" + "".join(f" (did you mean {m!r}?)" for m in difflib.get_close_matches(name, declared, 1))
                 for name in unknown]
        raise ValueError(f"unknown parameter(s) {', '.join(hints)}")


def value(node: Node, name: str) -> Any:
    """A declared parameter's value; [] for an array parameter declared without a value."""
    try:
        return node.get_parameter(name).value
    except ParameterUninitializedException:
        return []


def _priority(text: str) -> int:
    try:
        return _check_priority(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be 0 (off) or 1..99, got {text!r}") from None


def _cpus(text: str) -> list[int]:
    try:
        return [int(cpu) for cpu in text.split(",") if cpu.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CPU numbers separated by commas, got {text!r}") from None


class OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr, `PROG: LABEL: MESSAGE` (label "error", a node's options
    "cannot start"), with exit status 2 (no usage block: `--help` shows it)."""

    def __init__(self, *args: Any, label: str = "error", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {self.label}: {message}", file=sys.stderr)
        raise SystemExit(2)


def options_parser(description: str = "") -> argparse.ArgumentParser:
    """The options of every node process (before --ros-args; a launch file's node `args`); a bad one exits
    with status 2 and one line on stderr."""
    parser = OneLineParser(description=description, label="cannot start")
    parser.add_argument("--executor", choices=EXECUTORS, default="events",
                        help="rclpy executor (default events: the lowest latency, benchmarks/ros_latency.py)")
    parser.add_argument("--realtime-priority", type=_priority, default=0, metavar="N",
                        help="SCHED_FIFO priority 1-99 for the node's threads (default 0: normal scheduling)")
    parser.add_argument("--cpu-affinity", type=_cpus, default=[], metavar="CPUS",
                        help="CPUs the node's threads run on, e.g. 2,3 (default empty: any)")
    return parser


def one_line(exc: Exception) -> str:
    """What `exc` says, on one line: rcl's messages without the C source locations they append (", at
    /.../arguments.c:415") and their line breaks (a topic name error draws a caret under the name)."""
    words = (str(exc).split(", at /")[0] or type(exc).__name__).split()
    return " ".join(word for word in words if word.strip("^"))


def cannot_start(prog: str, exc: Exception) -> int:
    """Say on stderr in one line why the node cannot start and return the exit status 2."""
    print(f"{prog}: cannot start: {one_line(exc)}", file=sys.stderr)
    return 2


def run_node(make: Callable[[rclpy.Context], Node], argv: Sequence[str] | None = None,
             description: str = "") -> int:
    """Parse `--executor`, `--realtime-priority` and `--cpu-affinity` (the CPU set goes to every thread before
    rclpy starts; SCHED_FIFO, only with the EventsExecutor, to the thread that runs the callbacks and to the
    middleware's threads once the node is built; a refusal is a warning on stderr, and the node runs on), init
    rclpy with the ROS arguments, spin `make(context)` in the main thread until SIGINT/SIGTERM/SIGHUP (a closed
    terminal) or the node asks to stop (its `done` Event, if it has one), then call `node.before_shutdown()` (if it
    has one) while the context is still up, e.g. to send a safe command, and keep spinning while `node.draining()`
    (if it has one) is true, e.g. for a recorder to write what is still in flight before it closes its bag. A node
    that cannot start (a parameter out of its range or of the wrong type, a bad name, ValueError, OSError or an
    snncontrol error) is reported in one line on stderr and the process exits with status 2. Otherwise the exit
    status is the node's `exit_status` (0 if it has none), e.g. 1 for a controller whose autostart could not
    configure.

    The executor spins in the main thread in slices of 0.1 s: the EventsExecutor holds the GIL while it
    spins, so it cannot run in a helper thread, and the slices let the Python signal handlers run. Once the
    node is built, everything allocated so far is frozen (`gc.freeze`): a full collection of the ~200,000
    start-up objects of a controller process otherwise stops the loop for ~100 ms now and then (measured at
    1 kHz: one such pause costs ~100 readings); afterwards the collector scans only what the loop allocates."""
    argv = list(sys.argv if argv is None else argv)
    from rclpy.utilities import remove_ros_args

    parser = options_parser(description)
    parser.prog = Path(argv[0]).name
    try:
        options = parser.parse_args(remove_ros_args(argv)[1:])
    except rclpy_implementation.RCLError as exc:  # a malformed --ros-args rule
        return cannot_start(parser.prog, exc)
    if options.realtime_priority and options.executor != "events":
        parser.error(f"--realtime-priority needs --executor events (the {options.executor} executor's threads "
                     "wait busily or rebuild wait sets: under SCHED_FIFO they miss most readings or starve the CPU)")

    def warn(refused: str | None) -> None:
        if refused:
            print(f"{parser.prog}: warning: {refused}", file=sys.stderr)

    warn(set_cpu_affinity(options.cpu_affinity))
    before = threads()  # those of the numerical libraries (started on import) keep normal scheduling
    context = rclpy.Context()
    try:
        rclpy.init(args=argv, context=context, signal_handler_options=SignalHandlerOptions.NO)
    except rclpy_implementation.RCLError as exc:  # e.g. a parameter file that is missing or not YAML
        return cannot_start(parser.prog, exc)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # (a hang-up killed a recorder before its bag closed)
        signal.signal(sig, lambda *_: stop.set())
    try:
        node = make(context)
    except (ValueError, OSError, SnnControlError, ParameterException, NameValidationException) as exc:
        context.try_shutdown()
        return cannot_start(parser.prog, exc)
    executor = make_executor(options.executor, context)
    executor.add_node(node)
    # Real-time from here on (start-up, e.g. loading the artifact, ran with normal scheduling): this thread,
    # which runs the callbacks, and the middleware's, which receive the data.
    warn(set_realtime_priority(options.realtime_priority, {threading.get_native_id()} | (threads() - before)))
    gc.freeze()  # start-up objects (modules, torch, the artifact) leave the collector's reach: see below
    try:
        while not stop.is_set():
            done = getattr(node, "done", None)
            if done is not None and done.is_set():
                break
            executor.spin_once(timeout_sec=0.1)
    finally:
        hook = getattr(node, "before_shutdown", None)
        if hook is not None:
            hook()
            executor.spin_once(timeout_sec=0.05)  # let the middleware flush what the hook published
        draining = getattr(node, "draining", None)
        while draining is not None and draining():
            executor.spin_once(timeout_sec=0.05)
        executor.remove_node(node)
        node.destroy_node()
        executor.shutdown(timeout_sec=1.0)
        context.try_shutdown()
    return int(getattr(node, "exit_status", 0))
