"""N-link swimmer: travelling-wave propulsion for every size, NCAP joint limits and rewards."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from sim_envs import SwimmerEnv, SwimmerVectorEnv
from sim_envs.swimmer.envelope import SwimmerEnvelope
from sim_envs.swimmer.mjcf import GEAR, MAX_LINKS, MIN_LINKS


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


def test_the_body_is_set_by_its_keywords_and_changes_how_it_swims() -> None:
    """Link length, motor gear and fluid reach the model; a body with twice the gear swims faster, one in a fluid a
    hundred times more viscous slower, under the same stroke."""
    env = SwimmerEnv(n_links=5, link_length=0.15, gear=1e-3, viscosity=0.05, density=1500.0)
    model = env.core.model
    assert model.opt.viscosity == 0.05 and model.opt.density == 1500.0
    assert np.allclose(model.actuator_gear[:, 0], 1e-3) and np.isclose(model.body_pos[2, 0], -0.15)
    env.close()
    speeds = {}
    for name, body in (("default", {}), ("strong", {"gear": 1e-3}), ("viscous", {"viscosity": 0.1})):
        env = SwimmerVectorEnv(1, n_links=6, **body)
        env.reset(seed=0)
        x0 = env.core.physics.qpos[0, 0]
        for action in _travelling_wave(5, 300, env.dt):
            env.step(action[None])
        speeds[name] = (env.core.physics.qpos[0, 0] - x0) / (300 * env.dt)
        env.close()
    assert speeds["strong"] > speeds["default"] > speeds["viscous"] > 0


@pytest.mark.parametrize("body", [{"link_length": 0.0}, {"gear": -1e-3}, {"viscosity": float("nan")},
                                  {"density": -1.0}])
def test_a_body_that_cannot_be_is_refused(body: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(body))):
        SwimmerEnv(**body)


def test_the_envelope_draws_the_same_held_out_bodies_for_a_seed_inside_its_ranges() -> None:
    envelope = SwimmerEnvelope()
    bodies = envelope.bodies(0, 50)
    assert bodies == envelope.bodies(0, 50) and bodies != envelope.bodies(1, 50)
    for key, (low, high) in (("n_links", envelope.links), ("link_length", envelope.link_length),
                             ("viscosity", envelope.viscosity), ("density", envelope.density)):
        values = [b[key] for b in bodies]
        assert low <= min(values) and max(values) <= high and len(set(values)) > 5, key
    assert all(0.5 * 5e-4 <= b["gear"] <= 2 * 5e-4 for b in bodies)
    assert not any(b["n_links"] == 6 and b["link_length"] == 0.1 and b["viscosity"] == 1e-3 for b in bodies)
    with pytest.raises(ValueError, match="viscosity"):
        SwimmerEnvelope(viscosity=(0.1, 0.01))


def test_a_copy_whose_physics_blows_up_is_marked_unstable_until_its_reset() -> None:
    """Motors far too strong for the body (gear 2 N·m): MuJoCo resets the copy mid-step and the swim that follows
    is no motion of that body; the info says so, copy by copy."""
    env = SwimmerVectorEnv(2, n_links=6, gear=2.0)
    calm = SwimmerVectorEnv(1, n_links=6)
    env.reset(seed=0)
    calm.reset(seed=0)
    for k in range(20):
        info = env.step(np.ones((2, 5)) * (-1) ** k)[4]
        assert not calm.step(np.ones((1, 5)) * (-1) ** k)[4]["unstable"].any()
    assert info["unstable"].all()
    env.reset(seed=1)
    assert not env.core.physics.unstable.any()
    env.close()
    calm.close()


#: Bodies at the swimmer envelope's extremes: short strong links in water, in a viscous light fluid; long weak links
#: in a viscous dense fluid
EXTREME_BODIES = [{"link_length": 0.05, "gear": 2 * GEAR},
                  {"link_length": 0.05, "gear": 2 * GEAR, "viscosity": 0.1, "density": 1000.0},
                  {"link_length": 0.2, "gear": 0.5 * GEAR, "viscosity": 0.1, "density": 6000.0}]


@pytest.mark.parametrize("n_links", [MIN_LINKS, 20, MAX_LINKS])
def test_the_fewest_and_the_most_links_build_and_swim_finite_and_stable(n_links: int) -> None:
    """The NCAP takes any body of n >= 2 links; the plant refused 2 and anything past 15."""
    assert MIN_LINKS == 2
    for body in [{}, *EXTREME_BODIES]:
        env = SwimmerEnv(n_links=n_links, **body)
        env.reset(seed=0)
        for action in _travelling_wave(n_links - 1, 100, env.dt):
            obs, _, _, _, info = env.step(action)
            assert np.isfinite(obs).all() and not info["unstable"], body
        env.close()


def test_the_most_links_swim_forward() -> None:
    env = SwimmerEnv(n_links=MAX_LINKS, reset_noise_scale=0.0)
    env.reset(seed=0)
    for action in _travelling_wave(MAX_LINKS - 1, 200, env.dt):
        info = env.step(action)[4]
    assert info["x_position"] > 0.03


def _in_frame(model: mujoco.MjModel, data: mujoco.MjData, point: np.ndarray, aspect: float) -> tuple[float, float]:
    """Where `point` (world, m) lies in the tracking camera's frame of width / height `aspect`: (x, y), each in
    [-1, 1] inside it."""
    camera = model.camera("tracking").id
    x, y, z = data.cam_xmat[camera].reshape(3, 3).T @ (point - data.cam_xpos[camera])  # camera frame, looking at -z
    half_height = math.tan(math.radians(model.cam_fovy[camera]) / 2.0) * -z
    return x / (half_height * aspect), y / half_height


@pytest.mark.parametrize(("n_links", "link_length"), [(6, 0.1), (15, 0.1), (MAX_LINKS, 0.1), (12, 0.2)])
def test_the_tracking_camera_frames_the_whole_body(n_links: int, link_length: float) -> None:
    """The camera sat above the head, so the tail of a body longer than about 0.6 m left a square frame."""
    env = SwimmerEnv(n_links=n_links, link_length=link_length)
    env.reset(seed=0)
    for action in _travelling_wave(n_links - 1, 50, env.dt):
        env.step(action)
    model, data = env.core.render_data(0)
    tail = data.body(f"link{n_links - 1}")
    ends = [data.body("head").xpos, tail.xpos - link_length * tail.xmat.reshape(3, 3)[:, 0]]
    for end in ends:
        x, y = _in_frame(model, data, end, aspect=1.0)
        assert abs(x) < 0.95 and abs(y) < 0.95, (x, y)
    env.close()
