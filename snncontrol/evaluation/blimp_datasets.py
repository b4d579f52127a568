"""Mimicry datasets for the blimp SNNs (Burgers et al., 2023): what a reference controller would command on the
altitude errors of recorded flights. Deterministic per seed; units m, s and command units.

- PD-SNN (`pd_mimicry_dataset`): each sequence is a closed-loop flight of the MuJoCo blimp plant (randomized
  plant, random set-point levels) under a semi-randomly tuned PID (each gain of `BLIMP_PID` scaled by
  U(0.5, 1.5)), as the paper recorded its training flights. The input is the error the controller saw,
  set-point - measured altitude (m, with sensor noise); the target is the reference PD (`PD_TARGET`: `BLIMP_PID`
  without its integral term) applied open-loop to that error, saturated to the command range.
- I-SNN on blimp flights (`i_blimp_dataset`, beyond the paper): the PD-SNN's flights with the reference I as the
  target.
- I-SNN (`i_mimicry_dataset`): the paper's double integrator z'' = u + b (m/s^2) with a buoyancy bias
  b ~ U(-4, 4) redrawn at each set-point step (steps of 50 s), flown at 10 Hz by a PD on the noisy altitude
  (kp, kd of `I_PLANT_PD` scaled by U(0.5, 1.5)) plus the reference integrator; the target is the reference
  I controller (`I_TARGET`: `BLIMP_PID.ki` with anti-windup, saturated to [-3.3, 3.3]) applied open-loop to
  the error, so the I-SNN learns to integrate over the whole range a bias can demand.

Arrays (the `.npz` layout `evolution` mimicry fitness reads): train_inputs [S, T, 1], train_targets [S, T, 1],
test_inputs [1, T', 1], test_targets [1, T', 1].
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from snncontrol import atomic
from snncontrol.adapters import IOAdapters, ObservationAdapter
from snncontrol.controllers.pid import (
    BLIMP_PID,
    I_TARGET,
    PD_TARGET,
    PIDGains,
    PIDPolicy,
    pid_init,
    pid_rollout,
    pid_step,
)
from snncontrol.evaluation.blimp_flight import fly_blimp

SCHEDULE = {"kind": "random", "altitude_range": [0.4, 1.6], "hold_s": 15.0}
#: The PD that flies the double integrator while its I-SNN data are recorded (z'' = u + b, u in m/s^2).
I_PLANT_PD = PIDGains(kp=2.0, kd=2.5, dt=BLIMP_PID.dt, u_min=-8.0, u_max=8.0, derivative_filter=0.5)
I_BIAS_RANGE = (-4.0, 4.0)  # m/s^2
I_STEP_S = 50.0
SENSOR_NOISE_RANGE = (0.005, 0.015)  # m, as the blimp plant's rangefinder
ALTITUDE_RANGE = (0.3, 2.0)  # m, set-point levels of the double-integrator flights


def _flight_error(rng: np.random.Generator, duration_s: float) -> np.ndarray:
    scale = rng.uniform(0.5, 1.5, size=3)
    gains = PIDGains(
        kp=BLIMP_PID.kp * scale[0],
        ki=BLIMP_PID.ki * scale[1],
        kd=BLIMP_PID.kd * scale[2],
        dt=BLIMP_PID.dt,
        derivative_filter=BLIMP_PID.derivative_filter,
    )
    policy = PIDPolicy(gains, IOAdapters(ObservationAdapter("setpoint_error")))
    flight = fly_blimp(policy, seed=int(rng.integers(2**31)), episode_length_s=duration_s, schedule=SCHEDULE)
    return flight.setpoint - flight.measured


def pd_mimicry_dataset(
    seed: int, n_train: int = 100, train_s: float = 60.0, test_s: float = 500.0, target: PIDGains = PD_TARGET
) -> dict[str, np.ndarray]:
    """Training sequences of `train_s` s and one held-out test flight of `test_s` s (see the module doc);
    `target` (default the reference PD) is applied to the flights' errors."""
    rng = np.random.default_rng(seed)
    train = np.stack([_flight_error(rng, train_s) for _ in range(n_train)])
    test = _flight_error(rng, test_s)[None]
    return _arrays(train, test, target)


