"""The controller node over real DDS (in-process executor, loopback): lifecycle transitions through the
lifecycle services, the safe command within one tick on bad or stale input (and on lost samples where
`missing_samples` is safe) and recovery, lost samples held by the network's sample hold until the timeout,
malformed messages of every input kind never killing the node, a frozen sensor (its last reading re-sent) and an
out-of-order reading taken as no new sample, a node clock that jumps back dropping the inputs received before, an
input of free size held to the size it starts with, saturation and throttled warnings, the observation adapter set
by parameters, diagnostics on /diagnostics with the documented keys, and a corrupt artifact failing configure
cleanly."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from lifecycle_msgs.msg import Transition
from lifecycle_msgs.srv import ChangeState, GetState
from rclpy.clock import ClockType
from rclpy.lifecycle import TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import Imu, JointState, Range
from snncontrol_ros import messages
from snncontrol_ros.control_core import ControlCore
from snncontrol_ros.controller_node import ControllerNode
from snncontrol_ros.diagnostics import DIAGNOSTIC_KEYS, ERROR
from snncontrol_ros.graph import overrides
from snncontrol_ros.runtime import value
from std_msgs.msg import Float64, Float64MultiArray

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.artifacts import load_controller, save_controller
from snncontrol.controllers import resolve
from snncontrol.policy import SNNPolicy


class Harness:
    """The test's side of the graph: a rangefinder, a set-point source and a command listener."""

    def __init__(self, context, spinner) -> None:
        self.node = spinner.add(rclpy.create_node("harness", context=context))
        self.range_pub = self.node.create_publisher(Range, "altitude", messages.sensor_qos("reliable"))
        self.setpoint_pub = self.node.create_publisher(Float64, "setpoint", messages.setpoint_qos())
        self.commands: list[tuple[float, int | None, float]] = []
        self.node.create_subscription(Float64MultiArray, "thrust_command", self._on_command, messages.command_qos(10))
        self.diagnostics: list[DiagnosticArray] = []
        self.node.create_subscription(DiagnosticArray, "/diagnostics", self.diagnostics.append, 10)
        self.stamp = 0

    def _on_command(self, msg: Float64MultiArray) -> None:
        self.commands.append((msg.data[0], messages.echoed_stamp(msg), time.monotonic()))

    def reading(self, value: float) -> int:
        """Publish a reading with a fresh stamp; returns the stamp (ns)."""
        self.stamp += 10_000_000
        return self.publish(value, self.stamp)

    def publish(self, value: float, stamp: int) -> int:
        """Publish a reading stamped `stamp` (ns); returns the stamp."""
        msg = Range(range=float(value), min_range=0.0, max_range=12.0)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        self.range_pub.publish(msg)
        return stamp

    def answer(self, spinner, stamp: int, timeout: float = 5.0) -> float:
        """The first command that echoes reading `stamp`."""
        found: list[float] = []

        def done() -> bool:
            found[:] = [c[0] for c in self.commands if c[1] == stamp]
            return bool(found)

        assert spinner.until(done, timeout), f"no command answered reading {stamp}"
        return found[0]

    def call(self, spinner, srv_type, name: str, request):
        client = self.node.create_client(srv_type, name)
        assert spinner.until(client.service_is_ready, 10.0), f"service {name} not available"
        future = client.call_async(request)
        assert spinner.until(future.done, 10.0), f"no answer from {name}"
        self.node.destroy_client(client)
        return future.result()


def controller(context, spinner, node_name: str = "snn_controller", **params) -> ControllerNode:
    base = {"control_mode": "event", "echo_stamp": True, "sensor_reliability": "reliable",
            "observation_min": [0.0, 0.0], "observation_max": [5.0, 5.0], "input_timeout_s": 0.3}
    return spinner.add(ControllerNode(node_name, context=context, parameter_overrides=overrides({**base, **params})))


def sim_clock(harness: Harness):
    """A /clock publisher of the harness: sim_time(t) publishes t (s)."""
    reliable = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    clock = harness.node.create_publisher(ClockMsg, "/clock", reliable)

    def sim_time(t: float) -> None:
        msg = ClockMsg()
        msg.clock.sec, msg.clock.nanosec = divmod(round(t * 1e9), 1_000_000_000)
        clock.publish(msg)

    return sim_time


def connect(spinner, harness: Harness, node: ControllerNode) -> None:
    assert spinner.until(lambda: harness.range_pub.get_subscription_count() > 0
                         and harness.node.count_publishers("/thrust_command") > 0, 10.0)
    harness.setpoint_pub.publish(Float64(data=1.0))
    assert spinner.until(lambda: node._inputs.setpoint == 1.0, 10.0)


