"""P copies stepped together give exactly the trajectories of single environments with the same seeds."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim_envs import BlimpAltitudeEnv, BlimpAltitudeVectorEnv, SwimmerEnv, SwimmerVectorEnv

SEEDS = [11, 12, 13]


def _compare(single_envs: list[Any], vector_env: Any, actions: np.ndarray) -> None:
    obs, _ = vector_env.reset(seed=SEEDS)
    singles = np.stack([env.reset(seed=s)[0] for env, s in zip(single_envs, SEEDS, strict=True)])
    np.testing.assert_array_equal(obs, singles)
    for step_actions in actions:
        obs, reward, _, truncated, info = vector_env.step(step_actions)
        outs = [env.step(a) for env, a in zip(single_envs, step_actions, strict=True)]
        for i, (o, r, _, tr, inf) in enumerate(outs):
            np.testing.assert_array_equal(obs[i], o)
            assert reward[i] == r and truncated[i] == tr
            assert all(np.array_equal(info[key][i], value) for key, value in inf.items())
        if truncated.any():  # NEXT_STEP autoreset: singles start their next episode the same way
            restarted = np.stack([env.reset()[0] for env in single_envs])
            np.testing.assert_array_equal(vector_env.step(actions[0])[0], restarted)


def test_swimmer_batch_matches_single_envs_for_same_seeds_and_actions() -> None:
    kwargs = {"n_links": 5, "max_episode_steps": 30}
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, (40, len(SEEDS), 4))
    vector_env = SwimmerVectorEnv(len(SEEDS), n_threads=2, **kwargs)
    _compare([SwimmerEnv(**kwargs) for _ in SEEDS], vector_env, actions)


def test_blimp_batch_matches_single_envs_with_all_randomization_and_disturbances_on() -> None:
    kwargs = {"episode_length_s": 3.0, "gusts": True, "buoyancy_drift": True, "dropout_prob": 0.2}
    rng = np.random.default_rng(1)
    actions = rng.uniform(-3.3, 3.3, (40, len(SEEDS), 1))
    _compare([BlimpAltitudeEnv(**kwargs) for _ in SEEDS], BlimpAltitudeVectorEnv(len(SEEDS), n_threads=2,
                                                                               **kwargs), actions)


def test_integer_seed_seeds_copy_i_with_seed_plus_i() -> None:
    envs = BlimpAltitudeVectorEnv(3, episode_length_s=1.0)
    obs, _ = envs.reset(seed=11)
    singles = [BlimpAltitudeEnv(episode_length_s=1.0).reset(seed=s)[0] for s in SEEDS]
    np.testing.assert_array_equal(obs, np.stack(singles))
