"""snncontrol_ros.inputs, the controller node's inputs without a node: which readings count as new, lost samples
and sizes, the set-point, and the observation a tick gets (the node's own tests fly the same through DDS)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sensor_msgs.msg import JointState, Range
from snncontrol_ros.inputs import MAX_CACHED_SIZES, Inputs, ValidRange
from std_msgs.msg import Float64MultiArray

MS = 1_000_000  # ns
BIG = np.finfo(np.float64).max


def _range(value: float, stamp_ms: int = 0) -> Range:
    msg = Range(range=value, max_range=10.0)
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ms * MS, 1_000_000_000)
    return msg


def _altitude(hold: bool = True, setpoint_default: float = math.nan) -> Inputs:
    """One range input valid in [0.05, 4) m, a set-point topic; input_timeout_s 0.5."""
    valid = [ValidRange(np.array([0.05]), np.array([4.0]), np.array([True]))]
    return Inputs(["/altitude"], ["range"], [1], lambda sizes: valid, [hold], [], 0.5, True, setpoint_default)


def test_a_re_sent_or_slightly_older_reading_is_no_new_sample_and_its_age_runs_on():
    inputs = _altitude()
    inputs.setpoint = 1.0
    assert inputs.receive(0, _range(0.5, stamp_ms=1000), now=0) == ("new", 0.0)
    assert inputs.receive(0, _range(0.6, stamp_ms=1000), now=300 * MS) == ("not_newer", 0.0)  # a hung driver
    assert inputs.receive(0, _range(0.6, stamp_ms=800), now=400 * MS) == ("not_newer", pytest.approx(0.2))
    observation = inputs.observation(now=600 * MS)
    assert observation.values.tolist() == [0.5, 1.0]
    assert observation.ages == [pytest.approx(0.6)]  # since the first reading, the only one taken


def test_stamps_back_by_more_than_the_timeout_are_a_restarted_source_once_it_keeps_to_its_new_time_base():
    """Three readings in a row on the new time base, over at least the timeout (0.5 s)."""
    inputs = _altitude()
    inputs.receive(0, _range(0.5, stamp_ms=60_000), now=0)
    assert inputs.receive(0, _range(0.7, stamp_ms=100), now=100 * MS) == ("restarting", pytest.approx(59.9))
    assert inputs.receive(0, _range(0.7, stamp_ms=100), now=150 * MS)[0] == "restarting"  # not newer: no count
    assert inputs.receive(0, _range(0.8, stamp_ms=200), now=200 * MS)[0] == "restarting"
    assert inputs.receive(0, _range(0.85, stamp_ms=300), now=300 * MS)[0] == "restarting"  # 3 in 0.2 s: not yet
    assert inputs.latest[0].values.tolist() == [0.5]
    assert inputs.receive(0, _range(0.9, stamp_ms=700), now=700 * MS) == ("restarted", pytest.approx(59.3))
    assert inputs.latest[0].values.tolist() == [0.9] and inputs.latest[0].recv_ns == 700 * MS


@pytest.mark.parametrize("bag_per_live", [1, 3, 10])
def test_a_second_publisher_with_old_stamps_interleaved_with_the_live_one_is_never_taken(bag_per_live: int):
    """A bag played by mistake beside the live driver (10 Hz): its readings, an hour old, come between the live ones,
    as fast as them or faster (a count alone took every third one of a bag at 30 Hz)."""
    inputs = _altitude()
    for k in range(30):
        live = 3_600_000 + 100 * k
        assert inputs.receive(0, _range(0.5, stamp_ms=live), now=live * MS)[0] == "new"
        for j in range(bag_per_live):
            now = (live + 10 * (j + 1)) * MS
            assert inputs.receive(0, _range(2.0, stamp_ms=100 * k + 10 * j + 5), now=now)[0] == "restarting"
        assert inputs.latest[0].values.tolist() == [0.5]


def test_unstamped_readings_are_each_new():
    inputs = _altitude()
    for now in (0, 10 * MS, 20 * MS):
        assert inputs.receive(0, _range(0.5), now=now) == ("new", 0.0)


def test_a_lost_sample_is_nan_held_and_keeps_the_time_of_the_last_valid_one():
    inputs = _altitude()
    inputs.setpoint = 1.0
    inputs.receive(0, _range(0.5), now=0)
    inputs.receive(0, _range(math.inf), now=100 * MS)
    observation = inputs.observation(now=200 * MS)
    assert np.isnan(observation.values[0]) and observation.values[1] == 1.0
    assert observation.held.tolist() == [True, False]  # the set-point's own NaN would be bad input, not held
    assert observation.ages[0] == pytest.approx(0.2) and observation.problem == ""


def test_where_an_input_does_not_hold_a_lost_sample_is_a_problem_at_once():
    inputs = _altitude(hold=False)
    inputs.setpoint = 1.0
    inputs.receive(0, _range(4.5), now=0)
    assert inputs.observation(now=0).problem == "/altitude: lost sample (4.5: no valid value)"


def test_no_observation_until_the_set_point_or_a_finite_default():
    inputs = _altitude()
    inputs.receive(0, _range(0.5), now=0)
    assert inputs.observation(now=0).values is None
    inputs = _altitude(setpoint_default=0.8)
    inputs.receive(0, _range(0.5), now=0)
    assert inputs.observation(now=0).values.tolist() == [0.5, 0.8]


def test_an_input_of_free_size_keeps_the_size_of_the_first_good_tick():
    joints = Inputs(["/joints"], ["joint_state"], [None], lambda sizes: None, [True], [], 0.5, False, math.nan)
    joints.receive(0, JointState(position=[0.1, 0.2], velocity=[0.0, 0.0]), now=0)  # unnamed: read by place
    assert joints.hold_sizes() == [("/joints", 4)] and joints.hold_sizes() == []
    joints.receive(0, JointState(position=[0.1], velocity=[0.0]), now=MS)
    assert joints.observation(now=MS).problem == (
        "/joints: 2 value(s), expected 4 (the size it had when control was first good)"
    )


def test_a_joint_state_without_joint_names_is_read_in_the_order_of_its_first_named_message():
    joints = Inputs(["/joints"], ["joint_state"], [None], lambda sizes: None, [True], [], 0.5, False, math.nan)
    joints.receive(0, JointState(name=["a", "b"], position=[0.1, 0.2], velocity=[1.0, 2.0]), now=0)
    joints.receive(0, JointState(name=["b", "a"], position=[0.2, 0.1], velocity=[2.0, 1.0]), now=MS)
    assert joints.observation(now=MS).values.tolist() == [0.1, 0.2, 1.0, 2.0]
    joints.receive(0, JointState(name=["a"], position=[0.1], velocity=[1.0]), now=2 * MS)
    assert joints.observation(now=2 * MS).problem == "/joints: joint_state lacks joint(s) ['b']"


def test_dropped_readings_are_forgotten():
    inputs = _altitude(setpoint_default=1.0)
    inputs.receive(0, _range(0.5, stamp_ms=1000), now=0)
    inputs.drop()
    assert inputs.observation(now=0).values is None
    assert inputs.receive(0, _range(0.5, stamp_ms=1000), now=0) == ("new", 0.0)  # the same stamp: new again


def _generic(ranges) -> Inputs:
    """Two inputs of free size (float64_multi_array), the set-point in the second, no set-point topic."""
    return Inputs(["/reading", "/target"], ["float64_multi_array"] * 2, [None, None], ranges, [True, True], [], 0.5,
                  False, math.nan)


def test_inputs_of_free_size_get_the_adapters_valid_range_once_every_input_has_sent_its_size():
    """The valid range follows from every input's size (where each input sits in the observation): asked for the
    sizes of the latest readings, never before each input has sent one; a value outside it is a lost sample, held,
    whose input's age runs on (an input of free size used to take any finite value for good)."""
    asked: list[tuple[int, ...]] = []

    def ranges(sizes: tuple[int, ...]) -> list[ValidRange]:
        asked.append(sizes)
        return [ValidRange(np.zeros(sizes[0]), np.full(sizes[0], 12.0), np.ones(sizes[0], bool)),
                ValidRange(np.zeros(sizes[1]), np.full(sizes[1], np.inf), np.ones(sizes[1], bool))]

    inputs = _generic(ranges)
    inputs.receive(0, Float64MultiArray(data=[50.0]), now=0)  # the other input's size is not known yet
    assert asked == [] and not inputs.latest[0].checked
    inputs.receive(1, Float64MultiArray(data=[1.0]), now=10 * MS)
    first = inputs.observation(now=20 * MS)  # the first reading checked now: beyond the sensor's 12 m, lost
    assert first.held.tolist() == [True, False] and first.ages == [None, pytest.approx(0.01)]
    inputs.receive(0, Float64MultiArray(data=[0.5]), now=100 * MS)
    inputs.receive(0, Float64MultiArray(data=[50.0]), now=200 * MS)  # lost again, the 0.5 m one valid before it
    assert asked == [(1, 1)]  # asked once, then cached
    observation = inputs.observation(now=400 * MS)
    assert observation.held.tolist() == [True, False] and observation.ages[0] == pytest.approx(0.3)
    latched = _generic(ranges)  # a set-point sent once, before the reading: valid when checked, aged from its arrival
    latched.receive(1, Float64MultiArray(data=[1.0]), now=0)
    latched.receive(0, Float64MultiArray(data=[0.5]), now=100 * MS)
    assert latched.observation(now=200 * MS).ages == [pytest.approx(0.1), pytest.approx(0.2)]