def test_lifecycle_transitions_through_the_services(context, spinner, blimp_artifact):
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=blimp_artifact)

    def change(transition_id: int) -> bool:
        request = ChangeState.Request()
        request.transition.id = transition_id
        return harness.call(spinner, ChangeState, "/snn_controller/change_state", request).success

    def state() -> str:
        return harness.call(spinner, GetState, "/snn_controller/get_state", GetState.Request()).current_state.label

    assert state() == "unconfigured"
    assert change(Transition.TRANSITION_CONFIGURE) and state() == "inactive"
    connect(spinner, harness, node)
    stamp = harness.reading(0.5)
    spinner.spin_for(0.3)
    assert not [c for c in harness.commands if c[1] == stamp], "an inactive controller must not command"
    assert change(Transition.TRANSITION_ACTIVATE) and state() == "active"
    assert harness.answer(spinner, harness.reading(0.5)) > 0.0  # below the 1 m set-point: thrust up
    count = len(harness.commands)
    assert change(Transition.TRANSITION_DEACTIVATE) and state() == "inactive"
    assert spinner.until(lambda: len(harness.commands) > count, 5.0)
    assert harness.commands[-1][0] == 0.0 and harness.commands[-1][1] is None  # the safe command
    assert change(Transition.TRANSITION_CLEANUP) and state() == "unconfigured"
    assert change(Transition.TRANSITION_CONFIGURE) and change(Transition.TRANSITION_ACTIVATE)
    assert change(Transition.TRANSITION_ACTIVE_SHUTDOWN) and state() == "finalized"


@pytest.mark.parametrize("mode", ["event", "timer"])
def test_bad_input_gives_the_safe_command_within_one_tick_and_recovers(context, spinner, blimp_artifact, mode):
    """With missing_samples safe, a lost sample (NaN, +-inf, at/over max_range) is refused like bad input."""
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=blimp_artifact, control_mode=mode, control_rate_hz=20.0,
                      autostart=True, missing_samples=["safe"])
    connect(spinner, harness, node)
    assert harness.answer(spinner, harness.reading(0.5)) > 0.0
    for bad in (float("nan"), float("inf"), float("-inf"), 20.0, 6.0):  # 20: beyond max_range, 6: above 5 m
        assert harness.answer(spinner, harness.reading(bad)) == 0.0, f"reading {bad} must give the safe command"
        assert harness.answer(spinner, harness.reading(0.5)) > 0.0, f"no recovery after reading {bad}"
    # refused as bad input, not only once it went stale (whose safe command echoes the bad reading's stamp too)
    assert node.core.counters.invalid >= 5 and node.core.counters.stale == 0
    # stale: the rangefinder stops; the safe command follows within the timeout plus one tick
    last = harness.reading(0.5)
    harness.answer(spinner, last)
    stopped = time.monotonic()
    assert spinner.until(lambda: any(c[0] == 0.0 and c[2] > stopped for c in harness.commands), 3.0)
    first_safe = next(c[2] for c in harness.commands if c[0] == 0.0 and c[2] > stopped)
    period = 0.05 if mode == "timer" else 0.03  # timer tick, or the event mode's watchdog (timeout / 10)
    assert first_safe - stopped <= 0.3 + period + 0.15
    if mode == "event":  # it looked every timeout / 2: the safe command came up to 1.5 timeouts late
        assert node._watchdog.timer_period_ns <= 0.3e9 / 10
    assert node.core.counters.stale >= 1
    assert harness.answer(spinner, harness.reading(0.5)) > 0.0  # good data again: control resumes


@pytest.mark.parametrize("mode", ["event", "timer"])
def test_a_reading_re_sent_with_its_stamp_goes_stale_as_a_silent_sensor_does(context, spinner, blimp_artifact,
                                                                                mode, capfd):
    """A hung driver that keeps re-sending its last reading (the same header stamp) is no fresh input: the safe
    command follows within the timeout, as when the sensor stops. A reading a little older than the latest one
    (out of order) is no new sample either; a new stamp resumes control, and so do stamps that went back by more
    than the timeout (a source that restarted its clock)."""
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=blimp_artifact, control_mode=mode, control_rate_hz=20.0,
                      autostart=True)
    connect(spinner, harness, node)
    stamp = harness.reading(0.5)
    assert harness.answer(spinner, stamp) > 0.0
    frozen = time.monotonic()
    while time.monotonic() - frozen < 1.0:  # the same reading every 20 ms
        harness.publish(0.5, stamp)
        spinner.spin_for(0.02)
    safe = [c[2] for c in harness.commands if c[0] == 0.0 and c[2] > frozen]
    assert safe and safe[0] - frozen <= 0.3 + 0.15 + 0.3, "a frozen sensor must give the safe command"
    assert node.core.counters.stale >= 1
    assert f"/altitude: a reading stamped {stamp * 1e-9:.3f} s, not newer than the latest" in capfd.readouterr().err
    latest = harness.reading(0.5)
    assert harness.answer(spinner, latest) > 0.0
    harness.publish(6.0, latest - 5_000_000)  # older than the latest, and above observation_max: not taken
    spinner.spin_for(0.2)
    assert node._inputs.latest[0].stamp_ns == latest and node.core.counters.invalid == 0
    # stamps that go back by more than the timeout: a source that restarted its clock, taken once three readings
    # in a row have come on the new time base over input_timeout_s (0.3 s here)
    harness.stamp = latest - 10_000_000_000
    first = harness.reading(0.5)
    spinner.spin_for(0.05)
    assert node._inputs.latest[0].stamp_ns == latest and "not taken until 3 in a row" in capfd.readouterr().err
    for _ in range(4):
        harness.reading(0.5)
        spinner.spin_for(0.1)  # (the sensor QoS keeps the last reading only)
    assert harness.answer(spinner, harness.reading(0.5)) > 0.0
    assert "(a source that restarted)" in capfd.readouterr().err
    assert not [c for c in harness.commands if c[1] == first]


