"""The pure logic of the nodes, without ROS: safety checks, saturation, adaptive rate, diagnostics levels,
message conversions and the control core on a real artifact."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sensor_msgs.msg import Imu, JointState, Range
from snncontrol_ros import messages
from snncontrol_ros.adaptive import AdaptiveConfig, AdaptiveScheduler
from snncontrol_ros.control_core import ControlCore
from snncontrol_ros.diagnostics import ERROR, OK, WARN, LatencyWindow, level_of
from snncontrol_ros.safety import SafetyConfig, Throttle, check_inputs, check_observation
from std_msgs.msg import Float64, Float64MultiArray, MultiArrayDimension

from snncontrol.adapters import IOAdapters, ObservationAdapter
from snncontrol.artifacts import Controller, Metadata, load_controller, save_controller
from snncontrol.connections import Connection
from snncontrol.controllers import SHIPPED
from snncontrol.encoders import SampleHoldEncoder
from snncontrol.layers import Layer
from snncontrol.neurons.models import LeakyIntegrator
from snncontrol.policy import SNNPolicy
from snncontrol.spec import NetworkSpec


def test_input_checks_name_the_problem():
    assert check_inputs([0.01, 0.2], 0.5).ok
    assert check_inputs([None], 0.5).status == "missing"
    stale = check_inputs([0.1, 0.7], 0.5)
    assert stale.status == "stale" and "input 1" in stale.reason
    missing = check_inputs([0.1, None], 0.5, ["/altitude", "/blimp/altitude_setpoint"])
    assert missing.reason == "/blimp/altitude_setpoint has not arrived"
    assert "/altitude: no valid sample for 0.700 s" in check_inputs([0.7], 0.5, ["/altitude"]).reason
    assert check_observation(np.array([1.0, np.nan])).status == "invalid"
    labelled = check_observation(np.array([1.0, 1e308]), np.array([0.0]), np.array([12.0]), ["/alt", "/sp"])
    assert labelled.reason.startswith("/sp = 1e+308 is outside")
    assert check_observation(np.array([np.inf])).status == "invalid"
    out = check_observation(np.array([6.0, 1.0]), np.array([0.0, 0.0]), np.array([5.0, 5.0]))
    assert out.status == "invalid" and "outside" in out.reason
    assert check_observation(np.array([1.0, 1.0]), np.array([0.0]), np.array([5.0])).ok


def test_saturation_and_safe_replacement():
    safety = SafetyConfig.create(1, [0.0], [-3.3], [3.3])
    assert safety.saturate(np.array([7.0])) == (pytest.approx([3.3]), True, False)
    assert safety.saturate(np.array([-3.3])) == (pytest.approx([-3.3]), False, False)
    for bad in (np.nan, np.inf, -np.inf):
        command, clipped, replaced = safety.saturate(np.array([bad]))
        assert replaced and not clipped and command.tolist() == [0.0]
    assert safety.saturate(np.array([1.0, 2.0]))[2], "a command of the wrong size is replaced"
    unbounded = SafetyConfig.create(1)  # no output range: finite commands pass, non-finite ones do not
    assert unbounded.saturate(np.array([1e300])) == (pytest.approx([1e300]), False, False)
    assert unbounded.saturate(np.array([np.inf]))[2]
    with pytest.raises(ValueError):
        SafetyConfig.create(1, safe_command=[5.0], output_min=[-3.3], output_max=[3.3])
    with pytest.raises(ValueError):
        SafetyConfig.create(2, output_min=[0.0, 1.0, 2.0])


def test_throttle_suppresses_within_the_period():
    throttle = Throttle(1.0)
    assert throttle.ready(0.0) and not throttle.ready(0.5) and throttle.ready(1.2)
    assert throttle.suppressed == 1


def test_adaptive_scheduler_slows_down_when_calm_and_reacts_to_events():
    sched = AdaptiveScheduler(AdaptiveConfig(delta=0.05, error_band=0.05, max_interval=4), n_inputs=1)
    steps = []
    for _ in range(20):  # a calm, constant small error
        step = sched.should_step(np.array([0.01]))
        if step:
            sched.stepped(np.array([0.01]), 0.0, 0.0)
        steps.append(step)
    assert sum(steps) < 10 and sched.interval == 4
    assert sched.should_step(np.array([0.2]))  # a send-on-delta event: step at once
    sched.stepped(np.array([0.2]), 1.0, 0.0)
    assert sched.interval == 1


@pytest.mark.parametrize("name", ["error_band", "quiet_command_delta", "quiet_spikes"])
def test_adaptive_limits_refuse_nan(name: str):
    """NaN passed the `< 0` checks: a NaN error band never counted a step as calm, silently."""
    with pytest.raises(ValueError, match="must be >= 0 \\(inf: no limit\\), got"):
        AdaptiveConfig(**{name: math.nan})
    assert AdaptiveConfig(**{name: math.inf})


def test_diagnostic_levels():
    assert level_of(True, True, False, 0, 0, 1.0, 100.0)[0] == OK
    assert level_of(True, True, True, 1, 0, 1.0, 100.0)[0] == ERROR
    assert level_of(False, False, False, 0, 0, math.nan, 0.0)[0] == ERROR
    assert level_of(False, True, False, 0, 0, math.nan, 100.0)[0] == WARN
    level, message = level_of(True, True, False, 0, 0, math.nan, 100.0, 2.5)  # active, no tick for 2.5 s
    assert level == ERROR and "no control tick for 2.5 s" in message
    assert level_of(True, True, False, 0, 3, 1.0, 100.0)[0] == WARN
    # ticks (SNN steps of dt) off the network's 1/dt: its dynamics run that much faster or slower
    assert level_of(True, True, False, 0, 0, 1.0, 100.0, 0.0, "", 12.0, 10.0)[0] == OK  # within RATE_TOLERANCE
    assert level_of(True, True, False, 0, 0, 1.0, 100.0, 0.0, "", math.nan, 10.0)[0] == OK  # no rate measured
    level, message = level_of(True, True, False, 0, 0, 1.0, 100.0, 0.0, "", 100.0, 10.0)
    assert level == WARN and message == ("ticking at 100 Hz where the network's dt gives 10 Hz: its dynamics run 10x "
                                         "as fast as made for")
    assert level_of(True, True, False, 0, 0, 1.0, 100.0, 0.0, "", 5.0, 10.0) == (
        WARN, "ticking at 5 Hz where the network's dt gives 10 Hz: its dynamics run 0.5x as fast as made for")
    window = LatencyWindow()
    for ms in range(1, 101):
        window.add(ms * 1e-3)
    p50, p99, pmax = window.percentiles_ms()
    assert p50 == pytest.approx(50.5) and 98 < p99 < 100 and pmax == pytest.approx(100.0)


def test_latency_window_keeps_the_latest_values_and_matches_numpy_percentiles():
    window = LatencyWindow(size=50)
    assert all(math.isnan(v) for v in window.percentiles_ms())
    latencies = np.random.default_rng(0).random(130)
    for seconds in latencies:
        window.add(seconds)
    expected = [*np.percentile(latencies[-50:], [50, 99]), latencies[-50:].max()]
    assert window.percentiles_ms() == pytest.approx([1e3 * v for v in expected], rel=1e-12)
    window.clear()
    window.add(0.002)
    assert window.percentiles_ms() == pytest.approx([2.0, 2.0, 2.0])


def test_message_conversions():
    values, problem = messages.to_vector("range", Range(range=1.2, min_range=0.1, max_range=12.0))
    assert values.tolist() == pytest.approx([1.2]) and problem == ""
    for lost in (13.0, 12.0, math.inf, -math.inf, math.nan):  # REP 117 and a return lost at max_range: no value
        values, problem = messages.to_vector("range", Range(range=lost, min_range=0.1, max_range=12.0))
        assert np.isnan(values).all() and problem == "", lost
    assert "below min_range" in messages.to_vector("range", Range(range=0.05, min_range=0.1, max_range=12.0))[1]
    js = JointState(name=["b", "a"], position=[2.0, 1.0], velocity=[20.0, 10.0])
    assert messages.to_vector("joint_state", js, ["a", "b"])[0].tolist() == [1.0, 2.0, 10.0, 20.0]
    for short in (JointState(name=["b", "a"], position=[2.0, 1.0], velocity=[20.0]),  # which velocity is whose?
                  JointState(name=["b", "a"], position=[2.0], velocity=[20.0])):
        assert "joint_state has 2 names but" in messages.to_vector("joint_state", short, ["a"])[1]
    imu = Imu()
    imu.angular_velocity.z, imu.linear_acceleration.z = 0.5, -9.81
    assert messages.to_vector("imu", imu) == (pytest.approx([0, 0, 0.5, 0, 0, -9.81]), "")
    assert messages.to_vector("float64", Float64(data=2.5))[0].tolist() == [2.5]
    assert messages.to_vector("float64_multi_array", Float64MultiArray(data=[1.0, 2.0]))[0].tolist() == [1.0, 2.0]
    assert messages.stamp_ns(Range()) is None  # unstamped
    twist = messages.CommandMessage("twist", ["linear.z"]).fill(np.array([0.3]))
    assert twist.linear.z == pytest.approx(0.3) and twist.linear.x == 0.0


def test_a_reused_command_message_carries_only_the_latest_command():
    command = messages.CommandMessage("float64_multi_array")
    first = command.fill(np.array([0.5, -1.0]), echo_stamp=123)
    assert list(first.data) == [0.5, -1.0] and messages.echoed_stamp(first) == 123
    again = command.fill(np.array([2.0, 3.0]), echo_stamp=456)
    assert again is first and list(again.data) == [2.0, 3.0] and messages.echoed_stamp(again) == 456
    assert messages.echoed_stamp(command.fill(np.array([0.0, 0.0]))) is None and not again.layout.dim
    for label in ("abc", "", "1.5"):  # another publisher's malformed echo: no echo (it raised in the sim's callback)
        malformed = Float64MultiArray(data=[0.0])
        malformed.layout.dim.append(MultiArrayDimension(label=messages.STAMP_LABEL + label))
        assert messages.echoed_stamp(malformed) is None
    with pytest.raises(ValueError, match="unknown output type"):
        messages.CommandMessage("wrench")


def test_control_core_safe_command_and_recovery(blimp_artifact):
    controller = load_controller(blimp_artifact)
    safety = SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5, [0.0, 0.0], [5.0, 5.0])
    core = ControlCore(controller, safety)
    good = core.tick(np.array([0.3, 1.0]), [0.01])
    assert good.stepped and good.verdict.ok and good.command[0] > 0  # below the set-point: thrust up
    for bad, ages in (([np.nan, 1.0], [0.01]), ([np.inf, 1.0], [0.01]), ([9.0, 1.0], [0.01]), ([0.3, 1.0], [2.0])):
        result = core.tick(np.array(bad), ages)
        assert not result.verdict.ok and result.command.tolist() == [0.0] and not result.stepped
    again = core.tick(np.array([0.3, 1.0]), [0.01])
    assert again.verdict.ok and again.stepped and again.command[0] > 0
    assert core.counters.invalid == 3 and core.counters.stale == 1 and core.counters.safe_commands == 4


def test_control_core_holds_a_lost_sample_through_the_networks_sample_hold(blimp_artifact):
    """A held lost sample (NaN in the observation) gives the command of a network whose input did not change,
    i.e. what the in-process loop computes when the adapter makes the lost reading NaN; bounds do not reject it."""
    controller = load_controller(blimp_artifact)
    safety = SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5, [0.0, 0.0], [5.0, 5.0])
    core, reference = ControlCore(controller, safety), SNNPolicy.of(controller)
    held = np.array([True, False])
    for altitude in (0.3, 0.4, np.nan, np.nan, 0.6, np.nan):
        lost = bool(np.isnan(altitude))
        result = core.tick(np.array([altitude, 1.0]), [0.01], held=held if lost else None)
        assert result.verdict.ok and result.stepped and result.held == lost
        assert result.command[0] == reference.act(np.array([[altitude, 1.0]]))[0, 0]
    assert core.counters.held == 3 and core.counters.safe_commands == 0
    stale = core.tick(np.array([np.nan, 1.0]), [0.6], held=held)  # no valid sample for longer than the timeout
    assert stale.verdict.status == "stale" and stale.command.tolist() == [0.0]
    bad_setpoint = core.tick(np.array([np.nan, 9.0]), [0.01], held=held)  # a held sample does not hide others
    assert bad_setpoint.verdict.status == "invalid" and bad_setpoint.command.tolist() == [0.0]


def test_control_core_compiled_tick_equals_the_numpy_tick(blimp_artifact):
    """Every tick of the compiled path (checks, adapters, SNN, saturation in one call) gives the numpy path's
    command, verdict and counters, through bad inputs, lost returns, saturation and recovery."""
    controller = load_controller(blimp_artifact)
    safety = SafetyConfig.create(1, [0.0], [-1.0], [1.0], 0.5, [0.0, 0.0], [20.0, 5.0])
    fast, slow = ControlCore(controller, safety), ControlCore(controller, safety, compiled=False)
    assert fast.guarded_io(2) is not None and slow.guarded_io(2) is None
    rng = np.random.default_rng(3)
    altitudes = 1.0 + np.cumsum(rng.normal(0.0, 0.05, 600))
    altitudes[rng.random(600) < 0.05] = 12.0  # lost returns: held by the sample hold, not rejected
    altitudes[rng.random(600) < 0.02] = np.nan
    altitudes[rng.random(600) < 0.02] = 25.0  # out of bounds
    ages = np.where(rng.random(600) < 0.02, 0.8, 0.01)  # stale
    for altitude, age in zip(altitudes, ages, strict=True):
        obs = np.array([altitude, 1.2])
        a, b = fast.tick(obs, [age]), slow.tick(obs, [age])
        assert np.array_equal(a.command, b.command) and a.verdict == b.verdict
        assert (a.stepped, a.saturated) == (b.stepped, b.saturated)
    assert fast.counters == slow.counters and fast.snn_steps == slow.snn_steps
    assert fast.counters.saturated > 0 and fast.counters.invalid > 0 and fast.counters.stale > 0
    assert fast.policy.activity() == slow.policy.activity()


def test_control_core_takes_the_compiled_tick_only_where_it_applies(blimp_artifact, monkeypatch):
    """Not on a tick whose message reported a problem (the safe command, as the numpy path gives), never in
    adaptive mode (the schedule needs the network input first); the compiled tick refuses what does not fit."""
    controller = load_controller(blimp_artifact)
    safety = SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5)
    core, adaptive = ControlCore(controller, safety), ControlCore(controller, safety, AdaptiveConfig())
    calls = []
    for c in (core, adaptive):
        act = c.policy.stepper.act
        monkeypatch.setattr(c.policy.stepper, "act", lambda obs, g, act=act: calls.append(obs) or act(obs, g))
    assert core.tick(np.array([0.3, 1.0]), [0.01]).stepped and len(calls) == 1
    result = core.tick(np.array([0.3, 1.0]), [0.01], problem="range reading outside [0.1, 12] m")
    assert not result.stepped and result.verdict.status == "invalid" and result.command.tolist() == [0.0]
    # a refused reading is no valid sample: before any valid one it is named, not "has not arrived"; later it is
    # named beside the age of the last valid one
    first = core.tick(np.array([0.05, 1.0]), [None], problem="range reading 0.05 m below min_range 0.1 m")
    assert (first.verdict.status, first.verdict.reason) == ("invalid", "range reading 0.05 m below min_range 0.1 m")
    late = core.tick(np.array([0.05, 1.0]), [0.8], problem="range reading 0.05 m below min_range 0.1 m")
    assert late.verdict.status == "stale" and late.verdict.reason.endswith(
        "(timeout 0.5 s); the latest: range reading 0.05 m below min_range 0.1 m")
    assert adaptive.tick(np.array([0.3, 1.0]), [0.01]).stepped and len(calls) == 1
    guarded = core.guarded_io(2)
    with pytest.raises(ValueError, match="observation of 2 values"):
        core.policy.stepper.act(np.zeros(3), guarded)
    with pytest.raises(ValueError, match="float64"):
        core.policy.stepper.act(np.zeros(2, np.float32), guarded)


def test_adaptive_control_steps_on_the_first_good_tick_after_a_safe_command(blimp_artifact):
    """A calm loop has stretched its interval to max_interval; one bad tick sends the safe command, and the next
    good tick steps the SNN at once (it re-sent the safe command for up to max_interval - 1 good ticks)."""
    calm = AdaptiveConfig(max_interval=8, error_band=1.0, quiet_command_delta=10.0)
    core = ControlCore(load_controller(blimp_artifact), SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5), calm)
    for _ in range(40):
        core.tick(np.array([1.0, 1.2]), [0.01])
    assert core.adaptive.interval == 8
    assert core.tick(np.array([1.0, math.nan]), [0.01]).command.tolist() == [0.0]
    after = core.tick(np.array([1.0, 1.2]), [0.01])
    assert after.stepped and after.command[0] > 0.0


@pytest.mark.parametrize("compiled", [True, False])
def test_control_core_refuses_a_value_that_overflows_the_networks_floats(compiled):
    """A finite double beyond float32's range (1e39) is inf in the network: without a sample hold (the swimmer)
    it would turn the membranes NaN for good (the node sending the safe command ever after). The tick refuses it
    and leaves the state alone: the next good tick gives what a controller that never saw it gives."""
    controller = load_controller(SHIPPED["swimmer_ncap"])
    safety = SafetyConfig.create(5, [0.0], [-1.0], [1.0], 0.5)
    core, reference = ControlCore(controller, safety, compiled=compiled), SNNPolicy.of(controller)
    rng = np.random.default_rng(0)
    observations = rng.uniform(-0.5, 0.5, (40, 10))
    for t, obs in enumerate(observations):
        expected = np.clip(reference.act(obs[None])[0], -1.0, 1.0)
        if t in (10, 11):
            glitch = core.tick(np.where(np.arange(10) == 3, 1e39 * (-1) ** t, obs), [0.01])
            assert glitch.verdict.status == "invalid" and "[3]" in glitch.verdict.reason, glitch.verdict
            assert not glitch.stepped and glitch.command.tolist() == [0.0] * 5
        result = core.tick(obs, [0.01])
        assert result.verdict.ok and result.stepped and np.array_equal(result.command, expected)
    assert np.isfinite(core.policy.state.v.numpy()).all() and core.counters.invalid == 2


def test_control_core_without_a_sample_hold_refuses_what_it_cannot_read_beside_a_held_sample():
    """A lost sample on one channel, 1e39 on another: the numpy path stepped on it and the network refused it with
    an exception that killed the node; a lost sample before any good observation did the same."""
    controller = load_controller(SHIPPED["swimmer_ncap"])
    core = ControlCore(controller, SafetyConfig.create(5, [0.0], [-1.0], [1.0], 0.5), compiled=False)
    held = np.zeros(10, dtype=bool)
    held[2] = True  # (the swimmer's adapter reads elements 0-4)
    first = core.tick(np.where(held, np.nan, 0.1), [0.01], held=held)  # nothing to hold yet
    assert first.verdict.status == "invalid" and not first.stepped and first.command.tolist() == [0.0] * 5
    assert core.tick(np.full(10, 0.1), [0.01]).stepped
    obs = np.full(10, 0.1)
    obs[3], obs[2] = 1e39, np.nan
    result = core.tick(obs, [0.01], held=held)
    assert result.verdict.status == "invalid" and "[3]" in result.verdict.reason and not result.stepped
    assert core.tick(np.where(held, np.nan, 0.2), [0.01], held=held).stepped  # held from the last good one


@pytest.mark.parametrize("mode", ["compiled", "numpy", "adaptive"])
def test_a_network_whose_output_overflows_is_a_fault_that_resets_it(tmp_path, mode):
    """One huge but finite reading (-3e38 m, inside float32) overflows the fallback PD+I's integrator: its output
    was NaN ever after, replaced by the safe command while the verdict said good (diagnostics OK, counted as merely
    saturated). Now that tick is a fault: the safe command, a failing verdict, and the network reset to rest, so
    the next normal reading is controlled again as by a controller that never saw the glitch."""
    from snncontrol_ros.fallback import save_fallback_blimp

    controller = load_controller(save_fallback_blimp(tmp_path / "fallback"))
    safety = SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5)
    kwargs = {"adaptive": AdaptiveConfig(max_interval=1)} if mode == "adaptive" else {"compiled": mode == "compiled"}
    core, reference = ControlCore(controller, safety, **kwargs), SNNPolicy.of(controller)
    assert core.tick(np.array([0.9, 1.0]), [0.01]).stepped
    fault = core.tick(np.array([-3e38, 1.0]), [0.01])
    assert fault.verdict.status == "fault" and "not finite" in fault.verdict.reason and not fault.stepped
    assert fault.command.tolist() == [0.0] and core.counters.fault == 1 and core.counters.holding_safe
    assert level_of(True, True, core.counters.holding_safe, 1, 0, 1.0, 100.0, 0.0, core.counters.reason) == (
        ERROR, f"holding the safe command: {fault.verdict.reason}")
    for altitude in (0.9, 0.95, 1.0):
        result = core.tick(np.array([altitude, 1.0]), [0.01])
        assert result.verdict.ok and result.stepped and not core.counters.holding_safe
        expected = np.clip(reference.act(np.array([[altitude, 1.0]]))[0], -3.3, 3.3)
        assert result.command == pytest.approx(expected, rel=1e-6)
    assert core.counters.saturated == 0 and core.counters.safe_commands == 1


@pytest.mark.parametrize("compiled", [True, False])
def test_a_reading_the_network_cannot_read_is_refused_not_held_by_a_sample_hold(blimp_artifact, compiled):
    """A sensor stuck at 1e300 (finite, inside no bound) made a network input beyond float32: the blimp's sample
    hold carried it as a lost sample, but the input's age was renewed with every reading, so the hold never ended
    (5 s of full thrust, diagnostics OK). It is a bad reading: the safe command at once, on both paths; a lost sample
    (outside the adapter's valid range) is still held."""
    controller = load_controller(blimp_artifact)
    select = IOAdapters.from_dict({**controller.io.to_dict(), "observation": {"kind": "select", "indices": [0]}})
    safety = SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5)
    for io, stuck in ((select, [1e300]), (controller.io, [0.5, -1e300])):
        with_io = Controller(controller.spec, controller.genome, controller.metadata, io)
        core = ControlCore(with_io, safety, compiled=compiled)
        good = np.array(stuck) * 0 + 0.5
        assert core.tick(good, [0.01]).stepped
        bad = core.tick(np.array(stuck), [0.01])
        assert bad.verdict.status == "invalid" and "cannot read" in bad.verdict.reason and not bad.stepped
        assert bad.command.tolist() == [0.0]
    held = np.array([True, False])
    lost = core.tick(np.array([np.nan, 1.0]), [0.01], held=held)  # a lost return: the sample hold carries it
    assert lost.verdict.ok and lost.stepped and lost.held
    beside = core.tick(np.array([np.nan, 1e300]), [0.01], held=held)  # a held sample does not hide a bad one
    assert beside.verdict.status == "invalid" and not beside.stepped