def test_an_element_the_adapter_does_not_read_is_never_a_lost_sample():
    """A joint-state broadcaster sends NaN velocities for a position-only joint; an adapter that reads the
    positions only must not lose every message for them (the node sent the safe command for good)."""
    def ranges(sizes: tuple[int, ...]) -> list[ValidRange]:
        read = np.r_[np.ones(sizes[0] // 2, bool), np.zeros(sizes[0] // 2, bool)]  # positions, not velocities
        return [ValidRange(np.full(sizes[0], -BIG), np.full(sizes[0], np.inf), read)]

    joints = Inputs(["/joints"], ["joint_state"], [None], ranges, [False], [], 0.5, False, math.nan)
    joints.receive(0, JointState(name=["a", "b"], position=[0.1, 0.2], velocity=[math.nan] * 2), now=0)
    observation = joints.observation(now=0)
    assert observation.problem == "" and observation.held is None and observation.ages == [0.0]
    assert observation.values.tolist() == [0.1, 0.2, 0.0, 0.0]  # the unread NaN passed as 0
    joints.receive(0, JointState(name=["a", "b"], position=[math.nan, 0.2], velocity=[0.0] * 2), now=MS)
    assert joints.observation(now=MS).problem == "/joints: lost sample (nan: no valid value)"  # a read one is


def test_a_publisher_that_keeps_changing_its_size_does_not_grow_the_nodes_memory():
    def ranges(sizes: tuple[int, ...]) -> list[ValidRange]:
        return [ValidRange(np.full(size, -BIG), np.full(size, np.inf), np.ones(size, bool)) for size in sizes]

    inputs = _generic(ranges)
    inputs.receive(1, Float64MultiArray(data=[1.0]), now=0)
    for size in range(1, 200):
        inputs.receive(0, Float64MultiArray(data=[0.5] * size), now=size * MS)
    assert 0 < len(inputs._ranges_of_sizes) <= MAX_CACHED_SIZES


def test_with_a_stamp_tolerance_readings_stamped_far_from_the_node_clock_are_not_taken():
    """Stamps were never compared with the node clock: a reading stamped 30 s ago was fresh, and one glitched stamp
    an hour ahead kept the correctly stamped readings after it out (0.33 s of safe command)."""
    valid = [ValidRange(np.array([0.05]), np.array([4.0]), np.array([True]))]
    inputs = Inputs(["/altitude"], ["range"], [1], lambda sizes: valid, [True], [], 0.5, True, 1.0,
                    stamp_tolerance_s=0.2)
    now_ms = 100_000
    receipt = inputs.receive(0, _range(0.5, stamp_ms=now_ms - 30_000), now=now_ms * MS)
    assert receipt == ("off_clock", pytest.approx(30.0))
    assert inputs.latest[0] is None
    assert inputs.receive(0, _range(0.6, stamp_ms=now_ms + 3_600_000), now=now_ms * MS)[0] == "off_clock"
    assert inputs.receive(0, _range(0.7, stamp_ms=now_ms - 50), now=now_ms * MS) == ("new", 0.0)
    assert inputs.observation(now=now_ms * MS).values.tolist() == [0.7, 1.0]
    assert inputs.receive(0, _range(0.8), now=now_ms * MS)[0] == "new"  # unstamped: nothing to compare
    lenient = _altitude()  # no tolerance (the default): stamps are compared only with each other
    assert lenient.receive(0, _range(0.5, stamp_ms=1), now=now_ms * MS) == ("new", 0.0)
