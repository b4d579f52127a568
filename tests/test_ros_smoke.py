"""ROS 2 from the PyPI wheels works here: a real publisher/subscriber round trip over loopback DDS."""

from __future__ import annotations

import os
import time

import rclpy


def test_discovery_is_kept_on_localhost() -> None:
    assert os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"


def test_publisher_and_subscriber_exchange_messages(ros_domain_id: int) -> None:
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import Float64

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=ros_domain_id)
    try:
        node = rclpy.create_node("smoke", context=context)
        received: list[float] = []
        node.create_subscription(Float64, "smoke/value", lambda msg: received.append(msg.data), 10)
        publisher = node.create_publisher(Float64, "smoke/value", 10)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        deadline = time.monotonic() + 10.0
        sent = 0
        while len(received) < 5 and time.monotonic() < deadline:
            publisher.publish(Float64(data=float(sent)))
            sent += 1
            executor.spin_once(timeout_sec=0.05)
        assert len(received) >= 5
        assert received == sorted(received) and received[-1] <= sent - 1
        assert context.get_domain_id() == ros_domain_id
        executor.shutdown()
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
