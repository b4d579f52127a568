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
from sim_envs.registration import ENVS
from sim_envs.rendering import available_render_modes

IDS = ["sim_envs/BlimpAltitude-v0", "sim_envs/Swimmer-v0"]


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_every_registered_env_passes_gymnasium_check_env_with_its_render_check(env_id: str) -> None:
    """The ODE plant reported render_modes ['rgb_array'] and refused that mode: check_env failed on it."""
    env = gym.make(env_id)
    modes = env.unwrapped.metadata["render_modes"]
    assert modes == ([] if env_id == "sim_envs/BlimpAltitudeODE-v0" else available_render_modes())
    if modes:
        env.close()
        env = gym.make(env_id, render_mode="rgb_array", width=32, height=24)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # advisory notes on unbounded / unnormalized Boxes
        check_env(env.unwrapped, skip_render_check=False)
    env.close()


def _episode_steps(env: gym.Env | VectorEnv, limit: int) -> int:
    """Steps until the first episode (of copy 0) ends, at most `limit`."""
    env.reset(seed=0)
    for k in range(1, limit + 1):
        _, _, terminated, truncated, _ = env.step(np.zeros(env.action_space.shape))
        if np.any(np.asarray(terminated) | np.asarray(truncated)):
            return k
    return limit


@pytest.mark.parametrize("steps", ["absent", None, 7, 1003])
def test_the_swimmer_episode_lasts_max_episode_steps_in_make_and_every_make_vec_mode(steps: int | str | None) -> None:
    """Gymnasium keeps make's max_episode_steps for its TimeLimit: the plant's own 1000-step limit ended longer
    episodes in gym.make and make_vec "sync", while "vector_entry_point" honoured them; None is the default in
    every mode (the vector entry point got it as "no limit")."""
    kwargs = {"n_links": 3} if steps == "absent" else {"n_links": 3, "max_episode_steps": steps}
    expected = steps if isinstance(steps, int) else 1000
    envs = [gym.make("sim_envs/Swimmer-v0", **kwargs)] + [
        gym.make_vec("sim_envs/Swimmer-v0", num_envs=2, vectorization_mode=mode, **kwargs)
        for mode in ("sync", "vector_entry_point")
    ]
    for env in envs:
        assert _episode_steps(env, 1100) == expected, env
        env.close()
    assert sim_envs.SwimmerEnv(n_links=3).core.max_episode_steps == 1000  # the class's own default is unchanged


def test_a_numpy_integer_seeds_the_vector_env_as_the_same_python_int() -> None:
    envs = sim_envs.SwimmerVectorEnv(2, n_links=3)
    expected = envs.reset(seed=3)[0]
    np.testing.assert_array_equal(envs.reset(seed=np.int64(3))[0], expected)
    np.testing.assert_array_equal(envs.reset(seed=[np.int64(3), np.int32(4)])[0], expected)
    np.testing.assert_array_equal(sim_envs.SwimmerEnv(n_links=3).reset(seed=np.int64(4))[0], expected[1])
    for seed in (1.5, "3", [1]):
        with pytest.raises(ValueError, match="seed must be an int or a list of 2 seeds") as caught:
            envs.reset(seed=seed)
        assert "\n" not in str(caught.value)
    envs.close()


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
    and the ODE plant made it 0 (inf: full thrust); a scalar was an IndexError, extra values were dropped; True
    and 1+1j ran as 1.0."""
    env = gym.make(env_id)
    env.reset(seed=0)
    shape = env.action_space.shape
    for action, message in (
        (np.full(shape, np.nan), "action must be finite"),
        (np.full(shape, np.inf), "action must be finite"),
        (np.zeros(()), f"action must have shape {shape}, got ()"),
        (np.zeros((shape[0] + 1,)), f"action must have shape {shape}"),
        ("up", "action must be real numbers"),
        (np.ones(shape, dtype=bool), "action must be real numbers of shape"),  # ran as 1.0
        (np.full(shape, 1 + 1j), "action must be real numbers of shape"),  # ran as 1.0, with a ComplexWarning
        ([True] + [0.5] * (shape[0] - 1), "action must be real numbers of shape"),  # mixed: converts to floats
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


@pytest.mark.parametrize("env_id", ["sim_envs/BlimpAltitude-v0", "sim_envs/BlimpAltitudeODE-v0"])
def test_a_blimp_episode_ends_at_max_episode_steps_in_every_make_vec_mode(env_id: str) -> None:
    """The vector entry point took max_episode_steps to the plant's constructor: a TypeError and a stack dump,
    where the "sync" mode (a TimeLimit over each single env) truncated at that step."""
    envs = [gym.make_vec(env_id, num_envs=2, vectorization_mode=mode, max_episode_steps=12, episode_length_s=3.0)
            for mode in ("vector_entry_point", "sync")]
    first = [env.reset(seed=4)[0] for env in envs]
    np.testing.assert_array_equal(*first)
    ends = []
    for step in range(30):
        (obs, reward, _, truncated, _), other = (env.step(np.full((2, 1), 0.5)) for env in envs)
        np.testing.assert_array_equal(obs, other[0])
        assert reward.tolist() == other[1].tolist() and truncated.tolist() == other[3].tolist()
        ends += [step] * bool(truncated.all())
    assert ends == [11, 24]  # 12 steps, then the autoreset step, then 12 more
    with pytest.raises(ValueError, match="max_episode_steps must be a positive integer or None, got 0"):
        gym.make_vec(env_id, num_envs=2, max_episode_steps=0)


def test_a_vector_env_stepped_before_its_first_reset_asks_for_a_reset() -> None:
    """It stepped a zeroed plant (the MuJoCo gondola inside the floor) and ended in an IndexError at the autoreset."""
    env = gym.make_vec("sim_envs/BlimpAltitudeODE-v0", num_envs=2, episode_length_s=0.2)
    with pytest.raises(gym.error.ResetNeeded, match="call reset"):
        env.step(np.zeros((2, 1)))
