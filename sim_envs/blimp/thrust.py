"""Thrust unit of the micro-blimp: two coreless motors on a shaft that turns 180° to reverse thrust.

Units: command u dimensionless (the paper's range [-3.3, 3.3]), thrust N, time s. Vectorized over P copies.

Per physics step of length dt, for command u (held over the control step):
1. saturation: u is clipped to [-u_max, u_max];
2. PWM dead zone: |u| < dead_zone gives no thrust (the motors do not start);
3. rotor flip: a nonzero command whose sign differs from the rotors' current orientation turns the shaft;
   for the copy's flip delay (s) the rotors are stopped (no thrust, motor speed reset to 0), then point the other way.
   A command back to the old sign during a flip starts a new flip;
4. first-order motor lag: the motor level m (command units) follows |u| with time constant tau (per copy),
   discretized exactly: m <- |u| + (m - |u|) * exp(-dt / tau);
5. thrust = gain * orientation * m.

The default gain 0.03 N per unit gives 0.099 N (about 10 gf, two 7 mm coreless motors at part throttle) at
|u| = 3.3, i.e. about 0.38 m/s^2 on the 140 g blimp with its added mass: the same order as the
acceleration-scale command of the authors' training model z'' = u - 2.02, scaled to a real micro-blimp.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim_envs import validation


@dataclass(frozen=True)
class ThrustUnitParams:
    """Fixed thrust-unit constants (the motor time constant and the flip delay are per copy, see ``ThrustUnit``)."""

    gain: float = 0.03  # N per command unit
    u_max: float = 3.3  # command saturation
    dead_zone: float = 0.1  # |u| below this: no thrust

    def __post_init__(self) -> None:
        validation.positive("thrust_gain", self.gain)
        validation.positive("u_max", self.u_max)
        validation.non_negative_below("dead_zone", self.dead_zone, self.u_max)  # at u_max no command would push


class ThrustUnit:
    """P thrust units: motor level [P] (command units), orientation [P] (±1), flip time left [P] (s), and per copy
    the motor time constant tau [P] (s) and the time a flip takes, flip_delay [P] (s)."""

    def __init__(self, params: ThrustUnitParams, n_copies: int) -> None:
        self.params = params
        self.level = np.zeros(n_copies)
        self.orientation = np.ones(n_copies)
        self.flip_left = np.zeros(n_copies)
        self.tau = np.full(n_copies, 0.2)
        self.flip_delay = np.full(n_copies, 0.3)

    def reset(self, index: np.ndarray, tau: np.ndarray, flip_delay: np.ndarray) -> None:
        """Motors stopped, rotors pushing up, motor time constants ``tau`` (s) and flip delays ``flip_delay`` (s)
        for copies ``index``."""
        self.level[index] = 0.0
        self.orientation[index] = 1.0
        self.flip_left[index] = 0.0
        self.tau[index] = tau
        self.flip_delay[index] = flip_delay

    @property
    def flipping(self) -> np.ndarray:
        """Whether each unit is turning its rotors [P]."""
        return self.flip_left > 0.0

    def run(self, u: np.ndarray, dt: float, n_steps: int) -> np.ndarray:
        """Thrust [P, n_steps] (N) over ``n_steps`` physics steps of ``dt`` s with commands u [P] held."""
        p = self.params
        u = np.clip(u, -p.u_max, p.u_max)
        target = np.where(np.abs(u) < p.dead_zone, 0.0, np.abs(u))
        wanted = np.sign(u) * (target > 0.0)
        flip = (wanted != 0.0) & (wanted != self.orientation)
        self.orientation = np.where(flip, wanted, self.orientation)
        self.flip_left = np.where(flip, self.flip_delay, self.flip_left)
        self.level = np.where(flip, 0.0, self.level)
        decay = np.exp(-dt / self.tau)
        thrust = np.empty((len(u), n_steps))
        for k in range(n_steps):
            # Time still spent flipping inside this step leaves the rotors stopped for that step.
            self.level = np.where(self.flipping, 0.0, target + (self.level - target) * decay)
            left = self.flip_left - dt
            self.flip_left = np.where(left > 1e-9, left, 0.0)  # no rounding residue keeps a flip going
            thrust[:, k] = p.gain * self.orientation * self.level
        return thrust
