"""Both plants are registered Gymnasium environments with a real VectorEnv behind make_vec."""

from __future__ import annotations

import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, VectorEnv

import sim_envs

IDS = ["sim_envs/BlimpAltitude-v0", "sim_envs/Swimmer-v0"]


@pytest.mark.parametrize("env_id", IDS)
def test_registered_env_passes_gymnasium_check_env(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array", width=32, height=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # advisory notes on unbounded / unnormalized Boxes
        check_env(env.unwrapped)
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_make_vec_gives_a_batched_vector_env_with_next_step_autoreset(env_id: str) -> None:
    envs = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(envs, VectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = envs.reset(seed=0)
    assert obs.shape == (3, *envs.single_observation_space.shape)
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
    assert obs.shape == (3, *envs.single_observation_space.shape)
    assert reward.shape == terminated.shape == truncated.shape == (3,)
    assert all(value.shape[0] == 3 for value in info.values())
    envs.close()


def test_vector_env_restarts_a_finished_copy_on_the_next_step_with_zero_reward() -> None:
    envs = sim_envs.SwimmerVectorEnv(2, max_episode_steps=3)
    obs, _ = envs.reset(seed=5)
    first_obs = obs.copy()
    for _ in range(3):
        obs, reward, terminated, truncated, _ = envs.step(np.ones((2, 5)))
    assert truncated.all() and not terminated.any()
    obs, reward, terminated, truncated, _ = envs.step(np.ones((2, 5)))
    assert not truncated.any() and np.all(reward == 0.0)
    assert not np.allclose(obs, first_obs)  # a fresh episode drawn from the continuing generators
    assert np.allclose(obs[:, :5], 0.0, atol=0.1)  # straight body, joint noise within reset_noise_scale


@pytest.mark.parametrize("env_id", [*IDS, "sim_envs/BlimpAltitudeODE-v0"])
def test_an_action_with_nan_inf_or_the_wrong_shape_is_refused_in_one_line(env_id: str) -> None:
    """NaN reached MuJoCo (which reset the simulation, and the next valid command started a spurious rotor flip)
    and the ODE plant made it 0 (inf: full thrust); a scalar was an IndexError, extra values were dropped."""
    env = gym.make(env_id)
    env.reset(seed=0)
    shape = env.action_space.shape
    for action, message in (
        (np.full(shape, np.nan), "action must be finite"),
        (np.full(shape, np.inf), "action must be finite"),
        (np.zeros(()), f"action must have shape {shape}, got ()"),
        (np.zeros((shape[0] + 1,)), f"action must have shape {shape}"),
        ("up", "action must be numbers"),
    ):
        with pytest.raises(ValueError, match=re.escape(message)) as caught:
            env.step(action)
        assert "\n" not in str(caught.value)
    envs = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="action must be finite"):
        envs.step(np.r_[np.zeros((1, *shape)), np.full((1, *shape), np.nan)])
    env.close()
    envs.close()
