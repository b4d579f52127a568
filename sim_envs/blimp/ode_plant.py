"""A second blimp altitude plant, formulated independently of the MuJoCo one: a 1-D ODE written from the physics.

Same observation, action, reward and schedule as `sim_envs.blimp.plant.BlimpCore` (so a controller and its
adapters fly both unchanged), but none of its model: no rigid body, no fluid model, no MJCF. Units: m, s,
accelerations in m/s^2, the command u in the thrust unit's units [-3.3, 3.3].

State per copy: altitude z (m above the floor), vertical speed v (m/s), motor level m (command units >= 0),
rotor orientation o (+1 up, -1 down) and the time left in a rotor flip (s).

    z' = v
    v' = a_u * (o * m - u_hover) - c_1 * drag * v - c_2 * drag * v |v| + w(t)

a_u (``thrust_accel``, m/s^2 per command unit; default 0.8 / 3.3: full command gives 0.8 m/s^2) turns command
units into acceleration; u_hover is the copy's hover command, the command whose thrust holds it still (within
the dead zone, |u_hover| < 0.1, none does): its net weight (weight minus buoyancy) in command units, negative for
a blimp lighter than air, which rises without thrust;
c_1 (1/s) and c_2 (1/m) are the linear and quadratic drag, scaled by the copy's ``drag``; w is a gust
acceleration (an Ornstein-Uhlenbeck process) and a buoyancy drift moves u_hover (a helium leak makes the blimp
heavier: u_hover grows by ``leak_rate`` per s). With a steady command u the blimp reaches the terminal speed
v_t solving c_1 d v_t + c_2 d v_t^2 = a_u (u - u_hover) (`terminal_speed`).
Thrust unit: |u| below ``dead_zone`` gives no thrust; a nonzero command of the other sign than the rotors
point stops them for the copy's flip delay (no thrust, motor level 0), then they point the other way; the motor
level follows |u| with the copy's time constant tau (exact exponential update).
Integration: ``substeps`` semi-implicit Euler steps per control step (v first, then z with the new v).
The floor (0 m) and the ceiling (``ceiling`` m) stop the blimp: z is held there and v set to 0.
Sensor: the altitude plus Gaussian noise of the copy's std, clipped to [0, max_range]; a lost return
(probability ``dropout_prob``, or a blimp beyond ``max_range``) reads ``dropout_value``: "max_range" (default) or
"nan".
Info (per copy): "altitude" (m), "vertical_velocity" (m/s), "setpoint" (m), "error" (set-point - altitude, m),
"thrust" (m/s^2, the motor's acceleration a_u * o * m), "flipping" (bool), "hover_command" (command units),
"disturbed" (bool).
Set-points: every one of the schedule must be at most ``ceiling`` and below ``max_range``.

Per copy and episode, from the reset generator (defaults in brackets): ``hover_command_range`` (-0.5, 2.2):
from lighter than air to the paper's heavy simulator (z'' = u - 2.02 needs about 2); ``motor_tau_range``
(0.05, 0.2) s; ``flip_delay_range`` (0.2, 0.4) s; ``drag_scale_range`` (0.6, 1.4); ``sensor_noise_range``
(0.005, 0.015) m; ``initial_altitude_range`` (0, 2) m. ``gusts``, ``buoyancy_drift`` and ``dropout_prob``
switch disturbances on for a share ``disturbance_prob`` of the episodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np
from gymnasium import spaces

from sim_envs import validation
from sim_envs.blimp.episode import ornstein_uhlenbeck
from sim_envs.plant import BatchedCore, Transition, episode_steps
from sim_envs.schedules import PAPER_SCHEDULE, Schedule, plant_schedule

U_MAX = 3.3  # command saturation (the paper's range)
DROPOUT_VALUES = ("max_range", "nan")


def terminal_speed(accel: float, c1: float, c2: float) -> float:
    """The speed v >= 0 (m/s) at which linear (c1, 1/s) and quadratic (c2, 1/m) drag balance `accel` >= 0."""
    if c2 == 0.0:
        return accel / c1 if c1 > 0.0 else np.inf
    return (-c1 + np.sqrt(c1 * c1 + 4.0 * c2 * accel)) / (2.0 * c2)


class BlimpODECore(BatchedCore):
    """P blimps of the 1-D altitude ODE, stepped together as arrays (no MuJoCo, nothing to render)."""

    camera = ""
    renderable = False

    def __init__(
        self,
        n_copies: int,
        control_rate_hz: float = 10.0,
        substeps: int = 10,
        episode_length_s: float = 210.0,
        schedule: Schedule | dict = PAPER_SCHEDULE,
        initial_altitude_range: tuple[float, float] = (0.0, 2.0),
        hover_command_range: tuple[float, float] = (-0.5, 2.2),
        motor_tau_range: tuple[float, float] = (0.05, 0.2),
        flip_delay_range: tuple[float, float] = (0.2, 0.4),
        drag_scale_range: tuple[float, float] = (0.6, 1.4),
        sensor_noise_range: tuple[float, float] = (0.005, 0.015),
        thrust_accel: float = 0.8 / U_MAX,
        linear_drag: float = 0.3,
        quadratic_drag: float = 1.0,
        dead_zone: float = 0.1,
        ceiling: float = 3.0,
        max_range: float = 12.0,
        dropout_prob: float = 0.0,
        dropout_value: str = "max_range",
        gusts: bool = False,
        gust_std: float = 0.03,
        gust_time_constant: float = 2.0,
        buoyancy_drift: bool = False,
        leak_rate: float = 2e-3,
        disturbance_prob: float = 1.0,
    ) -> None:
        self._n = validation.integer_in("n_copies", n_copies, 1, 10**6)
        rate = validation.positive("control_rate_hz", control_rate_hz)
        self.control_dt = 1.0 / rate
        self.substeps = validation.integer_in("substeps", substeps, 1, 10**4)
        self.n_steps = episode_steps(episode_length_s, rate)
        self.ceiling = validation.positive("ceiling", ceiling)
        self.max_range = validation.positive("max_range", max_range)
        self.schedule = plant_schedule(schedule, self.max_range, self.ceiling)
        self.ranges = {
            "initial_altitude": validation.interval("initial_altitude_range", initial_altitude_range, 0.0, ceiling),
            "hover_command": validation.interval("hover_command_range", hover_command_range, -U_MAX, U_MAX),
            "motor_tau": validation.interval("motor_tau_range", motor_tau_range, 1e-6),
            "flip_delay": validation.interval("flip_delay_range", flip_delay_range, 0.0),
            "drag": validation.interval("drag_scale_range", drag_scale_range, 0.0),
            "noise_std": validation.interval("sensor_noise_range", sensor_noise_range, 0.0),
        }
        self.thrust_accel = validation.positive("thrust_accel", thrust_accel)
        self.c1 = validation.non_negative("linear_drag", linear_drag)
        self.c2 = validation.non_negative("quadratic_drag", quadratic_drag)
        self.dead_zone = validation.non_negative_below("dead_zone", dead_zone, U_MAX)
        self.dropout_prob = validation.probability("dropout_prob", dropout_prob)
        self.dropout_value = (
            np.nan if validation.one_of("dropout_value", dropout_value, DROPOUT_VALUES) == "nan" else self.max_range
        )
        self.gusts = validation.boolean("gusts", gusts)
        self.buoyancy_drift = validation.boolean("buoyancy_drift", buoyancy_drift)
        self.gust_std = validation.non_negative("gust_std", gust_std)
        self.gust_time_constant = validation.positive("gust_time_constant", gust_time_constant)
        self.leak_rate = validation.finite("leak_rate", leak_rate)
        self.disturbance_prob = validation.probability("disturbance_prob", disturbance_prob, certain=True)
        self._check_step_size()

        self.observation_space = spaces.Box(np.zeros(2), np.full(2, self.max_range), dtype=np.float64)
        self.action_space = spaces.Box(-U_MAX, U_MAX, (1,), np.float64)
        n, steps = self._n, self.n_steps + 1
        self.z, self.v, self.level = np.zeros(n), np.zeros(n), np.zeros(n)
        self.orientation, self.flip_left = np.ones(n), np.zeros(n)
        self.tau, self.flip_delay, self.drag = np.ones(n), np.zeros(n), np.ones(n)
        self._setpoint, self._noise = np.zeros((n, steps)), np.zeros((n, steps))
        self._dropout, self._gust = np.zeros((n, steps), dtype=bool), np.zeros((n, steps))
        self._hover = np.zeros((n, steps))
        self._disturbed = np.zeros(n, dtype=bool)
        self._steps = np.zeros(n, dtype=np.int64)
        self._rows = np.arange(n)

    def _check_step_size(self) -> None:
        """Refuse a substep too long for the drag: the explicit update of v is stable and does not oscillate while
        h x d(drag)/dv <= 1, checked at the largest drag scale and the terminal speed of the strongest push
        (full thrust against the lightest blimp's bias, and four gust deviations)."""
        h, scale = self.control_dt / self.substeps, self.ranges["drag"][1]
        push = self.thrust_accel * (U_MAX + np.abs(self.ranges["hover_command"]).max())
        push += 4.0 * self.gust_std if self.gusts else 0.0
        speed = terminal_speed(push, scale * self.c1, scale * self.c2)
        slope = h * scale * (self.c1 + 2.0 * self.c2 * speed)
        if slope > 1.0:
            raise ValueError(
                f"substeps={self.substeps} at control_rate_hz={1.0 / self.control_dt:g}: a substep of {h:g} s is too "
                f"long for this drag (h x drag slope {slope:.3g} > 1, the explicit update would oscillate); raise "
                "substeps or lower linear_drag / quadratic_drag / drag_scale_range"
            )

    @property
    def n_copies(self) -> int:
        return self._n

    def reset_copies(self, index: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        times = np.arange(self.n_steps + 1) * self.control_dt
        for i, rng in zip(index, rngs, strict=True):
            draws = {name: rng.uniform(*bounds) for name, bounds in self.ranges.items()}
            self.z[i], self.drag[i] = draws["initial_altitude"], draws["drag"]
            self.tau[i], self.flip_delay[i] = draws["motor_tau"], draws["flip_delay"]
            self._setpoint[i] = self.schedule.profile(rng, times)
            self._noise[i] = rng.standard_normal(len(times)) * draws["noise_std"]
            disturbed = self.disturbance_prob >= 1.0 or bool(rng.random() < self.disturbance_prob)
            self._disturbed[i] = disturbed and (self.gusts or self.buoyancy_drift or self.dropout_prob > 0.0)
            self._dropout[i] = disturbed & (rng.random(len(times)) < self.dropout_prob)
            gust = disturbed and self.gusts
            self._gust[i] = (
                ornstein_uhlenbeck(rng, len(times), self.control_dt, self.gust_std, self.gust_time_constant)[:, 0]
                if gust
                else 0.0
            )
            leak = self.leak_rate if disturbed and self.buoyancy_drift else 0.0
            self._hover[i] = draws["hover_command"] + leak * times
        self.v[index], self.level[index], self.orientation[index], self.flip_left[index] = 0.0, 0.0, 1.0, 0.0
        self._steps[index] = 0

    def _at(self, table: np.ndarray) -> np.ndarray:
        return table[self._rows, np.minimum(self._steps, self.n_steps)]

    def observe(self) -> np.ndarray:
        measured = np.clip(self.z + self._at(self._noise), 0.0, self.max_range)
        lost = self._at(self._dropout) | (self.z >= self.max_range)  # nothing within range: a lost return
        reading = np.where(lost, self.dropout_value, measured)
        return np.stack([reading, self._at(self._setpoint)], axis=1)

    def info(self) -> dict[str, np.ndarray]:
        setpoint = self._at(self._setpoint)
        return {
            "altitude": self.z.copy(),
            "vertical_velocity": self.v.copy(),
            "setpoint": setpoint,
            "error": setpoint - self.z,
            "thrust": self.thrust_accel * self.orientation * self.level,
            "flipping": self.flip_left > 0.0,
            "hover_command": self._at(self._hover),
            "disturbed": self._disturbed.copy(),
        }

    def step(self, action: np.ndarray) -> Transition:
        setpoint, hover, gust = self._at(self._setpoint), self._at(self._hover), self._at(self._gust)
        u = np.clip(action[:, 0], -U_MAX, U_MAX)
        target = np.where(np.abs(u) < self.dead_zone, 0.0, np.abs(u))
        flip = (target > 0.0) & (np.sign(u) != self.orientation)
        self.orientation = np.where(flip, -self.orientation, self.orientation)
        self.flip_left = np.where(flip, self.flip_delay, self.flip_left)
        self.level = np.where(flip, 0.0, self.level)
        h = self.control_dt / self.substeps
        decay = np.exp(-h / self.tau)
        for _ in range(self.substeps):
            turning = self.flip_left > 0.0
            left = self.flip_left - h
            self.flip_left = np.where(left > 1e-9, left, 0.0)  # no rounding residue keeps a flip going
            self.level = np.where(turning, 0.0, target + (self.level - target) * decay)
            drag = self.drag * (self.c1 * self.v + self.c2 * self.v * np.abs(self.v))
            self.v = self.v + h * (self.thrust_accel * (self.orientation * self.level - hover) - drag + gust)
            self.z = self.z + h * self.v
            stopped = (self.z <= 0.0) | (self.z >= self.ceiling)
            self.z, self.v = np.clip(self.z, 0.0, self.ceiling), np.where(stopped, 0.0, self.v)
        self._steps += 1
        return Transition(
            observation=self.observe(),
            reward=-np.abs(setpoint - self.z),
            terminated=np.zeros(self._n, dtype=bool),
            truncated=self._steps >= self.n_steps,
            info=self.info(),
        )

    def render_data(self, i: int) -> tuple[mujoco.MjModel, mujoco.MjData]:
        raise ValueError("the ODE blimp plant has nothing to render: use render_mode=None")

    def close(self) -> None:
        """Nothing to release."""