def test_a_clock_that_jumps_back_drops_the_inputs_received_before(context, spinner, blimp_artifact, capfd):
    """Sim time (use_sim_time) that jumps back (a simulator reset, a bag played in a loop) would make every input
    received before look younger than it is: they are dropped, the safe command follows while none is fresh,
    and a new reading resumes control."""
    harness = Harness(context, spinner)
    sim_time = sim_clock(harness)

    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, use_sim_time=True)
    connect(spinner, harness, node)
    assert spinner.until(lambda: sim_time(100.0) or node.get_clock().now().nanoseconds == 100e9, 5.0)
    assert harness.answer(spinner, harness.reading(0.5)) > 0.0
    jumped = time.monotonic()
    for step in range(50):  # the clock runs on from 1 s, the rangefinder is silent
        sim_time(1.0 + 0.02 * step)
        spinner.spin_for(0.02)
    assert any(c[0] == 0.0 and c[2] > jumped for c in harness.commands), "no safe command after the jump"
    assert node.core.counters.missing >= 1
    assert "the node clock jumped back by 9" in capfd.readouterr().err  # 98.x or 99 s
    assert harness.answer(spinner, harness.reading(0.5)) > 0.0


def test_an_input_of_free_size_keeps_the_size_of_its_first_message(context, spinner, blimp_artifact):
    """Two generic inputs (the reading, the set-point) whose sizes neither their type nor the adapter fix: after
    the first good tick, a message that changes its input's size (a joint-state publisher that lost a joint)
    would shift every value after it; it is bad input, named."""
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, input_topics=["reading", "target"],
                      input_types=["float64_multi_array"] * 2, setpoint_topic="")
    source = spinner.add(rclpy.create_node("source", context=context))
    reading, target = (source.create_publisher(Float64MultiArray, topic, messages.sensor_qos("reliable"))
                       for topic in ("reading", "target"))
    commands: list[float] = []
    source.create_subscription(Float64MultiArray, "thrust_command", lambda m: commands.append(m.data[0]),
                               messages.command_qos(10))
    assert spinner.until(lambda: reading.get_subscription_count() > 0 and target.get_subscription_count() > 0
                         and source.count_publishers("/thrust_command"))
    target.publish(Float64MultiArray(data=[1.0]))
    assert spinner.until(lambda: node._inputs.latest[1] is not None, 5.0)

    def answer(values: list[float]) -> float:
        count = len(commands)
        reading.publish(Float64MultiArray(data=values))
        assert spinner.until(lambda: len(commands) > count, 5.0)
        return commands[-1]

    assert answer([0.5]) > 0.0
    assert answer([0.5, 0.7]) == 0.0 and "/reading: 2 value(s), expected 1" in node.core.counters.reason
    assert answer([0.5]) > 0.0


def test_diagnostics_carry_the_documented_keys(context, spinner, blimp_artifact):
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, diagnostics_period_s=0.2,
                      hardware_id="blimp")
    connect(spinner, harness, node)
    for _ in range(10):
        harness.answer(spinner, harness.reading(0.8))
    assert spinner.until(lambda: any(s.values and dict((v.key, v.value) for v in s.values).get("ticks", "0") != "0"
                                     for d in harness.diagnostics for s in d.status), 5.0)
    status = [s for d in harness.diagnostics for s in d.status][-1]
    values = {v.key: v.value for v in status.values}
    assert set(values) == set(DIAGNOSTIC_KEYS)
    assert status.name == "snn_controller: snn controller" and status.hardware_id == "blimp"
    assert values["lifecycle_state"] == "active" and values["control_mode"] == "event"
    assert int(values["ticks"]) >= 10 and float(values["latency_p50_ms"]) > 0
    for key in ("latency_p99_ms", "latency_max_ms", "spike_rate_hz", "sops_per_s", "snn_energy_per_s_j"):
        assert np.isfinite(float(values[key])), key
    harness.diagnostics.clear()
    harness.answer(spinner, harness.reading(6.0))  # above observation_max
    assert spinner.until(lambda: any(s.level == b"\x02" for d in harness.diagnostics for s in d.status), 3.0)


