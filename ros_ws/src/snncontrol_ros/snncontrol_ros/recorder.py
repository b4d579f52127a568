"""Run recording: a node that writes topics, as received (serialized CDR, no conversion), to a ROS 2 bag in
mcap storage via `rosbags`. The bag directory (metadata.yaml + <name>_0.mcap) opens in `ros2 bag play`; the
.mcap file opens in Foxglove.

Parameters: output (bag directory, must not exist), topics and types (ROS type names, e.g.
sensor_msgs/msg/Range), reliability of the subscriptions (best_effort matches every publisher; reliable, for a
graph whose publishers are all reliable such as the lockstep simulation, loses nothing while the recorder keeps
within 1,000 messages per topic: a recorder never slows the loop down), drain_quiet_s and drain_timeout_s, and
ready_topic: a latched std_msgs/String sent there once every recorded topic has a matched publisher (the
lockstep simulation's `start_after_topic` waits for it). Timestamps are receive times on the node clock (sim
time with use_sim_time). A parameter the node does not declare (a misspelt name) stops it at start in one line,
before a bag is opened.

Stopping (SIGINT/SIGTERM) does not drop what is still in flight: the node keeps receiving and writing until no
message came for `drain_quiet_s` since the stop (at most `drain_timeout_s`, default 4 s: inside the 5 s after which
ros2 launch follows SIGINT with SIGTERM, then SIGKILL), then closes the bag (the mcap
summary and metadata.yaml are written on close) and exits with status 0. A write that fails (disk full, a file
size limit) stops the recording: one ERROR line, the bag closed with what was written before (readable where
the close itself can still write), exit status 1.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys import Stores, get_typestore
from std_msgs.msg import String

from snncontrol_ros import messages
from snncontrol_ros.runtime import check_declared, declare, fixed_at_start, one_line, run_node, value

#: What the blimp-in-simulation graph records by default (topic -> type).
BLIMP_TOPICS: dict[str, str] = {
    "/altitude": "sensor_msgs/msg/Range",
    "/setpoint": "std_msgs/msg/Float64",
    "/thrust_command": "std_msgs/msg/Float64MultiArray",
    "/sim/state": "std_msgs/msg/Float64MultiArray",
    "/diagnostics": "diagnostic_msgs/msg/DiagnosticArray",
    "/clock": "rosgraph_msgs/msg/Clock",
}


def _ros_type(name: str) -> type:
    """The rclpy message class of a type name such as sensor_msgs/msg/Range (ValueError naming it otherwise)."""
    try:
        package, kind, message = name.split("/")
        return getattr(__import__(f"{package}.{kind}", fromlist=[message]), message)
    except (ValueError, ImportError, AttributeError):
        raise ValueError(f"unknown message type {name!r} (a type such as sensor_msgs/msg/Range)") from None


class BagRecorder:
    """A rosbags mcap writer for serialized messages; thread-safe."""

    def __init__(self, path: str | Path, topics: dict[str, str]) -> None:
        self.path = Path(path)
        self.typestore = get_typestore(Stores.ROS2_KILTED if hasattr(Stores, "ROS2_KILTED") else Stores.LATEST)
        unknown = sorted({msgtype for msgtype in topics.values() if msgtype not in self.typestore.fielddefs})
        if unknown:  # checked before the bag is opened: a refused start leaves no bag behind
            raise ValueError(f"the bag cannot store message type(s) {unknown}")
        try:
            self.writer = Writer(self.path, version=9, storage_plugin=StoragePlugin.MCAP)
            self.writer.open()
        except WriterError as exc:
            raise ValueError(f"cannot write the bag {self.path}: {exc}") from None
        self.connections = {
            topic: self.writer.add_connection(topic, msgtype, typestore=self.typestore)
            for topic, msgtype in topics.items()
        }
        self.counts = dict.fromkeys(topics, 0)
        self._lock = threading.Lock()
        self._closed = False
        self.failure = ""  # why writing stopped ('' while it goes on)

    def write(self, topic: str, stamp_ns: int, data: bytes) -> bool:
        """Write one message; False once a write has failed (`failure` says why; nothing more is written)."""
        with self._lock:
            if self._closed or self.failure:
                return not self.failure
            try:
                self.writer.write(self.connections[topic], stamp_ns, data)
            except OSError as exc:
                self.failure = f"writing {self.path} failed after {sum(self.counts.values())} messages: {exc}"
                return False
            self.counts[topic] += 1
            return True

    def close(self) -> None:
        """Close the bag (mcap summary, metadata.yaml); a close that cannot write either goes into `failure`."""
        with self._lock:
            if not self._closed:
                self._closed = True
                try:
                    self.writer.close()
                except (OSError, WriterError) as exc:
                    self.failure = self.failure or f"closing {self.path} failed: {exc}"


class RecorderNode(Node):
    def __init__(self, node_name: str = "recorder", **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        output = declare(self, "output", "run_bag", "bag directory to write (mcap storage); must not exist")
        declare(self, "topics", list(BLIMP_TOPICS), "topics to record")
        declare(self, "types", list(BLIMP_TOPICS.values()), "ROS type of each topic, e.g. sensor_msgs/msg/Range")
        reliability = declare(self, "reliability", "best_effort", "subscription QoS: best_effort | reliable")
        # keep-last 1000 (a recorder never slows the loop down); ValueError (one line) on another reliability
        qos = messages.sensor_qos(reliability, depth=1000, name="reliability")
        self.quiet_s = declare(self, "drain_quiet_s", 0.5, "on stop: close once no message came for this long (s)",
                               low=0.0, high=3600.0)
        # (default 4 s: ros2 launch escalates SIGINT to SIGTERM after 5 s and to SIGKILL 5 s later, which would lose
        # the bag's summary and metadata.yaml; the project's launcher waits 60 s)
        self.drain_timeout_s = declare(self, "drain_timeout_s", 4.0, "on stop: close after this long at most (s)",
                                       low=0.0, high=3600.0)
        ready_topic = declare(self, "ready_topic", "", "announce here (latched) once every topic has a publisher")
        check_declared(self)  # a misspelt parameter: one line, before a bag is opened
        topics, types = list(value(self, "topics")), list(value(self, "types"))
        if len(topics) != len(types):
            raise ValueError("topics and types must have the same length")
        resolved: dict[str, str] = {}
        for topic, kind in zip(topics, types, strict=True):
            try:
                name = self.resolve_topic_name(topic)
            except Exception as exc:  # rcl's RCLError, over three lines
                raise ValueError(f"topics: {topic!r}: {one_line(exc)}") from None
            if name in resolved:  # (the later type replaced the earlier without a word)
                raise ValueError(f"topics: {name} is named twice")
            resolved[name] = kind
        # every name and type checked before the bag is opened: a refused start leaves no bag behind
        classes = {topic: _ros_type(kind) for topic, kind in resolved.items()}
        if ready_topic:
            try:
                ready_topic = self.resolve_topic_name(ready_topic)
            except Exception as exc:  # rcl's RCLError, over three lines
                raise ValueError(f"ready_topic {ready_topic!r}: {one_line(exc)}") from None
        self.last_message = time.monotonic()
        self._stop_requested: float | None = None
        self.done = threading.Event()  # set when a write failed: run_node stops the node
        self.exit_status = 0
        self.bag = BagRecorder(output, resolved)
        try:  # a start refused from here on removes the bag it opened (it did not exist: BagRecorder refuses that)
            self.subscriptions_by_topic = {
                topic: self.create_subscription(kind, topic, lambda data, t=topic: self._on_message(t, data), qos,
                                                raw=True)
                for topic, kind in classes.items()
            }
            if ready_topic:
                self._ready_pub = self.create_publisher(String, ready_topic, messages.setpoint_qos())
                self._ready_timer = self.create_timer(0.05, self._announce_when_matched,
                                                      clock=Clock(clock_type=ClockType.STEADY_TIME))
        except Exception:
            self.bag.close()
            shutil.rmtree(self.bag.path, ignore_errors=True)
            raise
        self.get_logger().info(f"recording {len(resolved)} topic(s) to {output}")
        fixed_at_start(self)

    def _announce_when_matched(self) -> None:
        """Once every recorded topic has a matched publisher: one latched message on `ready_topic` (a lockstep
        simulation waits for it, so that the bag starts with the run's first message on every topic)."""
        if all(sub.get_publisher_count() > 0 for sub in self.subscriptions_by_topic.values()):
            self._ready_pub.publish(String(data=" ".join(self.subscriptions_by_topic)))
            self.destroy_timer(self._ready_timer)
            self.get_logger().info("every topic has a publisher: ready")

    def _on_message(self, topic: str, data: bytes) -> None:
        self.last_message = time.monotonic()
        if not self.bag.write(topic, self.get_clock().now().nanoseconds, data) and not self.done.is_set():
            self.get_logger().error(f"{self.bag.failure}: recording stopped")
            self.exit_status = 1
            self.done.set()

    def before_shutdown(self) -> None:
        """Stop requested: drain (see `draining`), then close."""
        self._stop_requested = time.monotonic()

    def draining(self) -> bool:
        """True until `drain_quiet_s` passed without a message since the stop request (at most
        `drain_timeout_s`): `run_node` keeps spinning meanwhile. Closes the bag when it turns false."""
        now = time.monotonic()
        if self._stop_requested is None:
            return False
        quiet_since = max(self.last_message, self._stop_requested)
        writing = not self.bag.failure  # (after a failed write nothing more is written: close at once)
        if writing and now - quiet_since < self.quiet_s and now - self._stop_requested < self.drain_timeout_s:
            return True
        reported = self.bag.failure  # already said in its ERROR line
        self.bag.close()
        counts = ", ".join(f"{topic} {n}" for topic, n in self.bag.counts.items())
        if self.bag.failure and not reported:  # the close itself failed
            self.exit_status = 1
            self.get_logger().error(f"{self.bag.failure}: {counts}")
        else:
            self.get_logger().info(f"bag {self.bag.path} closed: {counts}")
        return False

    def destroy_node(self) -> None:
        if hasattr(self, "bag"):  # absent when the constructor refused the parameters
            self.bag.close()
        super().destroy_node()


def main(argv: list[str] | None = None) -> int:
    return run_node(lambda context: RecorderNode(context=context), argv, "mcap run recorder")


if __name__ == "__main__":
    raise SystemExit(main())
