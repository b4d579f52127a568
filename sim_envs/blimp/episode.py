"""Everything random in one blimp episode, drawn at reset from the copy's own generator.

Units: m, s, N. Drawing a whole episode up front (set-points, sensor noise, dropouts, gusts, buoyancy drift,
domain randomization) keeps the per-step code free of per-copy random draws, and makes a copy's episode
depend only on its generator: the same seed gives the same episode alone or in a batch.

- gusts: each axis an Ornstein-Uhlenbeck force with standard deviation ``gust_std`` N and correlation time
  ``gust_time_constant`` s (sampled at the control rate);
- buoyancy drift: bias(t) = bias0 + ``leak_rate`` * t + ``drift_std`` * W(t), W a Wiener process
  (helium leak: leak_rate < 0; temperature: the random walk), in N, N/s and N/sqrt(s);
- dropouts: each LiDAR sample is lost with probability ``dropout_prob``;
- ``disturbance_prob``: the probability that an episode has the disturbances switched on above (gusts, drift,
  dropouts); the others fly calm (the same plant, noise and set-points), so one batch can mix both. Its draw
  comes after every earlier one, so that it changes no other draw of a seed; the rotor-flip delay, added to the
  randomization later, is drawn after it for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim_envs.schedules import Schedule


@dataclass(frozen=True)
class EpisodeConfig:
    """Ranges (low, high) are sampled uniformly per episode; see ``BlimpCore`` for the defaults."""

    n_steps: int
    control_dt: float
    schedule: Schedule
    initial_altitude_range: tuple[float, float]
    buoyancy_bias_range: tuple[float, float]
    mass_scale_range: tuple[float, float]
    drag_scale_range: tuple[float, float]
    motor_tau_range: tuple[float, float]
    sensor_noise_range: tuple[float, float]
    dropout_prob: float
    gusts: bool
    gust_std: float
    gust_time_constant: float
    buoyancy_drift: bool
    drift_std: float
    leak_rate: float
    disturbance_prob: float = 1.0
    flip_delay_range: tuple[float, float] = (0.3, 0.3)


@dataclass
class Episode:
    """One copy's draws; sequences have n_steps + 1 entries, one per control step boundary."""

    mass_scale: float
    drag_scale: float
    motor_tau: float
    sensor_noise_std: float
    initial_altitude: float
    setpoint: np.ndarray  # m
    noise: np.ndarray  # m, already scaled by sensor_noise_std
    dropout: np.ndarray  # bool
    gust: np.ndarray  # [n_steps + 1, 3] N
    bias: np.ndarray  # N, net buoyancy minus weight
    disturbed: bool  # some disturbance is enabled and on in this episode
    flip_delay: float  # s


def ornstein_uhlenbeck(rng: np.random.Generator, n: int, dt: float, std: float, tau: float) -> np.ndarray:
    """[n, 3] OU samples every dt s: a causal filter of white noise with kernel exp(-t / tau), from rest, so the
    gusts build up over the first few tau s to their stationary std."""
    decay = np.exp(-dt / tau)
    kernel = decay ** np.arange(min(n, int(np.ceil(12.0 * tau / dt)) + 1))
    white = rng.standard_normal((3, n)) * std * np.sqrt(1.0 - decay**2)
    return np.stack([np.convolve(w, kernel)[:n] for w in white], axis=1)


def draw_episode(rng: np.random.Generator, cfg: EpisodeConfig) -> Episode:
    """All random quantities of one episode, always drawn in the same order from ``rng``."""
    n = cfg.n_steps + 1
    times = np.arange(n) * cfg.control_dt
    mass_scale = rng.uniform(*cfg.mass_scale_range)
    drag_scale = rng.uniform(*cfg.drag_scale_range)
    motor_tau = rng.uniform(*cfg.motor_tau_range)
    noise_std = rng.uniform(*cfg.sensor_noise_range)
    bias0 = rng.uniform(*cfg.buoyancy_bias_range)
    initial_altitude = rng.uniform(*cfg.initial_altitude_range)
    setpoint = cfg.schedule.profile(rng, times)
    noise = rng.standard_normal(n) * noise_std
    dropout = rng.random(n) < cfg.dropout_prob
    gust = (
        ornstein_uhlenbeck(rng, n, cfg.control_dt, cfg.gust_std, cfg.gust_time_constant)
        if cfg.gusts
        else np.zeros((n, 3))
    )
    bias = np.full(n, bias0)
    if cfg.buoyancy_drift:
        steps = rng.standard_normal(n) * cfg.drift_std * np.sqrt(cfg.control_dt)
        steps[0] = 0.0
        bias += cfg.leak_rate * times + np.cumsum(steps)
    disturbed = cfg.disturbance_prob >= 1.0 or bool(rng.random() < cfg.disturbance_prob)
    flip_delay = rng.uniform(*cfg.flip_delay_range)
    if not disturbed:
        dropout[:], gust[:], bias[:] = False, 0.0, bias0
    disturbed = disturbed and (cfg.gusts or cfg.buoyancy_drift or cfg.dropout_prob > 0.0)  # some enabled, and on
    return Episode(mass_scale, drag_scale, motor_tau, noise_std, initial_altitude, setpoint, noise, dropout,
                   gust, bias, disturbed, flip_delay)
