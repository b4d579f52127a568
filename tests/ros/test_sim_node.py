"""The simulation node in real time: publishes Range, set-point, /clock and camera images, applies commands,
and holds the safe command when commands stop."""

from __future__ import annotations

import numpy as np
import rclpy
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, JointState, Range
from snncontrol_ros import messages
from snncontrol_ros.graph import overrides
from snncontrol_ros.sim_node import SimNode
from std_msgs.msg import Float64MultiArray


def test_realtime_blimp_publishes_sensors_clock_and_images_and_holds_the_safe_command(context, spinner):
    sim = spinner.add(SimNode(context=context, parameter_overrides=overrides({
        "mode": "realtime", "realtime_factor": 4.0, "publish_image": True, "image_every_n": 5,
        "image_width": 48, "image_height": 32, "command_timeout_s": 0.3, "safe_command": [0.0]})))
    probe = spinner.add(rclpy.create_node("probe", context=context))
    ranges, clocks, images = [], [], []
    probe.create_subscription(Range, "altitude", ranges.append, messages.sensor_qos())
    probe.create_subscription(Clock, "/clock", clocks.append, 10)
    probe.create_subscription(Image, "camera/image_raw", images.append, messages.sensor_qos())
    commands = probe.create_publisher(Float64MultiArray, "thrust_command", messages.command_qos())
    assert spinner.until(lambda: commands.get_subscription_count() > 0, 10.0)
    for _ in range(10):  # full thrust for a while
        commands.publish(Float64MultiArray(data=[3.3]))
        spinner.spin_for(0.05)
    assert sim.command.tolist() == [3.3]
    holds = sim.safe_holds
    spinner.spin_for(1.0)  # commands stopped: after command_timeout_s the sim holds zero thrust
    assert sim.safe_holds > holds
    assert spinner.until(lambda: len(images) > 0 and len(ranges) > 5, 10.0)
    image = images[-1]
    assert (image.width, image.height, image.encoding) == (48, 32, "rgb8") and len(image.data) == 48 * 32 * 3
    stamps = [c.clock.sec + c.clock.nanosec * 1e-9 for c in clocks]
    assert np.all(np.diff(stamps) > 0) and stamps[-1] > 0.5
    assert 0.0 <= ranges[-1].range <= ranges[-1].max_range and ranges[-1].header.frame_id == "rangefinder"


def test_swimmer_publishes_joint_states(context, spinner):
    sim = spinner.add(SimNode(context=context, parameter_overrides=overrides({
        "plant": "swimmer", "mode": "realtime", "realtime_factor": 4.0})))
    probe = spinner.add(rclpy.create_node("probe", context=context))
    states, heads = [], []
    probe.create_subscription(JointState, "joint_states", states.append, messages.sensor_qos())
    probe.create_subscription(Float64MultiArray, "head_velocity", heads.append, messages.sensor_qos())
    assert spinner.until(lambda: len(states) > 3 and len(heads) > 3, 10.0)
    n = sim.core.n_joints
    assert len(states[-1].position) == len(states[-1].velocity) == n and len(heads[-1].data) == 3
