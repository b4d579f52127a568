"""Closed-loop fitness: every individual flies `episodes` episodes of a Gymnasium environment, all P * E copies
in one vector env stepped together through one `snncontrol.policy.SNNPolicy` (obs -> actions).

The env is `gymnasium.make_vec(id, num_envs=P*E, vectorization_mode=...)`: "vector_entry_point" where the id
has one (sim_envs plants), else "sync" (e.g. Gymnasium's Swimmer-v5). Episode e of every individual is reset
with the seed derive_seed(run seed, generation, e), so all individuals of a generation face the same
episodes (with resample_episodes false, every generation faces generation 0's) and a copy's result never
depends on its place in a chunk, the backend or the worker count.
Autoreset is NEXT_STEP: a copy stops accumulating after the step that ends its episode. Scores, averaged
over episodes: return (sum of rewards); tracking_error, itae, steady_state (from `steady_after_steps` after each
set-point change) and overshoot as `snncontrol.tracking` defines them, over info[setpoint_key] and
info[error_key] after every step (the samples `snncontrol.evaluation.blimp_flight.Flight.metrics` scores, so a
report of the same flight gives the same numbers; tracking_error alone reads no set-point); contacts, the fraction
of the samples from contact_after_steps steps on (the info after step k is the sample at k + 1) at which
info[contact_key] <= contact_below; sops / spikes /
energy (J, `snncontrol.energy`) counted until the episode's end; with `weights`, their weighted sum.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np

import sim_envs  # noqa: F401  (registers the sim_envs/* ids)
from evolution.config import ClosedLoopConfig, objective_names
from evolution.errors import ConfigError
from evolution.fitness.objectives import energy_objectives, weights
from evolution.rng import VALIDATION_KEY, derive_seed
from snncontrol.adapters import IOAdapters
from snncontrol.energy import counters_report
from snncontrol.errors import SpecError, described
from snncontrol.network import Network, Params
from snncontrol.policy import SNNPolicy
from snncontrol.spec import NetworkSpec
from snncontrol.tracking import TrackingAccumulator

TRACKED = ("tracking_error", "itae", "steady_state", "overshoot")  # objectives a TrackingAccumulator gives


class ClosedLoopFitness:
    def __init__(self, cfg: ClosedLoopConfig, spec: NetworkSpec, io: IOAdapters, seed: int, worker: bool) -> None:
        self.cfg, self.io, self.seed = cfg, io, seed
        self.net = Network(spec)
        self.kwargs = cfg.env.constructor_kwargs(worker)
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
            except Exception as exc:  # any env keyword can make an env's constructor raise anything
                raise ConfigError(f"fitness.env: cannot make {env_id!r}: {described(exc)}") from None
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
        core = getattr(env, "core", None)  # (the project's plants; other envs' step is their own business)
        plant_dt = getattr(core, "control_dt", None)
        if plant_dt is not None and not math.isclose(plant_dt, spec.dt, rel_tol=1e-9):
            raise ConfigError(f"network.dt: the network steps every {spec.dt:g} s and {self.cfg.env.id} every "
                              f"{plant_dt:g} s (one network step per control step: the energy and every time "
                              "constant would be off by their ratio)")

    def generation_data(self, generation: int) -> dict[str, np.ndarray]:
        """Episode seeds of this generation, [E] (generation 0's for every generation without resampling)."""
        key = generation if self.cfg.resample_episodes else 0
        return {"seeds": np.array([derive_seed(self.seed, key, e) for e in range(self.cfg.env.episodes)])}

    def selection_data(self) -> dict[str, np.ndarray] | None:
        """The fixed validation episodes' seeds [V] on which the run picks its results (the champion, and each
        Pareto front member's `selection_` values); None without `validation_episodes`."""
        if not self.cfg.validation_episodes:
            return None
        return {"seeds": np.array([derive_seed(self.seed, VALIDATION_KEY, k)
                                   for k in range(self.cfg.validation_episodes)])}

    def _validation_loss(self, genome: np.ndarray) -> float:
        """The first objective of one genome [D] over the fixed validation episodes, as a loss (lower is better)."""
        data = self.selection_data()
        assert data is not None  # (only set as the selection loss with validation episodes)
        value = float(self.evaluate(genome[None], data)[0, 0])
        return -value if weights(objective_names(self.cfg))[0] > 0 else value

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        """genomes [P, D] -> objectives [P, M], each the mean over the E episodes."""
        batch, episodes = genomes.shape[0], len(data["seeds"])
        copies = batch * episodes  # copy p * E + e
        env = self._env(copies)
        params = Params(*(t.repeat_interleave(episodes, dim=0) for t in self.net.params(genomes)))
        policy = SNNPolicy(self.net, params, self.io)
        obs, _ = env.reset(seed=np.tile(data["seeds"], batch).tolist())
        alive = np.ones(copies, dtype=bool)
        total, steps, sops = np.zeros(copies), np.zeros(copies), np.zeros(copies)
        spikes = np.zeros((copies, len(self.net.spec.layers)))
        tracked = set(self.cfg.objectives) & set(TRACKED)
        tracker = TrackingAccumulator(copies, self.cfg.steady_after_steps) if tracked else None
        segmented = bool(tracked - {"tracking_error"})  # the others need the set-point
        broken = np.zeros(copies, dtype=bool)  # a NaN / inf input the network cannot hold, or command: scored NaN
        counts_contacts = "contacts" in self.cfg.objectives
        touching, judged = np.zeros(copies), np.zeros(copies)
        for step in range(self.cfg.env.episode_steps):
            x = policy.inputs(obs)  # (the adapter makes a value outside its valid range NaN: a lost sample)
            if not policy.holds_samples:  # the policy refuses a non-finite input: that copy's network reads 0
                x = _zero_non_finite(x, broken)
            action = _zero_non_finite(np.asarray(policy.act_on_inputs(x), dtype=np.float64), broken)  # plant gets 0
            obs, reward, terminated, truncated, info = env.step(action)
            total += np.where(alive, reward, 0.0)
            if tracker is not None:
                error = self._info(info, self.cfg.error_key)
                setpoint = self._info(info, self.cfg.setpoint_key, "setpoint_key") if segmented else np.zeros(copies)
                tracker.add(setpoint, error, alive)
            if counts_contacts and step + 1 >= self.cfg.contact_after_steps:  # (this sample is at (step + 1) dt)
                judged += alive
                touching += alive & (self._info(info, self.cfg.contact_key, "contact_key") <= self.cfg.contact_below)
            steps += alive
            spikes_now, sops_now = policy.counters()
            sops = np.where(alive, sops_now, sops)
            spikes = np.where(alive[:, None], spikes_now, spikes)
            alive &= ~(np.asarray(terminated) | np.asarray(truncated))
            if not alive.any():
                break
        values = {"return": total, "contacts": touching / np.maximum(judged, 1.0)}
        if tracker is not None:
            values.update({name: getattr(tracker, name)() for name in TRACKED})
            # a copy that flew past steady_after_steps without one steady sample: every hold was shorter (a copy
            # that ended sooner scores NaN, its own failure)
            if "steady_state" in tracked and ((steps > self.cfg.steady_after_steps) & (tracker.steady_n == 0)).any():
                raise ConfigError(f"fitness.steady_after_steps: no set-point was held {self.cfg.steady_after_steps} "
                                  "steps, so there is no steady-state error to score: give a number below the "
                                  "schedule's hold (in control steps)")
        values.update(energy_objectives(counters_report(self.net, spikes, sops, steps)))
        scores = np.stack([values[name].reshape(batch, episodes).mean(axis=1) for name in self.cfg.objectives], 1)
        scores[broken.reshape(batch, episodes).any(axis=1)] = np.nan  # counted as the worst score by the loop
        return scores if self.cfg.weights is None else scores @ np.asarray(self.cfg.weights)[:, None]

    def _info(self, info: dict[str, Any], key: str, field: str = "error_key") -> np.ndarray:
        if key not in info:
            raise ConfigError(f"fitness.{field}: {self.cfg.env.id} reports no info[{key!r}] (has {sorted(info)})")
        return np.asarray(info[key], dtype=np.float64)

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs.clear()


def _zero_non_finite(values: np.ndarray, broken: np.ndarray) -> np.ndarray:
    """`values` [copies, ...] with every copy that holds NaN or inf set to 0; those copies are marked in `broken`
    [copies] (in place), so that their genomes score NaN, the loop's worst."""
    finite = np.isfinite(values).reshape(len(values), -1).all(axis=1)
    if finite.all():
        return values
    broken |= ~finite
    return np.where(finite.reshape(-1, *([1] * (values.ndim - 1))), values, 0.0)
