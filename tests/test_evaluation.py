"""Tracking metrics and closed-loop flights in the blimp plant."""

from __future__ import annotations

import numpy as np
import pytest

from snncontrol.evaluation.metrics import tracking_metrics


def test_metrics_of_a_hand_made_step_response() -> None:
    times = np.arange(0, 20, 1.0)
    setpoint = np.r_[np.full(10, 1.0), np.full(10, 0.0)]
    # rises 0 -> 1.2 (overshoot 0.2) then settles at 0.98; then falls to -0.1 and settles at -0.01
    up = [0.0, 0.5, 0.95, 1.2, 1.1, 1.0, 0.98, 0.98, 0.98, 0.98]
    down = [0.98, 0.4, -0.1, -0.05, -0.01, -0.01, -0.01, -0.01, -0.01, -0.01]
    m = tracking_metrics(times, np.array(up + down), setpoint, ss_window_s=3.0, settle_band=0.05)
    first, second = m.segments
    assert first.step == 1.0 and first.overshoot == pytest.approx(0.2)
    assert first.rise_time_s == 2.0 and first.settling_time_s == 5.0
    assert first.steady_state_error == pytest.approx(0.02)
    assert second.step == pytest.approx(-0.98) and second.overshoot == pytest.approx(0.1)
    assert second.steady_state_error == pytest.approx(0.01)
    assert m.overshoot_by_direction() == pytest.approx((0.2, 0.1))
    assert m.rmse == pytest.approx(np.sqrt(np.mean((setpoint - np.array(up + down)) ** 2)))


def test_metrics_refuse_mismatched_arrays() -> None:
    with pytest.raises(ValueError, match="same length"):
        tracking_metrics(np.arange(3), np.arange(4), np.arange(3))
