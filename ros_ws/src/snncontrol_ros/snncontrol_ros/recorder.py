"""Run recording: a node that writes topics, as received (serialized CDR, no conversion), to a ROS 2 bag in
mcap storage via `rosbags`. The bag directory (metadata.yaml + <name>_0.mcap) opens in `ros2 bag play`; the
.mcap file opens in Foxglove.

Parameters: output (bag directory, must not exist), topics and types (ROS type names, e.g.
sensor_msgs/msg/Range), reliability of the subscriptions (best_effort matches every publisher; reliable, for a
graph whose publishers are all reliable such as the lockstep simulation, loses nothing while the recorder keeps
within 1,000 messages per topic: a recorder never slows the loop down), drain_quiet_s and drain_timeout_s.
Timestamps are receive times on the node clock (sim time with use_sim_time).

Stopping (SIGINT/SIGTERM) does not drop what is still in flight: the node keeps receiving and writing until no
message came for `drain_quiet_s` (at most `drain_timeout_s`), then closes the bag (the mcap summary and
metadata.yaml are written on close) and exits with status 0.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosbags.rosbag2 import StoragePlugin, Writer, WriterError
from rosbags.typesys import Stores, get_typestore

from snncontrol_ros.runtime import declare, run_node, value

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
    package, kind, message = name.split("/")
    module = __import__(f"{package}.{kind}", fromlist=[message])
    return getattr(module, message)


class BagRecorder:
    """A rosbags mcap writer for serialized messages; thread-safe."""

    def __init__(self, path: str | Path, topics: dict[str, str]) -> None:
        self.path = Path(path)
        self.typestore = get_typestore(Stores.ROS2_KILTED if hasattr(Stores, "ROS2_KILTED") else Stores.LATEST)
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

    def write(self, topic: str, stamp_ns: int, data: bytes) -> None:
        with self._lock:
            if not self._closed:
                self.writer.write(self.connections[topic], stamp_ns, data)
                self.counts[topic] += 1

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self.writer.close()


class RecorderNode(Node):
    def __init__(self, node_name: str = "recorder", **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        output = declare(self, "output", "run_bag", "bag directory to write (mcap storage); must not exist")
        declare(self, "topics", list(BLIMP_TOPICS), "topics to record")
        declare(self, "types", list(BLIMP_TOPICS.values()), "ROS type of each topic, e.g. sensor_msgs/msg/Range")
        declare(self, "reliability", "best_effort", "subscription QoS: best_effort | reliable")
        self.quiet_s = declare(self, "drain_quiet_s", 0.5, "on stop: close once no message came for this long (s)")
        self.drain_timeout_s = declare(self, "drain_timeout_s", 10.0, "on stop: close after this long at most (s)")
        topics, types = list(value(self, "topics")), list(value(self, "types"))
        if len(topics) != len(types):
            raise ValueError("topics and types must have the same length")
        resolved = {self.resolve_topic_name(t): k for t, k in zip(topics, types, strict=True)}
        self.bag = BagRecorder(output, resolved)
        reliability = (ReliabilityPolicy.RELIABLE if value(self, "reliability") == "reliable"
                       else ReliabilityPolicy.BEST_EFFORT)
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1000, reliability=reliability,
                         durability=DurabilityPolicy.VOLATILE)
        for topic, kind in resolved.items():
            self.create_subscription(_ros_type(kind), topic, lambda data, t=topic: self._on_message(t, data), qos,
                                     raw=True)
        self.last_message = time.monotonic()
        self._stop_requested: float | None = None
        self.get_logger().info(f"recording {len(resolved)} topic(s) to {output}")

    def _on_message(self, topic: str, data: bytes) -> None:
        self.last_message = time.monotonic()
        self.bag.write(topic, self.get_clock().now().nanoseconds, data)

    def before_shutdown(self) -> None:
        """Stop requested: drain (see `draining`), then close."""
        self._stop_requested = time.monotonic()

    def draining(self) -> bool:
        """True while messages still arrive after the stop request (`run_node` keeps spinning); closes the bag
        when it turns false."""
        now = time.monotonic()
        if self._stop_requested is None:
            return False
        if now - self.last_message < self.quiet_s and now - self._stop_requested < self.drain_timeout_s:
            return True
        self.bag.close()
        counts = ", ".join(f"{topic} {n}" for topic, n in self.bag.counts.items())
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
