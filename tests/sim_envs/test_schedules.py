"""Set-point schedules: the paper's steps, ramps, random levels from the reset generator."""

from __future__ import annotations

import numpy as np
import pytest

from sim_envs import BlimpAltitudeEnv
from sim_envs.schedules import PAPER_SCHEDULE, LevelSchedule, RandomLevelSchedule


def test_paper_schedule_holds_half_one_and_one_and_a_half_metres_for_70_s_each() -> None:
    times = np.array([0.0, 69.9, 70.0, 139.9, 140.0, 209.9])
    np.testing.assert_allclose(PAPER_SCHEDULE.profile(np.random.default_rng(), times),
                               [0.5, 0.5, 1.0, 1.0, 1.5, 1.5])


def test_ramps_interpolate_linearly_between_held_levels() -> None:
    schedule = LevelSchedule(values=(0.5, 1.5), hold_s=10.0, ramp_s=4.0)
    np.testing.assert_allclose(schedule.profile(np.random.default_rng(), np.array([10.0, 12.0, 14.0])),
                               [0.5, 1.0, 1.5])


def test_random_levels_come_from_the_generator_and_stay_in_range() -> None:
    schedule = RandomLevelSchedule(altitude_range=(0.4, 1.6), hold_s=5.0)
    times = np.arange(0.0, 60.0, 0.1)
    a = schedule.profile(np.random.default_rng(7), times)
    assert np.array_equal(a, schedule.profile(np.random.default_rng(7), times))
    assert a.min() >= 0.4 and a.max() <= 1.6 and len(np.unique(a)) == 12


def test_env_observes_the_scheduled_setpoint() -> None:
    env = BlimpAltitudeEnv(schedule=LevelSchedule(values=(0.7, 1.2), hold_s=1.0), episode_length_s=3.0)
    obs, _ = env.reset(seed=0)
    setpoints = [obs[1]] + [env.step(np.zeros(1))[0][1] for _ in range(15)]
    np.testing.assert_allclose(setpoints[:10], 0.7)
    np.testing.assert_allclose(setpoints[10:], 1.2)


def test_schedules_can_be_given_as_plain_data_for_configs() -> None:
    from sim_envs.schedules import schedule_from_dict

    assert schedule_from_dict({"kind": "levels", "values": [0.5, 1.5], "hold_s": 10.0}) == LevelSchedule(
        values=(0.5, 1.5), hold_s=10.0
    )
    assert isinstance(schedule_from_dict({"kind": "random", "altitude_range": [0.4, 1.6]}), RandomLevelSchedule)
    with pytest.raises(ValueError, match="hold_s"):
        schedule_from_dict({"kind": "levels", "hold_s": -1.0})
    with pytest.raises(ValueError, match="kind"):
        schedule_from_dict({"kind": "sine"})


def test_blimp_env_accepts_a_schedule_mapping() -> None:
    import gymnasium as gym

    env = gym.make("sim_envs/BlimpAltitude-v0", schedule={"kind": "levels", "values": [1.25], "hold_s": 5.0})
    obs, _ = env.reset(seed=0)
    assert float(obs[1]) == 1.25
    env.close()
