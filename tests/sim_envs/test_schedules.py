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


@pytest.mark.parametrize("schedule", [LevelSchedule(values=(0.5, 1.0), hold_s=10.0, ramp_s=5.0),
                                      RandomLevelSchedule(hold_s=10.0, ramp_s=5.0)])
def test_the_setpoint_at_a_time_does_not_depend_on_the_episode_length(schedule: LevelSchedule) -> None:
    """An episode ending in a ramp dropped the level it ramps to: at 12 s, 0.5 m in a 12 s episode, 0.7 in 20 s."""
    times = np.arange(0.0, 60.05, 0.5)
    full = schedule.profile(np.random.default_rng(1), times)
    for n in range(1, len(times) + 1):
        np.testing.assert_array_equal(schedule.profile(np.random.default_rng(1), times[:n]), full[:n])
    if isinstance(schedule, LevelSchedule):
        assert full[24] == 0.7  # t = 12 s: two fifths up the ramp from 0.5 to 1.0 m


@pytest.mark.parametrize(("hold_s", "length_s"), [(30.0, 120.0), (30.0, 90.0), (20.0, 60.0), (23.3, 61.0)])
def test_a_schedule_without_ramps_draws_one_level_per_hold_begun(hold_s: float, length_s: float) -> None:
    """The random schedules of the shipped configs (no ramps) draw exactly as before, so that every later draw of
    their episodes (noise, gusts, dropouts) is unchanged."""
    times = np.arange(round(length_s / 0.1) + 1) * 0.1
    rng, reference = np.random.default_rng(5), np.random.default_rng(5)
    setpoints = RandomLevelSchedule(hold_s=hold_s).profile(rng, times)
    levels = reference.uniform(0.3, 2.0, size=int(times[-1] // hold_s) + 1)
    assert rng.bit_generator.state == reference.bit_generator.state
    np.testing.assert_array_equal(setpoints, levels[(times // hold_s).astype(int)])


@pytest.mark.parametrize("values", [(float("nan"),), (0.5, float("inf")), (0.5, -0.1), (), ("high",), 1.0])
def test_level_schedule_refuses_values_that_are_not_finite_altitudes(values: object) -> None:
    """A NaN level slipped past the old check (min() < 0 is False for it) and flew a NaN set-point."""
    with pytest.raises(ValueError, match="values must be a non-empty sequence of finite altitudes") as caught:
        LevelSchedule(values=values)  # type: ignore[arg-type]
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("altitude_range", [(0.3, float("nan")), (0.3, float("inf")), (-0.1, 1.0)])
def test_random_schedule_refuses_a_range_that_is_not_finite_altitudes(altitude_range: tuple[float, float]) -> None:
    with pytest.raises(ValueError, match="altitude_range"):
        RandomLevelSchedule(altitude_range=altitude_range)


@pytest.mark.parametrize(
    ("plant", "kwargs", "schedule", "limit"),
    [
        ("mujoco", {}, {"kind": "levels", "values": [0.5, 20.0]}, "max_range=12 m"),
        ("mujoco", {}, {"kind": "random", "altitude_range": [0.3, 40.0]}, "max_range=12 m"),
        ("mujoco", {"max_range": 1.5}, {"kind": "levels", "values": [1.5]}, "max_range=1.5 m"),  # reads nothing there
        ("ode", {}, {"kind": "levels", "values": [3.5]}, "ceiling=3 m"),
        ("ode", {}, {"kind": "random", "altitude_range": [0.3, 3.01]}, "ceiling=3 m"),
        ("ode", {"max_range": 2.0}, {"kind": "levels", "values": [2.5]}, "max_range=2 m"),
    ],
)
def test_a_plant_refuses_set_points_it_cannot_reach_or_measure(plant: str, kwargs: dict, schedule: dict,
                                                              limit: str) -> None:
    """Set-points above the rangefinder's range or the ODE's ceiling flew silently: an observation outside its Box
    and an error the controller can never close."""
    from sim_envs.blimp.ode_plant import BlimpODECore
    from sim_envs.blimp.plant import BlimpCore

    core = {"mujoco": BlimpCore, "ode": BlimpODECore}[plant]
    with pytest.raises(ValueError, match=f"schedule's set-points must be .*{limit}") as caught:
        core(1, schedule=schedule, **kwargs)
    assert "\n" not in str(caught.value)


def test_set_points_up_to_the_ceiling_and_below_the_range_are_flown() -> None:
    from sim_envs.blimp.ode_plant import BlimpODECore
    from sim_envs.blimp.plant import BlimpCore

    assert BlimpODECore(1, schedule=LevelSchedule(values=(3.0,))).schedule.highest == 3.0
    BlimpCore(1, schedule={"kind": "random", "altitude_range": [0.3, 11.9]}).close()
