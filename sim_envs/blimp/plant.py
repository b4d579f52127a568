"""Blimp altitude plant, P copies stepped together.

Units: m, s, N; rates in Hz. Control at ``control_rate_hz`` (default 10 Hz, the paper's loop), physics at
``physics_timestep`` (default 0.01 s, 10 physics steps per control step; the period must be a multiple).

Observation (float64 [2]): [measured altitude (m), set-point (m)].
  The measurement is the MuJoCo ``rangefinder`` (LiDAR height above the floor; as MuJoCo evaluates sensors
  before integrating, it is one physics step old) plus Gaussian noise of the copy's std (default 5 to 15 mm,
  TFmini-S class), clipped to [0, max_range]. A dropout (probability ``dropout_prob``, or nothing within
  range) is reported as ``dropout_value``: "max_range" (default, the reading a TFmini-S gives on a lost
  return, keeps observations inside the Box) or "nan".
Action (float64 [1]): thrust command u, saturated to [-3.3, 3.3]; see ``sim_envs.blimp.thrust``.
Reward: -|set-point - altitude| (m), the set-point the action was chosen for against the true altitude after
  the step. Episodes are truncated after ``episode_length_s``; never terminated (the floor stops a sink).
Info (per copy): "altitude" (true LiDAR height, m), "vertical_velocity" (m/s), "setpoint" (m), "error"
  (set-point - altitude, m), "thrust" (N), "flipping" (bool), "buoyancy_bias" (N), "hover_command" (command
  units: -buoyancy_bias / thrust_gain, the command whose thrust would hold the blimp still), "disturbed" (bool),
  "unstable" (bool: MuJoCo found NaN or huge values and reset the copy this step; see
  ``sim_envs.batched.BatchedPhysics.unstable``).
Set-points: every one of the schedule must lie below ``max_range`` (the rangefinder reads nothing from there).

Buoyancy: a vertical force weight + bias(t) on the z joint (bias < 0 sinks, 0 neutral, > 0 rises); bias0 is
drawn from ``buoyancy_bias_range`` (default ±0.02 N: about ±2 gf, a fifth of the 0.099 N full thrust) and
drifts when ``buoyancy_drift`` is on. Gusts (``gusts``) add a 3D force; see ``sim_envs.blimp.episode``.
``disturbance_prob`` (default 1) is the share of episodes that have the enabled disturbances (gusts, drift,
dropouts) on; info "disturbed" says which.

A start below the landed height (0.01 m, the LiDAR's recess above the gondola's underside) starts landed.

Domain randomization, per copy and episode, from the reset generator (defaults in brackets):
  ``mass_scale_range`` (0.9, 1.1): body mass; ``drag_scale_range`` (0.8, 1.25): air density seen by the fluid
  model, scaling drag and added mass; ``motor_tau_range`` (0.1, 0.3) s; ``sensor_noise_range``
  (0.005, 0.015) m; ``buoyancy_bias_range`` (-0.02, 0.02) N; ``flip_delay_range`` (0.3, 0.3) s (drawn last, after
  the disturbance draw, so that it changes no other draw of a seed; so a seed's flip delay depends on the
  episode's length, its schedule and which disturbances are on, where its other draws do not). Each copy has its
  own MjModel (same structure) holding its mass, density and armature; the rollout pool steps the list of models
  in one call.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import mujoco
import numpy as np
from gymnasium import spaces

from sim_envs import validation
from sim_envs.batched import BatchedPhysics
from sim_envs.blimp.episode import EpisodeConfig, draw_episode
from sim_envs.blimp.model import AIR_DENSITY, GRAVITY, BlimpGeometry, blimp_xml
from sim_envs.blimp.thrust import ThrustUnit, ThrustUnitParams
from sim_envs.plant import BatchedCore, Transition, episode_steps
from sim_envs.schedules import PAPER_SCHEDULE, Schedule, plant_schedule

DROPOUT_VALUES = ("max_range", "nan")
MAX_BIAS = 1.0  # N: ten times full thrust either way (the envelope's blimps lie within -0.07 .. 0.015 N)
MAX_FORCE_STD = 0.1  # N: gusts about as strong as full thrust (0.099 N), 25x the default; beyond, MuJoCo went unstable
MAX_DRIFT_STD = 0.01  # N/sqrt(s): 50x the default, 0.14 N (1.5x full thrust) of random walk over a 210 s flight
CONTROL_SPEC = mujoco.mjtState.mjSTATE_CTRL.value | mujoco.mjtState.mjSTATE_QFRC_APPLIED.value


class BlimpCore(BatchedCore):
    """P micro-blimps, each with its own randomized MjModel."""

    camera = "side"

    def __init__(
        self,
        n_copies: int,
        control_rate_hz: float = 10.0,
        physics_timestep: float = 0.01,
        episode_length_s: float = 210.0,
        schedule: Schedule | dict = PAPER_SCHEDULE,
        initial_altitude_range: tuple[float, float] = (0.3, 1.7),
        buoyancy_bias_range: tuple[float, float] = (-0.02, 0.02),
        mass_scale_range: tuple[float, float] = (0.9, 1.1),
        drag_scale_range: tuple[float, float] = (0.8, 1.25),
        motor_tau_range: tuple[float, float] = (0.1, 0.3),
        sensor_noise_range: tuple[float, float] = (0.005, 0.015),
        dropout_prob: float = 0.0,
        dropout_value: str = "max_range",
        max_range: float = 12.0,
        gusts: bool = False,
        gust_std: float = 0.004,
        gust_time_constant: float = 2.0,
        buoyancy_drift: bool = False,
        drift_std: float = 2e-4,
        leak_rate: float = -2e-5,
        disturbance_prob: float = 1.0,
        thrust_gain: float = 0.03,
        dead_zone: float = 0.1,
        flip_delay_range: tuple[float, float] = (0.3, 0.3),
        n_threads: int | None = None,
    ) -> None:
        n_copies = validation.integer_in("n_copies", n_copies, 1, 10**6)
        rate = validation.positive("control_rate_hz", control_rate_hz)
        timestep = validation.positive("physics_timestep", physics_timestep)
        self.substeps = round(1.0 / (rate * timestep))
        if self.substeps < 1 or abs(self.substeps * timestep * rate - 1.0) > 1e-9:
            raise ValueError(
                f"control_rate_hz must make the control period a multiple of physics_timestep={timestep}, "
                f"got {control_rate_hz}"
            )
        self.max_range = validation.positive("max_range", max_range)
        schedule = plant_schedule(schedule, self.max_range)
        self.dropout_value = np.nan if validation.one_of(
            "dropout_value", dropout_value, DROPOUT_VALUES) == "nan" else self.max_range
        if n_threads is not None:
            validation.integer_in("n_threads", n_threads, 1, 1024)
        self.control_dt = 1.0 / rate
        self.timestep = timestep
        self.config = EpisodeConfig(
            n_steps=episode_steps(episode_length_s, rate),
            control_dt=self.control_dt,
            schedule=schedule,
            initial_altitude_range=validation.interval(
                "initial_altitude_range", initial_altitude_range, 0.0, max_range),
            buoyancy_bias_range=validation.interval(
                "buoyancy_bias_range", buoyancy_bias_range, -MAX_BIAS, MAX_BIAS),
            mass_scale_range=validation.interval("mass_scale_range", mass_scale_range, 1e-3),
            drag_scale_range=validation.interval("drag_scale_range", drag_scale_range, 0.0),
            motor_tau_range=validation.interval("motor_tau_range", motor_tau_range, 1e-6),
            sensor_noise_range=validation.interval("sensor_noise_range", sensor_noise_range, 0.0),
            dropout_prob=validation.probability("dropout_prob", dropout_prob),
            gusts=validation.boolean("gusts", gusts),
            gust_std=validation.non_negative("gust_std", gust_std, high=MAX_FORCE_STD),
            gust_time_constant=validation.positive("gust_time_constant", gust_time_constant),
            buoyancy_drift=validation.boolean("buoyancy_drift", buoyancy_drift),
            drift_std=validation.non_negative("drift_std", drift_std, high=MAX_DRIFT_STD),
            leak_rate=validation.finite("leak_rate", leak_rate),
            disturbance_prob=validation.probability("disturbance_prob", disturbance_prob, certain=True),
            flip_delay_range=validation.interval("flip_delay_range", flip_delay_range, 0.0),
        )
        unit = ThrustUnitParams(gain=thrust_gain, dead_zone=dead_zone)
        self.thrust = ThrustUnit(unit, n_copies)

        self.geometry = BlimpGeometry()
        self.nominal = mujoco.MjModel.from_xml_string(blimp_xml(self.geometry, timestep, max_range))
        models = [copy.copy(self.nominal) for _ in range(n_copies)]
        self.physics = BatchedPhysics(models, CONTROL_SPEC, n_threads)

        high = np.full(2, self.max_range)
        self.observation_space = spaces.Box(np.zeros(2), high, dtype=np.float64)
        self.action_space = spaces.Box(-self.thrust.params.u_max, self.thrust.params.u_max, (1,), np.float64)

        n = self.config.n_steps + 1
        self._steps = np.zeros(n_copies, dtype=np.int64)
        self._setpoint = np.zeros((n_copies, n))
        self._noise = np.zeros((n_copies, n))
        self._dropout = np.zeros((n_copies, n), dtype=bool)
        self._gust = np.zeros((n_copies, n, 3))
        self._bias = np.zeros((n_copies, n))
        self._disturbed = np.zeros(n_copies, dtype=bool)
        self._weight = np.full(n_copies, self.geometry.mass * GRAVITY)
        self._control = np.zeros((n_copies, self.substeps, self.physics.n_control))
        self._rows = np.arange(n_copies)

    @property
    def n_steps(self) -> int:
        """Control steps per episode."""
        return self.config.n_steps

    def reset_copies(self, index: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        episodes = [draw_episode(rng, self.config) for rng in rngs]
        body = self.nominal.body("blimp").id
        for i, ep in zip(index, episodes, strict=True):
            model = self.physics.models[i]
            model.body_mass[body] = self.nominal.body_mass[body] * ep.mass_scale
            model.opt.density = AIR_DENSITY * ep.drag_scale
            model.dof_armature[:] = self.nominal.dof_armature * ep.drag_scale
            self._weight[i] = model.body_mass[body] * GRAVITY
            self._setpoint[i], self._noise[i], self._dropout[i] = ep.setpoint, ep.noise, ep.dropout
            self._gust[i], self._bias[i], self._disturbed[i] = ep.gust, ep.bias, ep.disturbed
        qpos = np.zeros((len(index), self.nominal.nq))
        # A start below the landed height (the LiDAR's recess) would place the gondola inside the floor, whose
        # contact then throws the blimp up: it starts landed.
        qpos[:, 2] = np.maximum([ep.initial_altitude for ep in episodes], self.geometry.lidar_recess)
        self.physics.set_copies(index, qpos, np.zeros((len(index), self.nominal.nv)))
        self.thrust.reset(
            index, np.array([ep.motor_tau for ep in episodes]), np.array([ep.flip_delay for ep in episodes])
        )
        self._control[index] = 0.0
        self._steps[index] = 0

    def _at(self, table: np.ndarray) -> np.ndarray:
        """Each copy's entry of a per-episode table at its current step."""
        return table[self._rows, np.minimum(self._steps, self.config.n_steps)]

    def observe(self) -> np.ndarray:
        reading = self.physics.sensordata[:, 0]
        measured = np.clip(reading + self._at(self._noise), 0.0, self.max_range)
        lost = self._at(self._dropout) | (reading < 0.0) | (reading >= self.max_range)  # MuJoCo clamps at cutoff
        return np.stack([np.where(lost, self.dropout_value, measured), self._at(self._setpoint)], axis=1)

    def info(self) -> dict[str, np.ndarray]:
        altitude = self.physics.qpos[:, 2].copy()
        setpoint = self._at(self._setpoint)
        return {
            "altitude": altitude,
            "vertical_velocity": self.physics.qvel[:, 2].copy(),
            "setpoint": setpoint,
            "error": setpoint - altitude,
            "thrust": self._control[:, -1, 0].copy(),
            "flipping": self.thrust.flipping.copy(),
            "buoyancy_bias": self._at(self._bias),
            "hover_command": -self._at(self._bias) / self.thrust.params.gain,
            "disturbed": self._disturbed.copy(),
            "unstable": self.physics.unstable.copy(),
        }

    def step(self, action: np.ndarray) -> Transition:
        setpoint = self._at(self._setpoint)
        gust = self._at(self._gust)
        self._control[:, :, 0] = self.thrust.run(action[:, 0], self.timestep, self.substeps)
        self._control[:, :, 1:3] = gust[:, None, :2]
        self._control[:, :, 3] = (self._weight + self._at(self._bias) + gust[:, 2])[:, None]
        self.physics.step(self._control)
        self._steps += 1
        return Transition(
            observation=self.observe(),
            reward=-np.abs(setpoint - self.physics.qpos[:, 2]),
            terminated=np.zeros(self.n_copies, dtype=bool),
            truncated=self._steps >= self.config.n_steps,
            info=self.info(),
        )
