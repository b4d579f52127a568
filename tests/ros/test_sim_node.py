"""The simulation node in real time: publishes Range, set-point, /clock and camera images, applies commands,
and holds the safe command when commands stop."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import rclpy
from rclpy.parameter import Parameter
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


def test_lockstep_steps_once_per_reading_however_often_a_command_answers_it(context, spinner):
    """A controller that answers each reading twice (or late, after the next one) stepped the plant with the
    answer meant for the earlier reading: commands that echo a reading's stamp step it once; the others are
    held, counted as stale answers."""
    sim = spinner.add(SimNode(context=context, parameter_overrides=overrides({
        "mode": "lockstep", "startup_delay_s": 0.0, "lockstep_timeout_s": 30.0, "sensor_reliability": "reliable"})))
    probe = spinner.add(rclpy.create_node("probe", context=context))
    commands = probe.create_publisher(Float64MultiArray, "thrust_command", messages.command_qos(10))
    command = messages.CommandMessage("float64_multi_array")
    readings: list[Range] = []

    def answer_twice(msg: Range) -> None:
        readings.append(msg)
        for _ in range(2):
            commands.publish(command.fill(np.array([0.5]), echo_stamp=messages.stamp_ns(msg) or 0))

    probe.create_subscription(Range, "altitude", answer_twice, messages.sensor_qos("reliable"))
    assert spinner.until(lambda: len(readings) >= 20, 20.0)
    spinner.spin_for(0.2)
    stamps = [messages.stamp_ns(r) or 0 for r in readings]
    assert np.allclose(np.diff(stamps), sim.dt * 1e9)  # one reading per step: none skipped
    assert sim.k == len(readings) - 1 or sim.k == len(readings)  # (the last reading's answer may be in flight)
    assert sim.stale_answers >= len(readings) - 2 and sim.timeouts == 0


def test_the_sim_node_refuses_parameter_changes_it_would_not_apply(context, spinner):
    sim = spinner.add(SimNode(context=context, parameter_overrides=overrides({"mode": "realtime"})))
    for name, value in (("mode", "lockstep"), ("safe_command", [1.0]), ("use_sim_time", True)):
        result = sim.set_parameters([Parameter(name, value=value)])[0]
        assert not result.successful and "read at start; restart the node" in result.reason, name
    assert sim.p["mode"] == "realtime" and sim.safe.tolist() == [0.0]


def test_a_lockstep_sim_that_cannot_start_says_what_it_waits_for(context, spinner, monkeypatch, capfd):
    """Waiting for sensor subscribers and a command publisher that never come, it says so every WAIT_WARNING_S
    (not on its first poll, and the text is not built on every 5 ms poll in between)."""
    from snncontrol_ros import sim_node

    monkeypatch.setattr(sim_node, "WAIT_WARNING_S", 0.3)
    sim = spinner.add(SimNode(context=context, parameter_overrides=overrides({"mode": "lockstep"})))
    spinner.spin_for(0.1)
    assert "waiting to start" not in capfd.readouterr().err
    spinner.spin_for(0.8)
    warnings = [line for line in capfd.readouterr().err.splitlines() if "lockstep: waiting to start" in line]
    assert 2 <= len(warnings) <= 3, warnings
    assert "for 0 of 1 sensor subscribers, 0 of at least 1 command publishers on" in warnings[0]
    assert not sim.started


def test_the_sim_nodes_camera_renders_on_a_headless_machine_without_mujoco_gl():
    """`ros2 run` does not set MUJOCO_GL: the camera (publish_image) ended in MuJoCo's FatalError on a machine
    without a display; importing the package now sets MUJOCO_GL=egl there, before MuJoCo is imported."""
    env = {key: value for key, value in os.environ.items() if key not in ("MUJOCO_GL", "DISPLAY", "WAYLAND_DISPLAY")}
    code = ("import snncontrol_ros.sim_node, gymnasium as gym; env = gym.make('sim_envs/BlimpAltitude-v0', "
            "render_mode='rgb_array', width=32, height=24); env.reset(seed=0); print(env.render().shape)")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == "(24, 32, 3)", done.stderr[-500:]
