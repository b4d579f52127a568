"""Fly a policy in the MuJoCo blimp plant (`sim_envs/BlimpAltitude-v0`) and record the flight.

Units: s, m, command units of the thrust unit ([-3.3, 3.3]); buoyancy bias in N (negative: the blimp is
heavier than air and sinks without thrust).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import sim_envs  # noqa: F401  (registers the environments)
from snncontrol.evaluation.metrics import TrackingMetrics, tracking_metrics
from snncontrol.evaluation.policies import Policy


@dataclass(frozen=True)
class Flight:
    """One recorded flight, arrays [T] at the control rate."""

    times: np.ndarray
    altitude: np.ndarray  # true altitude (m)
    measured: np.ndarray  # rangefinder reading (m), as the controller saw it
    setpoint: np.ndarray
    command: np.ndarray
    buoyancy_bias: float  # N

    def metrics(self, ss_window_s: float = 20.0) -> TrackingMetrics:
        return tracking_metrics(self.times, self.altitude, self.setpoint, ss_window_s=ss_window_s)


def fly_blimp(policy: Policy, seed: int, buoyancy_bias: float | None = None, **env_kwargs: Any) -> Flight:
    """One episode of the blimp plant under `policy`; `buoyancy_bias` (N) pins the bias, else it is drawn."""
    if buoyancy_bias is not None:
        env_kwargs["buoyancy_bias_range"] = (buoyancy_bias, buoyancy_bias)
    env = gym.make("sim_envs/BlimpAltitude-v0", **env_kwargs)
    try:
        obs, info = env.reset(seed=seed)
        policy.reset()
        dt = env.unwrapped.core.control_dt
        rows: list[tuple[float, ...]] = []
        bias = float(info["buoyancy_bias"])
        done = False
        while not done:
            action = policy.act(obs[None, :])[0]
            rows.append((float(info["altitude"]), float(obs[0]), float(info["setpoint"]), float(action[0])))
            obs, _, terminated, truncated, info = env.step(action.astype(np.float32))
            done = bool(terminated or truncated)
    finally:
        env.close()
    table = np.asarray(rows)
    return Flight(np.arange(len(table)) * dt, table[:, 0], table[:, 1], table[:, 2], table[:, 3], bias)
