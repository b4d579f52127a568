"""Reference PID: step function semantics and closed-loop behaviour in the blimp plant."""

from __future__ import annotations

import numpy as np
import pytest

from snncontrol.adapters import IOAdapters, ObservationAdapter
from snncontrol.artifacts import load_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.pid import BLIMP_PID, PIDGains, PIDPolicy, pid_init, pid_rollout, pid_step
from snncontrol.errors import SpecError
from snncontrol.evaluation.blimp_flight import fly_blimp
from snncontrol.policy import SNNPolicy


def test_pd_on_a_ramp_gives_proportional_plus_constant_derivative_term() -> None:
    gains = PIDGains(kp=2.0, kd=0.5, dt=0.1)
    errors = np.array([0.0, 0.1, 0.2, 0.3])
    # first step: no derivative kick; then de/dt = 1 m/s
    np.testing.assert_allclose(pid_rollout(gains, errors), [0.0, 0.7, 0.9, 1.1])


def test_integral_winds_no_further_while_saturated() -> None:
    gains = PIDGains(ki=1.0, dt=1.0, u_min=-1.0, u_max=1.0)
    u = pid_rollout(gains, np.full(10, 5.0))
    assert u.max() == 1.0
    _, state = pid_step(gains, np.array([5.0]), pid_init())
    for _ in range(20):
        _, state = pid_step(gains, np.array([5.0]), state)
    assert float(state.integral[0]) <= 1.0
    u_back, _ = pid_step(gains, np.array([-0.5]), state)
    assert float(u_back[0]) < 1.0  # recovers at once when the error reverses


def test_a_missing_sample_holds_the_last_error_without_a_derivative_kick() -> None:
    gains = PIDGains(kp=1.0, ki=1.0, kd=1.0, dt=1.0)
    errors = np.array([0.5, 1.0, np.nan, 1.0, 1.0])
    held = pid_rollout(gains, errors)
    np.testing.assert_allclose(held, pid_rollout(gains, np.array([0.5, 1.0, 1.0, 1.0, 1.0])))
    assert np.isfinite(pid_rollout(gains, np.array([np.nan, np.nan, 0.2]))).all()  # nothing to hold yet: 0


def test_a_negative_integral_gain_winds_no_further_while_saturated_either() -> None:
    """For a plant whose command acts the other way (ki < 0), saturation at u_min comes with a positive error: the
    anti-windup held it only for ki > 0, so the integral grew to its clamp and took that long to come back."""
    gains = PIDGains(ki=-1.0, dt=1.0, u_min=-1.0, u_max=1.0)
    state = pid_init()
    for _ in range(20):
        u, state = pid_step(gains, np.array([5.0]), state)
    assert float(u[0]) == -1.0 and float(state.integral[0]) <= 1.0 + 1e-12
    u_back, _ = pid_step(gains, np.array([-0.5]), state)
    assert float(u_back[0]) > -1.0  # recovers at once when the error reverses


@pytest.mark.parametrize(("kwargs", "field"), [({"dt": 0.0}, "dt"), ({"dt": float("inf")}, "dt"),
                                               ({"kp": float("nan")}, "kp"), ({"kd": float("inf")}, "kd")])
def test_bad_gains_are_refused_with_the_field_named(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"PIDGains.{field}"):
        PIDGains(**kwargs)


def test_a_pid_policy_refuses_another_number_of_copies() -> None:
    """Observations of 3 copies to a PID of 1 broadcast silently (its state grew to 3), to a PID of 2 raised numpy's
    broadcast error; a batch of 0 or -3 is refused too, as by `SNNPolicy.of`."""
    io = IOAdapters(ObservationAdapter("setpoint_error", measurement=0, setpoint=1))
    for batch, observation in ((1, np.zeros((3, 2))), (2, np.zeros((3, 2))), (1, np.zeros(2))):
        with pytest.raises(SpecError, match=f"the PID flies {batch} cop"):
            PIDPolicy(BLIMP_PID, io, batch).act(observation)
    for batch in (0, -3, 1.5, True):
        with pytest.raises(SpecError, match="integer >= 1"):
            PIDPolicy(BLIMP_PID, io, batch)  # type: ignore[arg-type]
        with pytest.raises(SpecError, match="integer >= 1"):
            SNNPolicy.of(load_controller(resolve("shipped:blimp")), batch=batch)  # type: ignore[arg-type]


def test_reference_pid_holds_the_blimp_near_each_setpoint_with_negative_buoyancy() -> None:
    io = IOAdapters(ObservationAdapter("setpoint_error"))
    flight = fly_blimp(PIDPolicy(BLIMP_PID, io), seed=1, buoyancy_bias=-0.015, episode_length_s=140.0)
    metrics = flight.metrics(steady_after_s=55.0)  # the last 15 s of each 70 s hold
    assert len(metrics.full_segments) == 2, metrics.segments  # both 70 s holds judged, not none of them
    for segment in metrics.full_segments:
        assert segment.steady_state_error < 0.03, segment