def test_readings_far_faster_than_the_networks_step_are_a_warning_and_a_shut_down_node_says_finalized(
        context, spinner, blimp_artifact):
    """Event mode steps the network on each reading: at 100 Hz a network made for 0.1 s steps ran its integrator 10x
    as fast (a command of 1.86 where 10 Hz gave 1.21) and /diagnostics said OK; after the shutdown transition it
    said "unconfigured"."""
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, diagnostics_period_s=0.2)
    connect(spinner, harness, node)
    harness.diagnostics.clear()
    start = time.monotonic()
    while time.monotonic() - start < 0.8:
        harness.answer(spinner, harness.reading(0.8))
        spinner.spin_for(0.01)

    def statuses() -> list:
        return [s for d in harness.diagnostics for s in d.status]

    assert spinner.until(lambda: any("where the network's dt gives 10 Hz" in s.message for s in statuses()), 3.0)
    assert all(s.level != b"\x02" for s in statuses())  # a warning, not an error
    node.trigger_deactivate()
    node.trigger_shutdown()
    harness.diagnostics.clear()
    assert spinner.until(lambda: bool(statuses()), 3.0)
    status = statuses()[-1]
    assert {v.key: v.value for v in status.values}["lifecycle_state"] == "finalized"
    assert status.level == b"\x01" and status.message == "finalized (shut down: not controlling)"


def test_a_stamp_tolerance_keeps_readings_stamped_far_from_the_node_clock_out(context, spinner, blimp_artifact):
    """stamp_tolerance_s (clocks synchronized): a reading stamped 30 s ago is not taken, one stamped now is."""
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, stamp_tolerance_s=1.0)
    connect(spinner, harness, node)
    now = time.time_ns()
    old = harness.publish(0.5, now - 30_000_000_000)
    fresh = harness.publish(0.5, time.time_ns())
    assert harness.answer(spinner, fresh) != 0.0
    assert not any(stamp == old for _, stamp, _ in harness.commands)
    assert node._inputs.latest[0].stamp_ns == fresh


def test_on_sim_time_event_ticks_are_counted_per_simulated_second(context, spinner, blimp_artifact):
    """A lockstep simulator answers as fast as it can: each reading is one dt of sim time, however fast the wall
    clock runs, so the network steps at its own rate and /diagnostics must not warn (it counted wall seconds)."""
    harness = Harness(context, spinner)
    sim_time = sim_clock(harness)

    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, use_sim_time=True,
                      diagnostics_period_s=0.2)
    connect(spinner, harness, node)
    t = 100.0
    assert spinner.until(lambda: sim_time(t) or node.get_clock().now().nanoseconds == t * 1e9, 5.0)
    harness.diagnostics.clear()
    start = time.monotonic()
    while time.monotonic() - start < 0.8:  # ~100 readings a second of wall time, one per 0.1 s of sim time
        t += 0.1
        sim_time(t)
        assert spinner.until(lambda t=t: node.get_clock().now().nanoseconds >= round(t * 1e9), 5.0)
        harness.answer(spinner, harness.publish(0.8, round(t * 1e9)))
    spinner.spin_for(0.3)
    statuses = [s for d in harness.diagnostics for s in d.status]
    assert statuses and not any("where the network's dt gives" in s.message for s in statuses), statuses[-1].message


def test_corrupt_artifact_fails_configure_and_the_node_stays_alive(context, spinner, blimp_artifact, tmp_path,
                                                                 capfd):
    broken = tmp_path / "broken"
    shutil.copytree(blimp_artifact, broken)
    params = broken / "params.safetensors"
    params.write_bytes(params.read_bytes()[:-8])
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=str(broken))
    request = ChangeState.Request()
    request.transition.id = Transition.TRANSITION_CONFIGURE
    assert not harness.call(spinner, ChangeState, "/snn_controller/change_state", request).success
    err = capfd.readouterr().err
    assert "configure failed: artifact" in err and "does not match the hash" in err
    state = harness.call(spinner, GetState, "/snn_controller/get_state", GetState.Request()).current_state.label
    assert state == "unconfigured" and node.core is None
    node.set_parameters(overrides({"artifact": blimp_artifact}))
    assert harness.call(spinner, ChangeState, "/snn_controller/change_state", request).success


