"""Gymnasium front ends over a ``BatchedCore``: ``CoreEnv`` (one copy, ``gymnasium.Env``) and
``CoreVectorEnv`` (P copies, ``gymnasium.vector.VectorEnv``).

Vector semantics:
- ``reset(seed=s)`` seeds copy i with ``s + i`` (as ``SyncVectorEnv`` does); ``reset(seed=[s0, s1, ...])``
  seeds each copy; copy i then runs exactly like a single environment reset with the same seed.
- Autoreset mode is ``NEXT_STEP``: the step that ends copy i's episode returns its final observation with
  ``terminated`` or ``truncated`` set; the next ``step`` ignores copy i's action, starts a new episode for it
  (drawn from copy i's own generator, as a single env's ``reset()`` without seed would) and returns its
  first observation, reward 0 and both flags False.
- ``info`` holds one array [P, ...] per key plus a boolean mask ``_key`` [P] (all True), the layout
  ``SyncVectorEnv`` produces.
- An action of another shape than the action space's, or with NaN or inf, is refused (ValueError, one line),
  also a copy's that the step ignores; a ``step`` before the first ``reset`` raises Gymnasium's ``ResetNeeded``.
- ``max_episode_steps`` (where the front end takes it): a copy's episode is truncated after that many steps, or
  sooner where the plant ends it, as Gymnasium's TimeLimit over a single env does.
"""

from __future__ import annotations

import numbers
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from sim_envs import validation
from sim_envs.plant import BatchedCore
from sim_envs.rendering import RENDER_MODES, FrameRenderer, available_render_modes, check_render_mode

_ONE = np.zeros(1, dtype=np.intp)


class CoreEnv(gym.Env[np.ndarray, np.ndarray]):
    """A single plant: a thin view of a core with one copy."""

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 30}  # noqa: RUF012

    def __init__(self, core: BatchedCore, render_mode: str | None, width: int, height: int) -> None:
        self.core = core
        self.observation_space = core.observation_space
        self.action_space = core.action_space
        self.render_mode = render_mode
        self.metadata = {**self.metadata, **_render_metadata(core)}
        self._renderer = _frame_renderer(core, render_mode, width, height)

    @property
    def dt(self) -> float:
        """Control period in s."""
        return self.core.control_dt

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        _no_options(options)
        super().reset(seed=_python_int(seed))
        self.core.reset_copies(_ONE, [self.np_random])
        if self.render_mode == "human":
            self.render()
        return self.core.observe()[0], _first(self.core.info())

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        out = self.core.step(validation.action(action, self.action_space.shape)[None])
        if self.render_mode == "human":
            self.render()
        return (out.observation[0], float(out.reward[0]), bool(out.terminated[0]), bool(out.truncated[0]),
                _first(out.info))

    def render(self) -> np.ndarray | None:
        if self._renderer is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        return self._renderer.render(*self.core.render_data(0))

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
        self.core.close()


