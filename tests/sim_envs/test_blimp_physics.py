"""Physics sanity of the blimp plant: buoyancy, dead zone, rotor flip, thrust saturation and lag."""

from __future__ import annotations

import numpy as np

from sim_envs import BlimpAltitudeVectorEnv
from sim_envs.blimp.thrust import ThrustUnit, ThrustUnitParams

CALM = {"mass_scale_range": (1.0, 1.0), "drag_scale_range": (1.0, 1.0), "motor_tau_range": (0.2, 0.2),
        "initial_altitude_range": (1.0, 1.0), "episode_length_s": 30.0}


def _fly(bias: float, commands: list[float], **kwargs: float) -> dict[str, np.ndarray]:
    """Info of every step of one blimp flown open loop; keys map to arrays [steps]."""
    env = BlimpAltitudeVectorEnv(1, buoyancy_bias_range=(bias, bias), **{**CALM, **kwargs})
    env.reset(seed=0)
    infos = [env.step(np.array([[u]]))[4] for u in commands]
    return {key: np.array([info[key][0] for info in infos]) for key in infos[0] if not key.startswith("_")}


def test_negatively_buoyant_blimp_sinks_to_the_floor_without_thrust() -> None:
    log = _fly(-0.02, [0.0] * 200)
    assert log["altitude"][50] < 0.8
    assert abs(log["altitude"][-1] - 0.01) < 0.005  # landed: the LiDAR sits 1 cm above the floor


def test_the_lidar_sees_the_floor_however_far_gusts_blow_the_blimp() -> None:
    env = BlimpAltitudeVectorEnv(1, buoyancy_bias_range=(0.0, 0.0), **CALM)
    env.reset(seed=0)
    env.core.physics.set_copies(np.zeros(1, dtype=np.intp), np.array([[250.0, -400.0, 1.0]]), np.zeros((1, 3)))
    observation = env.step(np.array([[0.0]]))[0]
    assert abs(observation[0, 0] - 1.0) < 0.05  # a reading of the floor, not a lost return (max range)


def test_neutrally_buoyant_blimp_holds_its_altitude_without_thrust() -> None:
    log = _fly(0.0, [0.0] * 200)
    np.testing.assert_allclose(log["altitude"], 1.0, atol=1e-9)


def test_positively_buoyant_blimp_rises_without_thrust() -> None:
    assert _fly(0.02, [0.0] * 50)["altitude"][-1] > 1.2


def test_commands_inside_the_dead_zone_produce_no_thrust_and_no_motion() -> None:
    log = _fly(0.0, [0.09, -0.09, 0.05] * 20)
    assert np.all(log["thrust"] == 0.0)
    np.testing.assert_allclose(log["altitude"], 1.0, atol=1e-9)


def test_thrust_reversal_gives_no_thrust_while_the_rotors_flip() -> None:
    log = _fly(0.0, [2.0] * 10 + [-2.0] * 6, flip_delay_range=(0.3, 0.3))
    assert log["thrust"][9] > 0.0
    assert np.all(log["thrust"][10:13] == 0.0) and log["flipping"][10:12].all()
    assert log["thrust"][13] < 0.0 and not log["flipping"][13]


def test_upward_thrust_accelerates_the_blimp_upward() -> None:
    log = _fly(0.0, [3.3] * 20)
    assert log["vertical_velocity"][-1] > 0.2 and log["altitude"][-1] > 1.1


def test_thrust_unit_saturates_the_command_and_lags_with_its_time_constant() -> None:
    unit = ThrustUnit(ThrustUnitParams(gain=0.03), n_copies=2)
    unit.reset(np.arange(2), tau=np.array([0.2, 0.2]), flip_delay=np.array([0.3, 0.3]))
    thrust = unit.run(np.array([10.0, 1.0]), dt=0.01, n_steps=20)
    expected = 0.03 * np.array([3.3, 1.0])[:, None] * (1.0 - np.exp(-0.01 * np.arange(1, 21) / 0.2))
    np.testing.assert_allclose(thrust, expected, rtol=1e-12)


def test_sensor_noise_has_the_configured_standard_deviation() -> None:
    env = BlimpAltitudeVectorEnv(1, buoyancy_bias_range=(0.0, 0.0), sensor_noise_range=(0.01, 0.01), **CALM)
    env.reset(seed=3)
    measured = np.array([env.step(np.zeros((1, 1)))[0][0, 0] for _ in range(250)])
    assert abs(np.std(measured - 1.0) - 0.01) < 0.002


