"""Tracking metrics of recorded trajectories (the accumulator of snncontrol.tracking run over a recording)."""

from __future__ import annotations

import numpy as np
import pytest

from snncontrol.errors import SnnControlError
from snncontrol.evaluation.blimp_eval import ControllerFigures, envelope_targets, figures
from snncontrol.evaluation.blimp_flight import Flight
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
    up, down = m.overshoot_by_direction()
    assert up == 0.0 and np.isnan(down)  # no downward step: no downward overshoot, not one of 0


def test_with_no_steady_state_delay_the_trailing_sample_is_still_no_hold() -> None:
    """eval-blimp --hold-s 20 (or less) judges from a hold's start: the one-sample segment of the next set-point
    on a flight's last sample was scored as a whole hold (100 cm off, never risen)."""
    times = np.arange(0, 21, 1.0)
    setpoint = np.r_[np.full(10, 0.5), np.full(10, 1.0), 0.5]
    values = setpoint.copy()
    values[-1] = 1.0  # the blimp is where the hold before asked
    m = tracking_metrics(times, values, setpoint, steady_after_s=0.0)
    assert [s.full for s in m.segments] == [True, True, False]
    assert [s.steady_state_error for s in m.full_segments] == [0.0, 0.0]
    held = np.r_[np.full(10, 0.5), np.full(11, 1.0)]  # a flight that tracks exactly; the schedule then restarts
    flight = Flight(times, held, held, held, np.zeros(21), 0.1, end_altitude=1.0, end_setpoint=0.5)
    assert figures([flight], steady_after_s=0.0)[1]["ss_error_cm"] == [0.0]  # the plant's figure: full holds only


def test_metrics_refuse_mismatched_arrays_in_one_line() -> None:
    with pytest.raises(SnnControlError, match="same length"):
        tracking_metrics(np.arange(3), np.arange(4), np.arange(3))


def _band(ss: list[float], up: float, down: float, contacts: float = 0.0) -> ControllerFigures:
    figures = {"ss_error_cm_median": float(np.median(ss)), "overshoot_up_cm_median": up,
               "overshoot_down_cm_median": down, "contacts": contacts}
    return ControllerFigures("x", [], figures, {"ss_error_cm": ss})


def test_envelope_targets_hold_in_every_band_or_fail() -> None:
    pid = _band([1.2, 1.5], up=6.0, down=0.0)
    good = {"light": {"SNN": _band([0.5, 0.9], up=4.0, down=0.5), "PID": pid},
            "heavy": {"SNN": _band([0.7, 0.9, 2.9], up=5.0, down=0.0), "PID": pid}}
    targets = envelope_targets({"ode": {"calm": good}})
    assert all(targets.values()) and len(targets) == 5, targets  # no overshoot beside a PID without one is fine
    never_down = {**good, "heavy": {"SNN": _band([0.7], up=5.0, down=float("nan")),
                                    "PID": _band([1.2], up=6.0, down=float("nan"))}}
    assert envelope_targets({"ode": {"calm": never_down}})["ode_calm_overshoot_down_below_pid"]  # no say
    only_never_down = {"heavy": never_down["heavy"]}
    assert not envelope_targets({"ode": {"calm": only_never_down}})["ode_calm_overshoot_down_below_pid"]  # no evidence
    for change, failed in (
        ({"ss": [1.1, 1.1]}, "ode_calm_ss_median"),  # one band's median over 1 cm
        ({"ss": [0.5, 0.6, 3.1]}, "ode_calm_ss_worst"),
        ({"up": 6.0}, "ode_calm_overshoot_up_below_pid"),  # equal to the PID's is not below it
        ({"down": 1.5}, "ode_calm_overshoot_down_below_pid"),
        ({"contacts": 1.0}, "ode_calm_no_contacts"),
    ):
        settings = {"ss": [0.7, 0.8], "up": 5.0, "down": 0.0, **change}
        bad = {**good, "heavy": {"SNN": _band(**settings), "PID": pid}}
        targets = envelope_targets({"ode": {"calm": bad}})
        assert [name for name, met in targets.items() if not met] == [failed]
