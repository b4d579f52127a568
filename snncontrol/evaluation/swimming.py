"""Closed-loop swimming of any controller (spec + genomes + adapters) in the batched N-link swimmer plant or in
any other swimmer body registered with Gymnasium.

`swim(...)` runs P genomes x E episodes as one vector env (`sim_envs/Swimmer-v0`, NCAP reward, 1000 steps of 0.03 s by
default; `env_kwargs` set its body: link_length, gear, viscosity, density) and reports per genome the mean return,
mean head forward speed (m/s, head frame: the mean of the head's velocity along its nose, which counts the head's
side-to-side sway as progress too), net speed (m/s, signed: the head's displacement over the episode along its mean
heading, the mean over the episode's steps of the direction of its nose, which the plant's NCAP reward and forward
speed measure progress along, divided by the episode's duration; negative for a body that swims backwards, its sway
and sideways drift not counted; a body that circles has a short mean heading of arbitrary direction, so there
the sign says little) and mean head yaw rate (rad/s, counter-clockwise positive). `env_id` swims another
body instead (e.g. Gymnasium's `Swimmer-v5`, 0.04 s per step, made with `env_kwargs`; a vector env of its own where
the id has one, else Gymnasium's "sync" one): its return is the sum of its own rewards, the forward speed its
info["x_velocity"] (m/s) if it reports one (NaN otherwise), the yaw rate NaN, and a copy stops counting when its
episode ends. An NCAP built with the optional command inputs (`ncap_spec(..., speed=True, turn=True)`) gets constant
`speed` / `turn` commands appended to its observations. Every step goes through the project's one policy step,
`snncontrol.policy.SNNPolicy.act` (the commands as its extra inputs); the perturbations act on what it reads
(observations) and on what it returns (actions). Perturbations for robustness studies: Gaussian observation noise
(rad, on the joint angles the adapter reads, and on every other observation channel), the fluid (viscosity in Pa*s,
density in kg/m^3; the plant only) and one joint's lost dorsal torque (that joint's torque can no longer be
positive; a body-level fault, not an NCAP muscle neuron silenced).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import sim_envs  # noqa: F401  (registers sim_envs/Swimmer-v0)
from snncontrol.adapters import IOAdapters
from snncontrol.controllers.ncap import with_commands
from snncontrol.errors import SnnControlError, first_line
from snncontrol.network import Network, Params
from snncontrol.params import is_finite_number
from snncontrol.policy import SNNPolicy, finite_actions
from snncontrol.spec import NetworkSpec

EPISODE_STEPS = 1000
PLANT = "sim_envs/Swimmer-v0"  # the project's N-link swimmer (its n_links a constructor keyword)


@dataclass(frozen=True)
class Perturbation:
    """obs_noise: std of Gaussian noise added to every observation channel (plant units: rad, rad/s, m/s).
    viscosity / density: fluid properties replacing the plant's (None: unchanged, 1e-3 Pa*s, 3000 kg/m^3).
    silence_dorsal: joint index whose dorsal torque is lost (its torque clipped to <= 0: a body-level fault, the
        same for any controller; for an NCAP not the same as silencing its dorsal muscle neuron), None: none."""

    obs_noise: float = 0.0
    viscosity: float | None = None
    density: float | None = None
    silence_dorsal: int | None = None

    def __post_init__(self) -> None:
        """One SnnControlError line for a value MuJoCo or numpy would take silently or fail on later (a negative
        viscosity swam as none, a negative noise std failed inside numpy)."""
        for name in ("obs_noise", "viscosity", "density"):
            value = getattr(self, name)
            if value is not None and not (is_finite_number(value) and value >= 0):
                raise SnnControlError(f"perturbation {name} must be a finite number >= 0, got {value!r}")
        joint = self.silence_dorsal
        if joint is not None and not (isinstance(joint, int) and not isinstance(joint, bool) and joint >= 0):
            raise SnnControlError(f"perturbation silence_dorsal must be a joint index >= 0, got {joint!r}")


@dataclass(frozen=True)
class SwimResult:
    """Per genome (mean over episodes) and per copy [P * E] (copy p * E + e)."""

    returns: np.ndarray
    speeds: np.ndarray
    yaw_rates: np.ndarray
    copy_returns: np.ndarray
    copy_speeds: np.ndarray
    # per genome: head displacement along the head's mean heading / episode duration (m/s, signed: negative for a
    # body swimming backwards; the plant only, else NaN)
    net_speeds: np.ndarray
    copy_net_speeds: np.ndarray


def swim(
    spec: NetworkSpec,
    genomes: Any,
    io: IOAdapters,
    n_links: int,
    seeds: list[int] | tuple[int, ...] = (0,),
    steps: int = EPISODE_STEPS,
    perturbation: Perturbation | None = None,
    n_threads: int | None = None,
    speed: float | None = None,
    turn: tuple[float, float] | None = None,
    env_id: str = PLANT,
    env_kwargs: dict[str, Any] | None = None,
) -> SwimResult:
    """Swim every genome ([P, D] or [D]) for len(seeds) episodes (episode e reset with seeds[e]); speed (0..1, 1
    full speed) and turn (right, left >= 0): constant commands for an NCAP built with those inputs (see
    `with_commands`); env_kwargs: the plant's body (link_length, gear, viscosity, density: `sim_envs.swimmer.env`)
    or, with env_id, another swimmer body's keywords (see the module doc; `n_links` and `n_threads` are the
    plant's)."""
    if speed is not None and not (is_finite_number(speed) and 0 <= speed <= 1):
        raise SnnControlError(f"swim: the speed command must be a number in [0, 1] (1: full speed), got {speed!r}")
    for name, value in ((f"turn[{k}]", v) for k, v in enumerate(turn or ())):
        if not (is_finite_number(value) and value >= 0):
            raise SnnControlError(f"swim: the {name} command must be a finite number >= 0, got {value!r}")
    net = Network(spec)
    params = net.params(genomes)
    batch, episodes = params.weights.shape[0], len(seeds)
    copies = batch * episodes
    policy = SNNPolicy(net, Params(*(t.repeat_interleave(episodes, dim=0) for t in params)), io)
    # the command channels alone (with_commands on no observation): [speed?, right?, left?], the same every step
    commands = None if speed is None and turn is None else with_commands(np.zeros(0), speed, turn)
    pert = perturbation or Perturbation()
    plant = env_id == PLANT
    if not plant and (pert.viscosity is not None or pert.density is not None):
        raise SnnControlError(f"fluid perturbations need the project's plant {PLANT}, not {env_id}")
    fluid = {name: value for name in ("viscosity", "density") if (value := getattr(pert, name)) is not None}
    kwargs = {**(env_kwargs or {}), **fluid, "n_links": n_links, "n_threads": n_threads} if plant else env_kwargs
    env = make_swimmer(env_id, copies, steps, kwargs)
    try:
        n_commands = 0 if commands is None else len(commands)
        check_body(env, env_id)
        obs_shape, act_shape = env.single_observation_space.shape, env.single_action_space.shape
        io.check(obs_shape[0], act_shape[0], spec.n_inputs - n_commands, spec.n_outputs, env_id)
        if pert.silence_dorsal is not None and pert.silence_dorsal >= act_shape[0]:
            raise SnnControlError(f"perturbation silence_dorsal {pert.silence_dorsal}: the body has joints 0.."
                                  f"{act_shape[0] - 1}")
        rng = np.random.default_rng([*list(seeds), len(seeds)])
        obs, info = env.reset(seed=np.tile(np.asarray(seeds), batch).tolist())
        start = head_position(info, copies)
        end, heading = start.copy(), nose(env, copies, plant)
        total, forward, yaw = np.zeros(copies), np.zeros(copies), np.zeros(copies)
        alive, counted = np.ones(copies, dtype=bool), np.zeros(copies)
        names = [f"{p} / {seed}" for p in range(batch) for seed in seeds]  # of copy p * E + e
        for k in range(steps):
            obs = np.asarray(obs, dtype=np.float64)
            if pert.obs_noise:  # [episodes, n_obs], the same for every genome: a genome's noise is its own
                noise = rng.normal(0.0, pert.obs_noise, (episodes, obs.shape[1]))  # whatever else is swum with it
                obs = obs + np.tile(noise, (batch, 1))
            action = finite_actions(policy.act(obs, extra_inputs=commands), k * spec.dt, "genome / episode seed", names)
            if pert.silence_dorsal is not None:
                j = pert.silence_dorsal
                action[:, j] = np.minimum(action[:, j], 0.0)
            obs, reward, terminated, truncated, info = env.step(action)
            if plant and np.any(info["unstable"]):
                raise SnnControlError(f"the physics became unstable (MuJoCo reset a copy: non-finite or huge "
                                      f"accelerations): the body {env_kwargs or {}} on {n_links} links is outside what "
                                      "the plant can simulate (e.g. motors far too strong for it)")
            total += np.where(alive, reward, 0.0)
            forward += np.where(alive, forward_speed(info, copies), 0.0)
            end = np.where(alive[:, None], head_position(info, copies), end)
            heading += np.where(alive[:, None], nose(env, copies, plant), 0.0)
            yaw += np.where(alive, np.asarray(obs)[:, -1] if plant else np.nan, 0.0)
            counted += alive
            alive &= ~(np.asarray(terminated) | np.asarray(truncated))
    finally:
        env.close()
    forward /= counted
    # signed: the displacement along the mean heading (its length alone counted a body swimming backwards as
    # forward); NaN for another body (no heading read, see `nose`)
    along = np.sum((end - start) * heading, axis=1) / np.linalg.norm(heading, axis=1)
    net = along / (counted * env.unwrapped.core.control_dt) if plant else np.full(copies, np.nan)
    per_genome = [values.reshape(batch, episodes).mean(1) for values in (total, forward, yaw / counted, net)]
    return SwimResult(*per_genome[:3], total, forward, per_genome[3], net)


