"""The online tracking accumulator (snncontrol.tracking): one definition of each metric, over P copies."""

from __future__ import annotations

from dataclasses import astuple

import numpy as np
import pytest

from snncontrol.tracking import TrackingAccumulator


def _feed(tracker: TrackingAccumulator, setpoints: np.ndarray, errors: np.ndarray, alive: np.ndarray) -> None:
    """Rows [T, P] one step at a time."""
    for setpoint, error, live in zip(setpoints, errors, alive, strict=True):
        tracker.add(setpoint, error, live)


def test_each_copy_gets_exactly_what_it_gets_flown_alone() -> None:
    rng = np.random.default_rng(0)
    setpoints = np.repeat(rng.uniform(0, 2, size=(4, 3)), 10, axis=0)  # [40, 3]: 4 holds of 10 steps
    errors = rng.normal(scale=0.3, size=(40, 3))
    alive = np.ones((40, 3), dtype=bool)
    together = TrackingAccumulator(3, steady_after_steps=4, keep_segments=True)
    _feed(together, setpoints, errors, alive)
    for copy in range(3):
        alone = TrackingAccumulator(1, steady_after_steps=4, keep_segments=True)
        _feed(alone, setpoints[:, [copy]], errors[:, [copy]], alive[:, [copy]])
        for metric in ("tracking_error", "rmse", "itae", "steady_state", "overshoot"):
            assert getattr(together, metric)()[copy] == getattr(alone, metric)()[0], metric
        np.testing.assert_equal([astuple(s) for s in together.segments(copy)], [astuple(s) for s in alone.segments(0)])


def test_a_copy_whose_episode_ended_adds_nothing_more() -> None:
    setpoints = np.ones((6, 2))
    errors = np.array([[0.5, 0.5], [0.2, 0.2], [0.1, 0.1], [9.0, 0.1], [9.0, 0.1], [9.0, 0.1]])
    alive = np.array([[True, True]] * 3 + [[False, True]] * 3)
    tracker = TrackingAccumulator(2, steady_after_steps=2)
    _feed(tracker, setpoints, errors, alive)
    assert tracker.tracking_error()[0] == pytest.approx(0.8 / 3) and tracker.overshoot()[0] == 0.0


def test_overshoot_is_past_the_set_point_in_the_direction_of_the_first_error() -> None:
    # up by 1 (first error +1), 0.3 past it; then down (first error -0.5), never past; then a zero step (upward)
    setpoints = np.array([[1.0]] * 3 + [[0.5]] * 3 + [[0.5 + 1e-9]] * 2)
    errors = np.array([[1.0], [-0.3], [0.0], [-0.5], [-0.1], [0.0], [0.0], [-0.2]])
    tracker = TrackingAccumulator(1, steady_after_steps=1, keep_segments=True)
    _feed(tracker, setpoints, errors, np.ones((8, 1), dtype=bool))
    up, down, zero = tracker.segments(0)
    assert up.overshoot == pytest.approx(0.3) and down.overshoot == 0.0 and zero.overshoot == pytest.approx(0.2)
    assert (up.rise_steps, down.rise_steps, zero.rise_steps) == (1.0, 2.0, 0.0)  # 90 % covered
    assert tracker.overshoot()[0] == pytest.approx(0.5 / 3)  # the mean over the flight's set-points


def test_itae_and_steady_state_count_the_steps_since_the_set_point_changed() -> None:
    setpoints = np.array([[1.0]] * 4 + [[2.0]] * 3)
    errors = np.array([[4.0], [3.0], [2.0], [1.0], [5.0], [2.0], [1.0]])
    tracker = TrackingAccumulator(1, steady_after_steps=2, keep_segments=True)
    _feed(tracker, setpoints, errors, np.ones((7, 1), dtype=bool))
    held = np.array([0, 1, 2, 3, 0, 1, 2])
    assert tracker.itae()[0] == pytest.approx((held * errors[:, 0]).sum() / held.sum())
    assert tracker.steady_state()[0] == pytest.approx((2 + 1 + 1) / 3)  # held >= 2, pooled over the flight
    assert [s.steady_state_error for s in tracker.segments(0)] == pytest.approx([1.5, 1.0])


def test_nothing_to_measure_is_nan_not_a_perfect_zero() -> None:
    """No sample held steady_after_steps into a set-point: steady-state error 0 ranked a copy that stopped
    after 5 steps 50 cm off above one flying 1 cm off; every set-point one sample long gave itae 0."""
    acc = TrackingAccumulator(2, steady_after_steps=10)
    for k in range(30):
        acc.add(np.array([1.0, 1.0]), np.array([0.5, 0.01]), np.array([k < 5, True]))
    steady = acc.steady_state()
    assert np.isnan(steady[0]) and steady[1] == pytest.approx(0.01)
    ramp = TrackingAccumulator(1, steady_after_steps=0)
    for k in range(5):
        ramp.add(np.array([0.1 * k]), np.array([0.3]), np.array([True]))
    assert np.isnan(ramp.itae()[0])


def test_a_non_finite_error_is_outside_the_settling_band() -> None:
    acc = TrackingAccumulator(1, steady_after_steps=0, keep_segments=True)
    for error in (0.5, 0.01, np.nan, 0.01, 0.01):
        acc.add(np.array([1.0]), np.array([error]), np.array([True]))
    assert acc.segments(0)[0].settle_steps == 3  # after the NaN at held 2, not 1