def i_blimp_dataset(
    seed: int, n_train: int = 100, train_s: float = 60.0, test_s: float = 500.0
) -> dict[str, np.ndarray]:
    """Beyond the paper: I-SNN data from the blimp flights of `pd_mimicry_dataset` (same flights for the same
    seed) with the reference I as the target, i.e. the integral the MuJoCo plant itself needs (about 0.2 to 0.7
    command units against negative buoyancy) on the plant's own small, noisy errors."""
    return pd_mimicry_dataset(seed, n_train, train_s, test_s, target=I_TARGET)


def double_integrator_errors(rng: np.random.Generator, n: int, duration_s: float) -> np.ndarray:
    """Errors [n, T] (set-point - measured altitude, m) of n flights of z'' = u + b, all stepped together."""
    dt = I_PLANT_PD.dt
    steps = round(duration_s / dt)
    per_step = round(I_STEP_S / dt)
    segments = -(-steps // per_step)
    levels = np.repeat(rng.uniform(*ALTITUDE_RANGE, size=(n, segments)), per_step, axis=1)[:, :steps]
    bias = np.repeat(rng.uniform(*I_BIAS_RANGE, size=(n, segments)), per_step, axis=1)[:, :steps]
    noise = rng.uniform(*SENSOR_NOISE_RANGE, size=(n, 1)) * rng.standard_normal((n, steps))
    kp, kd = (np.array([I_PLANT_PD.kp, I_PLANT_PD.kd]) * rng.uniform(0.5, 1.5, size=(n, 2))).T  # per flight
    flying_i = replace(I_TARGET, u_min=I_PLANT_PD.u_min, u_max=I_PLANT_PD.u_max)
    z, v = rng.uniform(*ALTITUDE_RANGE, size=n), np.zeros(n)
    derivative, i_state = np.zeros(n), pid_init(n)
    errors = np.empty((n, steps))
    for t in range(steps):
        e = errors[:, t] = levels[:, t] - (z + noise[:, t])
        if t:
            a = I_PLANT_PD.derivative_filter
            derivative = a * derivative + (1.0 - a) * (e - errors[:, t - 1]) / dt
        integral, i_state = pid_step(flying_i, e, i_state)
        u = np.clip(kp * e + kd * derivative + integral, I_PLANT_PD.u_min, I_PLANT_PD.u_max)
        accel = u + bias[:, t]
        z, v = z + v * dt + 0.5 * accel * dt**2, v + accel * dt
    return errors


def i_mimicry_dataset(
    seed: int, n_train: int = 100, train_s: float = 250.0, test_s: float = 500.0
) -> dict[str, np.ndarray]:
    """I-SNN data: `n_train` flights of `train_s` s (5 steps of 50 s) and one test flight of `test_s` s."""
    rng = np.random.default_rng(seed)
    return _arrays(double_integrator_errors(rng, n_train, train_s), double_integrator_errors(rng, 1, test_s),
                   I_TARGET)


def _arrays(train: np.ndarray, test: np.ndarray, target: PIDGains) -> dict[str, np.ndarray]:
    """The dataset arrays of error series train [S, T] and test [S', T'] with `target`'s commands."""
    return {
        "train_inputs": train[..., None],
        "train_targets": pid_rollout(target, train.T).T[..., None],
        "test_inputs": test[..., None],
        "test_targets": pid_rollout(target, test.T).T[..., None],
    }


def save_dataset(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> Path:
    """Write the arrays as a compressed `.npz`, atomically."""
    return atomic.write_npz(path, arrays, compressed=True)
