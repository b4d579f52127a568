"""Gymnasium environments of the N-link swimmer: ``SwimmerEnv`` (one swimmer) and ``SwimmerVectorEnv``
(P swimmers stepped together). Observation, action, reward and info: see ``sim_envs.swimmer.plant``.

Keywords (both): n_links (2..30, default 6), link_length (0.1 m), gear (5e-4 N·m at full command), viscosity
(1e-3 Pa·s, water's), density (3000 kg/m³, dm_control's swimmer fluid: three times water's), reward ("ncap" |
"forward"), frame_skip (6), timestep (0.005 s), max_episode_steps (1000; None: no limit in the single env, the
default 1000 in the vector env), ctrl_cost_weight (1e-4), reset_noise_scale (0.1), render_mode (None |
"rgb_array" | "human"), width, height (pixels). The vector env adds num_envs and n_threads (physics threads,
default: all cores). Bounds: see ``sim_envs.swimmer.plant.SwimmerCore``. ``TimeLimitedSwimmerEnv`` is the one
``gymnasium.make`` builds (see ``sim_envs.registration``).
"""

from __future__ import annotations

from typing import Any

from sim_envs.gym_envs import CoreEnv, CoreVectorEnv
from sim_envs.swimmer.plant import MAX_EPISODE_STEPS, SwimmerCore


class SwimmerEnv(CoreEnv):
    """One N-link swimmer; ``joint_limit`` (rad) is the NCAP joint limit for proprioceptive scaling."""

    def __init__(
        self, render_mode: str | None = None, width: int = 480, height: int = 480, **kwargs: Any
    ) -> None:
        self.core: SwimmerCore
        super().__init__(SwimmerCore(n_copies=1, **kwargs), render_mode, width, height)
        self.joint_limit = self.core.joint_limit


class SwimmerVectorEnv(CoreVectorEnv):
    """``num_envs`` swimmers sharing one MjModel, stepped by one rollout thread pool. ``max_episode_steps=None``
    (which ``gymnasium.make_vec`` passes on when given it) means the default, as ``gymnasium.make`` reads it."""

    def __init__(
        self, num_envs: int, render_mode: str | None = None, width: int = 480, height: int = 480,
        max_episode_steps: int | None = MAX_EPISODE_STEPS, **kwargs: Any,
    ) -> None:
        self.core: SwimmerCore
        steps = MAX_EPISODE_STEPS if max_episode_steps is None else max_episode_steps
        super().__init__(SwimmerCore(n_copies=num_envs, max_episode_steps=steps, **kwargs), render_mode, width, height)
        self.joint_limit = self.core.joint_limit


class TimeLimitedSwimmerEnv(SwimmerEnv):
    """``gymnasium.make("sim_envs/Swimmer-v0")``'s swimmer: the plant has no step limit of its own, as Gymnasium's
    TimeLimit ends its episodes after ``make``'s ``max_episode_steps`` (default the spec's 1000), a keyword that
    Gymnasium keeps for the wrapper and never passes on to the environment."""

    def __init__(self, render_mode: str | None = None, width: int = 480, height: int = 480, **kwargs: Any) -> None:
        super().__init__(render_mode, width, height, max_episode_steps=None, **kwargs)
