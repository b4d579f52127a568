"""Mimicry datasets for the blimp SNNs (Burgers et al., 2023): what a PD controller would command on the
altitude errors of real (simulated) flights.

Each sequence is a closed-loop flight of the MuJoCo blimp plant (randomized plant, random set-point levels)
under a semi-randomly tuned PID (each gain of `BLIMP_PID` scaled by U(0.5, 1.5)), as the paper recorded
its training flights. The input is the error the controller saw, set-point - measured altitude (m, with
sensor noise); the target is the reference PD (`BLIMP_PID` without its integral term) applied open-loop to
that error, saturated to the command range. Deterministic per seed.

Arrays (the `.npz` layout `evolution` mimicry fitness reads): train_inputs [S, T, 1], train_targets [S, T, 1],
test_inputs [1, T', 1], test_targets [1, T', 1]; T = train_s / dt, T' = test_s / dt.
"""

from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from snncontrol import atomic
from snncontrol.adapters import IOAdapters, ObservationAdapter
from snncontrol.controllers.pid import BLIMP_PID, PIDGains, PIDPolicy, pid_rollout
from snncontrol.evaluation.blimp_flight import fly_blimp

SCHEDULE = {"kind": "random", "altitude_range": [0.4, 1.6], "hold_s": 15.0}
PD_TARGET = replace(BLIMP_PID, ki=0.0)


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
    seed: int, n_train: int = 100, train_s: float = 60.0, test_s: float = 500.0
) -> dict[str, np.ndarray]:
    """Training sequences of `train_s` s and one held-out test flight of `test_s` s (see the module doc)."""
    rng = np.random.default_rng(seed)
    train = np.stack([_flight_error(rng, train_s) for _ in range(n_train)])
    test = _flight_error(rng, test_s)[None]
    return {
        "train_inputs": train[..., None],
        "train_targets": pid_rollout(PD_TARGET, train.T).T[..., None],
        "test_inputs": test[..., None],
        "test_targets": pid_rollout(PD_TARGET, test.T).T[..., None],
    }


def save_dataset(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> Path:
    """Write the arrays as a compressed `.npz`, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return atomic.write_bytes(path, buffer.getvalue())