def test_commands_are_saturated_and_bad_input_warnings_throttled(context, spinner, blimp_artifact, capfd):
    harness = Harness(context, spinner)
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, output_min=[-0.2],
                      output_max=[0.2], warn_throttle_s=60.0)
    connect(spinner, harness, node)
    answers = [harness.answer(spinner, harness.reading(0.05)) for _ in range(30)]  # 0.95 m below the set-point
    assert max(answers) == 0.2 and min(answers) >= -0.2, "commands are clipped to [output_min, output_max]"
    assert node.core.counters.saturated == answers.count(0.2) + answers.count(-0.2)
    for _ in range(5):
        assert harness.answer(spinner, harness.reading(6.0)) == 0.0
    warnings = [line for line in capfd.readouterr().err.splitlines() if "safe command [0.0]" in line]
    assert len(warnings) == 1  # one line per warn_throttle_s, not per tick
    assert "/altitude = 6 is outside [0, 5]" in warnings[0]  # the topic, not an index


@pytest.mark.parametrize("mode", ["timer", "event"])
def test_timers_run_on_the_steady_clock_and_parameters_cannot_change_under_a_configured_node(
        context, spinner, blimp_artifact, mode):
    """On the system clock a step back (NTP) delayed the ROS-clock timers by as much (full thrust held for 30 s);
    `ros2 param set use_sim_time true` froze them on a sim clock nothing publishes; a lowered output_max was
    reported as set and ignored. The timers run on the steady clock; a change while configured is refused."""
    node = controller(context, spinner, artifact=blimp_artifact, control_mode=mode, autostart=True)
    timer = node._timer if mode == "timer" else node._watchdog
    assert timer is not None and timer.clock.clock_type == ClockType.STEADY_TIME
    for name, new in (("use_sim_time", True), ("output_max", [0.5]), ("safe_command", [9.0])):
        result = node.set_parameters([Parameter(name, value=new)])[0]
        assert not result.successful and "read at configure" in result.reason, name
    assert node.get_parameter("use_sim_time").value is False and not node._time_source.ros_time_is_active
    assert value(node, "output_max") == [] and node._safety.output_high.tolist() == [3.3]
    node.trigger_deactivate()
    node.trigger_cleanup()
    assert node.set_parameters([Parameter("output_max", value=[0.5])])[0].successful
    assert not node.set_parameters([Parameter("diagnostics_period_s", value=5.0)])[0].successful


def test_a_transition_that_fails_leaves_the_node_unconfigured_and_settable(context, spinner, blimp_artifact,
                                                                            monkeypatch):
    """on_error went to unconfigured with the controller still loaded: every parameter change was refused with a
    remedy (clean up) that is no transition from there."""
    node = controller(context, spinner, artifact=blimp_artifact)
    node.trigger_configure()
    monkeypatch.setattr(node._core, "reset", lambda: (_ for _ in ()).throw(RuntimeError("board not answering")))
    node.trigger_activate()
    assert node.core is None and not node.active and node._state_machine.current_state[1] == "unconfigured"
    assert node.set_parameters([Parameter("output_max", value=[0.5])])[0].successful
    monkeypatch.undo()
    assert node.trigger_configure() == TransitionCallbackReturn.SUCCESS


def test_diagnostics_say_error_when_an_active_node_does_not_tick(context, spinner, blimp_artifact):
    """use_sim_time without /clock: no tick, the actuator holds its last command; this was 'controlling' (OK)."""
    node = controller(context, spinner, artifact=blimp_artifact, control_mode="timer", control_rate_hz=20.0,
                      use_sim_time=True, autostart=True)
    spinner.spin_for(0.5)
    assert node.core.ticks == 0
    level, message, _ = node.diagnostics()
    assert level == ERROR and "no control tick for" in message


@pytest.mark.parametrize("inputs", [["obs"], ["altitude", "setpoint"]])
def test_a_set_point_inside_an_input_is_held_to_the_adapters_valid_range_as_one_on_the_set_point_topic(
        context, spinner, blimp_artifact, inputs):
    """[altitude, set-point] in one generic input, or in two (two inputs of free size: the observation's size is
    known only at the first reading, and the bound was not applied at all), no bounds given: a set-point of 1e6 m
    (the blimp cannot read beyond 12 m) gives the safe command, as it does on the set-point topic, instead of full
    thrust, on the compiled tick and the numpy one alike."""
    params = {"artifact": blimp_artifact, "input_topics": inputs, "input_types": ["float64_multi_array"] * len(inputs),
              "setpoint_topic": ""}  # (no observation_min / observation_max)
    node = spinner.add(ControllerNode(context=context, parameter_overrides=overrides(params)))
    node.trigger_configure()
    for compiled in (True, False):
        core = node.core if compiled else ControlCore(node.core.controller, node.core.safety, compiled=False)
        assert core.tick(np.array([0.5, 1.0]), [0.01] * len(inputs)).verdict.ok
        result = core.tick(np.array([0.5, 1e6]), [0.01] * len(inputs))
        assert result.verdict.status == "invalid" and "1e+06 is outside [0, 12]" in result.verdict.reason
        assert result.command.tolist() == [0.0]
        top = core.tick(np.array([0.5, 12.0]), [0.01] * len(inputs))  # read as a lost return: unreachable
        assert top.verdict.status == "invalid" and top.command.tolist() == [0.0]


