"""The nodes as processes (`python -m snncontrol_ros.<node>`, as launch files start them): a node that cannot
start says why in one line and exits with status 2; the recorder, stopped with SIGINT while messages are still
in flight, writes every one of them before it closes the bag and exits with status 0, and it announces when it
hears every publisher it records."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import rclpy
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rosbags.highlevel import AnyReader
from snncontrol_ros import messages
from std_msgs.msg import Float64, String

MESSAGES = 300


def node(module: str, *params: str) -> list[str]:
    return [sys.executable, "-m", f"snncontrol_ros.{module}", "--ros-args", *(a for p in params for a in ("-p", p))]


@pytest.mark.parametrize(
    ("module", "params", "reason"),
    [
        ("sim_node", ["plant:=boat"], "plant must be one of"),
        ("controller_node", ["control_rate_hz:=-5.0"], "control_rate_hz out of range"),
        ("recorder", ["output:={existing}"], "exists already"),
    ],
)
def test_a_node_that_cannot_start_says_why_in_one_line(ros_domain_id, tmp_path: Path, module, params, reason):
    params = [p.format(existing=tmp_path) for p in params]
    done = subprocess.run(node(module, *params), env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot start" in lines[0] and reason in lines[0], done.stderr


def test_recorder_stopped_mid_burst_writes_every_message_and_closes_the_bag(ros_domain_id, context, spinner,
                                                                          tmp_path: Path):
    bag = tmp_path / "bag"
    recorder = subprocess.Popen(node("recorder", f"output:={bag}", "topics:=[/burst]", "types:=[std_msgs/msg/Float64]",
                                     "reliability:=reliable", "ready_topic:=/recorder/ready"), env=dict(os.environ),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        source = spinner.add(rclpy.create_node("source", context=context))
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=MESSAGES, reliability=ReliabilityPolicy.RELIABLE)
        pub = source.create_publisher(Float64, "/burst", qos)
        ready: list[String] = []
        source.create_subscription(String, "/recorder/ready", ready.append, messages.setpoint_qos())
        assert spinner.until(lambda: ready and pub.get_subscription_count() > 0, 30.0), "the recorder is not ready"
        assert ready[0].data == "/burst"  # it hears this publisher (its side of the match, as the sim waits for)
        for k in range(MESSAGES):
            pub.publish(Float64(data=float(k)))
        recorder.send_signal(signal.SIGINT)  # at once: most of the burst is still on its way
        spinner.spin_for(0.2)  # the publisher keeps answering the reliable protocol while the recorder drains
        output, _ = recorder.communicate(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
    assert recorder.returncode == 0, output
    assert f"/burst {MESSAGES}" in output  # the closing log line
    with AnyReader([bag]) as reader:
        values = [reader.deserialize(raw, conn.msgtype).data for conn, _, raw in reader.messages()]
    assert values == [float(k) for k in range(MESSAGES)]
