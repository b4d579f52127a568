"""Sensor message published -> command received, over loopback DDS: the SNN controller node against a
pass-through node that does no SNN work (the transport's own floor), at 100 Hz and 1 kHz.

Run (about 2.5 minutes; ``--quick`` for a ~40 s smoke run that does not write results)::

    .venv/bin/python benchmarks/ros_latency.py
    .venv/bin/python benchmarks/ros_latency.py --quick

Setup: this process is the robot's sensor side: a node publishing ``sensor_msgs/Range`` on ``altitude`` from a
wall timer at the rate, each message stamped uniquely, and receiving ``std_msgs/Float64MultiArray`` commands on
``thrust_command``; a command carries the stamp of the reading it answers (``echo_stamp``), so every reading is
matched to its command: latency = receive time - publish time (same clock), ``late`` = answered after the next
reading was due (one period), ``lost`` = never answered; missed = late + lost. The node under test runs in its
own process (``python -m snncontrol_ros.controller_node`` in event mode with the shipped blimp SNN, or
``python -m snncontrol_ros.passthrough_node``), same QoS and executor for both; a 1 s warm-up is discarded.

Headline (``main``): both ends on the EventsExecutor, sensor QoS best effort keep-last-1, commands reliable
keep-last-1, 30 s per rate per node. Beside it, shorter runs at 1 kHz (``--extra-duration``) of the choices
around the floor: the SingleThreadedExecutor at both ends, reliable sensor QoS, and the controller node in
this process (same executor and DDS participant: Fast DDS intra-process delivery; rclpy has no zero-copy
intra-process path). Writes benchmarks/results/ros_latency.json and ends with one line ``RESULT ros_latency
overhead_p50_ms=... overhead_p99_ms=... p50_ms=... p99_ms=... passthrough_p99_ms=... missed_100hz=...
missed_1khz_pct=...`` (controller at 1 kHz, overhead = controller - pass-through, missed_100hz a count).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.parameter import Parameter
from sensor_msgs.msg import Range
from snncontrol_ros import messages
from snncontrol_ros.controller_node import ControllerNode
from snncontrol_ros.runtime import make_executor
from std_msgs.msg import Float64, Float64MultiArray

from snncontrol.controllers import SHIPPED

OUT = Path(__file__).parent / "results" / "ros_latency.json"


def node_process(kind: str, executor: str, reliability: str) -> list[str]:
    if kind == "controller":
        params = {"artifact": str(SHIPPED["blimp"]), "control_mode": "event", "echo_stamp": "true",
                  "autostart": "true", "sensor_reliability": reliability, "diagnostics_period_s": "1.0"}
        module = "controller_node"
    else:
        params = {"sensor_reliability": reliability}
        module = "passthrough_node"
    cmd = [sys.executable, "-m", f"snncontrol_ros.{module}", "--executor", executor, "--ros-args",
           "--log-level", "warn"]
    for key, value in params.items():
        cmd += ["-p", f"{key}:={value}"]
    return cmd


class Client:
    """The sensor side: publishes readings at `rate_hz`, matches commands by stamp."""

    def __init__(self, context, reliability: str) -> None:
        self.node = rclpy.create_node("latency_client", context=context)
        self.pub = self.node.create_publisher(Range, "altitude", messages.sensor_qos(reliability))
        self.setpoint = self.node.create_publisher(Float64, "setpoint", messages.setpoint_qos())
        self.node.create_subscription(Float64MultiArray, "thrust_command", self._on_command, messages.command_qos(10))
        self.sent: dict[int, float] = {}
        self.latency: dict[int, float] = {}
        self.stamp = 0
        self.recording = False

    def _on_command(self, msg: Float64MultiArray) -> None:
        now = time.perf_counter()
        stamp = messages.echoed_stamp(msg)
        if stamp in self.sent and stamp not in self.latency:
            self.latency[stamp] = now - self.sent[stamp]

    def publish(self) -> None:
        self.stamp += 1
        msg = Range(range=0.45 + 0.1 * np.sin(self.stamp * 1e-3), min_range=0.0, max_range=12.0)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(self.stamp, 1_000_000_000)
        if self.recording:
            self.sent[self.stamp] = time.perf_counter()
        self.pub.publish(msg)


def measure(context, executor_kind: str, rate_hz: float, duration_s: float, reliability: str,
            in_process: ControllerNode | None = None) -> dict:
    client = Client(context, reliability)
    executor = make_executor(executor_kind, context)
    executor.add_node(client.node)
    if in_process is not None:
        executor.add_node(in_process)
    try:
        deadline = time.monotonic() + 30.0
        while not (client.pub.get_subscription_count() and client.node.count_publishers("/thrust_command")):
            executor.spin_once(timeout_sec=0.05)
            if time.monotonic() > deadline:
                raise TimeoutError("the node under test was not discovered in 30 s")
        client.setpoint.publish(Float64(data=0.5))
        timer = client.node.create_timer(1.0 / rate_hz, client.publish)
        end_warmup = time.monotonic() + 1.0
        while time.monotonic() < end_warmup:
            executor.spin_once(timeout_sec=0.01)
        client.recording = True
        end = time.monotonic() + duration_s
        while time.monotonic() < end:
            executor.spin_once(timeout_sec=0.01)
        client.recording = False
        client.node.destroy_timer(timer)
        drain = time.monotonic() + 0.5
        while time.monotonic() < drain:
            executor.spin_once(timeout_sec=0.01)
    finally:
        executor.remove_node(client.node)
        if in_process is not None:
            executor.remove_node(in_process)
        client.node.destroy_node()
        executor.shutdown(timeout_sec=1.0)
    lat = np.array([client.latency.get(s, np.nan) for s in client.sent]) * 1e3
    answered = lat[np.isfinite(lat)]
    period_ms = 1e3 / rate_hz
    late = int(np.sum(answered > period_ms))
    lost = int(np.sum(~np.isfinite(lat)))
    return {
        "rate_hz": rate_hz,
        "duration_s": duration_s,
        "sent": len(lat),
        "p50_ms": float(np.percentile(answered, 50)) if len(answered) else float("nan"),
        "p99_ms": float(np.percentile(answered, 99)) if len(answered) else float("nan"),
        "max_ms": float(answered.max()) if len(answered) else float("nan"),
        "mean_ms": float(answered.mean()) if len(answered) else float("nan"),
        "late": late,
        "lost": lost,
        "missed": late + lost,
        "missed_pct": 100.0 * (late + lost) / max(1, len(lat)),
    }


def run_config(name: str, kind: str, rate_hz: float, duration_s: float, executor: str, reliability: str,
               domain: int, in_process: bool = False) -> dict:
    os.environ["ROS_DOMAIN_ID"] = str(domain)
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain)
    proc = None
    node = None
    try:
        if in_process:
            params = {"artifact": str(SHIPPED["blimp"]), "control_mode": "event", "echo_stamp": True,
                      "autostart": True, "sensor_reliability": reliability}
            node = ControllerNode(context=context,
                                  parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        else:
            proc = subprocess.Popen(node_process(kind, executor, reliability), env=dict(os.environ),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        result = measure(context, executor, rate_hz, duration_s, reliability, node)
    finally:
        if node is not None:
            node.destroy_node()
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        context.try_shutdown()
    result.update(config=name, node=kind, executor=executor, sensor_reliability=reliability, in_process=in_process)
    print(f"{name:>34} {kind:>11} {rate_hz:6.0f} Hz: p50 {result['p50_ms']:.3f} ms  p99 {result['p99_ms']:.3f} ms  "
          f"max {result['max_ms']:.2f} ms  missed {result['missed']} ({result['missed_pct']:.2f} %, "
          f"{result['lost']} lost) of {result['sent']}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="s per rate per node (headline)")
    parser.add_argument("--extra-duration", type=float, default=3.0, help="s per extra configuration (1 kHz)")
    parser.add_argument("--quick", action="store_true", help="3 s / 2 s runs, results not written")
    parser.add_argument("--domain-id", type=int, default=int(os.environ.get("ROS_DOMAIN_ID", "42")))
    args = parser.parse_args(argv)
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # no traffic off this machine
    duration, extra = (3.0, 2.0) if args.quick else (args.duration, args.extra_duration)
    load_before = os.getloadavg()
    start = time.monotonic()
    runs = []
    for rate in (100.0, 1000.0):
        for kind in ("passthrough", "controller"):
            runs.append(run_config("main (events, best effort)", kind, rate, duration, "events", "best_effort",
                                   args.domain_id))
    for kind in ("passthrough", "controller"):
        runs.append(run_config("single-threaded executor", kind, 1000.0, extra, "single", "best_effort",
                               args.domain_id))
        runs.append(run_config("reliable sensor QoS", kind, 1000.0, extra, "events", "reliable", args.domain_id))
    runs.append(run_config("multi-threaded executor", "controller", 1000.0, extra, "multi", "best_effort",
                           args.domain_id))
    runs.append(run_config("controller in this process", "controller", 1000.0, extra, "events", "best_effort",
                           args.domain_id, in_process=True))

    def pick(config: str, kind: str, rate: float) -> dict:
        return next(r for r in runs if r["config"] == config and r["node"] == kind and r["rate_hz"] == rate)

    main_cfg = "main (events, best effort)"
    ctrl, floor = pick(main_cfg, "controller", 1000.0), pick(main_cfg, "passthrough", 1000.0)
    ctrl100 = pick(main_cfg, "controller", 100.0)
    summary = {
        "overhead_p50_ms": ctrl["p50_ms"] - floor["p50_ms"],
        "overhead_p99_ms": ctrl["p99_ms"] - floor["p99_ms"],
        "p50_ms": ctrl["p50_ms"],
        "p99_ms": ctrl["p99_ms"],
        "passthrough_p99_ms": floor["p99_ms"],
        "missed_100hz": ctrl100["missed"],
        "missed_1khz_pct": ctrl["missed_pct"],
    }
    targets = {
        "overhead_p50_le_0.1ms": summary["overhead_p50_ms"] <= 0.1,
        "overhead_p99_le_0.5ms": summary["overhead_p99_ms"] <= 0.5,
        "no_missed_100hz": summary["missed_100hz"] == 0,
        "missed_1khz_lt_0.1pct": summary["missed_1khz_pct"] < 0.1,
    }
    document = {
        "benchmark": "ros_latency",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(),
                    "rmw": os.environ.get("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp"),
                    "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
        "load_average_1_5_15_min": {"before": list(load_before), "after": list(os.getloadavg())},
        "controller_artifact": str(SHIPPED["blimp"].name),
        "summary": summary,
        "targets_met": targets,
        "runs": runs,
        "wall_s": time.monotonic() - start,
    }
    if not args.quick:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(document, indent=1) + "\n")
    print("RESULT ros_latency " + " ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
