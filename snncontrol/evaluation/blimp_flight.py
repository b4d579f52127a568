"""Fly a policy in a blimp plant, the MuJoCo one (`sim_envs/BlimpAltitude-v0`, "mujoco") or the 1-D ODE
(`sim_envs/BlimpAltitudeODE-v0`, "ode"), and record the flight.

Units: s, m, command units of the thrust unit ([-3.3, 3.3]); the hover command is the command that holds the
plant still (its net weight in command units; negative: lighter than air, it rises without thrust).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import sim_envs  # noqa: F401  (registers the environments)
from sim_envs.blimp.envelope import MODELS
from snncontrol.errors import SnnControlError, listed
from snncontrol.evaluation.metrics import TrackingMetrics, tracking_metrics
from snncontrol.policy import Policy, finite_actions


@dataclass(frozen=True)
class Flight:
    """One recorded flight at the control rate. Row k of the arrays [T] is control step k as the controller met
    it, at times[k] = k dt: the true altitude, the reading it saw, the set-point it was given and its command.
    `end_altitude` / `end_setpoint` are the plant after the last step."""

    times: np.ndarray
    altitude: np.ndarray  # true altitude (m)
    measured: np.ndarray  # rangefinder reading (m), as the controller saw it
    setpoint: np.ndarray
    command: np.ndarray
    hover_command: float  # command units, at the start (a buoyancy drift moves it)
    end_altitude: float  # m
    end_setpoint: float  # m
    ceiling: float = np.inf  # m, where the plant has one

    def contacts(self, after_s: float = 5.0, margin: float = 0.02) -> int:
        """Control steps after `after_s` s at which the blimp touches the floor (altitude <= `margin` m: the
        MuJoCo blimp's LiDAR reads 0.01 m when landed) or the ceiling (within `margin` m of it)."""
        late = self.times >= after_s
        touching = (self.altitude <= margin) | (self.altitude >= self.ceiling - margin)
        return int(np.sum(touching[late]))

    def after_steps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(times, set-points, altitudes) [T] of the plant after each control step, at (k + 1) dt: the samples a
        closed-loop fitness scores (its info after each env.step)."""
        dt = self.times[1] - self.times[0]
        return (
            self.times + dt,
            np.r_[self.setpoint[1:], self.end_setpoint],
            np.r_[self.altitude[1:], self.end_altitude],
        )

    def metrics(self, steady_after_s: float = 50.0) -> TrackingMetrics:
        """Tracking metrics of the samples after each step (`snncontrol.evaluation.metrics`); steady state from
        `steady_after_s` into each hold (50 s of the protocol's 70 s holds: their last 20 s)."""
        times, setpoint, altitude = self.after_steps()
        return tracking_metrics(times, altitude, setpoint, steady_after_s=steady_after_s)


def fly_blimp(
    policy: Policy, seed: int, buoyancy_bias: float | None = None, model: str = "mujoco", **env_kwargs: Any
) -> Flight:
    """One episode of the blimp plant `model` under `policy`; `buoyancy_bias` (N, MuJoCo plant) pins the bias,
    else it is drawn."""
    return fly_blimps(policy, [seed], buoyancy_bias, model, **env_kwargs)[0]


def fly_blimps(
    policy: Policy, seeds: list[int], buoyancy_bias: float | None = None, model: str = "mujoco", **env_kwargs: Any
) -> list[Flight]:
    """One episode per seed of the plant `model` ("mujoco" or "ode"), all plants stepped together (a vector env;
    `policy` acts for len(seeds) copies). Plant i flies exactly as `fly_blimp(policy, seeds[i])` would (the
    vector env seeds each copy alike)."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    if buoyancy_bias is not None:
        env_kwargs["buoyancy_bias_range"] = (buoyancy_bias, buoyancy_bias)
    env = gym.make_vec(MODELS[model], num_envs=len(seeds), vectorization_mode="vector_entry_point", **env_kwargs)
    try:
        obs, info = env.reset(seed=list(seeds))
        policy.reset()
        dt = env.core.control_dt
        if not math.isclose(policy.dt, dt, rel_tol=1e-9):
            raise SnnControlError(f"the controller steps every {policy.dt:g} s and the {model} plant every {dt:g} s: "
                                  "give it a controller made for the plant's control step")
        rows: list[np.ndarray] = []
        hover = np.asarray(info["hover_command"], dtype=np.float64).copy()
        ceiling = float(getattr(env.core, "ceiling", np.inf))
        for k in range(env.core.n_steps):
            action = finite_actions(np.asarray(policy.act(obs), dtype=np.float64), k * dt, f"{model} plant seed", seeds)
            rows.append(np.stack([info["altitude"], obs[:, 0], info["setpoint"], action[:, 0]], axis=1))
            obs, _, _, _, info = env.step(action)
            if not np.isfinite(info["altitude"]).all():  # (no figure of such a flight would mean anything)
                which = [seeds[i] for i in np.flatnonzero(~np.isfinite(info["altitude"]))]
                raise SnnControlError(f"the {model} plant's altitude is not finite at t = {(k + 1) * dt:.2f} s for "
                                      f"plant seed {listed(which)}: the simulation broke down")
    finally:
        env.close()
    table = np.stack(rows, axis=1)  # [P, T, 4]
    times = np.arange(table.shape[1]) * dt
    end_altitude, end_setpoint = (np.asarray(info[key], dtype=np.float64) for key in ("altitude", "setpoint"))
    return [
        Flight(times, *table[i].T, float(hover[i]), float(end_altitude[i]), float(end_setpoint[i]), ceiling)
        for i in range(len(seeds))
    ]
