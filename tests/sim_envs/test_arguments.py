"""Bad constructor arguments raise one ValueError naming the argument."""

from __future__ import annotations

from typing import Any

import pytest

from sim_envs import BlimpAltitudeEnv, SwimmerEnv, SwimmerVectorEnv
from sim_envs.blimp.env import BlimpAltitudeODEEnv
from sim_envs.schedules import LevelSchedule
from sim_envs.swimmer.mjcf import MAX_LINKS


@pytest.mark.parametrize(
    ("env_class", "kwargs", "name"),
    [
        (SwimmerEnv, {"n_links": 1}, "n_links"),
        (SwimmerEnv, {"n_links": MAX_LINKS + 1}, "n_links"),
        (SwimmerEnv, {"reward": "speed"}, "reward"),
        (SwimmerEnv, {"reset_noise_scale": -0.1}, "reset_noise_scale"),
        (SwimmerEnv, {"link_length": "0.1"}, "link_length"),  # a TypeError from math.isfinite
        (SwimmerEnv, {"gear": True}, "gear"),
        # physics that silently reset instead: bounds of the plant (see SwimmerCore)
        (SwimmerEnv, {"timestep": 10.0}, "timestep"),
        (SwimmerEnv, {"gear": 1e9}, "gear"),
        (SwimmerEnv, {"link_length": 1e6}, "link_length"),
        (SwimmerEnv, {"reset_noise_scale": 1e6}, "reset_noise_scale"),
        (SwimmerEnv, {"n_links": 15, "reset_noise_scale": 0.5}, "reset_noise_scale"),  # past its 0.419 rad limit
        (BlimpAltitudeEnv, {"sensor_noise_range": (-0.01, 0.01)}, "sensor_noise_range"),
        (BlimpAltitudeEnv, {"control_rate_hz": 0.0}, "control_rate_hz"),
        (BlimpAltitudeEnv, {"control_rate_hz": 30.0}, "control_rate_hz"),
        (BlimpAltitudeEnv, {"dropout_prob": 1.5}, "dropout_prob"),
        (BlimpAltitudeEnv, {"disturbance_prob": -0.1}, "disturbance_prob"),
        (BlimpAltitudeEnv, {"dropout_value": "zero"}, "dropout_value"),
        (BlimpAltitudeEnv, {"motor_tau_range": (0.3, 0.1)}, "motor_tau_range"),
        (BlimpAltitudeEnv, {"gust_std": -1.0}, "gust_std"),
        (BlimpAltitudeEnv, {"leak_rate": float("nan")}, "leak_rate"),  # made MuJoCo reset, the ODE fly NaN
        (BlimpAltitudeODEEnv, {"leak_rate": float("inf")}, "leak_rate"),
        (BlimpAltitudeEnv, {"schedule": [0.5, 1.0]}, "schedule"),
        (BlimpAltitudeEnv, {"render_mode": "ascii"}, "render_mode"),
    ],
)
def test_bad_constructor_argument_raises_value_error_naming_it(env_class: type, kwargs: dict[str, Any],
                                                               name: str) -> None:
    with pytest.raises(ValueError, match=name) as caught:
        env_class(**kwargs)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("kwargs", [
    {"gear": 2.0},  # the tests' body too strong to stay stable
    {"link_length": 10.0, "gear": 10.0, "timestep": 0.05},  # the upper bounds themselves
    {"link_length": 1e-3},
    {"n_links": 15, "reset_noise_scale": 0.4},
    {"n_links": 12, "link_length": 0.2, "gear": 1e-3, "viscosity": 0.1, "density": 6000.0},  # the envelope's corner
])
def test_every_body_in_use_is_within_the_swimmer_bounds(kwargs: dict[str, Any]) -> None:
    SwimmerEnv(**kwargs).close()


def test_vector_env_rejects_zero_copies() -> None:
    with pytest.raises(ValueError, match="n_copies"):
        SwimmerVectorEnv(0)


def test_schedule_rejects_negative_hold_time() -> None:
    with pytest.raises(ValueError, match="hold_s"):
        LevelSchedule(hold_s=-1.0)


@pytest.mark.parametrize("make", [
    lambda: BlimpAltitudeEnv(render_mode="rgb_array", width=4000, height=100),
    lambda: SwimmerVectorEnv(2, render_mode="rgb_array", width=4000, height=100),
])  # fmt: skip
def test_a_frame_larger_than_the_models_framebuffer_is_refused_at_construction_in_one_line(make) -> None:
    """It was refused only at the first render(), after an episode's work."""
    with pytest.raises(ValueError, match=r"width x height 4000 x 100 exceed the model's offscreen framebuffer"):
        make()


@pytest.mark.parametrize("vector", [False, True])
def test_reset_options_are_refused_not_ignored(vector: bool) -> None:
    env = SwimmerVectorEnv(2) if vector else BlimpAltitudeEnv()
    with pytest.raises(ValueError, match=r"reset\(\) takes no options here .*got \['episode_length_s'\]"):
        env.reset(seed=0, options={"episode_length_s": 5.0})
    env.reset(seed=0, options={})  # empty options, as wrappers pass them, are fine
    env.close()