def _identity_with_hold(tmp_path) -> Controller:
    """Two inputs straight through a sample hold to two leaky outputs (decay 0): the command is the held input."""
    spec = NetworkSpec(n_inputs=2, encoder=SampleHoldEncoder(), dt=0.1, layers=(
        Layer("out", 2, LeakyIntegrator(), input=Connection(), fixed={"w_in": [[1.0, 0.0], [0.0, 1.0]],
                                                                      "decay_mem": 0.0}),))
    return load_controller(save_controller(tmp_path / "identity", spec, np.zeros(0), Metadata(seed=0),
                                           IOAdapters(ObservationAdapter("identity"))))


def test_a_refused_reading_leaves_the_sample_hold_as_it_was_on_both_paths(tmp_path):
    """[5, 1e300]: the compiled tick stored 5 in the sample hold before it refused the reading at the second input,
    so the next lost sample stepped on 5 (the numpy path on the last good 1)."""
    controller, safety = _identity_with_hold(tmp_path), SafetyConfig.create(2, [0.0], [-100.0], [100.0], 0.5)
    for compiled in (True, False):
        core = ControlCore(controller, safety, compiled=compiled)
        assert core.tick(np.array([1.0, 2.0]), [0.01]).command.tolist() == [1.0, 2.0]
        assert core.tick(np.array([5.0, 1e300]), [0.01]).verdict.status == "invalid"
        lost = core.tick(np.array([np.nan, 3.0]), [0.01], held=np.array([True, False]))
        assert lost.verdict.ok and lost.command.tolist() == [1.0, 3.0], compiled