@pytest.mark.parametrize("kind", ["float64_multi_array", "joint_state"])
def test_malformed_messages_of_any_input_kind_give_the_safe_command_and_the_node_lives_on(context, spinner,
                                                                                          blimp_artifact, kind):
    """The blimp artifact fed [altitude, set-point] through one generic input (no set-point topic); the joint
    states are unstamped (zero stamps), as from a driver that does not stamp: each one is a new reading."""
    msg_type = {"float64_multi_array": Float64MultiArray, "joint_state": JointState}[kind]
    names = {"joint_names": ["a"]} if kind == "joint_state" else {}
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, input_topics=["obs"],
                      input_types=[kind], setpoint_topic="", **names)
    source = spinner.add(rclpy.create_node("source", context=context))
    pub = source.create_publisher(msg_type, "obs", messages.sensor_qos("reliable"))
    commands: list[float] = []
    source.create_subscription(Float64MultiArray, "thrust_command", lambda m: commands.append(m.data[0]),
                               messages.command_qos(10))
    assert spinner.until(lambda: pub.get_subscription_count() > 0 and source.count_publishers("/thrust_command"))

    def answer(msg) -> float:
        count = len(commands)
        pub.publish(msg)
        assert spinner.until(lambda: len(commands) > count, 5.0), "no command: the node must answer every message"
        return commands[-1]

    if kind == "float64_multi_array":
        good = Float64MultiArray(data=[0.5, 1.0])
        bad = [Float64MultiArray(data=[0.5]), Float64MultiArray(data=[]), Float64MultiArray(data=[0.5, 1.0, 7.0]),
               Float64MultiArray(data=[0.5, 9.0])]
    else:
        good = JointState(name=["a"], position=[0.5], velocity=[1.0])
        bad = [JointState(name=["a"], position=[0.5, 0.6], velocity=[1.0]), JointState(name=["b"], position=[0.5],
               velocity=[1.0]), JointState(name=["a"], position=[9.0], velocity=[1.0])]
    answer(good)
    for msg in bad:
        assert answer(msg) == 0.0 and node.core.counters.holding_safe, f"{msg} must give the safe command"
        steps = node.core.snn_steps
        answer(good)
        assert not node.core.counters.holding_safe and node.core.snn_steps == steps + 1, f"no recovery after {msg}"
    assert node.core.counters.invalid == len(bad)


def test_observation_adapter_parameters_replace_the_artifacts(context, spinner, blimp_artifact, capfd):
    harness = Harness(context, spinner)
    adapter = {"observation_adapter.kind": "setpoint_error", "observation_adapter.scale": [-0.5],
               "observation_adapter.measurement": 0, "observation_adapter.setpoint": 1,
               "observation_adapter.valid": [0.0, 4.0]}
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, **adapter)
    connect(spinner, harness, node)
    expected = ObservationAdapter("setpoint_error", scale=(-0.5,), measurement=0, setpoint=1, valid=(0.0, 4.0))
    assert node.core.controller.io.observation == expected
    reference = load_controller(blimp_artifact)
    reference.io = IOAdapters(expected, reference.io.action)
    policy = SNNPolicy.of(reference)
    for altitude in (0.5, 0.8, 1.3):
        assert harness.answer(spinner, harness.reading(altitude)) == policy.act(np.array([[altitude, 1.0]]))[0, 0]

    request = ChangeState.Request()
    request.transition.id = Transition.TRANSITION_CONFIGURE
    for kind, rates, reason in (("select", [], "do not fit an observation of 2"), ("polar", [], "must be one of"),
                                ("select", [0, 1], "one rate index per selected channel")):
        ahead = {"observation_adapter.rates": rates, "observation_adapter.lead": 0.5} if rates else {}
        broken = controller(context, spinner, "other", artifact=blimp_artifact,
                            **{"observation_adapter.kind": kind, "observation_adapter.indices": [7], **ahead})
        assert not harness.call(spinner, ChangeState, "/other/change_state", request).success
        assert reason in capfd.readouterr().err and broken.core is None
        spinner.nodes.remove(broken)
        spinner.executor.remove_node(broken)
        broken.destroy_node()
    # a proprioceptor read ahead: value + lead x rate (here the range plus 0.25 x the set-point, as plumbing)
    ahead = controller(context, spinner, "ahead", artifact=blimp_artifact, autostart=True,
                       **{"observation_adapter.kind": "select", "observation_adapter.indices": [0],
                          "observation_adapter.rates": [1], "observation_adapter.lead": 0.25})
    assert ahead.core.controller.io.observation == ObservationAdapter("select", indices=(0,), rates=(1,), lead=0.25)