class CoreVectorEnv(VectorEnv[np.ndarray, np.ndarray, np.ndarray]):
    """P plants stepped together; see the module docstring for seeding, autoreset and info."""

    metadata: dict[str, Any] = {  # noqa: RUF012
        "render_modes": list(RENDER_MODES), "render_fps": 30, "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self, core: BatchedCore, render_mode: str | None, width: int, height: int,
        max_episode_steps: int | None = None,
    ) -> None:
        if max_episode_steps is not None and not (
                isinstance(max_episode_steps, numbers.Integral) and max_episode_steps >= 1):
            raise ValueError(f"max_episode_steps must be a positive integer or None, got {max_episode_steps!r:.80}")
        self.core = core
        self.num_envs = core.n_copies
        self.single_observation_space = core.observation_space
        self.single_action_space = core.action_space
        self.observation_space = batch_space(core.observation_space, self.num_envs)
        self.action_space = batch_space(core.action_space, self.num_envs)
        self.render_mode = render_mode
        self.metadata = {**self.metadata, **_render_metadata(core)}
        self._renderer = _frame_renderer(core, render_mode, width, height)
        self._rngs: list[np.random.Generator] = []
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._all = np.arange(self.num_envs)
        self._max_steps = max_episode_steps
        self._steps = np.zeros(self.num_envs, dtype=np.int64)  # each copy's steps in its episode

    @property
    def dt(self) -> float:
        """Control period in s."""
        return self.core.control_dt

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        _no_options(options)
        if isinstance(seed, numbers.Integral):
            seed = [int(seed) + i for i in range(self.num_envs)]
        if seed is not None:
            if np.ndim(seed) != 1 or len(seed) != self.num_envs:
                raise ValueError(f"seed must be an int or a list of {self.num_envs} seeds, got {seed!r:.80}")
            seed = [_python_int(s) for s in seed]
            self._rngs = [seeding.np_random(s)[0] for s in seed]
            self._np_random_seed = seed[0]
        elif not self._rngs:
            self._rngs = [seeding.np_random()[0] for _ in range(self.num_envs)]
        self.core.reset_copies(self._all, self._rngs)
        self._autoreset[:] = False
        self._steps[:] = 0
        return self.core.observe().copy(), _with_masks(self.core.info())

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._rngs:
            raise gym.error.ResetNeeded("call reset() before step()")
        out = self.core.step(validation.action(actions, self.action_space.shape))
        self._steps += 1
        if self._max_steps is not None:
            out.truncated = out.truncated | (self._steps >= self._max_steps)
        if self._autoreset.any():
            index = np.flatnonzero(self._autoreset)
            self.core.reset_copies(index, [self._rngs[i] for i in index])
            self._steps[index] = 0
            out.observation[index] = self.core.observe()[index]
            out.reward[index] = 0.0
            out.terminated[index] = False
            out.truncated[index] = False
            for key, value in self.core.info().items():
                out.info[key][index] = value[index]
        self._autoreset = out.terminated | out.truncated
        return out.observation, out.reward, out.terminated, out.truncated, _with_masks(out.info)

    def render(self) -> tuple[np.ndarray | None, ...] | None:
        """One frame per copy in 'rgb_array' mode; 'human' shows copy 0."""
        if self._renderer is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array' or 'human'")
            return None
        if self.render_mode == "human":
            return (self._renderer.render(*self.core.render_data(0)),)
        return tuple(self._renderer.render(*self.core.render_data(i)) for i in range(self.num_envs))

    def close_extras(self, **kwargs: Any) -> None:
        if self._renderer is not None:
            self._renderer.close()
        self.core.close()


def _render_metadata(core: BatchedCore) -> dict[str, Any]:
    """Render modes usable here (none where the core has nothing to render) and frames per second of the control
    loop."""
    modes = available_render_modes() if core.renderable else []
    return {"render_modes": modes, "render_fps": round(1.0 / core.control_dt)}


def _frame_renderer(core: BatchedCore, render_mode: str | None, width: int, height: int) -> FrameRenderer | None:
    """The renderer of ``render_mode`` (None: no renderer); ValueError for a mode the core cannot give or a frame size
    its framebuffer cannot hold."""
    if render_mode is not None and not core.renderable:
        raise ValueError(f"the plant {type(core).__name__} has nothing to render: use render_mode=None")
    check_render_mode(render_mode)
    if render_mode is None:
        return None
    renderer = FrameRenderer(render_mode, width, height, core.camera)
    renderer.check_size(core.render_data(0)[0])  # at construction, not at the first render()
    return renderer


def _no_options(options: dict[str, Any] | None) -> None:
    """ValueError in one line for reset options: these plants take every setting at construction, and options
    given to reset() were ignored without a word."""
    if options:
        raise ValueError(f"reset() takes no options here (settings are constructor keywords), got {sorted(options)}")


def _python_int(seed: int | None) -> int | None:
    """A seed given as any integer (``numpy.int64`` too) as a Python int, which Gymnasium's seeding requires; anything
    else as it is, for Gymnasium to accept (None) or refuse in one line."""
    return int(seed) if isinstance(seed, numbers.Integral) else seed


def _first(info: dict[str, np.ndarray]) -> dict[str, Any]:
    """Copy 0's entries of a batched info dict, as Python scalars where they are scalars."""
    return {key: value[0].item() if value[0].ndim == 0 else value[0].copy() for key, value in info.items()}


def _with_masks(info: dict[str, np.ndarray]) -> dict[str, Any]:
    """The batched info dict with SyncVectorEnv-style ``_key`` masks."""
    masks = {f"_{key}": np.ones(len(value), dtype=bool) for key, value in info.items()}
    return {**info, **masks}
