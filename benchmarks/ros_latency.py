"""Sensor message published -> command received, over loopback DDS: the SNN controller node against a
pass-through node that does no SNN work (the transport's own floor), at 100 Hz and 1 kHz, and what each
executor / QoS / transport / process choice buys at 1 kHz.

Run (about 4 minutes; ``--quick`` for a ~1 minute smoke run that does not write results)::

    .venv/bin/python benchmarks/ros_latency.py
    .venv/bin/python benchmarks/ros_latency.py --quick

Setup: this process is the robot's sensor side: one node publishing ``sensor_msgs/Range`` readings from a
wall timer at the rate, each stamped uniquely, and receiving ``std_msgs/Float64MultiArray`` commands; a
command carries the stamp of the reading it answers (``echo_stamp``), so every reading is matched to its
command: latency = receive time - publish time (same clock), ``late`` = answered more than one period after
it was sent, ``lost`` = never answered (``publish_failed`` of them refused by the DDS writer); missed = late +
lost. Two nodes under test run at the same time, each in its own process and namespace: ``/floor`` the
pass-through node (``snncontrol_ros.passthrough_node``: the same message handling, no SNN work) and ``/snn``
the controller node (``snncontrol_ros.controller_node``, event mode, the shipped blimp SNN, lifecycle
autostart), same QoS and executor at every end, start-up objects frozen out of the garbage collector at every
end (``gc.freeze``, as ``run_node`` does). The readings go to one of them at a time, alternating in blocks
(``--block``, each after a 0.5 s warm-up that is discarded; A B B A ...), so load from other jobs on the
machine falls on both alike; overhead = controller - pass-through. The controller's own tick time (callback
entry -> command published) is read from its ``/diagnostics`` (``latency_p50_ms`` of each 1 s window, median).

Headline (``main``): the controller as ``launch/blimp_robot.launch.xml`` runs it with ``cpu_affinity:=N``:
real-time scheduling (SCHED_FIFO 50) on CPUs of its own (``--realtime-priority 50 --cpu-affinity``; this
process, the sensor side, on the first CPU at the same priority, the nodes under test on the others);
EventsExecutor at every end, sensor QoS best effort keep-last-1, commands reliable keep-last-1, Fast DDS
defaults (shared-memory transport on one host, synchronous publication), 30 s per node per rate. Beside it, at
1 kHz (``--extra-duration`` s per node), one change at a time: normal scheduling on any CPU (a node started
without those options), each of the two alone, SingleThreadedExecutor and MultiThreadedExecutor (pinned,
normal scheduling: the nodes take SCHED_FIFO only with the EventsExecutor), reliable sensor QoS, UDPv4
transport only (no shared memory), asynchronous publication, and all nodes in this process on one executor,
on the first CPU (one DDS participant: Fast DDS intra-process delivery; rclpy has no zero-copy intra-process
path). Real-time scheduling needs CAP_SYS_NICE (root, or an rtprio limit); where the system refuses it, the
runs say so (``scheduling_refused``) and go on with normal scheduling. The load average before and after each
run goes into the JSON.

Writes benchmarks/results/ros_latency.json and ends with one line ``RESULT ros_latency overhead_p50_ms=...
overhead_p99_ms=... p50_ms=... p99_ms=... passthrough_p99_ms=... missed_100hz=... missed_1khz_pct=...``
(controller at 1 kHz, main configuration; missed_100hz a count), or ``RESULT ros_latency status=no_answer``
(exit status 1) where the nodes under test did not start or answer.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.parameter import Parameter
from sensor_msgs.msg import Range
from snncontrol_ros import messages
from snncontrol_ros.controller_node import ControllerNode
from snncontrol_ros.launcher import Processes
from snncontrol_ros.passthrough_node import PassthroughNode
from snncontrol_ros.runtime import make_executor, set_cpu_affinity, set_realtime_priority, threads
from std_msgs.msg import Float64, Float64MultiArray

from snncontrol.controllers import SHIPPED

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import integer, machine_info, number, output_file, result_line

from snncontrol.atomic import write_json

OUT = Path(__file__).parent / "results" / "ros_latency.json"
NODES = {"floor": "passthrough_node", "snn": "controller_node"}  # namespace -> module of the node under test
WARMUP_S = 0.5
#: The ROS_DOMAIN_IDs a DDS participant can take (its ports must fit in 16 bits; 0..101 stay clear of Linux's
#: ephemeral ports, the rest work on a quiet host, as the project's tests use them).
DOMAIN_IDS = (0, 232)
DEFAULT_DOMAIN_ID = 42


@dataclass(frozen=True)
class Choice:
    """One configuration of the whole graph (every end uses it)."""

    name: str
    executor: str = "events"
    reliability: str = "best_effort"
    env: dict[str, str] = field(default_factory=dict)
    in_process: bool = False
    priority: int = 0  # SCHED_FIFO priority of every process (0: normal scheduling)
    pinned: bool = False  # this process on the first CPU, the nodes under test on the others


MAIN = Choice("main", priority=50, pinned=True)  # as launch/blimp_robot.launch.xml runs the controller
CHOICES = (  # one change at a time from MAIN
    Choice("normal scheduling, any CPU"),
    Choice("SCHED_FIFO 50, any CPU", priority=50),
    Choice("pinned CPUs, normal scheduling", pinned=True),
    # The nodes refuse SCHED_FIFO with these two (under it, they missed 92 % and starved the machine).
    Choice("SingleThreadedExecutor, normal scheduling", executor="single", pinned=True),
    Choice("MultiThreadedExecutor, normal scheduling", executor="multi", pinned=True),
    Choice("reliable sensor QoS", reliability="reliable", priority=50, pinned=True),
    Choice("UDPv4 only (no shared memory)", env={"FASTDDS_BUILTIN_TRANSPORTS": "UDPv4"}, priority=50, pinned=True),
    Choice("asynchronous publication", env={"RMW_FASTRTPS_PUBLICATION_MODE": "ASYNCHRONOUS"}, priority=50,
           pinned=True),
    Choice("all nodes in one process (on the first CPU)", in_process=True, priority=50, pinned=True),
)


def node_params(kind: str, reliability: str) -> dict[str, object]:
    if kind == "snn":
        return {"artifact": str(SHIPPED["blimp"]), "control_mode": "event", "echo_stamp": True, "autostart": True,
                "sensor_reliability": reliability, "diagnostics_period_s": 1.0}
    return {"sensor_reliability": reliability, "output_topic": "thrust_command"}  # (the controller's, for the floor)


def node_command(kind: str, choice: Choice) -> list[str]:
    cmd = [sys.executable, "-m", f"snncontrol_ros.{NODES[kind]}", "--executor", choice.executor,
           "--realtime-priority", str(choice.priority), *node_cpus(choice), "--ros-args",
           "--log-level", "warn", "-r", f"__ns:=/{kind}"]
    for key, value in node_params(kind, choice.reliability).items():
        cmd += ["-p", f"{key}:={str(value).lower() if isinstance(value, bool) else value}"]
    return cmd


def cpus(choice: Choice) -> tuple[set[int], set[int]]:
    """(this process's CPUs, the nodes' CPUs) of a pinned choice: the first one, and the others."""
    every = sorted(os.sched_getaffinity(0))
    return ({every[0]}, set(every[1:]) or {every[0]}) if choice.pinned else (set(every), set(every))


def node_cpus(choice: Choice) -> list[str]:
    return ["--cpu-affinity", ",".join(map(str, sorted(cpus(choice)[1])))] if choice.pinned else []


class Probe:
    """The sensor side towards one node under test: readings out, commands matched back by stamp."""

    def __init__(self, node, namespace: str, reliability: str) -> None:
        self.namespace = namespace
        self.pub = node.create_publisher(Range, f"/{namespace}/altitude", messages.sensor_qos(reliability))
        self.setpoint = node.create_publisher(Float64, f"/{namespace}/setpoint", messages.setpoint_qos())
        node.create_subscription(Float64MultiArray, f"/{namespace}/thrust_command", self._on_command,
                                 messages.command_qos(10))
        self.sent: dict[int, float] = {}  # stamp -> perf_counter at publish (recorded blocks only)
        self.latency: dict[int, float] = {}
        self.publish_failed = 0
        self.answers = 0  # commands received, recorded or not

    def _on_command(self, msg: Float64MultiArray) -> None:
        now = time.perf_counter()
        self.answers += 1
        stamp = messages.echoed_stamp(msg)
        if stamp in self.sent and stamp not in self.latency:
            self.latency[stamp] = now - self.sent[stamp]

    def publish(self, stamp: int, record: bool) -> None:
        msg = Range(range=0.45 + 0.1 * np.sin(stamp * 1e-3), min_range=0.0, max_range=12.0)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        if record:
            self.sent[stamp] = time.perf_counter()
        try:
            self.pub.publish(msg)
        except RuntimeError:  # rclpy's RCLError: the DDS writer refused the sample (counted; it is never answered)
            self.publish_failed += record

    def figures(self, rate_hz: float) -> dict[str, float | int]:
        lat = np.array([self.latency.get(s, np.nan) for s in self.sent]) * 1e3
        answered = lat[np.isfinite(lat)]
        late, lost = int(np.sum(answered > 1e3 / rate_hz)), int(np.sum(~np.isfinite(lat)))

        def pct(q: float) -> float:
            return float(np.percentile(answered, q)) if len(answered) else float("nan")

        return {"sent": len(lat), "p50_ms": pct(50), "p99_ms": pct(99), "p99_9_ms": pct(99.9),
                "max_ms": float(answered.max()) if len(answered) else float("nan"),
                "mean_ms": float(answered.mean()) if len(answered) else float("nan"),
                "late": late, "lost": lost, "publish_failed": self.publish_failed, "missed": late + lost,
                "missed_pct": 100.0 * (late + lost) / max(1, len(lat))}


class Client:
    """This process's node: a probe per node under test, the reading timer, the controller's diagnostics."""

    def __init__(self, context, reliability: str) -> None:
        self.node = rclpy.create_node("latency_client", context=context)
        self.probes = {ns: Probe(self.node, ns, reliability) for ns in NODES}
        self.node_tick_ms: list[float] = []  # the controller's own latency_p50_ms, per diagnostics window
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, 10)
        self.active: Probe | None = None
        self.recording = False
        self.stamp = 0

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            values = {kv.key: kv.value for kv in status.values}
            if self.recording and self.active is self.probes["snn"] and values.get("latency_p50_ms", "nan") != "nan":
                self.node_tick_ms.append(float(values["latency_p50_ms"]))

    def tick(self) -> None:
        if self.active is not None:
            self.stamp += 1
            self.active.publish(self.stamp, self.recording)

    def connected(self) -> bool:
        return all(p.pub.get_subscription_count() and self.node.count_publishers(f"/{ns}/thrust_command")
                   for ns, p in self.probes.items())


def spin_for(executor, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        executor.spin_once(timeout_sec=0.01)


@contextmanager
def environment(env: dict[str, str]):
    """Set environment variables for this process (Fast DDS reads them when a participant is created)."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def scheduling(priority: int, mine: set[int]):
    """This process's main thread (and the middleware threads it starts meanwhile) under SCHED_FIFO `priority`,
    all its threads on the CPUs `mine` (yields why the system refused the priority, or None); normal scheduling
    on every CPU again afterwards."""
    every = os.sched_getaffinity(0)
    refused = set_realtime_priority(priority)
    for problem in filter(None, (refused, set_cpu_affinity(sorted(mine)))):
        print(f"ros_latency: warning: {problem}", file=sys.stderr)
    try:
        yield refused
    finally:  # every thread (the middleware keeps some for the whole process) back to normal, on every CPU
        for tid in threads():
            with suppress(ProcessLookupError):
                os.sched_setaffinity(tid, every)
                os.sched_setscheduler(tid, os.SCHED_OTHER, os.sched_param(0))


