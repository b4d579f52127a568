"""Gymnasium ids of the plants, registered on ``import sim_envs``.

``gymnasium.make("sim_envs/BlimpAltitude-v0", **kw)`` (MuJoCo) / ``gymnasium.make("sim_envs/BlimpAltitudeODE-v0",
**kw)`` (the 1-D ODE, a second, independently formulated blimp model) / ``gymnasium.make("sim_envs/Swimmer-v0",
**kw)`` give one environment; ``gymnasium.make_vec(id, num_envs=P, vectorization_mode="vector_entry_point",
**kw)`` gives the batched ``VectorEnv``. Episode length is a keyword of each env (no TimeLimit wrapper is added).
"""

from __future__ import annotations

import gymnasium as gym

ENVS = {
    "sim_envs/BlimpAltitude-v0": "sim_envs.blimp.env:BlimpAltitude",
    "sim_envs/BlimpAltitudeODE-v0": "sim_envs.blimp.env:BlimpAltitudeODE",
    "sim_envs/Swimmer-v0": "sim_envs.swimmer.env:Swimmer",
}


def register_all() -> None:
    """Register every id once (re-importing is harmless)."""
    for env_id, target in ENVS.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=f"{target}Env", vector_entry_point=f"{target}VectorEnv")