def check_body(env: gym.vector.VectorEnv, env_id: str) -> None:
    """One SnnControlError line unless the body `env` takes flat continuous (Box) observations and actions (a
    discrete body failed on its action shape in Python's words)."""
    spaces = {"observations": env.single_observation_space, "actions": env.single_action_space}
    for what, space in spaces.items():
        if not (isinstance(space, gym.spaces.Box) and len(space.shape) == 1):
            raise SnnControlError(f"{env_id}: a body with flat continuous (Box) observations and actions is needed, "
                                  f"its {what} are {space}")


def make_swimmer(env_id: str, copies: int, steps: int, kwargs: dict[str, Any] | None) -> gym.vector.VectorEnv:
    """`copies` copies of a swimmer body as one vector env (its own vector entry point, else "sync") whose
    episodes last `steps` steps; an unknown id or bad keywords are one SnnControlError line."""
    try:
        mode = "vector_entry_point" if gym.spec(env_id).vector_entry_point is not None else "sync"
        return gym.make_vec(env_id, num_envs=copies, vectorization_mode=mode, max_episode_steps=steps, **(kwargs or {}))
    except (gym.error.Error, TypeError, ValueError) as exc:
        raise SnnControlError(f"cannot make the swimmer {env_id!r}: {first_line(exc)}") from None


