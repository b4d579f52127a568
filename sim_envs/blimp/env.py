"""Gymnasium environments of the blimp altitude plants: ``BlimpAltitudeEnv`` (one blimp) and
``BlimpAltitudeVectorEnv`` (P blimps stepped together) on the MuJoCo plant (every constructor keyword with its
default and unit: see ``sim_envs.blimp.plant.BlimpCore``; they also take render_mode (None | "rgb_array" |
"human") and width, height (pixels); the vector env takes num_envs and n_threads (physics threads, default: all
cores)), and ``BlimpAltitudeODEEnv`` / ``BlimpAltitudeODEVectorEnv`` on the independently formulated 1-D ODE
plant (``sim_envs.blimp.ode_plant.BlimpODECore``; same observation, action, reward and schedule; nothing to
render).
"""

from __future__ import annotations

from typing import Any

from sim_envs.blimp.ode_plant import BlimpODECore
from sim_envs.blimp.plant import BlimpCore
from sim_envs.gym_envs import CoreEnv, CoreVectorEnv


class BlimpAltitudeEnv(CoreEnv):
    """One micro-blimp tracking altitude set-points."""

    def __init__(self, render_mode: str | None = None, width: int = 480, height: int = 480, **kwargs: Any) -> None:
        super().__init__(BlimpCore(n_copies=1, **kwargs), render_mode, width, height)


class BlimpAltitudeVectorEnv(CoreVectorEnv):
    """``num_envs`` micro-blimps, each with its own randomized model, stepped by one rollout thread pool."""

    def __init__(
        self,
        num_envs: int,
        render_mode: str | None = None,
        width: int = 480,
        height: int = 480,
        max_episode_steps: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(BlimpCore(n_copies=num_envs, **kwargs), render_mode, width, height, max_episode_steps)


class BlimpAltitudeODEEnv(CoreEnv):
    """One blimp of the 1-D altitude ODE."""

    metadata: dict[str, Any] = {**CoreEnv.metadata, "render_modes": []}  # noqa: RUF012

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        super().__init__(BlimpODECore(n_copies=1, **kwargs), render_mode, 0, 0)


class BlimpAltitudeODEVectorEnv(CoreVectorEnv):
    """``num_envs`` blimps of the 1-D altitude ODE, stepped together as arrays."""

    metadata: dict[str, Any] = {**CoreVectorEnv.metadata, "render_modes": []}  # noqa: RUF012

    def __init__(
        self, num_envs: int, render_mode: str | None = None, max_episode_steps: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(BlimpODECore(n_copies=num_envs, **kwargs), render_mode, 0, 0, max_episode_steps)
