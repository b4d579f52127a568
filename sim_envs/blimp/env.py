"""Gymnasium environments of the blimp altitude plant: ``BlimpAltitudeEnv`` (one blimp) and
``BlimpAltitudeVectorEnv`` (P blimps stepped together). Observation, action, reward, info and every
constructor keyword with its default and unit: see ``sim_envs.blimp.plant.BlimpCore``. Both also take
render_mode (None | "rgb_array" | "human") and width, height (pixels); the vector env takes num_envs and
n_threads (physics threads, default: all cores).
"""

from __future__ import annotations

from typing import Any

from sim_envs.blimp.plant import BlimpCore
from sim_envs.gym_envs import CoreEnv, CoreVectorEnv


class BlimpAltitudeEnv(CoreEnv):
    """One micro-blimp tracking altitude set-points."""

    def __init__(
        self, render_mode: str | None = None, width: int = 480, height: int = 480, **kwargs: Any
    ) -> None:
        super().__init__(BlimpCore(n_copies=1, **kwargs), render_mode, width, height)


class BlimpAltitudeVectorEnv(CoreVectorEnv):
    """``num_envs`` micro-blimps, each with its own randomized model, stepped by one rollout thread pool."""

    def __init__(
        self, num_envs: int, render_mode: str | None = None, width: int = 480, height: int = 480,
        **kwargs: Any,
    ) -> None:
        super().__init__(BlimpCore(n_copies=num_envs, **kwargs), render_mode, width, height)