def test_lidar_dropouts_are_reported_as_nan_when_requested() -> None:
    env = BlimpAltitudeVectorEnv(1, dropout_prob=0.5, dropout_value="nan", **CALM)
    env.reset(seed=4)
    measured = np.array([env.step(np.zeros((1, 1)))[0][0, 0] for _ in range(100)])
    assert 20 < np.isnan(measured).sum() < 80


def test_disturbance_prob_flies_a_share_of_the_episodes_calm_and_leaves_the_others_as_drawn() -> None:
    disturbances = {"gusts": True, "buoyancy_drift": True, "dropout_prob": 0.3, "dropout_value": "nan"}
    seeds = list(range(40))
    mixed = BlimpAltitudeVectorEnv(40, disturbance_prob=0.5, **disturbances, **CALM)
    always = BlimpAltitudeVectorEnv(40, **disturbances, **CALM)
    _, info = mixed.reset(seed=seeds)
    always.reset(seed=seeds)
    disturbed = info["disturbed"]
    assert 10 < disturbed.sum() < 30
    lost = np.zeros(40)
    for _ in range(60):
        obs_mixed, _, _, _, info_mixed = mixed.step(np.full((40, 1), 0.5))
        obs_always, _, _, _, info_always = always.step(np.full((40, 1), 0.5))
        lost += np.isnan(obs_mixed[:, 0])
        # a disturbed episode is the one the seed gives without the option, bit for bit
        np.testing.assert_array_equal(obs_mixed[disturbed], obs_always[disturbed])
    assert lost[~disturbed].sum() == 0 and lost[disturbed].sum() > 0
    # calm episodes: no drift of the buoyancy bias, and the same plant as their disturbed twin otherwise
    np.testing.assert_array_equal(info["buoyancy_bias"][~disturbed], info_mixed["buoyancy_bias"][~disturbed])
    assert np.all(info_always["buoyancy_bias"][~disturbed] != info_mixed["buoyancy_bias"][~disturbed])


def test_a_start_below_the_landed_height_starts_landed_and_stays_there() -> None:
    # The gondola would start inside the floor, whose contact threw a heavy blimp 9 cm up.
    for start in (0.0, 0.004):
        log = _fly(-0.05, [0.0] * 10, initial_altitude_range=(start, start))
        np.testing.assert_allclose(log["altitude"], 0.01, atol=1e-3)


def test_a_blimp_beyond_the_rangefinder_reads_a_lost_return() -> None:
    env = BlimpAltitudeVectorEnv(1, buoyancy_bias_range=(0.05, 0.05), dropout_value="nan", max_range=1.0,
                                 schedule={"kind": "levels", "values": [0.5]},  # set-points it can measure
                                 **{**CALM, "initial_altitude_range": (0.8, 0.8)})
    env.reset(seed=0)
    steps = [env.step(np.zeros((1, 1))) for _ in range(40)]  # a lighter-than-air blimp rises past 1 m
    readings = np.array([step[0][0, 0] for step in steps])
    altitudes = np.array([step[4]["altitude"][0] for step in steps])
    assert altitudes[-1] > 1.1 and np.isfinite(readings[0])
    assert np.isnan(readings[altitudes > 1.02]).all()  # MuJoCo clamps the reading at its cutoff: lost, not 1 m


def test_an_episode_with_no_disturbance_enabled_is_not_reported_disturbed() -> None:
    _, calm = BlimpAltitudeVectorEnv(3, **CALM).reset(seed=[0, 1, 2])
    _, gusty = BlimpAltitudeVectorEnv(3, gusts=True, **CALM).reset(seed=[0, 1, 2])
    assert not calm["disturbed"].any() and gusty["disturbed"].all()


def test_a_copy_whose_physics_blows_up_is_reported_unstable_copy_by_copy() -> None:
    """A state MuJoCo cannot integrate (1e30 m/s) makes it reset that copy mid-step; the blimp's info says so, as the
    swimmer's does (it said nothing)."""
    env = BlimpAltitudeVectorEnv(2)
    env.reset(seed=0)
    assert not env.step(np.zeros((2, 1)))[4]["unstable"].any()
    qpos, qvel = env.core.physics.qpos.copy(), env.core.physics.qvel.copy()
    qvel[0, 2] = 1e30
    env.core.physics.set_copies(np.array([0, 1]), qpos, qvel)
    assert env.step(np.zeros((2, 1)))[4]["unstable"].tolist() == [True, False]
    env.close()
