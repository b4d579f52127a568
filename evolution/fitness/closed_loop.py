"""Closed-loop fitness: every individual flies `episodes` episodes of a Gymnasium environment, all P * E copies
in one vector env stepped together: obs -> observation adapter -> net.step -> action adapter -> actions.

The env is `gymnasium.make_vec(id, num_envs=P*E, vectorization_mode=...)`: "vector_entry_point" where the id
has one (sim_envs plants), else "sync" (e.g. Gymnasium's Swimmer-v5). Episode e of every individual is reset
with the seed derive_seed(run seed, generation, e), so all individuals of a generation face the same
episodes (with resample_episodes false, every generation faces generation 0's) and a copy's result never
depends on its place in a chunk, the backend or the worker count.
Autoreset is NEXT_STEP: a copy stops accumulating after the step that ends its episode. Scores, averaged
over episodes: return (sum of rewards), tracking_error (mean |info[error_key]| over the episode's steps),
itae (mean |info[error_key]| weighted by the time since info[setpoint_key] last changed, counted in steps),
steady_state (mean |info[error_key]| over the steps `steady_after_steps` or more since that change), overshoot
(past each set-point in the direction of its step, mean over set-points), sops / spikes / energy (J) counted
until the episode's end; with `weights`, their weighted sum.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

import sim_envs  # noqa: F401  (registers the sim_envs/* ids)
from evolution.config import ClosedLoopConfig, objective_names
from evolution.errors import ConfigError
from evolution.fitness.objectives import counters_report, energy_objectives, weights
from evolution.rng import derive_seed
from snncontrol.adapters import IOAdapters
from snncontrol.errors import SpecError
from snncontrol.network import Network, Params
from snncontrol.spec import NetworkSpec

VALIDATION_KEY = 2**32 - 1  # derive_seed(run seed, VALIDATION_KEY, k): no generation's episodes share these


class Overshoot:
    """Per copy, the mean over the episode's set-points of how far the value went past each set-point in the
    direction of its step (m, >= 0), from error = set-point - value: a step's direction is the sign of the error
    on its first step, and it overshoots where -direction * error > 0."""

    def __init__(self, copies: int) -> None:
        self.direction, self.current = np.zeros(copies), np.zeros(copies)
        self.total, self.count = np.zeros(copies), np.zeros(copies)

    def add(self, new_setpoint: np.ndarray, error: np.ndarray, alive: np.ndarray) -> None:
        """One step: `new_setpoint` [P] marks the first step of a set-point, `error` [P] the error after it."""
        closing = new_setpoint & alive & (self.direction != 0)  # the previous set-point ends here
        self.total += np.where(closing, self.current, 0.0)
        self.count += closing
        self.direction = np.where(new_setpoint & alive, np.sign(error), self.direction)
        self.current = np.where(new_setpoint, 0.0, self.current)
        self.current = np.where(alive, np.maximum(self.current, -self.direction * error), self.current)

    def mean(self) -> np.ndarray:
        """[P] in m (the set-point flown last counts too)."""
        total = self.total + np.where(self.direction != 0, self.current, 0.0)
        return total / np.maximum(self.count + (self.direction != 0), 1.0)


class ClosedLoopFitness:
    def __init__(self, cfg: ClosedLoopConfig, spec: NetworkSpec, io: IOAdapters, seed: int, worker: bool) -> None:
        self.cfg, self.io, self.seed = cfg, io, seed
        self.net = Network(spec)
        self.kwargs = {**cfg.env.kwargs, **(cfg.env.worker_kwargs if worker else {})}
        self._envs: dict[int, gym.vector.VectorEnv] = {}
        self._check(self._env(1))
        # The champion's yardstick when generations fly different episodes (see ClosedLoopConfig).
        self.selection_loss = self._validation_loss if cfg.validation_episodes else None

    def _env(self, copies: int) -> gym.vector.VectorEnv:
        """The vector env of `copies` copies (built once per size and kept)."""
        if copies not in self._envs:
            env_id, mode = self.cfg.env.id, self.cfg.env.vectorization_mode
            if mode == "auto":
                try:
                    has_vector = gym.spec(env_id).vector_entry_point is not None
                except gym.error.Error as exc:
                    raise ConfigError(f"fitness.env.id: {exc}") from None
                mode = "vector_entry_point" if has_vector else "sync"
            try:
                self._envs[copies] = gym.make_vec(env_id, num_envs=copies, vectorization_mode=mode, **self.kwargs)
            except (gym.error.Error, TypeError, ValueError) as exc:
                raise ConfigError(f"fitness.env: cannot make {env_id!r}: {exc}") from None
        return self._envs[copies]

    def _check(self, env: gym.vector.VectorEnv) -> None:
        """The adapters must turn the env's observations into the network's inputs and its outputs into actions."""
        obs_shape, act_shape = env.single_observation_space.shape, env.single_action_space.shape
        if obs_shape is None or len(obs_shape) != 1 or act_shape is None or len(act_shape) != 1:
            raise ConfigError(f"fitness.env: {self.cfg.env.id} needs flat Box observations and actions")
        spec = self.net.spec
        try:
            self.io.check(obs_shape[0], act_shape[0], spec.n_inputs, spec.n_outputs, self.cfg.env.id)
        except SpecError as exc:
            raise ConfigError(f"fitness.io: {exc}") from None

    def generation_data(self, generation: int) -> dict[str, np.ndarray]:
        """Episode seeds of this generation, [E] (generation 0's for every generation without resampling)."""
        key = generation if self.cfg.resample_episodes else 0
        return {"seeds": np.array([derive_seed(self.seed, key, e) for e in range(self.cfg.env.episodes)])}

    def _validation_loss(self, genome: np.ndarray) -> float:
        """The first objective of one genome [D] over the fixed validation episodes, as a loss (lower is better)."""
        seeds = [derive_seed(self.seed, VALIDATION_KEY, k) for k in range(self.cfg.validation_episodes)]
        value = float(self.evaluate(genome[None], {"seeds": np.array(seeds)})[0, 0])
        return -value if weights(objective_names(self.cfg))[0] > 0 else value

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        """genomes [P, D] -> objectives [P, M], each the mean over the E episodes."""
        batch, episodes = genomes.shape[0], len(data["seeds"])
        copies = batch * episodes  # copy p * E + e
        env = self._env(copies)
        params = Params(*(t.repeat_interleave(episodes, dim=0) for t in self.net.params(genomes)))
        obs, _ = env.reset(seed=np.tile(data["seeds"], batch).tolist())
        state = self.net.init_state(copies)
        alive = np.ones(copies, dtype=bool)
        total, error, steps, sops, weighted, weight_sum, steady, steady_n = (np.zeros(copies) for _ in range(8))
        spikes = np.zeros((copies, len(self.net.spec.layers)))
        tracking = "tracking_error" in self.cfg.objectives
        timed = bool({"itae", "steady_state"} & set(self.cfg.objectives))  # both count steps since a change
        overshoot = Overshoot(copies) if "overshoot" in self.cfg.objectives else None
        held, setpoint = np.zeros(copies), np.full(copies, np.nan)  # steps since the set-point last changed
        for _ in range(self.cfg.env.episode_steps):
            x = torch.as_tensor(self.io.observation(np.asarray(obs, dtype=np.float64)), dtype=self.net.dtype)
            out, state = self.net.step(params, x, state)
            obs, reward, terminated, truncated, info = env.step(self.io.action(out.double().numpy()))
            total += np.where(alive, reward, 0.0)
            if tracking or timed or overshoot is not None:
                signed_error = self._info(info, self.cfg.error_key)
                abs_error = np.where(alive, np.abs(signed_error), 0.0)
                error += abs_error
            if timed or overshoot is not None:
                now = self._info(info, self.cfg.setpoint_key)
                held = np.where(now == setpoint, held + 1.0, 0.0)
                setpoint = now
                weighted += held * abs_error
                weight_sum += np.where(alive, held, 0.0)
                settled = alive & (held >= self.cfg.steady_after_steps)
                steady += np.where(settled, abs_error, 0.0)
                steady_n += settled
                if overshoot is not None:
                    overshoot.add(held == 0, signed_error, alive)
            steps += alive
            sops = np.where(alive, state.sops.numpy(), sops)
            spikes = np.where(alive[:, None], state.spikes.numpy(), spikes)
            alive &= ~(np.asarray(terminated) | np.asarray(truncated))
            if not alive.any():
                break
        values = {
            "return": total,
            "tracking_error": error / np.maximum(steps, 1.0),
            "itae": weighted / np.maximum(weight_sum, 1e-12),
            "steady_state": steady / np.maximum(steady_n, 1.0),
        }
        if overshoot is not None:
            values["overshoot"] = overshoot.mean()
        values.update(energy_objectives(counters_report(self.net, spikes, sops, steps)))
        scores = np.stack([values[name].reshape(batch, episodes).mean(axis=1) for name in self.cfg.objectives], 1)
        return scores if self.cfg.weights is None else scores @ np.asarray(self.cfg.weights)[:, None]

    def _info(self, info: dict[str, Any], key: str) -> np.ndarray:
        if key not in info:
            raise ConfigError(f"fitness.error_key: {self.cfg.env.id} reports no info[{key!r}] (has {sorted(info)})")
        return np.asarray(info[key], dtype=np.float64)

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()
