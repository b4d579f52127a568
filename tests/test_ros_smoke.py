"""ROS 2 from the PyPI wheels works here: a real publisher/subscriber round trip over loopback DDS."""

from __future__ import annotations

import os
import time

import rclpy


def test_a_runs_nodes_discover_on_this_host_only_whatever_the_environment_says(monkeypatch) -> None:
    """The launcher kept a caller's SUBNET (setdefault) and static peers: its simulated graph would have searched the
    network. (This suite's own processes run with LOCALHOST: tests/conftest.py and the Makefile set it.)"""
    from snncontrol_ros.launcher import run_environment

    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "SUBNET")
    monkeypatch.setenv("ROS_STATIC_PEERS", "192.168.1.7")
    env = run_environment(42)
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST" and "ROS_STATIC_PEERS" not in env
    assert env["ROS_DOMAIN_ID"] == "42" and os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SUBNET"
    monkeypatch.delenv("ROS_AUTOMATIC_DISCOVERY_RANGE")
    assert run_environment(None)["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"


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
