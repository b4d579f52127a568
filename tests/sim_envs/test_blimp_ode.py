"""The second blimp model, the 1-D altitude ODE: against a hand-worked trajectory, its documented terminal speeds,
hover command, rotor flips, floor and ceiling, and the Gymnasium contract (batch = single, env checker)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim_envs  # noqa: F401  (registers the ids)
from sim_envs.blimp.env import BlimpAltitudeODEVectorEnv
from sim_envs.blimp.ode_plant import U_MAX, BlimpODECore, terminal_speed

A_U = 0.8 / U_MAX  # m/s^2 per command unit (the default thrust_accel)


def plant(**kwargs) -> BlimpODECore:
    """One noise-free copy with every randomized quantity pinned (kwargs override)."""
    settings = {
        "initial_altitude_range": (1.0, 1.0), "hover_command_range": (1.0, 1.0), "motor_tau_range": (0.1, 0.1),
        "flip_delay_range": (0.3, 0.3), "drag_scale_range": (1.0, 1.0), "sensor_noise_range": (0.0, 0.0),
        "ceiling": 100.0, "episode_length_s": 100.0, **kwargs,
    }  # fmt: skip
    core = BlimpODECore(1, **settings)
    core.reset_copies(np.array([0]), [np.random.default_rng(0)])
    return core


def fly(core: BlimpODECore, command: float, seconds: float) -> None:
    for _ in range(round(seconds / core.control_dt)):
        core.step(np.array([[command]]))


def test_a_drag_free_climb_follows_the_hand_worked_trajectory():
    """u = 2 from rest, hover 1, tau 0.1 s: a(t) = a_u (u (1 - e^(-t/tau)) - u_h), integrated by hand:
    z(t) = z0 + a_u ((u - u_h) t^2 / 2 - u tau (t - tau (1 - e^(-t/tau))))."""
    core = plant(linear_drag=0.0, quadratic_drag=0.0, substeps=100)
    fly(core, 2.0, 2.0)
    t, u, hover, tau = 2.0, 2.0, 1.0, 0.1
    z = 1.0 + A_U * ((u - hover) * t**2 / 2 - u * tau * (t - tau * (1 - np.exp(-t / tau))))
    v = A_U * ((u - hover) * t - u * tau * (1 - np.exp(-t / tau)))
    assert core.z[0] == pytest.approx(z, abs=1e-3) and core.v[0] == pytest.approx(v, abs=1e-3)


@pytest.mark.parametrize(("command", "drag"), [(3.3, 1.0), (3.3, 1.4), (-3.3, 0.6), (1.5, 1.0)])
def test_steady_commands_reach_the_documented_terminal_speed(command, drag):
    core = plant(drag_scale_range=(drag, drag), initial_altitude_range=(50.0, 50.0))
    fly(core, command, 20.0)
    accel = A_U * (command - 1.0)
    expected = np.sign(accel) * terminal_speed(abs(accel), 0.3 * drag, 1.0 * drag)
    assert core.v[0] == pytest.approx(expected, rel=1e-3)


def test_the_hover_command_holds_the_blimp_still():
    core = plant(motor_tau_range=(1e-6, 1e-6), hover_command_range=(1.7, 1.7))
    fly(core, 1.7, 30.0)
    assert abs(core.z[0] - 1.0) < 1e-9


def test_reversing_stops_the_rotors_for_the_flip_delay():
    env = gym.make("sim_envs/BlimpAltitudeODE-v0", flip_delay_range=(0.3, 0.3), sensor_noise_range=(0.0, 0.0))
    env.reset(seed=0)
    assert env.step(np.array([2.0]))[4]["thrust"] > 0.0
    thrust = [env.step(np.array([-2.0]))[4]["thrust"] for _ in range(5)]
    assert thrust[:3] == [0.0, 0.0, 0.0] and thrust[3] < 0.0 and thrust[4] < thrust[3]  # 0.3 s at 10 Hz, then down


def test_light_blimps_rise_to_the_ceiling_and_heavy_ones_sit_on_the_floor():
    light = plant(hover_command_range=(-0.5, -0.5), ceiling=3.0)
    heavy = plant(hover_command_range=(2.2, 2.2))
    fly(light, 0.0, 30.0)
    fly(heavy, 0.0, 30.0)
    assert (light.z[0], light.v[0]) == (3.0, 0.0) and (heavy.z[0], heavy.v[0]) == (0.0, 0.0)


def test_a_copy_flies_alone_as_in_a_batch_and_the_env_checker_passes():
    kwargs = {"gusts": True, "buoyancy_drift": True, "dropout_prob": 0.1, "episode_length_s": 5.0}
    vec = gym.make_vec("sim_envs/BlimpAltitudeODE-v0", num_envs=3, vectorization_mode="vector_entry_point", **kwargs)
    one = gym.make("sim_envs/BlimpAltitudeODE-v0", **kwargs)
    actions = np.random.default_rng(1).uniform(-3.3, 3.3, size=(50, 3, 1))
    batch = [vec.reset(seed=[7, 8, 9])[0]] + [vec.step(a)[0] for a in actions]
    alone = [one.reset(seed=8)[0]] + [one.step(a[1])[0] for a in actions]
    np.testing.assert_array_equal(np.array(batch)[:, 1], np.array(alone))
    check_env(gym.make("sim_envs/BlimpAltitudeODE-v0").unwrapped, skip_render_check=False)  # render_modes: []
    with pytest.raises(ValueError, match="nothing to render"):
        gym.make("sim_envs/BlimpAltitudeODE-v0", render_mode="rgb_array")


def test_an_episode_with_no_disturbance_enabled_is_not_reported_disturbed():
    _, calm = BlimpAltitudeODEVectorEnv(3).reset(seed=[0, 1, 2])
    _, gusty = BlimpAltitudeODEVectorEnv(3, gusts=True).reset(seed=[0, 1, 2])
    assert not calm["disturbed"].any() and gusty["disturbed"].all()


def test_a_blimp_beyond_the_rangefinder_reads_a_lost_return_as_in_the_mujoco_plant():
    core = plant(max_range=1.5, dropout_value="nan", schedule={"kind": "levels", "values": [0.5]})
    assert np.isfinite(core.observe()[0, 0])
    fly(core, 3.3, 4.0)  # full thrust: past 1.5 m
    assert core.z[0] > 1.55 and np.isnan(core.observe()[0, 0])


def test_a_substep_too_long_for_the_drag_is_refused_naming_the_substeps():
    """h x d(drag)/dv > 1: the explicit update would oscillate (at 300 /s of linear drag it reached 29 m/s where
    the terminal speed is 2 mm/s); the default step is 36x inside the bound."""
    with pytest.raises(ValueError, match=r"substeps=10 at control_rate_hz=10.*too long for this drag"):
        BlimpODECore(1, linear_drag=300.0)
    with pytest.raises(ValueError, match="substeps=1 at control_rate_hz=1"):
        BlimpODECore(1, control_rate_hz=1.0, substeps=1)
    BlimpODECore(1, control_rate_hz=1.0, substeps=100)  # the same rate with short substeps


def test_terminal_speed_without_drag_is_unbounded():
    assert terminal_speed(0.5, 0.0, 0.0) == np.inf
    assert terminal_speed(0.5, 0.0, 2.0) == pytest.approx(0.5)


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.3])
def test_a_flip_stops_the_rotors_for_exactly_its_delay(delay):
    """10 ms steps: a 0.1 s flip stops the rotors for 10 of them (a rounding residue of 0.1 - 10 x 0.01 kept the
    flip going for an 11th), as in the MuJoCo plant's thrust unit."""
    core = plant(flip_delay_range=(delay, delay), substeps=1, control_rate_hz=100.0)
    stopped = 0
    for _ in range(100):
        core.step(np.array([[-2.0]]))  # reversed: the rotors flip at the first step
        stopped += int(core.level[0] == 0.0)
    assert stopped == round(delay / 0.01)
