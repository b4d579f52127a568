"""Gymnasium ids of the plants, registered on ``import sim_envs``.

``gymnasium.make("sim_envs/BlimpAltitude-v0", **kw)`` (MuJoCo) / ``gymnasium.make("sim_envs/BlimpAltitudeODE-v0",
**kw)`` (the 1-D ODE, a second, independently formulated blimp model) / ``gymnasium.make("sim_envs/Swimmer-v0",
**kw)`` give one environment; ``gymnasium.make_vec(id, num_envs=P, vectorization_mode="vector_entry_point",
**kw)`` gives the batched ``VectorEnv``.

Episode length: a blimp episode lasts its ``episode_length_s`` keyword (s); Gymnasium's ``max_episode_steps`` can
only end it sooner, the same in every mode (a TimeLimit over the single env; the vector entry point truncates its
copies at that step count). A swimmer episode lasts
``max_episode_steps`` control steps (default 1000), the same in ``gymnasium.make`` and in every ``make_vec`` mode:
Gymnasium keeps that keyword for its TimeLimit wrapper (the single env, hence the "sync" and "async" modes, runs
the plant without a step limit of its own under it) and hands it to the vector entry point, which gives it to the
plant.
"""

from __future__ import annotations

import gymnasium as gym

from sim_envs.swimmer.plant import MAX_EPISODE_STEPS

#: id -> (entry point, vector entry point, the spec's max_episode_steps: Gymnasium's default TimeLimit)
ENVS: dict[str, tuple[str, str, int | None]] = {
    "sim_envs/BlimpAltitude-v0": ("sim_envs.blimp.env:BlimpAltitudeEnv", "sim_envs.blimp.env:BlimpAltitudeVectorEnv",
                                  None),
    "sim_envs/BlimpAltitudeODE-v0": ("sim_envs.blimp.env:BlimpAltitudeODEEnv",
                                     "sim_envs.blimp.env:BlimpAltitudeODEVectorEnv", None),
    "sim_envs/Swimmer-v0": ("sim_envs.swimmer.env:TimeLimitedSwimmerEnv", "sim_envs.swimmer.env:SwimmerVectorEnv",
                            MAX_EPISODE_STEPS),
}


def register_all() -> None:
    """Register every id once (re-importing is harmless)."""
    for env_id, (entry_point, vector_entry_point, max_episode_steps) in ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, vector_entry_point=vector_entry_point,
                         max_episode_steps=max_episode_steps)
