"""Pass-through node: answers each sensor reading at once with a message that does no SNN work (the reading
itself, in m), of the same types and QoS as the controller node's in event mode. `benchmarks/ros_latency.py`
uses it to measure the transport's own floor, on the controller's topics. It is no controller: its default output
topic is `passthrough/echo`, which no actuator listens to (on `thrust_command` it drove a motor with metres, NaN
and inf included)."""

from __future__ import annotations

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import Range
from std_msgs.msg import Float64MultiArray

from snncontrol_ros import messages
from snncontrol_ros.runtime import check_declared, declare, fixed_at_start, run_node


class PassthroughNode(Node):
    def __init__(self, node_name: str = "passthrough", **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        sensor = declare(self, "input_topic", "altitude", "sensor_msgs/Range input")
        output = declare(self, "output_topic", "passthrough/echo", "std_msgs/Float64MultiArray output: the reading (m)")
        reliability = declare(self, "sensor_reliability", "best_effort", "input QoS: best_effort | reliable")
        depth = declare(self, "command_qos_depth", 1, "keep-last depth of the reliable command publisher")
        check_declared(self)
        self.publisher = self.create_publisher(Float64MultiArray, output, messages.command_qos(depth))
        self.command = messages.CommandMessage("float64_multi_array")  # reused, as the controller node does
        self.create_subscription(Range, sensor, self._on_range, messages.sensor_qos(reliability))
        fixed_at_start(self)

    def _on_range(self, msg: Range) -> None:
        self.publisher.publish(self.command.fill(np.array([msg.range]), echo_stamp=messages.stamp_ns(msg)))


def main(argv: list[str] | None = None) -> int:
    return run_node(lambda context: PassthroughNode(context=context), argv, "pass-through node (no SNN work)")


if __name__ == "__main__":
    raise SystemExit(main())