def head_position(info: dict[str, Any], copies: int) -> np.ndarray:
    """The head's (x, y) position [copies, 2] (m) from a step's or reset's info; NaN where it reports none."""
    if "x_position" in info and "y_position" in info:
        return np.stack([np.asarray(info["x_position"], np.float64), np.asarray(info["y_position"], np.float64)], 1)
    return np.full((copies, 2), np.nan)


def nose(env: gym.vector.VectorEnv, copies: int, plant: bool) -> np.ndarray:
    """The direction of the head's nose, unit (x, y) vectors [copies, 2], from the plant's state (its yaw, rad,
    counter-clockwise from +x: the direction its head-frame forward speed and NCAP reward measure progress along);
    NaN for another body."""
    if not plant:
        return np.full((copies, 2), np.nan)
    yaw = env.unwrapped.core.physics.qpos[:, 2]
    return np.stack([np.cos(yaw), np.sin(yaw)], 1)


def forward_speed(info: dict[str, Any], copies: int) -> np.ndarray:
    """Forward speed (m/s) of every copy from a step's info: the plant's head speed, else a Gymnasium MuJoCo
    swimmer's x_velocity, else NaN."""
    for key in ("forward_velocity", "x_velocity"):
        if key in info:
            return np.asarray(info[key], dtype=np.float64)
    return np.full(copies, np.nan)
