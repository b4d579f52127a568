"""Bad constructor arguments raise one ValueError naming the argument."""

from __future__ import annotations

from typing import Any

import pytest

from sim_envs import BlimpAltitudeEnv, SwimmerEnv, SwimmerVectorEnv
from sim_envs.blimp.env import BlimpAltitudeODEEnv
from sim_envs.schedules import LevelSchedule


@pytest.mark.parametrize(
    ("env_class", "kwargs", "name"),
    [
        (SwimmerEnv, {"n_links": 1}, "n_links"),
        (SwimmerEnv, {"n_links": 16}, "n_links"),
        (SwimmerEnv, {"reward": "speed"}, "reward"),
        (SwimmerEnv, {"reset_noise_scale": -0.1}, "reset_noise_scale"),
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
    with pytest.raises(ValueError, match=name):
        env_class(**kwargs)


def test_vector_env_rejects_zero_copies() -> None:
    with pytest.raises(ValueError, match="n_copies"):
        SwimmerVectorEnv(0)


def test_schedule_rejects_negative_hold_time() -> None:
    with pytest.raises(ValueError, match="hold_s"):
        LevelSchedule(hold_s=-1.0)


def test_a_frame_larger_than_the_models_framebuffer_is_one_line() -> None:
    env = BlimpAltitudeEnv(render_mode="rgb_array", width=4000, height=100)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"width x height 4000 x 100 exceed the model's offscreen framebuffer"):
        env.render()
    env.close()