def test_a_fault_does_not_leave_its_reading_to_fill_lost_samples(tmp_path):
    """The fallback PD+I (no sample hold: lost samples are filled with the last observation it stepped on) faulted
    on -3e38; the numpy path kept that reading and faulted again on every later lost sample. Both paths now agree:
    a lost sample right after a fault has nothing to be filled with (refused), the next reading is controlled."""
    from snncontrol_ros.fallback import save_fallback_blimp

    controller = load_controller(save_fallback_blimp(tmp_path / "fallback"))
    safety, held = SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5), np.array([True, False])
    results = {}
    for compiled in (True, False):
        core = ControlCore(controller, safety, compiled=compiled)
        ticks = [core.tick(np.array([0.9, 1.0]), [0.01]), core.tick(np.array([-3e38, 1.0]), [0.01]),
                 core.tick(np.array([np.nan, 1.0]), [0.01], held=held), core.tick(np.array([0.95, 1.0]), [0.01]),
                 core.tick(np.array([np.nan, 1.0]), [0.01], held=held)]
        results[compiled] = [(t.verdict.status, t.command.tolist()) for t in ticks]
        assert [status for status, _ in results[compiled]] == ["ok", "fault", "invalid", "ok", "ok"]
        assert core.counters.fault == 1 and core.counters.held == 1
    assert results[True] == results[False]


def test_a_lost_set_point_inside_an_input_is_held_not_refused(blimp_artifact):
    """A NaN set-point inside an input is a lost sample the network's hold carries; the set-point bound checked it
    as the -1.8e308 that stands in for held samples and refused it, naming a value nobody sent."""
    controller = load_controller(blimp_artifact)
    safety = SafetyConfig.create(1, [0.0], [-3.3], [3.3], 0.5, setpoint_bound=(1, 0.0, 11.99))
    core = ControlCore(controller, safety)
    assert core.tick(np.array([1.0, 1.2]), [0.01]).verdict.ok
    lost = core.tick(np.array([1.0, np.nan]), [0.01], held=np.array([False, True]))
    assert lost.verdict.ok and lost.stepped and lost.held
    assert core.tick(np.array([1.0, 50.0]), [0.01]).verdict.status == "invalid"  # a set-point it cannot reach