def in_process_nodes(context, choice: Choice) -> list:
    params = {kind: [Parameter(k, value=v) for k, v in node_params(kind, choice.reliability).items()]
              for kind in NODES}
    return [PassthroughNode(context=context, namespace="/floor", parameter_overrides=params["floor"]),
            ControllerNode(context=context, namespace="/snn", parameter_overrides=params["snn"])]


def run(choice: Choice, rate_hz: float, per_node_s: float, block_s: float, domain: int) -> dict:
    """Both nodes under test at `rate_hz`, `per_node_s` of recorded readings each, in alternating blocks."""
    load_before = os.getloadavg()
    with (
        environment({"ROS_DOMAIN_ID": str(domain), **choice.env}),
        scheduling(choice.priority, cpus(choice)[0]) as refused,
        ExitStack() as stack,
    ):
        context = rclpy.Context()
        rclpy.init(context=context, domain_id=domain)
        stack.callback(context.try_shutdown)
        if not choice.in_process:  # each node under test in its own process, stopped (SIGINT) on exit
            procs = stack.enter_context(Processes(dict(os.environ)))
            for kind in NODES:
                procs.start(node_command(kind, choice))
        client = Client(context, choice.reliability)
        nodes = [client.node, *(in_process_nodes(context, choice) if choice.in_process else [])]
        executor = make_executor(choice.executor, context)
        for node in nodes:
            executor.add_node(node)
            stack.callback(node.destroy_node)
        stack.callback(executor.shutdown, timeout_sec=1.0)
        deadline = time.monotonic() + 30.0
        while not client.connected():
            executor.spin_once(timeout_sec=0.05)
            if time.monotonic() > deadline:
                raise TimeoutError(f"{choice.name}: the nodes under test were not discovered in 30 s")
        client.probes["snn"].setpoint.publish(Float64(data=0.5))
        for probe in client.probes.values():  # the whole path works (readers and writers matched) before timing
            while probe.answers < 10:
                client.stamp += 1
                probe.publish(client.stamp, record=False)
                spin_for(executor, 0.02)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{choice.name}: /{probe.namespace} did not answer within 30 s")
        gc.freeze()  # as run_node does in the node processes: no full collection of start-up objects mid-run
        stack.callback(gc.unfreeze)
        client.node.create_timer(1.0 / rate_hz, client.tick)
        blocks = max(1, round(per_node_s / block_s))
        for block in range(blocks):
            order = list(client.probes.values())
            for probe in order if block % 2 == 0 else order[::-1]:  # A B B A ...: a drift in load cancels out
                client.active, client.recording = probe, False
                spin_for(executor, WARMUP_S)
                client.recording = True
                spin_for(executor, per_node_s / blocks)
        client.active, client.recording = None, False
        spin_for(executor, 0.3)  # the last answers
        results = {ns: probe.figures(rate_hz) for ns, probe in client.probes.items()}
        node_tick = float(np.median(client.node_tick_ms)) if client.node_tick_ms else float("nan")
    row = {"choice": asdict(choice), "rate_hz": rate_hz, "per_node_s": per_node_s, "blocks": blocks,
           "passthrough": results["floor"], "controller": results["snn"],
           "overhead_p50_ms": results["snn"]["p50_ms"] - results["floor"]["p50_ms"],
           "overhead_p99_ms": results["snn"]["p99_ms"] - results["floor"]["p99_ms"],
           "controller_tick_p50_ms": node_tick, "scheduling_refused": refused,
           "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]}}
    floor, snn = results["floor"], results["snn"]
    print(f"{choice.name:>30} {rate_hz:5.0f} Hz | floor p50 {floor['p50_ms']:.3f} p99 {floor['p99_ms']:.3f} ms "
          f"missed {floor['missed_pct']:.2f}% | snn p50 {snn['p50_ms']:.3f} p99 {snn['p99_ms']:.3f} ms missed "
          f"{snn['missed_pct']:.2f}% ({snn['missed']}) | overhead {row['overhead_p50_ms']:+.3f} / "
          f"{row['overhead_p99_ms']:+.3f} ms, node tick {node_tick:.3f} ms | load {load_before[0]:.2f}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    seconds = number(0.0, 3600.0, above=True)
    parser.add_argument("--duration", type=seconds, default=30.0, help="s per node per rate (headline)")
    parser.add_argument("--extra-duration", type=seconds, default=6.0, help="s per node per other choice (1 kHz)")
    parser.add_argument("--block", type=seconds, default=5.0, help="s per alternating block")
    parser.add_argument("--quick", action="store_true", help="4 s / 2 s runs, results not written")
    parser.add_argument("--domain-id", type=integer(*DOMAIN_IDS), default=None,
                        help=f"ROS_DOMAIN_ID (default: the environment's, else {DEFAULT_DOMAIN_ID})")
    args = parser.parse_args(argv)
    if args.domain_id is None:  # (read here, not as the parser's default: a bad variable does not break --help)
        try:
            args.domain_id = integer(*DOMAIN_IDS)(os.environ.get("ROS_DOMAIN_ID", str(DEFAULT_DOMAIN_ID)))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"ROS_DOMAIN_ID (the default of --domain-id) {exc}")
    output = None if args.quick else output_file(parser, OUT, "the result file")
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"  # no traffic off this machine
    duration, extra, block = (4.0, 2.0, 2.0) if args.quick else (args.duration, args.extra_duration, args.block)
    machine, start = machine_info(), time.monotonic()  # (its load average: before the runs)
    try:
        runs = [run(MAIN, rate, duration, block, args.domain_id) for rate in (100.0, 1000.0)]
        runs += [run(choice, 1000.0, extra, min(block, extra / 3), args.domain_id) for choice in CHOICES]
    except TimeoutError as exc:  # the nodes under test never started or answered
        print(f"ros_latency: {exc}", file=sys.stderr)
        print(result_line("ros_latency", {"status": "no_answer"})[0])
        return 1
    main100, main1k = runs[0], runs[1]
    summary = {
        "overhead_p50_ms": main1k["overhead_p50_ms"],
        "overhead_p99_ms": main1k["overhead_p99_ms"],
        "p50_ms": main1k["controller"]["p50_ms"],
        "p99_ms": main1k["controller"]["p99_ms"],
        "passthrough_p99_ms": main1k["passthrough"]["p99_ms"],
        "missed_100hz": main100["controller"]["missed"],
        "missed_1khz_pct": main1k["controller"]["missed_pct"],
    }
    targets = {
        "overhead_p50_le_0.1ms": summary["overhead_p50_ms"] <= 0.1,
        "overhead_p99_le_0.5ms": summary["overhead_p99_ms"] <= 0.5,
        "no_missed_100hz": summary["missed_100hz"] == 0,
        "missed_1khz_lt_0.1pct": summary["missed_1khz_pct"] < 0.1,
    }
    document = {
        "benchmark": "ros_latency",
        "machine": {**machine, "rmw": os.environ.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")},
        "load_average_1_5_15_min": {"before": machine["load_average_1_5_15_min"], "after": list(os.getloadavg())},
        "controller_artifact": str(SHIPPED["blimp"].name),
        "summary": summary,
        "targets_met": targets,
        "runs": runs,
        "wall_s": time.monotonic() - start,
    }
    line, document["result"] = result_line("ros_latency", summary, ".4g")
    if output is not None:
        write_json(output, document)
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
