"""N-link swimmer plant, P copies stepped together.

Units: m, s, rad, N·m. Control period ``frame_skip * timestep`` (default 6 * 0.005 s = 0.03 s).

Observation (float64, length 2 * n_joints + 3), joints ordered head to tail:
  [0 : n_joints]             joint angles, rad (soft limits at ±joint_limit: 1.117 rad reached at 6 links)
  [n_joints : 2 * n_joints]  joint angular velocities, rad/s
  [-3], [-2]                 head velocity in the head frame: forward (along the head's nose), sideways; m/s
  [-1]                       head yaw rate, rad/s
Action: [n_joints] joint torque commands in [-1, 1] (times the motor gear, N·m), clipped.

Rewards (``reward=``):
  "forward": Gymnasium Swimmer style, head x displacement over the control step / dt (m/s) minus
             ``ctrl_cost_weight * |a|^2``.
  "ncap":    dm_control / NCAP swim reward, the head's forward velocity v (m/s) through a linear tolerance:
             clip(v / 0.1, 0, 1); 0 when stopped or swimming backwards, 1 at v >= 0.1 m/s.
Episodes end by truncation after ``max_episode_steps`` control steps (default 1000 = 30 s; None: never, the
caller ends them, as ``gymnasium.make``'s TimeLimit does); never terminated.
Reset: the swimmer lies straight along +x (head in front) plus uniform noise of ±``reset_noise_scale`` on
every qpos and qvel entry, drawn from the copy's generator.
Info (per copy): "x_position", "y_position" (head, m), "x_velocity" (head, world frame, m/s),
"forward_velocity" (head frame, m/s), "reward_ctrl" (control cost, already in the "forward" reward), "unstable"
(MuJoCo found the copy's accelerations non-finite or huge since its reset and reset its state: no motion of that
body, e.g. motors far too strong for it; ``sim_envs.batched.BatchedPhysics.unstable``).
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np
from gymnasium import spaces

from sim_envs import validation
from sim_envs.batched import BatchedPhysics
from sim_envs.plant import BatchedCore, Transition
from sim_envs.swimmer.mjcf import (
    DENSITY,
    GEAR,
    LINK_LENGTH,
    MAX_LINK_LENGTH,
    MAX_LINKS,
    MIN_LINK_LENGTH,
    MIN_LINKS,
    VISCOSITY,
    joint_limit,
    swimmer_xml,
)

REWARDS = ("ncap", "forward")
SWIM_SPEED = 0.1  # m/s, the NCAP target speed
MAX_EPISODE_STEPS = 1000  # control steps of an episode by default (30 s)
MAX_TIMESTEP = 0.05  # s: ten times the default; a longer physics step is a typo (or an unstable body)
MAX_GEAR = 10.0  # N·m: 20,000 times the NCAP gear, far past what any body stays stable with (see "unstable")


class SwimmerCore(BatchedCore):
    """P swimmers sharing one MjModel."""

    camera = "tracking"

    def __init__(
        self,
        n_copies: int,
        n_links: int = 6,
        reward: str = "ncap",
        frame_skip: int = 6,
        timestep: float = 0.005,
        max_episode_steps: int | None = MAX_EPISODE_STEPS,
        ctrl_cost_weight: float = 1e-4,
        reset_noise_scale: float = 0.1,
        n_threads: int | None = None,
        link_length: float = LINK_LENGTH,
        gear: float = GEAR,
        viscosity: float = VISCOSITY,
        density: float = DENSITY,
    ) -> None:
        """The body: `n_links` links of `link_length` m (`MIN_LINK_LENGTH` to `MAX_LINK_LENGTH`), motors of `gear`
        N·m at full command (at most `MAX_GEAR`), in a fluid of `viscosity` Pa·s and `density` kg/m³ (defaults: the
        NCAP body, `sim_envs.swimmer.mjcf`: water's viscosity at dm_control's 3000 kg/m³); physics step `timestep` s
        (at most `MAX_TIMESTEP`); reset noise `reset_noise_scale` (m or rad; per s on velocities) at most the joint
        limit, so that no joint starts past it. `max_episode_steps` None: no step limit of the plant's own (the
        caller ends episodes, as Gymnasium's TimeLimit does for `gymnasium.make`)."""
        n_links = validation.integer_in("n_links", n_links, MIN_LINKS, MAX_LINKS)
        self.joint_limit = joint_limit(n_links)
        """NCAP joint limit 2*pi/(n_joints+1), rad: joint angle / joint_limit, clamped to [-1, 1] by the NCAP
        circuit, is its proprioception (the joints' soft limits let an angle pass it a little)."""
        body = {"link_length": validation.within("link_length", link_length, MIN_LINK_LENGTH, MAX_LINK_LENGTH),
                "gear": validation.positive("gear", gear, high=MAX_GEAR),
                "viscosity": validation.non_negative("viscosity", viscosity),
                "density": validation.non_negative("density", density)}
        self.reward_name = validation.one_of("reward", reward, REWARDS)
        self.frame_skip = validation.integer_in("frame_skip", frame_skip, 1, 1000)
        timestep = validation.positive("timestep", timestep, high=MAX_TIMESTEP)
        self.max_episode_steps = (
            None if max_episode_steps is None
            else validation.integer_in("max_episode_steps", max_episode_steps, 1, 10**9)
        )
        self.ctrl_cost_weight = validation.non_negative("ctrl_cost_weight", ctrl_cost_weight)
        self.reset_noise_scale = validation.non_negative("reset_noise_scale", reset_noise_scale, high=self.joint_limit)
        n_copies = validation.integer_in("n_copies", n_copies, 1, 10**6)
        if n_threads is not None:
            validation.integer_in("n_threads", n_threads, 1, 1024)

        self.n_links = n_links
        self.n_joints = n_links - 1
        self.model = mujoco.MjModel.from_xml_string(swimmer_xml(n_links, timestep=timestep, **body))
        self.control_dt = frame_skip * timestep
        self.physics = BatchedPhysics([self.model] * n_copies, mujoco.mjtState.mjSTATE_CTRL.value, n_threads)

        n_obs = 2 * self.n_joints + 3
        self.observation_space = spaces.Box(-np.inf, np.inf, (n_obs,), np.float64)
        self.action_space = spaces.Box(-1.0, 1.0, (self.n_joints,), np.float64)
        self._control = np.zeros((n_copies, frame_skip, self.n_joints))
        self._steps = np.zeros(n_copies, dtype=np.int64)
        self._ctrl_cost = np.zeros(n_copies)
        self._x_velocity = np.zeros(n_copies)
        self._head_velocity = np.zeros((n_copies, 2))

    def reset_copies(self, index: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        s = self.reset_noise_scale
        qpos = np.stack([self.model.qpos0 + rng.uniform(-s, s, self.model.nq) for rng in rngs])
        qvel = np.stack([rng.uniform(-s, s, self.model.nv) for rng in rngs])
        self.physics.set_copies(index, qpos, qvel)
        self._update_head_velocity()
        self._steps[index] = 0
        self._ctrl_cost[index] = 0.0
        self._x_velocity[index] = 0.0

    def _update_head_velocity(self) -> None:
        """Head velocity in the head frame [P, 2] (forward, sideways; m/s) from the current state."""
        yaw = self.physics.qpos[:, 2]
        vx, vy = self.physics.qvel[:, 0], self.physics.qvel[:, 1]
        c, s = np.cos(yaw), np.sin(yaw)
        np.multiply(c, vx, out=self._head_velocity[:, 0])
        self._head_velocity[:, 0] += s * vy
        np.multiply(c, vy, out=self._head_velocity[:, 1])
        self._head_velocity[:, 1] -= s * vx

    def observe(self) -> np.ndarray:
        qpos, qvel = self.physics.qpos, self.physics.qvel
        return np.concatenate([qpos[:, 3:], qvel[:, 3:], self._head_velocity, qvel[:, 2:3]], axis=1)

    def info(self) -> dict[str, np.ndarray]:
        return {
            "x_position": self.physics.qpos[:, 0].copy(),
            "y_position": self.physics.qpos[:, 1].copy(),
            "x_velocity": self._x_velocity.copy(),
            "forward_velocity": self._head_velocity[:, 0].copy(),
            "reward_ctrl": -self._ctrl_cost,
            "unstable": self.physics.unstable.copy(),
        }

    def step(self, action: np.ndarray) -> Transition:
        action = np.clip(action, -1.0, 1.0)
        x_before = self.physics.qpos[:, 0].copy()
        self._control[:] = action[:, None, :]
        self.physics.step(self._control)
        self._steps += 1
        self._update_head_velocity()
        self._x_velocity = (self.physics.qpos[:, 0] - x_before) / self.control_dt
        self._ctrl_cost = self.ctrl_cost_weight * np.sum(action**2, axis=1)
        if self.reward_name == "forward":
            reward = self._x_velocity - self._ctrl_cost
        else:
            reward = np.clip(self._head_velocity[:, 0] / SWIM_SPEED, 0.0, 1.0)
        return Transition(
            observation=self.observe(),
            reward=reward,
            terminated=np.zeros(self.n_copies, dtype=bool),
            truncated=(np.zeros(self.n_copies, dtype=bool) if self.max_episode_steps is None
                       else self._steps >= self.max_episode_steps),
            info=self.info(),
        )
