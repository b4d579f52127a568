"""Tracking metrics of recorded trajectories (the accumulator of snncontrol.tracking run over a recording)."""

from __future__ import annotations

import numpy as np
import pytest

from snncontrol.errors import SnnControlError
from snncontrol.evaluation.metrics import tracking_metrics


def test_metrics_of_a_hand_made_step_response() -> None:
    times = np.arange(0, 20, 1.0)
    setpoint = np.r_[np.full(10, 1.0), np.full(10, 0.0)]
    # rises 0 -> 1.2 (overshoot 0.2) then settles at 0.98; then falls to -0.1 and settles at -0.01
    up = [0.0, 0.5, 0.95, 1.2, 1.1, 1.0, 0.98, 0.98, 0.98, 0.98]
    down = [0.98, 0.4, -0.1, -0.05, -0.01, -0.01, -0.01, -0.01, -0.01, -0.01]
    m = tracking_metrics(times, np.array(up + down), setpoint, steady_after_s=6.0, settle_band=0.05)
    first, second = m.segments
    assert first.step == 1.0 and first.overshoot == pytest.approx(0.2)
    assert first.rise_time_s == 2.0 and first.settling_time_s == 5.0
    assert first.steady_state_error == pytest.approx(0.02)  # from 6 s into the hold to its end
    assert second.step == pytest.approx(-0.98) and second.overshoot == pytest.approx(0.1)
    assert second.rise_time_s == 2.0 and second.steady_state_error == pytest.approx(0.01)
    assert m.overshoot_by_direction() == pytest.approx((0.2, 0.1))
    assert m.overshoot == pytest.approx(0.15) and m.steady_state_error == pytest.approx(0.015)
    assert m.rmse == pytest.approx(np.sqrt(np.mean((setpoint - np.array(up + down)) ** 2)))


def test_a_hold_shorter_than_the_steady_state_window_is_not_judged() -> None:
    times = np.arange(0, 12, 1.0)
    setpoint = np.r_[np.full(11, 1.0), 2.0]  # the last sample starts a new set-point
    m = tracking_metrics(times, np.ones(12), setpoint, steady_after_s=6.0)
    assert [s.full for s in m.segments] == [True, False]
    assert len(m.full_segments) == 1 and np.isnan(m.segments[1].rise_time_s)
    assert m.overshoot_by_direction() == (0.0, 0.0)


def test_metrics_refuse_mismatched_arrays_in_one_line() -> None:
    with pytest.raises(SnnControlError, match="same length"):
        tracking_metrics(np.arange(3), np.arange(4), np.arange(3))
