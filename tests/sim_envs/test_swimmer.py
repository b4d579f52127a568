"""N-link swimmer: travelling-wave propulsion for every size, NCAP joint limits and rewards."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_envs import SwimmerEnv, SwimmerVectorEnv


def _travelling_wave(n_joints: int, steps: int, dt: float) -> np.ndarray:
    """Joint torques [steps, n_joints]: a 0.5 Hz sine whose phase lags pi/2 per joint from head to tail."""
    t = np.arange(steps)[:, None] * dt
    return np.sin(2 * np.pi * 0.5 * t - np.pi / 2 * np.arange(n_joints)[None, :])


@pytest.mark.parametrize("n_links", range(3, 16))
def test_travelling_sine_wave_swims_the_head_forward(n_links: int) -> None:
    env = SwimmerEnv(n_links=n_links, reset_noise_scale=0.0)
    env.reset(seed=0)
    for action in _travelling_wave(n_links - 1, 200, env.dt):
        info = env.step(action)[4]
    assert info["x_position"] > 0.03  # m in 6 s, well clear of the reset noise


def test_joint_limit_is_two_pi_over_joints_plus_one_and_is_enforced() -> None:
    env = SwimmerEnv(n_links=6)
    assert env.joint_limit == pytest.approx(2 * math.pi / 6)
    env.reset(seed=0)
    for _ in range(100):
        obs = env.step(np.ones(5))[0]
    assert np.all(np.abs(obs[:5]) < env.joint_limit * 1.1)  # soft limits may be entered slightly


def test_ncap_reward_is_zero_at_rest_and_one_at_a_tenth_of_a_metre_per_second() -> None:
    envs = SwimmerVectorEnv(3, reset_noise_scale=0.0)
    envs.reset(seed=0)
    qvel = envs.core.physics.qvel
    qvel[:, 0] = [0.0, -0.3, 0.3]  # head facing +x: forward velocity along world x
    reward, info = envs.step(np.zeros((3, 5)))[1::3]
    assert info["forward_velocity"][2] > 0.1
    np.testing.assert_array_equal(reward, [0.0, 0.0, 1.0])


def test_forward_reward_is_head_x_speed_minus_control_cost() -> None:
    env = SwimmerEnv(reward="forward", ctrl_cost_weight=0.1)
    env.reset(seed=1)
    _, reward, _, _, info = env.step(np.full(5, 0.5))
    assert reward == pytest.approx(info["x_velocity"] - 0.1 * 5 * 0.25)


def test_observation_holds_joint_angles_velocities_and_head_frame_velocity() -> None:
    envs = SwimmerVectorEnv(1, n_links=4)
    obs, _ = envs.reset(seed=2)
    qpos, qvel = envs.core.physics.qpos[0], envs.core.physics.qvel[0]
    yaw = qpos[2]
    forward = math.cos(yaw) * qvel[0] + math.sin(yaw) * qvel[1]
    np.testing.assert_allclose(obs[0], [*qpos[3:], *qvel[3:], forward, obs[0, 7], qvel[2]])
    assert obs.shape == (1, 2 * 3 + 3)