def _generic_source(context, spinner, node: ControllerNode, topics: list[str], message: type):
    """Publishers of `message` on `topics` (reliable) and the node's commands, all connected."""
    source = spinner.add(rclpy.create_node("source", context=context))
    publishers = [source.create_publisher(message, topic, messages.sensor_qos("reliable")) for topic in topics]
    commands: list[list[float]] = []
    source.create_subscription(Float64MultiArray, "thrust_command", lambda m: commands.append(list(m.data)),
                               messages.command_qos(10))
    assert spinner.until(lambda: all(p.get_subscription_count() > 0 for p in publishers)
                         and source.count_publishers("/thrust_command") > 0 and node.core is not None, 10.0)
    return publishers, commands


def test_a_value_outside_the_adapters_valid_range_on_an_input_of_free_size_is_a_lost_sample_that_times_out(
        context, spinner, blimp_artifact):
    """A generic input, whose size nothing fixes, read by a select adapter valid in [0, 12): a value beyond it is a
    lost sample, and once input_timeout_s has passed without a valid one, the safe command. (The node took any
    finite value of such an input for good, and the network held its last valid one for ever: full thrust on data
    the adapter refused.)"""
    node = controller(context, spinner, artifact=blimp_artifact, autostart=True, input_topics=["reading"],
                      input_types=["float64_multi_array"], setpoint_topic="", observation_min=[-100.0],
                      observation_max=[100.0], **{"observation_adapter.kind": "select",
                                                  "observation_adapter.indices": [0],
                                                  "observation_adapter.valid": [0.0, 12.0]})
    (reading,), commands = _generic_source(context, spinner, node, ["reading"], Float64MultiArray)

    def answer(value: float) -> list[float]:
        count = len(commands)
        reading.publish(Float64MultiArray(data=[value]))
        assert spinner.until(lambda: len(commands) > count, 5.0)
        return commands[-1]

    assert answer(1.0)[0] > 0.0
    start = time.monotonic()
    while time.monotonic() - start < 0.6:  # twice the timeout of lost samples
        answer(50.0)
    assert commands[-1] == [0.0] and "no valid sample" in node.core.counters.reason
    assert node.core.counters.missing_samples > 0  # counted as lost samples (the held ones: tests/ros/test_inputs.py)
    assert answer(1.0)[0] > 0.0


def test_nan_in_an_element_the_adapter_does_not_read_does_not_stop_control(context, spinner):
    """A joint-state broadcaster sends NaN velocities for position-only joints; the swimmer NCAP reads the
    positions only, so it swims (the node sent the safe command for good, saying the input had not arrived)."""
    node = controller(context, spinner, artifact="shipped:swimmer_ncap", autostart=True,
                      input_topics=["joint_states"], input_types=["joint_state"], setpoint_topic="",
                      observation_min=[-100.0], observation_max=[100.0])
    (joints,), commands = _generic_source(context, spinner, node, ["joint_states"], JointState)
    names = [f"joint_{k}" for k in range(5)]
    for _ in range(20):
        count = len(commands)
        joints.publish(JointState(name=names, position=[0.1] * 5, velocity=[float("nan")] * 5))
        assert spinner.until(lambda count=count: len(commands) > count, 5.0)
    assert node.core.counters.reason == "" and node.core.counters.missing_samples == 0
    assert any(abs(c) > 0.0 for c in commands[-1])


def test_joint_states_are_read_by_name_and_a_position_only_state_controls(context, spinner):
    """Without joint_names the values were read by place: the same state listed in another order (legal) gave
    another command, and two publishers on one topic swapped joints on every message; a JointState without
    velocities (valid: position-only) gave the safe command for good, though the NCAP reads positions only."""
    node = controller(context, spinner, artifact="shipped:swimmer_ncap", autostart=True,
                      input_topics=["joint_states"], input_types=["joint_state"], setpoint_topic="",
                      observation_min=[-100.0], observation_max=[100.0])
    (joints,), commands = _generic_source(context, spinner, node, ["joint_states"], JointState)
    names, positions = [f"joint_{k}" for k in range(5)], [0.3, -0.2, 0.1, 0.0, -0.4]
    reference = SNNPolicy.of(load_controller(resolve("shipped:swimmer_ncap")))

    def answer(msg: JointState) -> list[float]:
        count = len(commands)
        joints.publish(msg)
        assert spinner.until(lambda: len(commands) > count, 5.0)
        return commands[-1]

    observation = np.array([positions + [0.0] * 5])
    for k in range(6):  # the first in joint order, then alternately reversed, or without velocities
        msg = JointState(name=names, position=positions, velocity=[0.0] * 5)
        if k % 2:
            msg = JointState(name=names[::-1], position=positions[::-1], velocity=[0.0] * 5)
        if k == 4:
            msg = JointState(name=names, position=positions)  # position-only
        expected = reference.act(observation)[0]
        assert answer(msg) == pytest.approx(expected.tolist(), abs=1e-6), f"message {k}"
    assert node.core.counters.safe_commands == 0 and node.core.counters.reason == ""
    assert answer(JointState(name=["other"] * 5, position=positions, velocity=[0.0] * 5)) == [0.0] * 5
    assert "lacks joint(s)" in node.core.counters.reason


