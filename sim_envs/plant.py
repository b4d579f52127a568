"""The plant interface shared by the single and the vectorized environments.

A ``BatchedCore`` holds P copies of one plant as arrays with a leading copy axis and advances all of them
with one call. The single environment is a core with P = 1 and the vector environment a core with P = n,
so both run the very same physics, sensor and reward code: for the same seeds and actions they produce the
same trajectories.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import mujoco
import numpy as np
from gymnasium import spaces

from sim_envs import validation
from sim_envs.batched import BatchedPhysics


def episode_steps(episode_length_s: float, control_rate_hz: float) -> int:
    """Control steps of an episode of ``episode_length_s`` s at ``control_rate_hz`` Hz (> 0, the caller's to check):
    the nearest whole number to their product, at least 1. Every plant that counts its episodes in seconds counts
    their steps so (dividing by the period would round otherwise: 0.15 s / 0.1 s is 1.4999..., 0.15 s * 10 Hz
    1.5000...)."""
    return max(1, round(validation.positive("episode_length_s", episode_length_s) * control_rate_hz))


@dataclass
class Transition:
    """One control step of all P copies: arrays with leading axis P; info values are arrays [P, ...]."""

    observation: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    info: dict[str, np.ndarray]


class BatchedCore(ABC):
    """P copies of a plant. Subclasses set the spaces, ``control_dt`` (s) and ``physics``, and the ``camera`` that
    renders a copy (``renderable`` False: the plant has nothing to render)."""

    observation_space: spaces.Box
    action_space: spaces.Box
    control_dt: float
    physics: BatchedPhysics
    camera: str
    renderable: bool = True

    @property
    def n_copies(self) -> int:
        """P, the number of copies."""
        return self.physics.n_copies

    @abstractmethod
    def reset_copies(self, index: np.ndarray, rngs: Sequence[np.random.Generator]) -> None:
        """Start a new episode in copies ``index``, drawing everything random from ``rngs`` (one each)."""

    @abstractmethod
    def observe(self) -> np.ndarray:
        """Current observations [P, *observation_space.shape]."""

    @abstractmethod
    def info(self) -> dict[str, np.ndarray]:
        """Current diagnostics, each an array [P, ...]."""

    @abstractmethod
    def step(self, action: np.ndarray) -> Transition:
        """Apply actions [P, *action_space.shape] for one control step."""

    def render_data(self, i: int) -> tuple[mujoco.MjModel, mujoco.MjData]:
        """Model and a data holding copy ``i``'s current state, for rendering."""
        return self.physics.models[i], self.physics.load(i)

    def close(self) -> None:
        """Release the physics thread pool."""
        self.physics.close()
