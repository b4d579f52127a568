"""Run recording: a node that writes topics, as received (serialized CDR, no conversion), to a ROS 2 bag in
mcap storage via `rosbags`. The bag directory (metadata.yaml + <name>_0.mcap) opens in `ros2 bag play`; the
.mcap file opens in Foxglove.

Parameters: output (bag directory, must not exist), topics and types (ROS type names, e.g.
sensor_msgs/msg/Range), reliability of the subscriptions (best_effort matches every publisher; reliable, for a
graph whose publishers are all reliable such as the lockstep simulation, loses nothing while the recorder keeps
within 1,000 messages per topic: a recorder never slows the loop down), drain_quiet_s and drain_timeout_s, and
ready_topic: a latched std_msgs/String sent there once every recorded topic has a matched publisher (the
simulation's `start_after_topic` waits for it).

As `ros2 bag record` does, a topic is subscribed once its first publishers are discovered, with a QoS that
their offers meet: reliable and transient local (latched, e.g. the sim's /setpoint: the value published before
the recorder joined is recorded too) where every publisher offers both, else volatile with the `reliability`
above (a latched publisher that comes after a volatile one is not heard: its topic was subscribed volatile).
The bag's connection of each topic holds the QoS profiles its publishers offered (metadata.yaml's
offered_qos_profiles, what `ros2 bag play` publishes with), and is added when the topic is subscribed: a topic
that never had a publisher has no connection in the bag. Timestamps are receive times on the node clock (sim
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
from collections.abc import Sequence
from pathlib import Path

from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription import Subscription
from rosbags.interfaces import Connection, Qos, QosDurability, QosHistory, QosLiveliness, QosReliability, QosTime
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


def bag_qos(qos: QoSProfile) -> Qos:
    """An rclpy QoS profile (e.g. a publisher's offer) as rosbags writes it into metadata.yaml."""

    def duration(value) -> QosTime:  # (rclpy Duration; rmw's "infinite" stays 9223372036 s 854775807 ns)
        return QosTime(*divmod(value.nanoseconds, 1_000_000_000))

    return Qos(QosHistory[qos.history.name], qos.depth, QosReliability[qos.reliability.name],
               QosDurability[qos.durability.name], duration(qos.deadline), duration(qos.lifespan),
               QosLiveliness[qos.liveliness.name], duration(qos.liveliness_lease_duration),
               qos.avoid_ros_namespace_conventions)


def subscription_qos(offered: Sequence[QoSProfile], configured: QoSProfile) -> QoSProfile:
    """The QoS to record a topic with, from its publishers' `offered` profiles: reliable and transient local
    (latched: what a publisher sent before the recorder joined comes too) where every one offers both; else
    `configured` (volatile)."""
    if offered and all(q.durability == DurabilityPolicy.TRANSIENT_LOCAL and q.reliability == ReliabilityPolicy.RELIABLE
                       for q in offered):
        return QoSProfile(history=configured.history, depth=configured.depth, reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.TRANSIENT_LOCAL)
    return configured


class BagRecorder:
    """A rosbags mcap writer for serialized messages; thread-safe. Each topic's connection is added by `connect`
    (with its publishers' QoS) or by its first `write`."""

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
        self.types = dict(topics)
        self.connections: dict[str, Connection] = {}
        self.counts = dict.fromkeys(topics, 0)
        self._lock = threading.Lock()
        self._closed = False
        self.failure = ""  # why writing stopped ('' while it goes on)

    def connect(self, topic: str, offered: Sequence[QoSProfile] = ()) -> bool:
        """Add the connection of `topic` (one of the topics given) with the QoS profiles its publishers `offered`;
        once only (a later call keeps the first). False as `write` is (a failed write, here or before)."""
        with self._lock:
            if self._closed or self.failure:
                return not self.failure
            try:
                self._connect(topic, offered)
            except OSError as exc:
                self.failure = f"writing {self.path} failed after {sum(self.counts.values())} messages: {exc}"
                return False
            return True

    def _connect(self, topic: str, offered: Sequence[QoSProfile]) -> Connection:
        if topic not in self.connections:
            self.connections[topic] = self.writer.add_connection(
                topic, self.types[topic], typestore=self.typestore, offered_qos_profiles=[bag_qos(q) for q in offered])
        return self.connections[topic]

    def write(self, topic: str, stamp_ns: int, data: bytes) -> bool:
        """Write one message (`stamp_ns`: ns of the node clock); False once a write has failed (`failure` says why;
        nothing more is written)."""
        with self._lock:
            if self._closed or self.failure:
                return not self.failure
            try:
                self.writer.write(self._connect(topic, ()), stamp_ns, data)
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
        self._classes, self._qos = classes, qos
        self.subscriptions_by_topic: dict[str, Subscription] = {}  # each topic once its publishers are discovered
        self.bag = BagRecorder(output, resolved)
        try:  # a start refused from here on removes the bag it opened (it did not exist: BagRecorder refuses that)
            self._ready_pub = (self.create_publisher(String, ready_topic, messages.setpoint_qos())
                               if ready_topic else None)
            self._discovery_timer = self.create_timer(0.05, self._on_discovery,
                                                      clock=Clock(clock_type=ClockType.STEADY_TIME))
            self._on_discovery()  # (publishers already discovered: subscribed now)
        except Exception:
            self.bag.close()
            shutil.rmtree(self.bag.path, ignore_errors=True)
            raise
        self.get_logger().info(f"recording {len(resolved)} topic(s) to {output}")
        fixed_at_start(self)

    def _on_discovery(self) -> None:
        """Every 50 ms until each topic is subscribed (and, with a `ready_topic`, announced): subscribe the topics
        whose publishers are discovered now (QoS: `subscription_qos`; the bag's connection gets their offers); once
        every recorded topic has a matched publisher, one latched message on `ready_topic` (a simulation waits for
        it, so that the bag starts with the run's first message on every topic)."""
        for topic, kind in self._classes.items():
            if topic in self.subscriptions_by_topic:
                continue
            offered = [info.qos_profile for info in self.get_publishers_info_by_topic(topic)]
            if not offered:
                continue
            if not self.bag.connect(topic, offered):
                self._discovery_timer.cancel()
                self._stop_recording()
                return
            self.subscriptions_by_topic[topic] = self.create_subscription(
                kind, topic, lambda data, t=topic: self._on_message(t, data), subscription_qos(offered, self._qos),
                raw=True)
        if len(self.subscriptions_by_topic) < len(self._classes):
            return
        if self._ready_pub is not None:
            if not all(sub.get_publisher_count() > 0 for sub in self.subscriptions_by_topic.values()):
                return
            self._ready_pub.publish(String(data=" ".join(self._classes)))
            self.get_logger().info("every topic has a publisher: ready")
        self._discovery_timer.cancel()

    def _on_message(self, topic: str, data: bytes) -> None:
        self.last_message = time.monotonic()
        if not self.bag.write(topic, self.get_clock().now().nanoseconds, data):
            self._stop_recording()

    def _stop_recording(self) -> None:
        """A write failed (`bag.failure`): one ERROR line, exit status 1, and `run_node` stops the node."""
        if not self.done.is_set():
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