def test_an_imu_field_marked_not_provided_is_a_lost_sample():
    """A covariance starting with -1 is sensor_msgs/Imu's "not provided": its zeros were read as measurements."""
    msg = Imu()
    msg.angular_velocity.x, msg.linear_acceleration.z = 0.5, 9.8
    assert messages.to_vector("imu", msg)[0].tolist() == [0.5, 0.0, 0.0, 0.0, 0.0, 9.8]
    msg.angular_velocity_covariance[0] = -1.0
    values, problem = messages.to_vector("imu", msg)
    assert np.isnan(values[:3]).all() and values[3:].tolist() == [0.0, 0.0, 9.8] and problem == ""
    msg.linear_acceleration_covariance[0] = -1.0
    assert np.isnan(messages.to_vector("imu", msg)[0]).all()


def test_a_warning_throttle_outside_its_range_is_refused(context):
    """NaN would silence every bad-input warning, a negative period warn on every tick."""
    for bad in (float("nan"), -1.0):
        with pytest.raises(Exception, match="warn_throttle_s"):
            ControllerNode(context=context, parameter_overrides=overrides({"warn_throttle_s": bad}))


@pytest.mark.parametrize(("params", "message"), [
    ({"safe_command": [0.0, 0.0]}, "safe_command has 2 values; the controller has 1 output(s) (give 1)"),
    ({"output_max": [1.0, 2.0]}, "output_max has 2 values"),
    ({"sensor_reliability": "reliabel"}, "sensor_reliability must be 'best_effort' or 'reliable'"),
    ({"adaptive_delta": -1.0, "control_mode": "adaptive"}, "adaptive_delta must be positive"),
    ({"input_topics": ["bad topic"]}, "input_topics[0]: Invalid topic name"),
])
def test_a_configure_failure_names_the_parameter_in_one_line(context, blimp_artifact, params, message):
    """The size errors said 'expected 1 or 1 bound values' for three different parameters, a bad topic named no
    parameter and ended in rcl's caret."""
    node = ControllerNode(context=context, parameter_overrides=overrides({"artifact": blimp_artifact, **params}))
    try:
        node.trigger_configure()
        assert message in node.failure and "\n" not in node.failure and not node.failure.endswith("^"), node.failure
    finally:
        node.destroy_node()


def test_an_artifact_that_bounds_no_command_needs_the_actuators_range(context, blimp_artifact, tmp_path):
    """An action adapter without a range (identity) configured with output bounds [-inf, inf] and no word: the node
    sent 7.67 to a thrust unit of +-3.3."""
    controller = load_controller(blimp_artifact)
    unbounded = save_controller(tmp_path / "unbounded", controller.spec, controller.genome, controller.metadata,
                                IOAdapters(controller.io.observation, ActionAdapter("identity")))
    for params, failure in (({}, "no finite command range: the artifact's action adapter (identity) bounds no "
                                 "command; give output_min and output_max"),
                            ({"output_min": [-3.3]}, "no finite command range"),
                            ({"output_min": [-3.3], "output_max": [3.3]}, "")):
        node = ControllerNode(context=context, parameter_overrides=overrides({"artifact": str(unbounded), **params}))
        try:
            node.trigger_configure()
            assert (node.failure or "").startswith(failure) and (node.core is None) == bool(failure), node.failure
        finally:
            node.destroy_node()


def test_a_reading_re_sent_after_a_re_activation_is_answered(context, spinner, blimp_artifact):
    """A lockstep partner that re-sends its last stamped reading after the node was deactivated and activated
    again got no answer (the node remembered having answered that stamp) until the watchdog's safe command."""
    node = controller(context, spinner, artifact=blimp_artifact, control_mode="event", autostart=True)
    reading = Range(range=0.5, min_range=0.0, max_range=12.0)
    reading.header.stamp.sec = 7
    node._on_input(0, reading)
    assert node.core.ticks == 1
    node._on_input(0, reading)  # the same stamp again while active: already answered
    assert node.core.ticks == 1
    node.trigger_deactivate()
    node.trigger_activate()
    node._on_input(0, reading)
    assert node.core.ticks == 1, "the first reading after a re-activation must be answered"
