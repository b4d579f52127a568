"""Reference PID / PD / I controllers: the controllers the blimp SNNs learn to mimic, and their yardstick.

Pure step functions over a leading population dimension, like the SNN core:
`u, state = pid_step(gains, error, state)`. Discrete time with step `dt` (s); error in m (altitude error =
set-point - altitude), command u in the thrust unit's units, saturated to [u_min, u_max].

- P on the error, D on the error's finite difference (no kick on the first step: the derivative starts at 0),
  optionally low-pass filtered (`derivative_filter` in [0, 1): weight of the previous derivative).
- I with anti-windup by conditional integration: the integral does not grow while the output is saturated in
  the direction its term pushes (ki * error), and it is clamped so that ki * integral alone stays within the
  output range.
- A non-finite error is a missing sample (a sensor dropout): the last finite error is held in its place (no
  derivative kick), as the SNNs' `SampleHoldEncoder` does, so both kinds of controller see the same signal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from snncontrol.adapters import IOAdapters
from snncontrol.errors import SpecError
from snncontrol.params import check_copies


@dataclass(frozen=True)
class PIDGains:
    kp: float = 0.0  # command units per m
    ki: float = 0.0  # command units per (m s)
    kd: float = 0.0  # command units per (m/s)
    dt: float = 0.1  # s
    u_min: float = -3.3
    u_max: float = 3.3
    derivative_filter: float = 0.0

    def __post_init__(self) -> None:
        for name in ("kp", "ki", "kd"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"PIDGains.{name} must be a finite number, got {getattr(self, name)}")
        if not 0 < self.dt < math.inf:
            raise ValueError(f"PIDGains.dt must be positive and finite (s), got {self.dt}")
        if not self.u_max > self.u_min:
            raise ValueError(f"PIDGains needs u_max > u_min, got [{self.u_min}, {self.u_max}]")
        if not 0.0 <= self.derivative_filter < 1.0:
            raise ValueError(f"PIDGains.derivative_filter must be in [0, 1), got {self.derivative_filter}")


#: Reference PID for the blimp plant (sim_envs/BlimpAltitude-v0 at 10 Hz), tuned on a grid of kp, kd, ki over
#: randomized plants with negative buoyancy: holds each set-point within ~1.5 cm, overshoots ~15-20 cm on steps.
BLIMP_PID = PIDGains(kp=8.0, ki=0.5, kd=8.0, dt=0.1, derivative_filter=0.5)
#: The blimp SNNs' mimicry targets: the reference PD (BLIMP_PID without its integral) and the reference I.
PD_TARGET = replace(BLIMP_PID, ki=0.0)
I_TARGET = replace(BLIMP_PID, kp=0.0, kd=0.0)


class PIDState(NamedTuple):
    integral: np.ndarray  # [P] (m s)
    previous_error: np.ndarray  # [P] (m), NaN before the first finite error
    derivative: np.ndarray  # [P] (m/s), filtered


def pid_init(batch: int = 1) -> PIDState:
    return PIDState(np.zeros(batch), np.full(batch, np.nan), np.zeros(batch))


def pid_step(gains: PIDGains, error: np.ndarray, state: PIDState) -> tuple[np.ndarray, PIDState]:
    """One control step for P copies: error [P] (m) -> command [P]."""
    error = np.asarray(error, dtype=np.float64)
    has_previous = np.isfinite(state.previous_error)
    e = np.where(np.isfinite(error), error, np.where(has_previous, state.previous_error, 0.0))  # hold
    raw_derivative = np.where(has_previous, (e - np.nan_to_num(state.previous_error)) / gains.dt, 0.0)
    a = gains.derivative_filter
    derivative = a * state.derivative + (1.0 - a) * raw_derivative
    unsaturated = gains.kp * e + gains.kd * derivative + gains.ki * state.integral
    # conditional integration: not while saturated and the integral would push further out (ki of either sign)
    pushing = gains.ki * e
    pushing_out = ((unsaturated >= gains.u_max) & (pushing > 0)) | ((unsaturated <= gains.u_min) & (pushing < 0))
    integral = state.integral + np.where(pushing_out, 0.0, e * gains.dt)
    if gains.ki != 0.0:
        limit_low, limit_high = sorted((gains.u_min / gains.ki, gains.u_max / gains.ki))
        integral = np.clip(integral, limit_low, limit_high)
    u = np.clip(gains.kp * e + gains.kd * derivative + gains.ki * integral, gains.u_min, gains.u_max)
    return u, PIDState(integral, e, derivative)


def pid_rollout(gains: PIDGains, errors: np.ndarray) -> np.ndarray:
    """Apply the controller open-loop to error series [T, P] (or [T]); returns commands of the same shape."""
    errors = np.asarray(errors, dtype=np.float64)
    flat = errors.reshape(len(errors), -1)
    state = pid_init(flat.shape[1])
    out = np.empty_like(flat)
    for t, e in enumerate(flat):
        out[t], state = pid_step(gains, e, state)
    return out.reshape(errors.shape)


class PIDPolicy:
    """A PID as a closed-loop policy (see `snncontrol.policy.Policy`), through I/O adapters."""

    def __init__(self, gains: PIDGains, io: IOAdapters, batch: int = 1) -> None:
        self.gains, self.io, self.batch = gains, io, check_copies(batch)
        self.reset()

    @property
    def dt(self) -> float:
        """The step its gains are for (s)."""
        return self.gains.dt

    def reset(self) -> None:
        self.state = pid_init(self.batch)

    def act(self, observation: np.ndarray) -> np.ndarray:
        """Observations [P, n_obs] (plant units) -> commands [P, 1]; SpecError on another number of copies."""
        observation = np.asarray(observation, dtype=np.float64)
        if observation.ndim != 2 or observation.shape[0] != self.batch:
            raise SpecError(f"the PID flies {self.batch} cop{'y' if self.batch == 1 else 'ies'}: observations "
                            f"must be [{self.batch}, n_obs], got shape {observation.shape}")
        error = self.io.observation(observation)[:, 0]
        u, self.state = pid_step(self.gains, error, self.state)
        return u[:, None]
